/*
 * uarecv.h - what a user agent makes of a body it receives: open every
 * envelope it can with its own keys, check every signature, and find the
 * content to show. An envelope it cannot open that the sender marked
 * handling=required means 493 Undecipherable (RFC 3261 23.2); a body with
 * nothing of a type it knows, 415. No Sofia types.
 */
#ifndef UARECV_H
#define UARECV_H

#include <stddef.h>
#include <stdint.h>

#include "e2m/mime.h"

struct cms_keys;

enum uarecv_status {
	UARECV_OK = 0,
	UARECV_UNDECIPHERABLE, /* 493 */
	UARECV_UNSUPPORTED,    /* 415 */
	UARECV_MALFORMED,      /* 400 */
	UARECV_NOMEM
};

struct uarecv {
	enum uarecv_status status;
	int decrypted;          /* envelopes opened */
	int undecipherable;     /* envelopes that stayed shut */
	int signatures;         /* signatures checked */
	int valid;              /* ... of which valid */
	char signer[256];       /* the first valid signer, escaped */
	char type[128];         /* type/subtype of the content shown */
	char *content;          /* its bytes, NUL-terminated, malloc()ed */
	size_t content_len;
	const char *why;        /* static, when not OK */
};

/* keys may be NULL (nothing can be opened or checked). */
enum uarecv_status uarecv_open(const struct cms_keys *keys,
    const struct mime_headers *top, const void *body, size_t len,
    struct uarecv *out);
void uarecv_free(struct uarecv *r);

#endif /* UARECV_H */
