/* archread.c - IM archive records read back (see archread.h). */
#include "services/archread.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "services/archive.h"
#include "services/utf8.h"

/* Enough for any record we write; a bound against crafted lines. */
#define MAX_DEPTH 16
#define MAX_NODES 65536

enum jtype { J_OBJ, J_ARR, J_STR, J_NUM, J_LIT };

/* One JSON value; the children of a container are a list by index. */
struct jnode {
	enum jtype type;
	size_t start, len;   /* the text: a string's without its quotes */
	size_t kstart, klen; /* a member's key, without its quotes */
	int child, next;     /* -1: none */
};

struct jdoc {
	const char *s;
	size_t len, pos;
	struct jnode *n;
	int nn, cap;
	const char *why;
};

/* ---- a strict JSON parser (RFC 8259) into a flat tree ---- */

static int j_value(struct jdoc *d, int depth);

static void
j_ws(struct jdoc *d)
{
	while (d->pos < d->len && (d->s[d->pos] == ' ' ||
	    d->s[d->pos] == '\t' || d->s[d->pos] == '\n' ||
	    d->s[d->pos] == '\r'))
		d->pos++;
}

static int
j_fail(struct jdoc *d, const char *why)
{
	if (d->why == NULL)
		d->why = why;
	return -1;
}

static int
j_node(struct jdoc *d, enum jtype t)
{
	struct jnode *more;

	if (d->nn == MAX_NODES)
		return j_fail(d, "not JSON: too many values");
	if (d->nn == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 64;
		if ((more = realloc(d->n, (size_t)d->cap * sizeof(*more))) ==
		    NULL)
			return j_fail(d, "out of memory");
		d->n = more;
	}
	memset(&d->n[d->nn], 0, sizeof(d->n[0]));
	d->n[d->nn].type = t;
	d->n[d->nn].start = d->pos;
	d->n[d->nn].child = d->n[d->nn].next = -1;
	return d->nn++;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A string at d->pos (on its quote): its content's span. */
static int
j_string(struct jdoc *d, size_t *start, size_t *len)
{
	unsigned char c;
	int k;

	*start = ++d->pos;
	while (d->pos < d->len) {
		c = (unsigned char)d->s[d->pos++];
		if (c == '"') {
			*len = d->pos - 1 - *start;
			return 0;
		}
		if (c < 0x20)
			return j_fail(d, "not JSON: a raw control character in "
			    "a string");
		if (c != '\\')
			continue;
		if (d->pos >= d->len)
			break;
		c = (unsigned char)d->s[d->pos++];
		if (c == 'u') {
			for (k = 0; k < 4; k++)
				if (d->pos >= d->len ||
				    hexval(d->s[d->pos++]) < 0)
					return j_fail(d, "not JSON: a bad \\u "
					    "escape");
		} else if (strchr("\"\\/bfnrt", c) == NULL || c == '\0')
			return j_fail(d, "not JSON: a bad escape");
	}
	return j_fail(d, "not JSON: a string without its end");
}

static int
digits(struct jdoc *d)
{
	size_t from = d->pos;

	while (d->pos < d->len && d->s[d->pos] >= '0' && d->s[d->pos] <= '9')
		d->pos++;
	return d->pos > from ? 0 : -1;
}

static int
j_number(struct jdoc *d)
{
	if (d->s[d->pos] == '-')
		d->pos++;
	if (d->pos < d->len && d->s[d->pos] == '0')
		d->pos++;
	else if (digits(d) == -1)
		return j_fail(d, "not JSON: a bad number");
	if (d->pos < d->len && d->s[d->pos] == '.') {
		d->pos++;
		if (digits(d) == -1)
			return j_fail(d, "not JSON: a bad number");
	}
	if (d->pos < d->len && (d->s[d->pos] == 'e' || d->s[d->pos] == 'E')) {
		d->pos++;
		if (d->pos < d->len && (d->s[d->pos] == '+' ||
		    d->s[d->pos] == '-'))
			d->pos++;
		if (digits(d) == -1)
			return j_fail(d, "not JSON: a bad number");
	}
	return 0;
}

/* The members or elements of a container, linked as its children. */
static int
j_container(struct jdoc *d, int self, int depth, int is_obj)
{
	char close = is_obj ? '}' : ']';
	size_t ks = 0, kl = 0;
	int prev = -1, kid;

	d->pos++;
	j_ws(d);
	if (d->pos < d->len && d->s[d->pos] == close) {
		d->pos++;
		return 0;
	}
	for (;;) {
		j_ws(d);
		if (is_obj) {
			if (d->pos >= d->len || d->s[d->pos] != '"')
				return j_fail(d, "not JSON: a member "
				    "without a name");
			if (j_string(d, &ks, &kl) == -1)
				return -1;
			j_ws(d);
			if (d->pos >= d->len || d->s[d->pos++] != ':')
				return j_fail(d, "not JSON: no ':'");
		}
		if ((kid = j_value(d, depth + 1)) == -1)
			return -1;
		d->n[kid].kstart = ks;
		d->n[kid].klen = kl;
		if (prev == -1)
			d->n[self].child = kid;
		else
			d->n[prev].next = kid;
		prev = kid;
		j_ws(d);
		if (d->pos < d->len && d->s[d->pos] == ',') {
			d->pos++;
			continue;
		}
		if (d->pos < d->len && d->s[d->pos] == close) {
			d->pos++;
			return 0;
		}
		return j_fail(d, "not JSON: no ',' or end of a container");
	}
}

static int
j_literal(struct jdoc *d)
{
	static const char *const lit[] = { "true", "false", "null" };
	size_t i, n;

	for (i = 0; i < 3; i++) {
		n = strlen(lit[i]);
		if (d->len - d->pos >= n && memcmp(d->s + d->pos, lit[i], n) ==
		    0) {
			d->pos += n;
			return 0;
		}
	}
	return j_fail(d, "not JSON: an unknown word");
}

static int
j_value(struct jdoc *d, int depth)
{
	int self, rc;
	char c;

	if (depth > MAX_DEPTH)
		return j_fail(d, "not JSON: nested too deep");
	j_ws(d);
	if (d->pos >= d->len)
		return j_fail(d, "not JSON: a value missing");
	c = d->s[d->pos];
	if (c == '{' || c == '[') {
		if ((self = j_node(d, c == '{' ? J_OBJ : J_ARR)) == -1)
			return -1;
		rc = j_container(d, self, depth, c == '{');
	} else if (c == '"') {
		if ((self = j_node(d, J_STR)) == -1)
			return -1;
		rc = j_string(d, &d->n[self].start, &d->n[self].len);
		return rc == -1 ? -1 : self;
	} else if (c == '-' || (c >= '0' && c <= '9')) {
		if ((self = j_node(d, J_NUM)) == -1)
			return -1;
		rc = j_number(d);
	} else {
		if ((self = j_node(d, J_LIT)) == -1)
			return -1;
		rc = j_literal(d);
	}
	if (rc == -1)
		return -1;
	d->n[self].len = d->pos - d->n[self].start;
	return self;
}

/* ---- decoding ---- */

static unsigned
hex4(const char *p)
{
	return (unsigned)(hexval(p[0]) << 12 | hexval(p[1]) << 8 |
	    hexval(p[2]) << 4 | hexval(p[3]));
}

/* One escape at p (after its backslash) into out; how much it took. */
static size_t
unescape(const char *p, const char *end, struct buf *out)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	uint8_t u[4];
	uint32_t cp, lo;

	if (*p != 'u') {
		buf_add(out, &to[strchr(from, *p) - from], 1);
		return 1;
	}
	cp = hex4(p + 1);
	if (cp >= 0xd800 && cp <= 0xdbff && end - p >= 11 && p[5] == '\\' &&
	    p[6] == 'u' && (lo = hex4(p + 7)) >= 0xdc00 && lo <= 0xdfff) {
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		buf_add(out, u, utf8_encode(cp, u));
		return 11;
	}
	/* A lone surrogate is no character; NUL would end a C string. */
	if ((cp >= 0xd800 && cp <= 0xdfff) || cp == 0)
		cp = UTF8_REPLACEMENT;
	buf_add(out, u, utf8_encode(cp, u));
	return 5;
}

/* A string's content decoded, as a C string; NULL if out of memory. */
static char *
decode(const char *s, size_t len)
{
	struct buf b = { 0 };
	const char *p = s, *end = s + len, *bs;

	while (p < end) {
		if ((bs = memchr(p, '\\', (size_t)(end - p))) == NULL)
			bs = end;
		buf_add(&b, p, (size_t)(bs - p));
		if ((p = bs) < end)
			p += 1 + unescape(p + 1, end, &b);
	}
	buf_add(&b, "", 1);
	if (b.oom) {
		buf_free(&b);
		return NULL;
	}
	return (char *)b.p;
}

/* ---- the record's members ---- */

/* The member of object obj named name, or -1. */
static int
member(const struct jdoc *d, int obj, const char *name)
{
	size_t n = strlen(name);
	int k;
	char *key;

	if (obj < 0 || d->n[obj].type != J_OBJ)
		return -1;
	for (k = d->n[obj].child; k != -1; k = d->n[k].next) {
		const struct jnode *m = &d->n[k];

		if (memchr(d->s + m->kstart, '\\', m->klen) == NULL) {
			if (m->klen == n && memcmp(d->s + m->kstart, name, n) ==
			    0)
				return k;
			continue;
		}
		/* An escaped name is still that name. */
		key = decode(d->s + m->kstart, m->klen);
		if (key != NULL && strcmp(key, name) == 0) {
			free(key);
			return k;
		}
		free(key);
	}
	return -1;
}

/* A string member decoded: 0, 1 when absent (*out NULL), -1 bad. */
static int
str_member(const struct jdoc *d, int obj, const char *name, char **out)
{
	int k = member(d, obj, name);

	*out = NULL;
	if (k == -1)
		return 1;
	if (d->n[k].type != J_STR)
		return -1;
	*out = decode(d->s + d->n[k].start, d->n[k].len);
	return *out != NULL ? 0 : -1;
}

/* A whole number member within [min, max]: 0, or -1 absent or bad. */
static int
int_member(const struct jdoc *d, int obj, const char *name, long long min,
    long long max, long long *out)
{
	int k = member(d, obj, name);
	const char *p;
	size_t i = 0, n;
	int neg;
	long long v = 0;

	if (k == -1 || d->n[k].type != J_NUM)
		return -1;
	p = d->s + d->n[k].start;
	n = d->n[k].len;
	neg = p[0] == '-';
	for (i = neg; i < n; i++) {
		if (p[i] < '0' || p[i] > '9' || v > (max + 1LL) / 10 + 1)
			return -1; /* a fraction, an exponent or too big */
		v = v * 10 + (p[i] - '0');
	}
	v = neg ? -v : v;
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static const char *
read_common(struct jdoc *d, struct archread_rec *r)
{
	long long v;
	char *t;

	if (str_member(d, 0, "time", &t) != 0 ||
	    archread_time(t, &r->time_ms) == -1) {
		free(t);
		return "no time, or a bad one";
	}
	free(t);
	if (str_member(d, 0, "call_id", &r->call_id) != 0)
		return "no call_id";
	if (int_member(d, 0, "cseq", 0, 4294967295LL, &v) == -1)
		return "no cseq, or a bad one";
	r->cseq = (unsigned long)v;
	if (str_member(d, 0, "method", &r->method) != 0)
		return "no method";
	return NULL;
}

static const char *
read_party(struct jdoc *d, const char *name, char **uri, char **tag)
{
	int p = member(d, 0, name);

	if (p == -1 || str_member(d, p, "uri", uri) != 0 ||
	    str_member(d, p, "tag", tag) == -1)
		return name[0] == 'f' ? "no from.uri" : "no to.uri";
	return NULL;
}

static const char *
read_message(struct jdoc *d, struct archread_rec *r)
{
	const char *why;
	long long v;
	int src, parts, k, t;

	if ((why = read_party(d, "from", &r->from_uri, &r->from_tag)) != NULL ||
	    (why = read_party(d, "to", &r->to_uri, &r->to_tag)) != NULL)
		return why;
	src = member(d, 0, "source");
	if (str_member(d, src, "address", &r->source_address) != 0 ||
	    int_member(d, src, "port", 0, 65535, &v) == -1 ||
	    str_member(d, src, "transport", &r->transport) != 0)
		return "no source, or a bad one";
	r->source_port = (unsigned)v;
	parts = member(d, 0, "parts");
	if (parts == -1 || d->n[parts].type != J_ARR)
		return "no parts";
	for (k = d->n[parts].child; k != -1; k = d->n[k].next) {
		r->nparts++;
		if (r->text != NULL || (t = member(d, k, "text")) == -1 ||
		    d->n[t].type != J_STR)
			continue;
		if ((r->text = decode(d->s + d->n[t].start, d->n[t].len)) ==
		    NULL)
			return "out of memory";
	}
	return NULL;
}

static const char *
read_record(struct jdoc *d, struct archread_rec *r)
{
	const char *why;
	long long v;
	char *kind;

	if (d->nn == 0 || d->n[0].type != J_OBJ)
		return "not a JSON object";
	if (int_member(d, 0, "v", 0, 1000000, &v) == -1)
		return "no version (v)";
	if (v != ARCHIVE_VERSION)
		return "a version this e2mlog does not know";
	if (str_member(d, 0, "kind", &kind) != 0) {
		free(kind);
		return "no kind";
	}
	r->kind = strcmp(kind, "message") == 0 ? ARCHREAD_MESSAGE :
	    strcmp(kind, "final") == 0 ? ARCHREAD_FINAL : ARCHREAD_OTHER;
	free(kind);
	if (r->kind == ARCHREAD_OTHER)
		return NULL; /* a later kind: skipped, not malformed */
	if ((why = read_common(d, r)) != NULL)
		return why;
	if (r->kind == ARCHREAD_MESSAGE)
		return read_message(d, r);
	if (int_member(d, 0, "status", 100, 699, &v) == -1)
		return "no status, or a bad one";
	r->status = (int)v;
	return NULL;
}

int
archread_parse(struct archread_rec *r, const char *line, size_t len,
    const char **why)
{
	struct jdoc d = { .s = line, .len = len };

	memset(r, 0, sizeof(*r));
	if (j_value(&d, 0) != -1) {
		j_ws(&d);
		if (d.pos != d.len)
			j_fail(&d, "not JSON: more after the object");
	}
	if (d.why == NULL)
		d.why = read_record(&d, r);
	free(d.n);
	*why = d.why;
	return d.why == NULL ? 0 : -1;
}

void
archread_clear(struct archread_rec *r)
{
	free(r->call_id);
	free(r->method);
	free(r->from_uri);
	free(r->from_tag);
	free(r->to_uri);
	free(r->to_tag);
	free(r->source_address);
	free(r->transport);
	free(r->text);
	memset(r, 0, sizeof(*r));
}

/* ---- times ---- */

/* n digits at *p: their value, or -1. */
static int
fixed(const char **p, int n)
{
	int v = 0;

	for (; n > 0; n--, (*p)++) {
		if (**p < '0' || **p > '9')
			return -1;
		v = v * 10 + (**p - '0');
	}
	return v;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil): no timegm(), no time zone, no time_t range. */
static long long
days_from_civil(long long y, int m, int d)
{
	long long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
month_days(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
		30, 31 };

	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return days[m - 1];
}

/* "HH:MM[:SS[.f...]]" at *p; -1 if malformed. */
static long long
clock_ms(const char **p)
{
	int h, mi, s = 0, ms = 0, scale = 100;

	if ((h = fixed(p, 2)) < 0 || h > 23 || *(*p)++ != ':' ||
	    (mi = fixed(p, 2)) < 0 || mi > 59)
		return -1;
	if (**p == ':') {
		(*p)++;
		if ((s = fixed(p, 2)) < 0 || s > 59)
			return -1;
		if (**p == '.') {
			(*p)++;
			if (**p < '0' || **p > '9')
				return -1;
			for (; **p >= '0' && **p <= '9'; (*p)++, scale /= 10)
				ms += (**p - '0') * scale;
		}
	}
	return ((h * 60LL + mi) * 60 + s) * 1000 + ms;
}

int
archread_time(const char *s, long long *ms)
{
	const char *p = s;
	int y, m, d;
	long long day_ms = 0;

	if (s == NULL || (y = fixed(&p, 4)) < 0 || *p++ != '-' ||
	    (m = fixed(&p, 2)) < 1 || m > 12 || *p++ != '-' ||
	    (d = fixed(&p, 2)) < 1 || d > month_days(y, m))
		return -1;
	if (*p == 'T' || *p == ' ') {
		p++;
		if ((day_ms = clock_ms(&p)) < 0)
			return -1;
	}
	if (*p == 'Z')
		p++;
	else if (strncmp(p, "+00:00", 6) == 0)
		p += 6;
	if (*p != '\0')
		return -1;
	*ms = days_from_civil(y, m, d) * 86400000LL + day_ms;
	return 0;
}

/* ---- users ---- */

struct uri_parts {
	const char *scheme, *user, *host;
	size_t slen, ulen, hlen;
};

/*
 * "scheme:user[:password]@host[;params][?headers]" -> its spans. With
 * bare set, text without a scheme is taken as "user" or "user@host".
 * A tel: URI's user is its number.
 */
static void
uri_split(const char *s, int bare, struct uri_parts *u)
{
	const char *colon = strchr(s, ':'), *at = strchr(s, '@'), *end;

	memset(u, 0, sizeof(*u));
	/* "alice@host:5060" has no scheme, "sip:alice@host" has one. */
	if (!bare || (colon != NULL && (at == NULL || colon < at))) {
		if (colon == NULL)
			return;
		u->scheme = s;
		u->slen = (size_t)(colon - s);
		s = colon + 1;
	}
	if ((at = strchr(s, '@')) == NULL) {
		if (u->scheme != NULL && !(u->slen == 3 &&
		    strncasecmp(u->scheme, "tel", 3) == 0)) {
			u->host = s;
			u->hlen = strcspn(s, ";?");
			return;
		}
		u->user = s;
		u->ulen = strcspn(s, ";?");
		return;
	}
	u->user = s;
	u->ulen = strcspn(s, ":");
	if (u->ulen > (size_t)(at - s))
		u->ulen = (size_t)(at - s);
	end = at + 1 + strcspn(at + 1, ";?");
	u->host = at + 1;
	u->hlen = (size_t)(end - u->host);
}

static int
span_eq(const char *a, size_t an, const char *b, size_t bn, int nocase)
{
	if (an != bn)
		return 0;
	if (an == 0)
		return 1;
	return nocase ? strncasecmp(a, b, an) == 0 : memcmp(a, b, an) == 0;
}

int
archread_user_match(const char *uri, const char *user)
{
	struct uri_parts u, p;

	if (uri == NULL || user == NULL || user[0] == '\0')
		return 0;
	uri_split(uri, 0, &u);
	uri_split(user, 1, &p);
	if (p.user == NULL || u.user == NULL ||
	    !span_eq(u.user, u.ulen, p.user, p.ulen, 0))
		return 0;
	if (p.host != NULL && !span_eq(u.host, u.hlen, p.host, p.hlen, 1))
		return 0;
	if (p.scheme != NULL &&
	    !span_eq(u.scheme, u.slen, p.scheme, p.slen, 1))
		return 0;
	return 1;
}

/* ---- for a terminal ---- */

/* Characters that would move, hide or reorder what a terminal shows. */
static int
unsafe(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 ||
	    cp == 0x2029 || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069);
}

void
archread_safe(struct buf *b, const char *s, size_t maxchars, int flatten)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t n = strlen(s), i = 0, k, chars = 0;
	uint32_t cp;
	char e[16];

	while (i < n) {
		if (maxchars > 0 && chars == maxchars) {
			buf_str(b, "...");
			return;
		}
		k = utf8_decode(p + i, n - i, &cp);
		chars++;
		if (cp == UTF8_BAD) {
			snprintf(e, sizeof(e), "\\x%02x", p[i]);
			buf_str(b, e);
			i++;
			continue;
		}
		if (flatten && (cp == '\n' || cp == '\r' || cp == '\t'))
			buf_str(b, " ");
		else if (unsafe(cp)) {
			snprintf(e, sizeof(e), "\\u%04x", (unsigned)cp);
			buf_str(b, e);
		} else
			buf_add(b, p + i, k);
		i += k;
	}
}

static void
summary_time(struct buf *b, long long ms)
{
	long long sec = ms / 1000, rem = ms % 1000;
	time_t t;
	struct tm tm;
	char s[80];

	if (rem < 0) {
		rem += 1000;
		sec--;
	}
	t = (time_t)sec;
	if (gmtime_r(&t, &tm) == NULL) {
		buf_str(b, "?");
		return;
	}
	snprintf(s, sizeof(s), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)rem);
	buf_str(b, s);
}

void
archread_summary(struct buf *b, const struct archread_rec *m, int status)
{
	char s[48];

	summary_time(b, m->time_ms);
	buf_str(b, "  ");
	archread_safe(b, m->from_uri != NULL ? m->from_uri : "?", 80, 0);
	buf_str(b, " -> ");
	archread_safe(b, m->to_uri != NULL ? m->to_uri : "?", 80, 0);
	if (status >= 0)
		snprintf(s, sizeof(s), "  %d  ", status);
	else
		snprintf(s, sizeof(s), "  -  ");
	buf_str(b, s);
	archread_safe(b, m->call_id != NULL ? m->call_id : "?", 80, 0);
	if (m->text != NULL) {
		buf_str(b, "  \"");
		archread_safe(b, m->text, 60, 1);
		buf_str(b, "\"");
	} else if (m->nparts == 0)
		buf_str(b, "  (no body)");
	else {
		snprintf(s, sizeof(s), "  (%zu part%s, no text)", m->nparts,
		    m->nparts == 1 ? "" : "s");
		buf_str(b, s);
	}
	buf_str(b, "\n");
}

void
archread_summary_final(struct buf *b, const struct archread_rec *f)
{
	char s[48];

	summary_time(b, f->time_ms);
	snprintf(s, sizeof(s), "  final  %d  ", f->status);
	buf_str(b, s);
	archread_safe(b, f->call_id != NULL ? f->call_id : "?", 80, 0);
	snprintf(s, sizeof(s), "  %lu ", f->cseq);
	buf_str(b, s);
	archread_safe(b, f->method != NULL ? f->method : "?", 20, 0);
	buf_str(b, "\n");
}
