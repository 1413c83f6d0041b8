/* tcpclamp.c - SO_RCVBUF for outgoing stream sockets (see tcpclamp.h). */
#include "proxyd/sofia/tcpclamp.h"
#include "proxyd/sofia/udpdefer.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

static atomic_int clamp, maxseg;

void
tcpclamp_set(int bytes, int mss)
{
	atomic_store(&clamp, bytes);
	atomic_store(&maxseg, mss);
}

typedef int connect_fn(int, const struct sockaddr *, socklen_t);

/* Interposes libc's connect() for the whole process, Sofia included. */
int
connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	static connect_fn *real;
	int size = atomic_load(&clamp), mss = atomic_load(&maxseg), type;
	socklen_t ol = sizeof(type);

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "connect");
	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	if (size > 0 && getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &ol) == 0 &&
	    type == SOCK_STREAM) {
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size,
		    sizeof(size));
		if (mss > 0 && (sa->sa_family == AF_INET ||
		    sa->sa_family == AF_INET6))
			(void)setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss,
			    sizeof(mss));
	}
	if (real(fd, sa, len) == 0)
		return 0;
	/* A datagram socket's failure waits for its first send (udpdefer.h:
	 * Sofia's resolver loops for ever on it). */
	return errno == EINPROGRESS || errno == EINTR ? -1 :
	    udpdefer_failed(fd, sa, len, errno);
}
