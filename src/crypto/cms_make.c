/*
 * cms_make.c - the CMS we produce: envelopes to the UA's recipients
 * (AES, RSA-OAEP or ECDH), detached and opaque signatures (the proxy's
 * challenges, from a per-key template when possible), and random bytes.
 */
#include "crypto/cms_private.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crypto/sigtemplate.h"

/* ---- encryption and signing ---- */

static bool
bio_to_buf(BIO *b, uint8_t **buf, size_t *len)
{
	char *p = NULL;
	long n = BIO_get_mem_data(b, &p);

	if (n <= 0 || (*buf = malloc((size_t)n)) == NULL)
		return false;
	memcpy(*buf, p, (size_t)n);
	*len = (size_t)n;
	return true;
}

/* Ask for OAEP/SHA-256 (RSA) or the SHA-256 X9.63 KDF (ECDH). */
static bool
tune_recipient(CMS_RecipientInfo *ri, X509 *x)
{
	EVP_PKEY_CTX *pctx = CMS_RecipientInfo_get0_pkey_ctx(ri);
	EVP_PKEY *pk = X509_get0_pubkey(x);

	if (pctx == NULL || pk == NULL)
		return false;
	if (EVP_PKEY_is_a(pk, "RSA"))
		return EVP_PKEY_CTX_set_rsa_padding(pctx,
		    RSA_PKCS1_OAEP_PADDING) > 0 &&
		    EVP_PKEY_CTX_set_rsa_oaep_md(pctx, EVP_sha256()) > 0 &&
		    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) > 0;
	if (EVP_PKEY_is_a(pk, "EC"))
		return EVP_PKEY_CTX_set_ecdh_kdf_md(pctx, EVP_sha256()) > 0;
	return false;
}

enum cms_status
cms_encrypt(const char *const *files, size_t n, const uint8_t *plain,
    size_t plain_len, bool gcm, uint8_t **der, size_t *der_len, char *err,
    size_t errsz)
{
	CMS_ContentInfo *cms = NULL;
	BIO *in = NULL, *out = NULL;
	size_t i;
	enum cms_status st = CMS_ERROR;
	const unsigned int flags = CMS_BINARY | CMS_PARTIAL;

	*der = NULL;
	*der_len = 0;
	if (err != NULL && errsz > 0)
		err[0] = '\0';
	if (n == 0 || n > CMS_MAX_RECIPIENTS || plain_len > CMS_MAX_DER) {
		cms_set_err(err, errsz, "bad recipient count or size", NULL);
		return CMS_ERROR;
	}
	cms = CMS_encrypt(NULL, NULL,
	    gcm ? EVP_aes_128_gcm() : EVP_aes_128_cbc(), flags);
	if (cms == NULL) {
		cms_set_err(err, errsz, "CMS_encrypt", NULL);
		goto out;
	}
	for (i = 0; i < n; i++) {
		X509 *x = cms_read_cert(files[i]);
		CMS_RecipientInfo *ri;

		if (x == NULL) {
			cms_set_err(err, errsz, "cannot read certificate",
			    files[i]);
			goto out;
		}
		ri = CMS_add1_recipient_cert(cms, x, flags | CMS_KEY_PARAM);
		if (ri == NULL || !tune_recipient(ri, x)) {
			X509_free(x);
			cms_set_err(err, errsz, "cannot add recipient",
			    files[i]);
			goto out;
		}
		X509_free(x);
	}
	if ((in = BIO_new_mem_buf(plain, (int)plain_len)) == NULL ||
	    CMS_final(cms, in, NULL, flags) != 1) {
		cms_set_err(err, errsz, "cannot encrypt", NULL);
		goto out;
	}
	if ((out = BIO_new(BIO_s_mem())) == NULL ||
	    i2d_CMS_bio(out, cms) != 1 || !bio_to_buf(out, der, der_len)) {
		cms_set_err(err, errsz, "cannot encode", NULL);
		goto out;
	}
	st = CMS_OK;
out:
	BIO_free(in);
	BIO_free(out);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return st;
}

static struct sigtemplate *make_template(const struct cms_signing_key *sk);

static enum cms_status sign_full(const struct cms_signing_key *sk,
    const uint8_t *data, size_t len, bool detached, uint8_t **der,
    size_t *der_len);

/*
 * Each chain certificate must issue the signing certificate or another
 * chain certificate on its path: follow issuers from the signing
 * certificate, then name the first one never reached. 0, or -1 with err.
 */
static int
check_chain(const struct cms_signing_key *sk, char *err, size_t errsz)
{
	int n = sk_X509_num(sk->chain), i, used[64] = { 0 }, found;
	X509 *cur = sk->cert;
	char name[256], msg[400];

	if (n > (int)(sizeof(used) / sizeof(used[0]))) {
		cms_set_err(err, errsz, "more than 64 chain certificates",
		    NULL);
		return -1;
	}
	do {
		found = 0;
		for (i = 0; i < n && !found; i++)
			if (!used[i] && X509_check_issued(sk_X509_value(
			    sk->chain, i), cur) == X509_V_OK) {
				used[i] = found = 1;
				cur = sk_X509_value(sk->chain, i);
			}
	} while (found && X509_check_issued(cur, cur) != X509_V_OK);
	for (i = 0; i < n; i++)
		if (!used[i])
			break;
	if (i == n)
		return 0;
	X509_NAME_oneline(X509_get_subject_name(sk_X509_value(sk->chain, i)),
	    name, sizeof(name));
	snprintf(msg, sizeof(msg), "chain certificate %s issues neither the "
	    "signing certificate nor another on its path", name);
	cms_set_err(err, errsz, msg, NULL);
	return -1;
}

/*
 * A chain certificate that issued itself is a trust anchor: a verifier
 * trusts it only from its own store, never from the message, so a copy in
 * every signature is dead weight (about 400 bytes EC, 800 RSA-2048 in a
 * signed 496 that goes out over UDP; digest 4.6: "not the root"). The
 * chain file may still hold it: check_chain() has seen the path end there.
 */
static void
drop_anchors(STACK_OF(X509) *chain)
{
	int i;

	for (i = sk_X509_num(chain) - 1; i >= 0; i--) {
		X509 *x = sk_X509_value(chain, i);
		if (X509_check_issued(x, x) == X509_V_OK) {
			(void)sk_X509_delete(chain, i);
			X509_free(x);
		}
	}
}

struct cms_signing_key *
cms_signing_key_load(const char *cert_file, const char *key_file,
    const char *const *chain_files, size_t nchain, char *err, size_t errsz)
{
	return cms_signing_key_load_flags(cert_file, key_file, chain_files,
	    nchain, 0, err, errsz);
}

struct cms_signing_key *
cms_signing_key_load_flags(const char *cert_file, const char *key_file,
    const char *const *chain_files, size_t nchain, unsigned flags,
    char *err, size_t errsz)
{
	struct cms_signing_key *sk = calloc(1, sizeof(*sk));
	size_t i;

	if (err != NULL && errsz > 0)
		err[0] = '\0';
	if (sk == NULL || (sk->chain = sk_X509_new_null()) == NULL) {
		free(sk);
		cms_set_err(err, errsz, "out of memory", NULL);
		return NULL;
	}
	sk->signer_out = (flags & CMS_SK_SIGNER_OUT) != 0;
	if ((sk->cert = cms_read_cert(cert_file)) == NULL) {
		cms_set_err(err, errsz, "cannot read certificate", cert_file);
		goto fail;
	}
	if ((sk->pkey = cms_read_key(key_file)) == NULL) {
		cms_set_err(err, errsz, "cannot read private key", key_file);
		goto fail;
	}
	if (!X509_check_private_key(sk->cert, sk->pkey)) {
		cms_set_err(err, errsz,
		    "private key does not match certificate", key_file);
		goto fail;
	}
	for (i = 0; i < nchain; i++)
		if (cms_read_certs(chain_files[i], sk->chain) == 0) {
			cms_set_err(err, errsz, "cannot read chain",
			    chain_files[i]);
			goto fail;
		}
	if (check_chain(sk, err, errsz) == -1)
		goto fail;
	drop_anchors(sk->chain);
	sk->tpl = make_template(sk);
	ERR_clear_error();
	return sk;
fail:
	cms_signing_key_free(sk);
	return NULL;
}

void
cms_signing_key_free(struct cms_signing_key *sk)
{
	if (sk == NULL)
		return;
	X509_free(sk->cert);
	EVP_PKEY_free(sk->pkey);
	sk_X509_pop_free(sk->chain, X509_free);
	sigtemplate_free(sk->tpl);
	free(sk);
}

/* OpenSSL's CMS_sign(), every attribute built afresh. */
static enum cms_status
sign_full(const struct cms_signing_key *sk, const uint8_t *data, size_t len,
    bool detached, uint8_t **der, size_t *der_len)
{
	CMS_ContentInfo *cms = NULL;
	CMS_SignerInfo *si;
	STACK_OF(X509_ALGOR) *caps = NULL;
	BIO *in = NULL, *out = NULL;
	enum cms_status st = CMS_ERROR;
	unsigned int flags = CMS_BINARY | CMS_PARTIAL, sflags;

	*der = NULL;
	*der_len = 0;
	if (sk == NULL || len > CMS_MAX_DER * 4)
		return CMS_ERROR;
	if (detached)
		flags |= CMS_DETACHED;
	/* CMS_add1_signer() adds contentType, messageDigest and
	 * signingTime. Its default SMIMECapabilities list offers DES, 3DES
	 * and RC2, which digest 10.4 refuses: put our own list instead.
	 * The signer stays named by issuer and serial number: its
	 * subjectKeyIdentifier would save 25 to 100 bytes of a 496, but
	 * makes a version 3 SignerInfo that PKCS#7 readers (OpenSSL's
	 * PKCS7 API and "openssl smime") cannot parse at all. */
	sflags = flags | CMS_NOSMIMECAP;
	if (sk->signer_out)
		sflags |= CMS_NOCERTS;
	if ((cms = CMS_sign(NULL, NULL, sk->chain, NULL, flags)) == NULL ||
	    (si = CMS_add1_signer(cms, sk->cert, sk->pkey, EVP_sha256(),
	    sflags)) == NULL)
		goto out;
	if ((caps = sk_X509_ALGOR_new_null()) == NULL ||
	    !PKCS7_simple_smimecap(caps, NID_aes_128_gcm, -1) ||
	    !PKCS7_simple_smimecap(caps, NID_aes_256_gcm, -1) ||
	    !PKCS7_simple_smimecap(caps, NID_aes_128_cbc, -1) ||
	    !PKCS7_simple_smimecap(caps, NID_aes_256_cbc, -1) ||
	    !CMS_add_smimecap(si, caps))
		goto out;
	if ((in = BIO_new_mem_buf(data, (int)len)) == NULL ||
	    CMS_final(cms, in, NULL, flags) != 1)
		goto out;
	if ((out = BIO_new(BIO_s_mem())) == NULL ||
	    i2d_CMS_bio(out, cms) != 1 || !bio_to_buf(out, der, der_len))
		goto out;
	st = CMS_OK;
out:
	sk_X509_ALGOR_pop_free(caps, X509_ALGOR_free);
	BIO_free(in);
	BIO_free(out);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return st;
}

enum cms_status
cms_sign(const struct cms_signing_key *sk, const uint8_t *data, size_t len,
    bool detached, uint8_t **der, size_t *der_len)
{
	if (sk != NULL && sk->tpl != NULL && detached &&
	    len <= CMS_MAX_DER * 4 &&
	    sigtemplate_sign(sk->tpl, data, len, der, der_len) == 0)
		return CMS_OK;
	return sign_full(sk, data, len, detached, der, der_len);
}

/*
 * The template comes from a signature sign_full() makes over a probe, and
 * is used only if a signature it makes verifies (signer certificate not
 * checked: that is the verifier's business, the point is the layout).
 */
static struct sigtemplate *
make_template(const struct cms_signing_key *sk)
{
	static const uint8_t probe[] = "e2mproxy signing template probe";
	uint8_t sha[32], *der = NULL, *der2 = NULL;
	size_t der_len = 0, der2_len = 0;
	unsigned int n = 0;
	struct sigtemplate *t = NULL;
	CMS_ContentInfo *cms = NULL;
	BIO *content = NULL;
	STACK_OF(X509) *signer = NULL;
	const unsigned char *q;

	if (!EVP_Digest(probe, sizeof(probe), sha, &n, EVP_sha256(), NULL) ||
	    sign_full(sk, probe, sizeof(probe), true, &der, &der_len) !=
	    CMS_OK ||
	    (t = sigtemplate_new(der, der_len, sha, sk->pkey)) == NULL ||
	    sigtemplate_sign(t, probe, sizeof(probe), &der2, &der2_len) == -1)
		goto fail;
	q = der2;
	/* The signer's certificate given, for a key whose signatures leave
	 * it out (CMS_SK_SIGNER_OUT). */
	if ((signer = sk_X509_new_null()) == NULL ||
	    !sk_X509_push(signer, sk->cert) ||
	    (cms = d2i_CMS_ContentInfo(NULL, &q, (long)der2_len)) == NULL ||
	    (content = cms_content_bio(probe, sizeof(probe))) == NULL ||
	    CMS_verify(cms, signer, NULL, content, NULL, CMS_BINARY |
	    CMS_NO_SIGNER_CERT_VERIFY) != 1)
		goto fail;
	goto out;
fail:
	sigtemplate_free(t);
	t = NULL;
out:
	sk_X509_free(signer); /* not the certificate: sk's own */
	CMS_ContentInfo_free(cms);
	BIO_free_all(content);
	free(der);
	free(der2);
	ERR_clear_error();
	return t;
}

/*
 * Small requests (MIME boundaries, tags: two per challenge) are served
 * from a per-thread pool refilled by one RAND_bytes() call: OpenSSL 3.0's
 * DRBG costs several microseconds and a getpid() system call per call,
 * which was 6 % of a signed 496 (docs/performance.md). The bytes are the
 * DRBG's all the same; a forked child must not reuse its parent's, so the
 * pool is emptied in the child.
 */
#define RANDOM_POOL 512
#define RANDOM_POOLED_MAX 64

static _Thread_local struct {
	uint8_t b[RANDOM_POOL];
	size_t left; /* unused bytes at the end of b */
} pool;

static void
pool_forget(void)
{
	OPENSSL_cleanse(&pool, sizeof(pool));
}

static void
pool_atfork(void)
{
	pthread_atfork(NULL, NULL, pool_forget);
}

static int
drbg(uint8_t *p, size_t n)
{
	if (n > INT_MAX || RAND_bytes(p, (int)n) != 1) {
		ERR_clear_error();
		return -1;
	}
	return 0;
}

int
cms_random(uint8_t *p, size_t n)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	uint8_t *from;

	if (n > RANDOM_POOLED_MAX)
		return drbg(p, n);
	pthread_once(&once, pool_atfork);
	if (pool.left < n) {
		if (drbg(pool.b, sizeof(pool.b)) != 0)
			return -1;
		pool.left = sizeof(pool.b);
	}
	from = pool.b + sizeof(pool.b) - pool.left;
	memcpy(p, from, n);
	/* Handed out once only. */
	OPENSSL_cleanse(from, n);
	pool.left -= n;
	return 0;
}
