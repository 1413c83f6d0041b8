/*
 * decrypt_rate.c - the raw single-core rate of opening one EnvelopedData
 * with OpenSSL alone (d2i_CMS_ContentInfo + CMS_decrypt with the recipient
 * certificate passed, benchmark.md section 2): the crypto limit that
 * bench/e2m_rate.sh sets e2mproxyd's e2m call rate against.
 *
 * usage: decrypt_rate SECS CERT KEY DER
 * Decrypts DER (after one checked warm-up) for SECS seconds on this thread
 * and prints "per_cpu_s N per_wall_s N": openings per second of this
 * thread's CPU time (the figure: what one core fully given to it does,
 * whatever else the machine runs) and per second of wall time.
 */
#define _GNU_SOURCE /* asprintf (benchutil.h) */
#include <openssl/cms.h>
#include <openssl/pem.h>

#include "benchutil.h"

static EVP_PKEY *key;
static X509 *cert;
static uint8_t *der;
static size_t der_len;

static int
open_once(void)
{
	const unsigned char *p = der;
	CMS_ContentInfo *cms;
	BIO *out;
	int ok;

	if ((cms = d2i_CMS_ContentInfo(NULL, &p, (long)der_len)) == NULL)
		return -1;
	if ((out = BIO_new(BIO_s_mem())) == NULL) {
		CMS_ContentInfo_free(cms);
		return -1;
	}
	ok = CMS_decrypt(cms, key, cert, NULL, out, CMS_BINARY);
	BIO_free(out);
	CMS_ContentInfo_free(cms);
	return ok == 1 ? 0 : -1;
}

static void *
read_pem(const char *file, int is_key)
{
	FILE *f = fopen(file, "r");
	void *v;

	if (f == NULL)
		die(file);
	v = is_key ? (void *)PEM_read_PrivateKey(f, NULL, NULL, NULL) :
	    (void *)PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (v == NULL)
		die(file);
	return v;
}

int
main(int argc, char **argv)
{
	double secs, w0, c0, w, c;
	unsigned long n = 0;

	prog = "decrypt_rate";
	if (argc != 5 || (secs = atof(argv[1])) <= 0) {
		fprintf(stderr, "usage: decrypt_rate SECS CERT KEY DER\n");
		return 2;
	}
	cert = read_pem(argv[2], 0);
	key = read_pem(argv[3], 1);
	der = slurp(argv[4], &der_len);
	if (open_once() != 0)
		die("the EnvelopedData does not open with that key");
	w0 = now();
	c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
	do {
		if (open_once() != 0)
			die("CMS_decrypt");
		n++;
	} while ((w = now()) - w0 < secs);
	c = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
	printf("per_cpu_s %.0f per_wall_s %.0f\n", (double)n / c,
	    (double)n / (w - w0));
	return 0;
}
