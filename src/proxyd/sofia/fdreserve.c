/* fdreserve.c - connections closed at accept when descriptors run out
 * (see fdreserve.h). */
#include "proxyd/sofia/fdreserve.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/monoclock.h"
#include "common/nextsym.h"

/* Accepted and closed per failed accept(): the loop comes back for more
 * while the listener stays readable, after serving the others. */
#define SHED_BATCH 64
/* At most one log line this often while it lasts. */
#define LOG_EVERY_MS 10000

typedef int accept4_fn(int, struct sockaddr *, socklen_t *, int);

static int reserve = -1;
static uint64_t shed_total, logged_total, last_log;

int
fdreserve_init(void)
{
	if (reserve < 0)
		reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return reserve < 0 ? -1 : 0;
}

void
fdreserve_reset(void)
{
	if (reserve >= 0)
		close(reserve);
	reserve = -1;
}

/* libc's accept4(), not the one interposed in streamguard.c. */
static accept4_fn *
real_accept4(void)
{
	static nextsym_cache fn;

	return (accept4_fn *)nextsym(&fn, "accept4");
}

static void
report(void)
{
	uint64_t now = monoclock_coarse_ms();

	if (shed_total == logged_total || (last_log != 0 &&
	    now - last_log < LOG_EVERY_MS))
		return;
	log_warnx("out of file descriptors: %llu incoming connections "
	    "closed at once since the last report (raise LimitNOFILE, or "
	    "see who holds so many)",
	    (unsigned long long)(shed_total - logged_total));
	logged_total = shed_total;
	last_log = now;
}

void
fdreserve_shed(int listen_fd)
{
	accept4_fn *acc = real_accept4();
	int saved = errno, c, i;

	if (reserve < 0 || acc == NULL)
		return;
	close(reserve);
	reserve = -1;
	for (i = 0; i < SHED_BATCH; i++) {
		c = acc(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (c < 0)
			break;
		close(c);
		shed_total++;
	}
	/* The descriptor just given up is free again; a copy of the listener
	 * holds it as well as any (no file to open: chroot, permissions). */
	reserve = fcntl(listen_fd, F_DUPFD_CLOEXEC, 0);
	report();
	errno = saved;
}

uint64_t
fdreserve_shed_total(void)
{
	return shed_total;
}
