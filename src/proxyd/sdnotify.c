/* sdnotify.c - sd_notify() readiness and watchdog (sdnotify.h). */
#include "config.h"
#include "proxyd/sdnotify.h"

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <event2/event.h>

#include "common/log.h"

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>

static struct event *watchdog;

static void
ping(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	(void)sd_notify(0, "WATCHDOG=1");
}

int
sdnotify_start(struct event_base *base)
{
	uint64_t usec = 0;
	struct timeval tv;

	if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
		return 0;
	/* Twice per interval: one late ping is not a restart. */
	usec /= 2;
	tv.tv_sec = (time_t)(usec / 1000000);
	tv.tv_usec = (suseconds_t)(usec % 1000000);
	watchdog = event_new(base, -1, EV_PERSIST, ping, NULL);
	if (watchdog == NULL || event_add(watchdog, &tv) != 0) {
		log_error("cannot arm the systemd watchdog timer");
		return -1;
	}
	log_info("systemd watchdog: a ping every %llu ms",
	    (unsigned long long)(usec / 1000));
	return 0;
}

void
sdnotify_ready(void)
{
	(void)sd_notify(0, "READY=1\nSTATUS=serving");
}

/* MONOTONIC_USEC: what systemd 253's Type=notify-reload asks for with
 * RELOADING=1; older ones ignore it. */
void
sdnotify_reloading(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	(void)sd_notifyf(0, "RELOADING=1\nSTATUS=reloading\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000);
}

void
sdnotify_stopping(void)
{
	(void)sd_notify(0, "STOPPING=1\nSTATUS=stopping");
}

void
sdnotify_free(void)
{
	if (watchdog != NULL)
		event_free(watchdog);
	watchdog = NULL;
}

#else /* !HAVE_SYSTEMD */

int
sdnotify_start(struct event_base *base)
{
	(void)base;
	if (getenv("NOTIFY_SOCKET") != NULL)
		log_warnx("NOTIFY_SOCKET is set, but this e2mproxyd was built "
		    "without libsystemd: systemd will not hear that it is "
		    "ready (use Type=exec, or rebuild --with-systemd)");
	return 0;
}

void sdnotify_ready(void) {}
void sdnotify_reloading(void) {}
void sdnotify_stopping(void) {}
void sdnotify_free(void) {}

#endif
