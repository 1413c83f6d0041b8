/*
 * monoclock.h - milliseconds on the monotonic clock, for timers, rate
 * budgets and transaction lifetimes (never for what a person reads).
 */
#ifndef MONOCLOCK_H
#define MONOCLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t
monoclock_ms_of(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static inline uint64_t
monoclock_ms(void)
{
	return monoclock_ms_of(CLOCK_MONOTONIC);
}

/* A few ms coarse, but no vDSO clock read: for a check per datagram. */
static inline uint64_t
monoclock_coarse_ms(void)
{
	return monoclock_ms_of(CLOCK_MONOTONIC_COARSE);
}

#endif
