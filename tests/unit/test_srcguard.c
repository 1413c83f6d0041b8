/* test_srcguard.c - the per-source datagram budget, over real loopback
 * sockets: recvmsg() in this program is the interposed one. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/netaddr.h"
#include "proxyd/sofia/sockfind.h"
#include "proxyd/sofia/srcguard.h"
#include "t.h"

static int
udp_bound(const char *ip, struct sockaddr_in *sin)
{
	socklen_t len = sizeof(*sin);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, ip, &sin->sin_addr);
	if (fd < 0 || bind(fd, (struct sockaddr *)sin, sizeof(*sin)) != 0 ||
	    getsockname(fd, (struct sockaddr *)sin, &len) != 0)
		return -1;
	return fd;
}

/* CLOCK_MONOTONIC in ms */
static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
send_n(int from, const struct sockaddr_in *to, int n, char tag)
{
	char b[64];
	int i;

	for (i = 0; i < n; i++) {
		memset(b, tag, sizeof(b));
		(void)sendto(from, b, (size_t)(1 + i % 40), 0,
		    (const struct sockaddr *)to, sizeof(*to));
	}
}

/* Read like Sofia: non-blocking recvmsg until nothing is left (EAGAIN
 * after a drop counts as "look again" while data is queued). Returns
 * the datagrams delivered per tag in got[]. */
static void
read_all(int fd, int got[2])
{
	char buf[128];
	struct sockaddr_storage from;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m;
	int idle = 0;
	uint64_t drops = srcguard_dropped();
	ssize_t n;

	got[0] = got[1] = 0;
	while (idle < 3) {
		memset(&m, 0, sizeof(m));
		m.msg_name = &from;
		m.msg_namelen = sizeof(from);
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		n = recvmsg(fd, &m, MSG_DONTWAIT);
		if (n > 0) {
			got[buf[0] == 'a' ? 0 : 1]++;
			idle = 0;
		} else if (errno == EAGAIN && srcguard_dropped() != drops) {
			drops = srcguard_dropped(); /* dropped some: go on */
			idle = 0;
		} else if (errno == EAGAIN) {
			idle++;
			usleep(2000);
		} else
			break;
	}
}

static int stun_calls, stun_fd;
static size_t stun_len;
static uint8_t stun_first;

static void
on_stun(int fd, const void *p, size_t n, const struct sockaddr *from,
    socklen_t fromlen)
{
	stun_calls++;
	stun_fd = fd;
	stun_len = n;
	stun_first = *(const uint8_t *)p;
	(void)from;
	(void)fromlen;
}

/* n datagrams of 20 bytes starting with byte first (STUN when 0-3),
 * each followed by an 'a' datagram when with_sip. */
static void
send_stun(int from, const struct sockaddr_in *to, int n, uint8_t first,
    int with_sip)
{
	uint8_t b[20];
	int i;

	memset(b, 0x42, sizeof(b));
	b[0] = first;
	for (i = 0; i < n; i++) {
		(void)sendto(from, b, sizeof(b), 0,
		    (const struct sockaddr *)to, sizeof(*to));
		if (with_sip)
			send_n(from, to, 1, 'a');
	}
}

int
main(void)
{
	struct sockaddr_in srv, a, b;
	struct netaddr lo2;
	int s = udp_bound("127.0.0.1", &srv);
	int fa = udp_bound("127.0.0.1", &a);
	int fb = udp_bound("127.0.0.2", &b);
	int got[2];

	T_OK(s >= 0 && fa >= 0 && fb >= 0, "loopback sockets");
	if (s < 0 || fa < 0 || fb < 0)
		return t_done();

	/* sockfind: the UDP socket by its port; a listening TCP socket on
	 * the same port is a stream one; a connected one is not listening:
	 * the connection accepted on that listener has the same local port
	 * (and type) and must not be taken for it. */
	{
		int fds[4], tl, tc, ta = -1, n;
		struct sockaddr_in tsin = srv;

		tl = socket(AF_INET, SOCK_STREAM, 0);
		tc = socket(AF_INET, SOCK_STREAM, 0);
		n = bind(tl, (struct sockaddr *)&tsin, sizeof(tsin)) == 0 &&
		    listen(tl, 1) == 0;
		T_OK(n, "a TCP listener on the UDP socket's port");
		if (n && connect(tc, (struct sockaddr *)&tsin,
		    sizeof(tsin)) == 0)
			ta = accept(tl, NULL, NULL);
		T_OK(ta >= 0, "a connection accepted on it (same local port)");
		n = sockfind(SOCK_DGRAM, ntohs(srv.sin_port), fds, 4);
		T_OK(n == 1 && fds[0] == s, "sockfind: the UDP socket");
		n = sockfind(SOCK_STREAM, ntohs(srv.sin_port), fds, 4);
		T_OK(n == 1 && fds[0] == tl,
		    "sockfind: the TCP listener only, not its connection");
		T_EQ_INT(sockfind(SOCK_DGRAM, 1, fds, 4), 0,
		    "sockfind: nothing on another port");
		if (ta >= 0)
			close(ta);
		close(tl);
		close(tc);
	}

	/* Off: everything arrives. */
	send_n(fa, &srv, 50, 'a');
	read_all(s, got);
	T_EQ_INT(got[0], 50, "guard off: all 50 delivered");

	/* rate 1/s, burst 5: a flood from A keeps 5; B is not affected. */
	T_EQ_INT(srcguard_init(1, 5, 64, NULL, 0), 0, "guard on");
	T_EQ_INT(srcguard_add_fd(s), 0, "socket registered");
	/* (Counts stay well inside a default 208 KiB receive buffer.) */
	send_n(fa, &srv, 120, 'a');
	send_n(fb, &srv, 3, 'b');
	read_all(s, got);
	T_EQ_INT(got[0], 5, "flooding source: its burst delivered");
	T_EQ_INT(got[1], 3, "the other source: all delivered");
	T_EQ_INT(srcguard_dropped(), 115, "115 dropped, counted");

	/* Interleaved: B's datagrams queued behind A's flood still come. */
	send_n(fa, &srv, 60, 'a');
	send_n(fb, &srv, 1, 'b');
	send_n(fa, &srv, 60, 'a');
	send_n(fb, &srv, 1, 'b');
	read_all(s, got);
	T_EQ_INT(got[0], 0, "over budget: nothing more from A");
	T_EQ_INT(got[1], 2, "B's two, queued among A's 120, delivered");

	/* Responses always pass, even from a source over its budget. */
	{
		const char resp[] = "SIP/2.0 200 OK\r\n\r\n";
		int i;

		for (i = 0; i < 30; i++)
			sendto(fa, resp, sizeof(resp) - 1, 0,
			    (struct sockaddr *)&srv, sizeof(srv));
		read_all(s, got);
		T_EQ_INT(got[1], 30,
		    "responses from an over-budget source: all 30 delivered");
	}

	/* Exempt network: never limited. */
	netaddr_parse(&lo2, "127.0.0.2/32");
	T_EQ_INT(srcguard_init(1, 1, 64, &lo2, 1), 0, "guard with exemption");
	srcguard_add_fd(s);
	send_n(fb, &srv, 30, 'b');
	read_all(s, got);
	T_EQ_INT(got[1], 30, "exempt source: all 30 delivered");

	/* STUN (first byte 0 to 3) goes to the handler and never to the
	 * reader; with no budget at all, too. */
	T_EQ_INT(srcguard_init(0, 0, 64, NULL, 0), 0, "no budget");
	srcguard_add_fd(s);
	srcguard_stun(on_stun);
	send_stun(fa, &srv, 3, 0x00, 1);
	send_stun(fa, &srv, 1, 0x03, 1);
	read_all(s, got);
	T_EQ_INT(stun_calls, 4, "no budget: 4 STUN datagrams to the handler");
	T_OK(stun_fd == s && stun_len == 20 && stun_first == 0x03,
	    "the handler gets the socket and the whole datagram");
	T_EQ_INT(got[0], 4, "the SIP datagrams between them delivered");
	T_EQ_INT(got[1], 0, "no STUN datagram reaches the reader");
	send_stun(fa, &srv, 2, 0x04, 0);
	read_all(s, got);
	T_EQ_INT(got[1], 2, "a first byte of 4 is not STUN: delivered");
	T_EQ_INT(stun_calls, 4, "and not handed to the handler");

	/* Within the budget only: a STUN flood costs what SIP does. */
	T_EQ_INT(srcguard_init(1, 2, 64, NULL, 0), 0, "budget 1/s, burst 2");
	srcguard_add_fd(s);
	srcguard_stun(on_stun);
	stun_calls = 0;
	send_stun(fa, &srv, 5, 0x00, 0);
	read_all(s, got);
	T_EQ_INT(stun_calls, 2, "5 STUN datagrams: the burst handled");
	T_EQ_INT(srcguard_dropped(), 3, "the other 3 dropped as over budget");
	T_EQ_INT(got[0] + got[1], 0, "none reaches the reader");

	/* Queue delay: a datagram that waited 120 ms in the queue reads as
	 * having waited at least that; the read after it as less. The
	 * second half holds only if this process was not held up between
	 * the fresh datagram's send and its read (it waited under 50 ms, in
	 * the window of the first read or the next): a round where it was
	 * (a loaded machine) proves nothing and is done again. */
	T_EQ_INT(srcguard_init(0, 0, 64, NULL, 0), 0, "no budget again");
	srcguard_add_fd(s);
	{
		uint32_t first = 0, fresh = 0;
		uint64_t read1, t0, t1;
		int tries;

		for (tries = 0; tries < 20; tries++) {
			usleep(250000); /* the reads before: two windows old */
			send_n(fa, &srv, 1, 'a');
			usleep(120000);
			read_all(s, got);
			read1 = mono_ms();
			first = srcguard_queue_delay_us();
			t0 = mono_ms();
			send_n(fa, &srv, 1, 'a');
			read_all(s, got);
			t1 = mono_ms();
			fresh = srcguard_queue_delay_us();
			if (t1 - t0 < 50 && t1 - read1 < SRCGUARD_DELAY_WINDOW_MS)
				break;
		}
		printf("# queue delay: %d round(s)\n", tries + 1);
		T_OK(tries < 20, "a round not held up between send and read");
		T_OK(first >= 120000 && first < 5000000,
		    "queue delay measured");
		T_OK(fresh < 120000,
		    "a fresh datagram right after: the least of the window "
		    "counts");
	}

	/* An ACK for an overload 503 (our tag) is swallowed; other ACKs,
	 * and other requests with the tag, are not. */
	{
		static const char *const dgrams[] = {
			"ACK sip:b@x SIP/2.0\r\nTo: <sip:b@x>;tag=e2m503-ab\r\n",
			"ACK sip:b@x SIP/2.0\r\nTo: <sip:b@x>;tag=other\r\n",
			"BYE sip:b@x SIP/2.0\r\nTo: <sip:b@x>;tag=e2m503-ab\r\n",
		};
		size_t i;

		srcguard_shed_tag("e2m503-ab");
		for (i = 0; i < 3; i++)
			(void)sendto(fa, dgrams[i], strlen(dgrams[i]), 0,
			    (const struct sockaddr *)&srv, sizeof(srv));
		read_all(s, got);
		T_EQ_INT(got[0] + got[1], 2, "two of three delivered");
		T_EQ_INT(srcguard_shed_acks(), 1, "the ACK with our tag dropped");
	}

	/* Unregistered sockets are left alone. */
	srcguard_reset();
	T_EQ_INT(srcguard_init(1, 1, 64, NULL, 0), 0, "guard, no socket");
	send_n(fa, &srv, 10, 'a');
	read_all(s, got);
	T_EQ_INT(got[0], 10, "unregistered socket: all delivered");
	srcguard_reset();
	close(s);
	close(fa);
	close(fb);
	return t_done();
}
