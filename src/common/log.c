/* log.c - one log stream: stderr (foreground, tests) or syslog. */
#include "common/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static struct {
	const char *ident;
	enum log_target target;
	int level;
	int facility;
	int trace;
	int syslog_open;
} lg = { "e2mproxyd", LOG_TO_STDERR, LOG_INFO, LOG_DAEMON, 0, 0 };

static const char *const level_names[] = {
	[LOG_EMERG] = "emerg", [LOG_ALERT] = "alert", [LOG_CRIT] = "crit",
	[LOG_ERR] = "error", [LOG_WARNING] = "warning",
	[LOG_NOTICE] = "notice", [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

void
log_init(const char *ident)
{
	lg.ident = ident;
	lg.target = LOG_TO_STDERR;
	lg.level = LOG_INFO;
}

void
log_configure(enum log_target target, int level, int facility)
{
	if (lg.syslog_open && (target != LOG_TO_SYSLOG ||
	    facility != lg.facility)) {
		closelog();
		lg.syslog_open = 0;
	}
	lg.target = target;
	lg.level = level;
	lg.facility = facility;
	if (target == LOG_TO_SYSLOG && !lg.syslog_open) {
		openlog(lg.ident, LOG_PID | LOG_NDELAY, facility);
		lg.syslog_open = 1;
	}
}

void
log_set_level(int level)
{
	lg.level = level;
}

int
log_get_level(void)
{
	return lg.level;
}

void
log_set_trace(int on)
{
	lg.trace = on;
}

int
log_trace_enabled(void)
{
	return lg.trace;
}

void
log_vmsg(int prio, const char *fmt, va_list ap)
{
	char line[8192];
	struct timespec ts;
	struct tm tm;

	if (prio > lg.level)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (lg.target == LOG_TO_SYSLOG) {
		syslog(prio, "%s", line);
		return;
	}
	/* Millisecond stamps make SIP timing visible when reading test logs. */
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	fprintf(stderr, "%02d:%02d:%02d.%03ld %s: %s: %s\n", tm.tm_hour,
	    tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, lg.ident,
	    level_names[prio & LOG_PRIMASK], line);
}

void
log_msg(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(prio, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_msg(LOG_WARNING, "%s: %s", buf, strerror(saved));
}

const char *
log_safe(char *dst, size_t dstsz, const char *src, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;
	unsigned char c;

	if (dstsz == 0)
		return "";
	for (i = 0; i < len && o + 4 < dstsz; i++) {
		c = (unsigned char)src[i];
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			dst[o++] = (char)c;
			continue;
		}
		dst[o++] = '\\';
		dst[o++] = 'x';
		dst[o++] = hex[c >> 4];
		dst[o++] = hex[c & 0xf];
	}
	dst[o] = '\0';
	return dst;
}

int
log_level_from_name(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (level_names[i] != NULL && strcmp(level_names[i], name) == 0)
			return (int)i;
	return -1;
}

int
log_facility_from_name(const char *name)
{
	static const struct {
		const char *name;
		int value;
	} fac[] = {
		{ "daemon", LOG_DAEMON }, { "user", LOG_USER },
		{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
		{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
		{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
		{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
	};
	size_t i;

	for (i = 0; i < sizeof(fac) / sizeof(fac[0]); i++)
		if (strcmp(fac[i].name, name) == 0)
			return fac[i].value;
	return -1;
}
