/*
 * answer.c - the proxy's own answers to a request: on nta's server
 * transaction, or on one of the proxy's own (UDP non-INVITE, owntx.h),
 * whose response bytes are kept to answer retransmissions and expire
 * together after Timer J.
 */
#include "proxyd/ptx.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nta.h>
#include <sofia-sip/nta_stateless.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_tagarg.h>
#include <sofia-sip/tport.h>

#include "common/log.h"
#include "common/monoclock.h"
#include "proxyd/agent.h"
#include "proxyd/owntx.h"
#include "proxyd/sipchallenge.h"


/*
 * Our own non-INVITE server transactions over UDP (docs/memory.md,
 * "Non-INVITE server transactions over UDP"). nta would keep each
 * completed one with its parsed request and response for Timer J, 64*T1:
 * most of the proxy's memory under a UDP call load (the BYEs). Such
 * requests reach us without a transaction (the proxy has no default leg);
 * owntx.c keeps the key and, once a response went out, its bytes, which
 * answer retransmissions (RFC 3261 17.2.2).
 */

static void own_arm(struct proxy *px);

/*
 * What a response copies from its request (RFC 3261 8.2.6.2; nta does
 * this for its own transactions), and a To tag for a final response that
 * has none, before its bytes are kept: a retransmission must get the same
 * tag.
 */
static int
own_complete(struct ptx *t, msg_t *resp, sip_t *rsip)
{
	su_home_t *home = msg_home(resp);
	const sip_t *q = t->sip;

	if ((rsip->sip_via == NULL && sip_add_dup(resp, rsip,
	    (sip_header_t const *)q->sip_via) < 0) ||
	    (rsip->sip_from == NULL && sip_add_dup(resp, rsip,
	    (sip_header_t const *)q->sip_from) < 0) ||
	    (rsip->sip_to == NULL && sip_add_dup(resp, rsip,
	    (sip_header_t const *)q->sip_to) < 0) ||
	    (rsip->sip_call_id == NULL && sip_add_dup(resp, rsip,
	    (sip_header_t const *)q->sip_call_id) < 0) ||
	    (rsip->sip_cseq == NULL && sip_add_dup(resp, rsip,
	    (sip_header_t const *)q->sip_cseq) < 0))
		return -1;
	if (rsip->sip_status->st_status > 100 && rsip->sip_to != NULL &&
	    rsip->sip_to->a_tag == NULL && sip_to_tag(home, rsip->sip_to,
	    nta_agent_newtag(home, "tag=%s", agent_nta(t->px->agent))) < 0)
		return -1;
	return sip_complete_message(resp);
}

/* The bytes the transport sent msg as (it encodes the headers into the
 * message for the send), in msg's home: cheaper than encoding them again
 * with msg_as_string(). NULL when msg was not encoded (an early failure). */
static char *
sent_bytes(msg_t *msg, size_t *len)
{
	msg_iovec_t iov[8];
	isize_t n = msg_iovec(msg, iov, 8), i;
	size_t total = 0, at = 0;
	char *b;

	if (n <= 0 || n > 8)
		return NULL;
	for (i = 0; i < n; i++)
		total += iov[i].mv_len;
	if ((b = su_alloc(msg_home(msg), total + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		memcpy(b + at, iov[i].mv_base, iov[i].mv_len);
		at += iov[i].mv_len;
	}
	b[total] = '\0';
	*len = total;
	return b;
}

/* Send resp (consumed) upstream on t's own transaction; its bytes answer
 * the request's retransmissions from now on. 0, or -1. */
int
answer_own_send(struct ptx *t, msg_t *resp)
{
	struct proxy *px = t->px;
	sip_t *rsip = sip_object(resp);
	int status = rsip->sip_status->st_status, final = status >= 200;
	int rc = -1;
	const char *bytes = NULL;
	size_t len = 0;
	msg_t *sent = NULL;

	if (owntx_completed(t->stx)) {
		/* As nta: one final response per transaction. */
		msg_destroy(resp);
		return -1;
	}
	if (own_complete(t, resp, rsip) == 0) {
		ptx_count_response(px, status);
		sent = msg_ref_create(resp);
		/* Out of the socket the request came in on, not by Via. */
		rc = nta_msg_mreply(agent_nta(px->agent), resp, rsip, status,
		    NULL, msg_ref_create(t->req), NTATAG_TPORT(t->tport),
		    TAG_END());
		if ((bytes = sent_bytes(sent, &len)) == NULL)
			bytes = msg_as_string(msg_home(sent), sent, NULL, 0,
			    &len);
	}
	/* Not sent: a final still completes the transaction (absorbing). */
	if (owntx_respond(px->own, t->stx, bytes, len, final,
	    monoclock_ms()) != 0)
		ptx_logf(t, LOG_INFO, "%d not kept: retransmissions will be "
		    "absorbed", status);
	if (final)
		own_arm(px);
	msg_destroy(sent != NULL ? sent : resp);
	return rc;
}

/* A local answer on whichever server transaction t has. */
void
answer_status(struct ptx *t, int status, const char *phrase, tag_type_t tag,
    tag_value_t value, ...)
{
	ta_list ta;
	msg_t *resp;
	sip_t *rsip;

	ta_start(ta, tag, value);
	if (status >= 200)
		t->final_status = status;
	if (t->irq != NULL) {
		ptx_count_response(t->px, status);
		nta_incoming_treply(t->irq, status, phrase, ta_tags(ta));
	} else if ((resp = nta_msg_create(agent_nta(t->px->agent), 0)) !=
	    NULL) {
		rsip = sip_object(resp);
		if (sip_add_tl(resp, rsip, SIPTAG_STATUS(sip_status_create(
		    msg_home(resp), status, phrase, NULL)), ta_tags(ta)) < 0 ||
		    rsip->sip_status == NULL)
			msg_destroy(resp);
		else
			answer_own_send(t, resp);
	}
	(void)ta_end(ta);
}

int
answer_own_challenge(struct ptx *t, enum sipchallenge_kind kind,
    const char *const *missing, size_t nmissing, const char **why)
{
	msg_t *resp = nta_msg_create(agent_nta(t->px->agent), 0);
	sip_t *rsip = sip_object(resp);
	const char *phrase;
	int status = sipchallenge_status(t->st->chal, kind, &phrase);

	*why = "out of memory";
	if (resp == NULL)
		return -1;
	if (sip_add_tl(resp, rsip, SIPTAG_STATUS(sip_status_create(
	    msg_home(resp), status, phrase, NULL)), TAG_END()) < 0 ||
	    rsip->sip_status == NULL || own_complete(t, resp, rsip) < 0 ||
	    sipchallenge_fill(t->st->chal, resp, kind, missing, nmissing,
	    why) < 0) {
		msg_destroy(resp);
		return -1;
	}
	if (answer_own_send(t, resp) < 0) {
		*why = "cannot send";
		return -1;
	}
	return 0;
}

void
answer_own_expire(evutil_socket_t fd, short what, void *arg)
{
	struct proxy *px = arg;

	(void)fd;
	(void)what;
	owntx_expire(px->own, monoclock_ms());
	own_arm(px);
}

/* One timer for all completed transactions, at the oldest one's end:
 * they all linger the same time, so they expire in order. */
static void
own_arm(struct proxy *px)
{
	uint64_t when, now = monoclock_ms();
	struct timeval tv;

	if (evtimer_pending(px->own_timer, NULL) ||
	    !owntx_next_expiry(px->own, &when))
		return;
	when = (when > now ? when - now : 0) + OWN_BATCH_MS;
	tv.tv_sec = (time_t)(when / 1000);
	tv.tv_usec = (suseconds_t)(when % 1000) * 1000;
	evtimer_add(px->own_timer, &tv);
}

/* Answer locally; the ptx is finished afterwards. */
enum step
answer_reply(struct ptx *t, int status, const char *phrase)
{
	/* Refusals are worth a line; keep-alive OPTIONS are not. */
	ptx_logf(t, status >= 300 ? LOG_INFO : LOG_DEBUG, "%s answered %d %s",
	    method_name(t->sip), status, phrase);
	answer_status(t, status, phrase, TAG_END());
	return STEP_DONE;
}

/* Like nta's for a destroyed transaction: a 500 if nothing final went. */
void
answer_own_close(struct ptx *t)
{
	if (!owntx_completed(t->stx))
		answer_status(t, SIP_500_INTERNAL_SERVER_ERROR, TAG_END());
	/* Still open only when even that could not be made. */
	owntx_drop(t->px->own, t->stx);
	t->stx = NULL;
	if (t->tport != NULL)
		tport_unref(t->tport);
}
