/* log.c - one log stream: stderr (foreground, tests) or syslog, as text
 * lines or JSON objects. */
#include "common/log.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define LINE_MAX_BYTES 8192

static struct {
	char ident[64];     /* openlog() keeps the pointer: never freed */
	enum log_target target;
	enum log_format format;
	int level;
	int facility;
	int trace;
	int syslog_open;
	int journal;        /* stderr is systemd's journal stream */
} lg = { "e2mproxyd", LOG_TO_STDERR, LOG_FORMAT_TEXT, LOG_INFO, LOG_DAEMON,
	0, 0, 0 };

/*
 * systemd connects stderr to the journal and says so in JOURNAL_STREAM
 * ("device:inode" of that stream). Then each line starts "<N>", the
 * syslog priority the journal files it under, and carries no time or
 * ident of ours: the journal adds its own.
 */
static int
stderr_is_journal(void)
{
	const char *v = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	return v != NULL && sscanf(v, "%llu:%llu", &dev, &ino) == 2 &&
	    fstat(2, &st) == 0 && (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

static const char *const level_names[] = {
	[LOG_EMERG] = "emerg", [LOG_ALERT] = "alert", [LOG_CRIT] = "crit",
	[LOG_ERR] = "error", [LOG_WARNING] = "warning",
	[LOG_NOTICE] = "notice", [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

void
log_init(const char *ident)
{
	snprintf(lg.ident, sizeof(lg.ident), "%s", ident);
	lg.target = LOG_TO_STDERR;
	lg.format = LOG_FORMAT_TEXT;
	lg.level = LOG_INFO;
}

void
log_set_ident(const char *ident)
{
	if (strcmp(ident, lg.ident) == 0)
		return;
	/* openlog() keeps the pointer it was given: close around the copy. */
	if (lg.syslog_open)
		closelog();
	snprintf(lg.ident, sizeof(lg.ident), "%s", ident);
	if (lg.syslog_open)
		openlog(lg.ident, LOG_PID | LOG_NDELAY, lg.facility);
}

void
log_set_format(enum log_format format)
{
	lg.format = format;
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
	lg.journal = target == LOG_TO_STDERR && stderr_is_journal();
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

/* Appends to a line, truncating at its end. */
struct line {
	char b[LINE_MAX_BYTES];
	size_t n;
};

static void
put(struct line *l, const char *fmt, ...) LOG_PRINTF(2, 3);

static void
put(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (l->n >= sizeof(l->b) - 1)
		return;
	va_start(ap, fmt);
	k = vsnprintf(l->b + l->n, sizeof(l->b) - l->n, fmt, ap);
	va_end(ap);
	if (k > 0)
		l->n += (size_t)k < sizeof(l->b) - l->n ? (size_t)k :
		    sizeof(l->b) - l->n - 1;
}

/* s as a JSON string: quotes, backslashes, control and non-ASCII bytes
 * escaped (a byte >= 0x80 becomes \u00XX: valid JSON whatever came). */
static void
put_json(struct line *l, const char *s)
{
	unsigned char c;

	put(l, "\"");
	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			put(l, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			put(l, "\\u%04x", c);
		else
			put(l, "%c", c);
	}
	put(l, "\"");
}

static void
put_time(struct line *l)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (lg.format == LOG_FORMAT_JSON) {
		gmtime_r(&ts.tv_sec, &tm);
		put(l, "\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
		return;
	}
	/* Millisecond stamps make SIP timing visible in test logs. */
	localtime_r(&ts.tv_sec, &tm);
	put(l, "%02d:%02d:%02d.%03ld %s: ", tm.tm_hour, tm.tm_min, tm.tm_sec,
	    ts.tv_nsec / 1000000, lg.ident);
}

static const char *
level_name(int prio)
{
	const char *n = level_names[prio & LOG_PRIMASK];

	return n != NULL ? n : "?";
}

/* The request's fields, text: " (INVITE 1, call-id X, udp 192.0.2.1:5060)". */
static void
put_req_text(struct line *l, const struct log_req *r)
{
	char safe[256];

	put(l, " (%s %lu", r->method != NULL ? log_safe(safe, sizeof(safe),
	    r->method, strlen(r->method)) : "?", r->cseq);
	if (r->call_id != NULL)
		put(l, ", call-id %s", log_safe(safe, sizeof(safe), r->call_id,
		    strlen(r->call_id)));
	if (r->address != NULL)
		put(l, strchr(r->address, ':') != NULL ? ", %s [%s]:%u" :
		    ", %s %s:%u", r->transport != NULL ? r->transport : "?",
		    r->address, r->port);
	put(l, ")");
}

static void
put_req_json(struct line *l, const struct log_req *r)
{
	if (r->tx != 0)
		put(l, "\"tx\":%llu,", r->tx);
	if (r->method != NULL) {
		put(l, "\"method\":");
		put_json(l, r->method);
		put(l, ",\"cseq\":%lu,", r->cseq);
	}
	if (r->call_id != NULL) {
		put(l, "\"call_id\":");
		put_json(l, r->call_id);
		put(l, ",");
	}
	if (r->address != NULL) {
		put(l, "\"transport\":");
		put_json(l, r->transport != NULL ? r->transport : "");
		put(l, ",\"source\":");
		put_json(l, r->address);
		put(l, ",\"port\":%u,", r->port);
	}
}

static void
emit(int prio, const struct log_req *r, const char *msg)
{
	struct line l;

	l.n = 0;
	l.b[0] = '\0';
	if (lg.journal)
		put(&l, "<%d>", prio & LOG_PRIMASK);
	if (lg.format == LOG_FORMAT_JSON) {
		put(&l, "{");
		if (lg.target != LOG_TO_SYSLOG && !lg.journal)
			put_time(&l);
		put(&l, "\"level\":\"%s\",", level_name(prio));
		if (r != NULL)
			put_req_json(&l, r);
		put(&l, "\"msg\":");
		put_json(&l, msg);
		/* A truncated object would not parse: end it anyway. */
		if (l.n > sizeof(l.b) - 4)
			l.n = sizeof(l.b) - 4;
		memcpy(l.b + l.n, "}", 2);
		l.n++;
	} else {
		if (lg.target != LOG_TO_SYSLOG && !lg.journal) {
			put_time(&l);
			put(&l, "%s: ", level_name(prio));
		}
		if (r != NULL && r->tx != 0)
			put(&l, "tx %llu: ", r->tx);
		put(&l, "%s", msg);
		if (r != NULL)
			put_req_text(&l, r);
	}
	if (lg.target == LOG_TO_SYSLOG)
		syslog(prio, "%s", l.b);
	else
		fprintf(stderr, "%s\n", l.b);
}

void
log_vmsg(int prio, const char *fmt, va_list ap)
{
	char msg[LINE_MAX_BYTES];

	if (prio > lg.level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	emit(prio, NULL, msg);
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
log_vreq(int prio, const struct log_req *r, const char *fmt, va_list ap)
{
	char msg[LINE_MAX_BYTES];

	if (prio > lg.level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	emit(prio, r, msg);
}

void
log_req(int prio, const struct log_req *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vreq(prio, r, fmt, ap);
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
