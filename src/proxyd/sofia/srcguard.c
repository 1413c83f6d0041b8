/*
 * srcguard.c - per-source datagram budget before parsing, and STUN taken
 * out of the SIP datagrams (srcguard.h).
 */
#include "proxyd/sofia/srcguard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "common/monoclock.h"
#include "common/netaddr.h"
#include "common/ratelimit.h"
#include "common/sipdgram.h"
#include "common/sipstream.h"
#include "common/stun.h"
#include "proxyd/sofia/recvhook.h"

/* Queued datagrams from over-budget sources drained per wakeup: a flood
 * arriving in bursts must not fill the socket's receive queue (then the
 * kernel drops other callers' datagrams too), yet the loop must still turn
 * to other sockets: 1024 peeks and discards are about a millisecond. */
#define DRAIN_MAX 1024

static void (*report_fn)(uint64_t, const char *);
static srcguard_stun_fn *stun_fn;
static srcguard_cut_fn *cut_fn;
/* ACKs for the overload 503s: ";tag=" and the tag, and how many. */
static struct {
	char needle[40];
	size_t len;
	uint64_t dropped;
} shed;

static struct {
	struct ratelimit *rl;
	struct netaddr *exempt;
	size_t nexempt;
	int fds[SRCGUARD_MAX_FDS];
	size_t nfds;
	uint64_t dropped;
	uint64_t cut_short;      /* responses not whole, discarded */
	uint64_t reported_ms;   /* when report_fn was last called */
} g;

/* Queue delay: kept apart from g, which srcguard_init() resets (a
 * reload must not lose the watched sockets' measurements). */
static struct {
	uint32_t last_us;       /* the datagram read last */
	uint32_t min_us[2];     /* least this window, the one before */
	uint64_t window;        /* coarse monotonic window of min_us[0] */
	uint32_t max_us[2];     /* longest this second, the one before */
	uint64_t second;        /* coarse monotonic second of max_us[0] */
} qd;

typedef recvhook_real_fn recvmsg_fn;

static recvhook_filter_fn guard_recv;

int
srcguard_init(unsigned rate, unsigned burst, size_t max_sources,
    const struct netaddr *exempt, size_t nexempt)
{
	srcguard_reset();
	if (rate == 0)
		return 0; /* no budget; sockets added get the STUN filter */
	if ((g.rl = ratelimit_new(rate, burst, max_sources)) == NULL ||
	    (nexempt > 0 && (g.exempt = calloc(nexempt,
	    sizeof(*exempt))) == NULL)) {
		srcguard_reset();
		return -1;
	}
	if (nexempt > 0)
		memcpy(g.exempt, exempt, nexempt * sizeof(*exempt));
	g.nexempt = nexempt;
	return 0;
}

void
srcguard_report(void (*fn)(uint64_t dropped, const char *last))
{
	report_fn = fn;
}

/* Tell report_fn, at most every SRCGUARD_REPORT_MS. */
static void
report(const struct sockaddr *sa, uint64_t now)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (report_fn == NULL || (g.reported_ms != 0 &&
	    now - g.reported_ms < SRCGUARD_REPORT_MS))
		return;
	g.reported_ms = now;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
		    host, sizeof(host));
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->
		    sin6_addr, host, sizeof(host));
	report_fn(g.dropped, host);
}

int
srcguard_add_fd(int fd)
{
	int on = 1;

	if (g.nfds == SRCGUARD_MAX_FDS)
		return -1;
	/* Each datagram's arrival time, for its queue delay. */
	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
	g.fds[g.nfds++] = fd;
	recvhook_filter(guard_recv);
	return 0;
}

void
srcguard_stun(srcguard_stun_fn *fn)
{
	stun_fn = fn;
}

void
srcguard_on_cut(srcguard_cut_fn *fn)
{
	cut_fn = fn;
}

uint64_t
srcguard_dropped(void)
{
	return g.dropped;
}

uint64_t
srcguard_cut_short(void)
{
	return g.cut_short;
}

void
srcguard_reset(void)
{
	recvhook_filter(NULL);
	stun_fn = NULL;
	cut_fn = NULL;
	ratelimit_free(g.rl);
	free(g.exempt);
	memset(&g, 0, sizeof(g));
}

static int
guarded(int fd)
{
	size_t i;

	for (i = 0; i < g.nfds; i++)
		if (g.fds[i] == fd)
			return 1;
	return 0;
}

static int
exempt(const struct sockaddr *sa)
{
	size_t i;

	for (i = 0; i < g.nexempt; i++)
		if (netaddr_match(&g.exempt[i], sa))
			return 1;
	return 0;
}

/* A SIP response: never limited. Responses come from the next hops the
 * proxy itself sent requests to (a busy PBX answers a lot), and one that
 * matches no transaction costs nta little; the budget is for requests,
 * as Kamailio's pike is. */
static int
is_response(const void *p, size_t n)
{
	return n >= 8 && memcmp(p, "SIP/2.0 ", 8) == 0;
}

/* Over budget: this datagram is to be dropped. take: it is being read
 * (counts against the budget); otherwise only peeked at. */
static int
over(const struct sockaddr *sa, const void *start, size_t n, int take,
    uint64_t now)
{
	if (g.rl == NULL || is_response(start, n) || exempt(sa))
		return 0;
	return take ? !ratelimit_take(g.rl, sa, now) :
	    !ratelimit_has(g.rl, sa, now);
}

/* After a drop: discard the queued datagrams of over-budget sources, up
 * to the first from a source within its budget (left for the caller's
 * next read, with a buffer sized for it). */
static void
drain(int fd, recvmsg_fn *real, uint64_t now)
{
	struct sockaddr_storage from;
	char head[8];
	struct iovec iov = { head, sizeof(head) };
	struct msghdr m;
	ssize_t n;
	int i;

	for (i = 0; i < DRAIN_MAX; i++) {
		memset(&m, 0, sizeof(m));
		m.msg_name = &from;
		m.msg_namelen = sizeof(from);
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		if ((n = real(fd, &m, MSG_PEEK | MSG_DONTWAIT)) < 0 ||
		    !over((struct sockaddr *)&from, head, (size_t)n, 0, now))
			return;
		if (real(fd, &m, MSG_DONTWAIT) < 0)
			return;
		g.dropped++;
	}
}

/* A STUN datagram within budget: gathered from the caller's buffers
 * and handed to stun_fn. One cut short by a small buffer, or larger than
 * any request answered, is only swallowed. */
static void
stun_datagram(int fd, const struct msghdr *m, size_t n)
{
	uint8_t buf[STUN_MAX_REQUEST];
	size_t i, at = 0, take;

	if (stun_fn == NULL || n > sizeof(buf) ||
	    (m->msg_flags & MSG_TRUNC) != 0)
		return;
	for (i = 0; i < (size_t)m->msg_iovlen && at < n; i++) {
		take = m->msg_iov[i].iov_len < n - at ?
		    m->msg_iov[i].iov_len : n - at;
		memcpy(buf + at, m->msg_iov[i].iov_base, take);
		at += take;
	}
	stun_fn(fd, buf, at, m->msg_name, m->msg_namelen);
}

/*
 * A NUL escaped in a quoted string of the header section (RFC 4475
 * intmeth) masked for Sofia's parser, as hdrguard.c does on TCP; the
 * proxy puts it back in what it forwards (wirecopy.c). Only the header
 * section: a datagram's body may hold anything.
 */
static void
mask_nuls(char *p, size_t n)
{
	struct sipstream st;
	const char *nul, *end, *lf;

	/* Nearly every datagram has no NUL: one memchr() and done. */
	if ((nul = memchr(p, 0, n)) == NULL)
		return;
	/* A binary body (DER S/MIME: many NULs) after a header section with
	 * none: the section ends before the first NUL. */
	if (memmem(p, (size_t)(nul - p), "\n\n", 2) != NULL ||
	    memmem(p, (size_t)(nul - p), "\r\n\r\n", 4) != NULL)
		return;
	end = memmem(p, n, "\r\n\r\n", 4);
	lf = memmem(p, n, "\n\n", 2);
	if (end == NULL || (lf != NULL && lf < end))
		end = lf;
	sipstream_init(&st, n + 1);
	sipstream_feed(&st, (unsigned char *)p, end != NULL ?
	    (size_t)(end - p) : n);
}

void
srcguard_shed_tag(const char *tag)
{
	int n = snprintf(shed.needle, sizeof(shed.needle), ";tag=%s", tag);

	shed.len = n > 0 && (size_t)n < sizeof(shed.needle) ? (size_t)n : 0;
}

uint64_t
srcguard_shed_acks(void)
{
	return shed.dropped;
}

/* An ACK for one of our overload 503s: the tag is random per process
 * and only ever sent in those, so finding it in an ACK is enough. */
static int
shed_ack(const void *p, size_t n)
{
	return shed.len > 0 && n > 4 && memcmp(p, "ACK ", 4) == 0 &&
	    memmem(p, n, shed.needle, shed.len) != NULL;
}

uint32_t
srcguard_queue_delay_us(void)
{
	return qd.min_us[0] < qd.min_us[1] ? qd.min_us[0] : qd.min_us[1];
}

uint32_t
srcguard_queue_delay_max_us(void)
{
	uint64_t s = monoclock_coarse_ms() / 1000;

	if (s == qd.second + 1)
		return qd.max_us[0];
	return s == qd.second ? qd.max_us[1] : 0;
}

/* How long the datagram just read waited in the socket's queue: the
 * kernel's arrival stamp (SO_TIMESTAMPNS, wall clock) against the wall
 * clock now. A step of the wall clock in between gives one wrong value
 * (clamped at 0 going back). */
static void
note_delay(const struct msghdr *m)
{
	const struct cmsghdr *c;
	struct timespec at, ts;
	int64_t us = 0;
	uint64_t now, w, s;

	for (c = CMSG_FIRSTHDR(m); c != NULL;
	    c = CMSG_NXTHDR((struct msghdr *)m, (struct cmsghdr *)c))
		if (c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SCM_TIMESTAMPNS &&
		    c->cmsg_len >= CMSG_LEN(sizeof(at)))
			break;
	if (c == NULL) {
		qd.last_us = qd.min_us[0] = 0;
		return;
	}
	memcpy(&at, CMSG_DATA(c), sizeof(at));
	clock_gettime(CLOCK_REALTIME, &ts);
	us = ((int64_t)ts.tv_sec - at.tv_sec) * 1000000 +
	    (ts.tv_nsec - at.tv_nsec) / 1000;
	if (us < 0)
		us = 0;
	qd.last_us = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
	now = monoclock_coarse_ms();
	w = now / SRCGUARD_DELAY_WINDOW_MS;
	if (w != qd.window) { /* a window older than the last one is gone */
		qd.min_us[1] = w == qd.window + 1 ? qd.min_us[0] : UINT32_MAX;
		qd.min_us[0] = UINT32_MAX;
		qd.window = w;
	}
	if (qd.last_us < qd.min_us[0])
		qd.min_us[0] = qd.last_us;
	s = now / 1000;
	if (s != qd.second) {
		qd.max_us[1] = s == qd.second + 1 ? qd.max_us[0] : 0;
		qd.max_us[0] = 0;
		qd.second = s;
	}
	if (qd.last_us > qd.max_us[0])
		qd.max_us[0] = qd.last_us;
}

/* A read of a watched socket with room for the arrival stamp: Sofia
 * passes no control buffer, so one of ours goes in for the call. */
static ssize_t
stamped_read(int fd, struct msghdr *m, int flags, recvmsg_fn *real)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct timespec)) + 64];
	} ctl;
	ssize_t n;

	if (m->msg_control != NULL || (flags & (MSG_PEEK | MSG_ERRQUEUE)) != 0)
		return real(fd, m, flags);
	m->msg_control = ctl.buf;
	m->msg_controllen = sizeof(ctl.buf);
	n = real(fd, m, flags);
	if (n >= 0)
		note_delay(m);
	m->msg_control = NULL;
	m->msg_controllen = 0;
	m->msg_flags &= ~MSG_CTRUNC;
	return n;
}

/* Every recvmsg() of the process once a socket is watched; only the
 * watched sockets are looked at. */
static ssize_t
guard_recv(int fd, struct msghdr *m, int flags, recvmsg_fn *real)
{
	const void *first = NULL;
	size_t flen = 0;
	uint64_t now;
	ssize_t n;

	if (!guarded(fd))
		return real(fd, m, flags);
	n = stamped_read(fd, m, flags, real);
	if (n < 0 || m->msg_name == NULL || (flags & MSG_PEEK) != 0)
		return n;
	if (m->msg_iovlen > 0) { /* where the datagram starts */
		first = m->msg_iov[0].iov_base;
		flen = m->msg_iov[0].iov_len < (size_t)n ?
		    m->msg_iov[0].iov_len : (size_t)n;
	}
	now = g.rl != NULL ? monoclock_coarse_ms() : 0;
	if (over(m->msg_name, first, flen, 1, now)) {
		g.dropped++;
		drain(fd, real, now);
		report(m->msg_name, now);
	} else if (stun_is_stun(first, flen)) {
		stun_datagram(fd, m, (size_t)n);
	} else if (is_response(first, flen) && flen == (size_t)n &&
	    (m->msg_flags & MSG_TRUNC) == 0 &&
	    sipdgram_check(first, flen) != SIPDGRAM_WHOLE) {
		/* RFC 3261 18.3: discarded, before nta matches it to a
		 * transaction and the proxy relays what is left of it. */
		g.cut_short++;
		if (cut_fn != NULL)
			cut_fn(m->msg_name, sipdgram_check(first, flen) ==
			    SIPDGRAM_NO_END ? "no empty line after the header" :
			    "a body shorter than its Content-Length");
	} else if (shed_ack(first, flen)) {
		shed.dropped++;
	} else {
		if (flen == (size_t)n)
			mask_nuls((char *)first, flen);
		return n;
	}
	/* Sofia takes EAGAIN as "nothing after all" and waits for the next
	 * readiness event (level-triggered: at once if more is queued). */
	errno = EAGAIN;
	return -1;
}
