/* stats.c - the daemon's /metrics and /status (stats.h). */
#include "proxyd/stats.h"

#include <stdio.h>
#include <string.h>

#include "common/version.h"
#include "proxyd/certwatch.h"
#include "proxyd/metrics.h"
#include "proxyd/proxy.h"
#include "proxyd/reload.h"

static void
daemon_families(const struct stats_src *s, struct metrics_out *o)
{
	char l[128] = "";

	mo_family(o, "e2mproxy_build_info", "gauge",
	    "always 1; the version in its label");
	mo_u64(o, mo_label(l, sizeof(l), "version", E2M_VERSION), 1);
	mo_family(o, "e2mproxy_start_time_seconds", "gauge",
	    "when the daemon started, seconds since the epoch");
	mo_double(o, NULL, (double)s->started);
	mo_family(o, "e2mproxy_config_load_time_seconds", "gauge",
	    "when the serving configuration was loaded (start or reload)");
	mo_double(o, NULL, (double)s->loaded);
	mo_family(o, "e2mproxy_config_generation", "gauge",
	    "1 at start, one more per reload applied");
	mo_u64(o, NULL, proxy_generation(s->px));
}

static void
reloads(const struct stats_src *s, struct metrics_out *o)
{
	char l[64];

	mo_family(o, "e2mproxy_reloads_total", "counter",
	    "configuration reloads (SIGHUP), by outcome");
	l[0] = '\0';
	mo_u64(o, mo_label(l, sizeof(l), "result", "ok"), s->reloader != NULL ?
	    reloader_ok(s->reloader) : 0);
	l[0] = '\0';
	mo_u64(o, mo_label(l, sizeof(l), "result", "failed"),
	    s->reloader != NULL ? reloader_failed(s->reloader) : 0);
}

static void
certificates(const struct stats_src *s, struct metrics_out *o)
{
	const struct certwatch_cert *e;
	char l[1024];
	size_t i;

	mo_family(o, "e2mproxy_certificate_expiry_timestamp_seconds", "gauge",
	    "when each configured certificate file's first certificate ends");
	for (i = 0; (e = certwatch_get(*s->certs, i)) != NULL; i++) {
		if (!e->ok)
			continue;
		l[0] = '\0';
		mo_label(l, sizeof(l), "role", e->role);
		mo_label(l, sizeof(l), "path", e->path);
		mo_double(o, l, (double)e->not_after);
	}
}

void
stats_metrics(void *arg, struct metrics_out *o)
{
	const struct stats_src *s = arg;

	daemon_families(s, o);
	reloads(s, o);
	certificates(s, o);
	proxy_metrics(s->px, o);
}

static const char *
iso(time_t t, char *buf, size_t sz)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, sz, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

void
stats_status(void *arg, struct status_out *o)
{
	const struct stats_src *s = arg;
	const struct certwatch_cert *e;
	time_t now = time(NULL);
	char t[32];
	size_t i;

	so_str(o, "version", E2M_VERSION);
	so_str(o, "started", iso(s->started, t, sizeof(t)));
	so_u64(o, "uptime_seconds", (uint64_t)(now - s->started));
	so_open(o, "config", 0);
	so_str(o, "file", s->conffile);
	so_str(o, "loaded", iso(s->loaded, t, sizeof(t)));
	so_u64(o, "generation", proxy_generation(s->px));
	so_u64(o, "reloads_ok", s->reloader != NULL ?
	    reloader_ok(s->reloader) : 0);
	so_u64(o, "reloads_failed", s->reloader != NULL ?
	    reloader_failed(s->reloader) : 0);
	so_close(o, 0);
	so_open(o, "certificates", 1);
	for (i = 0; (e = certwatch_get(*s->certs, i)) != NULL; i++) {
		so_open(o, NULL, 0);
		so_str(o, "role", e->role);
		so_str(o, "path", e->path);
		if (e->ok) {
			so_str(o, "subject", e->subject);
			so_str(o, "not_after", iso(e->not_after, t, sizeof(t)));
			so_u64(o, "days_left", e->not_after > now ?
			    (uint64_t)((e->not_after - now) / 86400) : 0);
		} else {
			so_str(o, "error", e->err);
		}
		so_close(o, 0);
	}
	so_close(o, 1);
}
