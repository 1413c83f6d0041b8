/*
 * stop.c - a graceful stop (SIGTERM). New requests that would start
 * something (out of dialog, not an ACK) are refused with 503 and
 * Retry-After, which moves an RFC 3263 client to another server;
 * requests in dialog, ACKs, CANCELs and responses still pass, so that
 * what is in flight can end. Once nothing is in flight, or at the drain
 * bound, the daemon's done() runs (it leaves the loop). What is still in
 * flight then is ended by stop_free_live() from proxy_free(): an INVITE
 * is canceled downstream, the caller gets 503, the ptx is freed. Without
 * that, a ptx nobody frees would be memory only nta's transactions
 * pointed to, and a caller waiting for a final response until its timer.
 */
#include <stdint.h>
#include <stdlib.h>

#include <event2/event.h>
#include <sofia-sip/sip_tag.h>

#include "common/log.h"
#include "common/monoclock.h"
#include "proxyd/loop.h"
#include "proxyd/owntx.h"
#include "proxyd/ptx.h"

/* How often the drain looks whether anything is still in flight. */
#define STOP_TICK_MS 20

struct proxy_stop {
	struct proxy *px;
	struct event *tick;
	uint64_t deadline;
	void (*done)(void *);
	void *arg;
};

static void
stop_tick(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_stop *s = arg;

	(void)fd;
	(void)what;
	if (s->px->live != NULL && monoclock_ms() < s->deadline)
		return;
	event_del(s->tick);
	if (s->px->live == NULL)
		log_info("stop: nothing in flight any more");
	else
		log_info("stop: %llu requests still in flight after the drain "
		    "time: ending them", (unsigned long long)
		    s->px->stats.in_flight);
	s->done(s->arg);
}

void
proxy_stop(struct proxy *px, unsigned drain_ms, void (*done)(void *),
    void *arg)
{
	struct proxy_stop *s;
	struct timeval tv = { 0, STOP_TICK_MS * 1000 };

	if (px->stop != NULL) {
		/* A second signal: no more waiting. */
		done(arg);
		return;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		done(arg);
		return;
	}
	px->stop = s;
	s->px = px;
	s->done = done;
	s->arg = arg;
	s->deadline = monoclock_ms() + drain_ms;
	log_info("stop: refusing new requests (503); %llu in flight get up to "
	    "%u ms to end", (unsigned long long)px->stats.in_flight, drain_ms);
	s->tick = event_new(loop_base(px->loop), -1, EV_PERSIST, stop_tick, s);
	if (s->tick == NULL || event_add(s->tick, &tv) == -1)
		done(arg);
}

/* A new out-of-dialog request while stopping; not an ACK (it has no
 * answer), nor a retransmission of a transaction of ours in flight. */
int
stop_refuses(struct proxy *px, const sip_t *sip)
{
	const sip_via_t *v = sip->sip_via;

	if (sip->sip_request->rq_method == sip_method_ack ||
	    (sip->sip_to != NULL && sip->sip_to->a_tag != NULL))
		return 0;
	return v == NULL || v->v_branch == NULL || v->v_host == NULL ||
	    owntx_find(px->own, v->v_branch, v->v_host, v->v_port, NULL) ==
	    NULL;
}

/* From proxy_free(), after the worker pool and the archive are gone (so
 * no crypto job or archive write holds a ptx), before nta is. */
void
stop_free_live(struct proxy *px)
{
	struct ptx *t;
	unsigned long long n = 0;

	while ((t = px->live) != NULL) {
		n++;
		if (t->sip->sip_request->rq_method == sip_method_invite &&
		    (t->orq != NULL || t->det.on) && !t->canceled)
			invite_cancel_downstream(t);
		if (t->final_status == 0 && !t->is_ack &&
		    t->sip->sip_request->rq_method != sip_method_ack &&
		    (t->irq != NULL || t->stx != NULL))
			answer_status(t, 503, "Shutting Down",
			    SIPTAG_RETRY_AFTER_STR("5"), TAG_END());
		ptx_log(t, "ended by the stop");
		ptx_free(t);
	}
	if (n > 0)
		log_info("stop: %llu requests in flight ended (503 upstream, "
		    "INVITEs canceled downstream)", n);
	if (px->stop != NULL) {
		if (px->stop->tick != NULL)
			event_free(px->stop->tick);
		free(px->stop);
		px->stop = NULL;
	}
}
