/* e2mproxyd.c - main(): options, configuration, loop. */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/version.h"
#include "proxyd/certwatch.h"
#include "proxyd/conf.h"
#include "proxyd/loop.h"
#include "proxyd/pidfile.h"
#include "proxyd/privdrop.h"
#include "proxyd/proxy.h"
#include "proxyd/metrics.h"
#include "proxyd/reload.h"
#include "proxyd/stats.h"
#include "proxyd/sdnotify.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
/* Beside it: the keys (pki/), the nftables ruleset, relative names. */
#define DEFAULT_CONF SYSCONFDIR "/e2mproxy/e2mproxyd.conf"

struct options {
	const char *conffile;
	int check_only;
	int foreground;
	int verbose;
};

struct daemon_ctx {
	const struct options *o;
	struct loop *loop;
	struct proxy *px;
	/* Held here, not in a local of run(): when daemon()'s parent exits
	 * inside glibc, valgrind's leak check did not find the local and
	 * called the block definitely lost, and under check-valgrind the
	 * start then failed with valgrind's error code (t_fault_restart). */
	struct pidfile *pf;
	struct event *ev_sig[5];
	struct event *ev_daily;   /* the certificates' daily check */
	struct certwatch *certs;  /* of the running configuration */
	struct reloader *reloader; /* SIGHUP */
	struct metrics *metrics;   /* NULL: not configured */
	struct stats_src stats;    /* what /metrics and /status read */
};

/* To stdout and 0 when asked for (-h), else to stderr and 2. */
static void
usage(FILE *out, int rc)
{
	fprintf(out,
	    "usage: e2mproxyd [-cDdhV] [-f file]\n"
	    "  -c       check the configuration file and exit\n"
	    "  -D       stay in the foreground (log as configured)\n"
	    "  -d       more logging (repeat for Sofia's own debug output)\n"
	    "  -f file  configuration file (default %s)\n"
	    "  -h       print this help and exit (also --help)\n"
	    "  -V       print the version and the allocator, and exit (also\n"
	    "           --version)\n",
	    DEFAULT_CONF);
	exit(rc);
}

static void
parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	memset(o, 0, sizeof(*o));
	o->conffile = DEFAULT_CONF;
	while ((ch = getopt_long(argc, argv, "cDdf:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->check_only = 1;
			break;
		case 'D':
			o->foreground = 1;
			break;
		case 'd':
			o->verbose++;
			break;
		case 'f':
			o->conffile = optarg;
			break;
		case 'h':
			usage(stdout, 0);
			break;
		case 'V':
			printf("e2mproxyd %s\n", E2M_VERSION);
			printf("allocator: %s\n", E2M_ALLOCATOR);
			exit(0);
		default:
			usage(stderr, 2);
		}
	}
	if (optind != argc)
		usage(stderr, 2);
}

static void
print_conf_error(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "%s\n", msg);
}

static void
apply_log_conf(const struct conf *c, const struct options *o)
{
	enum log_target target = c->log_target;
	int level = c->log_level;

	if (o->verbose > 0)
		level = LOG_DEBUG;
	log_set_ident(c->log_ident != NULL ? c->log_ident : "e2mproxyd");
	log_set_format((enum log_format)c->log_format);
	/* A detached daemon's stderr is /dev/null: say so while it is not. */
	if (!o->foreground && target == LOG_TO_STDERR) {
		fprintf(stderr, "e2mproxyd: log.target is \"stderr\" but the "
		    "daemon detaches: logging to syslog instead (-D stays in "
		    "the foreground)\n");
		target = LOG_TO_SYSLOG;
	}
	log_configure(target, level, c->log_facility);
	log_set_trace(c->sip_trace);
}

/* A reload was applied: its log settings and certificates. */
static void
reload_applied(void *arg, const struct conf *c, struct certwatch *cw)
{
	struct daemon_ctx *d = arg;

	apply_log_conf(c, d->o);
	d->stats.loaded = time(NULL);
	certwatch_free(d->certs);
	d->certs = cw;
	certwatch_log(d->certs, time(NULL), "reload: ");
}

static void
daily_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon_ctx *d = arg;

	(void)fd;
	(void)what;
	certwatch_log(d->certs, time(NULL), "daily check: ");
}

/* Certificates ending soon: said at start, at each reload, and daily. */
static int
watch_certificates(struct daemon_ctx *d, const struct conf *c)
{
	const struct timeval day = { 86400, 0 };

	d->certs = certwatch_new(c);
	certwatch_log(d->certs, time(NULL), "");
	d->ev_daily = event_new(loop_base(d->loop), -1, EV_PERSIST, daily_cb, d);
	return d->ev_daily != NULL && event_add(d->ev_daily, &day) == 0 ?
	    0 : -1;
}

/*
 * SIGTERM: what is in flight gets this long to end before it is ended
 * (503 upstream, CANCEL downstream): enough for a MESSAGE or a BYE, not
 * for a phone to be answered; short against systemd's stop timeout.
 */
#define STOP_DRAIN_MS 2000

static void
stopped(void *arg)
{
	struct daemon_ctx *d = arg;

	loop_break(d->loop);
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon_ctx *d = arg;

	(void)what;
	switch (sig) {
	case SIGINT:
	case SIGTERM:
		/* A second one stops at once (proxy_stop()). */
		log_info("signal %d: shutting down", (int)sig);
		if (d->px != NULL)
			proxy_stop(d->px, STOP_DRAIN_MS, stopped, d);
		else
			loop_break(d->loop);
		break;
	case SIGUSR1:
		if (d->px != NULL)
			proxy_reopen(d->px);
		break;
	case SIGHUP:
		if (d->reloader != NULL)
			reloader_request(d->reloader);
		break;
	default:
		break;
	}
}

static int
setup_signals(struct daemon_ctx *d)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGUSR1 };
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		d->ev_sig[i] = evsignal_new(loop_base(d->loop), sigs[i],
		    signal_cb, d);
		if (d->ev_sig[i] == NULL || evsignal_add(d->ev_sig[i], NULL))
			return -1;
	}
	return 0;
}

static void
free_signals(struct daemon_ctx *d)
{
	size_t i;

	for (i = 0; i < sizeof(d->ev_sig) / sizeof(d->ev_sig[0]); i++)
		if (d->ev_sig[i] != NULL)
			event_free(d->ev_sig[i]);
}

/*
 * The archive the daemon made as root must stay writable by the user it
 * drops to: SIGUSR1 reopens it, rotation renames it.
 */
static void
hand_over_archive(const struct conf *c)
{
	const struct passwd *pw = getpwnam(c->daemon_user);
	const struct group *gr = c->daemon_group != NULL ?
	    getgrnam(c->daemon_group) : NULL;

	if (!c->archive_enabled || c->archive_syslog || pw == NULL)
		return;
	if (chown(c->archive_path, pw->pw_uid, gr != NULL ? gr->gr_gid :
	    pw->pw_gid) == -1)
		log_warn("archive: chown %s to %s", c->archive_path,
		    c->daemon_user);
}

/*
 * daemon.user: give up root once what needs it is done (ports bound, keys
 * read, the archive made), before any thread starts. Only in-process
 * nftables pinholes keep a capability, CAP_NET_ADMIN, for their netlink
 * socket and the thread that uses it.
 */
static int
drop_privileges(const struct conf *c)
{
	const struct passwd *pw;
	char err[256];
	int nft = c->pinholes_enabled && !c->pinholes_exec;

	if (c->daemon_user == NULL)
		return 0;
	if ((pw = getpwnam(c->daemon_user)) != NULL && pw->pw_uid == getuid()
	    && geteuid() == getuid())
		return 0; /* started as that user already */
	if (geteuid() != 0) {
		log_error("daemon.user is \"%s\" but e2mproxyd was not "
		    "started as root: cannot switch", c->daemon_user);
		return -1;
	}
	hand_over_archive(c);
	if (privdrop(c->daemon_user, c->daemon_group, nft, err,
	    sizeof(err)) == -1) {
		log_error("cannot drop privileges to %s: %s", c->daemon_user,
		    err);
		return -1;
	}
	log_notice("running as user %s (uid %ld, gid %ld)%s", c->daemon_user,
	    (long)getuid(), (long)getgid(), nft ? ", keeping CAP_NET_ADMIN "
	    "for the pinholes" : "");
	return 0;
}

/* /metrics and /status: bound with the SIP listeners, before detaching
 * and dropping privileges, so that a port in use fails the start. */
static int
start_metrics(struct daemon_ctx *d, const struct conf *c)
{
	const char *addr = c->metrics_address != NULL ? c->metrics_address :
	    "127.0.0.1";
	char err[256];

	d->stats.px = d->px;
	d->stats.certs = &d->certs;
	d->stats.conffile = d->o->conffile;
	d->stats.started = d->stats.loaded = time(NULL);
	if (!c->metrics_enabled)
		return 0;
	if ((d->metrics = metrics_new(d->loop, addr, c->metrics_port,
	    stats_metrics, stats_status, &d->stats, err, sizeof(err))) == NULL) {
		log_error("metrics: %s", err);
		return -1;
	}
	log_info("metrics: http://%s%s%s:%d/metrics and /status",
	    strchr(addr, ':') != NULL ? "[" : "", addr,
	    strchr(addr, ':') != NULL ? "]" : "", c->metrics_port);
	return 0;
}

/*
 * Bind everything first and detach afterwards, so that a port in use or a
 * bad key ends the start with a non-zero exit the caller can see.
 */
static int
run(const struct conf *c, const struct options *o)
{
	struct daemon_ctx d;
	struct proxy *px = NULL;
	char err[512];
	int rc = 1;

	memset(&d, 0, sizeof(d));
	d.o = o;
	/* First: a second daemon on the same pid file stops here. */
	if (c->pid_file != NULL &&
	    (d.pf = pidfile_open(c->pid_file, err, sizeof(err))) == NULL) {
		log_error("pid file %s", err);
		goto done;
	}
	if ((d.loop = loop_new()) == NULL || setup_signals(&d) == -1) {
		log_error("cannot set up the event loop");
		goto done;
	}
	/* -d: our debug lines; -dd: Sofia's protocol errors too; -ddd: all
	 * of Sofia's internals. */
	px = proxy_new(d.loop, c, o->verbose >= 3 ? 9 : o->verbose == 2 ? 3 : 0);
	d.px = px;
	if (px == NULL) {
		log_error("cannot start the proxy");
		goto done;
	}
	if (start_metrics(&d, c) == -1)
		goto done;
	if (!o->foreground) {
		if (daemon(0, 0) == -1) {
			log_warn("daemon");
			goto done;
		}
		/* The epoll instances are shared with the exiting parent. */
		event_reinit(loop_base(d.loop));
	}
	if (d.pf != NULL &&
	    pidfile_write(d.pf, getpid(), err, sizeof(err)) == -1) {
		log_error("pid file %s", err);
		goto done;
	}
	/* Before the threads start: they inherit what the main thread kept
	 * (capabilities are per thread). */
	if (drop_privileges(c) == -1 || proxy_start(px) == -1)
		goto done;
	if (sdnotify_start(loop_base(d.loop)) == -1 ||
	    watch_certificates(&d, c) == -1 ||
	    (d.reloader = reloader_new(d.loop, px, o->conffile, reload_applied,
	    &d)) == NULL)
		goto done;
	d.stats.reloader = d.reloader;
	log_notice("e2mproxyd %s started", E2M_VERSION);
	sdnotify_ready();
	rc = loop_run(d.loop) == 0 ? 0 : 1;
	sdnotify_stopping();
	log_notice("e2mproxyd stopped");
done:
	metrics_free(d.metrics);
	reloader_free(d.reloader);
	sdnotify_free();
	if (d.ev_daily != NULL)
		event_free(d.ev_daily);
	certwatch_free(d.certs);
	proxy_free(px);
	free_signals(&d);
	loop_free(d.loop);
	pidfile_close(d.pf);
	return rc;
}

int
main(int argc, char **argv)
{
	struct options o;
	struct conf *c;
	int rc;

	log_init("e2mproxyd");
	parse_args(argc, argv, &o);
	if ((c = conf_load_checked(o.conffile, print_conf_error, NULL)) ==
	    NULL) {
		if (!o.check_only)
			fprintf(stderr, "e2mproxyd: %s: configuration invalid, "
			    "not starting\n", o.conffile);
		return 1;
	}
	if (o.check_only) {
		printf("configuration OK\n");
		conf_free(c);
		return 0;
	}
	apply_log_conf(c, &o);
	rc = run(c, &o);
	conf_free(c);
	return rc;
}
