/* tcpclamp.c - SO_RCVBUF for outgoing stream sockets (see tcpclamp.h). */
#include "proxyd/sofia/tcpclamp.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/socket.h>

static atomic_int clamp;

void
tcpclamp_set(int bytes)
{
	atomic_store(&clamp, bytes);
}

typedef int connect_fn(int, const struct sockaddr *, socklen_t);

/* Interposes libc's connect() for the whole process, Sofia included. */
int
connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	static connect_fn *real;
	int size = atomic_load(&clamp), type;
	socklen_t ol = sizeof(type);

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "connect");
	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	if (size > 0 && getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &ol) == 0 &&
	    type == SOCK_STREAM)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size,
		    sizeof(size));
	return real(fd, sa, len);
}
