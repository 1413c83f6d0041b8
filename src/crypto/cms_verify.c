/*
 * cms_verify.c - checking a SignedData: shape and algorithms first, the
 * signature maths by OpenSSL, the signers' certificate paths by us (RFC
 * 5280, with CRLs, cached); and checking a proxy's encryption
 * certificate for the UA.
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
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* ---- verification ---- */

static bool
strong_digest(int nid)
{
	switch (nid) {
	case NID_sha224:
	case NID_sha256:
	case NID_sha384:
	case NID_sha512:
	case NID_sha512_224:
	case NID_sha512_256:
	case NID_sha3_224:
	case NID_sha3_256:
	case NID_sha3_384:
	case NID_sha3_512:
		return true;
	default:
		return false;
	}
}

/* Signature algorithm: a bare key algorithm, or one that names a strong
 * digest. Ed25519/Ed448 carry no digest of their own. */
static bool
strong_sigalg(int nid)
{
	int dnid = NID_undef, pknid = NID_undef;

	switch (nid) {
	case NID_rsaEncryption:
	case NID_rsassaPss:
	case NID_X9_62_id_ecPublicKey:
	case NID_ED25519:
	case NID_ED448:
		return true;
	default:
		break;
	}
	if (!OBJ_find_sigid_algs(nid, &dnid, &pknid))
		return false;
	return strong_digest(dnid);
}

/* Copy an ASN1 string into buf if it fits and holds no NUL. */
static bool
copy_name(char *buf, size_t bufsz, const ASN1_STRING *s)
{
	int n = ASN1_STRING_length(s);
	const unsigned char *d = ASN1_STRING_get0_data(s);

	buf[0] = '\0';
	if (n < 0 || (size_t)n >= bufsz || memchr(d, '\0', (size_t)n))
		return false;
	memcpy(buf, d, (size_t)n);
	buf[n] = '\0';
	return true;
}

static void
describe(X509 *x, struct cms_signer *out)
{
	X509_NAME *subj = X509_get_subject_name(x);
	GENERAL_NAMES *gens;
	int idx, i;
	unsigned int mdlen = 0;

	idx = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);
	if (idx >= 0) {
		ASN1_STRING *cn;
		unsigned char *utf8 = NULL;
		int n;

		cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, idx));
		n = ASN1_STRING_to_UTF8(&utf8, cn);
		if (n >= 0 && (size_t)n < sizeof(out->cn) &&
		    memchr(utf8, '\0', (size_t)n) == NULL) {
			memcpy(out->cn, utf8, (size_t)n);
			out->cn[n] = '\0';
		} else
			out->names_truncated = true;
		OPENSSL_free(utf8);
	}
	gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);

		if (g->type == GEN_EMAIL && out->email[0] == '\0') {
			if (!copy_name(out->email, sizeof(out->email),
			    g->d.rfc822Name))
				out->names_truncated = true;
		} else if (g->type == GEN_DNS) {
			if (out->ndns == CMS_MAX_DNS_NAMES || !copy_name(
			    out->dns[out->ndns], sizeof(out->dns[0]),
			    g->d.dNSName))
				out->names_truncated = true;
			else
				out->ndns++;
		} else if (g->type == GEN_URI && out->uri[0] == '\0') {
			if (!copy_name(out->uri, sizeof(out->uri),
			    g->d.uniformResourceIdentifier))
				out->names_truncated = true;
		}
	}
	GENERAL_NAMES_free(gens);
	X509_digest(x, EVP_sha256(), out->sha256, &mdlen);
	out->not_after = cms_asn1_time(X509_get0_notAfter(x));
}

static bool
cache_lookup(struct chain_cache *c, const uint8_t hash[32], time_t now)
{
	size_t i;
	bool hit = false;

	pthread_mutex_lock(&c->lock);
	for (i = 0; i < CMS_CACHE_SIZE; i++)
		if (c->e[i].expires > now &&
		    memcmp(c->e[i].hash, hash, 32) == 0) {
			hit = true;
			break;
		}
	if (hit)
		c->hits++;
	else
		c->misses++;
	pthread_mutex_unlock(&c->lock);
	return hit;
}

static void
cache_insert(struct chain_cache *c, const uint8_t hash[32], time_t expires)
{
	size_t i, slot = CMS_CACHE_SIZE;

	pthread_mutex_lock(&c->lock);
	for (i = 0; i < CMS_CACHE_SIZE; i++)
		if (memcmp(c->e[i].hash, hash, 32) == 0) {
			slot = i;
			break;
		}
	if (slot == CMS_CACHE_SIZE) {
		slot = c->next;
		c->next = (c->next + 1) % CMS_CACHE_SIZE;
	}
	memcpy(c->e[slot].hash, hash, 32);
	c->e[slot].expires = expires;
	pthread_mutex_unlock(&c->lock);
}

void
cms_cache_stats(const struct cms_keys *k, size_t *entries,
    unsigned long *hits, unsigned long *misses)
{
	struct chain_cache *c = k->cache;
	time_t now = time(NULL);
	size_t i, n = 0;

	pthread_mutex_lock(&c->lock);
	for (i = 0; i < CMS_CACHE_SIZE; i++)
		if (c->e[i].expires > now)
			n++;
	if (hits != NULL)
		*hits = c->hits;
	if (misses != NULL)
		*misses = c->misses;
	pthread_mutex_unlock(&c->lock);
	if (entries != NULL)
		*entries = n;
}

static enum cms_status
map_verify_error(int err)
{
	switch (err) {
	case X509_V_ERR_CA_MD_TOO_WEAK:
	case X509_V_ERR_CA_KEY_TOO_SMALL:
	case X509_V_ERR_EE_KEY_TOO_SMALL:
		return CMS_WEAK_ALGORITHM;
	default:
		return CMS_UNTRUSTED;
	}
}

/* Why a path failed, for people: static text, per certificate role. */
static const char *
path_reason(int e, enum cms_status st, bool signer)
{
	if (st == CMS_WEAK_ALGORITHM)
		return "weak key or signature in certificate path";
	switch (e) {
	case X509_V_ERR_CERT_REVOKED:
		return signer ? "signer certificate revoked" :
		    "encryption certificate revoked";
	case X509_V_ERR_CRL_HAS_EXPIRED:
		return "a CRL of the path has expired";
	case X509_V_ERR_CRL_NOT_YET_VALID:
		return "a CRL of the path is not yet valid";
	case X509_V_ERR_CRL_SIGNATURE_FAILURE:
		return "a CRL of the path does not verify";
	case X509_V_ERR_UNABLE_TO_GET_CRL:
		return "no CRL for a certificate of the path";
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return signer ? "signer certificate expired" :
		    "encryption certificate expired";
	default:
		return signer ? "signer certificate path validation failed" :
		    "certificate path validation failed";
	}
}

/* RFC 5280 path validation of one signer certificate, through the cache. */
static enum cms_status
validate_signer(const struct cms_keys *k, X509 *signer,
    STACK_OF(X509) *untrusted, bool *from_cache, const char **reason)
{
	X509_STORE_CTX *ctx;
	STACK_OF(X509) *chain;
	uint8_t hash[32];
	unsigned int hlen = 0;
	time_t now = time(NULL), expires;
	int i, ku;
	enum cms_status st;

	*from_cache = false;
	if (!X509_digest(signer, EVP_sha256(), hash, &hlen) || hlen != 32)
		return CMS_ERROR;
	if (cache_lookup(k->cache, hash, now)) {
		*from_cache = true;
		return CMS_OK;
	}
	if ((ctx = X509_STORE_CTX_new()) == NULL)
		return CMS_ERROR;
	if (!X509_STORE_CTX_init(ctx, k->store, signer, untrusted) ||
	    !X509_STORE_CTX_set_default(ctx, "smime_sign")) {
		X509_STORE_CTX_free(ctx);
		return CMS_ERROR;
	}
	if (X509_verify_cert(ctx) != 1) {
		int e = X509_STORE_CTX_get_error(ctx);

		st = map_verify_error(e);
		*reason = path_reason(e, st, true);
		X509_STORE_CTX_free(ctx);
		return st;
	}
	/* The smime_sign purpose checks keyUsage; insist on it explicitly
	 * too, since a missing check here would accept encryption-only
	 * certificates as signers. */
	ku = (int)X509_get_key_usage(signer);
	if (!(ku & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION))) {
		*reason = "signer key usage does not allow signing";
		X509_STORE_CTX_free(ctx);
		return CMS_UNTRUSTED;
	}
	/* Trust the result until the first certificate of the path expires,
	 * the CRLs are due, or the cache TTL runs out. */
	expires = now + CMS_CACHE_TTL;
	chain = X509_STORE_CTX_get0_chain(ctx);
	for (i = 0; i < sk_X509_num(chain); i++) {
		time_t na = cms_asn1_time(
		    X509_get0_notAfter(sk_X509_value(chain, i)));

		if (na < expires)
			expires = na;
	}
	if (k->have_crls && k->crl_next_update != 0 &&
	    k->crl_next_update < expires)
		expires = k->crl_next_update;
	X509_STORE_CTX_free(ctx);
	if (expires > now)
		cache_insert(k->cache, hash, expires);
	return CMS_OK;
}

/* Shape limits: a SignedData, detached as asked, few signers and certs. */
static enum cms_status
check_shape(CMS_ContentInfo *cms, int detached, X509 *extra,
    STACK_OF(X509) **certs, const char **reason)
{
	int nsi;

	if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed)
		return CMS_MALFORMED;
	if (detached != (CMS_is_detached(cms) == 1)) {
		*reason = detached ? "signature is not detached" :
		    "signature has no content";
		return CMS_MALFORMED;
	}
	nsi = sk_CMS_SignerInfo_num(CMS_get0_SignerInfos(cms));
	if (nsi < 1 || nsi > CMS_MAX_SIGNERS) {
		*reason = "no signer or too many signers";
		return CMS_MALFORMED;
	}
	/* None at all is fine when the signer's may come from elsewhere. */
	if ((*certs = CMS_get1_certs(cms)) == NULL && (extra == NULL ||
	    (*certs = sk_X509_new_null()) == NULL)) {
		*reason = "no certificates in SignedData";
		return CMS_UNTRUSTED;
	}
	if (sk_X509_num(*certs) > CMS_MAX_CERTS) {
		*reason = "too many certificates";
		return CMS_MALFORMED;
	}
	if (extra != NULL) {
		if (!X509_up_ref(extra))
			return CMS_ERROR;
		if (!sk_X509_push(*certs, extra)) {
			X509_free(extra);
			return CMS_ERROR;
		}
	}
	return CMS_OK;
}

/* MD5, SHA-1 and anything unknown are refused before any maths. */
static enum cms_status
check_algorithms(STACK_OF(CMS_SignerInfo) *sis, const char **reason)
{
	X509_ALGOR *dig, *sig;
	const ASN1_OBJECT *obj;
	int i;

	for (i = 0; i < sk_CMS_SignerInfo_num(sis); i++) {
		dig = sig = NULL;
		CMS_SignerInfo_get0_algs(sk_CMS_SignerInfo_value(sis, i),
		    NULL, NULL, &dig, &sig);
		X509_ALGOR_get0(&obj, NULL, NULL, dig);
		if (!strong_digest(OBJ_obj2nid(obj))) {
			*reason = "weak or unknown digest algorithm";
			return CMS_WEAK_ALGORITHM;
		}
		X509_ALGOR_get0(&obj, NULL, NULL, sig);
		if (!strong_sigalg(OBJ_obj2nid(obj))) {
			*reason = "weak or unknown signature algorithm";
			return CMS_WEAK_ALGORITHM;
		}
	}
	return CMS_OK;
}

static X509 *
signer_cert(STACK_OF(CMS_SignerInfo) *sis, int i)
{
	X509 *signer = NULL;

	CMS_SignerInfo_get0_algs(sk_CMS_SignerInfo_value(sis, i), NULL,
	    &signer, NULL, NULL);
	return signer;
}

/* Each signer's certificate must be among those the SignedData carries,
 * or be the extra one (NULL: none). */
static enum cms_status
find_signers(CMS_ContentInfo *cms, STACK_OF(CMS_SignerInfo) *sis,
    X509 *extra, const char **reason)
{
	STACK_OF(X509) *scerts = NULL;
	int i, r;

	*reason = "signer certificate not found";
	if (extra != NULL && ((scerts = sk_X509_new_null()) == NULL ||
	    !sk_X509_push(scerts, extra))) {
		sk_X509_free(scerts);
		return CMS_ERROR;
	}
	r = CMS_set1_signers_certs(cms, scerts, 0);
	sk_X509_free(scerts); /* the signers took their own references */
	if (r < 0)
		return CMS_UNTRUSTED;
	for (i = 0; i < sk_CMS_SignerInfo_num(sis); i++)
		if (signer_cert(sis, i) == NULL)
			return CMS_UNTRUSTED;
	return CMS_OK;
}

/*
 * Detached content for CMS_verify(), as a read-only memory BIO behind a
 * null filter; free with BIO_free_all(). Why not the memory BIO itself:
 * CMS_verify() (OpenSSL 3.0.19 as Debian 12 ships it, and upstream's code
 * alike) copies the content of a BIO_TYPE_MEM BIO into a memory BIO of its
 * own, and when CMS_dataInit() then fails (for an unknown digest in the
 * digestAlgorithms set, which the sender chooses) its error path frees
 * neither: ~270 bytes leaked per signed request, found by fuzz_cms. A BIO
 * of any other type is used as it is, nothing allocated on our behalf.
 * The filter costs one call per read.
 */
BIO *
cms_content_bio(const uint8_t *data, size_t len)
{
	BIO *mem, *filter;

	if (len > INT_MAX || (mem = BIO_new_mem_buf(data, (int)len)) == NULL)
		return NULL;
	if ((filter = BIO_new(BIO_f_null())) == NULL) {
		BIO_free(mem);
		return NULL;
	}
	return BIO_push(filter, mem);
}

/* The signature maths only; paths are validated by us (and cached). */
static enum cms_status
check_signature(CMS_ContentInfo *cms, const uint8_t *data, size_t len,
    BIO *bout, const char **reason)
{
	BIO *dcont = NULL;
	enum cms_status st = CMS_OK;

	if (data != NULL && len > (size_t)CMS_MAX_DER * 4) {
		*reason = "signed data too large";
		return CMS_MALFORMED;
	}
	if (data != NULL && (dcont = cms_content_bio(data, len)) == NULL)
		return CMS_ERROR;
	if (CMS_verify(cms, NULL, NULL, dcont, bout,
	    CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) != 1) {
		*reason = "signature does not verify";
		st = CMS_BAD_SIGNATURE;
	}
	BIO_free_all(dcont);
	return st;
}

/* Every signer must pass; the first one is described to the caller. */
/* The signingTime attribute, or 0. */
static time_t
signing_time(CMS_SignerInfo *si)
{
	int idx = CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1);
	X509_ATTRIBUTE *a = idx >= 0 ? CMS_signed_get_attr(si, idx) : NULL;
	ASN1_TYPE *t = a != NULL ? X509_ATTRIBUTE_get0_type(a, 0) : NULL;

	if (t == NULL || (t->type != V_ASN1_UTCTIME &&
	    t->type != V_ASN1_GENERALIZEDTIME))
		return 0;
	return cms_asn1_time(t->type == V_ASN1_UTCTIME ? t->value.utctime :
	    t->value.generalizedtime);
}

static enum cms_status
validate_signers(const struct cms_keys *k, STACK_OF(CMS_SignerInfo) *sis,
    STACK_OF(X509) *certs, struct cms_signer *out, const char **reason)
{
	enum cms_status st;
	bool cached;
	int i;

	for (i = 0; i < sk_CMS_SignerInfo_num(sis); i++) {
		cached = false;
		st = validate_signer(k, signer_cert(sis, i), certs, &cached,
		    reason);
		if (st != CMS_OK)
			return st;
		if (i == 0 && out != NULL) {
			describe(signer_cert(sis, i), out);
			out->from_cache = cached;
			out->signing_time = signing_time(
			    sk_CMS_SignerInfo_value(sis, i));
		}
	}
	return CMS_OK;
}

static enum cms_status
verify(const struct cms_keys *k, const uint8_t *sig_der, size_t len,
    const uint8_t *detached_data, size_t data_len, X509 *extra,
    struct cms_signer *out, uint8_t **content, size_t *content_len,
    const char **reason)
{
	CMS_ContentInfo *cms = NULL;
	STACK_OF(CMS_SignerInfo) *sis;
	STACK_OF(X509) *certs = NULL;
	BIO *bout = NULL;
	const char *dummy_reason;
	enum cms_status st = CMS_MALFORMED;

	if (reason == NULL)
		reason = &dummy_reason;
	*reason = "malformed SignedData";
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (content != NULL)
		*content = NULL;
	if (content_len != NULL)
		*content_len = 0;
	if (k == NULL)
		return CMS_ERROR;
	if ((cms = cms_parse(sig_der, len)) == NULL)
		goto out;
	if ((st = check_shape(cms, detached_data != NULL, extra, &certs,
	    reason)) != CMS_OK)
		goto out;
	sis = CMS_get0_SignerInfos(cms);
	if ((st = check_algorithms(sis, reason)) != CMS_OK ||
	    (st = find_signers(cms, sis, extra, reason)) != CMS_OK)
		goto out;
	if (content != NULL && detached_data == NULL &&
	    (bout = BIO_new(BIO_s_secmem())) == NULL) {
		st = CMS_ERROR;
		goto out;
	}
	if ((st = check_signature(cms, detached_data, data_len, bout,
	    reason)) != CMS_OK ||
	    (st = validate_signers(k, sis, certs, out, reason)) != CMS_OK)
		goto out;
	if (bout != NULL && !cms_take_bio(bout, content, content_len)) {
		st = CMS_ERROR;
		goto out;
	}
	*reason = "ok";
out:
	if (st != CMS_OK && out != NULL)
		memset(out, 0, sizeof(*out));
	cms_wipe_bio(bout);
	sk_X509_pop_free(certs, X509_free);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return st;
}

/* RSA keys are encrypted to by key transport, EC keys by agreement. */
static bool
allows_encryption(X509 *x, const char **reason)
{
	uint32_t ku = X509_get_key_usage(x);
	EVP_PKEY *pk = X509_get0_pubkey(x);

	if (pk == NULL) {
		*reason = "no public key";
		return false;
	}
	if (EVP_PKEY_is_a(pk, "RSA")) {
		if (ku & KU_KEY_ENCIPHERMENT)
			return true;
		*reason = "key usage does not allow keyEncipherment";
	} else if (EVP_PKEY_is_a(pk, "EC")) {
		if (ku & KU_KEY_AGREEMENT)
			return true;
		*reason = "key usage does not allow keyAgreement";
	} else {
		*reason = "neither an RSA nor an EC key";
	}
	return false;
}

static enum cms_status check_cert(const struct cms_keys *k,
    const uint8_t *der, size_t len, STACK_OF(X509) *untrusted,
    struct cms_signer *out, const char **reason);

enum cms_status
cms_cert_check(const struct cms_keys *k, const uint8_t *der, size_t len,
    struct cms_signer *out, const char **reason)
{
	return check_cert(k, der, len, NULL, out, reason);
}

enum cms_status
cms_cert_check_chain(const struct cms_keys *k, const uint8_t *der,
    size_t len, const uint8_t *sig_der, size_t sig_len,
    struct cms_signer *out, const char **reason)
{
	CMS_ContentInfo *cms = NULL;
	STACK_OF(X509) *certs = NULL;
	enum cms_status st;

	/* What does not parse, or carries no or too many certificates,
	 * gives no intermediates: the check goes on without them. */
	if (sig_der != NULL && (cms = cms_parse(sig_der, sig_len)) != NULL &&
	    (certs = CMS_get1_certs(cms)) != NULL &&
	    sk_X509_num(certs) > CMS_MAX_CERTS) {
		sk_X509_pop_free(certs, X509_free);
		certs = NULL;
	}
	CMS_ContentInfo_free(cms);
	st = check_cert(k, der, len, certs, out, reason);
	sk_X509_pop_free(certs, X509_free);
	return st;
}

static enum cms_status
check_cert(const struct cms_keys *k, const uint8_t *der, size_t len,
    STACK_OF(X509) *untrusted, struct cms_signer *out, const char **reason)
{
	const unsigned char *p = der;
	X509 *x = NULL;
	X509_STORE_CTX *ctx = NULL;
	const char *dummy;
	enum cms_status st = CMS_MALFORMED;
	int e;

	if (reason == NULL)
		reason = &dummy;
	*reason = "malformed certificate";
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (k == NULL || der == NULL || len > CMS_MAX_DER)
		return CMS_ERROR;
	/* Exactly one certificate, nothing after it. */
	if ((x = d2i_X509(NULL, &p, (long)len)) == NULL || p != der + len)
		goto out;
	st = CMS_ERROR;
	if ((ctx = X509_STORE_CTX_new()) == NULL ||
	    !X509_STORE_CTX_init(ctx, k->store, x, untrusted))
		goto out;
	if (X509_verify_cert(ctx) != 1) {
		e = X509_STORE_CTX_get_error(ctx);
		st = map_verify_error(e);
		*reason = path_reason(e, st, false);
		goto out;
	}
	st = CMS_UNTRUSTED;
	if (!allows_encryption(x, reason))
		goto out;
	if (out != NULL)
		describe(x, out);
	*reason = "ok";
	st = CMS_OK;
out:
	X509_STORE_CTX_free(ctx);
	X509_free(x);
	ERR_clear_error();
	return st;
}

enum cms_status
cms_verify(const struct cms_keys *k, const uint8_t *sig_der, size_t len,
    const uint8_t *detached_data, size_t data_len, struct cms_signer *out,
    uint8_t **content, size_t *content_len, const char **reason)
{
	return verify(k, sig_der, len, detached_data, data_len, NULL, out,
	    content, content_len, reason);
}

enum cms_status
cms_verify_with(const struct cms_keys *k, const uint8_t *sig_der,
    size_t len, const uint8_t *detached_data, size_t data_len,
    const uint8_t *cert_der, size_t cert_len, struct cms_signer *out,
    const char **reason)
{
	const unsigned char *q = cert_der;
	X509 *x;
	enum cms_status st;
	const char *dummy_reason;

	if (reason == NULL)
		reason = &dummy_reason;
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (detached_data == NULL || cert_der == NULL || cert_len == 0 ||
	    cert_len > CMS_MAX_DER) {
		*reason = "no detached content or certificate";
		return CMS_MALFORMED;
	}
	if ((x = d2i_X509(NULL, &q, (long)cert_len)) == NULL ||
	    q != cert_der + cert_len) {
		X509_free(x);
		ERR_clear_error();
		*reason = "certificate does not parse";
		return CMS_MALFORMED;
	}
	st = verify(k, sig_der, len, detached_data, data_len, x, out, NULL,
	    NULL, reason);
	X509_free(x);
	return st;
}
