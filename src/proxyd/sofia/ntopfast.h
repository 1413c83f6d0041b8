/*
 * ntopfast.h - the process's inet_ntop(3), interposed for IPv4.
 *
 * Sofia formats the source address of every message it receives
 * (tport_deliver()) and the address of many it sends (tport_hostport())
 * with inet_ntop(). glibc's formats an IPv4 address with sprintf(): about
 * 1,700 instructions, nine times per record-routed call, 4.6 % of all
 * the proxy's user-space instructions (bench/instructions.sh). This one
 * writes the four numbers itself; IPv6 and anything else go to libc's.
 * Same contract: NULL and errno ENOSPC when size is too small.
 *
 * To remove: delete this file and its test; the daemon never calls it by
 * name (the definition of inet_ntop in the program is what interposes it).
 */
#ifndef NTOPFAST_H
#define NTOPFAST_H

#include <sys/socket.h>

/* IPv4 only: "a.b.c.d" into dst (size bytes); as inet_ntop(AF_INET). */
const char *ntopfast_v4(const void *src, char *dst, socklen_t size);

#endif /* NTOPFAST_H */
