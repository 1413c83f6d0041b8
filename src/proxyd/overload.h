/*
 * overload.h - when the proxy is behind, which new requests to refuse
 * (RFC 6357 / RFC 7339 ideas: shed new work early and cheaply, so that the
 * work already admitted finishes); pure, no Sofia, unit-tested.
 *
 * Three signals. The queue delay: how long the datagram being handled
 * waited in the UDP socket's receive queue (srcguard.h). It rises as soon
 * as the loop falls behind, whatever the rate, and well before senders
 * retransmit (T1, 500 ms), which is what turns a backlog into a storm
 * (retransmissions queue behind the backlog and feed it). Between
 * delay_low and delay_high a growing share of new requests is refused
 * (by a credit counter, not at random: deterministic, and exact over a
 * run), at delay_high and above every one. A request that came over
 * TCP or TLS has no such stamp (its bytes wait in the sender's socket
 * once our small receive buffer is full, where we cannot see them): it is
 * judged by how long its connection has been backed up (streamlag.h),
 * or by how long the loop has gone without catching up with its input
 * (struct overload_busy below), against the same thresholds. And
 * the requests in flight
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

#include "common/winmax.h"

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
	OVERLOAD_LOOP_BUSY,
	OVERLOAD_STREAM_BACKLOG,
	OVERLOAD_NREASONS
};

struct overload {
	/* shares of refusals owed, by signal: a UDP request that waited
	 * nothing must not wipe out what a backed-up TCP connection owes */
	double credit[OVERLOAD_NREASONS];
	int active;               /* in an episode */
	uint64_t started_ms;      /* the episode's first refusal */
	uint64_t last_shed_ms;    /* its latest */
	uint64_t episode_shed;    /* refusals in this episode */
	uint64_t shed[OVERLOAD_NREASONS]; /* all refusals, by reason */
	uint64_t episodes;        /* episodes started */
};

/* A new request: admit it, or refuse it for the reason returned.
 * delay_us is the signal that applies to it: the queue delay (kind
 * OVERLOAD_QUEUE_DELAY) or the loop's busy stretch (OVERLOAD_LOOP_BUSY),
 * the reason returned when it makes the refusal.
 * *started is set to 1 when this refusal starts an episode. */
enum overload_reason overload_check(struct overload *o,
    const struct overload_conf *c, uint32_t delay_us,
    enum overload_reason kind, uint64_t in_flight, uint64_t now_ms,
    int *started);

/*
 * The loop's busy stretch: how long the event loop has gone without
 * catching up with its input. A wakeup that ends with a pass that found
 * nothing to read has caught up (every socket drained at that moment);
 * one that ends because it did its bounded number of passes, all reading,
 * has not, and the stretch goes on through the next wakeup. A proxy that
 * keeps up catches up every few milliseconds; a stretch of 100 ms means
 * input has been waiting, somewhere, for that long without a break: in
 * our socket buffers, or, on TCP and TLS once those are full, in the
 * sender's. Whatever the rate and the cost of a message.
 *
 * Wall time up to a cap, the loop thread's CPU time beyond it: a host
 * that deschedules the proxy in the middle of a wakeup (a busy shared
 * host, a sanitizer build) stretched a wall-time measure without any
 * backlog (validation run 19: TCP requests shed at 50 calls/s), while a
 * backlog keeps the loop working, on the CPU. With the cap at half the
 * low threshold a pause alone never reaches it. The thread's CPU clock
 * is a system call (1.7 us on the development guest), so it is read only
 * once a stretch has passed the cap, never by a proxy that keeps up.
 */
struct overload_busy {
	int busy;             /* not caught up since since_ms */
	uint64_t since_ms;
	int on_cpu;           /* past the cap: counting CPU time from cpu_mark */
	uint64_t cpu_mark_us;
	struct winmax longest; /* the gauge: stretches in wall time, ms */
};

/* The loop thread's CPU time, microseconds (a parameter: kept pure). */
typedef uint64_t overload_cpu_fn(void);

/* A wakeup of the loop starts (a stretch starts unless one goes on). */
void overload_busy_wake(struct overload_busy *b, uint64_t now_ms);
/* It ends; caught_up: its last pass read nothing. */
void overload_busy_done(struct overload_busy *b, uint64_t now_ms,
    int caught_up);
/* The current stretch as the signal, ms (0 when caught up): its wall
 * time up to cap_ms, then cap_ms plus the CPU time spent since. */
uint64_t overload_busy_ms(struct overload_busy *b, uint64_t now_ms,
    uint64_t cap_ms, overload_cpu_fn *cpu_us);
/* The longest stretch over the last full second and this one, ms of
 * wall time (the gauge). */
uint64_t overload_busy_max_ms(const struct overload_busy *b,
    uint64_t now_ms);

/* An active episode whose last refusal is OVERLOAD_QUIET_MS old ends:
 * returns 1 once (then active is 0), else 0. */
int overload_quiet(struct overload *o, uint64_t now_ms);

const char *overload_reason_name(enum overload_reason r);

#endif /* OVERLOAD_H */
