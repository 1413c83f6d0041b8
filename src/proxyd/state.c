/*
 * state.c - the reloadable state (state.h): made from one configuration,
 * shared by the requests that started under it, freed with the last.
 */
#include "proxyd/state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "crypto/cms.h"
#include "proxyd/conf.h"
#include "proxyd/sipchallenge.h"

static int
load_keys(struct state *st, char *err, size_t errsz)
{
	const struct conf *c = st->conf;
	const char *certs[CMS_MAX_KEYS], *keys[CMS_MAX_KEYS];
	char why[512];
	size_t i, n = c->ninspect_keys;

	if (n == 0 && c->ntrust_anchors == 0)
		return 0; /* nothing to open, nothing to check against */
	if (n > CMS_MAX_KEYS) {
		snprintf(err, errsz, "inspect.keys: at most %d key pairs",
		    CMS_MAX_KEYS);
		return -1;
	}
	for (i = 0; i < n; i++) {
		certs[i] = c->inspect_keys[i].certificate;
		keys[i] = c->inspect_keys[i].key;
	}
	st->keys = cms_keys_load(certs, keys, n,
	    (const char *const *)c->trust_anchors, c->ntrust_anchors,
	    (const char *const *)c->crl_files, c->ncrl_files, why,
	    sizeof(why));
	if (st->keys == NULL) {
		snprintf(err, errsz, "cannot load the inspection keys: %s", why);
		return -1;
	}
	if (cms_keys_set_ciphers(st->keys,
	    (const char *const *)c->content_ciphers, c->ncontent_ciphers, why,
	    sizeof(why)) == -1) {
		snprintf(err, errsz, "inspect.content_ciphers: %s", why);
		return -1;
	}
	log_info("inspection: %zu decryption key(s), %zu trust anchor file(s), "
	    "%zu CRL file(s)", n, c->ntrust_anchors, c->ncrl_files);
	return 0;
}

static int
load_policy(struct state *st, char *err, size_t errsz)
{
	const struct conf *c = st->conf;
	char why[512];

	st->policy.rules = c->policy_rules;
	st->policy.nrules = c->npolicy_rules;
	if ((st->chal = sipchallenge_new(c, why, sizeof(why))) == NULL) {
		snprintf(err, errsz, "cannot load the challenge keys: %s", why);
		return -1;
	}
	if (c->npolicy_rules > 0)
		log_info("policy: %zu rule(s); challenges %s, warn-agent %s",
		    c->npolicy_rules, c->ch_legacy_unsigned ?
		    "unsigned (legacy)" : "signed", c->ch_warn_agent);
	return 0;
}

/* The inspector is gone with its last inspection: the keys may go. */
static void
release_keys(void *arg)
{
	cms_keys_free(arg);
}

static void
state_free(struct state *st)
{
	if (st->inspector != NULL)
		inspector_free(st->inspector); /* frees the keys, maybe later */
	else
		cms_keys_free(st->keys);
	sipchallenge_free(st->chal);
	conf_free(st->owned);
	free(st);
}

struct state *
state_new(const struct conf *c, struct conf *owned, char *err, size_t errsz)
{
	struct state *st;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		snprintf(err, errsz, "out of memory");
		conf_free(owned);
		return NULL;
	}
	st->refs = 1;
	st->generation = 1;
	st->conf = c;
	st->owned = owned;
	if (load_keys(st, err, errsz) == -1 ||
	    load_policy(st, err, errsz) == -1) {
		state_free(st);
		return NULL;
	}
	return st;
}

int
state_start(struct state *st, const struct inspector_conf *ic, char *err,
    size_t errsz)
{
	const struct conf *c = st->conf;
	struct inspector_conf sc = *ic;

	sc.keys = st->keys;
	sc.describe = c->archive_enabled; /* the archive records it */
	sc.limits.max_body = c->max_body;
	sc.limits.max_depth = c->max_depth;
	sc.limits.max_parts = c->max_parts;
	sc.release = release_keys;
	sc.release_arg = st->keys;
	if ((st->inspector = inspector_new(&sc)) == NULL) {
		snprintf(err, errsz, "cannot set up the decrypt stage");
		return -1;
	}
	return 0;
}

struct state *
state_ref(struct state *st)
{
	st->refs++;
	return st;
}

void
state_unref(struct state *st)
{
	if (st != NULL && --st->refs == 0)
		state_free(st);
}
