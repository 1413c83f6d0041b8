/*
 * cms_decrypt.c - opening an EnvelopedData or AuthEnvelopedData with one
 * of the proxy's keys, after bounded checks that cost no private-key
 * operation (content cipher allowed, recipient count, our certificate
 * named).
 */
#include "crypto/cms_private.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

/* Parse a whole blob; trailing bytes make it invalid. */
CMS_ContentInfo *
cms_parse(const uint8_t *der, size_t len)
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
bool
cms_take_bio(BIO *out, uint8_t **buf, size_t *len)
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

void
cms_wipe_bio(BIO *out)
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

/* A name in RFC 2253 form, non-ASCII escaped; "" when it cannot be
 * printed. Cut to fit. */
static void
dn_string(const X509_NAME *name, char *buf, size_t bufsz)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long n;

	buf[0] = '\0';
	if (b == NULL)
		return;
	if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0 &&
	    (n = BIO_get_mem_data(b, &data)) > 0)
		snprintf(buf, bufsz, "%.*s", (int)n, data);
	BIO_free(b);
}

static void
hex_string(const unsigned char *p, size_t n, char *buf, size_t bufsz)
{
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < n && o + 3 <= bufsz; i++, o += 2)
		snprintf(buf + o, bufsz - o, "%02x", p[i]);
}

/* A recipient as its RecipientInfo names it: by issuer and serial, or by
 * subject key identifier. */
static void
name_recipient(const ASN1_OCTET_STRING *keyid, const X509_NAME *issuer,
    const ASN1_INTEGER *serial, char *buf, size_t bufsz)
{
	/* Sized so that the result fits CMS_NAME_LEN: a longer issuer is
	 * cut; key identifiers and serials are at most 20 bytes. */
	char dn[128], hex[48];

	if (keyid != NULL) {
		hex_string(ASN1_STRING_get0_data(keyid),
		    (size_t)ASN1_STRING_length(keyid), hex, sizeof(hex));
		snprintf(buf, bufsz, "keyid=%s", hex);
		return;
	}
	dn_string(issuer, dn, sizeof(dn));
	hex[0] = '\0';
	if (serial != NULL)
		hex_string(ASN1_STRING_get0_data(serial),
		    (size_t)ASN1_STRING_length(serial), hex, sizeof(hex));
	snprintf(buf, bufsz, "issuer=%s serial=%s", dn, hex);
}

/* Ours: our certificate's subject. */
static bool
name_ours(const struct cms_keys *k, CMS_RecipientInfo *ri,
    CMS_RecipientEncryptedKey *rek, char *buf, size_t bufsz)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		if ((rek != NULL ?
		    CMS_RecipientEncryptedKey_cert_cmp(rek, k->cert[i]) :
		    CMS_RecipientInfo_ktri_cert_cmp(ri, k->cert[i])) == 0) {
			dn_string(X509_get_subject_name(k->cert[i]), buf,
			    bufsz);
			return true;
		}
	return false;
}

static void
add_recipient(struct cms_envelope *info, const char *fmt, const char *s)
{
	if (info->ndescribed < CMS_DESCRIBED_RECIPIENTS)
		snprintf(info->recipients[info->ndescribed++], CMS_NAME_LEN,
		    fmt, s);
	info->nrecipients++;
}

/* Everyone a KeyAgree RecipientInfo names, one per encrypted key. */
static void
describe_kari(const struct cms_keys *k, CMS_RecipientInfo *ri,
    struct cms_envelope *info)
{
	STACK_OF(CMS_RecipientEncryptedKey) *reks;
	CMS_RecipientEncryptedKey *rek;
	ASN1_OCTET_STRING *keyid;
	X509_NAME *issuer;
	ASN1_INTEGER *serial;
	char name[CMS_NAME_LEN];
	int j;

	reks = CMS_RecipientInfo_kari_get0_reks(ri);
	for (j = 0; j < sk_CMS_RecipientEncryptedKey_num(reks); j++) {
		rek = sk_CMS_RecipientEncryptedKey_value(reks, j);
		keyid = NULL;
		issuer = NULL;
		serial = NULL;
		if (!name_ours(k, ri, rek, name, sizeof(name)) &&
		    CMS_RecipientEncryptedKey_get0_id(rek, &keyid, NULL, NULL,
		    &issuer, &serial) == 1)
			name_recipient(keyid, issuer, serial, name,
			    sizeof(name));
		add_recipient(info, "%s", name);
	}
}

static void
describe_envelope(const struct cms_keys *k, CMS_ContentInfo *cms,
    struct cms_envelope *info)
{
	STACK_OF(CMS_RecipientInfo) *ris = CMS_get0_RecipientInfos(cms);
	CMS_RecipientInfo *ri;
	ASN1_OCTET_STRING *keyid;
	X509_NAME *issuer;
	ASN1_INTEGER *serial;
	char name[CMS_NAME_LEN];
	int i;

	for (i = 0; i < sk_CMS_RecipientInfo_num(ris); i++) {
		ri = sk_CMS_RecipientInfo_value(ris, i);
		keyid = NULL;
		issuer = NULL;
		serial = NULL;
		name[0] = '\0';
		switch (CMS_RecipientInfo_type(ri)) {
		case CMS_RECIPINFO_TRANS:
			if (!name_ours(k, ri, NULL, name, sizeof(name)) &&
			    CMS_RecipientInfo_ktri_get0_signer_id(ri, &keyid,
			    &issuer, &serial) == 1)
				name_recipient(keyid, issuer, serial, name,
				    sizeof(name));
			add_recipient(info, "%s", name);
			break;
		case CMS_RECIPINFO_AGREE:
			describe_kari(k, ri, info);
			break;
		case CMS_RECIPINFO_KEK:
			add_recipient(info, "%s", "kek");
			break;
		case CMS_RECIPINFO_PASS:
			add_recipient(info, "%s", "password");
			break;
		default:
			add_recipient(info, "%s", "other");
			break;
		}
	}
}

enum cms_status
cms_decrypt(const struct cms_keys *k, const uint8_t *der, size_t len,
    uint8_t **plain, size_t *plain_len)
{
	return cms_decrypt_info(k, der, len, plain, plain_len, NULL);
}

enum cms_status
cms_decrypt_info(const struct cms_keys *k, const uint8_t *der, size_t len,
    uint8_t **plain, size_t *plain_len, struct cms_envelope *info)
{
	CMS_ContentInfo *cms = NULL;
	bool used = false;
	int nid, nri;
	size_t i;
	enum cms_status st = CMS_UNDECIPHERABLE;

	*plain = NULL;
	*plain_len = 0;
	if (info != NULL) {
		memset(info, 0, sizeof(*info));
		info->key = -1;
	}
	if (k == NULL || (cms = cms_parse(der, len)) == NULL)
		goto out;
	nid = OBJ_obj2nid(CMS_get0_type(cms));
	if (nid != NID_pkcs7_enveloped &&
	    nid != NID_id_smime_ct_authEnvelopedData)
		goto out;
	/* Before any private-key operation. */
	if ((cms_content_bit(content_cipher_nid(der, len)) & k->ciphers) == 0)
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
			if ((cms = cms_parse(der, len)) == NULL)
				goto out;
		}
		used = true;
		if ((bout = BIO_new(BIO_s_secmem())) == NULL)
			goto out;
		if (CMS_decrypt(cms, k->pkey[i], k->cert[i], NULL, bout,
		    CMS_BINARY) == 1 && cms_take_bio(bout, plain, plain_len))
			st = CMS_OK;
		cms_wipe_bio(bout);
		if (st == CMS_OK && info != NULL) {
			info->key = (int)i;
			dn_string(X509_get_subject_name(k->cert[i]),
			    info->opened_with, sizeof(info->opened_with));
			describe_envelope(k, cms, info);
		}
	}
out:
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return st;
}
