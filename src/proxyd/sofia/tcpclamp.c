/* tcpclamp.c - SO_RCVBUF, TCP_MAXSEG and TCP_USER_TIMEOUT for our stream
 * sockets (see tcpclamp.h). */
#include "proxyd/sofia/tcpclamp.h"
#include "common/sockhook.h"

#include <stdatomic.h>
#include <stddef.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

static atomic_int clamp, maxseg;
static atomic_uint user_timeout;

void
tcpclamp_socket(int fd)
{
	int size = atomic_load(&clamp), mss = atomic_load(&maxseg);
	unsigned ut = atomic_load(&user_timeout);

	if (size > 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size,
		    sizeof(size));
	if (size > 0 && mss > 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof(mss));
	if (ut > 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ut,
		    sizeof(ut));
}

/* Before each connect (sockhook.h): a TCP socket of ours gets the
 * options. */
static void
prep(int fd, const struct sockaddr *sa)
{
	int type;
	socklen_t ol = sizeof(type);

	if ((sa->sa_family != AF_INET && sa->sa_family != AF_INET6) ||
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &ol) != 0 ||
	    type != SOCK_STREAM)
		return;
	tcpclamp_socket(fd);
}

void
tcpclamp_set(int bytes, int mss, unsigned user_timeout_ms)
{
	atomic_store(&clamp, bytes);
	atomic_store(&maxseg, mss);
	atomic_store(&user_timeout, user_timeout_ms);
	sockhook_install(prep);
}
