/*
 * proxy.h - the transaction-stateful proxy core (RFC 3261 section 16):
 * receive, check, loop, select a policy rule, inspect, decide, then
 * forward or answer; responses relayed upstream in order (ptx.h).
 */
#ifndef PROXY_H
#define PROXY_H

#include <stdint.h>

#include "proxyd/conf.h"
#include "proxyd/loop.h"

struct proxy;
struct metrics_out;

/* Request methods counted by name; the rest are "other". */
#define PROXY_STATS_METHODS 15

/* What the proxy counts for /metrics; loop thread only. */
struct proxy_stats {
	uint64_t requests[PROXY_STATS_METHODS]; /* by proxy_stats_method() */
	uint64_t responses[6];     /* sent upstream, by class 1xx..6xx */
	uint64_t in_flight;        /* transactions alive */
	uint64_t decrypt_opened;   /* labelled parts opened */
	uint64_t decrypt_failed;   /* labelled parts undecipherable */
	uint64_t sig_valid, sig_invalid;
	uint64_t challenges[2];    /* [0] 495, [1] 496 */
	uint64_t limited_challenge; /* a challenge refused by its rate */
	uint64_t limited_decrypt;  /* a decryption refused by its rate */
	uint64_t busy;             /* 503: the crypto queue was full */
	uint64_t stray_dropped;    /* responses no transaction wanted */
};

/* The index of a method name in proxy_stats.requests, and its name. */
unsigned proxy_stats_method(const char *name);
const char *proxy_stats_method_name(unsigned i);

/*
 * Binds the listeners of c and starts serving; NULL on failure (logged).
 * c must outlive the proxy. sofia_debug: Sofia's own log level, 0-9.
 */
struct proxy *proxy_new(struct loop *l, const struct conf *c,
    unsigned sofia_debug);
/* Start the worker threads; after any fork. 0, or -1 (logged). */
int proxy_start(struct proxy *px);
/* Anything still in flight is ended first: an INVITE canceled
 * downstream, 503 upstream (stop.c). */
void proxy_free(struct proxy *p); /* NULL is fine */
/*
 * A graceful stop (stop.c): new out-of-dialog requests get 503 with
 * Retry-After from now on; done(arg) runs once nothing is in flight or
 * after drain_ms, at once on a second call. Then proxy_free().
 */
void proxy_stop(struct proxy *px, unsigned drain_ms, void (*done)(void *),
    void *arg);
struct state;
/*
 * A reload (reload.c): serve new requests under st (state_new() from a
 * conf_load_checked() configuration; the proxy takes the reference, also
 * on failure); 0, or -1 with the running state kept (logged). Requests in
 * flight finish under the state they started with. Settings only a
 * restart applies are logged (conf_restart_changes()).
 */
int proxy_reload(struct proxy *px, struct state *st);
/* 1 at the start, one more per successful reload. */
unsigned proxy_generation(const struct proxy *px);
/* The proxy's families for /metrics (proxy_metrics.c). */
void proxy_metrics(const struct proxy *px, struct metrics_out *o);
/* SIGUSR1: reopen what logrotate moved (the IM archive). */
void proxy_reopen(struct proxy *px);

#endif /* PROXY_H */
