/*
 * sdnotify.h - telling systemd how the daemon is doing (Type=notify):
 * READY once the listeners, keys and threads are up, RELOADING/READY
 * around a reload, STOPPING at the end, and WATCHDOG=1 from the event
 * loop at half the unit's WatchdogSec, so a stuck loop gets restarted.
 * Built without libsystemd (configure --without-systemd), each call does
 * nothing, and sdnotify_start() says so when a service manager is
 * listening (NOTIFY_SOCKET set): Type=notify would wait in vain.
 */
#ifndef SDNOTIFY_H
#define SDNOTIFY_H

struct event_base;

/* Arms the watchdog timer when systemd asks for one. 0, or -1. */
int sdnotify_start(struct event_base *base);
void sdnotify_ready(void);
void sdnotify_reloading(void);
void sdnotify_stopping(void);
void sdnotify_free(void);

#endif /* SDNOTIFY_H */
