/* reload.c - configuration reloads off the loop thread (reload.h). */
#include "proxyd/reload.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"
#include "proxyd/certwatch.h"
#include "proxyd/conf.h"
#include "proxyd/proxy.h"
#include "proxyd/sdnotify.h"
#include "proxyd/state.h"
#include "proxyd/workers.h"

struct reloader {
	struct proxy *px;
	const char *path;
	reload_applied_fn *applied;
	void *arg;
	struct workers *thread;  /* one thread, one job at a time */
	int running;             /* a job is out */
	int again;               /* SIGHUP came while it was */
	int stopping;            /* reloader_free() */
	unsigned long ok, failed;
};

/* What the thread makes, for the loop thread to apply or drop. */
struct job {
	struct reloader *r;
	struct state *st;        /* NULL: the configuration was refused */
	struct certwatch *cw;
	char err[512];
};

static void
log_conf_error(void *arg, const char *msg)
{
	(void)arg;
	log_error("reload: %s", msg);
}

/* The reload thread: everything that reads files. */
static void
load(void *arg)
{
	struct job *j = arg;
	struct conf *c;

	j->err[0] = '\0';
	if ((c = conf_load_checked(j->r->path, log_conf_error, NULL)) == NULL)
		return;
	/* The state owns c from here, also when it cannot be made. */
	if ((j->st = state_new(c, c, j->err, sizeof(j->err))) != NULL)
		j->cw = certwatch_new(c);
}

static void start(struct reloader *r);

static void
loaded(void *arg, int ran)
{
	struct job *j = arg;
	struct reloader *r = j->r;
	const struct conf *c = j->st != NULL ? j->st->conf : NULL;

	r->running = 0;
	if (!ran || r->stopping) {
		state_unref(j->st); /* the daemon is stopping */
		certwatch_free(j->cw);
		free(j);
		return;
	}
	if (j->err[0] != '\0')
		log_error("reload: %s", j->err);
	if (j->st == NULL || proxy_reload(r->px, j->st) == -1) {
		r->failed++;
		certwatch_free(j->cw);
		log_error("reload: %s not applied: the running configuration "
		    "stays (generation %u)", r->path, proxy_generation(r->px));
	} else {
		r->ok++;
		log_notice("reload: %s applied (generation %u)", r->path,
		    proxy_generation(r->px));
		r->applied(r->arg, c, j->cw);
	}
	free(j);
	sdnotify_ready();
	if (r->again) {
		r->again = 0;
		start(r);
	}
}

static void
start(struct reloader *r)
{
	struct job *j = calloc(1, sizeof(*j));

	if (j == NULL) {
		r->failed++;
		log_error("reload: out of memory");
		return;
	}
	j->r = r;
	sdnotify_reloading();
	log_notice("reload: reading %s", r->path);
	if (workers_submit(r->thread, load, loaded, j) == -1) {
		r->failed++;
		log_error("reload: cannot start it");
		free(j);
		sdnotify_ready();
		return;
	}
	r->running = 1;
}

void
reloader_request(struct reloader *r)
{
	if (r->running) {
		/* The file may have changed after the thread read it. */
		r->again = 1;
		log_info("reload: one is running; another follows it");
		return;
	}
	start(r);
}

struct reloader *
reloader_new(struct loop *l, struct proxy *px, const char *path,
    reload_applied_fn *applied, void *arg)
{
	struct reloader *r = calloc(1, sizeof(*r));

	if (r == NULL || (r->thread = workers_new(l, 1, 1)) == NULL) {
		log_error("cannot set up configuration reloads");
		free(r);
		return NULL;
	}
	r->px = px;
	r->path = path;
	r->applied = applied;
	r->arg = arg;
	return r;
}

void
reloader_free(struct reloader *r)
{
	if (r == NULL)
		return;
	r->stopping = 1;
	workers_free(r->thread); /* a running job finishes, then loaded() */
	free(r);
}

unsigned long
reloader_ok(const struct reloader *r)
{
	return r->ok;
}

unsigned long
reloader_failed(const struct reloader *r)
{
	return r->failed;
}
