/*
 * tcpclamp.h - the socket options of our TCP connections: a bounded
 * receive buffer, its MSS, and a bound on unacknowledged data.
 *
 * Sofia reads all a stream socket has buffered in one go, and every
 * message parsed from that read keeps the whole read buffer; a server
 * transaction then holds the message for seconds. The kernel autotunes a
 * connection's receive buffer up to net.ipv4.tcp_rmem's maximum (32 MiB
 * by default), so under load a single relayed response could pin
 * megabytes (measured: 2000 calls/s over TCP took 670-910 MiB instead of
 * 180 MiB). So a stream socket gets SO_RCVBUF set (which also turns
 * autotuning off), and TCP_MAXSEG: a peer whose MSS is larger than the
 * window such a buffer opens (loopback's 64 KiB) stalls in its persist
 * timer (agent.c, STREAM_MSS). And TCP_USER_TIMEOUT (sip.send_timeout): a
 * peer that vanished without closing is dropped when data sent to it has
 * gone unacknowledged that long, instead of after the kernel's 15 minutes
 * of retransmissions. The listening sockets get them from agent.c
 * (tcpclamp_socket(); accepted connections inherit them); the connections
 * Sofia makes are not visible to us, so connect(2) is interposed
 * (sockhook.h) and each stream socket gets them before it connects.
 * Nothing else is changed.
 */
#ifndef TCPCLAMP_H
#define TCPCLAMP_H

/* Bytes for SO_RCVBUF (the kernel doubles the value), TCP_MAXSEG and
 * TCP_USER_TIMEOUT in ms, for every stream socket connected from now on
 * and every one given to tcpclamp_socket(); 0 leaves each alone.
 * Installs the connect hook (sockhook_install()). */
void tcpclamp_set(int bytes, int mss, unsigned user_timeout_ms);

/* The options above on the TCP socket fd (a listening one: its accepted
 * connections inherit them). */
void tcpclamp_socket(int fd);

#endif /* TCPCLAMP_H */
