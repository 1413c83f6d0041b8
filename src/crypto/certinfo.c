/* certinfo.c - the expiry and subject of a certificate file (certinfo.h). */
#include "crypto/certinfo.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

/* ASN1_TIME to time_t through struct tm: OpenSSL's own conversion knows
 * no time zone, and notAfter is UTC. */
static int
asn1_to_time(const ASN1_TIME *t, time_t *out)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	*out = timegm(&tm);
	return 0;
}

int
certinfo_read(const char *path, struct certinfo *ci, char *err, size_t errsz)
{
	FILE *f;
	X509 *x;
	time_t t;
	int rc = 0;

	memset(ci, 0, sizeof(*ci));
	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errsz, "%s", strerror(errno));
		return -1;
	}
	while (rc == 0 && (x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
		if (asn1_to_time(X509_get0_notAfter(x), &t) == -1) {
			snprintf(err, errsz, "a notAfter date that cannot be read");
			rc = -1;
		} else if (ci->count++ == 0 || t < ci->not_after) {
			ci->not_after = t;
			X509_NAME_oneline(X509_get_subject_name(x), ci->subject,
			    (int)sizeof(ci->subject));
		}
		X509_free(x);
	}
	/* The end of the file leaves a "no start line" error behind. */
	ERR_clear_error();
	fclose(f);
	if (rc == 0 && ci->count == 0) {
		snprintf(err, errsz, "no PEM certificate");
		rc = -1;
	}
	return rc;
}
