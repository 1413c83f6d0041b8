/* log.h - one log stream for the daemon: stderr or syslog, syslog levels. */
#ifndef LOG_H
#define LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <syslog.h>

#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))

enum log_target { LOG_TO_STDERR, LOG_TO_SYSLOG };

/* Starts logging to stderr at LOG_INFO; call before anything else logs. */
void log_init(const char *ident);
/* Switch target/level/facility; safe to call again on reload. */
void log_configure(enum log_target target, int level, int facility);
void log_set_level(int level);
int log_get_level(void);
/* SIP trace mode: only then may whole messages (with bodies) be logged. */
void log_set_trace(int on);
int log_trace_enabled(void);

void log_msg(int prio, const char *fmt, ...) LOG_PRINTF(2, 3);
void log_vmsg(int prio, const char *fmt, va_list ap) LOG_PRINTF(2, 0);
void log_warn(const char *fmt, ...) LOG_PRINTF(1, 2); /* appends strerror */
#define log_error(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warnx(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/*
 * Render untrusted bytes for a log line: printable ASCII kept, the rest as
 * \xNN. Always NUL-terminates dst (dstsz > 0); truncates silently.
 */
const char *log_safe(char *dst, size_t dstsz, const char *src, size_t len);

/* Name <-> syslog level ("error", "warning", "notice", "info", "debug"). */
int log_level_from_name(const char *name); /* -1 if unknown */
int log_facility_from_name(const char *name); /* -1 if unknown */

#endif /* LOG_H */
