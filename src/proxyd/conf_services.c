/*
 * conf_services.c - the archive and pinholes sections of the
 * configuration: the IM archive and the media pinholes, the two services
 * fed by what the proxy opened (digest 6.1-6.4). Off unless enabled; when
 * on, what they cannot work without is checked here (see confload.h).
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* strdup under -std=c11 */
#endif

#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "proxyd/conf.h"
#include "proxyd/confload.h"

static option_fn opt_archive_path, opt_name,
    opt_program, opt_networks, opt_ports;

static const struct conf_name archive_targets[] = { /* archive_syslog */
	{ "file", 0 },
	{ "syslog", 1 },
	{ NULL, 0 }
};
static const struct conf_name archive_failures[] = { /* archive_fail_open */
	{ "reject", 0 },
	{ "forward", 1 },
	{ NULL, 0 }
};
static const struct conf_name pinhole_backends[] = { /* pinholes_exec */
	{ "nftables", 0 },
	{ "exec", 1 },
	{ NULL, 0 }
};

const struct option conf_archive_opts[] = {
	O_BOOL("enabled", archive_enabled),
	O_NAME("target", archive_targets, CONF_OFF(archive_syslog)),
	O_FN("path", opt_archive_path),
	O_FNAT("facility", cl_opt_facility, archive_facility),
	O_NAME("on_failure", archive_failures, CONF_OFF(archive_fail_open)),
	O_UINT("max_wait", 1, 1000, archive_max_wait_ms),
	O_UINT("max_batch", 1, 65536, archive_max_batch),
	O_UINT("queue", 1, 1000000, archive_queue),
	O_SIZE("rotate_size", 0, 1099511627776LL, archive_rotate_bytes),
	O_UINT("rotate_keep", 1, 1000, archive_rotate_keep),
	O_END
};

const struct option conf_pinholes_opts[] = {
	O_BOOL("enabled", pinholes_enabled),
	O_NAME("backend", pinhole_backends, CONF_OFF(pinholes_exec)),
	O_FNAT("family", opt_name, pinholes_family),
	O_FNAT("table", opt_name, pinholes_table),
	O_FNAT("set4", opt_name, pinholes_set4),
	O_FNAT("set6", opt_name, pinholes_set6),
	O_BOOL("create", pinholes_create),
	O_BOOL("allow_tcp", pinholes_allow_tcp),
	O_FN("program", opt_program),
	O_FN("media_networks", opt_networks),
	O_FN("ports", opt_ports),
	O_UINT("timeout", 5, 3600, pinholes_timeout_s),
	O_UINT("max_duration", 60, 604800, pinholes_max_duration_s),
	O_UINT("max_per_dialog", 1, 256, pinholes_max_per_dialog),
	O_UINT("max_total", 1, 1000000, pinholes_max_total),
	O_END
};

void
conf_services_defaults(struct conf *c)
{
	c->archive_facility = LOG_LOCAL0;
	c->archive_max_wait_ms = 5;
	c->archive_max_batch = 256;
	c->archive_queue = 4096;
	c->archive_rotate_keep = 10;
	c->pinholes_create = 1;
	c->pinholes_timeout_s = 120;
	c->pinholes_max_duration_s = 14400;
	c->pinholes_max_per_dialog = 16;
	c->pinholes_max_total = 20000;
}

/*
 * The archive file need not exist (it is created, mode 0600), but its
 * directory must, and an existing file must be a regular one: a typo is
 * found now, not at the first MESSAGE.
 */
static void
opt_archive_path(struct loader *l, const config_setting_t *s,
    const char *path, const struct option *o, void *base)
{
	struct conf *c = base;
	struct stat st;
	const char *v;
	char *dir, *slash;

	(void)o;
	if (!cl_is_string(l, s, path))
		return;
	v = config_setting_get_string(s);
	if (*v == '\0')
		return;
	free(c->archive_path);
	if ((c->archive_path = cl_absolute(l, v)) == NULL ||
	    (dir = cl_strdup(l, c->archive_path)) == NULL)
		return;
	if ((slash = strrchr(dir, '/')) != NULL)
		*(slash == dir ? slash + 1 : slash) = '\0';
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		cl_err(l, s, "%s: directory \"%s\" does not exist", path, dir);
	else if (stat(c->archive_path, &st) == 0 && !S_ISREG(st.st_mode))
		cl_err(l, s, "%s: \"%s\" is not a regular file", path,
		    c->archive_path);
	free(dir);
}

/* nftables names: a letter, then letters, digits and underscores. */
static void
opt_name(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, void *base)
{
	char **to = (char **)(void *)((char *)base + o->off);
	const char *v, *p;

	if (!cl_is_string(l, s, path))
		return;
	v = config_setting_get_string(s);
	for (p = v; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			break;
	if (!isalpha((unsigned char)v[0]) || *p != '\0' || p - v > 64) {
		cl_err(l, s, "%s: \"%s\" is not an nftables name", path, v);
		return;
	}
	free(*to);
	*to = cl_strdup(l, v);
}

/* The exec back end's program: an executable regular file. */
static void
opt_program(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, void *base)
{
	struct conf *c = base;
	const char *v;
	int errors;

	(void)o;
	if (!cl_is_string(l, s, path))
		return;
	v = config_setting_get_string(s);
	if (*v == '\0')
		return;
	errors = l->nerrors;
	cl_check_file(l, s, path, v, 0, &c->pinholes_program);
	if (l->nerrors == errors && c->pinholes_program != NULL &&
	    access(c->pinholes_program, X_OK) != 0)
		cl_err(l, s, "%s: \"%s\" is not executable", path,
		    c->pinholes_program);
}

static void
opt_networks(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, void *base)
{
	struct conf *c = base;
	int n;

	(void)o;
	/* No default: an empty list would open nothing, or anything. */
	if ((n = cl_strings(l, s, path)) == 0)
		cl_err(l, s, "%s: must not be empty", path);
	if (n > 0)
		cl_load_networks(l, s, path, n, &c->pinholes_networks,
		    &c->npinholes_networks);
}

/* "10000-20000" or "5004"; 1 to 65535. 0 when v is not one. */
static int
parse_range(const char *v, struct conf_port_range *r)
{
	char *end;
	unsigned long lo, hi;

	if (!isdigit((unsigned char)v[0]))
		return 0;
	errno = 0;
	lo = strtoul(v, &end, 10);
	hi = lo;
	if (*end == '-') {
		if (!isdigit((unsigned char)end[1]))
			return 0;
		hi = strtoul(end + 1, &end, 10);
	}
	if (errno != 0 || *end != '\0' || lo < 1 || hi > 65535 || lo > hi)
		return 0;
	r->lo = (unsigned)lo;
	r->hi = (unsigned)hi;
	return 1;
}

static void
opt_ports(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, void *base)
{
	struct conf *c = base;
	const config_setting_t *e;
	const char *v;
	int i, n;

	(void)o;
	if ((n = cl_nonempty_strings(l, s, path, "port")) <= 0)
		return;
	if ((c->pinholes_ports = cl_calloc(l, (size_t)n,
	    sizeof(*c->pinholes_ports))) == NULL)
		return;
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, (unsigned)i);
		v = config_setting_get_string(e);
		if (!parse_range(v, &c->pinholes_ports[c->npinholes_ports]))
			cl_err(l, e, "%s: \"%s\" is not a port or a range "
			    "\"low-high\" within 1-65535", path, v);
		else
			c->npinholes_ports++;
	}
}

static void
default_name(struct loader *l, char **to, const char *v)
{
	if (*to == NULL)
		*to = cl_strdup(l, v);
}

/* Point at the setting if the file has it, else at its group. */
static const config_setting_t *
where(const config_t *cfg, const char *name, const char *group)
{
	const config_setting_t *s = config_lookup(cfg, name);

	return s != NULL ? s : config_lookup(cfg, group);
}

static void
check_archive(struct loader *l, const config_t *cfg)
{
	struct conf *c = l->c;

	if (!c->archive_enabled || c->archive_syslog ||
	    c->archive_path != NULL)
		return;
	cl_err(l, where(cfg, "archive.path", "archive"),
	    "archive.path: must be set when the archive is enabled with "
	    "target \"file\"");
}

static void
check_pinholes(struct loader *l, const config_t *cfg)
{
	struct conf *c = l->c;

	default_name(l, &c->pinholes_family, "inet");
	default_name(l, &c->pinholes_table, "e2mproxy");
	default_name(l, &c->pinholes_set4, "media4");
	default_name(l, &c->pinholes_set6, "media6");
	if (c->pinholes_ports == NULL && (c->pinholes_ports = cl_calloc(l, 1,
	    sizeof(*c->pinholes_ports))) != NULL) {
		c->pinholes_ports[0].lo = 1024;
		c->pinholes_ports[0].hi = 65535;
		c->npinholes_ports = 1;
	}
	if (!c->pinholes_enabled)
		return;
	/* The answer, re-INVITEs and the BYE must pass the proxy. */
	if (!c->record_route)
		cl_err(l, where(cfg, "sip.record_route", "pinholes"),
		    "pinholes: need sip.record_route = true (the answer, "
		    "re-INVITEs and the BYE must pass the proxy)");
	if (c->npinholes_networks == 0 &&
	    config_lookup(cfg, "pinholes.media_networks") == NULL)
		cl_err(l, where(cfg, "pinholes.media_networks", "pinholes"),
		    "pinholes.media_networks: must be set when pinholes are "
		    "enabled (media outside them get no pinhole)");
	if (c->pinholes_exec && c->pinholes_program == NULL &&
	    config_lookup(cfg, "pinholes.program") == NULL)
		cl_err(l, where(cfg, "pinholes.program", "pinholes"),
		    "pinholes.program: must be set with backend \"exec\"");
}

void
conf_check_services(struct loader *l, const config_t *cfg)
{
	check_archive(l, cfg);
	check_pinholes(l, cfg);
}

void
conf_free_services(struct conf *c)
{
	free(c->archive_path);
	free(c->pinholes_family);
	free(c->pinholes_table);
	free(c->pinholes_set4);
	free(c->pinholes_set6);
	free(c->pinholes_program);
	free(c->pinholes_networks);
	free(c->pinholes_ports);
}
