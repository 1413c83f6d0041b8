/* log.h - one log stream for the daemon: stderr or syslog, syslog levels. */
#ifndef LOG_H
#define LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <syslog.h>

#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))

enum log_target { LOG_TO_STDERR, LOG_TO_SYSLOG };
/* A line of text, or a JSON object per line (for log shippers). */
enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

/* Starts logging to stderr at LOG_INFO; call before anything else logs. */
void log_init(const char *ident);
/* Switch target/level/facility; safe to call again on reload. */
void log_configure(enum log_target target, int level, int facility);
/* The syslog ident and the line format; safe to call again. ident is
 * copied. */
void log_set_ident(const char *ident);
void log_set_format(enum log_format format);
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
 * The request a line is about. Every line about a request carries these,
 * so that an operator can follow one request (or one caller) by grep:
 * text lines end "(METHOD CSEQ, call-id ID, TRANSPORT ADDRESS:PORT)",
 * JSON lines have them as fields. Strings may come from the network:
 * they are rendered safely. NULL or 0 fields are left out.
 */
struct log_req {
	unsigned long long tx;  /* the proxy's transaction number; 0: none */
	const char *method;
	unsigned long cseq;
	const char *call_id;
	const char *transport;  /* "udp", "tcp", "tls" */
	const char *address;    /* the source, numeric */
	unsigned port;
};
void log_req(int prio, const struct log_req *r, const char *fmt, ...)
    LOG_PRINTF(3, 4);
void log_vreq(int prio, const struct log_req *r, const char *fmt,
    va_list ap) LOG_PRINTF(3, 0);

/*
 * Render untrusted bytes for a log line: printable ASCII kept, the rest as
 * \xNN. Always NUL-terminates dst (dstsz > 0); truncates silently.
 */
const char *log_safe(char *dst, size_t dstsz, const char *src, size_t len);

/* Name <-> syslog level ("error", "warning", "notice", "info", "debug"). */
int log_level_from_name(const char *name); /* -1 if unknown */
int log_facility_from_name(const char *name); /* -1 if unknown */

#endif /* LOG_H */
