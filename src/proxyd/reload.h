/*
 * reload.h - SIGHUP: the configuration file and every file it names read
 * and checked again on a thread of its own (a start's checks, keys and
 * certificates loaded: tens of milliseconds, seconds on a slow disk),
 * while the loop goes on serving; the proxy then swaps in the new state
 * on the loop thread (proxy_reload()), or keeps the running one when
 * anything was wrong. A SIGHUP during a reload is served by one more
 * reload after it. systemd hears RELOADING=1 and READY=1 around it.
 */
#ifndef RELOAD_H
#define RELOAD_H

#include "proxyd/loop.h"

struct conf;
struct certwatch;
struct proxy;
struct reloader;

/* A reload was applied: c is the configuration now serving, cw its
 * certificates (owned by the callee from now on). Loop thread. */
typedef void reload_applied_fn(void *arg, const struct conf *c,
    struct certwatch *cw);

/* NULL when out of memory or no thread could be made (logged). Call after
 * the privileges are dropped: the thread reads files as the daemon's user. */
struct reloader *reloader_new(struct loop *l, struct proxy *px,
    const char *path, reload_applied_fn *applied, void *arg);
void reloader_free(struct reloader *r); /* NULL is fine */
/* SIGHUP. */
void reloader_request(struct reloader *r);
unsigned long reloader_ok(const struct reloader *r);
unsigned long reloader_failed(const struct reloader *r);

#endif /* RELOAD_H */
