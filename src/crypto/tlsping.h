/*
 * tlsping.h - RFC 5626 CRLF keep-alive pongs on the server side of TLS
 * connections, which Sofia 1.12's TLS transport does not send (its TCP
 * transport does: TPTAG_PONG2PING).
 *
 * A UA keeps its flow to an edge proxy alive with a double CRLF ping and
 * expects a single CRLF pong (RFC 5626 4.4.1, 3.5.1); without it, it
 * takes the flow for dead and registers again. Sofia reads TLS with
 * SSL_read() and hands the bytes to its parser (which skips the CRLFs),
 * with no hook on the way. So SSL_read() and SSL_write() are interposed
 * for the process (the daemon's own code never calls them; this object
 * is linked only into a program that calls tlsping_enable()):
 *
 * - a read on a server-side connection that returned only CR and LF
 *   bytes, among them a CRLFCRLF, is a ping (a UA writes its ping at
 *   once, so it arrives as one TLS record and one read; a ping split
 *   over two records is not answered);
 * - the pong "\r\n" is written with SSL_write() on that connection, right
 *   away, unless a write of Sofia's is pending there (an SSL_write that
 *   could not finish, to be retried with the same bytes: OpenSSL refuses
 *   another in between) or the socket cannot take it now; then the ping
 *   goes unanswered, as on a congested TCP connection, and the UA's
 *   next ping (or its re-registration) tells.
 *
 * To remove once Sofia's TLS transport answers pings itself.
 * Loop thread (whatever thread calls SSL_read/SSL_write).
 */
#ifndef TLSPING_H
#define TLSPING_H

#include <stddef.h>
#include <stdint.h>

/* Answer pings from now on; 0, or -1 when OpenSSL has no room for the
 * per-connection flag (nothing is answered then). */
int tlsping_enable(void);

/* Sees the plaintext of every server-side SSL_read() (fd: the
 * connection's socket): the framing of proxyd/sofia/streamguard.c, which
 * closes TLS connections that carry no SIP. NULL: none. */
typedef void tlsping_observe_fn(int fd, const void *buf, size_t n);
void tlsping_observe(tlsping_observe_fn *fn);

/* Pongs sent so far. */
uint64_t tlsping_pongs(void);

/* SSL_read() calls of this thread that returned data, ever (the event
 * loop's view of input read: proxyd/loop.c). */
uint64_t tlsping_reads(void);

#endif /* TLSPING_H */
