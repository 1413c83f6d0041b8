/* streamguard.c - closing TCP/TLS connections that carry no SIP or carry
 * it too slowly (see streamguard.h). */
#include "proxyd/sofia/streamguard.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/monoclock.h"
#include "common/nextsym.h"
#include "common/sipframe.h"
#include "proxyd/sofia/connlimit.h"
#include "proxyd/sofia/fdreserve.h"
#include "proxyd/sofia/hdrguard.h"

#define MAX_LISTENERS 16

struct conn {
	int used;
	ino_t ino;          /* the socket's identity: the number may be reused */
	uint64_t since;     /* deadline runs from here; 0: none (between messages) */
	struct sipframe f;
};

static unsigned timeout;
static struct conn *conns;
static int nconns;
static int listeners[MAX_LISTENERS];
static int nlisteners;
static uint64_t closed[2];

int
streamguard_init(unsigned timeout_ms)
{
	streamguard_reset();
	timeout = timeout_ms;
	return 0;
}

void
streamguard_reset(void)
{
	free(conns);
	conns = NULL;
	nconns = 0;
	nlisteners = 0;
	timeout = 0;
}

void
streamguard_add_listener(int fd)
{
	if (nlisteners < MAX_LISTENERS)
		listeners[nlisteners++] = fd;
}

static ino_t
inode_of(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 ? st.st_ino : 0;
}

static void
track(int fd)
{
	struct conn *more;
	int n;

	if (fd >= nconns) {
		n = fd < 64 ? 128 : fd * 2;
		if ((more = realloc(conns, (size_t)n * sizeof(*more))) == NULL)
			return; /* unwatched: the idle timer still applies */
		memset(more + nconns, 0, (size_t)(n - nconns) * sizeof(*more));
		conns = more;
		nconns = n;
	}
	conns[fd].used = 1;
	conns[fd].ino = inode_of(fd);
	/* the first message (and a TLS handshake) is due from now */
	conns[fd].since = monoclock_coarse_ms();
	sipframe_init(&conns[fd].f);
}

static int
is_listener(int fd)
{
	int i;

	for (i = 0; i < nlisteners; i++)
		if (listeners[i] == fd)
			return 1;
	return 0;
}

/* Shut fd down if it is still the connection we watched. */
static void
end(int fd, enum streamguard_why why)
{
	struct conn *c = &conns[fd];

	c->used = 0;
	if (inode_of(fd) != c->ino)
		return; /* Sofia closed it and the number went elsewhere */
	if (shutdown(fd, SHUT_RDWR) == 0) {
		closed[why]++;
		log_debug("closed stream connection %d: %s", fd,
		    why == STREAMGUARD_GARBAGE ? "not SIP" :
		    "no whole message within sip.message_timeout");
	}
}

void
streamguard_bytes(int fd, const void *p, size_t n)
{
	struct conn *c;
	unsigned done;

	if (fd < 0 || fd >= nconns || !conns[fd].used || n == 0)
		return;
	c = &conns[fd];
	done = sipframe_feed(&c->f, p, n);
	switch (c->f.state) {
	case SIPFRAME_GARBAGE:
		/*
		 * Shut at the next sweep, not now: the bytes before the
		 * garbage may be a message Sofia answers (a 400 for a bad
		 * Content-Length, whose body then reads as garbage here),
		 * and it parses this read only after we return.
		 */
		break;
	case SIPFRAME_PARTIAL:
		/* a message began in these bytes, or goes on */
		if (done > 0 || c->since == 0)
			c->since = monoclock_coarse_ms();
		break;
	default:
		c->since = 0;
		break;
	}
}

void
streamguard_recvmsg(int fd, const struct msghdr *m, ssize_t n)
{
	size_t i, k, left;

	if (fd < 0 || fd >= nconns || !conns[fd].used)
		return;
	if (n == 0) {
		conns[fd].used = 0; /* the end: Sofia closes it */
		return;
	}
	left = (size_t)n;
	for (i = 0; i < (size_t)m->msg_iovlen && left > 0 &&
	    conns[fd].used; i++) {
		k = m->msg_iov[i].iov_len < left ? m->msg_iov[i].iov_len : left;
		streamguard_bytes(fd, m->msg_iov[i].iov_base, k);
		left -= k;
	}
}

unsigned
streamguard_sweep(uint64_t now)
{
	unsigned n = 0;
	int fd;

	if (timeout == 0)
		return 0;
	for (fd = 0; fd < nconns; fd++) {
		if (!conns[fd].used)
			continue;
		if (conns[fd].f.state == SIPFRAME_GARBAGE) {
			end(fd, STREAMGUARD_GARBAGE);
			n++;
		} else if (conns[fd].since != 0 &&
		    now - conns[fd].since >= timeout) {
			end(fd, STREAMGUARD_TIMEOUT);
			n++;
		}
	}
	return n;
}

uint64_t
streamguard_closed(enum streamguard_why why)
{
	return closed[why];
}

/*
 * accept(2) and accept4(2), interposed for the process: a connection on
 * one of Sofia's SIP listeners is watched from its first moment (Sofia
 * does not say when it accepts one); out of descriptors, what waits is
 * closed (fdreserve.h) and the caller told to try later.
 */
static int
accepted(int lfd, int s, const struct sockaddr *sa, socklen_t *len)
{
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);

	if (s < 0 && (errno == EMFILE || errno == ENFILE)) {
		fdreserve_shed(lfd);
		errno = EAGAIN;
		return -1;
	}
	if (s >= 0 && is_listener(lfd)) {
		if (sa == NULL || len == NULL || *len < sizeof(struct sockaddr_in))
			sa = getpeername(s, (struct sockaddr *)&peer, &plen) == 0 ?
			    (const struct sockaddr *)&peer : NULL;
		if (!connlimit_admit(s, sa)) {
			close(s); /* the peer sees it closed */
			errno = EAGAIN;
			return -1;
		}
	}
	if (s >= 0 && timeout != 0 && is_listener(lfd))
		track(s);
	hdrguard_accepted(lfd, s);
	return s;
}

typedef int accept_fn(int, struct sockaddr *, socklen_t *);
typedef int accept4_fn(int, struct sockaddr *, socklen_t *, int);

int
accept(int fd, struct sockaddr *sa, socklen_t *len)
{
	static nextsym_cache next;
	accept_fn *real;
	int s;

	if ((real = (accept_fn *)nextsym(&next, "accept")) == NULL)
		return -1;
	s = real(fd, sa, len);
	return accepted(fd, s, sa, len);
}

int
accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
	static nextsym_cache next;
	accept4_fn *real;
	int s;

	if ((real = (accept4_fn *)nextsym(&next, "accept4")) == NULL)
		return -1;
	s = real(fd, sa, len, flags);
	return accepted(fd, s, sa, len);
}
