/* test_overload.c - which new requests are refused when behind. */
#include <stdint.h>
#include <string.h>

#include "proxyd/overload.h"
#include "t.h"

static const struct overload_conf C = { 1, 50, 150, 100 };

/* n requests at this delay and in-flight count: how many refused. */
static int
refused(struct overload *o, const struct overload_conf *c, uint32_t us,
    uint64_t inflight, int n, uint64_t now)
{
	int i, k = 0, started;

	for (i = 0; i < n; i++)
		k += overload_check(o, c, us, inflight, now, &started) !=
		    OVERLOAD_ADMIT;
	return k;
}

int
main(void)
{
	struct overload o;
	struct overload_conf off = C;
	int started;

	memset(&o, 0, sizeof(o));
	T_EQ_INT(refused(&o, &C, 0, 0, 1000, 0), 0, "no delay: all admitted");
	T_EQ_INT(refused(&o, &C, 49999, 99, 1000, 0), 0,
	    "just under both limits: all admitted");
	T_OK(!o.active && o.episodes == 0, "no episode");
	T_EQ_INT(refused(&o, &C, 100000, 0, 1000, 10), 500,
	    "half way between low and high: exactly half refused");
	T_OK(o.active && o.episodes == 1, "one episode");
	T_EQ_INT(o.shed[OVERLOAD_QUEUE_DELAY], 500, "counted by reason");
	T_EQ_INT(refused(&o, &C, 75000, 0, 1000, 20), 250, "a quarter way: 1 in 4");
	T_EQ_INT(refused(&o, &C, 150000, 0, 100, 30), 100, "at high: all");
	T_EQ_INT(refused(&o, &C, 2000000, 0, 100, 30), 100, "far above: all");
	T_EQ_INT(refused(&o, &C, 0, 0, 100, 40), 0,
	    "caught up: all admitted again");
	T_EQ_INT(overload_check(&o, &C, 51000, 0, 40, &started), OVERLOAD_ADMIT,
	    "the credit was reset on catching up: a tiny share owes nothing yet");
	T_EQ_INT(overload_check(&o, &C, 0, 100, 50, &started),
	    OVERLOAD_IN_FLIGHT, "at max_in_flight: refused");
	T_OK(!started, "same episode");
	T_EQ_INT(o.shed[OVERLOAD_IN_FLIGHT], 1, "in-flight refusals counted");
	T_OK(!overload_quiet(&o, 50 + OVERLOAD_QUIET_MS - 1),
	    "not quiet before a second without refusals");
	T_OK(overload_quiet(&o, 50 + OVERLOAD_QUIET_MS), "quiet after it");
	T_OK(!o.active && !overload_quiet(&o, 5000), "ended once");
	T_EQ_INT(overload_check(&o, &C, 0, 1000, 6000, &started),
	    OVERLOAD_IN_FLIGHT, "refused again");
	T_OK(started && o.episodes == 2 && o.episode_shed == 1,
	    "a new episode starts");
	off.enabled = 0;
	T_EQ_INT(refused(&o, &off, 2000000, 1000, 100, 7000), 0,
	    "disabled: all admitted");
	off = C;
	off.max_in_flight = 0;
	T_EQ_INT(refused(&o, &off, 0, 1000000, 100, 7000), 0,
	    "max_in_flight 0: no bound");
	T_OK(strcmp(overload_reason_name(OVERLOAD_QUEUE_DELAY),
	    "queue_delay") == 0 && strcmp(overload_reason_name(
	    OVERLOAD_IN_FLIGHT), "in_flight") == 0, "reason names");
	return t_done();
}
