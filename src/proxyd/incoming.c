/*
 * incoming.c - where messages enter the proxy core. nta has no default
 * leg: every new request, and every response it matched to no client
 * transaction, comes to incoming_stray(). A request gets a server
 * transaction, nta's or (UDP non-INVITE) the proxy's own, and a struct
 * ptx for its way through the stages; a stray response goes to the
 * detached INVITE it belongs to, or is forwarded or ACKed statelessly.
 */
#include "proxyd/ptx.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nta.h>
#include <sofia-sip/nta_stateless.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/tport.h>

#include "common/log.h"
#include "common/txmap.h"
#include "e2m/inspect.h"
#include "proxyd/agent.h"
#include "proxyd/hopbyhop.h"
#include "proxyd/owntx.h"
#include "proxyd/sofia/parsefix.h"
#include "proxyd/sofia/hdrguard.h"
#include "proxyd/sipoverload.h"
#include "proxyd/svc_archive.h"

/* t is made for one request; NULL when out of memory. */
struct ptx *
ptx_new(struct proxy *px, msg_t *req)
{
	struct ptx *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->px = px;
	t->st = state_ref(px->st);
	t->id = ++px->next_id;
	px->stats.in_flight++;
	/* On the live list: what is still in flight at a stop gets an
	 * answer and is freed (stop.c). */
	t->live_next = px->live;
	if (px->live != NULL)
		px->live->live_prev = t;
	px->live = t;
	t->req = req;
	t->sip = sip_object(req);
	return t;
}

/* Off px->live and the in-flight count. */
static void
ptx_unlink(struct ptx *t)
{
	struct proxy *px = t->px;

	if (t->live_prev != NULL)
		t->live_prev->live_next = t->live_next;
	else
		px->live = t->live_next;
	if (t->live_next != NULL)
		t->live_next->live_prev = t->live_prev;
	px->stats.in_flight--;
}

/* A request in a server transaction of nta's. */
static void
start_with_irq(struct proxy *px, nta_incoming_t *irq)
{
	struct ptx *t = ptx_new(px, nta_incoming_getrequest(irq));

	if (t == NULL) {
		if (nta_incoming_status(irq) < 200)
			nta_incoming_treply(irq, SIP_500_INTERNAL_SERVER_ERROR,
			    TAG_END());
		nta_incoming_destroy(irq);
		return;
	}
	t->irq = irq;
	stages_start(t);
}

/* Requests whose transaction we keep ourselves: RFC 3261 branches (the
 * others match differently), non-INVITE, over UDP (over TCP nta ends the
 * transaction at its final response anyway). */
static int
own_eligible(const sip_t *sip)
{
	const sip_via_t *v = sip->sip_via;
	sip_method_t m = sip->sip_request->rq_method;

	return m != sip_method_invite && m != sip_method_ack &&
	    m != sip_method_cancel && v != NULL && v->v_host != NULL &&
	    v->v_branch != NULL && strncasecmp(v->v_branch, "z9hG4bK", 7) == 0 &&
	    strcasecmp(v->v_protocol, sip_transport_udp) == 0;
}

/* A retransmission: the last response again, or nothing while the
 * request is worked on (RFC 3261 17.2.2). Consumes msg. */
static void
own_retransmission(struct proxy *px, struct owntx *x, msg_t *msg,
    const sip_t *sip)
{
	size_t len;
	const char *bytes = owntx_response(x, &len);
	msg_t *resp;
	sip_t *rsip;

	if (bytes == NULL || len == 0) {
		msg_logf(msg, sip, LOG_DEBUG, "%s retransmission absorbed",
		    method_name(sip));
		msg_destroy(msg);
		return;
	}
	resp = msg_make(sip_default_mclass(), 0, bytes, (ssize_t)len);
	rsip = sip_object(resp);
	if (rsip == NULL || rsip->sip_status == NULL) {
		msg_destroy(resp);
		msg_destroy(msg);
		return;
	}
	msg_logf(msg, sip, LOG_DEBUG, "%s retransmission answered %d again",
	    method_name(sip), rsip->sip_status->st_status);
	/* Out of the socket the retransmission came in on. */
	nta_msg_mreply(agent_nta(px->agent), resp, rsip,
	    rsip->sip_status->st_status, NULL, msg, TAG_END());
}

/* A request that is ours to keep track of (own_eligible). */
static void
start_own(struct proxy *px, msg_t *msg, sip_t *sip)
{
	nta_agent_t *nta = agent_nta(px->agent);
	const sip_via_t *v = sip->sip_via;
	struct owntx *x = owntx_find(px->own, v->v_branch, v->v_host,
	    v->v_port, method_name(sip));
	struct ptx *t;
	nta_incoming_t *irq;

	if (x != NULL) {
		own_retransmission(px, x, msg, sip);
		return;
	}
	if (sipoverload_shed(px, msg, sip))
		return;
	if ((t = ptx_new(px, msg)) == NULL) {
		nta_msg_treply(nta, msg, SIP_500_INTERNAL_SERVER_ERROR,
		    TAG_END());
		return;
	}
	t->stx = owntx_open(px->own, v->v_branch, v->v_host, v->v_port,
	    method_name(sip), t);
	if (t->stx == NULL) {
		/* nta's transaction then: costs memory, not correctness. */
		ptx_unlink(t);
		state_unref(t->st);
		free(t);
		if ((irq = nta_incoming_create(nta, NULL, msg, sip,
		    TAG_END())) != NULL)
			start_with_irq(px, irq);
		return;
	}
	/* While it is being delivered nta can tell the socket. */
	t->tport = nta_incoming_transport(nta, NULL, msg);
	stages_start(t);
}

/* A CANCEL nta matched to none of its transactions: ours may be the
 * target (RFC 3261 9.2: 200, and a non-INVITE goes on regardless). */
static void
on_cancel(struct proxy *px, msg_t *msg, const sip_t *sip)
{
	const sip_via_t *v = sip->sip_via;
	int mine = v != NULL && v->v_branch != NULL && v->v_host != NULL &&
	    owntx_find(px->own, v->v_branch, v->v_host, v->v_port, NULL) !=
	    NULL;

	px->stats.requests[proxy_stats_method("CANCEL")]++;
	ptx_count_response(px, mine ? 200 : 481);
	nta_msg_treply(agent_nta(px->agent), msg, mine ? 200 : 481, NULL,
	    TAG_END());
}

/*
 * RFC 3261 7.5, 18.3: a message's header section ends with an empty line
 * and its body is as long as its Content-Length says. Sofia takes the end
 * of a datagram for the end of both, so a datagram cut short (a lost IP
 * fragment, a broken sender) would go on as if whole, with whatever
 * header or body it lost missing. (On a stream Sofia waits for the rest.)
 */
static int
cut_short(const sip_t *sip)
{
	usize_t have = sip->sip_payload != NULL ? sip->sip_payload->pl_len : 0;

	return sip->sip_separator == NULL ||
	    (sip->sip_content_length != NULL &&
	    sip->sip_content_length->l_length > have);
}

/* A request whose header section hdrguard.c cut: it was too large for
 * Sofia's buffer; what came before the cut ends with the marker field. */
static int
cut_too_large(const sip_t *sip)
{
	const char *marker = hdrguard_marker();
	const sip_unknown_t *u;

	if (marker == NULL)
		return 0;
	for (u = sip->sip_unknown; u != NULL; u = u->un_next)
		if (u->un_name != NULL && strcasecmp(u->un_name, marker) == 0)
			return 1;
	return 0;
}

/*
 * A request that matched no transaction of nta's (there is no default
 * leg, so all new requests come here). UDP non-INVITEs get a transaction
 * of ours; the rest one of nta's, as a default leg would have made.
 */
static void
on_new_request(struct proxy *px, nta_agent_t *nta, msg_t *msg, sip_t *sip)
{
	nta_incoming_t *irq;
	msg_t *ref;

	if (cut_too_large(sip)) {
		/* RFC 3261 21.4.11; the connection ends after it (the rest
		 * of the request is never read: hdrguard.h). */
		log_info("%s with a header section too large for the "
		    "connection's buffer: %s, connection closed",
		    method_name(sip), sip->sip_request->rq_method ==
		    sip_method_ack ? "dropped" : "answered 413");
		if (sip->sip_request->rq_method == sip_method_ack) {
			msg_destroy(msg);
		} else {
			ptx_count_response(px, 413);
			nta_msg_treply(nta, msg, SIP_413_REQUEST_TOO_LARGE,
			    TAG_END());
		}
		return;
	}
	if (sip->sip_request->rq_version == parsefix_bad_version) {
		/* RFC 3261 8.2.2 / 16.3: answered here, after nta's Via check
		 * (received, rport), so that it reaches the sender
		 * (parsefix.h). An ACK gets no answer. */
		log_debug("%s in another version than SIP/2.0: %s",
		    method_name(sip), sip->sip_request->rq_method ==
		    sip_method_ack ? "dropped" : "answered 505");
		if (sip->sip_request->rq_method == sip_method_ack) {
			msg_destroy(msg);
		} else {
			ptx_count_response(px, 505);
			nta_msg_treply(nta, msg, SIP_505_VERSION_NOT_SUPPORTED,
			    TAG_END());
		}
		return;
	}
	if (cut_short(sip)) {
		/* Answered, never forwarded: an ACK gets no answer. */
		log_debug("%s cut short (no empty line after the header, or "
		    "a body shorter than its Content-Length): %s",
		    method_name(sip), sip->sip_request->rq_method ==
		    sip_method_ack ? "dropped" : "answered 400");
		if (sip->sip_request->rq_method == sip_method_ack)
			msg_destroy(msg);
		else
			nta_msg_treply(nta, msg, 400, "Truncated Message",
			    TAG_END());
		return;
	}
	if (sip->sip_request->rq_method == sip_method_cancel) {
		on_cancel(px, msg, sip);
		return;
	}
	if (px->stop != NULL && stop_refuses(px, sip)) {
		/* Stopping: elsewhere, please (RFC 3263 moves it on). */
		px->stats.requests[proxy_stats_method(method_name(sip))]++;
		ptx_count_response(px, 503);
		nta_msg_treply(nta, msg, 503, "Shutting Down",
		    SIPTAG_RETRY_AFTER_STR("5"), TAG_END());
		return;
	}
	if (own_eligible(sip)) {
		start_own(px, msg, sip);
		return;
	}
	/* nta matched no transaction: not a retransmission of one we hold. */
	if (sip->sip_request->rq_method == sip_method_ack ?
	    sipoverload_ack(px, msg, sip) : sipoverload_shed(px, msg, sip))
		return;
	/* nta frees msg when it cannot make the transaction. */
	ref = msg_ref_create(msg);
	if ((irq = nta_incoming_create(nta, NULL, msg, sip, TAG_END())) ==
	    NULL) {
		if (sip->sip_request->rq_method != sip_method_ack)
			nta_msg_treply(nta, ref, SIP_500_INTERNAL_SERVER_ERROR,
			    TAG_END());
		else
			msg_destroy(ref);
		return;
	}
	msg_destroy(ref);
	start_with_irq(px, irq);
}

/* The irq stays in nta (retransmissions, ACK); we only let go of it. */
void
ptx_free(struct ptx *t)
{
	/* (no archive when the daemon runs without one) */
	if (t->archived && t->px->archive != NULL)
		svc_archive_final(t->px->archive, t, t->final_status);
	if (t->orq != NULL)
		nta_outgoing_destroy(t->orq);
	if (t->det.on)
		txmap_del(t->px->detached, t->det.bkey, t);
	if (t->det.timer_c != NULL)
		event_free(t->det.timer_c);
	if (t->det.sent != NULL)
		msg_destroy(t->det.sent);
	ownclient_end(t);
	if (t->irq != NULL)
		nta_incoming_destroy(t->irq);
	if (t->stx != NULL)
		answer_own_close(t);
	inspect_free(t->insp);
	inspect_free(t->resp.insp);
	for (; t->resp.n > 0; t->resp.n--, t->resp.first = (t->resp.first + 1) %
	    RESP_QUEUE)
		msg_destroy(t->resp.q[t->resp.first]);
	if (t->fwd != NULL)
		msg_destroy(t->fwd);
	edge_ptx_free(t);
	if (t->req != NULL)
		msg_destroy(t->req);
	ptx_unlink(t);
	state_unref(t->st);
	free(t);
}

/* A response to a request we sent: our branch in a Via of ours on top. */
static int
ours(struct proxy *px, const sip_t *sip)
{
	return sip != NULL && sip->sip_status != NULL && sip->sip_cseq != NULL &&
	    sip->sip_via != NULL && sip->sip_via->v_branch != NULL &&
	    strncmp(sip->sip_via->v_branch, BRANCH_MAGIC,
	    strlen(BRANCH_MAGIC)) == 0 && ptx_via_is_me(px, sip->sip_via);
}

/*
 * Messages nta matched to no transaction. Requests: see on_new_request.
 * Responses: those of client transactions we keep (INVITEs we detached,
 * ownclient.c's) go to them, found by branch. Once an INVITE's call is
 * gone, a 2xx retransmission is forwarded statelessly (RFC 3261 16.7 step
 * 10, only with a Via left for it: no reflection for strangers) and a
 * non-2xx one is ACKed again. Anything else is dropped (a final response
 * retransmitted to a finished non-INVITE: Timer K's job, not needed).
 */
int
incoming_stray(struct proxy *px, nta_agent_t *nta, msg_t *msg, sip_t *sip)
{
	struct ptx *t;
	int status;

	if (sip != NULL && sip->sip_request != NULL) {
		on_new_request(px, nta, msg, sip);
		return 0;
	}
	if (!ours(px, sip)) {
		px->stats.stray_dropped++;
		msg_destroy(msg);
		return 0;
	}
	t = invite_find_detached(px, sip->sip_via->v_branch);
	if (t != NULL && t->own.on) {
		ownclient_response(t, msg, sip);
		return 0;
	}
	if (t != NULL && sip->sip_cseq->cs_method == sip_method_invite) {
		invite_detached_response(t, msg, sip);
		return 0;
	}
	if (sip->sip_cseq->cs_method != sip_method_invite) {
		px->stats.stray_dropped++;
		msg_destroy(msg);
		return 0;
	}
	status = sip->sip_status->st_status;
	if (status >= 200 && status < 300 && sip->sip_via->v_next != NULL) {
		nta_msg_tsend(nta, msg, NULL, TAG_END());
		return 0;
	}
	if (status >= 300)
		hop_ack(nta, NULL, NULL, msg);
	msg_destroy(msg);
	return 0;
}
