/*
 * flowtoken.h - RFC 5626 flow tokens (section 5.2): what the edge proxy
 * puts in the user part of its Path and Record-Route URIs so that a
 * request coming back names the flow (a phone's UDP address and port, or
 * its TCP/TLS connection) it must go out on. HMAC-protected with the
 * configured key: a token the proxy did not make is refused, not routed.
 * Pure: no Sofia, no I/O.
 *
 * Layout before base64url (no padding): version (1), kind (1), flow id
 * (8, big-endian), address family (1: 4 or 6), address (16: IPv4 in the
 * first 4), port (2), then the first 12 bytes of HMAC-SHA256 over all of
 * that. A UDP token routes on its own (address and port), so UDP phones
 * stay reachable across a restart; a TCP/TLS token names a connection,
 * which only the flow table knows.
 */
#ifndef FLOWTOKEN_H
#define FLOWTOKEN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum flow_kind { FLOW_UDP = 1, FLOW_TCP = 2, FLOW_TLS = 3 };

struct flow_addr {
	enum flow_kind kind;
	uint64_t id;                  /* the flow table's id; 0: none */
	struct sockaddr_storage peer; /* AF_INET or AF_INET6 */
};

#define FLOWTOKEN_LEN 55 /* characters, without the NUL */

/* 0, or -1 (address family not IP, or the MAC failed). */
int flowtoken_encode(const void *key, size_t keylen,
    const struct flow_addr *f, char out[FLOWTOKEN_LEN + 1]);

/* The n characters of s as a token made with key: 0 and *f, or -1 when
 * they are not one (wrong length or alphabet, bad fields, wrong MAC). */
int flowtoken_decode(const void *key, size_t keylen, const char *s,
    size_t n, struct flow_addr *f);

/* "udp", "tcp", "tls". */
const char *flow_kind_name(enum flow_kind k);

#endif /* FLOWTOKEN_H */
