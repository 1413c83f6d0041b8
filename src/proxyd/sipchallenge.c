/*
 * sipchallenge.c - 495/496 responses (Sofia) with the signed challenge
 * body e2m/challenge.c builds. See sipchallenge.h.
 */
#include "proxyd/sipchallenge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_tagarg.h>

#include "e2m/challenge.h"
#include "crypto/cms.h"
#include "proxyd/conf.h"
#include "e2m/policy.h"

/* Via values of one response; more would not fit a UDP datagram anyway. */
#define MAX_VIAS 64

struct sipchallenge {
	const struct conf *c;
	struct cms_signing_key *sk; /* NULL: legacy-unsigned or unconfigured */
	uint8_t *cert;              /* encryption certificate, DER */
	size_t cert_len;
};

/*
 * challenge.certificate_once: when the signing certificate is the
 * encryption certificate, the body already carries it (inside what is
 * signed), so the SignedData leaves it out: one certificate less in every
 * 496 (467 bytes EC P-256, 863 RSA-2048; docs/performance.md). A UA
 * that looks for the signer only in the SignedData, as digest 4.6 is
 * written, cannot verify such a 496: hence a setting, off by default.
 */
static int
signer_out(const struct conf *c, const struct sipchallenge *sc)
{
	uint8_t *der = NULL;
	size_t len = 0;
	char err[256];
	int same;

	if (!c->ch_certificate_once || sc->cert == NULL ||
	    cms_cert_der_load(c->ch_signing_certificate, &der, &len, err,
	    sizeof(err)) == -1)
		return 0;
	same = len == sc->cert_len && memcmp(der, sc->cert, len) == 0;
	free(der);
	return same;
}

struct sipchallenge *
sipchallenge_new(const struct conf *c, char *err, size_t errsz)
{
	struct sipchallenge *sc = calloc(1, sizeof(*sc));

	if (sc == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	sc->c = c;
	if (c->ch_encryption_certificate != NULL &&
	    cms_cert_der_load(c->ch_encryption_certificate, &sc->cert,
	    &sc->cert_len, err, errsz) == -1)
		goto fail;
	if (!c->ch_legacy_unsigned && c->ch_signing_certificate != NULL &&
	    c->ch_signing_key != NULL && (sc->sk = cms_signing_key_load_flags(
	    c->ch_signing_certificate, c->ch_signing_key,
	    (const char *const *)c->ch_signing_chain, c->nch_signing_chain,
	    signer_out(c, sc) ? CMS_SK_SIGNER_OUT : 0, err, errsz)) == NULL)
		goto fail;
	return sc;
fail:
	sipchallenge_free(sc);
	return NULL;
}

void
sipchallenge_free(struct sipchallenge *sc)
{
	if (sc == NULL)
		return;
	cms_signing_key_free(sc->sk);
	free(sc->cert);
	free(sc);
}

int
sipchallenge_status(const struct sipchallenge *sc,
    enum sipchallenge_kind kind, const char **phrase)
{
	if (kind == SIPCHALLENGE_496) {
		*phrase = sc->c->ch_496_phrase;
		return (int)sc->c->ch_496_code;
	}
	*phrase = sc->c->ch_495_phrase;
	return (int)sc->c->ch_495_code;
}

/* Header values as the response will carry them, for the sipfrag. */
struct frag {
	struct challenge_text via[MAX_VIAS];
	struct challenge_text warning[POLICY_MAX_PRMB];
	struct challenge_in in;
};

static struct challenge_text
text_of(su_home_t *home, const void *h)
{
	return challenge_text(h == NULL ? NULL :
	    sip_header_as_string(home, (const sip_header_t *)h));
}

static const char *
collect(struct frag *fr, su_home_t *home, const sip_t *rsip)
{
	const sip_via_t *v;
	const sip_warning_t *w;
	size_t n = 0;

	for (v = rsip->sip_via; v != NULL; v = v->v_next) {
		if (n == MAX_VIAS)
			return "too many Via values";
		fr->via[n++] = text_of(home, v);
	}
	fr->in.via = fr->via;
	fr->in.nvia = n;
	n = 0;
	for (w = rsip->sip_warning; w != NULL && n < POLICY_MAX_PRMB;
	    w = w->w_next)
		fr->warning[n++] = text_of(home, w);
	fr->in.warning = fr->warning;
	fr->in.nwarning = n;
	fr->in.from = text_of(home, rsip->sip_from);
	fr->in.to = text_of(home, rsip->sip_to);
	fr->in.call_id = text_of(home, rsip->sip_call_id);
	fr->in.cseq = text_of(home, rsip->sip_cseq);
	fr->in.date = text_of(home, rsip->sip_date);
	return NULL;
}

/* Date, and Warning 380 naming each missing type (digest 4.4). */
static int
add_headers(const struct sipchallenge *sc, msg_t *msg, sip_t *rsip,
    enum sipchallenge_kind kind, const char *const *missing,
    size_t nmissing)
{
	su_home_t *home = msg_home(msg);
	size_t i;

	if (sip_add_dup(msg, rsip, (sip_header_t *)sip_date_create(home,
	    sip_now())) < 0)
		return -1;
	if (kind != SIPCHALLENGE_496)
		return 0;
	for (i = 0; i < nmissing; i++)
		if (sip_add_make(msg, rsip, sip_warning_class, su_sprintf(home,
		    "%u %s \"Required to View Content-Type '%s'\"",
		    sc->c->ch_warn_code, sc->c->ch_warn_agent,
		    missing[i])) < 0)
			return -1;
	return 0;
}

/* Made in the message's home and inserted as they are: a tag list would
 * copy the body once more. */
static int
set_body(msg_t *msg, sip_t *rsip, const char *type, const void *body,
    size_t len)
{
	su_home_t *home = msg_home(msg);
	sip_content_type_t *ct = sip_content_type_make(home, type);
	sip_payload_t *pl = sip_payload_create(home, body, (isize_t)len);

	if (ct == NULL || pl == NULL ||
	    msg_header_insert(msg, (msg_pub_t *)rsip, (msg_header_t *)ct) < 0 ||
	    msg_header_insert(msg, (msg_pub_t *)rsip, (msg_header_t *)pl) < 0)
		return -1;
	return 0;
}

/* The signed body over the values nta put in the response. */
static int
sign_body(const struct sipchallenge *sc, msg_t *msg, sip_t *rsip,
    const char **why)
{
	struct frag fr;
	struct challenge_out out;
	enum challenge_status st;
	int r;

	memset(&fr, 0, sizeof(fr));
	if ((*why = collect(&fr, msg_home(msg), rsip)) != NULL)
		return -1;
	fr.in.status = rsip->sip_status->st_status;
	fr.in.reason = challenge_text(rsip->sip_status->st_phrase);
	fr.in.cert_der = sc->cert;
	fr.in.cert_der_len = sc->cert_len;
	fr.in.sk = sc->sk;
	fr.in.encoding = sc->c->ch_base64 ? CHALLENGE_ENC_BASE64 :
	    CHALLENGE_ENC_BINARY;
	if ((st = challenge_build(&fr.in, &out, why)) != CHALLENGE_OK)
		return -1;
	r = set_body(msg, rsip, out.content_type, out.body, out.body_len);
	challenge_out_free(&out);
	if (r < 0)
		*why = "out of memory";
	return r;
}

static int
fill(const struct sipchallenge *sc, msg_t *msg, sip_t *rsip,
    enum sipchallenge_kind kind, const char **why)
{
	if (kind == SIPCHALLENGE_495 && !sc->c->ch_sign_495)
		return 0;
	if (sc->cert == NULL) {
		*why = "no certificate to hand out";
		return -1;
	}
	if (sc->c->ch_legacy_unsigned) {
		if (kind == SIPCHALLENGE_495)
			return 0; /* the draft's 495 carries nothing */
		return set_body(msg, rsip, "application/pkix-cert", sc->cert,
		    sc->cert_len);
	}
	if (sc->sk == NULL) {
		*why = "no signing key";
		return -1;
	}
	return sign_body(sc, msg, rsip, why);
}

int
sipchallenge_fill(const struct sipchallenge *sc, msg_t *msg,
    enum sipchallenge_kind kind, const char *const *missing,
    size_t nmissing, const char **why)
{
	sip_t *rsip = sip_object(msg);

	*why = "out of memory";
	if (add_headers(sc, msg, rsip, kind, missing, nmissing) < 0 ||
	    fill(sc, msg, rsip, kind, why) < 0)
		return -1;
	return 0;
}

int
sipchallenge_send(const struct sipchallenge *sc, nta_agent_t *nta,
    nta_incoming_t *irq, enum sipchallenge_kind kind,
    const char *const *missing, size_t nmissing, const char **why)
{
	msg_t *msg = nta_msg_create(nta, 0);
	const char *phrase;
	int status = sipchallenge_status(sc, kind, &phrase);

	*why = "out of memory";
	if (msg == NULL)
		return -1;
	if (nta_incoming_complete_response(irq, msg, status, phrase,
	    TAG_END()) < 0 || sipchallenge_fill(sc, msg, kind, missing,
	    nmissing, why) < 0) {
		msg_destroy(msg);
		return -1;
	}
	/* mreply takes msg, also when it fails. */
	if (nta_incoming_mreply(irq, msg) < 0) {
		*why = "cannot send";
		return -1;
	}
	return 0;
}
