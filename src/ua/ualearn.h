/*
 * ualearn.h - the proxies one request is disclosed to beyond those the
 * user named (-x): those that proved themselves with a challenge this
 * time (uatrust.c), and those learned before and kept in the cache file
 * (uacache.c), validated again before use. Owns the temporary certificate
 * files uamsg encrypts to and writes the cache back when it changed.
 *
 * A proxy may challenge once per request (digest 4.6 step 6), except one
 * disclosed to from the cache: its certificate may have been replaced
 * since, so one fresh challenge from it replaces the cached certificate.
 */
#ifndef UALEARN_H
#define UALEARN_H

#include <stddef.h>

#include "ua/uachal.h"

struct uaopts;
struct uatrust;
struct ualearn;

/* Proxies are added to o->proxies; route keys the cache (uacache.h). */
struct ualearn *ualearn_new(struct uaopts *o, const struct uatrust *t,
    const char *route);

/* Disclose to the cached proxies that apply to a body of this type. */
void ualearn_from_cache(struct ualearn *l, const char *type, long long now);

/* What an accepted challenge said, for the report. */
struct ualearn_seen {
	char host[UACHAL_AGENT_LEN];
	char types[UACHAL_MAX_TYPES][UACHAL_TYPE_LEN];
	size_t ntypes;                  /* 0: the whole body */
};

/* Digest 4.6 for a 496: NULL when the proxy was added (or its cached
 * certificate replaced) and *seen filled, else why the challenge is
 * refused. */
const char *ualearn_challenge(struct ualearn *l,
    const struct uachal_request *req, const struct uachal_response *resp,
    long long now, struct ualearn_seen *seen);

/* Hosts disclosed to from the cache, for the report. */
const char *const *ualearn_cached(const struct ualearn *l, size_t *n);

/* Save the cache if it changed, remove the temporary files, free. */
void ualearn_free(struct ualearn *l);

#endif /* UALEARN_H */
