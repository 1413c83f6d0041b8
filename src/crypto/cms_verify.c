/*
 * cms.c - CMS decrypt/verify/encrypt/sign on OpenSSL 3 (see cms.h).
 *
 * OpenSSL 3.0 notes (design notes section 3, digest 5.4):
 * - CMS_decrypt() is always given the recipient certificate. With a NULL
 *   certificate OpenSSL tries every KeyTrans recipient and, on failure,
 *   decrypts with a random key: slower, and the result is garbage rather
 *   than an error.
 * - CMS_decrypt() keeps per-recipient state in the parsed structure, so
 *   each further key is tried on a freshly parsed copy.
 * - CMS_BINARY everywhere: SIP bodies are binary, no MIME canonicalisation.
 * - Signer certificates are path-validated here, not by CMS_verify(), so
 *   the result can be cached and the X509 error mapped to a status.
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crypto/cms.h"
#include "crypto/sigtemplate.h"

struct cache_entry {
	uint8_t hash[32];
	time_t expires;  /* 0: slot empty */
};

struct chain_cache {
	pthread_mutex_t lock;
	struct cache_entry e[CMS_CACHE_SIZE];
	size_t next;     /* round-robin replacement */
	unsigned long hits, misses;
};

/* Content-encryption algorithms cms_decrypt() can be told to accept; bit i
 * of cms_keys.ciphers stands for content_nids[i]. */
static const int content_nids[] = {
	NID_aes_128_cbc, NID_aes_192_cbc, NID_aes_256_cbc,
	NID_aes_128_gcm, NID_aes_192_gcm, NID_aes_256_gcm,
};
#define NCONTENT_NIDS (sizeof(content_nids) / sizeof(content_nids[0]))
#define ALL_CONTENT_NIDS ((1u << NCONTENT_NIDS) - 1)

struct cms_keys {
	unsigned ciphers;        /* allowed content encryption, by bit */
	size_t n;
	X509 *cert[CMS_MAX_KEYS];
	EVP_PKEY *pkey[CMS_MAX_KEYS];
	X509_STORE *store;
	bool have_crls;
	time_t crl_next_update;  /* earliest nextUpdate, 0 if none */
	struct chain_cache *cache;
};

struct cms_signing_key {
	X509 *cert;
	EVP_PKEY *pkey;
	STACK_OF(X509) *chain;
	struct sigtemplate *tpl; /* detached signatures, fast; NULL: CMS_sign */
};

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
static void
set_err(char *err, size_t errsz, const char *what, const char *file)
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

static time_t
asn1_to_time(const ASN1_TIME *t)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
		return 0;
	return timegm(&tm);
}

/* Read every PEM certificate in a file into sk; 0 if none or error. */
static int
read_certs(const char *file, STACK_OF(X509) *sk)
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

static X509 *
read_cert(const char *file)
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

static EVP_PKEY *
read_key(const char *file)
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
		time_t nu = asn1_to_time(X509_CRL_get0_nextUpdate(c));

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
		set_err(err, errsz, "too many decryption keys", NULL);
		return NULL;
	}
	if ((k = calloc(1, sizeof(*k))) == NULL ||
	    (k->cache = calloc(1, sizeof(*k->cache))) == NULL) {
		free(k);
		set_err(err, errsz, "out of memory", NULL);
		return NULL;
	}
	if (pthread_mutex_init(&k->cache->lock, NULL) != 0) {
		free(k->cache);
		free(k);
		set_err(err, errsz, "mutex", NULL);
		return NULL;
	}
	k->ciphers = ALL_CONTENT_NIDS;
	for (i = 0; i < n; i++) {
		k->cert[i] = read_cert(cert_files[i]);
		if (k->cert[i] == NULL) {
			set_err(err, errsz, "cannot read certificate",
			    cert_files[i]);
			goto fail;
		}
		k->pkey[i] = read_key(key_files[i]);
		k->n = i + 1;
		if (k->pkey[i] == NULL) {
			set_err(err, errsz, "cannot read private key",
			    key_files[i]);
			goto fail;
		}
		if (!X509_check_private_key(k->cert[i], k->pkey[i])) {
			set_err(err, errsz,
			    "private key does not match certificate",
			    key_files[i]);
			goto fail;
		}
	}
	if ((k->store = X509_STORE_new()) == NULL) {
		set_err(err, errsz, "out of memory", NULL);
		goto fail;
	}
	for (i = 0; i < nca; i++) {
		STACK_OF(X509) *sk = sk_X509_new_null();
		int j, cnt = sk ? read_certs(ca_files[i], sk) : 0;

		for (j = 0; j < cnt; j++)
			if (!X509_STORE_add_cert(k->store,
			    sk_X509_value(sk, j)))
				cnt = 0;
		sk_X509_pop_free(sk, X509_free);
		if (cnt == 0) {
			set_err(err, errsz, "cannot read trust anchors",
			    ca_files[i]);
			goto fail;
		}
	}
	for (i = 0; i < ncrl; i++) {
		if (load_crls(k->store, crl_files[i], &k->crl_next_update)
		    == 0) {
			set_err(err, errsz, "cannot read CRL", crl_files[i]);
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
static unsigned
content_bit(int nid)
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
		if ((bit = content_bit(nid)) == 0) {
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

/* Parse a whole blob; trailing bytes make it invalid. */
static CMS_ContentInfo *
parse(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	CMS_ContentInfo *cms;

	if (der == NULL || len == 0 || len > CMS_MAX_DER)
		return NULL;
	cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
	if (cms != NULL && p != der + len) {
		CMS_ContentInfo_free(cms);
		cms = NULL;
	}
	return cms;
}

/* Does some RecipientInfo of cms name this certificate? */
static bool
names_recipient(CMS_ContentInfo *cms, X509 *cert)
{
	STACK_OF(CMS_RecipientInfo) *ris = CMS_get0_RecipientInfos(cms);
	int i, j;

	for (i = 0; i < sk_CMS_RecipientInfo_num(ris); i++) {
		CMS_RecipientInfo *ri = sk_CMS_RecipientInfo_value(ris, i);
		STACK_OF(CMS_RecipientEncryptedKey) *reks;

		switch (CMS_RecipientInfo_type(ri)) {
		case CMS_RECIPINFO_TRANS:
			if (CMS_RecipientInfo_ktri_cert_cmp(ri, cert) == 0)
				return true;
			break;
		case CMS_RECIPINFO_AGREE:
			reks = CMS_RecipientInfo_kari_get0_reks(ri);
			for (j = 0; j < sk_CMS_RecipientEncryptedKey_num(reks);
			    j++)
				if (CMS_RecipientEncryptedKey_cert_cmp(
				    sk_CMS_RecipientEncryptedKey_value(reks, j),
				    cert) == 0)
					return true;
			break;
		default:
			break;
		}
	}
	return false;
}

/* Recipients named: one per RecipientInfo, except that one KeyAgree
 * RecipientInfo may name many (one RecipientEncryptedKey each). */
static int
count_recipients(CMS_ContentInfo *cms)
{
	STACK_OF(CMS_RecipientInfo) *ris = CMS_get0_RecipientInfos(cms);
	int i, n = 0;

	for (i = 0; i < sk_CMS_RecipientInfo_num(ris); i++) {
		CMS_RecipientInfo *ri = sk_CMS_RecipientInfo_value(ris, i);

		if (CMS_RecipientInfo_type(ri) == CMS_RECIPINFO_AGREE)
			n += sk_CMS_RecipientEncryptedKey_num(
			    CMS_RecipientInfo_kari_get0_reks(ri));
		else
			n++;
		if (n > CMS_MAX_RECIPIENTS)
			break;
	}
	return n;
}

/* Copy a (secure) memory BIO's contents out, then wipe the BIO. */
static bool
take_bio(BIO *out, uint8_t **buf, size_t *len)
{
	BUF_MEM *bm = NULL;
	bool ok = false;

	BIO_get_mem_ptr(out, &bm);
	if (bm == NULL)
		return false;
	if ((*buf = malloc(bm->length ? bm->length : 1)) != NULL) {
		if (bm->length > 0)
			memcpy(*buf, bm->data, bm->length);
		*len = bm->length;
		ok = true;
	}
	if (bm->data != NULL)
		OPENSSL_cleanse(bm->data, bm->max);
	return ok;
}

static void
wipe_bio(BIO *out)
{
	BUF_MEM *bm = NULL;

	if (out == NULL)
		return;
	BIO_get_mem_ptr(out, &bm);
	if (bm != NULL && bm->data != NULL)
		OPENSSL_cleanse(bm->data, bm->max);
	BIO_free(out);
}

/*
 * A bounded BER walk, to read the content-encryption algorithm OpenSSL 3.0
 * gives no getter for. Input may use indefinite lengths (BER as written by
 * streaming encoders); every read stays within the enclosing element.
 */
#define BER_MAX_DEPTH 32

struct tlv {
	const unsigned char *start; /* first header byte */
	const unsigned char *val;   /* first content byte */
	const unsigned char *end;   /* one past the contents; for an
	                               indefinite length, the enclosing bound */
	int tag, cls;
	bool cons, inf;
};

/* Read the header at p, which must lie before end. */
static bool
ber_header(const unsigned char *p, const unsigned char *end, struct tlv *t)
{
	const unsigned char *q = p;
	long len = 0;
	int r;

	if (p == NULL || p >= end)
		return false;
	r = ASN1_get_object(&q, &len, &t->tag, &t->cls, (long)(end - p));
	if (r & 0x80)
		return false;
	t->start = p;
	t->val = q;
	t->cons = (r & V_ASN1_CONSTRUCTED) != 0;
	t->inf = (r & 1) != 0;
	if (q > end || (t->inf && !t->cons))
		return false;
	if (t->inf)
		t->end = end;
	else {
		if (len < 0 || len > end - q)
			return false;
		t->end = q + len;
	}
	return true;
}

/* One past the element t (read within end); NULL if malformed. */
static const unsigned char *
ber_skip(const struct tlv *t, const unsigned char *end, int depth)
{
	const unsigned char *p;
	struct tlv c;

	if (!t->inf)
		return t->end;
	if (depth >= BER_MAX_DEPTH)
		return NULL;
	/* Children until the end-of-contents octets; each one consumes at
	 * least two bytes, so this ends. */
	for (p = t->val;;) {
		if (end - p >= 2 && p[0] == 0 && p[1] == 0)
			return p + 2;
		if (!ber_header(p, end, &c) ||
		    (p = ber_skip(&c, end, depth + 1)) == NULL)
			return NULL;
	}
}

static bool
ber_is(const struct tlv *t, int cls, int tag, bool cons)
{
	return t->cls == cls && t->tag == tag && t->cons == cons;
}

static int
ber_oid_nid(const struct tlv *t)
{
	const unsigned char *q = t->start;
	ASN1_OBJECT *o;
	int nid;

	if (!ber_is(t, V_ASN1_UNIVERSAL, V_ASN1_OBJECT, false))
		return NID_undef;
	if ((o = d2i_ASN1_OBJECT(NULL, &q, (long)(t->end - t->start)))
	    == NULL)
		return NID_undef;
	nid = OBJ_obj2nid(o);
	ASN1_OBJECT_free(o);
	return nid;
}

/*
 * The content-encryption algorithm of an EnvelopedData or
 * AuthEnvelopedData, or NID_undef:
 *   ContentInfo ::= SEQUENCE { contentType OID, content [0] EXPLICIT
 *     [Auth]EnvelopedData ::= SEQUENCE { version INTEGER,
 *       originatorInfo [0] IMPLICIT OPTIONAL, recipientInfos SET,
 *       [Auth]EncryptedContentInfo ::= SEQUENCE { contentType OID,
 *         contentEncryptionAlgorithm SEQUENCE { OID, params }, ... } ... } }
 */
static int
content_cipher_nid(const uint8_t *der, size_t len)
{
	const unsigned char *p = der, *end = der + len;
	struct tlv t;
	int nid;

	/* ContentInfo */
	if (!ber_header(p, end, &t) ||
	    !ber_is(&t, V_ASN1_UNIVERSAL, V_ASN1_SEQUENCE, true))
		return NID_undef;
	end = t.end;
	if (!ber_header(t.val, end, &t))
		return NID_undef;
	nid = ber_oid_nid(&t);
	if (nid != NID_pkcs7_enveloped &&
	    nid != NID_id_smime_ct_authEnvelopedData)
		return NID_undef;
	if (!ber_header(t.end, end, &t) ||
	    !ber_is(&t, V_ASN1_CONTEXT_SPECIFIC, 0, true))
		return NID_undef;
	/* [Auth]EnvelopedData */
	end = t.end;
	if (!ber_header(t.val, end, &t) ||
	    !ber_is(&t, V_ASN1_UNIVERSAL, V_ASN1_SEQUENCE, true))
		return NID_undef;
	end = t.end;
	if (!ber_header(t.val, end, &t) ||
	    !ber_is(&t, V_ASN1_UNIVERSAL, V_ASN1_INTEGER, false))
		return NID_undef;
	if (!ber_header(t.end, end, &t))
		return NID_undef;
	if (ber_is(&t, V_ASN1_CONTEXT_SPECIFIC, 0, true) &&
	    ((p = ber_skip(&t, end, 0)) == NULL || !ber_header(p, end, &t)))
		return NID_undef;
	if (!ber_is(&t, V_ASN1_UNIVERSAL, V_ASN1_SET, true) ||
	    (p = ber_skip(&t, end, 0)) == NULL)
		return NID_undef;
	/* [Auth]EncryptedContentInfo */
	if (!ber_header(p, end, &t) ||
	    !ber_is(&t, V_ASN1_UNIVERSAL, V_ASN1_SEQUENCE, true))
		return NID_undef;
	end = t.end;
	if (!ber_header(t.val, end, &t) ||
	    !ber_is(&t, V_ASN1_UNIVERSAL, V_ASN1_OBJECT, false))
		return NID_undef;
	/* contentEncryptionAlgorithm */
	if (!ber_header(t.end, end, &t) ||
	    !ber_is(&t, V_ASN1_UNIVERSAL, V_ASN1_SEQUENCE, true))
		return NID_undef;
	end = t.end;
	if (!ber_header(t.val, end, &t))
		return NID_undef;
	return ber_oid_nid(&t);
}

enum cms_status
cms_decrypt(const struct cms_keys *k, const uint8_t *der, size_t len,
    uint8_t **plain, size_t *plain_len)
{
	CMS_ContentInfo *cms = NULL;
	bool used = false;
	int nid, nri;
	size_t i;
	enum cms_status st = CMS_UNDECIPHERABLE;

	*plain = NULL;
	*plain_len = 0;
	if (k == NULL || (cms = parse(der, len)) == NULL)
		goto out;
	nid = OBJ_obj2nid(CMS_get0_type(cms));
	if (nid != NID_pkcs7_enveloped &&
	    nid != NID_id_smime_ct_authEnvelopedData)
		goto out;
	/* Before any private-key operation. */
	if ((content_bit(content_cipher_nid(der, len)) & k->ciphers) == 0)
		goto out;
	if ((nri = count_recipients(cms)) < 1 || nri > CMS_MAX_RECIPIENTS)
		goto out;
	for (i = 0; i < k->n && st != CMS_OK; i++) {
		BIO *bout;

		if (!names_recipient(cms, k->cert[i]))
			continue;
		if (used) {
			/* CMS_decrypt() left state behind: start afresh. */
			CMS_ContentInfo_free(cms);
			if ((cms = parse(der, len)) == NULL)
				goto out;
		}
		used = true;
		if ((bout = BIO_new(BIO_s_secmem())) == NULL)
			goto out;
		if (CMS_decrypt(cms, k->pkey[i], k->cert[i], NULL, bout,
		    CMS_BINARY) == 1 && take_bio(bout, plain, plain_len))
			st = CMS_OK;
		wipe_bio(bout);
	}
out:
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return st;
}

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
	out->not_after = asn1_to_time(X509_get0_notAfter(x));
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
		time_t na = asn1_to_time(
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
check_shape(CMS_ContentInfo *cms, int detached, STACK_OF(X509) **certs,
    const char **reason)
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
	if ((*certs = CMS_get1_certs(cms)) == NULL) {
		*reason = "no certificates in SignedData";
		return CMS_UNTRUSTED;
	}
	if (sk_X509_num(*certs) > CMS_MAX_CERTS) {
		*reason = "too many certificates";
		return CMS_MALFORMED;
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

/* Each signer's certificate must be among those the SignedData carries. */
static enum cms_status
find_signers(CMS_ContentInfo *cms, STACK_OF(CMS_SignerInfo) *sis,
    const char **reason)
{
	int i;

	*reason = "signer certificate not found";
	if (CMS_set1_signers_certs(cms, NULL, 0) < 0)
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
static BIO *
content_bio(const uint8_t *data, size_t len)
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
	if (data != NULL && (dcont = content_bio(data, len)) == NULL)
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
	return asn1_to_time(t->type == V_ASN1_UTCTIME ? t->value.utctime :
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

enum cms_status
cms_verify(const struct cms_keys *k, const uint8_t *sig_der, size_t len,
    const uint8_t *detached_data, size_t data_len, struct cms_signer *out,
    uint8_t **content, size_t *content_len, const char **reason)
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
	if ((cms = parse(sig_der, len)) == NULL)
		goto out;
	if ((st = check_shape(cms, detached_data != NULL, &certs,
	    reason)) != CMS_OK)
		goto out;
	sis = CMS_get0_SignerInfos(cms);
	if ((st = check_algorithms(sis, reason)) != CMS_OK ||
	    (st = find_signers(cms, sis, reason)) != CMS_OK)
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
	if (bout != NULL && !take_bio(bout, content, content_len)) {
		st = CMS_ERROR;
		goto out;
	}
	*reason = "ok";
out:
	if (st != CMS_OK && out != NULL)
		memset(out, 0, sizeof(*out));
	wipe_bio(bout);
	sk_X509_pop_free(certs, X509_free);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return st;
}

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
		set_err(err, errsz, "bad recipient count or size", NULL);
		return CMS_ERROR;
	}
	cms = CMS_encrypt(NULL, NULL,
	    gcm ? EVP_aes_128_gcm() : EVP_aes_128_cbc(), flags);
	if (cms == NULL) {
		set_err(err, errsz, "CMS_encrypt", NULL);
		goto out;
	}
	for (i = 0; i < n; i++) {
		X509 *x = read_cert(files[i]);
		CMS_RecipientInfo *ri;

		if (x == NULL) {
			set_err(err, errsz, "cannot read certificate",
			    files[i]);
			goto out;
		}
		ri = CMS_add1_recipient_cert(cms, x, flags | CMS_KEY_PARAM);
		if (ri == NULL || !tune_recipient(ri, x)) {
			X509_free(x);
			set_err(err, errsz, "cannot add recipient", files[i]);
			goto out;
		}
		X509_free(x);
	}
	if ((in = BIO_new_mem_buf(plain, (int)plain_len)) == NULL ||
	    CMS_final(cms, in, NULL, flags) != 1) {
		set_err(err, errsz, "cannot encrypt", NULL);
		goto out;
	}
	if ((out = BIO_new(BIO_s_mem())) == NULL ||
	    i2d_CMS_bio(out, cms) != 1 || !bio_to_buf(out, der, der_len)) {
		set_err(err, errsz, "cannot encode", NULL);
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
	X509 *x = read_cert(file);
	int n;

	*der = NULL;
	*len = 0;
	if (x == NULL) {
		set_err(err, errsz, "cannot read certificate", file);
		return -1;
	}
	n = der_copy(x, der, len);
	X509_free(x);
	if (n != 0)
		set_err(err, errsz, "cannot encode certificate", file);
	return n;
}

static struct sigtemplate *make_template(const struct cms_signing_key *sk);
static enum cms_status sign_full(const struct cms_signing_key *sk,
    const uint8_t *data, size_t len, bool detached, uint8_t **der,
    size_t *der_len);

struct cms_signing_key *
cms_signing_key_load(const char *cert_file, const char *key_file,
    const char *const *chain_files, size_t nchain, char *err, size_t errsz)
{
	struct cms_signing_key *sk = calloc(1, sizeof(*sk));
	size_t i;

	if (err != NULL && errsz > 0)
		err[0] = '\0';
	if (sk == NULL || (sk->chain = sk_X509_new_null()) == NULL) {
		free(sk);
		set_err(err, errsz, "out of memory", NULL);
		return NULL;
	}
	if ((sk->cert = read_cert(cert_file)) == NULL) {
		set_err(err, errsz, "cannot read certificate", cert_file);
		goto fail;
	}
	if ((sk->pkey = read_key(key_file)) == NULL) {
		set_err(err, errsz, "cannot read private key", key_file);
		goto fail;
	}
	if (!X509_check_private_key(sk->cert, sk->pkey)) {
		set_err(err, errsz, "private key does not match certificate",
		    key_file);
		goto fail;
	}
	for (i = 0; i < nchain; i++)
		if (read_certs(chain_files[i], sk->chain) == 0) {
			set_err(err, errsz, "cannot read chain",
			    chain_files[i]);
			goto fail;
		}
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
	unsigned int flags = CMS_BINARY | CMS_PARTIAL;

	*der = NULL;
	*der_len = 0;
	if (sk == NULL || len > CMS_MAX_DER * 4)
		return CMS_ERROR;
	if (detached)
		flags |= CMS_DETACHED;
	/* CMS_add1_signer() adds contentType, messageDigest and
	 * signingTime. Its default SMIMECapabilities list offers DES, 3DES
	 * and RC2, which digest 10.4 refuses: put our own list instead. */
	if ((cms = CMS_sign(NULL, NULL, sk->chain, NULL, flags)) == NULL ||
	    (si = CMS_add1_signer(cms, sk->cert, sk->pkey, EVP_sha256(),
	    flags | CMS_NOSMIMECAP)) == NULL)
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
	const unsigned char *q;

	if (!EVP_Digest(probe, sizeof(probe), sha, &n, EVP_sha256(), NULL) ||
	    sign_full(sk, probe, sizeof(probe), true, &der, &der_len) !=
	    CMS_OK ||
	    (t = sigtemplate_new(der, der_len, sha, sk->pkey)) == NULL ||
	    sigtemplate_sign(t, probe, sizeof(probe), &der2, &der2_len) == -1)
		goto fail;
	q = der2;
	if ((cms = d2i_CMS_ContentInfo(NULL, &q, (long)der2_len)) == NULL ||
	    (content = content_bio(probe, sizeof(probe))) == NULL ||
	    CMS_verify(cms, NULL, NULL, content, NULL, CMS_BINARY |
	    CMS_NO_SIGNER_CERT_VERIFY) != 1)
		goto fail;
	goto out;
fail:
	sigtemplate_free(t);
	t = NULL;
out:
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

enum cms_status
cms_cert_check(const struct cms_keys *k, const uint8_t *der, size_t len,
    struct cms_signer *out, const char **reason)
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
	    !X509_STORE_CTX_init(ctx, k->store, x, NULL))
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

int
cms_cert_write_pem(const uint8_t *der, size_t len, const char *path,
    char *err, size_t errsz)
{
	X509 *x = one_cert(der, len);
	BIO *b = NULL;
	int ok = 0;

	if (x == NULL)
		set_err(err, errsz, "not one DER certificate", NULL);
	else if ((b = BIO_new_file(path, "w")) == NULL)
		set_err(err, errsz, "cannot write", path);
	else if (!PEM_write_bio_X509(b, x) || BIO_flush(b) != 1)
		set_err(err, errsz, "cannot write", path);
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
