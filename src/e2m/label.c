/*
 * label.c - Proxy-Inspect-Body parsing and Content-ID normalisation.
 * See label.h for the accepted grammar and the ownership rules.
 *
 * The parser works on length-delimited bytes with an explicit cursor, never
 * on C strings, because a header value from the network may contain NUL.
 * Every loop advances the cursor, so the work is linear in the input.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "e2m/label.h"

struct label_entry {
	char host[LABEL_MAX_HOST_LEN + 1];
	int port;
	size_t ncids;
	char *cids[LABEL_MAX_CIDS];
};

struct label_note {
	const char *why;
	size_t field, offset;
};

struct label_set {
	size_t nentries;
	struct label_entry entries[LABEL_MAX_ENTRIES];
	size_t nignored;
	size_t nnotes;
	struct label_note notes[LABEL_MAX_NOTES];
};

/* A position in one field value. */
struct cur {
	const unsigned char *p;
	size_t len, pos;
};

/* ---- character classes (ASCII only: no locale, no <ctype.h>) ---- */

static bool
is_alnum(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z');
}

static int
lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

/* Whitespace of SWS/LWS. CR and LF are accepted anywhere because a caller
 * may hand over a value that still has its folding in it. */
static bool
is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* RFC 3261 token characters. */
static bool
is_token(int c)
{
	return is_alnum(c) || (c != '\0' && strchr("-.!%*_+`'~", c) != NULL);
}

/* Characters a generic-param value may have unquoted: token or host
 * (IPv6 references bring the brackets and colons). */
static bool
is_gen_value(int c)
{
	return is_token(c) || c == '[' || c == ']' || c == ':';
}

/* Characters of a cid: printable ASCII except space and the delimiters of
 * the label and of RFC 5322 msg-id. Wider than the draft's atom so that real
 * Content-IDs (RFC 5322 atext, domain literals) normalise too. */
static bool
is_cid_char(int c)
{
	return c > 0x20 && c < 0x7f && strchr("\"(),;<>\\", c) == NULL;
}

/* ---- cursor ---- */

static bool
at_end(const struct cur *c)
{
	return c->pos >= c->len;
}

static int
peek(const struct cur *c)
{
	return at_end(c) ? -1 : c->p[c->pos];
}

static bool
eat(struct cur *c, int ch)
{
	if (peek(c) != ch)
		return false;
	c->pos++;
	return true;
}

static void
skip_ws(struct cur *c)
{
	while (!at_end(c) && is_ws(c->p[c->pos]))
		c->pos++;
}

/* ---- Content-ID normalisation (digest 2.4) ---- */

/* Check left@right and write it with the right part lower-cased. */
static const char *
cid_text_normalise(const unsigned char *s, size_t len, char *out)
{
	size_t i, at = len, nat = 0;

	out[0] = '\0';
	if (len == 0)
		return "empty cid";
	if (len > LABEL_MAX_CID_LEN)
		return "cid too long";
	for (i = 0; i < len; i++) {
		if (!is_cid_char(s[i]))
			return "bad character in cid";
		if (s[i] == '@') {
			at = i;
			nat++;
		}
	}
	if (nat != 1)
		return "cid needs exactly one @";
	if (at == 0 || at == len - 1)
		return "cid needs text on both sides of @";
	for (i = 0; i < len; i++)
		out[i] = (char)(i > at ? lower(s[i]) : s[i]);
	out[len] = '\0';
	return NULL;
}

/* Skip whitespace and RFC 5322 comments (nested, with quoted-pairs). */
static const char *
skip_cfws(struct cur *c)
{
	size_t depth;

	for (;;) {
		skip_ws(c);
		if (!eat(c, '('))
			return NULL;
		for (depth = 1; depth > 0; c->pos++) {
			if (at_end(c))
				return "unterminated comment";
			if (c->p[c->pos] == '\\')
				c->pos++; /* at_end() checked on the next turn */
			else if (c->p[c->pos] == '(')
				depth++;
			else if (c->p[c->pos] == ')')
				depth--;
		}
	}
}

/* Find the closing delimiter; returns false when there is none. */
static bool
scan_to(struct cur *c, int close)
{
	while (!at_end(c) && c->p[c->pos] != close)
		c->pos++;
	return eat(c, close);
}

/* Strip one layer of delimiters if s is wrapped in open..close. */
static void
unwrap(const unsigned char **s, size_t *len, int open, int close)
{
	if (*len >= 2 && (*s)[0] == open && (*s)[*len - 1] == close) {
		(*s)++;
		*len -= 2;
	}
}

const char *
label_cid_normalise(const char *s, size_t len, char out[LABEL_CID_BUFSZ])
{
	struct cur c = { (const unsigned char *)s, len, 0 };
	const unsigned char *in;
	const char *why;
	size_t start;

	out[0] = '\0';
	if (s == NULL)
		return "empty cid";
	if ((why = skip_cfws(&c)) != NULL)
		return why;
	start = c.pos;
	if (eat(&c, '<')) {
		if (!scan_to(&c, '>'))
			return "unterminated <";
	} else if (eat(&c, '"')) {
		if (!scan_to(&c, '"'))
			return "unterminated quote";
	} else {
		while (!at_end(&c) && !is_ws(c.p[c.pos]) && c.p[c.pos] != '(')
			c.pos++;
	}
	in = c.p + start;
	len = c.pos - start;
	if ((why = skip_cfws(&c)) != NULL)
		return why;
	if (!at_end(&c))
		return "text after the Content-ID";
	/* Either nesting order of brackets and quotes, once each. */
	unwrap(&in, &len, '<', '>');
	unwrap(&in, &len, '"', '"');
	unwrap(&in, &len, '<', '>');
	return cid_text_normalise(in, len, out);
}

bool
label_cid_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	char na[LABEL_CID_BUFSZ], nb[LABEL_CID_BUFSZ];

	if (label_cid_normalise(a, alen, na) != NULL ||
	    label_cid_normalise(b, blen, nb) != NULL)
		return false;
	return strcmp(na, nb) == 0;
}

/* ---- host normalisation (digest 5.1 step 2) ---- */

/* IPv6 to canonical text, so "::1" and "0:0::1" compare equal. */
static const char *
host_ipv6(const unsigned char *s, size_t len, char *out)
{
	char buf[INET6_ADDRSTRLEN];
	struct in6_addr a;

	if (len == 0 || len >= sizeof(buf))
		return "bad IPv6 reference";
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (memchr(buf, '\0', len) != NULL || inet_pton(AF_INET6, buf, &a) != 1)
		return "bad IPv6 reference";
	if (inet_ntop(AF_INET6, &a, out, LABEL_MAX_HOST_LEN + 1) == NULL)
		return "bad IPv6 reference";
	return NULL;
}

/* hostname or IPv4: alnum, '-' and '.', no empty label, one trailing dot
 * dropped (an FQDN written absolute is the same name), lower-cased. */
static const char *
host_name(const unsigned char *s, size_t len, char *out)
{
	size_t i;

	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0)
		return "missing host";
	if (s[len - 1] == '.')
		return "bad character in host";
	if (len > LABEL_MAX_HOST_LEN)
		return "host too long";
	for (i = 0; i < len; i++) {
		if (s[i] == '.' ? i == 0 || s[i - 1] == '.' :
		    !is_alnum(s[i]) && s[i] != '-')
			return "bad character in host";
		out[i] = (char)lower(s[i]);
	}
	out[len] = '\0';
	return NULL;
}

/* out has LABEL_MAX_HOST_LEN + 1 bytes. Bare IPv6 (with ':') is only
 * possible for configured names: in a label a ':' ends the host. */
static const char *
host_normalise(const unsigned char *s, size_t len, char *out)
{
	out[0] = '\0';
	if (len >= 2 && s[0] == '[' && s[len - 1] == ']')
		return host_ipv6(s + 1, len - 2, out);
	if (memchr(s, ':', len) != NULL)
		return host_ipv6(s, len, out);
	return host_name(s, len, out);
}

bool
label_host_is_own(const char *host, const char *const *own_names,
    size_t n_own)
{
	char mine[LABEL_MAX_HOST_LEN + 1];
	size_t i, len;

	if (host == NULL || own_names == NULL)
		return false;
	for (i = 0; i < n_own; i++) {
		if (own_names[i] == NULL)
			continue;
		len = strlen(own_names[i]);
		if (host_normalise((const unsigned char *)own_names[i], len,
		    mine) == NULL && strcmp(mine, host) == 0)
			return true;
	}
	return false;
}

/* ---- the label grammar (digest 3.4) ---- */

/* After a comma: is the next item "cid" SWS "="? Does not move c. */
static bool
comma_continues_cids(const struct cur *c)
{
	struct cur la = *c;

	if (!eat(&la, ','))
		return false;
	skip_ws(&la);
	if (la.len - la.pos < 3 || lower(la.p[la.pos]) != 'c' ||
	    lower(la.p[la.pos + 1]) != 'i' || lower(la.p[la.pos + 2]) != 'd')
		return false;
	la.pos += 3;
	skip_ws(&la);
	return peek(&la) == '=';
}

static const char *
parse_host(struct cur *c, struct label_entry *e)
{
	size_t start = c->pos;

	if (eat(c, '[')) {
		if (!scan_to(c, ']')) {
			c->pos = start + 1; /* let resync() find the next value */
			return "unterminated IPv6 reference";
		}
	} else {
		while (!at_end(c) && (is_alnum(c->p[c->pos]) ||
		    c->p[c->pos] == '-' || c->p[c->pos] == '.'))
			c->pos++;
	}
	return host_normalise(c->p + start, c->pos - start, e->host);
}

static const char *
parse_port(struct cur *c, struct label_entry *e)
{
	size_t ndigits = 0;
	long port = 0;

	skip_ws(c);
	while (!at_end(c) && c->p[c->pos] >= '0' && c->p[c->pos] <= '9') {
		if (++ndigits > 5)
			return "bad port";
		port = port * 10 + (c->p[c->pos++] - '0');
	}
	if (ndigits == 0 || port > 65535)
		return "bad port";
	e->port = (int)port;
	return NULL;
}

static const char *
add_cid(struct label_entry *e, const unsigned char *s, size_t len)
{
	char norm[LABEL_CID_BUFSZ];
	const char *why;

	if ((why = cid_text_normalise(s, len, norm)) != NULL)
		return why;
	if (e->ncids == LABEL_MAX_CIDS)
		return "too many cids in one label";
	len = strlen(norm) + 1;
	if ((e->cids[e->ncids] = malloc(len)) == NULL)
		return "out of memory";
	memcpy(e->cids[e->ncids++], norm, len);
	return NULL;
}

/* cid-value: quoted, bracketed or bare (digest 3.4, Q2). */
static const char *
parse_cid(struct cur *c, struct label_entry *e)
{
	size_t start;

	skip_ws(c);
	if (eat(c, '"')) {
		start = c->pos;
		if (!scan_to(c, '"'))
			return "unterminated quote";
		return add_cid(e, c->p + start, c->pos - 1 - start);
	}
	if (eat(c, '<')) {
		start = c->pos;
		if (!scan_to(c, '>')) {
			c->pos = start; /* let resync() find the next value */
			return "unterminated <";
		}
		return add_cid(e, c->p + start, c->pos - 1 - start);
	}
	start = c->pos;
	while (!at_end(c) && is_cid_char(c->p[c->pos]))
		c->pos++;
	return add_cid(e, c->p + start, c->pos - start);
}

/* quoted-string with quoted-pairs; the opening quote is already eaten. */
static bool
skip_quoted(struct cur *c)
{
	while (!at_end(c)) {
		if (c->p[c->pos] == '"') {
			c->pos++;
			return true;
		}
		c->pos += c->p[c->pos] == '\\' ? 2 : 1;
	}
	c->pos = c->len; /* a trailing backslash may have stepped past */
	return false;
}

/* A parameter we do not know: checked for syntax, then ignored. */
static const char *
skip_gen_value(struct cur *c)
{
	size_t start;

	skip_ws(c);
	if (eat(c, '"'))
		return skip_quoted(c) ? NULL : "unterminated quote";
	start = c->pos;
	while (!at_end(c) && is_gen_value(c->p[c->pos]))
		c->pos++;
	return c->pos > start ? NULL : "parameter without a value";
}

static const char *
parse_param(struct cur *c, struct label_entry *e)
{
	size_t start = c->pos;
	bool is_cid;

	while (!at_end(c) && is_token(c->p[c->pos]))
		c->pos++;
	if (c->pos == start)
		return "empty parameter";
	is_cid = c->pos - start == 3 && lower(c->p[start]) == 'c' &&
	    lower(c->p[start + 1]) == 'i' && lower(c->p[start + 2]) == 'd';
	skip_ws(c);
	if (!eat(c, '='))
		return is_cid ? "cid without a value" : NULL;
	return is_cid ? parse_cid(c, e) : skip_gen_value(c);
}

/* One pib-value. Stops at the end or at a comma that starts a new value. */
static const char *
parse_value(struct cur *c, struct label_entry *e, bool *had_port)
{
	const char *why;

	if ((why = parse_host(c, e)) != NULL)
		return why;
	skip_ws(c);
	if (eat(c, ':')) {
		if ((why = parse_port(c, e)) != NULL)
			return why;
		*had_port = true;
		skip_ws(c);
	}
	if (!eat(c, ';'))
		return "expected ; after the host";
	for (;;) {
		skip_ws(c);
		if ((why = parse_param(c, e)) != NULL)
			return why;
		skip_ws(c);
		if (at_end(c))
			break;
		if (eat(c, ';'))
			continue;
		if (comma_continues_cids(c)) {
			c->pos++;
			skip_ws(c);
			continue; /* parse_param() reads the "cid=" */
		}
		if (peek(c) == ',')
			break;
		return "unexpected character after a parameter";
	}
	return e->ncids > 0 ? NULL : "label without a cid";
}

/* After an error: move to the comma that starts the next value (outside
 * quotes), or to the end. */
static void
resync(struct cur *c)
{
	while (!at_end(c)) {
		if (c->p[c->pos] == '"') {
			c->pos++;
			skip_quoted(c);
		} else if (c->p[c->pos] == ',' && !comma_continues_cids(c)) {
			return;
		} else {
			c->pos++;
		}
	}
}

/* ---- the label set ---- */

static void
note(struct label_set *set, size_t field, size_t offset, const char *why)
{
	if (set->nnotes == LABEL_MAX_NOTES)
		return;
	set->notes[set->nnotes].why = why;
	set->notes[set->nnotes].field = field;
	set->notes[set->nnotes].offset = offset;
	set->nnotes++;
}

static void
entry_clear(struct label_entry *e)
{
	size_t i;

	for (i = 0; i < e->ncids; i++)
		free(e->cids[i]);
	memset(e, 0, sizeof(*e));
	e->port = -1;
}

static void
ignore(struct label_set *set, size_t field, size_t offset, const char *why)
{
	set->nignored++;
	note(set, field, offset, why);
}

/* Parse one value at c into the next free entry, keep it or drop it. */
static void
take_value(struct label_set *set, struct cur *c, size_t field)
{
	struct label_entry e;
	size_t start = c->pos;
	bool had_port = false;
	const char *why;

	memset(&e, 0, sizeof(e));
	e.port = -1;
	why = parse_value(c, &e, &had_port);
	if (why != NULL) {
		ignore(set, field, c->pos, why);
		entry_clear(&e);
		resync(c);
		return;
	}
	if (set->nentries == LABEL_MAX_ENTRIES) {
		ignore(set, field, start, "too many label values");
		entry_clear(&e);
		return;
	}
	if (had_port)
		note(set, field, start, "port after the host ignored");
	set->entries[set->nentries++] = e;
}

static void
parse_field(struct label_set *set, const struct label_field *f, size_t field)
{
	struct cur c = { (const unsigned char *)f->value, f->len, 0 };

	if (f->value == NULL)
		return;
	if (f->len > LABEL_MAX_FIELD_LEN) {
		ignore(set, field, 0, "header field too long");
		return;
	}
	for (;;) {
		skip_ws(&c);
		if (at_end(&c))
			return;
		if (eat(&c, ','))
			continue; /* empty list element: nothing to keep */
		take_value(set, &c, field);
	}
}

struct label_set *
label_parse(const struct label_field *fields, size_t nfields)
{
	struct label_set *set;
	size_t i;

	if ((set = calloc(1, sizeof(*set))) == NULL)
		return NULL;
	for (i = 0; fields != NULL && i < nfields; i++)
		parse_field(set, &fields[i], i);
	return set;
}

void
label_free(struct label_set *set)
{
	size_t i;

	if (set == NULL)
		return;
	for (i = 0; i < set->nentries; i++)
		entry_clear(&set->entries[i]);
	free(set);
}

/* ---- accessors ---- */

static const struct label_entry *
entry(const struct label_set *set, size_t i)
{
	return set != NULL && i < set->nentries ? &set->entries[i] : NULL;
}

size_t
label_count(const struct label_set *set)
{
	return set != NULL ? set->nentries : 0;
}

const char *
label_host(const struct label_set *set, size_t i)
{
	const struct label_entry *e = entry(set, i);

	return e != NULL ? e->host : NULL;
}

int
label_port(const struct label_set *set, size_t i)
{
	const struct label_entry *e = entry(set, i);

	return e != NULL ? e->port : -1;
}

size_t
label_ncids(const struct label_set *set, size_t i)
{
	const struct label_entry *e = entry(set, i);

	return e != NULL ? e->ncids : 0;
}

const char *
label_cid(const struct label_set *set, size_t i, size_t j)
{
	const struct label_entry *e = entry(set, i);

	return e != NULL && j < e->ncids ? e->cids[j] : NULL;
}

size_t
label_nignored(const struct label_set *set)
{
	return set != NULL ? set->nignored : 0;
}

size_t
label_nnotes(const struct label_set *set)
{
	return set != NULL ? set->nnotes : 0;
}

const char *
label_note(const struct label_set *set, size_t k, size_t *field,
    size_t *offset)
{
	if (set == NULL || k >= set->nnotes)
		return NULL;
	if (field != NULL)
		*field = set->notes[k].field;
	if (offset != NULL)
		*offset = set->notes[k].offset;
	return set->notes[k].why;
}

/* ---- matching ---- */

static bool
listed(const char **list, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

size_t
label_own_cids(const struct label_set *set, const char *const *own_names,
    size_t n_own, const char **out, size_t cap)
{
	const struct label_entry *e;
	size_t i, j, n = 0;

	if (out == NULL)
		return 0;
	for (i = 0; i < label_count(set); i++) {
		e = &set->entries[i];
		if (!label_host_is_own(e->host, own_names, n_own))
			continue;
		for (j = 0; j < e->ncids && n < cap; j++)
			if (!listed(out, n, e->cids[j]))
				out[n++] = e->cids[j];
	}
	return n;
}
