/*
 * recvhook.h - the process's recvmsg(2), interposed.
 *
 * Sofia reads every datagram and stream with recvmsg() and offers no hook
 * before it parses. Two things need one: the UDP listeners' filter
 * (srcguard.c), which drops a flood's datagrams before they cost a parse
 * and takes STUN keep-alives out of the SIP stream, and the loop bridge (loop.c), which runs further Sofia steps in one
 * wakeup while they keep receiving, so that a backlog of datagrams costs
 * a Sofia step each instead of a pass through libevent as well. Then
 * the TCP connections: hdrguard.c may change what a read returned (a
 * quoted NUL masked, a header section too large cut), and streamguard.c
 * frames what Sofia will get (connections that carry no SIP, or carry it
 * too slowly).
 *
 * Everything here runs on the calling thread; the filter is set and the
 * count read on the loop thread.
 */
#ifndef RECVHOOK_H
#define RECVHOOK_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

typedef ssize_t recvhook_real_fn(int fd, struct msghdr *m, int flags);

/* Sees every recvmsg() call instead of libc; real is libc's. */
typedef ssize_t recvhook_filter_fn(int fd, struct msghdr *m, int flags,
    recvhook_real_fn *real);

/* Install fn (NULL: none). */
void recvhook_filter(recvhook_filter_fn *fn);

/* Sees what every recvmsg() that consumed data returned (n bytes in
 * m's buffers; 0 at the end of a stream): streamguard.c's framing of
 * TCP connections. NULL: none. */
typedef void recvhook_observe_fn(int fd, const struct msghdr *m, ssize_t n);
void recvhook_observe(recvhook_observe_fn *fn);

/* Sees the n >= 0 bytes every read (not a peek) returned, after the
 * filter (0: the end of a stream, or an empty datagram); returns what the
 * caller gets instead (bytes left in m's buffers, 0 for end of stream, or
 * -1 with errno). hdrguard.c. */
typedef ssize_t recvhook_after_fn(int fd, struct msghdr *m, ssize_t n);
void recvhook_after(recvhook_after_fn *fn);

/* How many recvmsg() calls of this thread returned data (peeks not
 * counted), ever. */
uint64_t recvhook_reads(void);

#endif /* RECVHOOK_H */
