/* netaddr.h - IPv4/IPv6 prefixes ("10.0.0.0/8", "::1") and matching. */
#ifndef NETADDR_H
#define NETADDR_H

#include <stdint.h>
#include <sys/socket.h>

struct netaddr {
	int family;        /* AF_INET or AF_INET6 */
	uint8_t addr[16];  /* network byte order, host bits cleared */
	unsigned prefix;   /* 0..32 or 0..128 */
};

/* "a.b.c.d[/n]" or "v6[/n]"; a missing /n is a host prefix. 0 ok, -1 bad. */
int netaddr_parse(struct netaddr *na, const char *text);
/* 1 if sa (AF_INET/AF_INET6, v4-mapped v6 counts as v4) is inside na. */
int netaddr_match(const struct netaddr *na, const struct sockaddr *sa);

#endif /* NETADDR_H */
