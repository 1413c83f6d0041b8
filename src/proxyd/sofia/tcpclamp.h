/*
 * tcpclamp.h - a bounded receive buffer for the TCP connections Sofia opens
 * itself (to next hops).
 *
 * Sofia reads all a stream socket has buffered in one go, and every
 * message parsed from that read keeps the whole read buffer; a server
 * transaction then holds the message for seconds. The kernel autotunes an
 * outgoing connection's receive buffer up to net.ipv4.tcp_rmem's maximum
 * (32 MiB by default), so under load a single relayed response could pin
 * megabytes (measured: 2000 calls/s over TCP took 670-910 MiB instead of
 * 180 MiB). Listening sockets are clamped by agent.c; the connections Sofia
 * makes are not visible to us, so connect(2) is interposed (sockhook.h):
 * a stream socket gets SO_RCVBUF set (which also turns autotuning off)
 * before it connects, and TCP_MAXSEG: a peer whose MSS is larger than the window
 * such a buffer opens (loopback's 64 KiB) stalls in its persist timer
 * (agent.c, STREAM_MSS). And TCP_USER_TIMEOUT (sip.send_timeout; the
 * listening sockets get it in agent.c, and accepted connections inherit
 * it): a next hop that vanished without closing is dropped when data sent
 * to it has gone unacknowledged that long. Nothing else is changed.
 */
#ifndef TCPCLAMP_H
#define TCPCLAMP_H

/* Bytes for SO_RCVBUF of every stream socket connected from now on (the
 * kernel doubles the value) and its TCP_MAXSEG; 0 leaves them alone.
 * Installs the connect hook (sockhook_install()). */
void tcpclamp_set(int bytes, int mss);

/* TCP_USER_TIMEOUT in ms for every TCP socket connected from now on; 0
 * leaves the kernel's. */
void tcpclamp_set_user_timeout(unsigned ms);

#endif /* TCPCLAMP_H */
