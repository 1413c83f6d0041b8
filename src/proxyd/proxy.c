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
#include "crypto/cms.h"
#include "e2m/inspect.h"
#include "proxyd/agent.h"
#include "proxyd/conf.h"
#include "proxyd/owntx.h"
#include "proxyd/sipchallenge.h"
#include "proxyd/svc_archive.h"
#include "proxyd/svc_pinhole.h"
#include "proxyd/terminate.h"
#include "proxyd/workers.h"

static int
load_keys(struct proxy *px)
{
	const struct conf *c = px->conf;
	const char *certs[CMS_MAX_KEYS], *keys[CMS_MAX_KEYS];
	char err[512];
	size_t i, n = c->ninspect_keys;

	if (n == 0 && c->ntrust_anchors == 0)
		return 0; /* nothing to open, nothing to check against */
	if (n > CMS_MAX_KEYS) {
		log_error("inspect.keys: at most %d key pairs", CMS_MAX_KEYS);
		return -1;
	}
	for (i = 0; i < n; i++) {
		certs[i] = c->inspect_keys[i].certificate;
		keys[i] = c->inspect_keys[i].key;
	}
	px->keys = cms_keys_load(certs, keys, n,
	    (const char *const *)c->trust_anchors, c->ntrust_anchors,
	    (const char *const *)c->crl_files, c->ncrl_files, err,
	    sizeof(err));
	if (px->keys == NULL) {
		log_error("cannot load the inspection keys: %s", err);
		return -1;
	}
	if (cms_keys_set_ciphers(px->keys,
	    (const char *const *)c->content_ciphers, c->ncontent_ciphers, err,
	    sizeof(err)) == -1) {
		log_error("inspect.content_ciphers: %s", err);
		return -1;
	}
	log_info("inspection: %zu decryption key(s), %zu trust anchor file(s), "
	    "%zu CRL file(s)", n, c->ntrust_anchors, c->ncrl_files);
	return 0;
}

static int
load_policy(struct proxy *px)
{
	const struct conf *c = px->conf;
	char err[512];

	px->policy.rules = c->policy_rules;
	px->policy.nrules = c->npolicy_rules;
	if ((px->chal = sipchallenge_new(c, err, sizeof(err))) == NULL) {
		log_error("cannot load the challenge keys: %s", err);
		return -1;
	}
	px->ch_rl = ratelimit_new(c->ch_rate, c->ch_burst, RATELIMIT_SOURCES);
	px->dialogs = dialogs_new(c->transaction_timeout_ms);
	if ((px->detached = txmap_new()) == NULL || px->dialogs == NULL) {
		log_error("cannot set up the transaction map: out of memory");
		return -1;
	}
	px->dec_rl = ratelimit_new(c->decrypt_rate, c->decrypt_burst,
	    RATELIMIT_SOURCES);
	if (px->ch_rl == NULL || px->dec_rl == NULL) {
		log_error("cannot set up the rate limits: out of memory");
		return -1;
	}
	if (c->npolicy_rules > 0)
		log_info("policy: %zu rule(s); challenges %s, warn-agent %s",
		    c->npolicy_rules, c->ch_legacy_unsigned ?
		    "unsigned (legacy)" : "signed", c->ch_warn_agent);
	return 0;
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

/* Threads do not survive daemon()'s fork: start them afterwards. */
int
proxy_start(struct proxy *px)
{
	const struct conf *c = px->conf;
	struct inspector_conf ic;
	char err[512];

	px->workers = workers_new(px->loop, c->workers, c->queue);
	if (px->workers == NULL) {
		log_error("cannot start %u crypto worker threads", c->workers);
		return -1;
	}
	memset(&ic, 0, sizeof(ic));
	ic.keys = px->keys;
	ic.submit = submit_to_workers;
	ic.pool = px->workers;
	ic.limits.max_body = c->max_body;
	ic.limits.max_depth = c->max_depth;
	ic.limits.max_parts = c->max_parts;
	ic.own_names = agent_own_names(px->agent, &ic.nown_names);
	if ((px->inspector = inspector_new(&ic)) == NULL) {
		log_error("cannot set up the decrypt stage");
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

	if ((px = calloc(1, sizeof(*px))) == NULL)
		return NULL;
	px->conf = c;
	px->loop = l;
	agent_redirect_sofia_logs(sofia_debug);
	/* Timer J: 64*T1, which transaction_timeout is. */
	px->own = owntx_new(c->transaction_timeout_ms);
	px->own_timer = evtimer_new(loop_base(l), answer_own_expire, px);
	if (px->own == NULL || px->own_timer == NULL) {
		log_error("cannot set up the transaction table: out of memory");
		goto fail;
	}
	/* No default leg: every new request comes to incoming_stray(),
	 * which makes the server transaction, nta's or ours. */
	if ((px->agent = agent_new(l, c, incoming_stray, px)) == NULL)
		goto fail;
	if (load_keys(px) == -1 || load_policy(px) == -1 ||
	    load_services(px) == -1)
		goto fail;
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
	svc_archive_free(px->archive);
	svc_pinhole_free(px->pinholes);
	inspector_free(px->inspector);
	cms_keys_free(px->keys);
	sipchallenge_free(px->chal);
	ratelimit_free(px->ch_rl);
	ratelimit_free(px->dec_rl);
	txmap_free(px->detached);
	dialogs_free(px->dialogs);
	agent_free(px->agent);
	if (px->own_timer != NULL)
		event_free(px->own_timer);
	owntx_free(px->own);
	free(px);
}
