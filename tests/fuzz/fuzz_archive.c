/*
 * fuzz_archive.c - libFuzzer harness for the archive record format
 * (archive.c). The input bytes are taken as they come to fill a message
 * (strings, parts, signatures, recipients, times) and a final record; each
 * line made must be one line ending in "\n", hold no raw control byte
 * (C0, DEL, C1, U+2028/9, bidi overrides), be valid UTF-8, pass the
 * strict JSON checker below (written apart from archread.c's parser on
 * purpose), and read back through archread with its Call-ID and URIs
 * unchanged when they were valid UTF-8. A refused record leaves the
 * buffer as it was.
 *
 *   ./configure CC=clang --enable-fuzzing && make tests/fuzz/fuzz_archive
 *   tests/fuzz/fuzz_archive tests/fuzz/corpus/archive/
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "services/archive.h"
#include "services/archread.h"
#include "services/utf8.h"

#define MAXSTR 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct src {
	const uint8_t *p;
	size_t n;
	char pool[40][MAXSTR + 1];
	int used;
};

static uint8_t
byte(struct src *s)
{
	uint8_t b = 0;

	if (s->n > 0) {
		b = *s->p++;
		s->n--;
	}
	return b;
}

/* A string of up to MAXSTR input bytes (cut at a NUL, as C strings are),
 * or NULL when optional and the input says so. */
static const char *
str(struct src *s, int optional)
{
	uint8_t len = byte(s);
	char *out;
	size_t k;

	if ((optional && (len & 0x80)) || s->used == 40)
		return NULL;
	len &= 0x3f;
	out = s->pool[s->used++];
	for (k = 0; k < len && s->n > 0; k++)
		out[k] = (char)byte(s);
	out[k] = '\0';
	return out;
}

static long long
number(struct src *s)
{
	unsigned long long v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | byte(s);
	return (long long)v;
}

/* ---- a strict JSON checker: 1 if the whole text is one value ---- */

static int value(const char **p, const char *end, int depth);

static void
ws(const char **p, const char *end)
{
	while (*p < end && (**p == ' ' || **p == '\t' || **p == '\n' ||
	    **p == '\r'))
		(*p)++;
}

static int
string(const char **p, const char *end)
{
	const char *hexd = "0123456789abcdefABCDEF";
	int i;

	if (*p >= end || *(*p)++ != '"')
		return 0;
	while (*p < end && **p != '"') {
		if ((unsigned char)**p < 0x20)
			return 0;
		if (*(*p)++ != '\\')
			continue;
		if (*p >= end)
			return 0;
		if (**p == 'u') {
			for (i = 1; i <= 4; i++)
				if (*p + i >= end || !strchr(hexd, (*p)[i]) ||
				    (*p)[i] == '\0')
					return 0;
			*p += 5;
		} else if (strchr("\"\\/bfnrt", **p) != NULL && **p != '\0')
			(*p)++;
		else
			return 0;
	}
	if (*p >= end)
		return 0;
	(*p)++;
	return 1;
}

static int
number_ok(const char **p, const char *end)
{
	const char *start;

	if (*p < end && **p == '-')
		(*p)++;
	start = *p;
	while (*p < end && **p >= '0' && **p <= '9')
		(*p)++;
	if (*p == start || (*start == '0' && *p - start > 1))
		return 0;
	return 1; /* we write whole numbers only */
}

static int
container(const char **p, const char *end, int depth, char close)
{
	(*p)++;
	ws(p, end);
	if (*p < end && **p == close) {
		(*p)++;
		return 1;
	}
	for (;;) {
		ws(p, end);
		if (close == '}') {
			if (!string(p, end))
				return 0;
			ws(p, end);
			if (*p >= end || *(*p)++ != ':')
				return 0;
		}
		if (!value(p, end, depth + 1))
			return 0;
		ws(p, end);
		if (*p < end && **p == ',') {
			(*p)++;
			continue;
		}
		if (*p < end && **p == close) {
			(*p)++;
			return 1;
		}
		return 0;
	}
}

static int
value(const char **p, const char *end, int depth)
{
	ws(p, end);
	if (*p >= end || depth > 32)
		return 0;
	if (**p == '{')
		return container(p, end, depth, '}');
	if (**p == '[')
		return container(p, end, depth, ']');
	if (**p == '"')
		return string(p, end);
	if (end - *p >= 4 && memcmp(*p, "true", 4) == 0)
		return (*p += 4, 1);
	if (end - *p >= 5 && memcmp(*p, "false", 5) == 0)
		return (*p += 5, 1);
	return number_ok(p, end);
}

/* ---- the properties of one line ---- */

static void
check_line(const struct buf *b, size_t start)
{
	const uint8_t *l = b->p + start;
	size_t n = b->len - start, i, k;
	const char *p = (const char *)l, *end = (const char *)l + n - 1;
	uint32_t cp;

	if (n < 2 || l[n - 1] != '\n' || l[0] != '{')
		abort();
	for (i = 0; i < n - 1; i += k) {
		k = utf8_decode(l + i, n - 1 - i, &cp);
		if (cp == UTF8_BAD || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
		    cp == 0x2028 || cp == 0x2029 ||
		    (cp >= 0x202a && cp <= 0x202e) ||
		    (cp >= 0x2066 && cp <= 0x2069))
			abort(); /* raw control, bidi or broken sequence */
	}
	if (!value(&p, end, 0) || p != end)
		abort();
}

/* The string as archread gives it back: equal when s was valid UTF-8. */
static void
same(const char *s, const char *back)
{
	if (utf8_valid((const uint8_t *)s, strlen(s)) &&
	    (back == NULL || strcmp(s, back) != 0))
		abort();
}

static void
read_back(const struct buf *b, size_t start, const struct archive_message *m)
{
	struct archread_rec r;
	const char *why;

	if (archread_parse(&r, (const char *)b->p + start, b->len - start - 1,
	    &why) != 0)
		abort();
	if (m != NULL) {
		same(m->call_id, r.call_id);
		same(m->from_uri, r.from_uri);
		same(m->to_uri, r.to_uri);
		if (r.nparts != m->nparts || r.time_ms != m->time_ms)
			abort();
	}
	archread_clear(&r);
}

static void
fill_part(struct src *s, struct archive_part *p,
    struct archive_signature sigs[2], const char *rcpt[2])
{
	static const char *const types[] = { "text/plain", "text/html",
		"application/octet-stream", "TEXT/PLAIN" };
	uint8_t flags = byte(s);
	size_t i;

	p->type = flags & 3 ? types[flags & 3] : str(s, 0);
	p->charset = str(s, 1);
	p->data = s->p;
	p->len = byte(s);
	p->len = p->len < s->n ? p->len : s->n;
	s->p += p->len;
	s->n -= p->len;
	p->encrypted = flags >> 2 & 1;
	p->opened_with = str(s, 1);
	p->nrecipients = flags >> 3 & 1 ? 2 : 0;
	for (i = 0; i < p->nrecipients; i++)
		rcpt[i] = str(s, 0);
	p->recipients = rcpt;
	p->nsigs = flags >> 4 & 3 ? 1 + (flags >> 6 & 1) : 0;
	for (i = 0; i < p->nsigs; i++) {
		sigs[i].signer = str(s, 1);
		sigs[i].valid = byte(s) & 1;
		sigs[i].inside_envelope = byte(s) & 1;
		sigs[i].reason = str(s, 1);
	}
	p->sigs = sigs;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct src s;
	struct archive_signature sigs[3][2];
	const char *rcpt[3][2];
	struct archive_part parts[3];
	struct archive_message m = { 0 };
	struct archive_final f = { 0 };
	struct buf b = { 0 };
	size_t i, start;

	memset(&s, 0, sizeof(s));
	s.p = data;
	s.n = size;
	m.time_ms = byte(&s) & 1 ? number(&s) : 1796573400123LL;
	m.call_id = str(&s, 0);
	m.cseq = (unsigned long)number(&s);
	m.method = str(&s, 0);
	m.from_uri = str(&s, 0);
	m.from_tag = str(&s, 1);
	m.to_uri = str(&s, 0);
	m.to_tag = str(&s, 1);
	m.source_address = str(&s, 0);
	m.source_port = byte(&s); /* two statements: a defined order */
	m.source_port = m.source_port * 256u + byte(&s);
	m.transport = str(&s, 0);
	m.rule = str(&s, 1);
	m.content_type = str(&s, 1);
	m.nparts = byte(&s) % 4;
	for (i = 0; i < m.nparts; i++)
		fill_part(&s, &parts[i], sigs[i], rcpt[i]);
	m.parts = parts;

	buf_str(&b, "{\"earlier\":1}\n");
	start = b.len;
	if (archive_format_message(&b, &m) == 0) {
		check_line(&b, start);
		read_back(&b, start, &m);
	} else if (b.len != start)
		abort();

	start = b.len;
	f.time_ms = m.time_ms;
	f.call_id = m.call_id;
	f.cseq = m.cseq;
	f.method = m.method;
	f.status = 100 + byte(&s) % 600;
	if (archive_format_final(&b, &f) == 0) {
		check_line(&b, start);
		read_back(&b, start, NULL);
	} else if (b.len != start)
		abort();
	buf_free(&b);
	return 0;
}
