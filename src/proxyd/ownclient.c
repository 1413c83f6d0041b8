/*
 * ownclient.c - non-INVITE client transactions over UDP that the proxy
 * keeps itself, not nta (docs/memory.md, "Non-INVITE client transactions
 * over UDP").
 *
 * nta keeps a completed non-INVITE client transaction over UDP for Timer
 * K (T4, 5 s) with the request as sent and its final response: about 10
 * KB a BYE, 100 of the 227 MiB the proxy held at 2,000 calls/s. Timer K
 * only absorbs retransmissions of the final response, and a proxy may
 * drop those (incoming_stray() does). So when the next hop is an IP
 * address over UDP the request goes out through nta statelessly (nta
 * adds our Via with our branch and sends it once) and the rest of RFC 3261
 * 17.1.2 is done here: Timer E retransmissions (T1 doubling up to T2, T2
 * once a provisional came), Timer F (408), responses matched by branch
 * (incoming_stray()), and an ICMP error reported by the transport
 * (tport_pend(), as nta does it) taken as a transport error. Everything
 * goes at the final response.
 *
 * Left to nta: a next hop named by a host name (RFC 3263 may choose TCP),
 * TCP and TLS (nta ends those transactions at once), a flow to a phone
 * (edge.c), and a request that may not fit the UDP MTU (nta sends it over
 * TCP instead, RFC 3261 18.1.1).
 */
#include "proxyd/ptx.h"

#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include <event2/event.h>
#include <sofia-sip/hostdomain.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nta.h>
#include <sofia-sip/nta_tag.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/tport_tag.h>

#include "common/log.h"
#include "common/monoclock.h"
#include "common/txmap.h"
#include "proxyd/agent.h"
#include "proxyd/conf.h"
#include "proxyd/loop.h"

/* RFC 3261 17.1.1.1 defaults, which the agent keeps (nta's too). */
#define OWN_T1_MS 500u
#define OWN_T2_MS 4000u
/* What our Via and Record-Route add to the received request, at most:
 * a request closer than this to the UDP MTU is left to nta. */
#define OWN_GROWTH 400u

/* The UDP socket nta would send from to host:port (nta.c
 * outgoing_prepare_send() asks the same), or NULL. */
static tport_t *
udp_socket_for(nta_agent_t *nta, const char *host, const char *port)
{
	tp_name_t tpn = { "udp", NULL, NULL, NULL, NULL, NULL };
	tport_t *tp;

	tpn.tpn_canon = tpn.tpn_host = host;
	tpn.tpn_port = port;
	tp = tport_by_name(nta_agent_tports(nta), &tpn);
	if (tp == NULL || strcasecmp(tport_name(tp)->tpn_proto, "udp") != 0)
		return NULL;
	return tp;
}

/* The next hop is an IP address over UDP and the request fits: 1, and
 * t->own.host and port say where. */
static int
eligible(struct ptx *t, const url_t *next, tport_t *conn)
{
	sip_method_t m = t->sip->sip_request->rq_method;
	const char *port;
	char tp[8];
	size_t len;

	if (m == sip_method_invite || m == sip_method_ack ||
	    m == sip_method_cancel || conn != NULL || next == NULL ||
	    next->url_type != url_sip ||
	    ptx_hop_address(next, t->own.host, sizeof(t->own.host)) == 0)
		return 0;
	if (url_param(next->url_params, "transport", tp, sizeof(tp)) > 0 &&
	    strcasecmp(tp, "udp") != 0)
		return 0;
	port = next->url_port != NULL ? next->url_port : "5060";
	if ((len = strlen(port)) >= sizeof(t->own.port))
		return 0;
	memcpy(t->own.port, port, len + 1);
	return msg_size(t->req) + OWN_GROWTH <= t->st->conf->udp_mtu;
}

/* Let go of everything the transaction holds; t stays. Idempotent. */
void
ownclient_end(struct ptx *t)
{
	if (t->own.on)
		txmap_del(t->px->detached, ptx_branch_key(t->branch), t);
	t->own.on = 0;
	if (t->own.timer != NULL)
		event_free(t->own.timer);
	t->own.timer = NULL;
	if (t->own.pend > 0)
		tport_release(t->own.tp, t->own.pend, t->own.sent, NULL,
		    (tp_client_t *)t, 0);
	t->own.pend = 0;
	if (t->own.sent != NULL)
		msg_destroy(t->own.sent);
	t->own.sent = NULL;
}

static void
arm(struct ptx *t, uint64_t now)
{
	uint64_t wait = t->own.reliable ? UINT64_MAX / 2 : t->own.interval_ms;
	struct timeval tv;

	if (now + wait > t->own.deadline_ms)
		wait = t->own.deadline_ms > now ? t->own.deadline_ms - now : 0;
	tv.tv_sec = (time_t)(wait / 1000);
	tv.tv_usec = (suseconds_t)(wait % 1000) * 1000;
	evtimer_add(t->own.timer, &tv);
}

/* The next hop cannot be reached (503 from it, RFC 3261 16.9) or did
 * not answer (408). Ends t. */
static void
give_up(struct ptx *t, int status)
{
	ownclient_end(t);
	responses_local_failure(t, status);
	ptx_free(t);
}

static void
retransmit(struct ptx *t)
{
	tp_name_t tpn = { "udp", NULL, NULL, NULL, NULL, NULL };

	tpn.tpn_canon = tpn.tpn_host = t->own.host;
	tpn.tpn_port = t->own.port;
	if (tport_tsend(t->own.tp, t->own.sent, &tpn, TAG_END()) == NULL)
		ptx_logf(t, LOG_INFO, "%s not sent again: %s",
		    method_name(t->sip), strerror(msg_errno(t->own.sent)));
}

/* Timer E (send again) and Timer F (give up), RFC 3261 17.1.2.2. */
static void
timer_fired(evutil_socket_t fd, short what, void *arg)
{
	struct ptx *t = arg;
	struct loop *l = t->px->loop;
	uint64_t now = monoclock_ms();

	(void)fd;
	(void)what;
	if (now >= t->own.deadline_ms) {
		give_up(t, 408);
	} else {
		if (!t->own.reliable)
			retransmit(t);
		if (!t->own.proceeding && t->own.interval_ms < OWN_T2_MS)
			t->own.interval_ms *= 2;
		if (t->own.interval_ms > OWN_T2_MS)
			t->own.interval_ms = OWN_T2_MS;
		arm(t, now);
	}
	loop_kick(l); /* the sends touched Sofia outside its step */
}

/* The transport got an ICMP error for the request's destination. */
static void
icmp_error(tp_stack_t *stack, tp_client_t *client, tport_t *tp, msg_t *msg,
    int error)
{
	struct ptx *t = (struct ptx *)client;

	(void)stack;
	(void)tp;
	(void)msg;
	ptx_logf(t, LOG_INFO, "%s: transport error: %s", method_name(t->sip),
	    strerror(error));
	give_up(t, 503);
}

/* Our branch files t for its responses; the timer starts. 0, or -1. */
static int
track(struct ptx *t, uint64_t now)
{
	t->own.timer = evtimer_new(loop_base(t->px->loop), timer_fired, t);
	if (t->own.timer == NULL ||
	    txmap_put(t->px->detached, ptx_branch_key(t->branch), t) != 0)
		return -1;
	t->own.on = 1;
	t->own.interval_ms = OWN_T1_MS;
	t->own.deadline_ms = now + t->st->conf->transaction_timeout_ms;
	if (!ptx_sent_over_udp(sip_object(t->own.sent))) {
		/* nta chose otherwise after all: nothing to send again. */
		ptx_logf(t, LOG_DEBUG, "%s sent, not over UDP",
		    method_name(t->sip));
		t->own.reliable = 1;
	} else {
		/* Without it an ICMP error waits for Timer F: not worth
		 * failing for. */
		t->own.pend = tport_pend(t->own.tp, t->own.sent, icmp_error,
		    (tp_client_t *)t);
	}
	arm(t, now);
	return 0;
}

/* 1: sent, in flight; 0: not ours to send (nta's then); -1: answered
 * upstream already (a transport error), t is to be freed. */
int
ownclient_send(struct ptx *t, const url_t *next, url_string_t const *route,
    tport_t *conn)
{
	nta_agent_t *nta = agent_nta(t->px->agent);
	nta_outgoing_t *orq;
	tport_t *tp;

	if (!eligible(t, next, conn))
		return 0;
	if ((tp = udp_socket_for(nta, t->own.host, t->own.port)) == NULL)
		return 0;
	t->own.tp = tp;
	t->own.sent = msg_ref_create(t->fwd);
	/* Stateless: nta adds our Via, sends once, keeps nothing. */
	orq = nta_outgoing_mcreate(nta, NULL, NULL, route, t->fwd,
	    NTATAG_BRANCH_KEY(t->branch), NTATAG_STATELESS(1),
	    NTATAG_TPORT(tp), TAG_END());
	if (orq == NULL) {
		/* Not sent (t->fwd is still ours): a transport error. */
		ptx_logf(t, LOG_INFO, "cannot send %s: %s", method_name(t->sip),
		    strerror(msg_errno(t->own.sent)));
		ownclient_end(t);
		responses_local_failure(t, 503);
		return -1;
	}
	t->fwd = NULL;
	if (orq != (nta_outgoing_t *)-1) /* queued, not sent yet: unexpected */
		nta_outgoing_destroy(orq);
	if (track(t, monoclock_ms()) != 0) {
		ptx_logf(t, LOG_ERR, "out of memory: %s sent, not tracked",
		    method_name(t->sip));
		ownclient_end(t);
		answer_status(t, SIP_500_INTERNAL_SERVER_ERROR, TAG_END());
		return -1;
	}
	return 1;
}

/* A response found by our branch (incoming_stray()). Consumes msg. */
void
ownclient_response(struct ptx *t, msg_t *msg, const sip_t *sip)
{
	int status = sip->sip_status->st_status;

	if (sip->sip_cseq->cs_method != t->sip->sip_request->rq_method) {
		msg_destroy(msg);
		return;
	}
	if (status < 200) {
		t->own.proceeding = 1;
		t->own.interval_ms = OWN_T2_MS; /* from the next Timer E */
		if (status == 100) {
			msg_destroy(msg);
			return;
		}
	} else {
		ownclient_end(t);
	}
	responses_queue(t, msg, status);
}
