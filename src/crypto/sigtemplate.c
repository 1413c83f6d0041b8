/* sigtemplate.c - detached CMS signatures from a template (sigtemplate.h) */
#include "crypto/sigtemplate.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/objects.h>

#define SHA256_LEN 32
#define UTCTIME_LEN 13 /* YYMMDDHHMMSSZ */

/*
 * ContentInfo { contentType, [0] SignedData { <sd_prefix> signerInfos SET
 * { SignerInfo { <si_prefix> [0] signedAttrs, <sigalg>, signature } } } }
 */
struct sigtemplate {
	uint8_t *oid;      /* ContentInfo's contentType, whole TLV */
	size_t oid_len;
	uint8_t *sd_prefix; /* version .. certificates (and crls) */
	size_t sd_prefix_len;
	uint8_t *si_prefix; /* version, sid, digestAlgorithm */
	size_t si_prefix_len;
	uint8_t *attrs;    /* [0] IMPLICIT signedAttrs, whole TLV */
	size_t attrs_len;
	size_t digest_at;  /* offsets into attrs */
	size_t time_at;
	uint8_t *sigalg;   /* signatureAlgorithm, whole TLV */
	size_t sigalg_len;
	/*
	 * The key's signing context, made once and used for every
	 * signature under lock: the attributes are hashed here and the hash
	 * signed with EVP_PKEY_sign(). EVP_DigestSign() on a copied context
	 * duplicated the provider's context twice per signature (the copy,
	 * then DigestSignFinal's own), allocations that cost more than the
	 * hashing; fetching per signature cost a sixth of a challenge.
	 */
	EVP_PKEY_CTX *pctx;
	EVP_MD *sha256;    /* fetched once; NULL: EVP_sha256() */
	pthread_mutex_t lock;
	size_t sig_max;
};

struct der {
	const uint8_t *start, *val, *end; /* TLV, content, one past */
	int tag, cls;
};

/* One definite-length DER element at p (before end). */
static int
der_read(const uint8_t *p, const uint8_t *end, struct der *d)
{
	const unsigned char *q = p;
	long len;
	int r;

	if (p == NULL || p >= end)
		return -1;
	r = ASN1_get_object(&q, &len, &d->tag, &d->cls, (long)(end - p));
	if ((r & 0x80) || (r & 1) || len < 0 || len > end - q)
		return -1;
	d->start = p;
	d->val = q;
	d->end = q + len;
	return 0;
}

static uint8_t *
dup_bytes(const uint8_t *p, const uint8_t *end, size_t *len)
{
	uint8_t *c;

	*len = (size_t)(end - p);
	if ((c = malloc(*len ? *len : 1)) != NULL)
		memcpy(c, p, *len);
	return c;
}

static int
is_oid(const struct der *d, int nid)
{
	const unsigned char *q = d->start;
	ASN1_OBJECT *o;
	int n;

	if (d->cls != V_ASN1_UNIVERSAL || d->tag != V_ASN1_OBJECT ||
	    (o = d2i_ASN1_OBJECT(NULL, &q, d->end - d->start)) == NULL)
		return 0;
	n = OBJ_obj2nid(o);
	ASN1_OBJECT_free(o);
	return n == nid;
}

/* The signingTime value's content offset within attrs, or 0. */
static size_t
find_time(const uint8_t *attrs, const struct der *set)
{
	struct der a, oid, vals, v;
	const uint8_t *p;

	for (p = set->val; p < set->end; p = a.end) {
		if (der_read(p, set->end, &a) == -1 ||
		    der_read(a.val, a.end, &oid) == -1)
			return 0;
		if (!is_oid(&oid, NID_pkcs9_signingTime))
			continue;
		if (der_read(oid.end, a.end, &vals) == -1 ||
		    der_read(vals.val, vals.end, &v) == -1 ||
		    v.tag != V_ASN1_UTCTIME || v.end - v.val != UTCTIME_LEN)
			return 0;
		return (size_t)(v.val - attrs);
	}
	return 0;
}

/* The messageDigest value's offset within attrs, or 0. */
static size_t
find_digest(const uint8_t *attrs, size_t len, const uint8_t sha[32])
{
	size_t i, at = 0, n = 0;

	for (i = 0; i + SHA256_LEN <= len; i++)
		if (memcmp(attrs + i, sha, SHA256_LEN) == 0) {
			at = i;
			n++;
		}
	return n == 1 ? at : 0;
}

static int
take_signer(struct sigtemplate *t, const struct der *sis, const uint8_t sha[32])
{
	struct der si, f, attrs, sigalg, sig;
	const uint8_t *p;
	int i;

	if (der_read(sis->val, sis->end, &si) == -1 || si.end != sis->end)
		return -1; /* exactly one SignerInfo */
	for (p = si.val, i = 0; i < 3; i++, p = f.end)
		if (der_read(p, si.end, &f) == -1)
			return -1;
	if (der_read(p, si.end, &attrs) == -1 ||
	    attrs.cls != V_ASN1_CONTEXT_SPECIFIC || attrs.tag != 0 ||
	    der_read(attrs.end, si.end, &sigalg) == -1 ||
	    der_read(sigalg.end, si.end, &sig) == -1 ||
	    sig.tag != V_ASN1_OCTET_STRING || sig.end != si.end)
		return -1; /* no unsigned attributes either */
	t->si_prefix = dup_bytes(si.val, p, &t->si_prefix_len);
	t->attrs = dup_bytes(attrs.start, attrs.end, &t->attrs_len);
	t->sigalg = dup_bytes(sigalg.start, sigalg.end, &t->sigalg_len);
	if (t->si_prefix == NULL || t->attrs == NULL || t->sigalg == NULL)
		return -1;
	t->digest_at = find_digest(t->attrs, t->attrs_len, sha);
	t->time_at = find_time(attrs.start, &attrs);
	return t->digest_at != 0 && t->time_at != 0 ? 0 : -1;
}

/* encapContentInfo (the third field) holds only its content type. */
static int
detached(const struct der *sd)
{
	struct der f, oid;
	const uint8_t *p = sd->val;
	int i;

	for (i = 0; i < 3; i++, p = f.end)
		if (der_read(p, sd->end, &f) == -1)
			return 0;
	return f.tag == V_ASN1_SEQUENCE && der_read(f.val, f.end, &oid) == 0 &&
	    oid.end == f.end;
}

static int bind_key(struct sigtemplate *t, EVP_PKEY *pkey);

struct sigtemplate *
sigtemplate_new(const uint8_t *probe, size_t len,
    const uint8_t probe_sha256[32], EVP_PKEY *pkey)
{
	struct sigtemplate *t = calloc(1, sizeof(*t));
	struct der ci, oid, ctx, sd, f, last;
	const uint8_t *p, *end = probe + len;

	if (t == NULL)
		return NULL;
	pthread_mutex_init(&t->lock, NULL);
	t->sha256 = EVP_MD_fetch(NULL, "SHA2-256", NULL);
	if (der_read(probe, end, &ci) == -1 ||
	    der_read(ci.val, ci.end, &oid) == -1 ||
	    !is_oid(&oid, NID_pkcs7_signed) ||
	    der_read(oid.end, ci.end, &ctx) == -1 ||
	    der_read(ctx.val, ctx.end, &sd) == -1)
		goto fail;
	if (!detached(&sd))
		goto fail;
	/* signerInfos is the last field of SignedData. */
	last.start = NULL;
	for (p = sd.val; p < sd.end; p = f.end) {
		if (der_read(p, sd.end, &f) == -1)
			goto fail;
		last = f;
	}
	if (last.start == NULL || last.tag != V_ASN1_SET)
		goto fail;
	t->oid = dup_bytes(oid.start, oid.end, &t->oid_len);
	t->sd_prefix = dup_bytes(sd.val, last.start, &t->sd_prefix_len);
	if (t->oid == NULL || t->sd_prefix == NULL ||
	    take_signer(t, &last, probe_sha256) == -1 ||
	    bind_key(t, pkey) == -1)
		goto fail;
	return t;
fail:
	sigtemplate_free(t);
	return NULL;
}

static int
bind_key(struct sigtemplate *t, EVP_PKEY *pkey)
{
	int size = EVP_PKEY_get_size(pkey);

	if (size <= 0 ||
	    (t->pctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL)
		return -1;
	/* The digest named: RSA then wraps the hash in a DigestInfo (PKCS#1
	 * v1.5), as CMS_sign() does; for ECDSA it is only checked. */
	if (EVP_PKEY_sign_init(t->pctx) != 1 ||
	    EVP_PKEY_CTX_set_signature_md(t->pctx, EVP_sha256()) != 1)
		return -1;
	t->sig_max = (size_t)size;
	return 0;
}

void
sigtemplate_free(struct sigtemplate *t)
{
	if (t == NULL)
		return;
	free(t->oid);
	free(t->sd_prefix);
	free(t->si_prefix);
	free(t->attrs);
	free(t->sigalg);
	EVP_PKEY_CTX_free(t->pctx);
	EVP_MD_free(t->sha256);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

static size_t
hdr_len(size_t len)
{
	return len < 0x80 ? 2 : len < 0x100 ? 3 : len < 0x10000 ? 4 : 5;
}

static uint8_t *
put_hdr(uint8_t *p, uint8_t tag, size_t len)
{
	size_t n = hdr_len(len) - 2, i;

	*p++ = tag;
	if (n == 0) {
		*p++ = (uint8_t)len;
		return p;
	}
	*p++ = (uint8_t)(0x80 | n);
	for (i = n; i > 0; i--)
		*p++ = (uint8_t)(len >> (8 * (i - 1)));
	return p;
}

static uint8_t *
put(uint8_t *p, const void *b, size_t n)
{
	memcpy(p, b, n);
	return p + n;
}

/* attrs with this signature's digest and time; attrs[0] gets the SET tag
 * while signing (RFC 5652 5.4: the signature covers the SET OF). */
/* attrs as they are signed (a SET): their hash, signed with the bound
 * context. 1 when *sig holds the signature. */
static int
sign_hash(struct sigtemplate *t, const EVP_MD *md, const uint8_t *attrs,
    uint8_t **sig, size_t *sig_len)
{
	uint8_t h[SHA256_LEN];
	unsigned int hlen = 0;
	int ok;

	if (!EVP_Digest(attrs, t->attrs_len, h, &hlen, md, NULL) ||
	    hlen != SHA256_LEN || (*sig = malloc(t->sig_max)) == NULL)
		return 0;
	*sig_len = t->sig_max;
	pthread_mutex_lock(&t->lock);
	ok = EVP_PKEY_sign(t->pctx, *sig, sig_len, h, SHA256_LEN) == 1;
	pthread_mutex_unlock(&t->lock);
	return ok;
}

static int
sign_attrs(struct sigtemplate *t, uint8_t *attrs, const uint8_t *data,
    size_t len, uint8_t **sig, size_t *sig_len)
{
	const EVP_MD *md = t->sha256 != NULL ? t->sha256 : EVP_sha256();
	unsigned int dlen = 0;
	time_t now = time(NULL);
	struct tm tm;
	char ts[UTCTIME_LEN + 1];
	int ok;

	if (!EVP_Digest(data, len, attrs + t->digest_at, &dlen, md, NULL) ||
	    dlen != SHA256_LEN || gmtime_r(&now, &tm) == NULL ||
	    tm.tm_year >= 150 || strftime(ts, sizeof(ts), "%y%m%d%H%M%SZ",
	    &tm) != UTCTIME_LEN)
		return -1;
	memcpy(attrs + t->time_at, ts, UTCTIME_LEN);
	attrs[0] = 0x31;
	*sig = NULL;
	ok = sign_hash(t, md, attrs, sig, sig_len);
	attrs[0] = 0xa0;
	if (!ok) {
		free(*sig);
		*sig = NULL;
	}
	return ok ? 0 : -1;
}

int
sigtemplate_sign(struct sigtemplate *t, const uint8_t *data, size_t len,
    uint8_t **der, size_t *der_len)
{
	uint8_t *attrs, *sig = NULL, *p;
	size_t sig_len = 0, os, si, sis, sd, ctx, ci;

	*der = NULL;
	*der_len = 0;
	if ((attrs = malloc(t->attrs_len)) == NULL)
		return -1;
	memcpy(attrs, t->attrs, t->attrs_len);
	if (sign_attrs(t, attrs, data, len, &sig, &sig_len) == -1) {
		free(attrs);
		return -1;
	}
	os = hdr_len(sig_len) + sig_len;
	si = t->si_prefix_len + t->attrs_len + t->sigalg_len + os;
	sis = hdr_len(si) + si;
	sd = t->sd_prefix_len + hdr_len(sis) + sis;
	ctx = hdr_len(sd) + sd;
	ci = t->oid_len + hdr_len(ctx) + ctx;
	if ((*der = p = malloc(hdr_len(ci) + ci)) != NULL) {
		p = put_hdr(p, 0x30, ci);
		p = put(p, t->oid, t->oid_len);
		p = put_hdr(p, 0xa0, ctx);
		p = put_hdr(p, 0x30, sd);
		p = put(p, t->sd_prefix, t->sd_prefix_len);
		p = put_hdr(p, 0x31, sis);
		p = put_hdr(p, 0x30, si);
		p = put(p, t->si_prefix, t->si_prefix_len);
		p = put(p, attrs, t->attrs_len);
		p = put(p, t->sigalg, t->sigalg_len);
		p = put_hdr(p, 0x04, sig_len);
		p = put(p, sig, sig_len);
		*der_len = (size_t)(p - *der);
	}
	free(attrs);
	free(sig);
	return *der != NULL ? 0 : -1;
}
