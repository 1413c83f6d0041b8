/*
 * ratelimit.c - per source address token buckets.
 *
 * Entries live in one array of max_sources, chained from a power-of-two
 * head array (SipHash-2-4 with a per-instance random key, so senders cannot
 * pile their addresses into one chain) and kept on a doubly linked LRU
 * list. Entries are never freed, only reused, so a take costs one hash,
 * one short chain walk and a few index moves.
 */
#include "common/ratelimit.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define MILLI 1000u            /* a token, in the units buckets count */
#define MAX_SOURCES (1u << 31) /* indices are uint32_t, NIL excluded */
#define NIL UINT32_MAX
#define FULL_SAMPLE 8 /* oldest entries checked for a full bucket */

/* Kind byte, then the address as IPv6: IPv4 is stored v4-mapped, so an
 * AF_INET peer and its v4-mapped AF_INET6 form are one key. */
#define KEY_LEN 17
#define KEY_OTHER 0
#define KEY_IP 1

struct rl_entry {
	uint64_t milli; /* tokens * MILLI, as of last_ms */
	uint64_t last_ms;
	uint32_t hnext; /* hash chain */
	uint32_t newer; /* LRU list */
	uint32_t older;
	uint8_t key[KEY_LEN];
};

struct ratelimit {
	/* Tokens per second are milli-tokens per millisecond: refill is
	 * exact integer arithmetic, nothing is rounded away. */
	uint64_t rate;
	uint64_t full; /* burst * MILLI */
	uint64_t k0, k1;
	struct rl_entry *e;
	uint32_t *head;
	uint32_t mask; /* head array size - 1 */
	uint32_t n, max;
	uint32_t newest, oldest;
};

static uint64_t
rotl(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static void
sip_round(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = rotl(v[1], 13) ^ v[0];
	v[0] = rotl(v[0], 32);
	v[2] += v[3];
	v[3] = rotl(v[3], 16) ^ v[2];
	v[0] += v[3];
	v[3] = rotl(v[3], 21) ^ v[0];
	v[2] += v[1];
	v[1] = rotl(v[1], 17) ^ v[2];
	v[2] = rotl(v[2], 32);
}

static void
sip_absorb(uint64_t v[4], uint64_t m)
{
	v[3] ^= m;
	sip_round(v);
	sip_round(v);
	v[0] ^= m;
}

/* SipHash-2-4 (Aumasson and Bernstein): keyed, so chain lengths do not
 * depend on anything a sender can predict. */
static uint64_t
siphash(uint64_t k0, uint64_t k1, const uint8_t *p, size_t len)
{
	uint64_t v[4] = { k0 ^ 0x736f6d6570736575ull,
		k1 ^ 0x646f72616e646f6dull, k0 ^ 0x6c7967656e657261ull,
		k1 ^ 0x7465646279746573ull };
	uint64_t m;
	size_t i, j;

	for (i = 0; i + 8 <= len; i += 8) {
		m = 0;
		for (j = 0; j < 8; j++)
			m |= (uint64_t)p[i + j] << (8 * j);
		sip_absorb(v, m);
	}
	m = (uint64_t)len << 56;
	for (j = 0; i + j < len; j++)
		m |= (uint64_t)p[i + j] << (8 * j);
	sip_absorb(v, m);
	v[2] ^= 0xff;
	for (j = 0; j < 4; j++)
		sip_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/*
 * A weak key still beats a fixed one: without getrandom() (old kernel,
 * seccomp, entropy not yet ready) mix the clocks, the pid and an address,
 * which a remote sender cannot read.
 */
static void
seed(struct ratelimit *rl)
{
	uint64_t k[2] = { 0, 0 };
	size_t got = 0;
	struct {
		struct timespec rt, mono;
		pid_t pid;
		const void *self;
	} m;

	while (got < sizeof(k)) {
		ssize_t r = getrandom(
		    (uint8_t *)k + got, sizeof(k) - got, GRND_NONBLOCK);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	if (got < sizeof(k)) {
		memset(&m, 0, sizeof(m));
		clock_gettime(CLOCK_REALTIME, &m.rt);
		clock_gettime(CLOCK_MONOTONIC, &m.mono);
		m.pid = getpid();
		m.self = rl;
		k[0] ^= siphash(k[0], 1, (const uint8_t *)&m, sizeof(m));
		k[1] ^= siphash(k[1], 2, (const uint8_t *)&m, sizeof(m));
	}
	rl->k0 = k[0];
	rl->k1 = k[1];
}

static void
make_key(const struct sockaddr *sa, uint8_t key[KEY_LEN])
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;

	memset(key, 0, KEY_LEN);
	if (sa == NULL)
		return;
	switch (sa->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)(const void *)sa;
		key[0] = KEY_IP;
		key[11] = key[12] = 0xff;
		memcpy(key + 13, &sin->sin_addr, 4);
		break;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		key[0] = KEY_IP;
		memcpy(key + 1, &sin6->sin6_addr, 16);
		break;
	default:
		key[0] = KEY_OTHER;
		break;
	}
}

static uint32_t
chain_of(const struct ratelimit *rl, const uint8_t key[KEY_LEN])
{
	return (uint32_t)siphash(rl->k0, rl->k1, key, KEY_LEN) & rl->mask;
}

static uint32_t
find(const struct ratelimit *rl, uint32_t chain, const uint8_t key[KEY_LEN])
{
	uint32_t i;

	for (i = rl->head[chain]; i != NIL; i = rl->e[i].hnext)
		if (memcmp(rl->e[i].key, key, KEY_LEN) == 0)
			return i;
	return NIL;
}

static void
chain_unlink(struct ratelimit *rl, uint32_t i)
{
	uint32_t *p = &rl->head[chain_of(rl, rl->e[i].key)];

	while (*p != i)
		p = &rl->e[*p].hnext;
	*p = rl->e[i].hnext;
}

static void
lru_unlink(struct ratelimit *rl, uint32_t i)
{
	struct rl_entry *e = &rl->e[i];

	if (e->newer != NIL)
		rl->e[e->newer].older = e->older;
	else
		rl->newest = e->older;
	if (e->older != NIL)
		rl->e[e->older].newer = e->newer;
	else
		rl->oldest = e->newer;
}

static void
lru_push(struct ratelimit *rl, uint32_t i)
{
	struct rl_entry *e = &rl->e[i];

	e->newer = NIL;
	e->older = rl->newest;
	if (rl->newest != NIL)
		rl->e[rl->newest].newer = i;
	else
		rl->oldest = i;
	rl->newest = i;
}

/* A clock that stepped back gives nothing here; the caller then moves
 * last_ms back to it, so the refill resumes from there. */
static uint64_t
tokens_at(const struct ratelimit *rl, const struct rl_entry *e, uint64_t now_ms)
{
	uint64_t elapsed, missing;

	if (now_ms <= e->last_ms)
		return e->milli;
	elapsed = now_ms - e->last_ms;
	missing = rl->full - e->milli;
	/* Compare before multiplying: elapsed * rate may overflow. */
	if (elapsed > missing / rl->rate)
		return rl->full;
	return e->milli + elapsed * rl->rate;
}

/*
 * The entry a new source replaces in a full table: the first of the
 * FULL_SAMPLE least recently used whose bucket has refilled, else the least
 * recently used. Bounded, so a take never scans the table; a refilled entry
 * further up the list is simply not found this time.
 */
static uint32_t
victim(const struct ratelimit *rl, uint64_t now_ms)
{
	uint32_t i, k;

	for (i = rl->oldest, k = 0; i != NIL && k < FULL_SAMPLE;
	     i = rl->e[i].newer, k++)
		if (tokens_at(rl, &rl->e[i], now_ms) == rl->full)
			return i;
	return rl->oldest;
}

static uint32_t
add(struct ratelimit *rl, uint32_t chain, const uint8_t key[KEY_LEN],
    uint64_t now_ms)
{
	struct rl_entry *e;
	uint32_t i;

	if (rl->n < rl->max) {
		i = rl->n++;
	} else {
		i = victim(rl, now_ms);
		chain_unlink(rl, i);
		lru_unlink(rl, i);
	}
	e = &rl->e[i];
	memcpy(e->key, key, KEY_LEN);
	e->milli = rl->full;
	e->last_ms = now_ms;
	e->hnext = rl->head[chain];
	rl->head[chain] = i;
	lru_push(rl, i);
	return i;
}

struct ratelimit *
ratelimit_new(unsigned rate, unsigned burst, size_t max_sources)
{
	struct ratelimit *rl;
	size_t nheads = 1, i;

	if (burst == 0 || max_sources == 0 || max_sources > MAX_SOURCES)
		return NULL;
	rl = calloc(1, sizeof(*rl));
	if (rl == NULL)
		return NULL;
	rl->rate = rate;
	rl->full = (uint64_t)burst * MILLI;
	rl->max = (uint32_t)max_sources;
	rl->newest = rl->oldest = NIL;
	if (rate == 0)
		return rl;
	while (nheads < max_sources)
		nheads *= 2;
	rl->mask = (uint32_t)(nheads - 1);
	rl->e = calloc(max_sources, sizeof(*rl->e));
	rl->head = calloc(nheads, sizeof(*rl->head));
	if (rl->e == NULL || rl->head == NULL) {
		ratelimit_free(rl);
		return NULL;
	}
	for (i = 0; i < nheads; i++)
		rl->head[i] = NIL;
	seed(rl);
	return rl;
}

void
ratelimit_free(struct ratelimit *rl)
{
	if (rl == NULL)
		return;
	free(rl->e);
	free(rl->head);
	free(rl);
}

int
ratelimit_take(struct ratelimit *rl, const struct sockaddr *sa, uint64_t now_ms)
{
	uint8_t key[KEY_LEN];
	struct rl_entry *e;
	uint32_t chain, i;

	if (rl == NULL || rl->rate == 0)
		return 1;
	make_key(sa, key);
	chain = chain_of(rl, key);
	i = find(rl, chain, key);
	if (i == NIL) {
		i = add(rl, chain, key, now_ms);
	} else {
		lru_unlink(rl, i);
		lru_push(rl, i);
	}
	e = &rl->e[i];
	e->milli = tokens_at(rl, e, now_ms);
	e->last_ms = now_ms;
	if (e->milli < MILLI)
		return 0;
	e->milli -= MILLI;
	return 1;
}

int
ratelimit_has(const struct ratelimit *rl, const struct sockaddr *sa,
    uint64_t now_ms)
{
	uint8_t key[KEY_LEN];
	uint32_t i;

	if (rl == NULL || rl->rate == 0)
		return 1;
	make_key(sa, key);
	i = find(rl, chain_of(rl, key), key);
	return i == NIL || tokens_at(rl, &rl->e[i], now_ms) >= MILLI;
}

size_t
ratelimit_nsources(const struct ratelimit *rl)
{
	return rl != NULL ? rl->n : 0;
}
