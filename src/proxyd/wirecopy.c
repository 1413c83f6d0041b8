/*
 * wirecopy.c - a copy of a received message that keeps its bytes.
 *
 * RFC 3261 16.6 step 1: the proxy forwards a copy of the request and
 * changes only what the steps after say. Sofia's msg_dup() encodes every
 * header field again from its parsed form, in an order of its own, and
 * drops those it failed to parse (msg_error_e() writes nothing): a
 * "Date: ... EST" (RFC 4475 baddate) vanished, escapes in URIs were
 * decoded (esc01's "%6C%72" became a real ";lr"), folding and spacing
 * changed. Here the copy is parsed again from the received bytes
 * (each field's own, kept by MSG_DO_EXTRACT_COPY), so what nobody
 * changes is forwarded byte for byte, and later changes (Max-Forwards,
 * Route, Record-Route, our Via) are encoded by Sofia as before.
 * A NUL escaped in a quoted string, masked for Sofia's parser, is put
 * back (wirecopy_unmask()).
 */
#include "proxyd/wirecopy.h"

#include <stdlib.h>
#include <string.h>

#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/su_alloc.h>

#include "common/buf.h"
#include "common/sipstream.h"

/* One header field's bytes: as received, or encoded when it changed. */
static void
put_header(struct buf *b, msg_header_t *h, const char **raw_end)
{
	char tmp[1024];
	issize_t n;
	char *big;

	/* A field sharing its line with the one before ("Route: <a>, <b>")
	 * has no bytes of its own: they went out with that one. */
	if (h->sh_data != NULL && (h->sh_len > 0 || h->sh_data == *raw_end)) {
		*raw_end = (const char *)h->sh_data + h->sh_len;
		buf_add(b, h->sh_data, h->sh_len);
		return;
	}
	*raw_end = NULL;
	n = msg_header_e(tmp, sizeof(tmp), h, 0);
	if (n < 0) {
		b->oom = 1;
		return;
	}
	if ((size_t)n < sizeof(tmp)) {
		buf_add(b, tmp, (size_t)n);
		return;
	}
	if ((big = malloc((size_t)n + 1)) == NULL) {
		b->oom = 1;
		return;
	}
	n = msg_header_e(big, n + 1, h, 0);
	if (n < 0)
		b->oom = 1;
	else
		buf_add(b, big, (size_t)n);
	free(big);
}

/* Do the received bytes of header field h hold a masked NUL? */
static int
masked(const msg_header_t *h)
{
	return h->sh_class != sip_payload_class && h->sh_data != NULL &&
	    h->sh_len > 0 && memchr(h->sh_data, SIPSTREAM_NUL, h->sh_len) !=
	    NULL;
}

/*
 * NULs escaped in quoted strings were masked before Sofia parsed the
 * message (common/sipstream.h); header fields go out from their received
 * bytes (sh_data, in the message's own buffer), so the NULs are put back
 * there, and the message forwards them as they came. The parsed values
 * keep the mask.
 */
void
wirecopy_unmask(msg_t *copy)
{
	msg_header_t **head;
	msg_header_t *h;

	/* A parsed message is chained already: no msg_serialize(). */
	if ((head = msg_chain_head(copy)) == NULL)
		return;

	for (h = *head; h != NULL; h = h->sh_succ)
		if (masked(h))
			sipstream_unmask((unsigned char *)h->sh_data,
			    h->sh_len);
}

/*
 * The request line goes out as received only when it has the one form
 * RFC 3261 25.1 allows: METHOD SP Request-URI SP SIP-Version CRLF.
 * Sofia accepts more (RFC 4475 lwsstart, trws: extra or trailing
 * spaces); such a line is encoded again from its parsed form, so that
 * the copy is clean (RFC 4475 3.1.2.9, 3.1.2.10).
 */
static void
tidy_request_line(msg_t *copy)
{
	sip_t *sip = sip_object(copy);
	msg_common_t *rq;
	const char *p, *end;
	int spaces = 0;

	if (sip == NULL || sip->sip_request == NULL)
		return;
	rq = sip->sip_request->rq_common;
	if (rq->h_data == NULL)
		return;
	p = rq->h_data;
	end = p + rq->h_len;
	if (rq->h_len < 2 || end[-2] != '\r' || end[-1] != '\n')
		goto encode;
	for (end -= 2; p < end; p++) {
		if (*p == ' ') {
			if (++spaces > 2 || p == (const char *)rq->h_data ||
			    p + 1 == end || p[1] == ' ')
				goto encode;
		} else if ((unsigned char)*p < 0x21 || *p == 0x7f) {
			goto encode;
		}
	}
	if (spaces == 2)
		return;
encode:
	msg_fragment_clear(rq);
}

msg_t *
wirecopy(msg_t *msg)
{
	struct buf b = { 0 };
	msg_header_t **head, *h;
	const char *raw_end = NULL;
	msg_t *copy = NULL;

	if (msg_serialize(msg, NULL) < 0 || (head = msg_chain_head(msg)) ==
	    NULL)
		return NULL;
	for (h = *head; h != NULL; h = h->sh_succ) {
		if (h->sh_class == sip_payload_class) {
			buf_add(&b, h->sh_payload->pl_data,
			    h->sh_payload->pl_len);
			raw_end = NULL;
		} else {
			put_header(&b, h, &raw_end);
		}
	}
	if (!b.oom && b.len > 0)
		copy = msg_make(sip_default_mclass(), MSG_DO_CANONIC |
		    MSG_DO_EXTRACT_COPY, b.p, (ssize_t)b.len);
	if (copy != NULL)
		tidy_request_line(copy);
	if (copy != NULL && memchr(b.p, SIPSTREAM_NUL, b.len) != NULL)
		wirecopy_unmask(copy);
	buf_free(&b);
	return copy;
}

/* Does a header field of msg hold a masked NUL (srcguard.c, hdrguard.c)? */
static int
has_masked_nul(msg_t *msg)
{
	msg_header_t **head, *h;

	if ((head = msg_chain_head(msg)) == NULL)
		return 0;
	for (h = *head; h != NULL; h = h->sh_succ)
		if (masked(h))
			return 1;
	return 0;
}

msg_t *
wirecopy_shared(msg_t *msg)
{
	msg_t *copy;

	/* Putting a NUL back would change the original's bytes too. */
	if (msg_serialize(msg, NULL) < 0 || has_masked_nul(msg))
		return wirecopy(msg);
	if ((copy = msg_copy(msg)) != NULL)
		tidy_request_line(copy);
	return copy;
}
