/*
 * invite.c - what an INVITE has that other requests do not: CANCEL, and
 * the client transaction the proxy takes over from nta once the call is
 * proceeding, with Timer C, so that nta does not keep it and both its
 * messages for Timer D (docs/memory.md, "The INVITE client transaction").
 */
#include "proxyd/ptx.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include <event2/event.h>
#include <sofia-sip/nta.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>

#include "common/log.h"
#include "common/txmap.h"
#include "proxyd/agent.h"
#include "proxyd/conf.h"
#include "proxyd/hopbyhop.h"
#include "proxyd/loop.h"

uint64_t
ptx_branch_key(const char *branch)
{
	return ptx_hash_str(0xcbf29ce484222325ULL, branch);
}

static int
has_branch(const void *val, const void *arg)
{
	return strcmp(((const struct ptx *)val)->branch, arg) == 0;
}

/* The client transaction we keep (a detached INVITE, or ownclient.c's)
 * a response's top Via branch names, or NULL. */
struct ptx *
invite_find_detached(struct proxy *px, const char *branch)
{
	return txmap_find(px->detached, ptx_branch_key(branch), has_branch,
	    branch);
}

/* Timer C: ringing for ever. Give up downstream and upstream. */
static void
timer_c_fired(evutil_socket_t fd, short what, void *arg)
{
	struct ptx *t = arg;
	struct loop *l = t->px->loop;

	(void)fd;
	(void)what;
	if (t->canceled)
		ptx_logf(t, LOG_INFO, "no final response %u ms after the CANCEL",
		    t->st->conf->transaction_timeout_ms);
	else
		ptx_logf(t, LOG_INFO, "no final response in %d s",
		    TIMER_C_SECONDS);
	if (!t->canceled)
		hop_cancel(agent_nta(t->px->agent), t->det.sent, t->route_url);
	responses_local_failure(t, 408);
	ptx_free(t);
	loop_kick(l);
}

/* Take the INVITE client transaction over from nta (see invite_detach()):
 * filed by branch, Timer C armed, nta's transaction destroyed. 0, or -1
 * when that could not be done (nta's transaction is kept). Consumes sent. */
static int
take_over(struct ptx *t, msg_t *sent)
{
	struct proxy *px = t->px;
	struct timeval tv = { TIMER_C_SECONDS, 0 };

	t->det.bkey = ptx_branch_key(t->branch);
	t->det.timer_c = evtimer_new(loop_base(px->loop), timer_c_fired, t);
	if (t->det.timer_c == NULL ||
	    txmap_put(px->detached, t->det.bkey, t) != 0) {
		/* Keep nta's transaction: costs memory, not correctness. */
		if (t->det.timer_c != NULL)
			event_free(t->det.timer_c);
		t->det.timer_c = NULL;
		msg_destroy(sent);
		return -1;
	}
	t->det.sent = sent;
	nta_outgoing_destroy(t->orq);
	t->orq = NULL;
	t->det.on = 1;
	evtimer_add(t->det.timer_c, &tv);
	return 0;
}

int
ptx_sent_over_udp(const sip_t *ssip)
{
	return ssip != NULL && ssip->sip_via != NULL &&
	    strcasecmp(ssip->sip_via->v_protocol, sip_transport_udp) == 0;
}

/*
 * nta keeps an INVITE client transaction 32 s after its final response
 * (Timer D; Sofia has it at 32 s at least whatever T1 is) together with
 * both messages: most of the proxy's memory under UDP call load. Once the
 * call is proceeding the transaction has done its part (retransmitting
 * the INVITE), so let go of it: later responses arrive as strays and are
 * matched by our branch (incoming_stray), the non-2xx ACK and the CANCEL
 * are made by hopbyhop.c, and Timer C is ours.
 */
void
invite_detach(struct ptx *t)
{
	msg_t *sent = nta_outgoing_getrequest(t->orq);

	t->det.tried = 1;
	/* Over TCP or TLS nta ends the transaction at its final response
	 * anyway; letting go of it early there only made Sofia hold on to
	 * more (measured: 4x the memory). */
	if (!ptx_sent_over_udp(sip_object(sent))) {
		msg_destroy(sent);
		return;
	}
	if (take_over(t, sent) == 0)
		ptx_logf(t, LOG_DEBUG,
		    "INVITE proceeding, transaction taken over");
}

/* A response for a detached INVITE, found by our branch. */
void
invite_detached_response(struct ptx *t, msg_t *msg, const sip_t *sip)
{
	int status = sip->sip_status->st_status;

	if (status <= 100) {
		msg_destroy(msg);
		return;
	}
	ptx_logf(t, LOG_DEBUG, "%d matched by branch", status);
	if (status >= 300)
		hop_ack(agent_nta(t->px->agent), t->det.sent, t->route_url,
		    msg);
	if (status >= 200 && t->det.timer_c != NULL)
		evtimer_del(t->det.timer_c);
	responses_queue(t, msg, status);
}

/*
 * Over TCP or TLS, nta_outgoing_tcancel() ends the INVITE's client
 * transaction as it sends the CANCEL once a provisional came (nta.c:
 * outgoing_complete() terminates a completed transaction on a reliable
 * transport unless the agent is a UA's): the 487 then matched nothing and
 * was dropped, and the caller waited for Timer C or a broken connection.
 * So there the proxy takes the transaction over first, as it does over
 * UDP, and sends the CANCEL itself; the 487 is then found by branch. Before
 * any provisional nta only queues the CANCEL and keeps the transaction.
 */
static int
take_over_to_cancel(struct ptx *t)
{
	msg_t *sent;

	if (nta_outgoing_status(t->orq) < 100)
		return -1;
	sent = nta_outgoing_getrequest(t->orq);
	if (sent == NULL || ptx_sent_over_udp(sip_object(sent))) {
		msg_destroy(sent);
		return -1;
	}
	return take_over(t, sent);
}

/*
 * RFC 3261 9.1: a final response that has not come 64*T1 after the
 * CANCEL is not coming; the INVITE is then taken as canceled. Without
 * this a next hop hung after a provisional (or one that ignores CANCEL)
 * left the caller, who had its 200 for the CANCEL, waiting for Timer C's
 * 185 s; now Timer C is brought forward to sip.transaction_timeout and
 * the caller gets its 487 then (t_fault_slow.sh).
 */
static void
cancel_deadline(struct ptx *t)
{
	unsigned ms = t->st->conf->transaction_timeout_ms;
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) *
		1000 };

	if (t->det.timer_c != NULL && ms < TIMER_C_SECONDS * 1000u) {
		evtimer_del(t->det.timer_c);
		/* From now, not from the start of this loop iteration (libevent's
		 * cached time: 0.7 s stale once under load, t_fault_slow.sh). */
		event_base_update_cache_time(loop_base(t->px->loop));
		evtimer_add(t->det.timer_c, &tv);
	}
}

void
invite_cancel_downstream(struct ptx *t)
{
	t->canceled = 1;
	if (t->orq != NULL && take_over_to_cancel(t) != 0) {
		/* The CANCEL's own transaction needs nothing from us; nta's
		 * INVITE transaction has its own Timer B still. */
		nta_outgoing_destroy(nta_outgoing_tcancel(t->orq, NULL, NULL,
		    TAG_END()));
		return;
	}
	if (t->det.on) {
		hop_cancel(agent_nta(t->px->agent), t->det.sent, t->route_url);
		cancel_deadline(t);
	}
}

int
invite_on_cancel(struct ptx *t, nta_incoming_t *irq, const sip_t *sip)
{
	(void)irq;
	if (sip == NULL || sip->sip_request->rq_method != sip_method_cancel)
		return 0;
	ptx_logf(t, LOG_DEBUG, "CANCEL received");
	/* nta answers it 200 itself. */
	t->px->stats.requests[proxy_stats_method("CANCEL")]++;
	ptx_count_response(t->px, 200);
	if (t->orq == NULL && !t->det.on && !t->canceled) {
		/* Not forwarded yet (crypto running): end it here. */
		t->canceled = 1;
		ptx_count_response(t->px, 487);
		nta_incoming_treply(t->irq, SIP_487_REQUEST_TERMINATED,
		    TAG_END());
		ptx_free(t);
		return 200;
	}
	if (!t->canceled)
		invite_cancel_downstream(t);
	return 200;
}
