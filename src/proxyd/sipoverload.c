/*
 * sipoverload.c - overload control on the proxy's side (sipoverload.h).
 *
 * A refused request costs its parse and one datagram out: no transaction
 * is made (that is the point: no memory, no timers, no retransmissions of
 * ours), so a retransmission of it is refused again, or admitted once the
 * proxy has caught up. The 503 goes back as any stateless answer of nta's
 * does (Via, received and rport, out of the socket the request came in
 * on). Its To tag is the same for every refusal, random per process,
 * so that the ACK the caller sends for it is recognised and dropped
 * instead of being forwarded as an in-dialog request (Kamailio's sl module
 * does the same with its own tag): over UDP by srcguard.c before Sofia
 * parses it, otherwise here.
 */
#include "proxyd/ptx.h"
#include "proxyd/sipoverload.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <event2/event.h>
#include <sofia-sip/nta_stateless.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/tport.h>

#include "common/log.h"
#include "common/monoclock.h"
#include "proxyd/agent.h"
#include "proxyd/conf.h"
#include "proxyd/metrics.h"
#include "proxyd/sofia/srcguard.h"
#include "proxyd/sofia/streamlag.h"

int
sipoverload_init(struct proxy *px)
{
	unsigned char r[8];
	size_t i;

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		memset(r, 0, sizeof(r)); /* a fixed tag still works */
	memcpy(px->shed_tag, "e2m503-", 7);
	for (i = 0; i < sizeof(r); i++)
		snprintf(px->shed_tag + 7 + 2 * i, 3, "%02x", r[i]);
	srcguard_shed_tag(px->shed_tag);
	return 0;
}

void
sipoverload_free(struct proxy *px)
{
	if (px->shed_timer != NULL)
		event_free(px->shed_timer);
	px->shed_timer = NULL;
}

/* At the end of the quiet period after the last refusal (a few ms more:
 * the coarse clock). */
static void
arm(struct proxy *px)
{
	uint64_t now = monoclock_coarse_ms(), end = px->overload.last_shed_ms +
	    OVERLOAD_QUIET_MS + 5;
	uint64_t ms = end > now ? end - now : 1;
	struct timeval tv = { (time_t)(ms / 1000),
	    (suseconds_t)(ms % 1000) * 1000 };

	event_add(px->shed_timer, &tv);
}

/* The episode ends when a quiet period passes without a refusal. */
static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct proxy *px = arg;
	const struct overload *o = &px->overload;

	(void)fd;
	(void)what;
	if (overload_quiet(&px->overload, monoclock_coarse_ms())) {
		log_notice("overload: shedding stopped after %.1f s, %llu new "
		    "requests answered 503", (o->last_shed_ms -
		    o->started_ms) / 1000.0,
		    (unsigned long long)o->episode_shed);
		return;
	}
	arm(px);
}

/* Out of dialog: no To tag. */
static int
new_work(const sip_t *sip)
{
	sip_method_t m = sip->sip_request->rq_method;

	return m != sip_method_ack && m != sip_method_cancel &&
	    sip->sip_to != NULL && sip->sip_to->a_tag == NULL;
}

static uint32_t
to_us(uint64_t ms)
{
	return ms > UINT32_MAX / 1000 ? UINT32_MAX : (uint32_t)(ms * 1000);
}

/*
 * The queue delay counts for a request that came in a datagram read from
 * a watched socket, against queue_delay_low/high. A TCP or TLS request
 * has none of its own. It is judged by how long its connection has been
 * backed up (streamlag.h, overload.stream_backlog, on by default),
 * against thresholds of its own, a second and two by default: TCP does
 * not retransmit, so a stream waiting 100 ms is no storm in the making,
 * and a connection whose buffer stays full that briefly is only a busy
 * one (at 2,000 calls/s over TCP, where every call completed with p99
 * 68 ms, a 100 ms threshold refused 153 calls). Or, when
 * overload.loop_busy says so, by the loop's busy stretch (overload.h)
 * against queue_delay_low/high. The stretch counts wall time up to half
 * of queue_delay_low, CPU time beyond: a scheduling pause alone never
 * reaches the threshold. It is off by default: it measures a loop that
 * never idles, which a slow build at a moderate rate is too, with every
 * message read soon after it came (ASan on a loaded machine, 2026-12-07:
 * t_fault_slow and t_hostile shed TCP requests at 50 calls/s on 65 ms of
 * CPU). When both are on, the connection decides once it is past its low
 * threshold, else the loop.
 */
static uint32_t
delay_of(struct proxy *px, msg_t *msg, enum overload_reason *kind,
    struct overload_conf *oc)
{
	const struct conf *c = px->st->conf;
	tport_t *tp = tport_delivered_by(nta_agent_tports(agent_nta(
	    px->agent)), msg);
	uint64_t ms = 0;

	if (tp != NULL && tport_is_udp(tp)) {
		*kind = OVERLOAD_QUEUE_DELAY;
		return srcguard_queue_delay_us();
	}
	*kind = OVERLOAD_STREAM_BACKLOG;
	if (c->overload_stream_backlog) {
		ms = streamlag_ms(monoclock_coarse_ms());
		if (ms >= c->overload_stream_low || !c->overload_loop_busy) {
			oc->delay_low_ms = c->overload_stream_low;
			oc->delay_high_ms = c->overload_stream_high;
			return to_us(ms);
		}
	}
	if (!c->overload_loop_busy)
		return 0;
	*kind = OVERLOAD_LOOP_BUSY;
	return to_us(loop_busy_ms(px->loop, c->overload_delay_low / 2));
}

static void
answer_503(struct proxy *px, msg_t *msg, sip_t *sip, unsigned retry)
{
	nta_agent_t *nta = agent_nta(px->agent);
	msg_t *reply = nta_msg_create(nta, 0);
	sip_t *rsip = sip_object(reply);
	sip_to_t *to;
	char ra[16];

	if (reply == NULL || rsip == NULL || (to = sip_to_dup(msg_home(reply),
	    sip->sip_to)) == NULL || sip_to_tag(msg_home(reply), to,
	    px->shed_tag) < 0 || msg_header_insert(reply, (msg_pub_t *)rsip,
	    (msg_header_t *)to) < 0) {
		msg_destroy(reply);
		msg_destroy(msg);
		return;
	}
	snprintf(ra, sizeof(ra), "%u", retry);
	ptx_count_response(px, 503);
	nta_msg_mreply(nta, reply, rsip, SIP_503_SERVICE_UNAVAILABLE, msg,
	    SIPTAG_RETRY_AFTER_STR(ra), TAG_END());
}

int
sipoverload_shed(struct proxy *px, msg_t *msg, sip_t *sip)
{
	const struct conf *c = px->st->conf;
	struct overload_conf oc = { c->overload_enabled, c->overload_delay_low,
	    c->overload_delay_high, c->overload_max_in_flight };
	enum overload_reason r, kind;
	uint32_t delay;
	uint64_t now;
	int started;

	if (!oc.enabled || !new_work(sip))
		return 0;
	delay = delay_of(px, msg, &kind, &oc);
	now = monoclock_coarse_ms();
	r = overload_check(&px->overload, &oc, delay, kind, px->stats.in_flight,
	    now, &started);
	if (r == OVERLOAD_ADMIT)
		return 0;
	if (started) {
		log_warnx("overload: shedding new requests with 503 "
		    "(%s: %s %u ms, %llu in flight; limits %u-%u ms, "
		    "%u)", overload_reason_name(r), kind == OVERLOAD_LOOP_BUSY ?
		    "loop busy" : kind == OVERLOAD_STREAM_BACKLOG ?
		    "connection backed up" : "queue delay", delay / 1000,
		    (unsigned long long)px->stats.in_flight, oc.delay_low_ms,
		    oc.delay_high_ms, oc.max_in_flight);
		if (px->shed_timer == NULL)
			px->shed_timer = evtimer_new(loop_base(px->loop),
			    on_timer, px);
		if (px->shed_timer != NULL)
			arm(px);
	}
	msg_logf(msg, sip, LOG_DEBUG, "%s shed: 503 (%s)", method_name(sip),
	    overload_reason_name(r));
	px->stats.requests[proxy_stats_method(method_name(sip))]++;
	answer_503(px, msg, sip, c->overload_retry_after);
	return 1;
}

int
sipoverload_ack(struct proxy *px, msg_t *msg, sip_t *sip)
{
	if (sip->sip_to == NULL || sip->sip_to->a_tag == NULL ||
	    strcmp(sip->sip_to->a_tag, px->shed_tag) != 0)
		return 0;
	px->stats.requests[proxy_stats_method("ACK")]++;
	px->shed_acks++;
	msg_destroy(msg);
	return 1;
}

void
sipoverload_metrics(const struct proxy *px, struct metrics_out *o)
{
	const struct overload *ov = &px->overload;
	enum overload_reason r;
	char l[64];

	mo_family(o, "e2mproxy_overload_active", "gauge",
	    "1 while new requests are being shed (overload section)");
	mo_u64(o, NULL, (uint64_t)ov->active);
	mo_family(o, "e2mproxy_overload_episodes_total", "counter",
	    "overload episodes started (an episode ends 5 s after its last refusal)");
	mo_u64(o, NULL, ov->episodes);
	mo_family(o, "e2mproxy_overload_shed_total", "counter",
	    "new requests answered 503 because the proxy was behind, by "
	    "signal");
	for (r = OVERLOAD_QUEUE_DELAY; r < OVERLOAD_NREASONS; r++) {
		l[0] = '\0';
		mo_u64(o, mo_label(l, sizeof(l), "reason",
		    overload_reason_name(r)), ov->shed[r]);
	}
	mo_family(o, "e2mproxy_overload_acks_absorbed_total", "counter",
	    "ACKs for those 503s, dropped (not forwarded)");
	mo_u64(o, NULL, px->shed_acks + srcguard_shed_acks());
	mo_family(o, "e2mproxy_overload_queue_delay_seconds", "gauge",
	    "longest wait of a datagram in a UDP listener's receive queue over "
	    "the last full second");
	mo_double(o, NULL, srcguard_queue_delay_max_us() / 1e6);
	mo_family(o, "e2mproxy_overload_loop_busy_seconds", "gauge",
	    "longest stretch the event loop went without catching up with its "
	    "input over the last full second (the signal for TCP and TLS)");
	mo_double(o, NULL, loop_busy_max_ms(px->loop) / 1e3);
	mo_family(o, "e2mproxy_overload_stream_backlog_seconds", "gauge",
	    "longest a TCP or TLS connection had been backed up at a read over "
	    "the last full second (the signal for TCP and TLS requests)");
	mo_double(o, NULL, streamlag_max_ms(monoclock_coarse_ms()) / 1e3);
}
