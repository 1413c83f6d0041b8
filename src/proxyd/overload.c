/* overload.c - which new requests to refuse when behind (overload.h). */
#include "proxyd/overload.h"

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
    uint32_t delay_us, uint64_t in_flight, uint64_t now_ms, int *started)
{
	enum overload_reason r = OVERLOAD_ADMIT;
	double p;

	*started = 0;
	if (!c->enabled)
		return OVERLOAD_ADMIT;
	if (c->max_in_flight > 0 && in_flight >= c->max_in_flight) {
		r = OVERLOAD_IN_FLIGHT;
	} else if ((p = share(c, delay_us)) <= 0) {
		o->credit = 0; /* caught up: nothing owed */
	} else {
		o->credit += p;
		if (o->credit >= 1) {
			o->credit -= 1;
			r = OVERLOAD_QUEUE_DELAY;
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
	o->credit = 0;
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
	default:
		return "none";
	}
}
