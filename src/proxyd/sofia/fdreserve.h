/*
 * fdreserve.h - a listener whose accept() fails for want of descriptors
 * (EMFILE, ENFILE) stays readable, and both of the process's acceptors
 * (Sofia's tport_accept() and libevent's listener under evhttp) only
 * report the error: the loop woke for it again at once, for ever, a core
 * spent and every other socket served late, as long as connections kept
 * the process at its RLIMIT_NOFILE (a connection flood, or registered
 * phones past the limit). So one descriptor is held in reserve; when an
 * accept() fails so, the reserve is given up, the waiting connections
 * are accepted and closed at once (their peers see them closed, a TCP
 * client can try another server) and the reserve is taken again.
 * Called from the interposed accept()s (streamguard.c). Loop thread.
 */
#ifndef FDRESERVE_H
#define FDRESERVE_H

#include <stdint.h>

/* Take the reserve descriptor; 0, or -1 (then nothing can be shed). */
int fdreserve_init(void);
void fdreserve_reset(void);

/* accept() on listen_fd just failed with errno EMFILE or ENFILE: close
 * what waits there, at most a batch. errno is kept. */
void fdreserve_shed(int listen_fd);

/* Connections closed so for want of descriptors, for /metrics. */
uint64_t fdreserve_shed_total(void);

#endif /* FDRESERVE_H */
