/* uarecv.c - open, check and show a received body (see uarecv.h). */
#include "ua/uarecv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto/cms.h"
#include "common/log.h"

/* Content a UA can show. */
static const char *const shown[] = { "text/plain", "application/sdp",
	"message/cpim", "message/sipfrag" };

static int
pkcs7_mime(const struct mime_entity *e, const char *smime_type)
{
	const char *st = mime_param(e, "smime-type");

	return (mime_is(e, "application", "pkcs7-mime") ||
	    mime_is(e, "application", "x-pkcs7-mime")) && st != NULL &&
	    strcasecmp(st, smime_type) == 0 && e->data != NULL &&
	    e->nchildren == 0;
}

static int
is_envelope(const struct mime_entity *e)
{
	return pkcs7_mime(e, "enveloped-data") ||
	    pkcs7_mime(e, "authEnveloped-data");
}

static void
note_signature(struct uarecv *r, enum cms_status st,
    const struct cms_signer *who)
{
	char s[sizeof(who->cn) + sizeof(who->email) + 4];

	r->signatures++;
	if (st != CMS_OK)
		return;
	if (r->valid++ == 0) {
		snprintf(s, sizeof(s), "%s%s%s%s", who->cn,
		    who->email[0] ? " <" : "", who->email,
		    who->email[0] ? ">" : "");
		log_safe(r->signer, sizeof(r->signer), s, strlen(s));
	}
}

/* Open or check e; new plaintext is grafted under it. */
static enum uarecv_status
visit(const struct cms_keys *k, struct mime_entity *e, struct uarecv *r)
{
	struct cms_signer who;
	uint8_t *out = NULL;
	size_t out_len = 0;
	enum cms_status st;
	enum mime_status ms = MIME_OK;

	if (is_envelope(e)) {
		if (k != NULL && cms_decrypt(k, e->data, e->data_len, &out,
		    &out_len) == CMS_OK) {
			r->decrypted++;
			ms = mime_graft(e, out, out_len, NULL, NULL);
			cms_plain_free(out, out_len);
		} else {
			r->undecipherable++;
			/* The sender says whether it may be skipped. */
			if (e->handling == NULL ||
			    strcmp(e->handling, "optional") != 0)
				return UARECV_UNDECIPHERABLE;
		}
	} else if (pkcs7_mime(e, "signed-data")) {
		st = k != NULL ? cms_verify(k, e->data, e->data_len, NULL, 0,
		    &who, &out, &out_len, NULL) : CMS_UNTRUSTED;
		note_signature(r, st, &who);
		if (st == CMS_OK)
			ms = mime_graft(e, out, out_len, NULL, NULL);
		cms_plain_free(out, out_len);
	} else if (mime_is(e, "multipart", "signed") && e->nchildren == 2 &&
	    e->children[1]->data != NULL) {
		st = k != NULL ? cms_verify(k, e->children[1]->data,
		    e->children[1]->data_len, e->children[0]->raw,
		    e->children[0]->raw_len, &who, NULL, NULL, NULL) :
		    CMS_UNTRUSTED;
		note_signature(r, st, &who);
	}
	if (ms == MIME_NOMEM)
		return UARECV_NOMEM;
	return ms == MIME_OK ? UARECV_OK : UARECV_MALFORMED;
}

/* The first leaf of a type a UA shows, in tree order. */
static int
show(const struct mime_entity *tree, struct uarecv *r)
{
	const struct mime_entity *e;
	size_t i;

	for (e = tree; e != NULL; e = mime_next(tree, e)) {
		if (e->nchildren != 0 || e->data == NULL)
			continue;
		for (i = 0; i < sizeof(shown) / sizeof(shown[0]); i++) {
			snprintf(r->type, sizeof(r->type), "%s/%s", e->type,
			    e->subtype);
			if (strcmp(r->type, shown[i]) != 0)
				continue;
			if ((r->content = malloc(e->data_len + 1)) == NULL)
				return -1;
			memcpy(r->content, e->data, e->data_len);
			r->content[e->data_len] = '\0';
			r->content_len = e->data_len;
			return 1;
		}
	}
	r->type[0] = '\0';
	return 0;
}

enum uarecv_status
uarecv_open(const struct cms_keys *keys, const struct mime_headers *top,
    const void *body, size_t len, struct uarecv *r)
{
	struct mime_entity *tree = NULL, *e;
	enum uarecv_status st = UARECV_OK;
	int found;

	memset(r, 0, sizeof(*r));
	if (len == 0)
		return r->status = UARECV_OK;
	if (mime_parse(top, body, len, NULL, &tree, &r->why) != MIME_OK)
		return r->status = UARECV_MALFORMED;
	/* Grafting adds children below e: the walk goes into them next. */
	for (e = tree; e != NULL && st == UARECV_OK; e = (struct mime_entity *)
	    mime_next(tree, e))
		st = visit(keys, e, r);
	if (st == UARECV_OK && (found = show(tree, r)) <= 0)
		st = found < 0 ? UARECV_NOMEM : UARECV_UNSUPPORTED;
	if (st != UARECV_OK && r->why == NULL)
		r->why = st == UARECV_UNDECIPHERABLE ? "cannot decrypt" :
		    st == UARECV_UNSUPPORTED ? "no content of a known type" :
		    st == UARECV_NOMEM ? "out of memory" : "malformed body";
	mime_free(tree);
	return r->status = st;
}

void
uarecv_free(struct uarecv *r)
{
	if (r == NULL)
		return;
	free(r->content);
	r->content = NULL;
}
