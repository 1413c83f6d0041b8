/*
 * hdrguard.h - the bytes of the TCP and TLS connections accepted on our
 * listeners, followed message by message before Sofia parses them
 * (common/sipstream.h does the work; this is the plumbing).
 *
 * Two things Sofia's parser cannot do:
 * - A NUL escaped in a quoted string (RFC 4475 intmeth) ends a header
 *   field for Sofia: masked here, put back by wirecopy.c in what is
 *   forwarded.
 * - A header section longer than Sofia's per-connection buffer
 *   (NTATAG_MAXSIZE) made Sofia close the connection with no answer: it
 *   fails to grow the buffer inside tport_recv_iovec() and never delivers
 *   the message, so nta's own 413 for a message too large is not reached.
 *   And before that it parses all it has: appending each field to the
 *   list of its name walks that list, so 40,000 Vias (2 MB) held the loop
 *   for 30 s. Here the section is cut a little past sip.max_message_size
 *   (a larger one is refused anyway), stand-ins for From, To, Call-ID and
 *   CSeq added if they had not come yet, a marker field and the empty
 *   line (common/sipstream.h, hdrguard_marker()); the proxy answers
 *   413 to what was received (incoming.c); every later read of the
 *   connection then reads as its end, and Sofia closes it once the answer
 *   is out. The socket is shut down for reading at the cut, so that the
 *   read that brings the marker or the end comes at once, also when the
 *   sender sends nothing more (Sofia delivers a message whose
 *   Content-Length came after the cut only at the end of the stream);
 *   ioctl(FIONREAD) is interposed for the marker of a TCP read too short
 *   to hold it.
 *
 * Each read's size goes to streamlag.c (how long a connection has been
 * backed up), every other read clears it.
 *
 * Sofia reads TCP sockets with recvmsg() (recvhook.c), and the plaintext
 * of TLS ones with SSL_read() (crypto/tlsping.c's filter hooks: the same
 * work on the decrypted bytes); it accepts with accept(), interposed by
 * streamguard.c, which tells this module (hdrguard_accepted()); close()
 * is interposed here to forget them. Datagrams: srcguard.c masks a NUL
 * the same way.
 * To remove: when Sofia parses quoted NULs and delivers a message whose
 * header outgrows its buffer flagged too large.
 *
 * Runs on the loop thread (Sofia's).
 */
#ifndef HDRGUARD_H
#define HDRGUARD_H

#include <stddef.h>

/* Header sections longer than limit are cut. 0, or -1 out of memory. */
int hdrguard_init(size_t limit);

/* The limit for connections accepted from now on (a reload). */
void hdrguard_set_limit(size_t limit);

/* Connections accepted on this listening socket are followed. */
int hdrguard_add_listener(int fd);

/* The name of the field that marks a header section cut (random per
 * process, so that no sender can make one up); NULL before init. */
const char *hdrguard_marker(void);

/* Header sections cut so far. */
unsigned long long hdrguard_cuts(void);

/* A connection fd was accepted on the listening socket lfd (called by
 * streamguard.c's interposed accept()/accept4()). */
void hdrguard_accepted(int lfd, int fd);

/* Forget everything (the interposed calls pass straight through). */
void hdrguard_reset(void);

#endif /* HDRGUARD_H */
