/* overload.c - which new requests to refuse when behind (overload.h). */
#include "proxyd/overload.h"

#include <string.h>

/* The share of new requests to refuse at this delay: 0 below low, 1 at
 * high and above, in proportion between. */
static double
share(const struct overload_conf *c, uint32_t delay_us)
{
	double low = c->delay_low_ms * 1000.0, high = c->delay_high_ms * 1000.0;

	if (delay_us >= high)
		return 1;
	if (delay_us < low || high <= low)
		return 0;
	return (delay_us - low) / (high - low);
}

enum overload_reason
overload_check(struct overload *o, const struct overload_conf *c,
    uint32_t delay_us, enum overload_reason kind, uint64_t in_flight,
    uint64_t now_ms, int *started)
{
	enum overload_reason r = OVERLOAD_ADMIT;
	double p;

	*started = 0;
	if (!c->enabled)
		return OVERLOAD_ADMIT;
	if (c->max_in_flight > 0 && in_flight >= c->max_in_flight) {
		r = OVERLOAD_IN_FLIGHT;
	} else if ((p = share(c, delay_us)) <= 0) {
		o->credit[kind] = 0; /* caught up: nothing owed */
	} else {
		o->credit[kind] += p;
		if (o->credit[kind] >= 1) {
			o->credit[kind] -= 1;
			r = kind; /* the signal that made the delay */
		}
	}
	if (r == OVERLOAD_ADMIT)
		return r;
	if (!o->active) {
		o->active = 1;
		o->started_ms = now_ms;
		o->episode_shed = 0;
		o->episodes++;
		*started = 1;
	}
	o->last_shed_ms = now_ms;
	o->episode_shed++;
	o->shed[r]++;
	return r;
}

int
overload_quiet(struct overload *o, uint64_t now_ms)
{
	if (!o->active || now_ms - o->last_shed_ms < OVERLOAD_QUIET_MS)
		return 0;
	o->active = 0;
	memset(o->credit, 0, sizeof(o->credit));
	return 1;
}

const char *
overload_reason_name(enum overload_reason r)
{
	switch (r) {
	case OVERLOAD_QUEUE_DELAY:
		return "queue_delay";
	case OVERLOAD_IN_FLIGHT:
		return "in_flight";
	case OVERLOAD_LOOP_BUSY:
		return "loop_busy";
	case OVERLOAD_STREAM_BACKLOG:
		return "stream_backlog";
	default:
		return "none";
	}
}

void
overload_busy_wake(struct overload_busy *b, uint64_t now_ms)
{
	if (!b->busy) {
		b->busy = 1;
		b->since_ms = now_ms;
		b->on_cpu = 0;
	}
}

/* The stretch in wall time, the gauge's measure. */
static uint64_t
wall_ms(const struct overload_busy *b, uint64_t now_ms)
{
	return b->busy && now_ms > b->since_ms ? now_ms - b->since_ms : 0;
}

void
overload_busy_done(struct overload_busy *b, uint64_t now_ms, int caught_up)
{
	winmax_note(&b->longest, now_ms, wall_ms(b, now_ms));
	if (caught_up)
		b->busy = 0;
}

uint64_t
overload_busy_ms(struct overload_busy *b, uint64_t now_ms, uint64_t cap_ms,
    overload_cpu_fn *cpu_us)
{
	uint64_t wall = wall_ms(b, now_ms), cpu;

	if (!b->busy)
		return 0;
	if (!b->on_cpu) {
		if (wall < cap_ms)
			return wall;
		/* past the cap: whatever wall time went by counts as the
		 * cap, CPU time from here on */
		b->on_cpu = 1;
		b->cpu_mark_us = cpu_us();
		return cap_ms;
	}
	cpu = cpu_us();
	return cap_ms + (cpu > b->cpu_mark_us ?
	    (cpu - b->cpu_mark_us) / 1000 : 0);
}

uint64_t
overload_busy_max_ms(const struct overload_busy *b, uint64_t now_ms)
{
	return winmax_get(&b->longest, now_ms, wall_ms(b, now_ms));
}
