/*
 * challenge.c - the E2M-SIGNED-CHALLENGE body (digest section 4.6).
 * See challenge.h for the layout and the input rules.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "e2m/challenge.h"
#include "crypto/cms.h"

/* Characters of randomness per boundary, each one of 62 (95 bits). The
 * boundaries occur eight times in a 496; they need not be secret (each is
 * checked not to occur in the content), only unlikely to be guessed:
 * 32 hex digits cost 128 bytes more on every challenge for nothing. */
#define BOUNDARY_RANDOM 16
#define BOUNDARY_TRIES  8  /* fresh boundaries tried before giving up */

static void
buf_text(struct buf *b, struct challenge_text t)
{
	buf_add(b, t.s, t.len);
}

const char *
challenge_status_str(enum challenge_status st)
{
	switch (st) {
	case CHALLENGE_OK:
		return "ok";
	case CHALLENGE_INVALID:
		return "invalid input";
	case CHALLENGE_SIGN:
		return "signing failed";
	case CHALLENGE_RANDOM:
		return "no randomness";
	case CHALLENGE_NOMEM:
		return "out of memory";
	}
	return "unknown";
}

/* A value may hold any byte but the control characters (HTAB excepted):
 * CR, LF and NUL above all, which could add a line to the sipfrag. */
static int
text_ok(struct challenge_text t, int may_be_empty)
{
	if (t.s == NULL)
		return may_be_empty && t.len == 0;
	if (t.len == 0)
		return may_be_empty;
	for (size_t i = 0; i < t.len; i++) {
		unsigned char c = (unsigned char)t.s[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return 0;
	}
	return 1;
}

static const char *
check_input(const struct challenge_in *in)
{
	if (in->status < 100 || in->status > 699)
		return "status code out of range";
	if (!text_ok(in->reason, 1))
		return "bad reason phrase";
	if (in->nvia == 0 || in->via == NULL)
		return "no Via";
	for (size_t i = 0; i < in->nvia; i++)
		if (!text_ok(in->via[i], 0))
			return "bad Via value";
	if (!text_ok(in->from, 0))
		return "bad From";
	if (!text_ok(in->to, 0))
		return "bad To";
	if (!text_ok(in->call_id, 0))
		return "bad Call-ID";
	if (!text_ok(in->cseq, 0))
		return "bad CSeq";
	if (!text_ok(in->date, 0))
		return "bad Date";
	if (in->nwarning > 0 && in->warning == NULL)
		return "no Warning values";
	for (size_t i = 0; i < in->nwarning; i++)
		if (!text_ok(in->warning[i], 0))
			return "bad Warning value";
	if (in->cert_der == NULL || in->cert_der_len == 0)
		return "no certificate";
	if (in->cert_der_len > CMS_MAX_DER)
		return "certificate too large";
	if (in->sk == NULL)
		return "no signing key";
	if (in->encoding != CHALLENGE_ENC_BINARY &&
	    in->encoding != CHALLENGE_ENC_BASE64)
		return "bad encoding";
	return NULL;
}

/* OpenSSL's DRBG (seeded from the kernel): no system call per boundary,
 * which on a challenge flood was two of the few per response. */
static int
fill_random(uint8_t *p, size_t n)
{
	return cms_random(p, n);
}

/* prefix followed by BOUNDARY_RANDOM letters and digits (token
 * characters: the Content-Type parameter needs no quotes). A byte above
 * 247 is drawn again, so that each of the 62 is as likely. */
static int
make_boundary(char *out, size_t outsz, const char *prefix)
{
	static const char alnum[] = "0123456789"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	uint8_t r[2 * BOUNDARY_RANDOM];
	size_t pl = strlen(prefix), n = 0;

	if (outsz < pl + BOUNDARY_RANDOM + 1)
		return -1;
	memcpy(out, prefix, pl);
	while (n < BOUNDARY_RANDOM) {
		if (fill_random(r, sizeof r) != 0)
			return -1;
		for (size_t i = 0; i < sizeof r && n < BOUNDARY_RANDOM; i++)
			if (r[i] < 248)
				out[pl + n++] = alnum[r[i] % 62];
	}
	out[pl + n] = '\0';
	return 0;
}

static int
occurs(const uint8_t *hay, size_t n, const char *needle)
{
	return memmem(hay, n, needle, strlen(needle)) != NULL;
}

/* The message/sipfrag body: the status line and the headers, each line
 * ending in CRLF, no blank line and no body (RFC 3420). */
static void
build_sipfrag(struct buf *b, const struct challenge_in *in)
{
	char status[32];

	snprintf(status, sizeof status, "SIP/2.0 %03d ", in->status);
	buf_str(b, status);
	buf_text(b, in->reason);
	buf_str(b, "\r\n");
	for (size_t i = 0; i < in->nvia; i++) {
		buf_str(b, "Via: ");
		buf_text(b, in->via[i]);
		buf_str(b, "\r\n");
	}
	buf_str(b, "From: ");
	buf_text(b, in->from);
	buf_str(b, "\r\nTo: ");
	buf_text(b, in->to);
	buf_str(b, "\r\nCall-ID: ");
	buf_text(b, in->call_id);
	buf_str(b, "\r\nCSeq: ");
	buf_text(b, in->cseq);
	buf_str(b, "\r\nDate: ");
	buf_text(b, in->date);
	buf_str(b, "\r\n");
	for (size_t i = 0; i < in->nwarning; i++) {
		buf_str(b, "Warning: ");
		buf_text(b, in->warning[i]);
		buf_str(b, "\r\n");
	}
}

/* Part 1 of the multipart/signed, headers included: what gets signed. */
static void
build_signed_part(struct buf *b, const struct challenge_in *in,
    const uint8_t *frag, size_t frag_len, const char *mix)
{
	int b64 = in->encoding == CHALLENGE_ENC_BASE64;

	buf_str(b, "Content-Type: multipart/mixed; boundary=");
	buf_str(b, mix);
	buf_str(b, "\r\n\r\n--");
	buf_str(b, mix);
	buf_str(b, "\r\nContent-Type: message/sipfrag\r\n\r\n");
	buf_add(b, frag, frag_len);
	buf_str(b, "\r\n--");
	buf_str(b, mix);
	buf_str(b, "\r\nContent-Type: application/pkix-cert\r\n"
	           "Content-Transfer-Encoding: ");
	buf_str(b, b64 ? "base64" : "binary");
	buf_str(b, "\r\nContent-Disposition: attachment; filename=proxy.cer;"
	           " handling=optional\r\n\r\n");
	if (b64) {
		/* The encoder's last CRLF is the one before the delimiter. */
		buf_base64(b, in->cert_der, in->cert_der_len);
	} else {
		buf_add(b, in->cert_der, in->cert_der_len);
		buf_str(b, "\r\n");
	}
	buf_str(b, "--");
	buf_str(b, mix);
	buf_str(b, "--\r\n");
}

enum challenge_status
challenge_build(const struct challenge_in *in, struct challenge_out *out,
    const char **why)
{
	struct buf frag = { 0 }, part = { 0 }, body = { 0 }, ct = { 0 };
	char mix[64], sig[64];
	uint8_t *der = NULL;
	size_t der_len = 0;
	enum challenge_status st = CHALLENGE_NOMEM;
	const char *reason = "out of memory";
	int tries;

	if (out == NULL || in == NULL) {
		if (why != NULL)
			*why = "no input or output";
		return CHALLENGE_INVALID;
	}
	memset(out, 0, sizeof *out);
	if ((reason = check_input(in)) != NULL) {
		if (why != NULL)
			*why = reason;
		return CHALLENGE_INVALID;
	}
	reason = "out of memory";

	build_sipfrag(&frag, in);
	if (frag.oom)
		goto fail;

	/* The inner boundary must not occur in the sipfrag (attacker-chosen
	 * values) nor in the certificate. */
	for (tries = 0; tries < BOUNDARY_TRIES; tries++) {
		if (make_boundary(mix, sizeof mix, "e2m-mix-") != 0) {
			st = CHALLENGE_RANDOM;
			reason = "no randomness for a boundary";
			goto fail;
		}
		if (!occurs(frag.p, frag.len, mix) &&
		    !occurs(in->cert_der, in->cert_der_len, mix))
			break;
	}
	if (tries == BOUNDARY_TRIES) {
		st = CHALLENGE_RANDOM;
		reason = "no boundary free of the content";
		goto fail;
	}

	build_signed_part(&part, in, frag.p, frag.len, mix);
	if (part.oom)
		goto fail;

	enum cms_status cst = cms_sign(in->sk, part.p, part.len, true, &der,
	    &der_len);
	if (cst != CMS_OK) {
		st = CHALLENGE_SIGN;
		reason = "cms_sign failed";
		goto fail;
	}

	/* The outer boundary must not occur in the signed part nor in the
	 * signature (raw DER; base64 cannot hold '-'). */
	for (tries = 0; tries < BOUNDARY_TRIES; tries++) {
		if (make_boundary(sig, sizeof sig, "e2m-sig-") != 0) {
			st = CHALLENGE_RANDOM;
			reason = "no randomness for a boundary";
			goto fail;
		}
		if (!occurs(part.p, part.len, sig) &&
		    !occurs(der, der_len, sig))
			break;
	}
	if (tries == BOUNDARY_TRIES) {
		st = CHALLENGE_RANDOM;
		reason = "no boundary free of the content";
		goto fail;
	}

	int b64 = in->encoding == CHALLENGE_ENC_BASE64;
	buf_str(&body, "--");
	buf_str(&body, sig);
	buf_str(&body, "\r\n");
	buf_add(&body, part.p, part.len);
	buf_str(&body, "\r\n--");
	buf_str(&body, sig);
	buf_str(&body, "\r\nContent-Type: application/pkcs7-signature;"
	               " name=smime.p7s\r\nContent-Transfer-Encoding: ");
	buf_str(&body, b64 ? "base64" : "binary");
	buf_str(&body, "\r\nContent-Disposition: attachment;"
	               " filename=smime.p7s; handling=required\r\n\r\n");
	if (b64) {
		buf_base64(&body, der, der_len);
	} else {
		buf_add(&body, der, der_len);
		buf_str(&body, "\r\n");
	}
	buf_str(&body, "--");
	buf_str(&body, sig);
	buf_str(&body, "--\r\n");

	buf_str(&ct, "multipart/signed; protocol=\"application/pkcs7-signature\";"
	             " micalg=sha-256; boundary=");
	buf_str(&ct, sig);
	buf_add(&ct, "", 1);
	if (body.oom || ct.oom)
		goto fail;

	out->body = body.p;
	out->body_len = body.len;
	out->content_type = (char *)ct.p;
	buf_free(&frag);
	buf_free(&part);
	free(der);
	if (why != NULL)
		*why = "ok";
	return CHALLENGE_OK;

fail:
	buf_free(&frag);
	buf_free(&part);
	buf_free(&body);
	buf_free(&ct);
	free(der);
	memset(out, 0, sizeof *out);
	if (why != NULL)
		*why = reason;
	return st;
}

void
challenge_out_free(struct challenge_out *out)
{
	if (out == NULL)
		return;
	free(out->body);
	free(out->content_type);
	memset(out, 0, sizeof *out);
}
