/*
 * uacache.h - the proxies a user agent has learned from verified 496
 * challenges (digest 4.6 step 7: "learn in advance"), kept in a file so
 * that later requests are built right the first time.
 *
 * An entry is (route, proxy host) -> the proxy's encryption certificate
 * (PEM) and the body types it asked for (none: the whole body). The route
 * is the first hop the request took (the outbound proxy, or the request
 * URI's host when there is none): a proxy learned on one path is not
 * disclosed to on another. Entries carry the time they were learned; the
 * caller decides how long they stay good and must validate a cached
 * certificate again before using it (it may have been revoked since).
 *
 * The file is libconfig, rewritten whole (temporary file + rename, mode
 * 0600). No Sofia or OpenSSL types.
 */
#ifndef UACACHE_H
#define UACACHE_H

#include <stddef.h>

#define UACACHE_MAX_ENTRIES 256 /* the oldest goes beyond this */
#define UACACHE_MAX_TYPES   16

struct uacache_entry {
	char *route;
	char *host;
	char *cert_pem;
	char *types[UACACHE_MAX_TYPES]; /* lower case */
	size_t ntypes;
	long long learned;              /* unix seconds */
};

struct uacache {
	struct uacache_entry *v;
	size_t n;
};

/* A missing file is an empty cache (0). -1 with err for an unreadable or
 * malformed one: then do not save over it, it may not be ours. */
int uacache_load(struct uacache *c, const char *file, char *err,
    size_t errsz);
int uacache_save(const struct uacache *c, const char *file, char *err,
    size_t errsz);

/* Add or replace the entry for (route, host); 0, or -1 out of memory. */
int uacache_put(struct uacache *c, const char *route, const char *host,
    const char *cert_pem, const char *const *types, size_t ntypes,
    long long now);
void uacache_drop(struct uacache *c, size_t i);

/* Whether entry e is for a request on route with a body of this type,
 * learned at most ttl seconds before now. */
int uacache_applies(const struct uacache_entry *e, const char *route,
    const char *type, long long now, unsigned ttl);

void uacache_free(struct uacache *c);

#endif /* UACACHE_H */
