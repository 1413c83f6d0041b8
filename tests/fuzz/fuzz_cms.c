/*
 * fuzz_cms.c - libFuzzer harness for the CMS input path (cms.c). At start
 * an EC P-256 key and a self-signed certificate for it (keyUsage
 * digitalSignature, keyAgreement) are made in memory, written to a private
 * temporary directory, loaded with cms_keys_load() as decryption key and
 * trust anchor, and the files removed again. Each input is then given to
 * cms_decrypt(), to cms_verify() as an opaque SignedData and to
 * cms_verify() as a detached signature over a fixed buffer.
 *
 *   ./configure CC=clang --enable-fuzzing && make tests/fuzz/fuzz_cms
 *   ./tests/fuzz/fuzz_cms -max_total_time=30 tests/fuzz/corpus/cms/
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crypto/cms.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cms_keys *keys;
static volatile size_t sink;

static const uint8_t detached[] =
    "Content-Type: application/sdp\r\n\r\nv=0\r\ns=-\r\nt=0 0\r\n";

static _Noreturn void
die(const char *what)
{
	fprintf(stderr, "fuzz_cms: %s\n", what);
	abort();
}

static int
add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return 0;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

static X509 *
self_signed(EVP_PKEY *pk)
{
	X509 *x = X509_new();
	X509_NAME *name;

	if (x == NULL)
		return NULL;
	name = X509_get_subject_name(x);
	if (!X509_set_version(x, 2) ||
	    !ASN1_INTEGER_set(X509_get_serialNumber(x), 1) ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -86400) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 30L * 86400) == NULL ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"fuzz_cms", -1, -1, 0) ||
	    !X509_set_issuer_name(x, name) || !X509_set_pubkey(x, pk) ||
	    !add_ext(x, NID_basic_constraints, "critical,CA:TRUE") ||
	    !add_ext(x, NID_key_usage,
	    "critical,digitalSignature,keyAgreement,keyCertSign") ||
	    !add_ext(x, NID_subject_key_identifier, "hash") ||
	    X509_sign(x, pk, EVP_sha256()) <= 0) {
		X509_free(x);
		return NULL;
	}
	return x;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[32], certf[64], keyf[64], err[256];
	const char *c[1], *k[1];
	EVP_PKEY *pk;
	X509 *x;
	FILE *f;
	int fd;

	(void)argc;
	(void)argv;
	if ((pk = EVP_EC_gen("P-256")) == NULL)
		die("EC key generation");
	if ((x = self_signed(pk)) == NULL)
		die("certificate");
	/* mkdtemp() template: six trailing 'X' characters. */
	{
		size_t n = (size_t)snprintf(dir, sizeof(dir), "/tmp/fuzz_cms.");

		memset(dir + n, 'X', 6);
		dir[n + 6] = '\0';
	}
	if (mkdtemp(dir) == NULL)
		die("mkdtemp");
	snprintf(certf, sizeof(certf), "%s/cert.pem", dir);
	snprintf(keyf, sizeof(keyf), "%s/key.pem", dir);
	if ((fd = open(keyf, O_WRONLY | O_CREAT | O_EXCL, 0600)) == -1 ||
	    (f = fdopen(fd, "w")) == NULL)
		die("key file");
	if (!PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL) ||
	    fclose(f) != 0)
		die("writing the key");
	if ((f = fopen(certf, "w")) == NULL)
		die("certificate file");
	if (!PEM_write_X509(f, x) || fclose(f) != 0)
		die("writing the certificate");
	c[0] = certf;
	k[0] = keyf;
	keys = cms_keys_load(c, k, 1, c, 1, NULL, 0, err, sizeof(err));
	/* The keys are in memory now: remove the files either way. */
	(void)unlink(keyf);
	(void)unlink(certf);
	(void)rmdir(dir);
	if (keys == NULL) {
		fprintf(stderr, "fuzz_cms: %s\n", err);
		abort();
	}
	X509_free(x);
	EVP_PKEY_free(pk);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cms_signer who;
	uint8_t *out = NULL;
	size_t out_len = 0, sum = 0;
	const char *reason = NULL;

	if (cms_decrypt(keys, data, size, &out, &out_len) == CMS_OK &&
	    out_len > 0)
		sum += out[0] + out[out_len - 1];
	cms_plain_free(out, out_len);

	out = NULL;
	out_len = 0;
	if (cms_verify(keys, data, size, NULL, 0, &who, &out, &out_len,
	    &reason) == CMS_OK && out_len > 0)
		sum += out[0] + out[out_len - 1] + strlen(who.cn);
	sum += strlen(reason);
	cms_plain_free(out, out_len);

	reason = NULL;
	if (cms_verify(keys, data, size, detached, sizeof(detached) - 1, &who,
	    NULL, NULL, &reason) == CMS_OK)
		sum += strlen(who.email) + strlen(who.uri);
	sum += strlen(reason);
	sink = sum;
	return 0;
}
