/* test_recvhook.c - the interposed recvmsg(): reads counted, peeks and
 * failures not, the filter sees every call. Real loopback sockets. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proxyd/sofia/recvhook.h"
#include "t.h"

static int filtered;

static ssize_t
count_calls(int fd, struct msghdr *m, int flags, recvhook_real_fn *real)
{
	filtered++;
	return real(fd, m, flags);
}

static ssize_t
recv_one(int fd, int flags)
{
	char buf[64];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m;

	memset(&m, 0, sizeof(m));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	return recvmsg(fd, &m, flags | MSG_DONTWAIT);
}

int
main(void)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int rx = socket(AF_INET, SOCK_DGRAM, 0), tx = socket(AF_INET,
	    SOCK_DGRAM, 0);
	uint64_t before;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	T_OK(rx >= 0 && tx >= 0 && bind(rx, (struct sockaddr *)&a,
	    sizeof(a)) == 0 && getsockname(rx, (struct sockaddr *)&a,
	    &alen) == 0, "loopback socket");

	before = recvhook_reads();
	T_OK(recv_one(rx, 0) < 0 && errno == EAGAIN, "nothing queued");
	T_EQ_INT(recvhook_reads() - before, 0, "a failed read is not counted");

	sendto(tx, "hello", 5, 0, (struct sockaddr *)&a, sizeof(a));
	T_EQ_INT(recv_one(rx, MSG_PEEK), 5, "peeked");
	T_EQ_INT(recvhook_reads() - before, 0, "a peek is not counted");
	T_EQ_INT(recv_one(rx, 0), 5, "read");
	T_EQ_INT(recvhook_reads() - before, 1, "a read is counted");

	recvhook_filter(count_calls);
	sendto(tx, "again", 5, 0, (struct sockaddr *)&a, sizeof(a));
	T_EQ_INT(recv_one(rx, 0), 5, "read through the filter");
	T_EQ_INT(filtered, 1, "the filter saw it");
	T_EQ_INT(recvhook_reads() - before, 2, "and it is counted");
	recvhook_filter(NULL);
	sendto(tx, "third", 5, 0, (struct sockaddr *)&a, sizeof(a));
	T_EQ_INT(recv_one(rx, 0), 5, "read without a filter");
	T_EQ_INT(filtered, 1, "filter removed");
	close(rx);
	close(tx);
	return t_done();
}
