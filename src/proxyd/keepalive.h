/*
 * keepalive.h - the RFC 5626 keep-alives an edge proxy answers (sections
 * 4.4 and 8.4), and their counts.
 *
 * - STUN Binding requests on the UDP listeners (here): srcguard.c takes
 *   the non-SIP datagrams of those sockets out before Sofia parses them,
 *   within the source's budget; each Binding request is answered with
 *   sendto() on the socket it came in on (common/stun.c builds the
 *   response), everything else STUN-like is dropped.
 * - CRLF pings on TCP: Sofia's own pong (TPTAG_PONG2PING, agent.c).
 *
 * Loop thread only.
 */
#ifndef KEEPALIVE_H
#define KEEPALIVE_H

#include <stdint.h>

struct keepalive_stats {
	uint64_t stun_answered;  /* Binding success responses sent */
	uint64_t stun_unknown;   /* 420 (unknown attribute) responses sent */
	uint64_t stun_dropped;   /* malformed or not a Binding request */
	uint64_t stun_send_failed; /* answered, but sendto() failed */
};

/* Answer STUN on the sockets srcguard watches (call after srcguard_init
 * and before the loop runs). */
void keepalive_start(void);

/* The counts so far. */
const struct keepalive_stats *keepalive_stats(void);

#endif /* KEEPALIVE_H */
