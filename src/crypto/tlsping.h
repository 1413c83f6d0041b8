/*
 * tlsping.h - RFC 5626 CRLF keep-alive pongs on the server side of TLS
 * connections, which Sofia 1.12's TLS transport does not send (its TCP
 * transport does: TPTAG_PONG2PING).
 *
 * A UA keeps its flow to an edge proxy alive with a double CRLF ping and
 * expects a single CRLF pong (RFC 5626 4.4.1, 3.5.1); without it, it
 * takes the flow for dead and registers again. Sofia reads TLS with
 * SSL_read() and hands the bytes to its parser (which skips the CRLFs),
 * with no hook on the way. So SSL_read(), SSL_write() (and SSL_pending(),
 * for tlsping_filter()) are interposed
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

/*
 * Sees and may change the plaintext of every server-side SSL_read()
 * before anything else does (proxyd/sofia/hdrguard.c: escaped NULs
 * masked, a header section too long cut, as on TCP). fd is the
 * connection's socket, cap the room in buf. NULL: none.
 * - before(fd, buf, cap): what to return without reading: that many
 *   bytes put in buf, 0 for the end of the stream; -1: read.
 * - after(fd, buf, n, cap): the n bytes read; returns how many the read
 *   returns (0: the end of the stream).
 * - pending(fd): 1 when before() has bytes to return (SSL_pending() then
 *   says so, and Sofia reads again without waiting for the socket); -1
 *   when the stream has ended for the filter (SSL_pending() says 0: what
 *   OpenSSL holds is never to be read, and Sofia must deliver what it
 *   has before it reads the end); 0: OpenSSL's own answer.
 * The end of the stream reads as OpenSSL's end without close_notify
 * (SSL_ERROR_SYSCALL, errno 0), which Sofia takes for the peer's close.
 */
struct tlsping_filter {
	int (*before)(int fd, void *buf, int cap);
	int (*after)(int fd, void *buf, int n, int cap);
	int (*pending)(int fd);
};
void tlsping_filter(const struct tlsping_filter *f);

/* Pongs sent so far. */
uint64_t tlsping_pongs(void);

/* SSL_read() calls of this thread that returned data, ever (the event
 * loop's view of input read: proxyd/loop.c). */
uint64_t tlsping_reads(void);

#endif /* TLSPING_H */
