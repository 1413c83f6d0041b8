/* sockhook.c - connect(2) and send(2) interposed (see sockhook.h). */
#include "common/sockhook.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>

#include "common/nextsym.h"

/* Sofia's resolver has one socket per name server: a few at most. */
#define DEFER_MAX 16

struct deferred {
	int fd;
	dev_t dev;
	ino_t ino;              /* the socket itself: fds are reused */
	struct sockaddr_storage addr;
	socklen_t len;
};

static sockhook_prep_fn *prep_hook;
static atomic_int installed;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct deferred tab[DEFER_MAX];
static unsigned ntab;
static atomic_uint npending;   /* the fast path of send() reads this */

typedef int connect_fn(int, const struct sockaddr *, socklen_t);
typedef ssize_t send_fn(int, const void *, size_t, int);

static connect_fn *
real_connect(void)
{
	static nextsym_cache fn;

	return (connect_fn *)nextsym(&fn, "connect");
}

static void
drop(unsigned i)
{
	tab[i] = tab[--ntab];
	atomic_store(&npending, ntab);
}

/* The entry of fd if it still is the socket remembered, else none (and
 * an entry of a socket closed since is dropped). Under mu. */
static int
find(int fd)
{
	struct stat st;
	unsigned i;

	for (i = 0; i < ntab; i++) {
		if (tab[i].fd != fd)
			continue;
		if (fstat(fd, &st) == 0 && st.st_dev == tab[i].dev &&
		    st.st_ino == tab[i].ino)
			return (int)i;
		drop(i);
		return -1;
	}
	return -1;
}

void
sockhook_install(sockhook_prep_fn *prep)
{
	prep_hook = prep;
	atomic_store(&installed, 1);
}

/* connect(fd, sa, len) failed with err: a datagram socket of AF_INET or
 * AF_INET6 is remembered and 0 returned; otherwise errno = err and -1. */
static int
defer(int fd, const struct sockaddr *sa, socklen_t len, int err)
{
	struct stat st;
	int type, i;
	socklen_t ol = sizeof(type);

	if (sa == NULL || (sa->sa_family != AF_INET &&
	    sa->sa_family != AF_INET6) || len > sizeof(tab[0].addr) ||
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &ol) != 0 ||
	    type != SOCK_DGRAM || fstat(fd, &st) != 0) {
		errno = err;
		return -1;
	}
	pthread_mutex_lock(&mu);
	if ((i = find(fd)) < 0) {
		if (ntab == DEFER_MAX)
			drop(0); /* the oldest goes: a leaked one, surely */
		i = (int)ntab++;
	}
	tab[i].fd = fd;
	tab[i].dev = st.st_dev;
	tab[i].ino = st.st_ino;
	memcpy(&tab[i].addr, sa, len);
	tab[i].len = len;
	atomic_store(&npending, ntab);
	pthread_mutex_unlock(&mu);
	return 0;
}

unsigned
sockhook_deferred(void)
{
	return atomic_load(&npending);
}

/* A remembered socket: connect it now. 0 when it is connected (or is not
 * ours), -1 with errno when the network still refuses. */
static int
connect_now(int fd)
{
	connect_fn *c = real_connect();
	int i, rc = 0, err = 0;

	pthread_mutex_lock(&mu);
	if ((i = find(fd)) >= 0 && c != NULL) {
		if (c(fd, (const struct sockaddr *)&tab[i].addr,
		    tab[i].len) == 0 || errno == EISCONN)
			drop((unsigned)i);
		else
			rc = -1, err = errno;
	}
	pthread_mutex_unlock(&mu);
	if (rc == -1)
		errno = err;
	return rc;
}

/* Interposes libc's connect() for the whole process, Sofia included. */
int
connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	connect_fn *real = real_connect();

	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	if (!atomic_load(&installed))
		return real(fd, sa, len);
	if (prep_hook != NULL && sa != NULL)
		prep_hook(fd, sa);
	if (real(fd, sa, len) == 0)
		return 0;
	if (errno == EINPROGRESS || errno == EINTR || errno == EISCONN)
		return -1;
	return defer(fd, sa, len, errno);
}

/* Interposes libc's send() for the whole process, Sofia included. */
ssize_t
send(int fd, const void *buf, size_t len, int flags)
{
	static nextsym_cache next;
	send_fn *real;

	if ((real = (send_fn *)nextsym(&next, "send")) == NULL)
		return -1;
	if (atomic_load(&npending) > 0 && connect_now(fd) == -1)
		return -1;
	return real(fd, buf, len, flags);
}
