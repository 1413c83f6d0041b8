/*
 * stats.h - what /metrics and /status say about the daemon as a whole
 * (build, uptime, configuration, reloads, certificates), around the proxy
 * core's own families (proxy_metrics()). The callbacks of metrics.h.
 */
#ifndef STATS_H
#define STATS_H

#include <time.h>

struct certwatch;
struct metrics_out;
struct proxy;
struct reloader;
struct status_out;

/* Where the numbers are; the daemon keeps it current. */
struct stats_src {
	const struct proxy *px;
	const struct reloader *reloader;   /* NULL until it runs */
	struct certwatch *const *certs;    /* the serving configuration's */
	const char *conffile;
	time_t started;
	time_t loaded;                     /* the serving configuration */
};

void stats_metrics(void *arg, struct metrics_out *o); /* arg: stats_src */
void stats_status(void *arg, struct status_out *o);

#endif /* STATS_H */
