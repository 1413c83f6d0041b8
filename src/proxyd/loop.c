/*
 * loop.c - the "epoll-fd bridge": Sofia's default port on Linux keeps all
 * its sockets in one epoll fd. libevent watches that fd (level-triggered)
 * and a timer for Sofia's next su_timer; each wakeup runs a Sofia step,
 * and more while they keep receiving. No polling interval, so an idle
 * daemon sleeps.
 */
#include "proxyd/loop.h"

#include <dirent.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <sofia-sip/su.h>
#include <sofia-sip/su_wait.h>

#include "common/log.h"
#include "common/monoclock.h"
#include "crypto/tlsping.h"
#include "proxyd/overload.h"
#include "proxyd/sofia/recvhook.h"

#define MAX_EPFDS 64

/* Sofia steps per wakeup at most while each one receives: under load a
 * pass through libevent (a timerfd_settime() and an epoll_wait() on this
 * guest, where system calls are dear) per datagram would otherwise come
 * on top of Sofia's own epoll_wait(); bounded so that timers, signals and
 * crypto completions still get their turn. */
#define MAX_STEPS 32

struct loop {
	struct event_base *base;
	su_root_t *root;
	int epfd;
	struct event *ev_fd;
	struct event *ev_tmo;
	uint64_t armed_ms; /* deadline ev_tmo is armed for; 0: not armed */
	struct overload_busy busy; /* overload control's signal on TCP/TLS */
};

/* Reads that brought data: Sofia reads UDP and TCP with recvmsg(), TLS
 * with SSL_read(). */
static uint64_t
reads_now(void)
{
	return recvhook_reads() + tlsping_reads();
}

/* Collect the fds that are epoll instances; there is no Sofia getter. */
static size_t
epoll_fds(int *out, size_t max)
{
	DIR *d;
	struct dirent *de;
	char path[PATH_MAX], link[64];
	ssize_t n;
	size_t count = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && count < max) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (strstr(link, "eventpoll") != NULL)
			out[count++] = atoi(de->d_name);
	}
	closedir(d);
	return count;
}

static int
contains(const int *v, size_t n, int x)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] == x)
			return 1;
	return 0;
}

static void
bridge_cb(evutil_socket_t fd, short what, void *arg)
{
	struct loop *l = arg;
	su_duration_t t;
	struct timeval tv;
	uint64_t deadline, reads, now;
	int steps = 0;

	(void)fd;
	overload_busy_wake(&l->busy, monoclock_ms());
	/* su_root_step() returns 0 both after work and when a timer is under
	 * 1 ms away, so looping on it would spin: go on only while a step
	 * read something (then more is likely queued). */
	do {
		reads = reads_now();
		t = su_root_step(l->root, 0);
	} while (reads_now() != reads && ++steps < MAX_STEPS);
	now = monoclock_ms();
	/* a last step that read nothing found every socket drained */
	overload_busy_done(&l->busy, now, reads_now() == reads);
	if (t == SU_WAIT_FOREVER) {
		if (l->armed_ms != 0)
			event_del(l->ev_tmo);
		l->armed_ms = 0;
		return;
	}
	if (t <= 0)
		t = 1;
	/* Most steps leave Sofia's next timer where it was; re-arming costs
	 * a timerfd_settime() system call per message. */
	deadline = now + (uint64_t)t;
	if (what != EV_TIMEOUT && l->armed_ms == deadline)
		return;
	l->armed_ms = deadline;
	tv.tv_sec = t / 1000;
	tv.tv_usec = (t % 1000) * 1000;
	event_add(l->ev_tmo, &tv);
}

static int
attach_root(struct loop *l)
{
	int before[MAX_EPFDS], after[MAX_EPFDS];
	size_t nb, na, i;

	nb = epoll_fds(before, MAX_EPFDS);
	if ((l->root = su_root_create(NULL)) == NULL) {
		log_error("cannot create the Sofia event root");
		return -1;
	}
	na = epoll_fds(after, MAX_EPFDS);
	l->epfd = -1;
	for (i = 0; i < na; i++)
		if (!contains(before, nb, after[i]))
			l->epfd = after[i];
	if (l->epfd == -1) {
		log_error("cannot find the Sofia epoll descriptor "
		    "(is /proc mounted?)");
		return -1;
	}
	return 0;
}

struct loop *
loop_new(void)
{
	struct loop *l;
	struct event_config *cfg;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	/* Crypto workers (later) post completions with event_active(). */
	if (evthread_use_pthreads() != 0)
		goto fail;
	if ((cfg = event_config_new()) == NULL)
		goto fail;
	/* Coarse clocks make Sofia's SIP timers fire up to 4 ms late. */
	event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	l->base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	if (l->base == NULL)
		goto fail;
	if (su_init() != 0 || attach_root(l) == -1)
		goto fail;
	l->ev_fd = event_new(l->base, l->epfd, EV_READ | EV_PERSIST,
	    bridge_cb, l);
	l->ev_tmo = evtimer_new(l->base, bridge_cb, l);
	if (l->ev_fd == NULL || l->ev_tmo == NULL ||
	    event_add(l->ev_fd, NULL) != 0)
		goto fail;
	return l;
fail:
	log_error("cannot set up the event loop");
	loop_free(l);
	return NULL;
}

void
loop_free(struct loop *l)
{
	if (l == NULL)
		return;
	if (l->ev_fd != NULL)
		event_free(l->ev_fd);
	if (l->ev_tmo != NULL)
		event_free(l->ev_tmo);
	if (l->root != NULL) {
		su_root_destroy(l->root);
		su_deinit();
	}
	if (l->base != NULL)
		event_base_free(l->base);
	free(l);
}

struct event_base *
loop_base(const struct loop *l)
{
	return l->base;
}

struct su_root_s *
loop_root(const struct loop *l)
{
	return l->root;
}

/* The calling thread's CPU time: loop_busy_ms() is asked on the loop
 * thread, while it handles a request. */
static uint64_t
thread_cpu_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t
loop_busy_ms(struct loop *l, uint64_t cap_ms)
{
	return overload_busy_ms(&l->busy, monoclock_ms(), cap_ms,
	    thread_cpu_us);
}

uint64_t
loop_busy_max_ms(const struct loop *l)
{
	return overload_busy_max_ms(&l->busy, monoclock_ms());
}

void
loop_kick(struct loop *l)
{
	event_active(l->ev_tmo, EV_TIMEOUT, 0);
}

int
loop_run(struct loop *l)
{
	/* Sofia may have armed timers while the agent was created. */
	loop_kick(l);
	return event_base_dispatch(l->base) == -1 ? -1 : 0;
}

void
loop_break(struct loop *l)
{
	event_base_loopbreak(l->base);
}
