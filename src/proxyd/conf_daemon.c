/*
 * conf_daemon.c - the daemon section: the user and group the daemon runs
 * as once it has bound its sockets and read its keys, and its pid file;
 * and the metrics section: the operator's HTTP endpoint.
 * Names are looked up here, so that -c refuses a user that does not
 * exist rather than a start failing after the sockets are bound.
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include <arpa/inet.h>
#include <grp.h>
#include <libconfig.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "proxyd/conf.h"
#include "proxyd/confload.h"

static option_fn opt_user, opt_group, opt_pid_file, opt_metrics_address;

const struct option conf_daemon_opts[] = {
	O_FNAT("user", opt_user, daemon_user),
	O_FNAT("group", opt_group, daemon_group),
	O_FNAT("pid_file", opt_pid_file, pid_file),
	O_END
};

const struct option conf_metrics_opts[] = {
	O_BOOL("enabled", metrics_enabled),
	O_FNAT("address", opt_metrics_address, metrics_address),
	O_INT("port", 1, 65535, CONF_OFF(metrics_port)),
	O_END
};

/* Metrics tell about traffic: loopback unless the operator says more. */
void
conf_daemon_defaults(struct conf *c)
{
	c->metrics_port = 9465;
}

static void
opt_metrics_address(struct loader *l, const config_setting_t *s,
    const char *path, const struct option *o, void *base)
{
	char **to = (char **)(void *)((char *)base + o->off);
	unsigned char a[sizeof(struct in6_addr)];
	const char *v;

	if (!cl_is_string(l, s, path))
		return;
	v = config_setting_get_string(s);
	if (inet_pton(AF_INET, v, a) != 1 && inet_pton(AF_INET6, v, a) != 1) {
		cl_err(l, s, "%s: \"%s\" is not an IPv4 or IPv6 address", path,
		    v);
		return;
	}
	free(*to);
	*to = cl_strdup(l, v);
}

/* "" means "not set". */
static const char *
nonempty(struct loader *l, const config_setting_t *s, const char *path)
{
	const char *v;

	if (!cl_is_string(l, s, path))
		return NULL;
	v = config_setting_get_string(s);
	return *v != '\0' ? v : NULL;
}

static void
opt_user(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, void *base)
{
	char **to = (char **)(void *)((char *)base + o->off);
	const char *v = nonempty(l, s, path);

	if (v == NULL)
		return;
	if (getpwnam(v) == NULL) {
		cl_err(l, s, "%s: no user \"%s\" on this system", path, v);
		return;
	}
	free(*to);
	*to = cl_strdup(l, v);
}

static void
opt_group(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, void *base)
{
	char **to = (char **)(void *)((char *)base + o->off);
	const char *v = nonempty(l, s, path);

	if (v == NULL)
		return;
	if (getgrnam(v) == NULL) {
		cl_err(l, s, "%s: no group \"%s\" on this system", path, v);
		return;
	}
	free(*to);
	*to = cl_strdup(l, v);
}

static void
opt_pid_file(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, void *base)
{
	char **to = (char **)(void *)((char *)base + o->off);
	const char *v = nonempty(l, s, path);
	char *dir, *slash;
	struct stat st;

	if (v == NULL)
		return;
	free(*to);
	if ((*to = cl_absolute(l, v)) == NULL ||
	    (dir = cl_strdup(l, *to)) == NULL)
		return;
	if ((slash = strrchr(dir, '/')) != NULL)
		*(slash == dir ? slash + 1 : slash) = '\0';
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		cl_err(l, s, "%s: directory \"%s\" does not exist", path, dir);
	free(dir);
}

void
conf_check_daemon(struct loader *l, const config_t *cfg)
{
	const config_setting_t *g = config_lookup(cfg, "daemon.group");

	if (l->c->daemon_group != NULL && l->c->daemon_user == NULL)
		cl_err(l, g, "daemon.group: needs daemon.user (the group "
		    "alone is not dropped to)");
}

void
conf_free_daemon(struct conf *c)
{
	free(c->daemon_user);
	free(c->daemon_group);
	free(c->pid_file);
	free(c->metrics_address);
}
