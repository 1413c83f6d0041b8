/* test_ratelimit.c - per source address token buckets. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "common/ratelimit.h"
#include "addr.h"
#include "t.h"

/* Tokens taken before the first refusal, at most max (so a limiter that
 * never refuses shows up as max, not as a hang). */
static int
drain(struct ratelimit *rl, const struct sockaddr *sa, uint64_t now_ms, int max)
{
	int n = 0;

	while (n < max && ratelimit_take(rl, sa, now_ms))
		n++;
	return n;
}

/* addr.h has one buffer: copy an address that must outlive the next call. */
static struct sockaddr_storage
keep(const struct sockaddr *sa)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, sa,
	    sa->sa_family == AF_INET ? sizeof(struct sockaddr_in) :
				       sizeof(struct sockaddr_in6));
	return ss;
}

#define SA(ss) ((const struct sockaddr *)&(ss))

static void
test_new(void)
{
	struct ratelimit *rl;

	T_OK(ratelimit_new(1, 0, 16) == NULL, "burst 0 is refused");
	T_OK(ratelimit_new(1, 1, 0) == NULL, "max_sources 0 is refused");
	rl = ratelimit_new(1, 1, 1);
	T_OK(rl != NULL, "smallest table is created");
	T_EQ_INT(ratelimit_nsources(rl), 0, "new table tracks nothing");
	ratelimit_free(rl);
	ratelimit_free(NULL);
	T_EQ_INT(ratelimit_nsources(NULL), 0, "NULL tracks nothing");
	T_EQ_INT(drain(NULL, v4("192.0.2.1"), 0, 50), 50, "NULL is unlimited");
}

static void
test_burst(void)
{
	struct ratelimit *rl = ratelimit_new(1, 3, 16);

	T_EQ_INT(ratelimit_take(rl, v4("192.0.2.1"), 1000), 1, "burst: 1st");
	T_EQ_INT(ratelimit_take(rl, v4("192.0.2.1"), 1000), 1, "burst: 2nd");
	T_EQ_INT(ratelimit_take(rl, v4("192.0.2.1"), 1000), 1, "burst: 3rd");
	T_EQ_INT(
	    ratelimit_take(rl, v4("192.0.2.1"), 1000), 0, "burst: 4th refused");
	T_EQ_INT(ratelimit_take(rl, v4("192.0.2.1"), 1000), 0,
	    "burst: refusals do not count as taken tokens");
	T_EQ_INT(drain(rl, v4("192.0.2.1"), 1999, 10), 0,
	    "burst: still refused 999 ms later");
	T_EQ_INT(ratelimit_nsources(rl), 1, "burst: one source tracked");
	ratelimit_free(rl);

	rl = ratelimit_new(1000, 1, 16);
	T_EQ_INT(drain(rl, v4("192.0.2.1"), 0, 10), 1, "burst 1: one token");
	ratelimit_free(rl);
}

static void
test_refill(void)
{
	struct ratelimit *rl = ratelimit_new(2, 4, 16); /* one per 500 ms */
	const struct sockaddr *a = v4("192.0.2.1");
	uint64_t t;
	int n;

	T_EQ_INT(drain(rl, a, 0, 100), 4, "refill: burst of 4 at 0 ms");
	T_EQ_INT(drain(rl, a, 499, 100), 0, "refill: nothing at 499 ms");
	T_EQ_INT(drain(rl, a, 500, 100), 1, "refill: one token at 500 ms");
	T_EQ_INT(drain(rl, a, 999, 100), 0, "refill: nothing at 999 ms");
	T_EQ_INT(drain(rl, a, 1000, 100), 1,
	    "refill: refused takes keep the partial token");
	T_EQ_INT(drain(rl, a, 2250, 100), 2, "refill: two tokens at 2250 ms");
	T_EQ_INT(drain(rl, a, 2500, 100), 1,
	    "refill: the half token left over completes at 2500 ms");
	T_EQ_INT(drain(rl, a, 1000000, 100), 4,
	    "refill: a long pause gives burst, not more");
	ratelimit_free(rl);

	/* 3 per second is 333.33 ms a token: fixed point must not drift. */
	rl = ratelimit_new(3, 1, 16);
	T_EQ_INT(drain(rl, a, 0, 100), 1, "rate 3: burst 1 at 0 ms");
	T_EQ_INT(drain(rl, a, 333, 100), 0, "rate 3: nothing at 333 ms");
	T_EQ_INT(drain(rl, a, 334, 100), 1, "rate 3: one token at 334 ms");
	ratelimit_free(rl);

	/* Burst 2, so the bucket never overflows and loses a fraction. */
	rl = ratelimit_new(3, 2, 16);
	for (n = 0, t = 0; t <= 10000; t++)
		n += ratelimit_take(rl, a, t);
	T_EQ_INT(n, 32, "rate 3: a take every ms for 10 s gives 2 + 30");
	ratelimit_free(rl);

	rl = ratelimit_new(4000000000u, 4000000000u, 16);
	T_EQ_INT(drain(rl, a, 0, 10), 10, "huge rate and burst: tokens");
	T_EQ_INT(drain(rl, a, UINT64_MAX, 10), 10,
	    "huge rate and burst: no overflow at the end of time");
	ratelimit_free(rl);
}

static void
test_unlimited(void)
{
	struct ratelimit *rl = ratelimit_new(0, 1, 4);

	T_OK(rl != NULL, "rate 0: created");
	T_EQ_INT(drain(rl, v4("192.0.2.1"), 0, 10000), 10000,
	    "rate 0: never refuses");
	T_EQ_INT(drain(rl, v6("2001:db8::1"), 0, 10000), 10000,
	    "rate 0: never refuses v6 either");
	T_EQ_INT(ratelimit_nsources(rl), 0, "rate 0: tracks nothing");
	ratelimit_free(rl);
}

static void
test_addresses(void)
{
	struct ratelimit *rl = ratelimit_new(1, 2, 64);
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&addr_ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&addr_ss;
	struct sockaddr_un sun;

	T_EQ_INT(drain(rl, v4("192.0.2.1"), 0, 10), 2, "v4 a: burst");
	T_EQ_INT(
	    drain(rl, v4("192.0.2.2"), 0, 10), 2, "v4 b: own bucket, not a's");
	T_EQ_INT(drain(rl, v4("192.0.2.1"), 0, 10), 0, "v4 a: still empty");

	v4("198.51.100.1");
	sin->sin_port = htons(1);
	T_EQ_INT(drain(rl, SA(addr_ss), 0, 10), 2, "port 1: burst");
	v4("198.51.100.1");
	sin->sin_port = htons(65535);
	T_EQ_INT(drain(rl, SA(addr_ss), 0, 10), 0,
	    "port 65535: same address, same bucket");

	T_EQ_INT(drain(rl, v4("203.0.113.5"), 0, 10), 2, "v4 c: burst");
	T_EQ_INT(drain(rl, v6("::ffff:203.0.113.5"), 0, 10), 0,
	    "v4-mapped v6 of c: c's bucket");
	T_EQ_INT(drain(rl, v6("::ffff:203.0.113.6"), 0, 10), 2,
	    "v4-mapped v6 of d: burst");
	T_EQ_INT(drain(rl, v4("203.0.113.6"), 0, 10), 0,
	    "v4 d: the v4-mapped bucket");
	T_EQ_INT(drain(rl, v6("::203.0.113.5"), 0, 10), 2,
	    "v4-compatible (not mapped) v6 is not c");

	T_EQ_INT(drain(rl, v6("2001:db8::1"), 0, 10), 2, "v6 a: burst");
	T_EQ_INT(drain(rl, v6("2001:db8::2"), 0, 10), 2, "v6 b: own bucket");
	T_EQ_INT(drain(rl, v6("2001:db8:0:0:8000::1"), 0, 10), 2,
	    "v6 differing in the interface id only: own bucket");
	T_EQ_INT(drain(rl, v6("2001:db8::1"), 0, 10), 0, "v6 a: still empty");
	v6("2001:db8::2");
	sin6->sin6_port = htons(4000);
	sin6->sin6_flowinfo = htonl(7);
	T_EQ_INT(drain(rl, SA(addr_ss), 0, 10), 0,
	    "v6 b: port and flow label ignored");
	T_EQ_INT(drain(rl, v6("::"), 0, 10), 2, "v6 :: is an address");
	T_EQ_INT(drain(rl, v4("0.0.0.0"), 0, 10), 2, "v4 0.0.0.0 is not v6 ::");

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	T_EQ_INT(drain(rl, (const struct sockaddr *)&sun, 0, 10), 2,
	    "AF_UNIX: burst");
	T_EQ_INT(drain(rl, NULL, 0, 10), 0, "NULL: AF_UNIX's bucket");
	T_EQ_INT(ratelimit_nsources(rl), 12, "one entry per distinct source");
	ratelimit_free(rl);
}

static void
test_clock_back(void)
{
	struct ratelimit *rl = ratelimit_new(1, 2, 16);
	const struct sockaddr *a = v4("192.0.2.1");

	T_EQ_INT(drain(rl, a, 10000, 10), 2, "clock back: burst at 10 s");
	T_EQ_INT(drain(rl, a, 5000, 10), 0, "clock back: nothing at 5 s");
	T_EQ_INT(drain(rl, a, 0, 10), 0, "clock back: nothing at 0 s");
	T_EQ_INT(drain(rl, a, 999, 10), 0,
	    "clock back: refill restarts from 0 s, not before");
	T_EQ_INT(drain(rl, a, 1000, 10), 1,
	    "clock back: one token 1 s after the step");
	T_EQ_INT(drain(rl, a, 10000, 10), 2,
	    "clock back: forward again, burst not exceeded");
	ratelimit_free(rl);

	rl = ratelimit_new(1000, 3, 16);
	T_EQ_INT(drain(rl, a, UINT64_MAX, 10), 3, "clock at UINT64_MAX: burst");
	T_EQ_INT(drain(rl, a, 0, 10), 0, "UINT64_MAX then 0: nothing");
	T_EQ_INT(drain(rl, a, 1, 10), 1, "UINT64_MAX then 0 then 1 ms");
	ratelimit_free(rl);
}

/* Buckets are full after 100 s; at 3 s only the 1-token ones are. */
static void
test_reuse_full(void)
{
	struct ratelimit *rl = ratelimit_new(1, 100, 4);
	struct sockaddr_storage a = keep(v4("192.0.2.1"));

	T_EQ_INT(drain(rl, SA(a), 0, 1000), 100, "reuse: a drained at 0 s");
	T_EQ_INT(ratelimit_take(rl, v4("192.0.2.2"), 1000), 1,
	    "reuse: b takes one at 1 s");
	T_EQ_INT(ratelimit_take(rl, v4("192.0.2.3"), 1000), 1,
	    "reuse: c takes one at 1 s");
	T_EQ_INT(ratelimit_take(rl, v4("192.0.2.4"), 1000), 1,
	    "reuse: d takes one at 1 s");
	T_EQ_INT(ratelimit_nsources(rl), 4, "reuse: table full");
	/* a is least recently used but not refilled; b, c, d are. */
	T_EQ_INT(ratelimit_take(rl, v4("192.0.2.5"), 3000), 1,
	    "reuse: e takes one at 3 s");
	T_EQ_INT(ratelimit_nsources(rl), 4, "reuse: still 4 sources");
	T_EQ_INT(drain(rl, SA(a), 3000, 1000), 3,
	    "reuse: a kept its state (3 tokens, not a fresh 100)");
	ratelimit_free(rl);
}

/* Nothing refills within the test: eviction is least recently used. */
static void
test_lru(void)
{
	struct ratelimit *rl = ratelimit_new(1, 10, 3);
	struct sockaddr_storage a = keep(v4("192.0.2.1"));
	struct sockaddr_storage b = keep(v6("2001:db8::b"));
	struct sockaddr_storage c = keep(v4("192.0.2.3"));
	struct sockaddr_storage d = keep(v6("2001:db8::d"));
	int i, n;

	T_EQ_INT(drain(rl, SA(a), 0, 5), 5, "lru: a takes 5 at 0 ms");
	T_EQ_INT(drain(rl, SA(b), 0, 5), 5, "lru: b takes 5 at 0 ms");
	T_EQ_INT(drain(rl, SA(c), 0, 5), 5, "lru: c takes 5 at 0 ms");
	T_EQ_INT(ratelimit_take(rl, SA(a), 100), 1, "lru: a again at 100 ms");
	/* Oldest first: b, c, a. */
	T_EQ_INT(ratelimit_take(rl, SA(d), 200), 1, "lru: d new at 200 ms");
	T_EQ_INT(ratelimit_nsources(rl), 3, "lru: capacity kept");
	T_EQ_INT(drain(rl, SA(c), 200, 100), 5, "lru: c kept its state");
	T_EQ_INT(drain(rl, SA(a), 200, 100), 4, "lru: a kept its state");
	/* Oldest first: d, c, a; b was evicted and comes back full. */
	T_EQ_INT(drain(rl, SA(b), 200, 100), 10,
	    "lru: evicted b comes back with a full bucket");
	T_EQ_INT(drain(rl, SA(c), 200, 100), 0,
	    "lru: c still tracked after b's return (d went)");
	T_EQ_INT(drain(rl, SA(d), 200, 100), 10,
	    "lru: evicted d comes back with a full bucket");
	T_EQ_INT(ratelimit_nsources(rl), 3, "lru: still 3 sources");

	/* A table of one: every new source replaces the last one. */
	ratelimit_free(rl);
	rl = ratelimit_new(1, 2, 1);
	for (i = 0, n = 0; i < 10; i++) {
		n += drain(rl, SA(a), 0, 100);
		n += drain(rl, SA(b), 0, 100);
	}
	T_EQ_INT(n, 40, "table of one: alternating sources always start full");
	T_EQ_INT(ratelimit_nsources(rl), 1, "table of one: one source");
	ratelimit_free(rl);
}

/*
 * A spray of new addresses evicts only the least recently used entries: a
 * source active all along stays limited. The table size is a power of two
 * and is not, so both head array layouts are used.
 */
static void
test_many(size_t max)
{
	struct ratelimit *rl = ratelimit_new(1, 1, max);
	struct sockaddr_storage hot = keep(v4("198.51.100.7"));
	char name[96], text[64];
	int over = 0, refused = 0, hot_ok = 0;
	size_t most = 0;
	unsigned i;

	for (i = 0; i < 100000; i++) {
		if (i % 2 == 0)
			snprintf(text, sizeof(text), "10.%u.%u.%u",
			    (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
		else
			snprintf(text, sizeof(text), "2001:db8::%x:%x", i >> 16,
			    i & 0xffff);
		if (!ratelimit_take(rl, i % 2 == 0 ? v4(text) : v6(text), 5000))
			refused++;
		if (ratelimit_nsources(rl) > max)
			over++;
		if (ratelimit_nsources(rl) > most)
			most = ratelimit_nsources(rl);
		if (i % 100 == 0)
			hot_ok += ratelimit_take(rl, SA(hot), 5000);
	}
	snprintf(name, sizeof(name), "%zu sources: never above capacity", max);
	T_EQ_INT(over, 0, name);
	snprintf(name, sizeof(name), "%zu sources: table filled up", max);
	T_EQ_INT(most, max, name);
	snprintf(
	    name, sizeof(name), "%zu sources: new sources start full", max);
	T_EQ_INT(refused, 0, name);
	snprintf(name, sizeof(name),
	    "%zu sources: the spray did not reset an active source", max);
	T_EQ_INT(hot_ok, 1, name);
	ratelimit_free(rl);
}

int
main(void)
{
	test_new();
	test_burst();
	test_refill();
	test_unlimited();
	test_addresses();
	test_clock_back();
	test_reuse_full();
	test_lru();
	test_many(1024);
	test_many(1000);
	return t_done();
}
