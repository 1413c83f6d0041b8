/* archive.c - IM archive records as JSON lines (the format is in archive.h). */
#include "services/archive.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "services/utf8.h"

static const char hex[] = "0123456789abcdef";

/* \uXXXX for a code point below U+10000. */
static void
escape_u(struct buf *b, uint32_t cp)
{
	char e[6] = { '\\', 'u', hex[cp >> 12 & 15], hex[cp >> 8 & 15],
		hex[cp >> 4 & 15], hex[cp & 15] };

	buf_add(b, e, sizeof(e));
}

/* A character that may appear in a JSON string as it is. */
static int
plain_ascii(uint8_t c)
{
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

/*
 * Characters written as \uXXXX though JSON allows them raw: controls,
 * which a terminal acts on; U+2028/9, which end a line for JavaScript and
 * some editors; the explicit bidirectional formatting characters, which
 * reorder what is shown around them ("Trojan Source", CVE-2021-42574).
 * Operators read records with cat, less and grep.
 */
static int
must_escape(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 ||
	    cp == 0x2029 || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069);
}

/* s[0..n) as a JSON string, quotes included (escaping: see archive.h). */
static void
json_string(struct buf *b, const uint8_t *s, size_t n)
{
	static const uint8_t fffd[] = { 0xef, 0xbf, 0xbd };
	size_t i = 0, run, k;
	uint32_t cp;

	buf_add(b, "\"", 1);
	while (i < n) {
		/* Most text is plain ASCII: copy runs of it at once. */
		for (run = i; run < n && plain_ascii(s[run]); run++)
			;
		buf_add(b, s + i, run - i);
		if ((i = run) == n)
			break;
		k = utf8_decode(s + i, n - i, &cp);
		if (cp == '"' || cp == '\\') {
			buf_add(b, "\\", 1);
			buf_add(b, s + i, 1);
		} else if (cp == '\n')
			buf_str(b, "\\n");
		else if (cp == '\r')
			buf_str(b, "\\r");
		else if (cp == '\t')
			buf_str(b, "\\t");
		else if (cp == UTF8_BAD)
			buf_add(b, fffd, sizeof(fffd));
		else if (must_escape(cp))
			escape_u(b, cp);
		else
			buf_add(b, s + i, k);
		i += k;
	}
	buf_add(b, "\"", 1);
}

static void
str(struct buf *b, const char *s)
{
	json_string(b, (const uint8_t *)s, strlen(s));
}

/* ,"name":"value" when value is not NULL. */
static void
opt_member(struct buf *b, const char *name, const char *value)
{
	if (value == NULL)
		return;
	buf_str(b, ",\"");
	buf_str(b, name);
	buf_str(b, "\":");
	str(b, value);
}

static void
num(struct buf *b, unsigned long long v)
{
	char d[24];

	buf_add(b, d, (size_t)snprintf(d, sizeof(d), "%llu", v));
}

/* RFC 4648 base64 in one line, with padding. */
static void
base64(struct buf *b, const uint8_t *in, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char out[4];
	uint32_t v;
	size_t i, left;

	for (i = 0; i < n; i += 3) {
		left = n - i;
		v = (uint32_t)in[i] << 16;
		if (left > 1)
			v |= (uint32_t)in[i + 1] << 8;
		if (left > 2)
			v |= in[i + 2];
		out[0] = tab[v >> 18 & 63];
		out[1] = tab[v >> 12 & 63];
		out[2] = left > 1 ? tab[v >> 6 & 63] : '=';
		out[3] = left > 2 ? tab[v & 63] : '=';
		buf_add(b, out, 4);
	}
}

/* "2026-12-06T16:10:00.123Z", quotes included; -1 outside 0000..9999. */
static int
timestamp(struct buf *b, long long ms)
{
	long long sec = ms / 1000, rem = ms % 1000;
	struct tm tm;
	time_t t;
	char s[80];

	if (rem < 0) { /* C rounds toward zero; times before 1970 go down */
		rem += 1000;
		sec--;
	}
	t = (time_t)sec;
	if ((long long)t != sec || gmtime_r(&t, &tm) == NULL ||
	    tm.tm_year < -1900 || tm.tm_year > 9999 - 1900)
		return -1;
	buf_add(b, s, (size_t)snprintf(s, sizeof(s),
	    "\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\"", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    (int)rem));
	return 0;
}

/* {"v":1,"kind":KIND,"time":T,"call_id":S,"cseq":N,"method":S */
static int
head(struct buf *b, const char *kind, long long ms, const char *call_id,
    unsigned long cseq, const char *method)
{
	/* RFC 3261 8.1.1.5: a 32-bit unsigned integer (readers hold it so). */
	if (call_id == NULL || method == NULL || cseq > 0xffffffffUL)
		return -1;
	buf_str(b, "{\"v\":");
	num(b, ARCHIVE_VERSION);
	buf_str(b, ",\"kind\":\"");
	buf_str(b, kind);
	buf_str(b, "\",\"time\":");
	if (timestamp(b, ms) == -1)
		return -1;
	buf_str(b, ",\"call_id\":");
	str(b, call_id);
	buf_str(b, ",\"cseq\":");
	num(b, cseq);
	buf_str(b, ",\"method\":");
	str(b, method);
	return 0;
}

/* Text as text only when nothing would be lost or reinterpreted. */
static int
as_text(const struct archive_part *p, const uint8_t *data)
{
	if (strncasecmp(p->type, "text/", 5) != 0)
		return 0;
	if (p->charset != NULL && strcasecmp(p->charset, "utf-8") != 0 &&
	    strcasecmp(p->charset, "us-ascii") != 0)
		return 0;
	return utf8_valid(data, p->len);
}

static void
signature(struct buf *b, const struct archive_signature *s)
{
	buf_str(b, "{");
	if (s->signer != NULL) {
		buf_str(b, "\"signer\":");
		str(b, s->signer);
		buf_str(b, ",");
	}
	buf_str(b, s->valid ? "\"valid\":true" : "\"valid\":false");
	buf_str(b, s->inside_envelope ? ",\"inside_envelope\":true" :
	    ",\"inside_envelope\":false");
	opt_member(b, "reason", s->reason);
	buf_str(b, "}");
}

static void
protection(struct buf *b, const struct archive_part *p)
{
	size_t i;

	buf_str(b, "\"protection\":{");
	if (p->encrypted) {
		buf_str(b, "\"encrypted\":{");
		if (p->opened_with != NULL) {
			buf_str(b, "\"opened_with\":");
			str(b, p->opened_with);
			buf_str(b, ",");
		}
		buf_str(b, "\"recipients\":[");
		for (i = 0; i < p->nrecipients; i++) {
			if (i > 0)
				buf_str(b, ",");
			str(b, p->recipients[i] != NULL ? p->recipients[i] :
			    "");
		}
		buf_str(b, "]}");
	}
	if (p->nsigs > 0) {
		buf_str(b, p->encrypted ? ",\"signatures\":[" :
		    "\"signatures\":[");
		for (i = 0; i < p->nsigs; i++) {
			if (i > 0)
				buf_str(b, ",");
			signature(b, &p->sigs[i]);
		}
		buf_str(b, "]");
	}
	buf_str(b, "}");
}

static int
part(struct buf *b, const struct archive_part *p)
{
	/* No arithmetic on a NULL pointer, even + 0 (UBSan). */
	const uint8_t *data = p->data != NULL ? p->data : (const uint8_t *)"";

	if (p->type == NULL || (p->data == NULL && p->len > 0))
		return -1;
	buf_str(b, "{\"type\":");
	str(b, p->type);
	opt_member(b, "charset", p->charset);
	buf_str(b, ",");
	protection(b, p);
	if (as_text(p, data)) {
		buf_str(b, ",\"text\":");
		json_string(b, data, p->len);
	} else {
		buf_str(b, ",\"base64\":\"");
		base64(b, data, p->len);
		buf_str(b, "\"");
	}
	buf_str(b, "}");
	return 0;
}

/* {"uri":S[,"tag":S]} */
static int
party(struct buf *b, const char *name, const char *uri, const char *tag)
{
	if (uri == NULL)
		return -1;
	buf_str(b, ",\"");
	buf_str(b, name);
	buf_str(b, "\":{\"uri\":");
	str(b, uri);
	opt_member(b, "tag", tag);
	buf_str(b, "}");
	return 0;
}

static int
message(struct buf *b, const struct archive_message *m)
{
	size_t i;

	if (head(b, "message", m->time_ms, m->call_id, m->cseq,
	    m->method) == -1 ||
	    party(b, "from", m->from_uri, m->from_tag) == -1 ||
	    party(b, "to", m->to_uri, m->to_tag) == -1 ||
	    m->source_address == NULL || m->transport == NULL ||
	    (m->parts == NULL && m->nparts > 0))
		return -1;
	buf_str(b, ",\"source\":{\"address\":");
	str(b, m->source_address);
	buf_str(b, ",\"port\":");
	num(b, m->source_port);
	buf_str(b, ",\"transport\":");
	str(b, m->transport);
	buf_str(b, "}");
	opt_member(b, "rule", m->rule);
	opt_member(b, "content_type", m->content_type);
	buf_str(b, ",\"parts\":[");
	for (i = 0; i < m->nparts; i++) {
		if (i > 0)
			buf_str(b, ",");
		if (part(b, &m->parts[i]) == -1)
			return -1;
	}
	buf_str(b, "]}\n");
	return 0;
}

/* A failed record leaves nothing behind: the caller's buffer may already
 * hold earlier records. */
static int
finish(struct buf *b, size_t start, int rc)
{
	if (rc == 0 && !b->oom)
		return 0;
	if (b->len > start)
		b->len = start;
	return -1;
}

int
archive_format_message(struct buf *b, const struct archive_message *m)
{
	size_t start = b->len;

	return finish(b, start, message(b, m));
}

int
archive_format_final(struct buf *b, const struct archive_final *f)
{
	size_t start = b->len;
	int rc;

	if (f->status < 100 || f->status > 699)
		return -1;
	rc = head(b, "final", f->time_ms, f->call_id, f->cseq, f->method);
	if (rc == 0) {
		buf_str(b, ",\"status\":");
		num(b, (unsigned long long)f->status);
		buf_str(b, "}\n");
	}
	return finish(b, start, rc);
}
