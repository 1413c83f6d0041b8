/*
 * udpdefer.h - a UDP socket whose connect(2) failed is connected later,
 * at its first send(2), instead of failing at once.
 *
 * Why: Sofia's resolver (sres) connects a UDP socket to each name server.
 * When that connect fails (no route to the server: ENETUNREACH, as on a
 * host whose network is down or a container without one), sres_query()
 * of the Debian 12 library loops for ever on socket/connect/close (seen:
 * 33,000 attempts in 0.5 s, forever), inside the event loop: one request
 * routed by a host name (an ACK was enough) stopped the proxy dead, not
 * even SIGTERM was served. A failed send is a path sres handles: the
 * server is marked as failing, the query fails at once, nta answers the
 * request 503, and a later query tries the server again.
 *
 * So the connect interposition (tcpclamp.c) reports such a failure to
 * udpdefer_failed(), which remembers the address and returns 0; send()
 * is interposed: on a remembered socket it tries the connect again and
 * then sends, or fails with the connect's error. Only AF_INET/AF_INET6
 * datagram sockets; every other socket is left alone.
 */
#ifndef UDPDEFER_H
#define UDPDEFER_H

#include <sys/socket.h>

/*
 * connect(fd, sa, len) failed with err: a datagram socket of AF_INET or
 * AF_INET6 is remembered and 0 returned; otherwise errno = err and -1.
 */
int udpdefer_failed(int fd, const struct sockaddr *sa, socklen_t len,
    int err);

/* Sockets whose connect is still deferred (for tests). */
unsigned udpdefer_pending(void);

#endif /* UDPDEFER_H */
