/*
 * metrics.h - the operator's HTTP endpoint on libevent's evhttp, off unless
 * configured (metrics.enabled), loopback by default: /metrics in the
 * Prometheus text format (version 0.0.4) and /status as one JSON object.
 * This module knows HTTP and the two formats; what the numbers are comes
 * from the daemon's callbacks (stats.c), called on the loop thread for
 * each request, so a scrape always sees the current values.
 */
#ifndef METRICS_H
#define METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "common/log.h"
#include "proxyd/loop.h"

struct metrics;
struct metrics_out;  /* one /metrics answer being written */
struct status_out;   /* one /status answer being written */

typedef void metrics_collect_fn(void *arg, struct metrics_out *o);
typedef void status_collect_fn(void *arg, struct status_out *o);

/*
 * A family: its # HELP and # TYPE lines ("counter", "gauge"), once, before
 * its samples. name is a valid metric name (ours, fixed).
 */
void mo_family(struct metrics_out *o, const char *name, const char *type,
    const char *help);
/* A sample of the current family; labels NULL or label="value" pairs
 * built with mo_label(). */
void mo_u64(struct metrics_out *o, const char *labels, uint64_t v);
void mo_double(struct metrics_out *o, const char *labels, double v);
/* Appends name="value" to buf (a comma first when buf is not empty), the
 * value escaped as the text format wants (\\, \", \n). Returns buf. */
const char *mo_label(char *buf, size_t bufsz, const char *name,
    const char *value);

/* /status: members of one flat object, or of nested objects and arrays
 * opened and closed in order; name NULL inside an array. Strings are
 * JSON-escaped. */
void so_str(struct status_out *o, const char *name, const char *v);
void so_u64(struct status_out *o, const char *name, uint64_t v);
void so_open(struct status_out *o, const char *name, int array);
void so_close(struct status_out *o, int array);

/* Listens on address:port; NULL (err says why) when it cannot. */
struct metrics *metrics_new(struct loop *l, const char *address, int port,
    metrics_collect_fn *metrics, status_collect_fn *status, void *arg,
    char *err, size_t errsz);
void metrics_free(struct metrics *m); /* NULL is fine */

#endif /* METRICS_H */
