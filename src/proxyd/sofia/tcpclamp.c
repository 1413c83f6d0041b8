/* tcpclamp.c - SO_RCVBUF, TCP_MAXSEG and TCP_USER_TIMEOUT for outgoing
 * stream sockets (see tcpclamp.h). */
#include "proxyd/sofia/tcpclamp.h"
#include "common/sockhook.h"

#include <stdatomic.h>
#include <stddef.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

static atomic_int clamp, maxseg;
static atomic_uint user_timeout;

/* Before each connect (sockhook.h): a stream socket of ours gets the
 * bounded receive buffer and the MSS. */
static void
prep(int fd, const struct sockaddr *sa)
{
	int size = atomic_load(&clamp), mss = atomic_load(&maxseg), type;
	unsigned ut = atomic_load(&user_timeout);
	socklen_t ol = sizeof(type);
	int inet = sa->sa_family == AF_INET || sa->sa_family == AF_INET6;

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &ol) != 0 ||
	    type != SOCK_STREAM)
		return;
	if (size > 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size,
		    sizeof(size));
	if (size > 0 && mss > 0 && inet)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof(mss));
	if (ut > 0 && inet)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ut,
		    sizeof(ut));
}

void
tcpclamp_set(int bytes, int mss)
{
	atomic_store(&clamp, bytes);
	atomic_store(&maxseg, mss);
	sockhook_install(prep);
}

void
tcpclamp_set_user_timeout(unsigned ms)
{
	atomic_store(&user_timeout, ms);
	sockhook_install(prep);
}
