/* recvhook.c - the interposed recvmsg(2) (see recvhook.h). */
#include "proxyd/sofia/recvhook.h"

#include <errno.h>
#include <stddef.h>

#include "common/nextsym.h"

static recvhook_filter_fn *filter;
static recvhook_observe_fn *observer;
static recvhook_after_fn *after;
static _Thread_local uint64_t reads;

static recvhook_real_fn *
real_recvmsg(void)
{
	static nextsym_cache real;

	return (recvhook_real_fn *)nextsym(&real, "recvmsg");
}

void
recvhook_filter(recvhook_filter_fn *fn)
{
	filter = fn;
}

void
recvhook_observe(recvhook_observe_fn *fn)
{
	observer = fn;
}

void
recvhook_after(recvhook_after_fn *fn)
{
	after = fn;
}

uint64_t
recvhook_reads(void)
{
	return reads;
}

/* Interposes libc's recvmsg() for the whole process, Sofia included. */
ssize_t
recvmsg(int fd, struct msghdr *m, int flags)
{
	recvhook_real_fn *real = real_recvmsg();
	ssize_t n;

	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	n = filter != NULL ? filter(fd, m, flags, real) : real(fd, m, flags);
	if (n >= 0 && (flags & MSG_PEEK) == 0) {
		reads++;
		/* hdrguard may change what was read (a cut, an end of
		 * stream); streamguard frames what Sofia will see */
		if (after != NULL)
			n = after(fd, m, n);
		if (observer != NULL && n >= 0)
			observer(fd, m, n);
	}
	return n;
}
