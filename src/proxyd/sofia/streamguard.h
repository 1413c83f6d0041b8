/*
 * streamguard.h - TCP and TLS connections that carry no SIP, or carry it
 * too slowly, are closed in seconds instead of holding their buffer and
 * descriptor until the idle timer (sip.idle_timeout, half an hour).
 *
 * Sofia 1.12 keeps a connection whose bytes it cannot parse ("received
 * garbage": it stops reading it and waits), and keeps a partial message
 * for as long as the peer adds a byte now and then: its incomplete-message
 * timer (TPTAG_TIMEOUT) restarts with every read and only drops the
 * message, and its idle timer does not run while a message is partial.
 * So the process's stream reads are watched (the interposed recvmsg() of
 * recvhook.c for TCP, SSL_read() of crypto/tlsping.c for TLS) and framed
 * by common/sipframe.c:
 *
 * - bytes that cannot start a SIP message (a start line that is not
 *   printable ASCII naming SIP/) close the connection at the next sweep
 *   (half a second at most: Sofia may still answer what came before);
 * - a message must be whole within sip.message_timeout of its first
 *   byte, and a connection accepted on a SIP listener must bring its
 *   first message (TLS handshake included) within the same time;
 *   stalled, slow-dripped or endless ones are closed by the sweep.
 *
 * "Closed" is shutdown(SHUT_RDWR): Sofia owns the descriptor, sees the
 * end of the stream and closes it itself (close() behind its back would
 * let the number be reused under it). Connections the proxy opened to
 * its next hops are framed too once they send (a next hop that stalls
 * mid-response is as broken), but have no deadline before their first
 * byte. Loop thread only.
 */
#ifndef STREAMGUARD_H
#define STREAMGUARD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

enum streamguard_why { STREAMGUARD_GARBAGE, STREAMGUARD_TIMEOUT };

/* timeout_ms 0: off (nothing is watched). 0, or -1 without memory. */
int streamguard_init(unsigned timeout_ms);
void streamguard_reset(void);

/* A listening SIP stream socket: what it accepts is watched. */
void streamguard_add_listener(int fd);

/* The read paths: n bytes just read from fd (TLS: plaintext). */
void streamguard_bytes(int fd, const void *p, size_t n);
/* recvhook.c's observer: what a recvmsg() on fd returned (0: the end). */
void streamguard_recvmsg(int fd, const struct msghdr *m, ssize_t n);

/* Close what is overdue; returns how many. now: monoclock_ms(). */
unsigned streamguard_sweep(uint64_t now);

/* Connections closed so far, for /metrics. */
uint64_t streamguard_closed(enum streamguard_why why);

#endif /* STREAMGUARD_H */
