/*
 * ratelimit.h - per source address token buckets, to bound how much
 * private-key work (signed 495/496 challenges, CMS decryptions) one sender
 * can make the proxy do; over the limit the proxy answers a cheap unsigned
 * 503 instead.
 *
 * Pure: no I/O, no logging, no Sofia, no OpenSSL, no clock of its own. One
 * instance belongs to one thread (no locking).
 *
 * The table has a fixed capacity, allocated by ratelimit_new(). When it is
 * full, a new source takes the place of an entry whose bucket has refilled
 * (forgetting it loses nothing), else of the least recently used one, which
 * thereby comes back with a full bucket. So a sender spraying many
 * addresses can at worst reset the buckets of the least active sources to
 * full: the limit is per address, and max_sources bounds the memory, not
 * the number of senders. Size it above the number of sources expected to be
 * active within burst / rate seconds.
 *
 * Each IPv6 address is its own source: whoever holds a /64 holds many
 * buckets.
 */
#ifndef RATELIMIT_H
#define RATELIMIT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct ratelimit;

/*
 * rate: tokens added per second (0: unlimited, ratelimit_take always says
 * yes and tracks nothing); burst: bucket size (>= 1), which a new source
 * starts with; max_sources: table capacity (>= 1, at most 2^31).
 * NULL on allocation failure or a bad burst or max_sources.
 */
struct ratelimit *ratelimit_new(unsigned rate, unsigned burst,
    size_t max_sources);
void ratelimit_free(struct ratelimit *rl); /* NULL is fine */

/*
 * Take one token for sa's IP address (port ignored; an IPv4-mapped IPv6
 * address counts as the IPv4 address; families other than AF_INET/AF_INET6
 * and NULL share one bucket). now_ms is a monotonic clock in milliseconds,
 * supplied by the caller so the module stays pure and testable; should it
 * step back, the source's refill restarts from the new time (no tokens for
 * the step, no stall until the clock catches up). A NULL rl is unlimited.
 * Returns 1 if a token was taken, 0 if the source is over its limit.
 */
int ratelimit_take(struct ratelimit *rl, const struct sockaddr *sa,
    uint64_t now_ms);

/* Whether ratelimit_take() would say yes now, without taking a token or
 * starting to track an unknown source (which starts with a full bucket). */
int ratelimit_has(const struct ratelimit *rl, const struct sockaddr *sa,
    uint64_t now_ms);

/* Sources currently tracked (for tests and statistics). */
size_t ratelimit_nsources(const struct ratelimit *rl);

#endif /* RATELIMIT_H */
