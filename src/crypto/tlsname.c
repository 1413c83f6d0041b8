/* tlsname.c - the name check of outgoing TLS connections by OpenSSL's
 * rules, and the interposed SSL_connect() that feeds it (tlsname.h). */
#include "crypto/tlsname.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "common/nextsym.h"

#define HOST_MAX 256

static int enabled;

/* The certificate of the client handshake that just completed. */
static _Thread_local X509 *pending;
static _Thread_local struct sockaddr_storage pending_peer;
static _Thread_local socklen_t pending_len;
static _Thread_local long pending_verify; /* its chain's verify result */

/* The last client connection that failed, and why. */
static _Thread_local struct sockaddr_storage failed_peer;
static _Thread_local socklen_t failed_len;
static _Thread_local char failed_why[256];

void
tlsname_enable(void)
{
	enabled = 1;
}

static void
drop_pending(void)
{
	X509_free(pending);
	pending = NULL;
	pending_len = 0;
	pending_verify = X509_V_OK;
}

static void
keep_failure(const struct sockaddr_storage *peer, socklen_t len,
    const char *why)
{
	failed_peer = *peer;
	failed_len = len;
	snprintf(failed_why, sizeof(failed_why), "%s", why);
}

/* Appends TAG:VALUE to the list in OUT (bounded). */
static void
add_name(char *out, size_t outsz, const char *tag, const char *val,
    size_t vlen)
{
	size_t n = strlen(out);

	if (n + 8 >= outsz)
		return;
	snprintf(out + n, outsz - n, "%s%s:%.*s", n ? ", " : "", tag,
	    (int)(vlen > 80 ? 80 : vlen), val);
}

/* What the certificate names, for the log: its SANs and its CN. */
static void
cert_names(X509 *c, char *out, size_t outsz)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(c, NID_subject_alt_name,
	    NULL, NULL);
	X509_NAME *subj = X509_get_subject_name(c);
	char cn[HOST_MAX], ip[INET6_ADDRSTRLEN];
	int i;

	out[0] = '\0';
	for (i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const ASN1_STRING *s;

		switch (g->type) {
		case GEN_DNS:
			s = g->d.dNSName;
			add_name(out, outsz, "DNS",
			    (const char *)ASN1_STRING_get0_data(s),
			    (size_t)ASN1_STRING_length(s));
			break;
		case GEN_URI:
			s = g->d.uniformResourceIdentifier;
			add_name(out, outsz, "URI",
			    (const char *)ASN1_STRING_get0_data(s),
			    (size_t)ASN1_STRING_length(s));
			break;
		case GEN_IPADD:
			s = g->d.iPAddress;
			if ((ASN1_STRING_length(s) == 4 ||
			    ASN1_STRING_length(s) == 16) &&
			    inet_ntop(ASN1_STRING_length(s) == 16 ? AF_INET6 :
			    AF_INET, ASN1_STRING_get0_data(s), ip,
			    sizeof(ip)) != NULL)
				add_name(out, outsz, "IP", ip, strlen(ip));
			break;
		default:
			break;
		}
	}
	GENERAL_NAMES_free(gens);
	if (subj != NULL && X509_NAME_get_text_by_NID(subj, NID_commonName,
	    cn, sizeof(cn)) > 0)
		add_name(out, outsz, "CN", cn, strlen(cn));
	if (out[0] == '\0')
		snprintf(out, outsz, "nothing");
}

/* A "sip:HOST" URI SAN (RFC 5922 7.1), HOST compared without case. */
static int
uri_san_match(X509 *c, const char *host)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(c, NID_subject_alt_name,
	    NULL, NULL);
	size_t hl = strlen(host);
	int i, found = 0;

	for (i = 0; gens != NULL && !found && i < sk_GENERAL_NAME_num(gens);
	    i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const char *u;
		int ul;

		if (g->type != GEN_URI)
			continue;
		u = (const char *)ASN1_STRING_get0_data(
		    g->d.uniformResourceIdentifier);
		ul = ASN1_STRING_length(g->d.uniformResourceIdentifier);
		found = ul == (int)(hl + 4) && strncasecmp(u, "sip:", 4) == 0 &&
		    strncasecmp(u + 4, host, hl) == 0;
	}
	GENERAL_NAMES_free(gens);
	return found;
}

/* NAME without a sip:/sips: scheme and IPv6 brackets, in HOST; 1 when it
 * is an IP literal, 0 a host name, -1 unusable. */
static int
reference_id(const char *name, char *host, size_t hostsz)
{
	unsigned char a[16];
	size_t n;

	if (strncasecmp(name, "sips:", 5) == 0)
		name += 5;
	else if (strncasecmp(name, "sip:", 4) == 0)
		name += 4;
	n = strlen(name);
	if (n >= 2 && name[0] == '[' && name[n - 1] == ']') {
		name++;
		n -= 2;
	}
	if (n == 0 || n >= hostsz)
		return -1;
	memcpy(host, name, n);
	host[n] = '\0';
	return inet_pton(AF_INET, host, a) == 1 ||
	    inet_pton(AF_INET6, host, a) == 1;
}

static int
cert_match(X509 *c, const char *name, char *why, size_t whysz)
{
	char host[HOST_MAX], names[200];
	int ip = reference_id(name, host, sizeof(host)), ok;

	if (ip < 0) {
		snprintf(why, whysz, "no usable name to check (%.60s)", name);
		return 0;
	}
	if (ip)
		ok = X509_check_ip_asc(c, host, 0) == 1;
	else
		ok = X509_check_host(c, host, 0, X509_CHECK_FLAG_NO_WILDCARDS,
		    NULL) == 1 || uri_san_match(c, host);
	if (!ok) {
		cert_names(c, names, sizeof(names));
		snprintf(why, whysz, "certificate does not name %s %s "
		    "(it names %s)", ip ? "IP address" : "host", host, names);
	}
	return ok;
}

int
tlsname_check(const char *name)
{
	char why[256];
	int ok;

	if (pending == NULL)
		return -1;
	ok = cert_match(pending, name, why, sizeof(why));
	if (!ok)
		keep_failure(&pending_peer, pending_len, why);
	drop_pending();
	return ok;
}

static int
same_peer(const struct sockaddr *peer, socklen_t len,
    const struct sockaddr_storage *kept, socklen_t kept_len)
{
	return kept_len != 0 && len == kept_len && memcmp(peer, kept, len) == 0;
}

/*
 * Sofia's client handshake does not verify the chain (SSL_VERIFY_NONE
 * unless it must verify clients too): it completes, and Sofia refuses
 * the connection after it by the verify result, without asking for the
 * name. So a certificate still waiting for its name check when the
 * connection is closed says why, when its chain failed.
 */
int
tlsname_failure(const struct sockaddr *peer, socklen_t len, char *why,
    size_t whysz)
{
	if (same_peer(peer, len, &failed_peer, failed_len)) {
		snprintf(why, whysz, "%s", failed_why);
		failed_len = 0;
		return 1;
	}
	if (pending != NULL && same_peer(peer, len, &pending_peer,
	    pending_len) && pending_verify != X509_V_OK) {
		snprintf(why, whysz, "certificate not accepted: %s",
		    X509_verify_cert_error_string(pending_verify));
		drop_pending();
		return 1;
	}
	return 0;
}

int
tlsname_match_file(const char *file, const char *name, char *why,
    size_t whysz)
{
	FILE *f = fopen(file, "r");
	X509 *c;
	int ok;

	if (f == NULL)
		return -1;
	c = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (c == NULL) {
		ERR_clear_error();
		return -1;
	}
	ok = cert_match(c, name, why, whysz);
	X509_free(c);
	return ok;
}

/* The peer's address of S's socket (len 0 when unknown). */
static socklen_t
peer_of(SSL *s, struct sockaddr_storage *ss)
{
	socklen_t len = sizeof(*ss);
	int fd = SSL_get_fd(s);

	memset(ss, 0, sizeof(*ss));
	if (fd < 0 || getpeername(fd, (struct sockaddr *)ss, &len) != 0)
		return 0;
	return len;
}

/* Why the handshake of S failed, for the log. */
static void
handshake_failure(SSL *s)
{
	struct sockaddr_storage ss;
	socklen_t len = peer_of(s, &ss);
	long v = SSL_get_verify_result(s);
	unsigned long e = ERR_peek_last_error();
	char why[256], err[160];

	if (len == 0)
		return;
	if (v != X509_V_OK)
		snprintf(why, sizeof(why), "certificate not accepted: %s",
		    X509_verify_cert_error_string(v));
	else if (e != 0) {
		ERR_error_string_n(e, err, sizeof(err));
		snprintf(why, sizeof(why), "TLS handshake failed: %s", err);
	} else
		snprintf(why, sizeof(why), "TLS handshake failed "
		    "(connection closed)");
	keep_failure(&ss, len, why);
}

typedef int connect_fn(SSL *);

/* Sofia's client handshakes (tls_connect) come through here. The
 * daemon's own code never calls SSL_connect. */
int
SSL_connect(SSL *s)
{
	static nextsym_cache next;
	connect_fn *real;
	int saved, n, e;

	if ((real = (connect_fn *)nextsym(&next, "SSL_connect")) == NULL)
		return -1;
	if (!enabled)
		return real(s);
	drop_pending();
	n = real(s);
	saved = errno;
	if (n == 1) {
		pending = SSL_get1_peer_certificate(s);
		pending_len = peer_of(s, &pending_peer);
		pending_verify = SSL_get_verify_result(s);
	} else {
		e = SSL_get_error(s, n);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
			handshake_failure(s);
	}
	errno = saved;
	return n;
}
