/*
 * proxy.c - the transaction-stateful proxy core (RFC 3261 section 16):
 * made from the configuration (agent and transports, keys, policy, rate
 * limits, the tables of transactions the proxy keeps itself), started
 * (worker threads) and freed. How a request goes through it: ptx.h.
 */
#include "proxyd/ptx.h"
#include "proxyd/proxy.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/ratelimit.h"
#include "common/txmap.h"
#include "e2m/inspect.h"
#include "proxyd/agent.h"
#include "proxyd/conf.h"
#include "proxyd/owntx.h"
#include "proxyd/sofia/hdrguard.h"
#include "proxyd/sipoverload.h"
#include "proxyd/state.h"
#include "proxyd/svc_archive.h"
#include "proxyd/svc_pinhole.h"
#include "proxyd/terminate.h"
#include "proxyd/workers.h"

/* Rate limits: per-source tables, replaced only when their rate changes
 * (a reload must not hand every source a fresh budget). */
static int
set_rate_limits(struct proxy *px, const struct conf *c, const struct conf *old)
{
	struct ratelimit *ch = NULL, *dec = NULL;

	if (old == NULL || c->ch_rate != old->ch_rate ||
	    c->ch_burst != old->ch_burst)
		if ((ch = ratelimit_new(c->ch_rate, c->ch_burst,
		    RATELIMIT_SOURCES)) == NULL)
			goto nomem;
	if (old == NULL || c->decrypt_rate != old->decrypt_rate ||
	    c->decrypt_burst != old->decrypt_burst)
		if ((dec = ratelimit_new(c->decrypt_rate, c->decrypt_burst,
		    RATELIMIT_SOURCES)) == NULL)
			goto nomem;
	if (ch != NULL) {
		ratelimit_free(px->ch_rl);
		px->ch_rl = ch;
	}
	if (dec != NULL) {
		ratelimit_free(px->dec_rl);
		px->dec_rl = dec;
	}
	return 0;
nomem:
	ratelimit_free(ch);
	log_error("cannot set up the rate limits: out of memory");
	return -1;
}

static int
load_tables(struct proxy *px)
{
	const struct conf *c = px->conf;

	px->dialogs = dialogs_new(c->transaction_timeout_ms);
	if ((px->detached = txmap_new()) == NULL || px->dialogs == NULL) {
		log_error("cannot set up the transaction map: out of memory");
		return -1;
	}
	return set_rate_limits(px, c, NULL);
}

static int
load_services(struct proxy *px)
{
	char err[512];

	if (px->conf->archive_enabled &&
	    (px->archive = svc_archive_new(px->loop, px->conf, err,
	    sizeof(err))) == NULL) {
		log_error("archive: %s", err);
		return -1;
	}
	if (px->conf->pinholes_enabled &&
	    (px->pinholes = svc_pinhole_new(px->loop, px->conf, err,
	    sizeof(err))) == NULL) {
		log_error("pinholes: %s", err);
		return -1;
	}
	return 0;
}

void
proxy_reopen(struct proxy *px)
{
	svc_archive_reopen(px->archive);
}

/* The decrypt stage's crypto goes to the worker pool. */
static int
submit_to_workers(void *pool, inspect_work_fn *work, inspect_job_done_fn *done,
    void *arg)
{
	return workers_submit(pool, work, done, arg);
}

/* The decrypt stage of st, on the worker pool. */
static int
start_state(struct proxy *px, struct state *st, char *err, size_t errsz)
{
	struct inspector_conf ic;

	memset(&ic, 0, sizeof(ic));
	ic.submit = submit_to_workers;
	ic.pool = px->workers;
	ic.own_names = agent_own_names(px->agent, &ic.nown_names);
	return state_start(st, &ic, err, errsz);
}

/* Threads do not survive daemon()'s fork: start them afterwards. */
int
proxy_start(struct proxy *px)
{
	const struct conf *c = px->conf;
	char err[512];

	px->workers = workers_new(px->loop, c->workers, c->queue);
	if (px->workers == NULL) {
		log_error("cannot start %u crypto worker threads", c->workers);
		return -1;
	}
	if (start_state(px, px->st, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return -1;
	}
	if (px->archive != NULL &&
	    svc_archive_start(px->archive, err, sizeof(err)) == -1) {
		log_error("archive: %s", err);
		return -1;
	}
	if (px->pinholes != NULL &&
	    svc_pinhole_start(px->pinholes, err, sizeof(err)) == -1) {
		log_error("pinholes: %s", err);
		return -1;
	}
	return 0;
}

struct proxy *
proxy_new(struct loop *l, const struct conf *c, unsigned sofia_debug)
{
	struct proxy *px;
	char err[512];
	int failed;

	if ((px = calloc(1, sizeof(*px))) == NULL)
		return NULL;
	px->conf = c;
	px->loop = l;
	agent_redirect_sofia_logs(sofia_debug);
	/* Timer J: 64*T1, which transaction_timeout is. */
	px->own = owntx_new(c->transaction_timeout_ms);
	px->own_timer = evtimer_new(loop_base(l), answer_own_expire, px);
	if (px->own == NULL || px->own_timer == NULL ||
	    sipoverload_init(px) != 0) {
		log_error("cannot set up the transaction table: out of memory");
		goto fail;
	}
	/* No default leg: every new request comes to incoming_stray(),
	 * which makes the server transaction, nta's or ours. */
	if ((px->agent = agent_new(l, c, incoming_stray, px)) == NULL)
		goto fail;
	if ((px->st = state_new(c, NULL, err, sizeof(err))) == NULL) {
		log_error("%s", err);
		goto fail;
	}
	if (load_tables(px) == -1 || load_services(px) == -1)
		goto fail;
	px->edge = edge_new(c, loop_base(l), &failed, err, sizeof(err));
	if (failed) {
		log_error("%s", err);
		goto fail;
	}
	return px;
fail:
	proxy_free(px);
	return NULL;
}

void
proxy_free(struct proxy *px)
{
	if (px == NULL)
		return;
	/* Pending completions may still answer through Sofia. */
	workers_free(px->workers);
	/* Its callbacks may forward the requests they held. */
	svc_archive_stop(px->archive);
	/* No crypto job and no archive write holds a ptx now; the final
	 * records of archived MESSAGEs it ends are still written. */
	stop_free_live(px);
	svc_archive_free(px->archive);
	px->archive = NULL;
	svc_pinhole_free(px->pinholes);
	state_unref(px->st);
	ratelimit_free(px->ch_rl);
	ratelimit_free(px->dec_rl);
	txmap_free(px->detached);
	dialogs_free(px->dialogs);
	/* Before the agent: it gives the connections it holds back. */
	edge_free(px->edge);
	agent_free(px->agent);
	if (px->own_timer != NULL)
		event_free(px->own_timer);
	sipoverload_free(px);
	owntx_free(px->own);
	free(px);
}

static void
log_restart_change(void *arg, const char *name)
{
	(void)arg;
	log_warnx("reload: %s changed: it applies at the next restart, the "
	    "running setting stays", name);
}

/*
 * The new state is complete before anything changes: a failure leaves
 * the running one untouched. Requests in flight keep theirs.
 */
int
proxy_reload(struct proxy *px, struct state *st)
{
	const struct conf *c = st->conf;
	char err[512];

	if (start_state(px, st, err, sizeof(err)) == -1) {
		log_error("reload: %s", err);
		state_unref(st);
		return -1;
	}
	if (set_rate_limits(px, c, px->st->conf) == -1) {
		state_unref(st);
		return -1;
	}
	hdrguard_set_limit(agent_header_limit(c));
	conf_restart_changes(px->conf, c, log_restart_change, NULL);
	st->generation = px->st->generation + 1;
	state_unref(px->st);
	px->st = st;
	return 0;
}

unsigned
proxy_generation(const struct proxy *px)
{
	return px->st->generation;
}
