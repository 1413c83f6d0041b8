/* hdrguard.c - TCP header sections before Sofia parses them
 * (hdrguard.h). */
#include "proxyd/sofia/hdrguard.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/monoclock.h"
#include "common/nextsym.h"
#include "common/sipstream.h"
#include "crypto/tlsping.h"
#include "proxyd/sofia/connlimit.h"
#include "proxyd/sofia/recvhook.h"
#include "proxyd/sofia/streamlag.h"

#define MAX_LISTENERS 16
/* Connections with descriptors from this number up are not followed. A
 * fixed table, never moved: close() runs on every thread, and only reads
 * the entry of its own descriptor (which no other thread has open). */
#define MAX_FD 65536

/* A followed connection: after a cut, the marker still to be added
 * (a read too short to hold it) or the end to be faked. */
struct conn {
	struct sipstream s;
	int inject;	/* the marker waits for room */
	int ended;	/* cut and marked: reads return end of stream */
	int shut;	/* reading shut down after the cut */
};

/* What a read of a connection whose marker waits is told it may bring
 * (mark()'s text fits). */
#define MARK_ROOM 256

static struct {
	int on;
	size_t limit;
	int listeners[MAX_LISTENERS];
	size_t nlisteners;
	unsigned long long cuts;
	char marker[40];
} g;

static struct conn *conns[MAX_FD];	/* by descriptor */

static recvhook_after_fn after_read;
static const struct tlsping_filter tls_hooks;

int
hdrguard_init(size_t limit)
{
	unsigned char r[8];
	size_t i;

	hdrguard_reset();
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return -1;
	i = (size_t)snprintf(g.marker, sizeof(g.marker), "X-E2m-Cut-");
	for (size_t k = 0; k < sizeof(r); k++)
		i += (size_t)snprintf(g.marker + i, sizeof(g.marker) - i,
		    "%02x", r[k]);
	g.limit = limit;
	g.on = 1;
	recvhook_after(after_read);
	tlsping_filter(&tls_hooks);
	return 0;
}

void
hdrguard_set_limit(size_t limit)
{
	g.limit = limit;
}

int
hdrguard_add_listener(int fd)
{
	if (g.nlisteners == MAX_LISTENERS)
		return -1;
	g.listeners[g.nlisteners++] = fd;
	return 0;
}

const char *
hdrguard_marker(void)
{
	return g.on ? g.marker : NULL;
}

unsigned long long
hdrguard_cuts(void)
{
	return g.cuts;
}

static void
forget(int fd)
{
	if (fd >= 0 && fd < MAX_FD && conns[fd] != NULL) {
		free(conns[fd]);
		conns[fd] = NULL;
		streamlag_forget(fd);
	}
}

void
hdrguard_reset(void)
{
	size_t i;

	recvhook_after(NULL);
	tlsping_filter(NULL);
	for (i = 0; i < MAX_FD; i++)
		forget((int)i);
	memset(&g, 0, sizeof(g));
}

static int
listener(int fd)
{
	size_t i;

	for (i = 0; i < g.nlisteners; i++)
		if (g.listeners[i] == fd)
			return 1;
	return 0;
}

/* Follow the new connection fd (not followed if out of memory: then it is
 * as before, Sofia's alone). */
static void
follow(int fd)
{
	forget(fd);
	if (fd < MAX_FD && (conns[fd] = calloc(1, sizeof(struct conn))) !=
	    NULL)
		sipstream_init(&conns[fd]->s, g.limit);
}

/* Write p[0..len) at offset at of m's buffers; 0 if they are too small. */
static int
put(struct msghdr *m, size_t at, const char *p, size_t len)
{
	size_t i, room = 0, k;

	for (i = 0; i < (size_t)m->msg_iovlen; i++)
		room += m->msg_iov[i].iov_len;
	if (at + len > room)
		return 0;
	for (i = 0; i < (size_t)m->msg_iovlen && len > 0; i++) {
		if (at >= m->msg_iov[i].iov_len) {
			at -= m->msg_iov[i].iov_len;
			continue;
		}
		k = m->msg_iov[i].iov_len - at < len ?
		    m->msg_iov[i].iov_len - at : len;
		memcpy((char *)m->msg_iov[i].iov_base + at, p, k);
		p += k;
		len -= k;
		at = 0;
	}
	return 1;
}

/* After the cut: the marker field and the empty line at offset at. The
 * number of bytes the read now returns, or -1 (EAGAIN) when there is no
 * room yet (and nothing before it). */
static ssize_t
mark(struct conn *c, struct msghdr *m, size_t at)
{
	char add[MARK_ROOM];
	size_t len = sipstream_cut_text(&c->s, g.marker, add, sizeof(add));

	if (len > 0 && put(m, at, add, len)) {
		c->inject = 0;
		c->ended = 1;
		return (ssize_t)(at + (size_t)len);
	}
	c->inject = 1;
	if (at > 0)
		return (ssize_t)at;
	errno = EAGAIN;
	return -1;
}

/* The connection fd if it is one we follow, else NULL. */
static struct conn *
followed(int fd)
{
	return fd >= 0 && fd < MAX_FD ? conns[fd] : NULL;
}

/* Every read of a followed connection, TCP or TLS. */
static ssize_t
follow_read(struct conn *c, struct msghdr *m, ssize_t n)
{
	size_t i, at = 0, k, r;

	if (c->ended)
		return 0;	/* Sofia ends the connection */
	if (c->inject)
		return mark(c, m, 0);
	for (i = 0; i < (size_t)m->msg_iovlen && at < (size_t)n; i++) {
		k = m->msg_iov[i].iov_len < (size_t)n - at ?
		    m->msg_iov[i].iov_len : (size_t)n - at;
		r = sipstream_feed(&c->s, m->msg_iov[i].iov_base, k);
		at += r;
		if (r < k || c->s.state == SIPSTREAM_CUT)
			break;
	}
	if (c->s.state != SIPSTREAM_CUT)
		return n;
	g.cuts++;
	return mark(c, m, at);
}

/*
 * After the cut nothing more is read. Sofia reads a socket only when it
 * is readable, and it still has to read the marker (a TCP read too short
 * for it), or the end of the stream, where it delivers a message whose
 * Content-Length came after the cut or whose body is still to come: shut
 * down for reading, the socket is readable at once and for good. (TCP:
 * then ioctl() below; TLS: tls_before() ends the stream.)
 */
static void
shut_after_cut(int fd, struct conn *c)
{
	if ((c->inject || c->ended) && !c->shut) {
		c->shut = 1;
		(void)shutdown(fd, SHUT_RD);
	}
}

/* recvhook.c's: every recvmsg() that did not fail. Sofia reads all a
 * TCP socket holds, so n is what was queued (streamlag.h). */
static ssize_t
after_read(int fd, struct msghdr *m, ssize_t n)
{
	struct conn *c;

	if (m->msg_name != NULL || (c = followed(fd)) == NULL) {
		streamlag_other(); /* a datagram, or not a connection of ours */
		return n;
	}
	streamlag_read(fd, (size_t)n, monoclock_coarse_ms());
	n = follow_read(c, m, n);
	shut_after_cut(fd, c);
	return n;
}

/*
 * TLS: OpenSSL reads the socket, Sofia reads the plaintext through
 * SSL_read() (crypto/tlsping.c calls these): the same work as for TCP,
 * on its one buffer taken as a read of one iovec. A marker that does not
 * fit after the cut waits for the next read, which SSL_pending() makes
 * Sofia do at once. SSL_read() has no "nothing now": where the TCP read
 * would say EAGAIN (no room at all, which a TLS read buffer always has),
 * the stream ends unanswered.
 */
static int
tls_return(ssize_t n)
{
	return n < 0 ? 0 : (int)n;
}

static int
tls_before(int fd, void *buf, int cap)
{
	struct conn *c = followed(fd);
	struct iovec iov = { buf, (size_t)cap };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (c == NULL || !(c->ended || c->inject))
		return -1;
	return c->ended ? 0 : tls_return(mark(c, &m, 0));
}

/*
 * What a TLS connection had queued: this record's plaintext and the
 * ciphertext still in the socket (one ioctl(), only with the signal on).
 * A record that filled Sofia's buffer with more ciphertext waiting counts
 * as a full buffer: the connection is read record after record, back to
 * back. Counted in bytes, the socket's refill cycle ended the stretch
 * every few reads (seen: 56, 40, 24, then 7 KiB left beside a 16 KiB
 * record, then the sender's next burst), so a backed-up TLS connection
 * was hardly ever judged so.
 */
static size_t
tls_queued(int fd, int n, int cap)
{
	int more = 0;

	if (!streamlag_on() || ioctl(fd, FIONREAD, &more) != 0 || more < 0)
		more = 0;
	if (n >= cap && more > 0)
		return SIZE_MAX;
	return (size_t)n + (size_t)more;
}

static int
tls_after(int fd, void *buf, int n, int cap)
{
	struct iovec iov = { buf, (size_t)cap };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct conn *c = followed(fd);

	if (c == NULL) {
		streamlag_other();
		return tls_return(n);
	}
	streamlag_read(fd, tls_queued(fd, n, cap), monoclock_coarse_ms());
	n = (int)follow_read(c, &m, n);
	shut_after_cut(fd, c);
	return tls_return(n);
}

static int
tls_pending(int fd)
{
	struct conn *c = followed(fd);

	if (c == NULL)
		return 0;
	return c->inject ? 1 : c->ended ? -1 : 0;
}

static const struct tlsping_filter tls_hooks = {
	tls_before, tls_after, tls_pending
};

typedef int ioctl_fn(int, unsigned long, ...);

/*
 * Sofia sizes each read of a connection with ioctl(FIONREAD) and takes 0
 * for its end, without reading. A connection shut down after a cut whose
 * marker did not fit yet says it holds the marker's bytes: Sofia reads
 * once more, the read finds the end of the stream, and follow_read()
 * puts the marker there. Every other ioctl() is libc's.
 */
int
ioctl(int fd, unsigned long req, ...)
{
	static nextsym_cache next;
	ioctl_fn *real;
	struct conn *c;
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (req == FIONREAD && arg != NULL && (c = followed(fd)) != NULL &&
	    c->shut && c->inject) {
		*(int *)arg = MARK_ROOM;
		return 0;
	}
	if ((real = (ioctl_fn *)nextsym(&next, "ioctl")) == NULL)
		return -1;
	return real(fd, req, arg);
}

typedef int close_fn(int);

/* streamguard.c interposes accept() and accept4() for the process (one
 * definition each) and tells this module of every connection. */
void
hdrguard_accepted(int lfd, int fd)
{
	if (fd >= 0 && g.on && listener(lfd))
		follow(fd);
}

/* A closed descriptor's number is used again: forget what it was. */
int
close(int fd)
{
	static nextsym_cache next;
	close_fn *real;

	if ((real = (close_fn *)nextsym(&next, "close")) == NULL)
		return -1;
	forget(fd);
	connlimit_closed(fd); /* (the process's only close(): here) */
	return real(fd);
}
