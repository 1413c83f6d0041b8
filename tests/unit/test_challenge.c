/*
 * test_challenge.c - the E2M-SIGNED-CHALLENGE body builder (digest 4.6).
 *
 * Keys and certificates are made at test time with the openssl command line
 * tool in a mkdtemp() directory (never committed; pki_vectors.sh, set
 * challenge). Each challenge is
 * re-parsed with mime_parse() and checked part by part, and its signature is
 * checked by the openssl tool, independently of cms.c, and by cms_verify().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/evp.h>

#include "e2m/challenge.h"
#include "crypto/cms.h"
#include "crypto/sigtemplate.h"
#include "e2m/mime.h"
#include "pki.h"
#include "t.h"

static int
run(const char *fmt, const char *a, const char *b)
{
	char cmd[2048];
	snprintf(cmd, sizeof cmd, fmt, a, b);
	return system(cmd);
}

static int
spill(const char *path, const void *a, size_t alen, const void *b,
    size_t blen)
{
	FILE *f = fopen(path, "wb");
	int ok;

	if (f == NULL)
		return -1;
	ok = fwrite(a, 1, alen, f) == alen &&
	    (blen == 0 || fwrite(b, 1, blen, f) == blen);
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* The fixed header values of the test response. */
static const char *const VIA[] = {
	"SIP/2.0/UDP ss1.atlanta.example.com:5060;branch=z9hG4bK2d4790.1"
	    ";received=192.0.2.111",
	"SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9"
	    ";received=192.0.2.101",
};
static const char FROM[] =
    "Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl";
static const char TO[] = "Bob <sip:bob@biloxi.example.com>;tag=p-8321234356";
static const char CALLID[] = "3848276298220188511@atlanta.example.com";
static const char CSEQ[] = "1 INVITE";
static const char DATE[] = "Sat, 13 Nov 2010 23:29:00 GMT";
static const char WARN1[] = "380 ss1.atlanta.example.com "
    "\"Required to View Content-Type 'application/sdp'\"";
static const char WARN2[] = "380 ss1.atlanta.example.com "
    "\"Required to View Content-Type 'text/plain'\"";

static const char FRAG[] =
    "SIP/2.0 496 Proxy Undecipherable\r\n"
    "Via: SIP/2.0/UDP ss1.atlanta.example.com:5060;branch=z9hG4bK2d4790.1"
    ";received=192.0.2.111\r\n"
    "Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9"
    ";received=192.0.2.101\r\n"
    "From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n"
    "To: Bob <sip:bob@biloxi.example.com>;tag=p-8321234356\r\n"
    "Call-ID: 3848276298220188511@atlanta.example.com\r\n"
    "CSeq: 1 INVITE\r\n"
    "Date: Sat, 13 Nov 2010 23:29:00 GMT\r\n"
    "Warning: 380 ss1.atlanta.example.com "
    "\"Required to View Content-Type 'application/sdp'\"\r\n"
    "Warning: 380 ss1.atlanta.example.com "
    "\"Required to View Content-Type 'text/plain'\"\r\n";

static struct challenge_text via_t[2], warn_t[2];

static void
fill_in(struct challenge_in *in, const struct cms_signing_key *sk,
    const uint8_t *cert, size_t cert_len, enum challenge_encoding enc)
{
	via_t[0] = challenge_text(VIA[0]);
	via_t[1] = challenge_text(VIA[1]);
	warn_t[0] = challenge_text(WARN1);
	warn_t[1] = challenge_text(WARN2);
	memset(in, 0, sizeof *in);
	in->status = 496;
	in->reason = challenge_text("Proxy Undecipherable");
	in->via = via_t;
	in->nvia = 2;
	in->from = challenge_text(FROM);
	in->to = challenge_text(TO);
	in->call_id = challenge_text(CALLID);
	in->cseq = challenge_text(CSEQ);
	in->date = challenge_text(DATE);
	in->warning = warn_t;
	in->nwarning = 2;
	in->cert_der = cert;
	in->cert_der_len = cert_len;
	in->sk = sk;
	in->encoding = enc;
}

static int
is(const struct mime_entity *e, const char *type, const char *subtype)
{
	return e != NULL && strcmp(e->type, type) == 0 &&
	    strcmp(e->subtype, subtype) == 0;
}

/* 0 when "openssl cms -verify <args>" run in pki_dir succeeds. */
static int
openssl_verify(const char *args)
{
	return run("cd '%s' && openssl cms -verify %s -CAfile ca.pem"
	           " -purpose any -out /dev/null 2>/dev/null",
	    pki_dir, args) == 0 ? 0 : -1;
}

/* Build, re-parse and verify one challenge. */
static void
check_one(const char *label, const struct cms_signing_key *sk,
    const struct cms_keys *trust, const uint8_t *cert, size_t cert_len,
    enum challenge_encoding enc)
{
	struct challenge_in in;
	struct challenge_out out;
	const char *why = NULL;
	char name[160], path[160];
	struct mime_entity *tree = NULL;
	struct mime_headers hdr = { 0 };
	int b64 = enc == CHALLENGE_ENC_BASE64;

	fill_in(&in, sk, cert, cert_len, enc);
	enum challenge_status st = challenge_build(&in, &out, &why);
	snprintf(name, sizeof name, "%s: challenge_build ok", label);
	T_EQ_INT(st, CHALLENGE_OK, name);
	if (st != CHALLENGE_OK) {
		printf("# %s\n", why);
		return;
	}

	/* Content-Type value. */
	const char *pre = "multipart/signed; protocol=\"application/"
	    "pkcs7-signature\"; micalg=sha-256; boundary=e2m-sig-";
	snprintf(name, sizeof name, "%s: Content-Type value", label);
	T_OK(strncmp(out.content_type, pre, strlen(pre)) == 0 &&
	    strlen(out.content_type) == strlen(pre) + 16 &&
	    strspn(out.content_type + strlen(pre), "0123456789ABCDEFGHIJ"
	    "KLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") == 16, name);

	/* CRLF line ends: every LF outside the DER is preceded by CR. In
	 * base64 mode the whole body is text. */
	if (b64) {
		int bare = 0, ctl = 0;
		for (size_t i = 0; i < out.body_len; i++) {
			unsigned char c = out.body[i];
			if (c == '\n' && (i == 0 || out.body[i - 1] != '\r'))
				bare = 1;
			if ((c < 0x20 && c != '\r' && c != '\n') || c > 0x7e)
				ctl = 1;
		}
		snprintf(name, sizeof name, "%s: 7-bit text, CRLF only", label);
		T_OK(!bare && !ctl, name);
	}

	/* (a) structure */
	hdr.content_type = out.content_type;
	const char *perr = NULL;
	enum mime_status ms = mime_parse(&hdr, out.body, out.body_len, NULL,
	    &tree, &perr);
	snprintf(name, sizeof name, "%s: mime_parse ok", label);
	T_EQ_INT(ms, MIME_OK, name);
	if (ms != MIME_OK) {
		printf("# %s\n", perr);
		challenge_out_free(&out);
		return;
	}
	snprintf(name, sizeof name, "%s: multipart/signed, two parts", label);
	T_OK(is(tree, "multipart", "signed") && tree->nchildren == 2 &&
	    strcmp(mime_param(tree, "protocol"),
	    "application/pkcs7-signature") == 0 &&
	    strcmp(mime_param(tree, "micalg"), "sha-256") == 0, name);
	const struct mime_entity *mixed =
	    tree->nchildren == 2 ? tree->children[0] : NULL;
	const struct mime_entity *sig =
	    tree->nchildren == 2 ? tree->children[1] : NULL;
	snprintf(name, sizeof name, "%s: first part multipart/mixed of two",
	    label);
	T_OK(is(mixed, "multipart", "mixed") && mixed->nchildren == 2 &&
	    strncmp(mime_param(mixed, "boundary"), "e2m-mix-", 8) == 0,
	    name);
	const struct mime_entity *frag = NULL, *pkix = NULL;
	if (mixed != NULL && mixed->nchildren == 2) {
		frag = mixed->children[0];
		pkix = mixed->children[1];
	}
	snprintf(name, sizeof name, "%s: message/sipfrag part", label);
	T_OK(is(frag, "message", "sipfrag"), name);
	snprintf(name, sizeof name, "%s: sipfrag lines exactly", label);
	T_OK(frag != NULL && frag->data_len == strlen(FRAG) &&
	    memcmp(frag->data, FRAG, frag->data_len) == 0, name);
	if (frag != NULL && (frag->data_len != strlen(FRAG) ||
	    memcmp(frag->data, FRAG, frag->data_len) != 0))
		printf("# got: %.*s\n", (int)frag->data_len,
		    (const char *)frag->data);

	/* (c) the certificate */
	snprintf(name, sizeof name, "%s: application/pkix-cert part", label);
	T_OK(is(pkix, "application", "pkix-cert") &&
	    pkix->cte == (b64 ? MIME_CTE_BASE64 : MIME_CTE_BINARY) &&
	    pkix->disposition != NULL &&
	    strcmp(pkix->disposition, "attachment") == 0 &&
	    pkix->handling != NULL && strcmp(pkix->handling, "optional") == 0,
	    name);
	snprintf(name, sizeof name, "%s: pkix-cert equals the DER given",
	    label);
	T_OK(pkix != NULL && pkix->data_len == cert_len &&
	    memcmp(pkix->data, cert, cert_len) == 0, name);

	snprintf(name, sizeof name, "%s: application/pkcs7-signature part",
	    label);
	T_OK(is(sig, "application", "pkcs7-signature") &&
	    sig->cte == (b64 ? MIME_CTE_BASE64 : MIME_CTE_BINARY) &&
	    sig->handling != NULL && strcmp(sig->handling, "required") == 0 &&
	    strcmp(mime_param(sig, "name"), "smime.p7s") == 0, name);

	if (mixed == NULL || sig == NULL || sig->data == NULL)
		goto done;

	/* Our own verifier over the first part's raw bytes. */
	struct cms_signer who;
	const char *vwhy = NULL;
	enum cms_status cst = cms_verify(trust, sig->data, sig->data_len,
	    mixed->raw, mixed->raw_len, &who, NULL, NULL, &vwhy);
	snprintf(name, sizeof name, "%s: cms_verify over the first part",
	    label);
	T_EQ_INT(cst, CMS_OK, name);
	if (cst != CMS_OK)
		printf("# %s\n", vwhy ? vwhy : "");

	/* (b) the openssl tool, independent of cms.c. */
	snprintf(path, sizeof path, "%s/part1.bin", pki_dir);
	spill(path, mixed->raw, mixed->raw_len, NULL, 0);
	snprintf(path, sizeof path, "%s/sig.der", pki_dir);
	spill(path, sig->data, sig->data_len, NULL, 0);
	snprintf(name, sizeof name,
	    "%s: openssl cms -verify (DER signature, detached content)", label);
	T_EQ_INT(openssl_verify("-binary -inform DER -in sig.der"
	    " -content part1.bin"), 0, name);

	/* Tamper one byte of the sipfrag (the Call-ID's first digit). */
	size_t off = (size_t)((const unsigned char *)
	    memmem(mixed->raw, mixed->raw_len, CALLID, strlen(CALLID)) -
	    mixed->raw);
	unsigned char *bad = malloc(mixed->raw_len);
	if (bad != NULL) {
		memcpy(bad, mixed->raw, mixed->raw_len);
		bad[off] ^= 1;
		snprintf(path, sizeof path, "%s/part1.bin", pki_dir);
		spill(path, bad, mixed->raw_len, NULL, 0);
		free(bad);
	}
	snprintf(name, sizeof name,
	    "%s: openssl cms -verify fails on a tampered sipfrag", label);
	T_OK(bad != NULL && openssl_verify("-binary -inform DER"
	    " -in sig.der -content part1.bin") != 0, name);

	if (b64) {
		/* S/MIME input: the message as a mail reader would see it. */
		char mh[512];
		int n = snprintf(mh, sizeof mh, "Content-Type: %s\r\n\r\n",
		    out.content_type);
		snprintf(path, sizeof path, "%s/msg.eml", pki_dir);
		spill(path, mh, (size_t)n, out.body, out.body_len);
		snprintf(name, sizeof name,
		    "%s: openssl cms -verify (S/MIME input)", label);
		T_EQ_INT(openssl_verify("-in msg.eml"), 0, name);

		unsigned char *copy = malloc(out.body_len);
		unsigned char *hit = NULL;
		if (copy != NULL) {
			memcpy(copy, out.body, out.body_len);
			hit = memmem(copy, out.body_len, CALLID,
			    strlen(CALLID));
			if (hit != NULL)
				*hit ^= 1;
			spill(path, mh, (size_t)n, copy, out.body_len);
			free(copy);
		}
		snprintf(name, sizeof name,
		    "%s: S/MIME input with a tampered sipfrag fails", label);
		T_OK(hit != NULL && openssl_verify("-in msg.eml") != 0,
		    name);
	}
done:
	mime_free(tree);
	challenge_out_free(&out);
	snprintf(name, sizeof name, "%s: challenge_out_free zeroes", label);
	T_OK(out.body == NULL && out.body_len == 0 &&
	    out.content_type == NULL, name);
}

/* (d) every kind of injection is refused and leaves *out zeroed. */
static void
check_refusals(const struct cms_signing_key *sk, const uint8_t *cert,
    size_t cert_len)
{
	struct challenge_in in;
	struct challenge_out out;
	const char *why;
	struct challenge_text t;
	static const char nul_callid[] = "abc\0def@example.com";
	static const char *const bad[] = {
		"Alice <sip:a@x>;tag=1\r\nContact: <sip:evil@x>",
		"Alice <sip:a@x>;tag=1\nVia: SIP/2.0/UDP evil",
		"Alice <sip:a@x>;tag=1\rX: y",
		"Alice\x01",
		"Alice\x7f",
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char name[96];

		fill_in(&in, sk, cert, cert_len, CHALLENGE_ENC_BASE64);
		in.from = challenge_text(bad[i]);
		memset(&out, 0xa5, sizeof out);
		snprintf(name, sizeof name, "From with control character %zu "
		    "refused", i);
		T_EQ_INT(challenge_build(&in, &out, &why), CHALLENGE_INVALID,
		    name);
		snprintf(name, sizeof name, "refusal %zu leaves out zeroed", i);
		T_OK(out.body == NULL && out.content_type == NULL &&
		    out.body_len == 0, name);
	}

	fill_in(&in, sk, cert, cert_len, CHALLENGE_ENC_BINARY);
	in.call_id.s = nul_callid;
	in.call_id.len = sizeof nul_callid - 1;
	T_EQ_INT(challenge_build(&in, &out, &why), CHALLENGE_INVALID,
	    "NUL in Call-ID refused");
	T_EQ_STR(why, "bad Call-ID", "reason names the field");

	fill_in(&in, sk, cert, cert_len, CHALLENGE_ENC_BINARY);
	t = challenge_text("SIP/2.0/UDP h;branch=z9hG4bKx\r\nVia: SIP/2.0/UDP e");
	via_t[1] = t;
	T_EQ_INT(challenge_build(&in, &out, &why), CHALLENGE_INVALID,
	    "CRLF in the second Via refused");

	fill_in(&in, sk, cert, cert_len, CHALLENGE_ENC_BINARY);
	warn_t[1] = challenge_text("399 x \"a\"\r\n\r\nSIP/2.0 200 OK");
	T_EQ_INT(challenge_build(&in, &out, &why), CHALLENGE_INVALID,
	    "CRLF in a Warning refused");

	fill_in(&in, sk, cert, cert_len, CHALLENGE_ENC_BINARY);
	in.reason = challenge_text("OK\r\nVia: x");
	T_EQ_INT(challenge_build(&in, &out, &why), CHALLENGE_INVALID,
	    "CRLF in the reason phrase refused");

	fill_in(&in, sk, cert, cert_len, CHALLENGE_ENC_BINARY);
	in.to = challenge_text("Bob <sip:b@x>\n;tag=1");
	T_EQ_INT(challenge_build(&in, &out, &why), CHALLENGE_INVALID,
	    "LF in To refused");

	fill_in(&in, sk, cert, cert_len, CHALLENGE_ENC_BINARY);
	in.cseq.s = "1 INVITE\0";
	in.cseq.len = 9;
	T_EQ_INT(challenge_build(&in, &out, &why), CHALLENGE_INVALID,
	    "trailing NUL in CSeq refused");

	fill_in(&in, sk, cert, cert_len, CHALLENGE_ENC_BINARY);
	in.date = challenge_text("");
	T_EQ_INT(challenge_build(&in, &out, &why), CHALLENGE_INVALID,
	    "empty Date refused");

	fill_in(&in, sk, cert, cert_len, CHALLENGE_ENC_BINARY);
	in.nvia = 0;
	T_EQ_INT(challenge_build(&in, &out, &why), CHALLENGE_INVALID,
	    "no Via refused");

	fill_in(&in, sk, cert, cert_len, CHALLENGE_ENC_BINARY);
	in.status = 1496;
	T_EQ_INT(challenge_build(&in, &out, &why), CHALLENGE_INVALID,
	    "status code out of range refused");

	fill_in(&in, sk, cert, cert_len, CHALLENGE_ENC_BINARY);
	in.cert_der_len = 0;
	T_EQ_INT(challenge_build(&in, &out, &why), CHALLENGE_INVALID,
	    "no certificate refused");

	fill_in(&in, NULL, cert, cert_len, CHALLENGE_ENC_BINARY);
	T_EQ_INT(challenge_build(&in, &out, &why), CHALLENGE_INVALID,
	    "no signing key refused");

	/* A 495 without Warning and an HTAB inside a value are fine. */
	fill_in(&in, sk, cert, cert_len, CHALLENGE_ENC_BINARY);
	in.status = 495;
	in.reason = challenge_text("Signature Required");
	in.nwarning = 0;
	in.from = challenge_text("Alice\t<sip:a@x>;tag=1");
	enum challenge_status st = challenge_build(&in, &out, &why);
	T_EQ_INT(st, CHALLENGE_OK, "495 without Warning, HTAB in From");
	if (st == CHALLENGE_OK) {
		static const char want[] = "\r\n\r\nSIP/2.0 495 Signature "
		    "Required\r\nVia: ";
		T_OK(memmem(out.body, out.body_len, want, strlen(want)) !=
		    NULL, "495 status line opens the sipfrag");
		T_OK(memmem(out.body, out.body_len, "Warning:", 8) == NULL,
		    "no Warning line in the 495 sipfrag");
	}
	challenge_out_free(&out);
	challenge_out_free(NULL);

	/* Fresh random boundaries every time. */
	struct challenge_out o2;
	fill_in(&in, sk, cert, cert_len, CHALLENGE_ENC_BINARY);
	enum challenge_status s1 = challenge_build(&in, &out, &why);
	enum challenge_status s2 = challenge_build(&in, &o2, &why);
	T_OK(s1 == CHALLENGE_OK && s2 == CHALLENGE_OK &&
	    strcmp(out.content_type, o2.content_type) != 0 &&
	    memmem(o2.body, o2.body_len, out.body + 2, 40) == NULL,
	    "two challenges have different boundaries");
	challenge_out_free(&out);
	challenge_out_free(&o2);
}

/* The template takes apart only the layout it knows; anything else is
 * refused and cms_sign() keeps using OpenSSL's CMS_sign(). */
static void
check_template(const struct cms_signing_key *sk, const char *label)
{
	static const uint8_t data[] = "template test data";
	uint8_t sha[32], wrong[32], *der = NULL;
	size_t len = 0;
	unsigned int n = 0;
	struct sigtemplate *t;
	char name[128];
	/* Any key that can sign: the layout checks do not depend on it. */
	EVP_PKEY *k = EVP_EC_gen("P-256");

	EVP_Digest(data, sizeof data, sha, &n, EVP_sha256(), NULL);
	memcpy(wrong, sha, sizeof wrong);
	wrong[0] ^= 1;
	T_OK(cms_sign(sk, data, sizeof data, true, &der, &len) == CMS_OK,
	    "signed for the template checks");
	t = sigtemplate_new(der, len, sha, k);
	snprintf(name, sizeof name, "%s: template from a detached signature",
	    label);
	T_OK(t != NULL, name);
	sigtemplate_free(t);
	snprintf(name, sizeof name, "%s: template refuses another digest",
	    label);
	T_OK(sigtemplate_new(der, len, wrong, k) == NULL, name);
	snprintf(name, sizeof name, "%s: template refuses a truncated one",
	    label);
	T_OK(sigtemplate_new(der, len - 1, sha, k) == NULL, name);
	snprintf(name, sizeof name, "%s: template refuses garbage", label);
	T_OK(sigtemplate_new(data, sizeof data, sha, k) == NULL, name);
	free(der);
	/* Carried content (signed-data) is never made from the template. */
	T_OK(cms_sign(sk, data, sizeof data, false, &der, &len) == CMS_OK &&
	    sigtemplate_new(der, len, sha, k) == NULL,
	    "signed-data is no template");
	free(der);
	EVP_PKEY_free(k);
}

int
main(void)
{
	char err[256];
	static uint8_t certbuf[4096];

	if (!pki_have_openssl()) {
		printf("1..0 # SKIP no openssl command\n");
		return 0;
	}
	if (pki_mkdir("challenge") != 0)
		return 1;
	T_EQ_INT(pki_make("challenge"), 0,
	    "openssl made CA, keys, certificates");

	size_t cert_len = pki_read("enc", "der", certbuf, sizeof certbuf);
	uint8_t *cert = cert_len > 0 ? certbuf : NULL;
	T_OK(cert != NULL && cert_len > 100, "encryption certificate DER");

	struct cms_keys *trust = pki_anchors(err, sizeof err);
	T_OK(trust != NULL, "trust anchors loaded");

	static const char *const kinds[] = { "sig_ec", "sig_rsa" };
	for (size_t k = 0; k < 2 && cert != NULL && trust != NULL; k++) {
		struct cms_signing_key *sk = pki_signing_key(kinds[k], err,
		    sizeof err);
		T_OK(sk != NULL, k == 0 ? "ECDSA P-256 signing key loaded" :
		    "RSA signing key loaded");
		if (sk == NULL) {
			printf("# %s\n", err);
			continue;
		}
		char label[64];
		snprintf(label, sizeof label, "%s binary",
		    k == 0 ? "ecdsa" : "rsa");
		check_one(label, sk, trust, cert, cert_len,
		    CHALLENGE_ENC_BINARY);
		snprintf(label, sizeof label, "%s base64",
		    k == 0 ? "ecdsa" : "rsa");
		check_one(label, sk, trust, cert, cert_len,
		    CHALLENGE_ENC_BASE64);
		if (k == 0)
			check_refusals(sk, cert, cert_len);
		check_template(sk, k == 0 ? "ecdsa" : "rsa");
		cms_signing_key_free(sk);
	}

	T_OK(strcmp(challenge_status_str(CHALLENGE_INVALID), "invalid input") ==
	    0, "challenge_status_str");

	cms_keys_free(trust);
	pki_cleanup();
	return t_done();
}
