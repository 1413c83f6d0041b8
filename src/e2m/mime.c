/* mime.c - MIME body tree with limits (RFC 2045, RFC 2046). */
#include "e2m/mime.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* At most this many parameters in one Content-Type or Content-Disposition
 * (bounds the duplicate check). */
#define MAX_PARAMS 32

struct ctx {
	struct mime_limits lim;
	size_t nparts;     /* entities below the tree's top-level entity */
	const char *err;
};

/* Header values of one entity: unfolded, NUL-free strings or NULL. */
enum { H_CT, H_CID, H_CD, H_CTE, H_N };

static enum mime_status
fail(struct ctx *c, enum mime_status st, const char *why)
{
	if (c->err == NULL)
		c->err = why;
	return st;
}

static void
wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;

	while (n-- > 0)
		*v++ = 0;
}

static int
lower(int ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch;
}

static int
ieq(const char *a, const char *b)
{
	while (*a != '\0' && lower((unsigned char)*a) ==
	    lower((unsigned char)*b)) {
		a++;
		b++;
	}
	return *a == '\0' && *b == '\0';
}

static int
is_wsp(int ch)
{
	return ch == ' ' || ch == '\t';
}

/* RFC 2045 token character. */
static int
is_tchar(int ch)
{
	if (ch <= 32 || ch >= 127)
		return 0;
	return strchr("()<>@,;:\\\"/[]?=", ch) == NULL;
}

static char *
dupn(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d != NULL) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

static void
free_params(struct mime_param *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(p[i].name);
		free(p[i].value);
	}
	free(p);
}

static void
free_entity(struct mime_entity *e)
{
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < e->nchildren; i++)
		free_entity(e->children[i]);
	free(e->children);
	free(e->type);
	free(e->subtype);
	free_params(e->params, e->nparams);
	free(e->content_id);
	free(e->disposition);
	free(e->handling);
	free_params(e->disp_params, e->ndisp_params);
	if (e->own_ != NULL) {
		wipe(e->own_, e->own_len_);
		free(e->own_);
	}
	if (e->decoded_ != NULL) {
		wipe(e->decoded_, e->decoded_len_);
		free(e->decoded_);
	}
	free(e);
}

void
mime_free(struct mime_entity *e)
{
	free_entity(e);
}

void
mime_limits_default(struct mime_limits *l)
{
	l->max_body = MIME_DEFAULT_MAX_BODY;
	l->max_depth = MIME_DEFAULT_MAX_DEPTH;
	l->max_parts = MIME_DEFAULT_MAX_PARTS;
}

int
mime_status_code(enum mime_status st)
{
	switch (st) {
	case MIME_OK:
		return 0;
	case MIME_TOO_LARGE:
		return 413;
	case MIME_MALFORMED:
	case MIME_LIMIT:
		return 400;
	case MIME_NOMEM:
		break;
	}
	return 500;
}

/* ---- structured header values ---------------------------------------- */

static const char *
skip_wsp(const char *s)
{
	while (is_wsp((unsigned char)*s))
		s++;
	return s;
}

/* A token at *sp; returns an owned lower-cased copy (or NULL on syntax
 * error with *st set). */
static char *
get_token(const char **sp, int lc, enum mime_status *st)
{
	const char *s = *sp;
	size_t n = 0, i;
	char *t;

	while (is_tchar((unsigned char)s[n]))
		n++;
	if (n == 0) {
		*st = MIME_MALFORMED;
		return NULL;
	}
	if ((t = dupn(s, n)) == NULL) {
		*st = MIME_NOMEM;
		return NULL;
	}
	if (lc)
		for (i = 0; i < n; i++)
			t[i] = (char)lower((unsigned char)t[i]);
	*sp = s + n;
	return t;
}

static char *
get_quoted(const char **sp, enum mime_status *st)
{
	const char *s = *sp + 1; /* after the opening quote */
	const char *q = s;
	size_t n = 0;
	char *t, *o;

	/* First pass: find the end and the unquoted length. */
	for (;;) {
		unsigned char ch = (unsigned char)*q;
		if (ch == '\0' || ch == '\r' || ch == '\n') {
			*st = MIME_MALFORMED;
			return NULL;
		}
		if (ch == '"')
			break;
		if (ch == '\\') {
			q++;
			if (*q == '\0') {
				*st = MIME_MALFORMED;
				return NULL;
			}
		}
		q++;
		n++;
	}
	if ((t = malloc(n + 1)) == NULL) {
		*st = MIME_NOMEM;
		return NULL;
	}
	for (o = t; s < q; s++) {
		if (*s == '\\')
			s++;
		*o++ = *s;
	}
	*o = '\0';
	*sp = q + 1;
	return t;
}

/* *(";" attribute "=" value) with optional whitespace; a trailing ';' is
 * tolerated. Duplicate names are malformed. */
static enum mime_status
get_params(const char *s, struct mime_param **out, size_t *nout)
{
	struct mime_param *p = NULL;
	size_t n = 0, i;
	enum mime_status st = MIME_OK;

	for (;;) {
		char *name, *value;

		s = skip_wsp(s);
		if (*s == '\0')
			break;
		if (*s != ';') {
			st = MIME_MALFORMED;
			goto bad;
		}
		s = skip_wsp(s + 1);
		if (*s == '\0')
			break;
		if (n == MAX_PARAMS) {
			st = MIME_MALFORMED;
			goto bad;
		}
		if ((name = get_token(&s, 1, &st)) == NULL)
			goto bad;
		for (i = 0; i < n; i++)
			if (strcmp(p[i].name, name) == 0)
				break;
		s = skip_wsp(s);
		if (i < n || *s != '=') {
			free(name);
			st = MIME_MALFORMED;
			goto bad;
		}
		s = skip_wsp(s + 1);
		value = *s == '"' ? get_quoted(&s, &st) :
		    get_token(&s, 0, &st);
		if (value == NULL) {
			free(name);
			goto bad;
		}
		if (n == 0)
			p = malloc(MAX_PARAMS * sizeof(*p));
		if (p == NULL) {
			free(name);
			free(value);
			st = MIME_NOMEM;
			goto bad;
		}
		p[n].name = name;
		p[n].value = value;
		n++;
	}
	*out = p;
	*nout = n;
	return MIME_OK;
bad:
	free_params(p, n);
	return st;
}

static enum mime_status
parse_ctype(struct ctx *c, struct mime_entity *e, const char *v)
{
	enum mime_status st = MIME_OK;
	const char *s = skip_wsp(v);

	if ((e->type = get_token(&s, 1, &st)) == NULL)
		return fail(c, st, "bad Content-Type");
	s = skip_wsp(s);
	if (*s != '/')
		return fail(c, MIME_MALFORMED, "bad Content-Type");
	s = skip_wsp(s + 1);
	if ((e->subtype = get_token(&s, 1, &st)) == NULL)
		return fail(c, st, "bad Content-Type");
	if ((st = get_params(s, &e->params, &e->nparams)) != MIME_OK)
		return fail(c, st, "bad Content-Type parameters");
	return MIME_OK;
}

static enum mime_status
parse_disp(struct ctx *c, struct mime_entity *e, const char *v)
{
	enum mime_status st = MIME_OK;
	const char *s = skip_wsp(v), *h;

	if ((e->disposition = get_token(&s, 1, &st)) == NULL)
		return fail(c, st, "bad Content-Disposition");
	st = get_params(s, &e->disp_params, &e->ndisp_params);
	if (st != MIME_OK)
		return fail(c, st, "bad Content-Disposition parameters");
	if ((h = mime_disp_param(e, "handling")) != NULL) {
		char *t;

		if ((e->handling = t = dupn(h, strlen(h))) == NULL)
			return fail(c, MIME_NOMEM, "out of memory");
		for (; *t != '\0'; t++)
			*t = (char)lower((unsigned char)*t);
	}
	return MIME_OK;
}

static enum mime_status
parse_cte(struct ctx *c, struct mime_entity *e, const char *v)
{
	enum mime_status st = MIME_OK;
	const char *s = skip_wsp(v);
	char *t;

	if ((t = get_token(&s, 1, &st)) == NULL)
		return fail(c, st, "bad Content-Transfer-Encoding");
	if (*skip_wsp(s) != '\0') {
		free(t);
		return fail(c, MIME_MALFORMED,
		    "bad Content-Transfer-Encoding");
	}
	if (strcmp(t, "7bit") == 0)
		e->cte = MIME_CTE_7BIT;
	else if (strcmp(t, "8bit") == 0)
		e->cte = MIME_CTE_8BIT;
	else if (strcmp(t, "binary") == 0)
		e->cte = MIME_CTE_BINARY;
	else if (strcmp(t, "base64") == 0)
		e->cte = MIME_CTE_BASE64;
	else if (strcmp(t, "quoted-printable") == 0)
		e->cte = MIME_CTE_QUOTED_PRINTABLE;
	else
		e->cte = MIME_CTE_OTHER;
	free(t);
	return MIME_OK;
}

static char *
trimmed_dup(const char *s)
{
	size_t n;

	s = skip_wsp(s);
	n = strlen(s);
	while (n > 0 && is_wsp((unsigned char)s[n - 1]))
		n--;
	return dupn(s, n);
}

/* ---- base64 ------------------------------------------------------------ */

static int
b64val(int ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

/* Decode base64, ignoring CR, LF, space and tab; anything else outside the
 * alphabet, misplaced '=' or an incomplete quantum is an error. */
static enum mime_status
b64_decode(const unsigned char *in, size_t n, unsigned char **out,
    size_t *outlen)
{
	unsigned char *o;
	size_t i, olen = 0;
	uint32_t acc = 0;
	int q = 0, pad = 0;

	if ((o = malloc(n / 4 * 3 + 3)) == NULL)
		return MIME_NOMEM;
	for (i = 0; i < n; i++) {
		int ch = in[i], v;

		if (ch == '\r' || ch == '\n' || ch == ' ' || ch == '\t')
			continue;
		if (ch == '=') {
			/* '=' only as the 3rd or 4th character of the last
			 * quantum. */
			if (q < 2)
				goto bad;
			pad++;
			q++;
			if (q == 4) {
				if (pad == 2) {
					o[olen++] = (unsigned char)(acc >> 4);
				} else {
					o[olen++] = (unsigned char)(acc >> 10);
					o[olen++] = (unsigned char)(acc >> 2);
				}
				q = 0;
			}
			continue;
		}
		if (pad > 0 || (v = b64val(ch)) < 0)
			goto bad;
		acc = acc << 6 | (uint32_t)v;
		if (++q == 4) {
			o[olen++] = (unsigned char)(acc >> 16);
			o[olen++] = (unsigned char)(acc >> 8);
			o[olen++] = (unsigned char)acc;
			acc = 0;
			q = 0;
		}
	}
	if (q != 0)
		goto bad;
	*out = o;
	*outlen = olen;
	return MIME_OK;
bad:
	wipe(o, n / 4 * 3 + 3);
	free(o);
	return MIME_MALFORMED;
}

/* ---- entities ---------------------------------------------------------- */

static enum mime_status parse_entity(struct ctx *c, struct mime_entity *e,
    const struct mime_entity *parent, const char *const *top);

static int
line_end(const unsigned char *p, size_t n, size_t *eol, size_t *next)
{
	const unsigned char *lf = memchr(p, '\n', n);

	if (lf == NULL) {
		*eol = *next = n;
		return 0;
	}
	*next = (size_t)(lf - p) + 1;
	*eol = (size_t)(lf - p);
	if (*eol > 0 && p[*eol - 1] == '\r')
		(*eol)--;
	return 1;
}

/* Unfolded copy of a header value spanning raw[a, b): line breaks (CRLF or
 * LF) followed by whitespace are removed. NUL bytes are malformed. */
static enum mime_status
unfold(const unsigned char *p, size_t a, size_t b, char **out)
{
	char *t, *o;
	size_t i;

	if ((t = malloc(b - a + 1)) == NULL)
		return MIME_NOMEM;
	for (o = t, i = a; i < b; i++) {
		if (p[i] == '\0') {
			free(t);
			return MIME_MALFORMED;
		}
		if (p[i] == '\r' && i + 1 < b && p[i + 1] == '\n')
			continue;
		if (p[i] == '\n')
			continue;
		*o++ = (char)p[i];
	}
	*o = '\0';
	*out = t;
	return MIME_OK;
}

static void
free_hvals(char **h)
{
	int i;

	for (i = 0; i < H_N; i++)
		free(h[i]);
}

/* Read the MIME headers of e->raw into h; sets e->body. */
static enum mime_status
read_headers(struct ctx *c, struct mime_entity *e, char **h)
{
	const unsigned char *p = e->raw;
	size_t n = e->raw_len, pos = 0;
	char **cur = NULL;
	size_t va = 0, vb = 0;
	int infield = 0;
	enum mime_status st;

	for (;;) {
		size_t eol, next, nl, i;
		int more = line_end(p + pos, n - pos, &eol, &next);

		if (eol == 0) {
			/* blank line (or end): headers are over */
			pos += next;
			break;
		}
		if (is_wsp(p[pos])) {
			if (!infield)
				return fail(c, MIME_MALFORMED,
				    "continuation line without a header");
			vb = pos + eol;
		} else {
			infield = 1;
			/* a new field: finish the previous one */
			if (cur != NULL) {
				if ((st = unfold(p, va, vb, cur)) != MIME_OK)
					return fail(c, st, "bad MIME header");
				cur = NULL;
			}
			for (nl = 0; nl < eol && p[pos + nl] != ':'; nl++)
				if (p[pos + nl] <= 32 || p[pos + nl] >= 127)
					return fail(c, MIME_MALFORMED,
					    "bad MIME header name");
			if (nl == 0 || nl == eol)
				return fail(c, MIME_MALFORMED,
				    "bad MIME header line");
			{
				char name[27];
				if (nl < sizeof(name)) {
					for (i = 0; i < nl; i++)
						name[i] = (char)p[pos + i];
					name[nl] = '\0';
					if (ieq(name, "content-type"))
						cur = &h[H_CT];
					else if (ieq(name, "content-id"))
						cur = &h[H_CID];
					else if (ieq(name,
					    "content-disposition"))
						cur = &h[H_CD];
					else if (ieq(name,
					    "content-transfer-encoding"))
						cur = &h[H_CTE];
				}
			}
			if (cur != NULL && *cur != NULL)
				return fail(c, MIME_MALFORMED,
				    "duplicate MIME header");
			va = pos + nl + 1;
			vb = pos + eol;
		}
		/* NUL bytes anywhere in the header block are malformed */
		if (memchr(p + pos, '\0', eol) != NULL)
			return fail(c, MIME_MALFORMED, "NUL in MIME header");
		pos += next;
		if (!more)
			break;
	}
	if (cur != NULL && (st = unfold(p, va, vb, cur)) != MIME_OK)
		return fail(c, st, "bad MIME header");
	if (pos > n)
		pos = n;
	e->body = p + pos;
	e->body_len = n - pos;
	return MIME_OK;
}

/* RFC 2046 boundary: 1..70 bchars, not ending in a space. */
static int
valid_boundary(const char *b)
{
	size_t n = strlen(b), i;

	if (n == 0 || n > 70 || b[n - 1] == ' ')
		return 0;
	for (i = 0; i < n; i++) {
		int ch = (unsigned char)b[i];
		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= 'A' && ch <= 'Z') ||
		    strchr("'()+_,-./:=? ", ch) != NULL))
			return 0;
	}
	return 1;
}

static enum mime_status
add_child(struct ctx *c, struct mime_entity *parent,
    struct mime_entity **out)
{
	struct mime_entity *e;

	if (parent->depth + 1 > c->lim.max_depth)
		return fail(c, MIME_LIMIT, "MIME nesting too deep");
	if (++c->nparts > c->lim.max_parts)
		return fail(c, MIME_LIMIT, "too many MIME parts");
	if (parent->nchildren == parent->children_cap_) {
		size_t cap = parent->children_cap_ ?
		    parent->children_cap_ * 2 : 4;
		struct mime_entity **v = realloc(parent->children,
		    cap * sizeof(*v));
		if (v == NULL)
			return fail(c, MIME_NOMEM, "out of memory");
		parent->children = v;
		parent->children_cap_ = cap;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return fail(c, MIME_NOMEM, "out of memory");
	e->parent = parent;
	e->depth = parent->depth + 1;
	e->index = parent->nchildren;
	parent->children[parent->nchildren++] = e;
	*out = e;
	return MIME_OK;
}

/* Is there a delimiter line for boundary b (length bl) at p[0, n)? Sets
 * *close for "--b--" and *next to the start of the following line (n if
 * none). */
static int
is_delim(const unsigned char *p, size_t n, const char *b, size_t bl,
    int *close, size_t *next)
{
	size_t i;

	if (n < bl + 2 || p[0] != '-' || p[1] != '-' ||
	    memcmp(p + 2, b, bl) != 0)
		return 0;
	i = bl + 2;
	*close = 0;
	if (i + 2 <= n && p[i] == '-' && p[i + 1] == '-') {
		*close = 1;
		i += 2;
	}
	while (i < n && is_wsp(p[i]))
		i++;             /* transport padding */
	if (i == n) {
		*next = n;
		return 1;
	}
	if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n') {
		*next = i + 2;
		return 1;
	}
	if (p[i] == '\n') {
		*next = i + 1;
		return 1;
	}
	return 0;
}

/* Find the next delimiter line at a line start at or after from. Returns
 * its offset or n. */
static size_t
find_delim(const unsigned char *p, size_t n, size_t from, const char *b,
    size_t bl, int *close, size_t *next)
{
	size_t pos = from;

	for (;;) {
		const unsigned char *lf;

		if (is_delim(p + pos, n - pos, b, bl, close, next)) {
			*next += pos;
			return pos;
		}
		lf = memchr(p + pos, '\n', n - pos);
		if (lf == NULL)
			return n;
		pos = (size_t)(lf - p) + 1;
	}
}

static enum mime_status
parse_multipart(struct ctx *c, struct mime_entity *e)
{
	const char *b = mime_param(e, "boundary");
	const unsigned char *p = e->body;
	size_t n = e->body_len, bl, d, next, start;
	int close;
	enum mime_status st;

	if (b == NULL)
		return fail(c, MIME_MALFORMED, "multipart without boundary");
	if (!valid_boundary(b))
		return fail(c, MIME_MALFORMED, "bad multipart boundary");
	if (e->cte != MIME_CTE_NONE && e->cte != MIME_CTE_7BIT &&
	    e->cte != MIME_CTE_8BIT && e->cte != MIME_CTE_BINARY)
		return fail(c, MIME_MALFORMED, "encoded multipart");
	bl = strlen(b);
	/* preamble: everything before the first delimiter */
	d = find_delim(p, n, 0, b, bl, &close, &next);
	if (d == n)
		return fail(c, MIME_MALFORMED, "multipart boundary not found");
	if (close)
		return fail(c, MIME_MALFORMED, "multipart without parts");
	for (;;) {
		struct mime_entity *part;
		size_t end;

		if (next == n)
			return fail(c, MIME_MALFORMED,
			    "multipart without close delimiter");
		start = next;
		/* the next delimiter must start a line: start is one */
		d = find_delim(p, n, start, b, bl, &close, &next);
		if (d == n)
			return fail(c, MIME_MALFORMED,
			    "multipart without close delimiter");
		/* the line break before the delimiter belongs to it */
		end = d;
		if (end > start && p[end - 1] == '\n') {
			end--;
			if (end > start && p[end - 1] == '\r')
				end--;
		}
		if ((st = add_child(c, e, &part)) != MIME_OK)
			return st;
		part->raw = p + start;
		part->raw_len = end - start;
		if ((st = parse_entity(c, part, e, NULL)) != MIME_OK)
			return st;
		if (close)
			break;  /* the rest is the epilogue */
	}
	return MIME_OK;
}

/* Fill e (raw set; for a body part its headers are read from raw, for the
 * top-level entity they come from top). */
static enum mime_status
parse_entity(struct ctx *c, struct mime_entity *e,
    const struct mime_entity *parent, const char *const *top)
{
	char *own[H_N] = { NULL, NULL, NULL, NULL };
	const char *h[H_N];
	enum mime_status st = MIME_OK;
	int i;

	if (top == NULL) {
		st = read_headers(c, e, own);
		if (st != MIME_OK) {
			free_hvals(own);
			return st;
		}
		for (i = 0; i < H_N; i++)
			h[i] = own[i];
	} else {
		for (i = 0; i < H_N; i++)
			h[i] = top[i];
		e->body = e->raw;
		e->body_len = e->raw_len;
	}
	if (h[H_CT] != NULL) {
		st = parse_ctype(c, e, h[H_CT]);
	} else if (top != NULL) {
		st = fail(c, MIME_MALFORMED, "body without Content-Type");
	} else {
		/* RFC 2046 5.1.5 and 5.1: default types */
		int digest = parent != NULL && parent->type != NULL &&
		    strcmp(parent->subtype, "digest") == 0 &&
		    strcmp(parent->type, "multipart") == 0;
		e->type_default = 1;
		e->type = dupn(digest ? "message" : "text",
		    digest ? 7 : 4);
		e->subtype = dupn(digest ? "rfc822" : "plain",
		    digest ? 6 : 5);
		if (e->type == NULL || e->subtype == NULL)
			st = fail(c, MIME_NOMEM, "out of memory");
	}
	if (st == MIME_OK && h[H_CID] != NULL &&
	    (e->content_id = trimmed_dup(h[H_CID])) == NULL)
		st = fail(c, MIME_NOMEM, "out of memory");
	if (st == MIME_OK && h[H_CD] != NULL)
		st = parse_disp(c, e, h[H_CD]);
	if (st == MIME_OK && h[H_CTE] != NULL)
		st = parse_cte(c, e, h[H_CTE]);
	free_hvals(own);
	if (st != MIME_OK)
		return st;

	if (strcmp(e->type, "multipart") == 0) {
		e->data = e->body;
		e->data_len = e->body_len;
		return parse_multipart(c, e);
	}
	switch (e->cte) {
	case MIME_CTE_BASE64:
		st = b64_decode(e->body, e->body_len, &e->decoded_,
		    &e->decoded_len_);
		if (st != MIME_OK)
			return fail(c, st, st == MIME_NOMEM ? "out of memory" :
			    "bad base64");
		e->data = e->decoded_;
		e->data_len = e->decoded_len_;
		break;
	case MIME_CTE_NONE:
	case MIME_CTE_7BIT:
	case MIME_CTE_8BIT:
	case MIME_CTE_BINARY:
		e->data = e->body;
		e->data_len = e->body_len;
		break;
	case MIME_CTE_QUOTED_PRINTABLE:
	case MIME_CTE_OTHER:
		break;
	}
	return MIME_OK;
}

static void
norm_limits(struct ctx *c, const struct mime_limits *l)
{
	if (l != NULL)
		c->lim = *l;
	else
		mime_limits_default(&c->lim);
	if (c->lim.max_depth > MIME_DEPTH_CAP)
		c->lim.max_depth = MIME_DEPTH_CAP;
}

enum mime_status
mime_parse(const struct mime_headers *top, const void *body, size_t len,
    const struct mime_limits *limits, struct mime_entity **tree,
    const char **err)
{
	struct ctx c;
	struct mime_entity *e;
	const char *h[H_N];
	enum mime_status st;

	memset(&c, 0, sizeof(c));
	norm_limits(&c, limits);
	*tree = NULL;
	if (err != NULL)
		*err = NULL;
	if (len > c.lim.max_body) {
		if (err != NULL)
			*err = "body too large";
		return MIME_TOO_LARGE;
	}
	if (len == 0)
		return MIME_OK;
	if (c.lim.max_depth < 1) {
		if (err != NULL)
			*err = "MIME nesting too deep";
		return MIME_LIMIT;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL)
		goto nomem;
	if ((e->own_ = malloc(len)) == NULL) {
		free(e);
		goto nomem;
	}
	memcpy(e->own_, body, len);
	e->own_len_ = len;
	e->raw = e->own_;
	e->raw_len = len;
	e->depth = 1;
	/* The SIP headers are C strings, so they cannot hold NUL bytes. */
	h[H_CT] = top != NULL ? top->content_type : NULL;
	h[H_CID] = top != NULL ? top->content_id : NULL;
	h[H_CD] = top != NULL ? top->content_disposition : NULL;
	h[H_CTE] = top != NULL ? top->content_transfer_encoding : NULL;
	st = parse_entity(&c, e, NULL, h);
	if (st != MIME_OK) {
		free_entity(e);
		if (err != NULL)
			*err = c.err;
		return st;
	}
	e->nparts_ = c.nparts;
	*tree = e;
	return MIME_OK;
nomem:
	if (err != NULL)
		*err = "out of memory";
	return MIME_NOMEM;
}

enum mime_status
mime_graft(struct mime_entity *e, const void *bytes, size_t len,
    const struct mime_limits *limits, const char **err)
{
	struct ctx c;
	struct mime_entity *root = e, *g;
	enum mime_status st;

	memset(&c, 0, sizeof(c));
	norm_limits(&c, limits);
	if (err != NULL)
		*err = NULL;
	while (root->parent != NULL)
		root = root->parent;
	if (e->nchildren != 0 || strcmp(e->type, "multipart") == 0) {
		if (err != NULL)
			*err = "graft onto a multipart or grafted entity";
		return MIME_MALFORMED;
	}
	if (len > c.lim.max_body) {
		if (err != NULL)
			*err = "decrypted entity too large";
		return MIME_TOO_LARGE;
	}
	c.nparts = root->nparts_;
	if ((st = add_child(&c, e, &g)) != MIME_OK)
		goto out;
	g->grafted = 1;
	if ((g->own_ = malloc(len > 0 ? len : 1)) == NULL) {
		st = fail(&c, MIME_NOMEM, "out of memory");
		goto out;
	}
	if (len > 0)
		memcpy(g->own_, bytes, len);
	g->own_len_ = len;
	g->raw = g->own_;
	g->raw_len = len;
	st = parse_entity(&c, g, e, NULL);
out:
	if (st != MIME_OK) {
		/* undo: e had no children before */
		if (e->nchildren > 0)
			free_entity(e->children[0]);
		free(e->children);
		e->children = NULL;
		e->nchildren = 0;
		e->children_cap_ = 0;
		if (err != NULL)
			*err = c.err;
		return st;
	}
	root->nparts_ = c.nparts;
	return MIME_OK;
}

/* ---- lookups and iteration --------------------------------------------- */

static const char *
find_param(const struct mime_param *p, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ieq(p[i].name, name))
			return p[i].value;
	return NULL;
}

int
mime_is(const struct mime_entity *e, const char *type, const char *sub)
{
	return e->type != NULL && e->subtype != NULL &&
	    strcmp(e->type, type) == 0 && strcmp(e->subtype, sub) == 0;
}

const char *
mime_param(const struct mime_entity *e, const char *name)
{
	return find_param(e->params, e->nparams, name);
}

const char *
mime_disp_param(const struct mime_entity *e, const char *name)
{
	return find_param(e->disp_params, e->ndisp_params, name);
}

const struct mime_entity *
mime_next(const struct mime_entity *root, const struct mime_entity *e)
{
	if (e->nchildren > 0)
		return e->children[0];
	while (e != root && e->parent != NULL) {
		const struct mime_entity *p = e->parent;

		if (e->index + 1 < p->nchildren)
			return p->children[e->index + 1];
		e = p;
	}
	return NULL;
}

int
mime_walk(const struct mime_entity *root,
    int (*fn)(const struct mime_entity *e, void *arg), void *arg)
{
	const struct mime_entity *e;
	int r;

	for (e = root; e != NULL; e = mime_next(root, e))
		if ((r = fn(e, arg)) != 0)
			return r;
	return 0;
}

const struct mime_entity *
mime_find_cid(const struct mime_entity *root, const char *wanted,
    mime_cid_eq_fn eq, void *arg)
{
	const struct mime_entity *e;

	for (e = root; e != NULL; e = mime_next(root, e)) {
		if (e->content_id == NULL)
			continue;
		if (eq != NULL ? eq(e->content_id, wanted, arg) != 0 :
		    strcmp(e->content_id, wanted) == 0)
			return e;
	}
	return NULL;
}
