/*
 * ualearn.c - proxies learned by challenge or from the cache (ualearn.h).
 */
#include "ua/ualearn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "crypto/cms.h"
#include "ua/uacache.h"
#include "ua/uaopts.h"
#include "ua/uatrust.h"

struct learned {
	char file[128];     /* temporary PEM file uamsg encrypts to */
	int from_cache;     /* may challenge once to replace it */
};

struct ualearn {
	struct uaopts *o;
	const struct uatrust *t;
	const char *route;
	size_t given;       /* o->proxies[0..given) are the user's */
	struct learned l[UAMSG_MAX_PROXIES];
	struct uacache cache;
	int cache_ok;       /* loaded (or absent): may be written back */
	int dirty;
	const char *cached[UAMSG_MAX_PROXIES];
	size_t ncached;
};

struct ualearn *
ualearn_new(struct uaopts *o, const struct uatrust *t, const char *route)
{
	struct ualearn *l = calloc(1, sizeof(*l));
	char err[512];

	if (l == NULL)
		return NULL;
	l->o = o;
	l->t = t;
	l->route = route;
	l->given = o->nproxies;
	if (o->cache_file != NULL) {
		if (uacache_load(&l->cache, o->cache_file, err,
		    sizeof(err)) == 0)
			l->cache_ok = 1;
		else
			fprintf(stderr, "e2mua: cache not used: %s\n", err);
	}
	return l;
}

/* uamsg encrypts to certificate files: a private temporary one. */
static int
write_cert(struct learned *d, const uint8_t *der, size_t len)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	if (d->file[0] == '\0') {
		snprintf(d->file, sizeof(d->file), "%s/e2mua-cert.XXXXXX",
		    dir != NULL && *dir != '\0' ? dir : "/tmp");
		if ((fd = mkstemp(d->file)) < 0) {
			d->file[0] = '\0';
			return -1;
		}
		close(fd);
	}
	return cms_cert_write_pem(der, len, d->file, NULL, 0);
}

static int
add_proxy(struct ualearn *l, const char *host, const uint8_t *der,
    size_t len, int from_cache)
{
	struct uaopts *o = l->o;
	struct learned *d;
	char *h;

	if (o->nproxies >= UAMSG_MAX_PROXIES || (h = strdup(host)) == NULL)
		return -1;
	d = &l->l[o->nproxies - l->given];
	if (write_cert(d, der, len) != 0) {
		free(h);
		return -1;
	}
	d->from_cache = from_cache;
	o->proxies[o->nproxies].host = h;
	o->proxies[o->nproxies].cert_file = d->file;
	o->nproxies++;
	return 0;
}

static int
named(const struct uaopts *o, const char *host)
{
	size_t i;

	for (i = 0; i < o->nproxies; i++)
		if (strcasecmp(o->proxies[i].host, host) == 0)
			return (int)i;
	return -1;
}

/* One cache entry: disclose to it if it is still good, else forget it. */
static void
use_entry(struct ualearn *l, size_t *i)
{
	const struct uacache_entry *e = &l->cache.v[*i];
	uint8_t *der = NULL;
	size_t len = 0;
	const char *why = "unreadable certificate";

	if (named(l->o, e->host) >= 0 ||
	    l->o->nproxies >= l->o->max_proxies + l->given)
		return;
	if (cms_cert_from_pem(e->cert_pem, &der, &len) == 0 &&
	    (why = uatrust_learned(l->t, e->host, der, len)) == NULL &&
	    add_proxy(l, e->host, der, len, 1) == 0)
		l->cached[l->ncached++] = l->o->proxies[l->o->nproxies - 1].host;
	else if (why != NULL) {
		fprintf(stderr, "e2mua: cached proxy %s dropped: %s\n",
		    e->host, why);
		uacache_drop(&l->cache, *i);
		l->dirty = 1;
		(*i)--;
	}
	free(der);
}

void
ualearn_from_cache(struct ualearn *l, const char *type, long long now)
{
	size_t i;

	if (!l->cache_ok)
		return;
	for (i = 0; i < l->cache.n; i++)
		if (uacache_applies(&l->cache.v[i], l->route, type, now,
		    l->o->cache_ttl))
			use_entry(l, &i);
}

static void
remember(struct ualearn *l, const struct uatrust_proxy *p, long long now)
{
	char *pem = NULL;

	if (!l->cache_ok || cms_cert_to_pem(p->cert, p->cert_len, &pem) != 0)
		return;
	if (uacache_put(&l->cache, l->route, p->host, pem, p->types,
	    p->ntypes, now) == 0)
		l->dirty = 1;
	free(pem);
}

/* A new challenge from a proxy already disclosed to. */
static const char *
again(struct ualearn *l, int i, const struct uatrust_proxy *p)
{
	struct learned *d;

	if ((size_t)i < l->given || !(d = &l->l[(size_t)i - l->given])->
	    from_cache)
		return "the proxy challenged again after disclosure";
	d->from_cache = 0;
	return write_cert(d, p->cert, p->cert_len) == 0 ? NULL :
	    "cannot keep the proxy's certificate";
}

const char *
ualearn_challenge(struct ualearn *l, const struct uachal_request *req,
    const struct uachal_response *resp, long long now,
    struct ualearn_seen *seen)
{
	struct uatrust_proxy p;
	const char *why;
	size_t k;
	int i;

	if ((why = uatrust_challenge(l->t, req, resp, now, &p)) != NULL)
		return why;
	if ((i = named(l->o, p.host)) >= 0)
		why = again(l, i, &p);
	else if (l->o->nproxies - l->given >= l->o->max_proxies ||
	    l->o->nproxies >= UAMSG_MAX_PROXIES)
		why = "too many inspecting proxies";
	else if (add_proxy(l, p.host, p.cert, p.cert_len, 0) != 0)
		why = "cannot keep the proxy's certificate";
	if (why == NULL) {
		remember(l, &p, now);
		snprintf(seen->host, sizeof(seen->host), "%s", p.host);
		for (k = 0; k < p.ntypes; k++)
			snprintf(seen->types[k], sizeof(seen->types[k]), "%s",
			    p.types[k]);
		seen->ntypes = p.ntypes;
	}
	uatrust_proxy_free(&p);
	return why;
}

const char *const *
ualearn_cached(const struct ualearn *l, size_t *n)
{
	*n = l->ncached;
	return l->cached;
}

void
ualearn_free(struct ualearn *l)
{
	char err[512];
	size_t i;

	if (l == NULL)
		return;
	if (l->dirty && uacache_save(&l->cache, l->o->cache_file, err,
	    sizeof(err)) != 0)
		fprintf(stderr, "e2mua: %s\n", err);
	for (i = l->given; i < l->o->nproxies; i++) {
		unlink(l->l[i - l->given].file);
		free((char *)l->o->proxies[i].host);
	}
	l->o->nproxies = l->given;
	uacache_free(&l->cache);
	free(l);
}
