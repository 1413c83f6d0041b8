/* streamlag.c - how long the stream connection a request came on has
 * been backed up (see streamlag.h). */
#include "proxyd/sofia/streamlag.h"

#include <string.h>

#include "common/winmax.h"

/* As hdrguard.c: descriptors from this number up are not followed. */
#define MAX_FD 65536

/* A connection read continuously while backed up is read on every pass
 * of the loop; a gap this long between two reads means it was not (or
 * the descriptor is another connection's by now). */
#define GAP_MS 1000

struct lag {
	uint64_t since;	/* backed up since (0: not) */
	uint64_t last;	/* its latest read */
};

static size_t full;
static struct lag lags[MAX_FD];	/* by descriptor; pages touched as used */
static struct winmax longest;	/* the gauge: any connection, ms */
/* The latest read's connection, or -1. Per thread: recvmsg() is
 * interposed for the whole process, and a worker's read (netlink, the
 * archive) must not touch the loop thread's. */
static _Thread_local int last_fd = -1;

void
streamlag_set_full(size_t bytes)
{
	full = bytes;
	if (full == 0) {
		memset(lags, 0, sizeof(lags));
		memset(&longest, 0, sizeof(longest));
		last_fd = -1;
	}
}

int
streamlag_on(void)
{
	return full != 0;
}

void
streamlag_read(int fd, size_t queued, uint64_t now)
{
	struct lag *l;

	if (full == 0 || fd < 0 || fd >= MAX_FD) {
		last_fd = -1;
		return;
	}
	l = &lags[fd];
	if (queued < full)
		l->since = 0;
	else if (l->since == 0 || now - l->last > GAP_MS)
		l->since = now;
	l->last = now;
	last_fd = fd;
	winmax_note(&longest, now, l->since != 0 ? now - l->since : 0);
}

void
streamlag_other(void)
{
	last_fd = -1;
}

/* Called for followed connections only, which the loop thread closes
 * (close() runs on every thread: hdrguard.c). */
void
streamlag_forget(int fd)
{
	if (fd >= 0 && fd < MAX_FD)
		lags[fd].since = 0;
	if (fd == last_fd)
		last_fd = -1;
}

uint64_t
streamlag_ms(uint64_t now)
{
	const struct lag *l;

	if (last_fd < 0)
		return 0;
	l = &lags[last_fd];
	return l->since != 0 && now > l->since ? now - l->since : 0;
}

uint64_t
streamlag_max_ms(uint64_t now)
{
	return winmax_get(&longest, now, 0);
}
