/*
 * sockfind.h - find this process's own sockets by type and local port.
 *
 * Sofia opens the listening sockets itself and does not hand out their
 * descriptors; the proxy still needs a few of them (a bounded receive
 * buffer on TCP listeners, the datagram budget on UDP ones). They are
 * found among /proc/self/fd by socket type and bound port.
 */
#ifndef SOCKFIND_H
#define SOCKFIND_H

#include <stddef.h>

/* Up to max descriptors of sockets of this type (SOCK_STREAM listening,
 * or SOCK_DGRAM) bound to port; the count found, or -1 if /proc cannot
 * be read. */
int sockfind(int type, unsigned port, int *fds, size_t max);

#endif /* SOCKFIND_H */
