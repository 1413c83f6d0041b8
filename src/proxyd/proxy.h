/*
 * proxy.h - the transaction-stateful proxy core (RFC 3261 section 16):
 * receive, check, loop, select a policy rule, inspect, decide, then
 * forward or answer; responses relayed upstream in order (ptx.h).
 */
#ifndef PROXY_H
#define PROXY_H

#include "proxyd/conf.h"
#include "proxyd/loop.h"

struct proxy;

/*
 * Binds the listeners of c and starts serving; NULL on failure (logged).
 * c must outlive the proxy. sofia_debug: Sofia's own log level, 0-9.
 */
struct proxy *proxy_new(struct loop *l, const struct conf *c,
    unsigned sofia_debug);
/* Start the worker threads; after any fork. 0, or -1 (logged). */
int proxy_start(struct proxy *px);
void proxy_free(struct proxy *p); /* NULL is fine */
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
/* SIGUSR1: reopen what logrotate moved (the IM archive). */
void proxy_reopen(struct proxy *px);

#endif /* PROXY_H */
