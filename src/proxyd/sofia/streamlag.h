/*
 * streamlag.h - how long the TCP or TLS connection a request came on has
 * been backed up: overload control's waiting signal for stream requests.
 *
 * A datagram carries the kernel's arrival time (srcguard.h), so its wait
 * is known. Stream bytes wait where we cannot see them: our receive
 * buffer is small (tcpclamp.h), and once it is full the rest waits in the
 * sender's socket. What we can see is that buffer at each read: Sofia
 * reads all a TCP socket holds (its size from FIONREAD), so a read of
 * three quarters of the buffer or more found it full (agent.c sets the
 * figure): the sender's input waits. A connection whose every read
 * has found that, for a while, has had its input waiting for at least
 * that long; one read that found less ends it. A loop that works flat
 * out on input that comes as fast as it reads it (a slow build at a
 * moderate rate) finds its buffers short of full: no signal, unlike the
 * loop's busy stretch (overload.h).
 *
 * Fed by hdrguard.c, which follows the connections accepted on our
 * listeners: every read of one (TCP: the bytes read; TLS: the plaintext
 * read and the ciphertext still queued, or "full" for a record that
 * filled the buffer with more waiting), every other read (a datagram, a
 * connection we opened: the message being handled is not from a
 * followed connection), every close. The connections are the loop
 * thread's; a read on another thread (a worker's netlink socket) only
 * clears that thread's "latest read".
 */
#ifndef STREAMLAG_H
#define STREAMLAG_H

#include <stddef.h>
#include <stdint.h>

/* Reads of at least full bytes find a connection backed up; 0: off (no
 * signal, and no ioctl() for TLS). */
void streamlag_set_full(size_t full);
/* Is the signal on (then TLS reads count the ciphertext queued)? */
int streamlag_on(void);

/* A read of the followed connection fd found queued bytes waiting. */
void streamlag_read(int fd, size_t queued, uint64_t now_ms);
/* A read of anything else. */
void streamlag_other(void);
/* fd was closed (its number may come back as another connection). */
void streamlag_forget(int fd);

/* How long the connection of the latest read has been backed up, ms: 0
 * when that read found less than full, or was of anything else. */
uint64_t streamlag_ms(uint64_t now_ms);
/* The longest any connection was backed up at a read over the last full
 * second and this one, ms (the gauge). */
uint64_t streamlag_max_ms(uint64_t now_ms);

#endif /* STREAMLAG_H */
