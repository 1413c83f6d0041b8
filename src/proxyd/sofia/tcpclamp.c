/* tcpclamp.c - SO_RCVBUF for outgoing stream sockets (see tcpclamp.h). */
#include "proxyd/sofia/tcpclamp.h"
#include "common/sockhook.h"

#include <stdatomic.h>
#include <stddef.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

static atomic_int clamp, maxseg;

/* Before each connect (sockhook.h): a stream socket of ours gets the
 * bounded receive buffer and the MSS. */
static void
prep(int fd, const struct sockaddr *sa)
{
	int size = atomic_load(&clamp), mss = atomic_load(&maxseg), type;
	socklen_t ol = sizeof(type);

	if (size <= 0 || getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &ol) != 0 ||
	    type != SOCK_STREAM)
		return;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (mss > 0 && (sa->sa_family == AF_INET || sa->sa_family == AF_INET6))
		(void)setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof(mss));
}

void
tcpclamp_set(int bytes, int mss)
{
	atomic_store(&clamp, bytes);
	atomic_store(&maxseg, mss);
	sockhook_install(prep);
}
