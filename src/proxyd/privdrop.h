/*
 * privdrop.h - give up root once the sockets are bound and the keys read:
 * no supplementary groups, then the group, then the user, each real,
 * effective and saved, and checked afterwards (a return of 0 means root
 * cannot be had back). keep_net_admin keeps CAP_NET_ADMIN alone, for the
 * in-process nftables pinholes; every other capability is gone.
 */
#ifndef PRIVDROP_H
#define PRIVDROP_H

#include <stddef.h>

/* 0, or -1 with err set (and the process should exit: a half-dropped
 * process is not to be run). group NULL: the user's primary group. */
int privdrop(const char *user, const char *group, int keep_net_admin,
    char *err, size_t errsz);

#endif /* PRIVDROP_H */
