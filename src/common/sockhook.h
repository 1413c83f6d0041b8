/*
 * sockhook.h - connect(2) and send(2) interposed for the whole process
 * (Sofia included): a hook before each connect, and a UDP socket whose
 * connect failed is connected at its first send instead.
 *
 * The hook: e2mproxyd tunes the stream sockets Sofia connects itself
 * (tcpclamp.h: receive buffer, MSS), which nothing else lets it reach.
 *
 * The deferral: Sofia's resolver (sres) connects a UDP socket to each
 * name server. When that connect fails (no route to the server:
 * ENETUNREACH, on a host whose network is down or a container without
 * one), sres_query() of the Debian 12 library loops for ever on
 * socket/connect/close (33,000 attempts in half a second, for good),
 * inside the event loop: one request routed by a host name (an ACK was
 * enough) stopped the proxy dead, SIGTERM included, and e2mua with it. A
 * failed send is a path sres handles: the server is marked as failing,
 * the query fails at once (nta answers 503), and a later query tries the
 * server again. So a failed connect of an AF_INET/AF_INET6 datagram socket
 * returns 0 with the address remembered; its first send() connects it
 * then, or fails with the connect's error. Every other socket, and every
 * other error path, is left as it was.
 */
#ifndef SOCKHOOK_H
#define SOCKHOOK_H

#include <sys/socket.h>

/* Called before each connect() with its socket and address. */
typedef void sockhook_prep_fn(int fd, const struct sockaddr *sa);

/*
 * Turns the hooks on (a program that does not call it links without this
 * module, so without them); prep may be NULL. Before any thread starts.
 */
void sockhook_install(sockhook_prep_fn *prep);

/* Sockets whose connect is still deferred (for tests). */
unsigned sockhook_deferred(void);

#endif /* SOCKHOOK_H */
