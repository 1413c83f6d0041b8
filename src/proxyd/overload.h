/*
 * overload.h - when the proxy is behind, which new requests to refuse
 * (RFC 6357 / RFC 7339 ideas: shed new work early and cheaply, so that the
 * work already admitted finishes); pure, no Sofia, unit-tested.
 *
 * Two signals. The queue delay: how long the datagram being handled
 * waited in the UDP socket's receive queue (srcguard.h). It rises as soon
 * as the loop falls behind, whatever the rate, and well before senders
 * retransmit (T1, 500 ms), which is what turns a backlog into a storm
 * (retransmissions queue behind the backlog and feed it). Between
 * delay_low and delay_high a growing share of new requests is refused
 * (by a credit counter, not at random: deterministic, and exact over a
 * run), at delay_high and above every one. And the requests in flight
 * (server transactions the core holds): at max_in_flight every new one is
 * refused, a bound on memory when next hops stop answering.
 *
 * The caller asks only for requests that would start new work (an
 * out-of-dialog request that matched no transaction), never for ACK,
 * CANCEL, in-dialog requests, retransmissions or responses: those finish
 * calls already admitted. An episode starts with the first refusal and
 * ends once OVERLOAD_QUIET_MS pass without one.
 */
#ifndef OVERLOAD_H
#define OVERLOAD_H

#include <stdint.h>

#define OVERLOAD_QUIET_MS 5000

struct overload_conf {
	int enabled;
	unsigned delay_low_ms;   /* a share of new requests refused from here */
	unsigned delay_high_ms;  /* every new request refused from here */
	unsigned max_in_flight;  /* 0: no bound */
};

enum overload_reason {
	OVERLOAD_ADMIT = 0,
	OVERLOAD_QUEUE_DELAY,
	OVERLOAD_IN_FLIGHT,
	OVERLOAD_NREASONS
};

struct overload {
	double credit;            /* shares of refusals owed */
	int active;               /* in an episode */
	uint64_t started_ms;      /* the episode's first refusal */
	uint64_t last_shed_ms;    /* its latest */
	uint64_t episode_shed;    /* refusals in this episode */
	uint64_t shed[OVERLOAD_NREASONS]; /* all refusals, by reason */
	uint64_t episodes;        /* episodes started */
};

/* A new request: admit it, or refuse it for the reason returned.
 * *started is set to 1 when this refusal starts an episode. */
enum overload_reason overload_check(struct overload *o,
    const struct overload_conf *c, uint32_t delay_us, uint64_t in_flight,
    uint64_t now_ms, int *started);

/* An active episode whose last refusal is OVERLOAD_QUIET_MS old ends:
 * returns 1 once (then active is 0), else 0. */
int overload_quiet(struct overload *o, uint64_t now_ms);

const char *overload_reason_name(enum overload_reason r);

#endif /* OVERLOAD_H */
