/*
 * connlimit.h - at most sip.max_connections_per_source TCP and TLS
 * connections at once from one IP address on the SIP listeners (as
 * Kamailio's tcp_accept_iplimit): one host opening connections by the
 * thousand would otherwise take every descriptor the process has, and
 * with them the service of everyone else (what is left then is
 * fdreserve.h's). Connections over the limit are closed as they are
 * accepted; the peer sees its connection closed.
 *
 * The count goes up at accept (the interposed accept()s of
 * streamguard.c, loop thread) and down at close (the interposed close()
 * of hdrguard.c, any thread): hence one lock.
 */
#ifndef CONNLIMIT_H
#define CONNLIMIT_H

#include <stdint.h>
#include <sys/socket.h>

/* per_source 0: no limit (nothing is counted). 0, or -1 without memory. */
int connlimit_init(unsigned per_source);
void connlimit_reset(void);

/* fd, just accepted from peer: 1 to keep it (now counted), 0 when its
 * address already has the most it may have. */
int connlimit_admit(int fd, const struct sockaddr *peer);
/* fd is being closed: if it was counted, it no longer is. */
void connlimit_closed(int fd);

/* Connections refused so far, for /metrics. */
uint64_t connlimit_refused(void);

#endif /* CONNLIMIT_H */
