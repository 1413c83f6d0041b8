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
		k += overload_check(o, c, us, OVERLOAD_QUEUE_DELAY, inflight,
		    now, &started) !=
		    OVERLOAD_ADMIT;
	return k;
}

/* The loop thread's CPU time, as the test sets it. */
static uint64_t fake_cpu_us;
static int cpu_reads;

static uint64_t
fake_cpu(void)
{
	cpu_reads++;
	return fake_cpu_us;
}

/* The stretch with a cap no test reaches: wall time only. */
static uint64_t
busy_wall(struct overload_busy *b, uint64_t now)
{
	return overload_busy_ms(b, now, 1000000, fake_cpu);
}

/* Past the cap: a scheduling pause counts at most the cap, the CPU time
 * the loop spends from there counts in full. */
static void
test_busy_cpu(void)
{
	struct overload_busy b;

	memset(&b, 0, sizeof(b));
	cpu_reads = 0;
	fake_cpu_us = 7000000;
	overload_busy_wake(&b, 1000);
	T_EQ_INT(overload_busy_ms(&b, 1030, 50, fake_cpu), 30,
	    "under the cap: wall time");
	T_EQ_INT(cpu_reads, 0, "and no CPU clock read (a proxy that keeps up)");
	/* descheduled for 400 ms in the middle of the wakeup */
	T_EQ_INT(overload_busy_ms(&b, 1430, 50, fake_cpu), 50,
	    "a 400 ms pause counts as the cap, 50, not 430");
	T_EQ_INT(cpu_reads, 1, "the CPU clock is read once past the cap");
	fake_cpu_us += 10000;
	T_EQ_INT(overload_busy_ms(&b, 1900, 50, fake_cpu), 60,
	    "then CPU time: 10 ms of work in 470 ms of wall time -> 60");
	overload_busy_done(&b, 1900, 0);
	overload_busy_wake(&b, 1901);
	fake_cpu_us += 90000;
	T_EQ_INT(overload_busy_ms(&b, 1995, 50, fake_cpu), 150,
	    "a backlog keeps the loop on the CPU: 50 + 100 ms of work");
	overload_busy_done(&b, 1995, 1);
	T_EQ_INT(overload_busy_ms(&b, 1995, 50, fake_cpu), 0, "caught up");
	T_EQ_INT(overload_busy_max_ms(&b, 1996), 995,
	    "the gauge is the longest stretch in wall time");
	overload_busy_wake(&b, 3000);
	fake_cpu_us += 500000;
	T_EQ_INT(overload_busy_ms(&b, 3040, 50, fake_cpu), 40,
	    "a new stretch starts in wall time again");
}

/* The loop's busy stretch. */
static void
test_busy(void)
{
	struct overload_busy b;

	memset(&b, 0, sizeof(b));
	T_EQ_INT(busy_wall(&b, 5000), 0, "idle: no stretch");
	overload_busy_wake(&b, 5000);
	T_EQ_INT(busy_wall(&b, 5003), 3, "a wakeup: 3 ms in");
	overload_busy_done(&b, 5004, 1);
	T_EQ_INT(busy_wall(&b, 9000), 0,
	    "caught up: idle time is not a stretch");
	overload_busy_wake(&b, 9000);
	overload_busy_done(&b, 9040, 0);
	overload_busy_wake(&b, 9041);
	T_EQ_INT(busy_wall(&b, 9150), 150,
	    "not caught up: the stretch goes on through the next wakeup");
	overload_busy_done(&b, 9150, 0);
	overload_busy_wake(&b, 9150);
	overload_busy_done(&b, 9300, 1);
	T_EQ_INT(busy_wall(&b, 9300), 0, "caught up again");
	T_EQ_INT(overload_busy_max_ms(&b, 9500), 300,
	    "the longest stretch of the last second");
	overload_busy_wake(&b, 9500);
	overload_busy_done(&b, 9501, 1);
	T_EQ_INT(overload_busy_max_ms(&b, 10400), 300, "kept a full second");
	overload_busy_wake(&b, 12000);
	overload_busy_done(&b, 12001, 1);
	T_EQ_INT(overload_busy_max_ms(&b, 12500), 1, "forgotten after two");
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
	T_EQ_INT(overload_check(&o, &C, 51000, OVERLOAD_QUEUE_DELAY, 0, 40,
	    &started), OVERLOAD_ADMIT,
	    "the credit was reset on catching up: a tiny share owes nothing yet");
	T_EQ_INT(overload_check(&o, &C, 0, OVERLOAD_QUEUE_DELAY, 100, 50,
	    &started),
	    OVERLOAD_IN_FLIGHT, "at max_in_flight: refused");
	T_OK(!started, "same episode");
	T_EQ_INT(o.shed[OVERLOAD_IN_FLIGHT], 1, "in-flight refusals counted");
	T_OK(!overload_quiet(&o, 50 + OVERLOAD_QUIET_MS - 1),
	    "not quiet before a second without refusals");
	T_OK(overload_quiet(&o, 50 + OVERLOAD_QUIET_MS), "quiet after it");
	T_OK(!o.active && !overload_quiet(&o, 5000), "ended once");
	T_EQ_INT(overload_check(&o, &C, 0, OVERLOAD_QUEUE_DELAY, 1000, 6000,
	    &started),
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
	    OVERLOAD_IN_FLIGHT), "in_flight") == 0 && strcmp(
	    overload_reason_name(OVERLOAD_LOOP_BUSY), "loop_busy") == 0,
	    "reason names");

	/* A TCP or TLS request: the loop's busy stretch, its own reason. */
	memset(&o, 0, sizeof(o));
	T_EQ_INT(overload_check(&o, &C, 100000, OVERLOAD_LOOP_BUSY, 0, 10,
	    &started), OVERLOAD_ADMIT, "a share owes less than one yet");
	T_EQ_INT(overload_check(&o, &C, 100000, OVERLOAD_LOOP_BUSY, 0, 10,
	    &started), OVERLOAD_LOOP_BUSY, "then refused, for the loop");
	T_EQ_INT(o.shed[OVERLOAD_LOOP_BUSY], 1, "counted as loop_busy");
	T_EQ_INT(o.shed[OVERLOAD_QUEUE_DELAY], 0, "not as queue_delay");
	T_EQ_INT(overload_check(&o, &C, 1000000, OVERLOAD_LOOP_BUSY, 100, 10,
	    &started), OVERLOAD_IN_FLIGHT, "the in-flight bound comes first");

	/* A backed-up TCP connection's requests between UDP ones that
	 * waited nothing: each signal owes its own share. */
	memset(&o, 0, sizeof(o));
	{
		int i, k = 0, u = 0;

		for (i = 0; i < 100; i++) {
			k += overload_check(&o, &C, 100000,
			    OVERLOAD_STREAM_BACKLOG, 0, 10, &started) ==
			    OVERLOAD_STREAM_BACKLOG;
			u += overload_check(&o, &C, 0, OVERLOAD_QUEUE_DELAY,
			    0, 10, &started) != OVERLOAD_ADMIT;
		}
		T_EQ_INT(k, 50, "half the backed-up connection's requests "
		    "refused, UDP requests that waited nothing between them");
		T_EQ_INT(u, 0, "and no UDP one");
	}
	T_OK(strcmp(overload_reason_name(OVERLOAD_STREAM_BACKLOG),
	    "stream_backlog") == 0, "stream_backlog's name");

	test_busy();
	test_busy_cpu();
	return t_done();
}
