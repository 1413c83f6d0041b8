/*
 * stun.h - the STUN (RFC 5389) Binding server of an RFC 5626 edge proxy:
 * a Binding request parsed strictly, and its response built.
 *
 * RFC 5626 section 4.4.2 has a UA behind a NAT send STUN Binding requests
 * on the very flow (UDP 5-tuple) it registered over, and section 8.4 has
 * the edge proxy answer them on its SIP port: the response's
 * XOR-MAPPED-ADDRESS tells the UA its flow's public address, and a change
 * means the NAT binding was lost and the UA must register again.
 *
 * Only what that needs: Binding requests with the magic cookie, no
 * authentication (RFC 5626 keep-alives use none: USERNAME,
 * MESSAGE-INTEGRITY, REALM and NONCE are accepted and ignored), no RFC
 * 3489 "classic" requests (no magic cookie: dropped, they cannot tell
 * keep-alives from NAT type probes and want a second address we lack),
 * no RFC 5780 CHANGE-REQUEST (an unknown attribute: 420).
 *
 * Pure: bytes and a sockaddr in, bytes out; no I/O, no allocation, no
 * clock. Hostile input expected (fuzzed: tests/fuzz/fuzz_stun.c).
 */
#ifndef STUN_H
#define STUN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define STUN_HEADER 20
#define STUN_COOKIE 0x2112A442u
#define STUN_TID_LEN 12

/* Requests larger than this are dropped: a Binding keep-alive is 20 to
 * about 100 bytes; RFC 5389 wants UDP messages under the path MTU. */
#define STUN_MAX_REQUEST 1280

/* Unknown comprehension-required attributes listed in a 420, at most;
 * more are not named (the client learns of the first ones, enough to
 * see it talks to a server without them). */
#define STUN_MAX_UNKNOWN 8

/* A response is never larger than this (420 with STUN_MAX_UNKNOWN, or a
 * success with an IPv6 address, and FINGERPRINT). */
#define STUN_MAX_RESPONSE 128

/* What a datagram is, as far as the server is concerned. */
enum stun_verdict {
	STUN_BINDING,   /* a Binding request: answer with stun_response() */
	STUN_UNKNOWN,   /* a Binding request with unknown comprehension-
	                   required attributes: answer (420) likewise */
	STUN_DROP,      /* anything else: malformed, no magic cookie, not a
	                   Binding request, a response, an indication, a bad
	                   FINGERPRINT; no answer (RFC 5389 7.3) */
};

struct stun_request {
	uint8_t tid[STUN_TID_LEN];      /* transaction id, echoed */
	int fingerprint;                /* it had a (valid) FINGERPRINT */
	uint16_t unknown[STUN_MAX_UNKNOWN];
	size_t nunknown;
};

/*
 * 1 when a datagram on a SIP port is STUN rather than SIP: its first byte
 * is 0 to 3 (RFC 7983; RFC 5626 4.4.2: a SIP message starts with a
 * letter). n 0 is not STUN.
 */
int stun_is_stun(const void *p, size_t n);

/* Parse one datagram (see enum stun_verdict); r is filled for BINDING
 * and UNKNOWN. */
enum stun_verdict stun_parse(const void *p, size_t n, struct stun_request *r);

/*
 * The response to r, which came from `from` (AF_INET or AF_INET6; a
 * v4-mapped IPv6 address is reported as IPv4): a Binding success with
 * XOR-MAPPED-ADDRESS, or for unknown attributes a 420 error with
 * UNKNOWN-ATTRIBUTES; FINGERPRINT last when the request had one.
 * Written to out (size outsz, STUN_MAX_RESPONSE is enough); its length,
 * or 0 when it does not fit or the address family is neither.
 */
size_t stun_response(const struct stun_request *r, const struct sockaddr *from,
    uint8_t *out, size_t outsz);

/* CRC-32 (ISO-HDLC, zlib's) of p[0..n), as FINGERPRINT uses it before
 * the XOR with 0x5354554e. */
uint32_t stun_crc32(const void *p, size_t n);

#endif /* STUN_H */
