/*
 * state.h - what a reload replaces: the configuration a request is
 * handled under and everything made from it (decryption keys and the
 * decrypt stage using them, the policy, the challenge keys).
 *
 * A state is reference counted: the proxy holds the current one, and each
 * request takes a reference when it arrives and drops it when it is done,
 * so a request finishes under the state it started with while new ones
 * get the new state. Loop thread only. The decrypt stage's keys stay alive
 * until the last inspection made with them is gone, even one whose request
 * gave up while its crypto still ran on a worker (inspect.h).
 */
#ifndef STATE_H
#define STATE_H

#include <stddef.h>

#include "e2m/inspect.h"
#include "e2m/policy.h"

struct conf;
struct cms_keys;
struct sipchallenge;

struct state {
	unsigned refs;
	unsigned generation;      /* 1 at start, +1 per reload */
	const struct conf *conf;  /* the request-time settings */
	struct conf *owned;       /* conf, when the state frees it */
	struct cms_keys *keys;    /* NULL: no decryption keys configured */
	struct inspector *inspector; /* made by state_start() */
	struct policy policy;
	struct sipchallenge *chal;
};

/*
 * Loads what c names (keys, trust anchors, CRLs, challenge keys) into a
 * state with one reference; NULL (err says why) on failure. owned: the
 * state frees c with itself.
 */
struct state *state_new(const struct conf *c, struct conf *owned,
    char *err, size_t errsz);
/* The decrypt stage, once the worker pool runs: 0, or -1 (err). ic gives
 * everything but the keys and limits, which come from the state. */
int state_start(struct state *st, const struct inspector_conf *ic,
    char *err, size_t errsz);
struct state *state_ref(struct state *st);
void state_unref(struct state *st); /* NULL is fine */

#endif /* STATE_H */
