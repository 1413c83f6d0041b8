/*
 * uacache.c - learned proxies in a file (see uacache.h).
 */
#include "ua/uacache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libconfig.h>

static void
entry_free(struct uacache_entry *e)
{
	size_t i;

	free(e->route);
	free(e->host);
	free(e->cert_pem);
	for (i = 0; i < e->ntypes; i++)
		free(e->types[i]);
	memset(e, 0, sizeof(*e));
}

void
uacache_free(struct uacache *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		entry_free(&c->v[i]);
	free(c->v);
	c->v = NULL;
	c->n = 0;
}

void
uacache_drop(struct uacache *c, size_t i)
{
	if (i >= c->n)
		return;
	entry_free(&c->v[i]);
	memmove(&c->v[i], &c->v[i + 1], (c->n - i - 1) * sizeof(c->v[0]));
	c->n--;
}

static char *
lower_dup(const char *s)
{
	char *d = strdup(s), *p;

	for (p = d; p != NULL && *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return d;
}

static int
fill(struct uacache_entry *e, const char *route, const char *host,
    const char *pem, const char *const *types, size_t ntypes, long long now)
{
	size_t i;

	memset(e, 0, sizeof(*e));
	e->route = strdup(route);
	e->host = lower_dup(host);
	e->cert_pem = strdup(pem);
	e->learned = now;
	for (i = 0; i < ntypes && i < UACACHE_MAX_TYPES; i++)
		if ((e->types[e->ntypes++] = lower_dup(types[i])) == NULL)
			break;
	if (e->route == NULL || e->host == NULL || e->cert_pem == NULL ||
	    (e->ntypes > 0 && e->types[e->ntypes - 1] == NULL)) {
		entry_free(e);
		return -1;
	}
	return 0;
}

int
uacache_put(struct uacache *c, const char *route, const char *host,
    const char *pem, const char *const *types, size_t ntypes, long long now)
{
	struct uacache_entry e, *v;
	size_t i;

	if (fill(&e, route, host, pem, types, ntypes, now) != 0)
		return -1;
	for (i = 0; i < c->n; i++)
		if (strcmp(c->v[i].route, route) == 0 &&
		    strcmp(c->v[i].host, e.host) == 0) {
			entry_free(&c->v[i]);
			c->v[i] = e;
			return 0;
		}
	if (c->n == UACACHE_MAX_ENTRIES) {
		size_t oldest = 0;

		for (i = 1; i < c->n; i++)
			if (c->v[i].learned < c->v[oldest].learned)
				oldest = i;
		uacache_drop(c, oldest);
	}
	if ((v = realloc(c->v, (c->n + 1) * sizeof(*v))) == NULL) {
		entry_free(&e);
		return -1;
	}
	c->v = v;
	c->v[c->n++] = e;
	return 0;
}

int
uacache_applies(const struct uacache_entry *e, const char *route,
    const char *type, long long now, unsigned ttl)
{
	size_t i;

	if (strcmp(e->route, route) != 0 || e->learned > now ||
	    now - e->learned > (long long)ttl)
		return 0;
	if (e->ntypes == 0)
		return 1; /* it wants the whole body, whatever it is */
	for (i = 0; i < e->ntypes; i++)
		if (strcasecmp(e->types[i], type) == 0)
			return 1;
	return 0;
}

static const char *
member(const config_setting_t *g, const char *name)
{
	const char *v = NULL;

	return config_setting_lookup_string(g, name, &v) == CONFIG_TRUE ? v :
	    NULL;
}

/* One { route; host; types; learned; certificate; } group. */
static int
load_entry(struct uacache *c, const config_setting_t *g)
{
	const char *types[UACACHE_MAX_TYPES];
	const char *route = member(g, "route"), *host = member(g, "host"),
	    *pem = member(g, "certificate");
	const config_setting_t *t = config_setting_get_member(g, "types");
	long long learned;
	size_t n = 0;
	int i;

	if (route == NULL || host == NULL || pem == NULL || t == NULL ||
	    !config_setting_is_array(t) ||
	    config_setting_lookup_int64(g, "learned", &learned) != CONFIG_TRUE)
		return -1;
	for (i = 0; i < config_setting_length(t) && n < UACACHE_MAX_TYPES; i++)
		if ((types[n++] = config_setting_get_string_elem(t,
		    (unsigned)i)) == NULL)
			return -1;
	return uacache_put(c, route, host, pem, types, n, learned);
}

int
uacache_load(struct uacache *c, const char *file, char *err, size_t errsz)
{
	config_t cfg;
	const config_setting_t *list, *g;
	int i, rc = 0;

	memset(c, 0, sizeof(*c));
	if (access(file, F_OK) != 0 && errno == ENOENT)
		return 0;
	config_init(&cfg);
	if (config_read_file(&cfg, file) != CONFIG_TRUE) {
		snprintf(err, errsz, "%s:%d: %s", file, config_error_line(&cfg),
		    config_error_text(&cfg));
		config_destroy(&cfg);
		return -1;
	}
	if ((list = config_lookup(&cfg, "proxies")) == NULL ||
	    !config_setting_is_list(list)) {
		snprintf(err, errsz, "%s: not an e2mua cache (no proxies list)",
		    file);
		rc = -1;
	}
	for (i = 0; rc == 0 && (g = config_setting_get_elem(list,
	    (unsigned)i)) != NULL; i++)
		if (!config_setting_is_group(g) || load_entry(c, g) != 0) {
			snprintf(err, errsz, "%s:%d: a bad cache entry", file,
			    config_setting_source_line(g));
			rc = -1;
		}
	if (rc != 0)
		uacache_free(c);
	config_destroy(&cfg);
	return rc;
}

static int
add_string(config_setting_t *g, const char *name, const char *v)
{
	config_setting_t *s = config_setting_add(g, name, CONFIG_TYPE_STRING);

	return s != NULL && config_setting_set_string(s, v) == CONFIG_TRUE ?
	    0 : -1;
}

static int
save_entry(config_setting_t *list, const struct uacache_entry *e)
{
	config_setting_t *g = config_setting_add(list, NULL, CONFIG_TYPE_GROUP);
	config_setting_t *t, *s;
	size_t i;

	if (g == NULL || add_string(g, "route", e->route) != 0 ||
	    add_string(g, "host", e->host) != 0 ||
	    (t = config_setting_add(g, "types", CONFIG_TYPE_ARRAY)) == NULL)
		return -1;
	for (i = 0; i < e->ntypes; i++)
		if (config_setting_set_string_elem(t, -1, e->types[i]) == NULL)
			return -1;
	if ((s = config_setting_add(g, "learned", CONFIG_TYPE_INT64)) == NULL ||
	    config_setting_set_int64(s, e->learned) != CONFIG_TRUE)
		return -1;
	return add_string(g, "certificate", e->cert_pem);
}

/* Written beside the file and renamed over it: a reader never sees half. */
static int
write_atomically(config_t *cfg, const char *file, char *err, size_t errsz)
{
	size_t len = strlen(file) + sizeof(".XXXXXX");
	char *tmp = malloc(len);
	FILE *f = NULL;
	int fd = -1, ok;

	if (tmp == NULL)
		return -1;
	snprintf(tmp, len, "%s.XXXXXX", file);
	/* mkstemp creates the file 0600: the cache says whom we talk to. */
	ok = (fd = mkstemp(tmp)) >= 0 && (f = fdopen(fd, "w")) != NULL;
	if (ok) {
		fputs("# e2mua: proxies learned from verified challenges "
		    "(rewritten by e2mua)\n", f);
		config_write(cfg, f);
		ok = fflush(f) == 0 && fsync(fd) == 0;
	}
	if (f != NULL)
		ok = fclose(f) == 0 && ok;
	else if (fd >= 0)
		close(fd);
	if (ok)
		ok = rename(tmp, file) == 0;
	if (!ok) {
		snprintf(err, errsz, "%s: cannot write: %s", file,
		    strerror(errno));
		if (fd >= 0)
			unlink(tmp);
	}
	free(tmp);
	return ok ? 0 : -1;
}

int
uacache_save(const struct uacache *c, const char *file, char *err,
    size_t errsz)
{
	config_t cfg;
	config_setting_t *list;
	size_t i;
	int rc = 0;

	config_init(&cfg);
	list = config_setting_add(config_root_setting(&cfg), "proxies",
	    CONFIG_TYPE_LIST);
	for (i = 0; rc == 0 && i < c->n; i++)
		if (list == NULL || save_entry(list, &c->v[i]) != 0) {
			snprintf(err, errsz, "%s: out of memory", file);
			rc = -1;
		}
	if (rc == 0)
		rc = write_atomically(&cfg, file, err, errsz);
	config_destroy(&cfg);
	return rc;
}
