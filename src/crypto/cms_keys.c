/*
 * cms_keys.c - the proxy's decryption keys, trust anchors and CRLs
 * (struct cms_keys), and certificates in and out of DER and PEM.
 */
#include "crypto/cms_private.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* Content-encryption algorithms cms_decrypt() can be told to accept; bit i
 * of cms_keys.ciphers stands for content_nids[i]. */
static const int content_nids[] = {
	NID_aes_128_cbc, NID_aes_192_cbc, NID_aes_256_cbc,
	NID_aes_128_gcm, NID_aes_192_gcm, NID_aes_256_gcm,
};
#define NCONTENT_NIDS (sizeof(content_nids) / sizeof(content_nids[0]))
#define ALL_CONTENT_NIDS ((1u << NCONTENT_NIDS) - 1)

const char *
cms_status_str(enum cms_status st)
{
	switch (st) {
	case CMS_OK:             return "ok";
	case CMS_UNDECIPHERABLE: return "undecipherable";
	case CMS_BAD_SIGNATURE:  return "bad signature";
	case CMS_UNTRUSTED:      return "untrusted signer";
	case CMS_WEAK_ALGORITHM: return "weak algorithm";
	case CMS_MALFORMED:      return "malformed";
	case CMS_ERROR:          return "internal error";
	}
	return "unknown";
}

/* err <- "what: file: first OpenSSL reason"; clears the error queue. */
void
cms_set_err(char *err, size_t errsz, const char *what, const char *file)
{
	unsigned long e = ERR_peek_last_error();
	char ebuf[256] = "";

	if (e != 0)
		ERR_error_string_n(e, ebuf, sizeof(ebuf));
	if (err != NULL && errsz > 0)
		snprintf(err, errsz, "%s%s%s%s%s", what, file ? ": " : "",
		    file ? file : "", ebuf[0] ? ": " : "", ebuf);
	ERR_clear_error();
}

time_t
cms_asn1_time(const ASN1_TIME *t)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
		return 0;
	return timegm(&tm);
}

/* Read every PEM certificate in a file into sk; 0 if none or error. */
int
cms_read_certs(const char *file, STACK_OF(X509) *sk)
{
	BIO *b = BIO_new_file(file, "r");
	X509 *x;
	int n = 0;

	if (b == NULL)
		return 0;
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			n = 0;
			break;
		}
		n++;
	}
	BIO_free(b);
	if (n > 0)
		ERR_clear_error(); /* the expected "no start line" at EOF */
	return n;
}

X509 *
cms_read_cert(const char *file)
{
	BIO *b = BIO_new_file(file, "r");
	X509 *x = NULL;

	if (b != NULL) {
		x = PEM_read_bio_X509(b, NULL, NULL, NULL);
		BIO_free(b);
	}
	if (x != NULL)
		(void)X509_check_purpose(x, -1, 0); /* cache extensions now */
	return x;
}

EVP_PKEY *
cms_read_key(const char *file)
{
	BIO *b = BIO_new_file(file, "r");
	EVP_PKEY *k = NULL;

	if (b != NULL) {
		k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
		BIO_free(b);
	}
	return k;
}

static int
load_crls(X509_STORE *store, const char *file, time_t *next_update)
{
	BIO *b = BIO_new_file(file, "r");
	X509_CRL *c;
	int n = 0;

	if (b == NULL)
		return 0;
	while ((c = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL)) != NULL) {
		time_t nu = cms_asn1_time(X509_CRL_get0_nextUpdate(c));

		if (nu != 0 && (*next_update == 0 || nu < *next_update))
			*next_update = nu;
		if (!X509_STORE_add_crl(store, c)) {
			X509_CRL_free(c);
			n = 0;
			break;
		}
		X509_CRL_free(c);
		n++;
	}
	BIO_free(b);
	if (n > 0)
		ERR_clear_error();
	return n;
}

struct cms_keys *
cms_keys_load(const char *const *cert_files, const char *const *key_files,
    size_t n, const char *const *ca_files, size_t nca,
    const char *const *crl_files, size_t ncrl, char *err, size_t errsz)
{
	struct cms_keys *k;
	X509_VERIFY_PARAM *param;
	size_t i;

	if (err != NULL && errsz > 0)
		err[0] = '\0';
	if (n > CMS_MAX_KEYS) {
		cms_set_err(err, errsz, "too many decryption keys", NULL);
		return NULL;
	}
	if ((k = calloc(1, sizeof(*k))) == NULL ||
	    (k->cache = calloc(1, sizeof(*k->cache))) == NULL) {
		free(k);
		cms_set_err(err, errsz, "out of memory", NULL);
		return NULL;
	}
	if (pthread_mutex_init(&k->cache->lock, NULL) != 0) {
		free(k->cache);
		free(k);
		cms_set_err(err, errsz, "mutex", NULL);
		return NULL;
	}
	k->ciphers = ALL_CONTENT_NIDS;
	for (i = 0; i < n; i++) {
		k->cert[i] = cms_read_cert(cert_files[i]);
		if (k->cert[i] == NULL) {
			cms_set_err(err, errsz, "cannot read certificate",
			    cert_files[i]);
			goto fail;
		}
		k->pkey[i] = cms_read_key(key_files[i]);
		k->n = i + 1;
		if (k->pkey[i] == NULL) {
			cms_set_err(err, errsz, "cannot read private key",
			    key_files[i]);
			goto fail;
		}
		if (!X509_check_private_key(k->cert[i], k->pkey[i])) {
			cms_set_err(err, errsz,
			    "private key does not match certificate",
			    key_files[i]);
			goto fail;
		}
	}
	if ((k->store = X509_STORE_new()) == NULL) {
		cms_set_err(err, errsz, "out of memory", NULL);
		goto fail;
	}
	for (i = 0; i < nca; i++) {
		STACK_OF(X509) *sk = sk_X509_new_null();
		int j, cnt = sk ? cms_read_certs(ca_files[i], sk) : 0;

		for (j = 0; j < cnt; j++)
			if (!X509_STORE_add_cert(k->store,
			    sk_X509_value(sk, j)))
				cnt = 0;
		sk_X509_pop_free(sk, X509_free);
		if (cnt == 0) {
			cms_set_err(err, errsz, "cannot read trust anchors",
			    ca_files[i]);
			goto fail;
		}
	}
	for (i = 0; i < ncrl; i++) {
		if (load_crls(k->store, crl_files[i], &k->crl_next_update)
		    == 0) {
			cms_set_err(err, errsz, "cannot read CRL",
			    crl_files[i]);
			goto fail;
		}
		k->have_crls = true;
	}
	param = X509_STORE_get0_param(k->store);
	X509_VERIFY_PARAM_set_depth(param, CMS_MAX_CHAIN_DEPTH);
	X509_VERIFY_PARAM_set_auth_level(param, 2);
	X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT);
	if (k->have_crls)
		X509_VERIFY_PARAM_set_flags(param,
		    X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
	ERR_clear_error();
	return k;
fail:
	cms_keys_free(k);
	return NULL;
}

void
cms_keys_free(struct cms_keys *k)
{
	size_t i;

	if (k == NULL)
		return;
	for (i = 0; i < k->n; i++) {
		X509_free(k->cert[i]);
		EVP_PKEY_free(k->pkey[i]);
	}
	X509_STORE_free(k->store);
	pthread_mutex_destroy(&k->cache->lock);
	free(k->cache);
	free(k);
}

/* Bit of content_nids[] for nid; 0 if it is not one of them. */
unsigned
cms_content_bit(int nid)
{
	size_t i;

	for (i = 0; i < NCONTENT_NIDS; i++)
		if (content_nids[i] == nid)
			return 1u << i;
	return 0;
}

int
cms_keys_set_ciphers(struct cms_keys *k, const char *const *names,
    size_t n, char *err, size_t errsz)
{
	unsigned set = 0, bit;
	size_t i;

	if (err != NULL && errsz > 0)
		err[0] = '\0';
	if (k == NULL || n == 0 || names == NULL) {
		if (err != NULL && errsz > 0)
			snprintf(err, errsz,
			    "no content-encryption algorithm given");
		return -1;
	}
	for (i = 0; i < n; i++) {
		const EVP_CIPHER *c = NULL;
		int nid = NID_undef;

		if (names[i] != NULL) {
			c = EVP_get_cipherbyname(names[i]);
			nid = c != NULL ? EVP_CIPHER_get_nid(c) :
			    OBJ_txt2nid(names[i]);
		}
		ERR_clear_error();
		if ((bit = cms_content_bit(nid)) == 0) {
			if (err != NULL && errsz > 0)
				snprintf(err, errsz, "unsupported content-"
				    "encryption algorithm \"%.64s\"",
				    names[i] != NULL ? names[i] : "(null)");
			return -1;
		}
		set |= bit;
	}
	k->ciphers = set;
	return 0;
}

void
cms_plain_free(uint8_t *p, size_t len)
{
	if (p == NULL)
		return;
	OPENSSL_cleanse(p, len);
	free(p);
}

/* x as DER in a malloc() copy (OpenSSL's allocator may not be malloc()).
 * 0, or -1 with *der NULL. */
static int
der_copy(X509 *x, uint8_t **der, size_t *len)
{
	unsigned char *p = NULL;
	int n = i2d_X509(x, &p);

	*der = NULL;
	*len = 0;
	if (n > 0 && (*der = malloc((size_t)n)) != NULL) {
		memcpy(*der, p, (size_t)n);
		*len = (size_t)n;
	}
	OPENSSL_free(p);
	return *der != NULL ? 0 : -1;
}

/* Exactly one DER certificate (nothing after it), or NULL. */
static X509 *
one_cert(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x = len <= CMS_MAX_DER ? d2i_X509(NULL, &p, (long)len) : NULL;

	if (x != NULL && p != der + len) {
		X509_free(x);
		x = NULL;
	}
	return x;
}

int
cms_cert_der_load(const char *file, uint8_t **der, size_t *len, char *err,
    size_t errsz)
{
	X509 *x = cms_read_cert(file);
	int n;

	*der = NULL;
	*len = 0;
	if (x == NULL) {
		cms_set_err(err, errsz, "cannot read certificate", file);
		return -1;
	}
	n = der_copy(x, der, len);
	X509_free(x);
	if (n != 0)
		cms_set_err(err, errsz, "cannot encode certificate", file);
	return n;
}

int
cms_cert_write_pem(const uint8_t *der, size_t len, const char *path,
    char *err, size_t errsz)
{
	X509 *x = one_cert(der, len);
	BIO *b = NULL;
	int ok = 0;

	if (x == NULL)
		cms_set_err(err, errsz, "not one DER certificate", NULL);
	else if ((b = BIO_new_file(path, "w")) == NULL)
		cms_set_err(err, errsz, "cannot write", path);
	else if (!PEM_write_bio_X509(b, x) || BIO_flush(b) != 1)
		cms_set_err(err, errsz, "cannot write", path);
	else
		ok = 1;
	BIO_free(b);
	X509_free(x);
	ERR_clear_error();
	return ok ? 0 : -1;
}

int
cms_cert_to_pem(const uint8_t *der, size_t len, char **pem)
{
	X509 *x = one_cert(der, len);
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long n;
	int ok = 0;

	*pem = NULL;
	if (x != NULL && b != NULL &&
	    PEM_write_bio_X509(b, x) && (n = BIO_get_mem_data(b, &data)) > 0 &&
	    (*pem = malloc((size_t)n + 1)) != NULL) {
		memcpy(*pem, data, (size_t)n);
		(*pem)[n] = '\0';
		ok = 1;
	}
	BIO_free(b);
	X509_free(x);
	ERR_clear_error();
	return ok ? 0 : -1;
}

int
cms_cert_from_pem(const char *pem, uint8_t **der, size_t *len)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = b != NULL ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	int rc = x != NULL ? der_copy(x, der, len) : -1;

	X509_free(x);
	BIO_free(b);
	ERR_clear_error();
	return rc;
}

int
cms_pair_check(const char *cert_file, const char *key_file, char *err,
    size_t errsz)
{
	X509 *cert = NULL;
	EVP_PKEY *pkey = NULL;
	int rc = -1;

	if ((cert = cms_read_cert(cert_file)) == NULL)
		cms_set_err(err, errsz, "cannot read certificate", cert_file);
	else if ((pkey = cms_read_key(key_file)) == NULL)
		cms_set_err(err, errsz, "cannot read private key", key_file);
	else if (!X509_check_private_key(cert, pkey))
		cms_set_err(err, errsz, "private key does not match "
		    "certificate", key_file);
	else
		rc = 0;
	X509_free(cert);
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return rc;
}
