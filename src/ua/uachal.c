/*
 * uachal.c - the UA side of a signed challenge (digest section 4.6): the
 * body e2m/challenge.c builds, taken apart and checked. See uachal.h for
 * what is checked and how values are compared.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "e2m/mime.h"
#include "ua/uachal.h"

#define COOKIE     "z9hG4bK" /* RFC 3261 8.1.1.7 magic cookie */
#define COOKIE_LEN 7

/* A length-delimited piece of the sipfrag or of a caller's string. */
struct span {
	const char *s;
	size_t len;
};

/* The headers of the sipfrag this module looks at. */
struct frag {
	int status;
	struct span last_via; /* bottom-most Via value */
	struct span from, to, call_id, cseq, date;
	int nvia, nfrom, nto, ncall_id, ncseq, ndate;
	struct span warn[UACHAL_MAX_WARNINGS];
	size_t nwarn;
};

const char *
uachal_status_str(enum uachal_status st)
{
	switch (st) {
	case UACHAL_OK:
		return "ok";
	case UACHAL_UNSIGNED:
		return "unsigned challenge";
	case UACHAL_MALFORMED:
		return "malformed challenge";
	case UACHAL_STALE:
		return "challenge not for this request";
	case UACHAL_MISMATCH:
		return "response headers differ from the signed ones";
	case UACHAL_NOMEM:
		return "out of memory";
	}
	return "unknown";
}

/* ---- small string helpers ---- */

static int
is_ws(char c)
{
	return c == ' ' || c == '\t';
}

static struct span
trim(struct span v)
{
	while (v.len > 0 && is_ws(v.s[0])) {
		v.s++;
		v.len--;
	}
	while (v.len > 0 && is_ws(v.s[v.len - 1]))
		v.len--;
	return v;
}

static struct span
span_str(const char *s)
{
	struct span v = { s, s != NULL ? strlen(s) : 0 };
	return trim(v);
}

static int
span_eq(struct span a, struct span b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.s, b.s, a.len) == 0);
}

static int
span_eq_nocase(struct span a, const char *lit)
{
	size_t n = strlen(lit);
	return a.len == n && strncasecmp(a.s, lit, n) == 0;
}

static int
is_tchar(unsigned char c)
{
	return isalnum(c) || (c != 0 && strchr("-.!%*_+`'~", c) != NULL);
}

/* Offset of the next c outside quoted strings at or after i, or len. */
static size_t
next_unquoted(struct span v, size_t i, char c)
{
	int q = 0;

	for (; i < v.len; i++) {
		if (q && v.s[i] == '\\' && i + 1 < v.len)
			i++;
		else if (v.s[i] == '"')
			q = !q;
		else if (!q && v.s[i] == c)
			return i;
	}
	return v.len;
}

/*
 * The value of parameter name among the ";"-separated parameters of v
 * starting at offset i (v.s[i] is ';' or i == len). Returns the number of
 * occurrences (a second one makes the value ambiguous); *val the first.
 */
static int
find_param(struct span v, size_t i, const char *name, struct span *val)
{
	int n = 0;

	while (i < v.len) {
		size_t end = next_unquoted(v, i + 1, ';');
		struct span p = { v.s + i + 1, end - i - 1 };
		size_t eq = next_unquoted(p, 0, '=');
		struct span pn = trim((struct span){ p.s, eq });
		if (span_eq_nocase(pn, name)) {
			if (n++ == 0)
				*val = eq < p.len ? trim((struct span){
				    p.s + eq + 1, p.len - eq - 1 }) :
				    (struct span){ p.s + p.len, 0 };
		}
		i = end;
	}
	return n;
}

/* The tag of a From value: the header parameters follow the '>' of a
 * name-addr (a quoted display name may hold '<' or ';'), or, for a bare
 * addr-spec, its first ';' (RFC 3261 20.10: such a URI has no ';'). */
static int
from_tag(struct span v, struct span *tag)
{
	size_t lt = next_unquoted(v, 0, '<'), start;

	if (lt < v.len) {
		const char *gt = memchr(v.s + lt, '>', v.len - lt);
		if (gt == NULL)
			return -1;
		start = next_unquoted(v, (size_t)(gt - v.s), ';');
	} else {
		start = next_unquoted(v, 0, ';');
	}
	return find_param(v, start, "tag", tag) == 1 && tag->len > 0 ? 0 : -1;
}

/* The last comma-separated value of a header line (quote-aware). */
static struct span
last_value(struct span v)
{
	size_t i = 0, start = 0;

	while ((i = next_unquoted(v, i, ',')) < v.len)
		start = ++i;
	return trim((struct span){ v.s + start, v.len - start });
}

/* The branch of a Via value: parameters follow sent-by, whose first ';'
 * cannot be quoted (sent-protocol and host hold no quotes). */
static int
via_branch(struct span v, struct span *branch)
{
	const char *semi = memchr(v.s, ';', v.len);

	if (semi == NULL)
		return -1;
	return find_param(v, (size_t)(semi - v.s), "branch", branch) == 1 &&
	    branch->len > 0 ? 0 : -1;
}

/* The UA's branch equals the sipfrag's: the cookie is compared in any
 * case (some stacks rewrite its case; it is a constant and carries no
 * freshness), the random rest byte for byte because it is the UA's own
 * value, copied unchanged by the proxy (RFC 3261 16.7 and 8.2.6.2): a
 * looser comparison would only let more challenges match. */
static int
branch_eq(struct span mine, struct span theirs)
{
	return mine.len == theirs.len && mine.len > COOKIE_LEN &&
	    strncasecmp(mine.s, COOKIE, COOKIE_LEN) == 0 &&
	    strncasecmp(theirs.s, COOKIE, COOKIE_LEN) == 0 &&
	    memcmp(mine.s + COOKIE_LEN, theirs.s + COOKIE_LEN,
		mine.len - COOKIE_LEN) == 0;
}

/* CSeq = 1*DIGIT LWS Method; 0 and the parts, or -1. */
static int
cseq_split(struct span v, unsigned long *num, struct span *method)
{
	size_t i = 0;
	unsigned long n = 0;

	v = trim(v);
	if (v.len == 0 || !isdigit((unsigned char)v.s[0]))
		return -1;
	for (; i < v.len && isdigit((unsigned char)v.s[i]); i++) {
		n = n * 10 + (unsigned long)(v.s[i] - '0');
		if (n > 0x7fffffffUL) /* RFC 3261 8.1.1.5: below 2**31 */
			return -1;
	}
	if (i == v.len || !is_ws(v.s[i]))
		return -1;
	while (i < v.len && is_ws(v.s[i]))
		i++;
	method->s = v.s + i;
	method->len = v.len - i;
	for (size_t j = 0; j < method->len; j++)
		if (!is_tchar((unsigned char)method->s[j]))
			return -1;
	*num = n;
	return method->len > 0 ? 0 : -1;
}

/* Method names are case-sensitive (RFC 3261 7.1), the number numeric. */
static int
cseq_eq(struct span a, struct span b)
{
	unsigned long na, nb;
	struct span ma, mb;

	return cseq_split(a, &na, &ma) == 0 && cseq_split(b, &nb, &mb) == 0 &&
	    na == nb && span_eq(ma, mb);
}

/* ---- Date ---- */

static int
two_digits(const char *s)
{
	if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]))
		return -1;
	return (s[0] - '0') * 10 + (s[1] - '0');
}

int
uachal_date_parse(const char *s, size_t len, long long *t)
{
	static const char wk[] = "SunMonTueWedThuFriSat";
	static const char mon[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	/* "Fri, 27 Nov 2026 11:54:01 GMT": 29 characters, fixed columns. */
	struct tm tm = { 0 }, back;
	int wday = -1, m = -1, y1, y2;

	if (s == NULL || len != 29 || s[3] != ',' || s[4] != ' ' ||
	    s[7] != ' ' || s[11] != ' ' || s[16] != ' ' || s[19] != ':' ||
	    s[22] != ':' || s[25] != ' ' || memcmp(s + 26, "GMT", 3) != 0)
		return -1;
	for (int i = 0; i < 7; i++)
		if (memcmp(s, wk + 3 * i, 3) == 0)
			wday = i;
	for (int i = 0; i < 12; i++)
		if (memcmp(s + 8, mon + 3 * i, 3) == 0)
			m = i;
	tm.tm_mday = two_digits(s + 5);
	y1 = two_digits(s + 12);
	y2 = two_digits(s + 14);
	tm.tm_hour = two_digits(s + 17);
	tm.tm_min = two_digits(s + 20);
	tm.tm_sec = two_digits(s + 23);
	if (wday < 0 || m < 0 || tm.tm_mday < 1 || y1 < 0 || y2 < 0 ||
	    tm.tm_hour < 0 || tm.tm_hour > 23 || tm.tm_min < 0 ||
	    tm.tm_min > 59 || tm.tm_sec < 0 || tm.tm_sec > 60)
		return -1;
	tm.tm_mon = m;
	tm.tm_year = y1 * 100 + y2 - 1900;
	if (tm.tm_year < 70)
		return -1;
	time_t v = timegm(&tm);
	/* timegm() normalises 31 Feb to 3 Mar: a round trip catches it and
	 * a weekday that does not fit the date. */
	if (v == (time_t)-1 || gmtime_r(&v, &back) == NULL ||
	    back.tm_mday != tm.tm_mday || back.tm_mon != m ||
	    back.tm_wday != wday)
		return -1;
	*t = (long long)v;
	return 0;
}

/* ---- Warnings (digest 4.4) ---- */

/* Split header field values into warning-values (quote-aware commas). */
static const char *
split_warnings(struct span field, struct span *out, size_t *n)
{
	size_t i = 0;

	if (field.len == 0)
		return "empty Warning";
	for (;;) {
		size_t end = next_unquoted(field, i, ',');
		struct span v = trim((struct span){ field.s + i, end - i });
		if (v.len == 0)
			return "empty warning-value";
		if (*n == UACHAL_MAX_WARNINGS)
			return "too many Warning values";
		out[(*n)++] = v;
		if (end == field.len)
			return NULL;
		i = end + 1;
	}
}

/* Lower-cased media type "type/subtype" of tokens into dst; 0 or -1. */
static int
copy_type(struct span t, char *dst)
{
	size_t slash = 0;

	t = trim(t);
	if (t.len == 0 || t.len >= UACHAL_TYPE_LEN)
		return -1;
	for (size_t i = 0; i < t.len; i++) {
		unsigned char c = (unsigned char)t.s[i];
		if (c == '/' && slash == 0 && i > 0)
			slash = i;
		else if (!is_tchar(c))
			return -1;
		dst[i] = (char)tolower(c);
	}
	dst[t.len] = '\0';
	return slash > 0 && slash + 1 < t.len ? 0 : -1;
}

/* One warning-value = warn-code SP warn-agent SP warn-text. Values with
 * another code, or whose text does not say "Required to view" (RFC 5630
 * gave 380 another meaning), are not ours and are skipped. */
static const char *
take_warning(struct span v, unsigned code, struct uachal *c)
{
	static const char req[] = "required to view";
	const char *sp1, *sp2, *q1, *q2;
	struct span agent, text;
	unsigned got = 0;

	if (v.len < 5 || v.s[3] != ' ')
		return "bad warning-value";
	for (int i = 0; i < 3; i++) {
		if (!isdigit((unsigned char)v.s[i]))
			return "bad warn-code";
		got = got * 10 + (unsigned)(v.s[i] - '0');
	}
	sp1 = v.s + 3;
	sp2 = memchr(sp1 + 1, ' ', v.len - 4);
	if (sp2 == NULL || sp2 == sp1 + 1)
		return "bad warn-agent";
	agent = (struct span){ sp1 + 1, (size_t)(sp2 - sp1 - 1) };
	text = trim((struct span){ sp2 + 1, v.len - (size_t)(sp2 - v.s) - 1 });
	if (got != code)
		return NULL;
	if (text.len < 2 || text.s[0] != '"' || text.s[text.len - 1] != '"')
		return "bad warn-text";
	text.s++;
	text.len -= 2;
	if (text.len < sizeof req - 1 ||
	    strncasecmp(text.s, req, sizeof req - 1) != 0)
		return NULL;
	if (agent.len >= UACHAL_AGENT_LEN)
		return "warn-agent too long";
	for (size_t i = 0; i < agent.len; i++)
		if (agent.s[i] == '"' || (unsigned char)agent.s[i] <= ' ')
			return "bad warn-agent";
	if (c->warn_agent[0] == '\0') {
		memcpy(c->warn_agent, agent.s, agent.len);
		c->warn_agent[agent.len] = '\0';
	} else if (strlen(c->warn_agent) != agent.len ||
	    strncasecmp(c->warn_agent, agent.s, agent.len) != 0) {
		/* One challenge comes from one proxy: step 4 compares one
		 * host with the certificate. */
		return "Warnings name different agents";
	}
	/* Lenient (digest 4.4): the type is between the first two quotes. */
	q1 = memchr(text.s, '\'', text.len);
	if (q1 == NULL)
		return NULL; /* no type named: the whole body is wanted */
	q2 = memchr(q1 + 1, '\'', text.len - (size_t)(q1 + 1 - text.s));
	if (q2 == NULL)
		return "unterminated type in Warning";
	if (c->ntypes == UACHAL_MAX_TYPES)
		return "too many required types";
	if (copy_type((struct span){ q1 + 1, (size_t)(q2 - q1 - 1) },
	    c->types[c->ntypes]) != 0)
		return "bad content type in Warning";
	c->ntypes++;
	return NULL;
}

static const char *
take_warnings(const struct span *w, size_t n, unsigned code,
    struct uachal *c)
{
	for (size_t i = 0; i < n; i++) {
		const char *why = take_warning(w[i], code, c);
		if (why != NULL)
			return why;
	}
	return NULL;
}

/* The response's Warning header fields as warning-values. */
static const char *
resp_warnings(const struct uachal_response *resp, struct span *out,
    size_t *n)
{
	*n = 0;
	if (resp->nwarnings > 0 && resp->warnings == NULL)
		return "no Warning values";
	for (size_t i = 0; i < resp->nwarnings; i++) {
		const char *why;
		if (resp->warnings[i] == NULL)
			return "NULL Warning value";
		if (strlen(resp->warnings[i]) > UACHAL_MAX_VALUE)
			return "Warning too long";
		why = split_warnings(span_str(resp->warnings[i]), out, n);
		if (why != NULL)
			return why;
	}
	return NULL;
}

/* ---- the sipfrag ---- */

/* "SIP/2.0 ddd [reason]"; the version in any case (RFC 3261 7.1). */
static int
status_line(struct span l)
{
	if (l.len < 11 || strncasecmp(l.s, "SIP/2.0 ", 8) != 0 ||
	    (l.len > 11 && l.s[11] != ' '))
		return -1;
	int code = 0;
	for (size_t i = 8; i < 11; i++) {
		if (!isdigit((unsigned char)l.s[i]))
			return -1;
		code = code * 10 + (l.s[i] - '0');
	}
	return code;
}

/* Record one header; names case-insensitive, compact forms (RFC 3261
 * 7.3.3) accepted. Others are ignored: RFC 3420 allows any subset. */
static const char *
frag_header(struct frag *f, struct span name, struct span v)
{
	if (span_eq_nocase(name, "Via") || span_eq_nocase(name, "v")) {
		if (v.len == 0)
			return "empty Via in sipfrag";
		f->last_via = last_value(v);
		f->nvia++;
	} else if (span_eq_nocase(name, "From") || span_eq_nocase(name, "f")) {
		f->from = v;
		f->nfrom++;
	} else if (span_eq_nocase(name, "To") || span_eq_nocase(name, "t")) {
		f->to = v;
		f->nto++;
	} else if (span_eq_nocase(name, "Call-ID") ||
	    span_eq_nocase(name, "i")) {
		f->call_id = v;
		f->ncall_id++;
	} else if (span_eq_nocase(name, "CSeq")) {
		f->cseq = v;
		f->ncseq++;
	} else if (span_eq_nocase(name, "Date")) {
		f->date = v;
		f->ndate++;
	} else if (span_eq_nocase(name, "Warning")) {
		return split_warnings(v, f->warn, &f->nwarn);
	}
	return NULL;
}

/* One header line "name HCOLON value". Folded lines are refused: the
 * proxy never folds, and a continuation would have to be joined. */
static const char *
frag_line(struct frag *f, struct span l)
{
	size_t i = 0;

	if (l.len > UACHAL_MAX_VALUE)
		return "sipfrag line too long";
	if (l.len > 0 && is_ws(l.s[0]))
		return "folded header in sipfrag";
	while (i < l.len && is_tchar((unsigned char)l.s[i]))
		i++;
	struct span name = { l.s, i };
	while (i < l.len && is_ws(l.s[i]))
		i++;
	if (name.len == 0 || i == l.len || l.s[i] != ':')
		return "bad header line in sipfrag";
	i++;
	return frag_header(f, name, trim((struct span){ l.s + i, l.len - i }));
}

static const char *
frag_parse(const unsigned char *p, size_t n, struct frag *f)
{
	size_t i = 0, lines = 0;

	memset(f, 0, sizeof *f);
	f->status = -1;
	for (size_t k = 0; k < n; k++) {
		unsigned char ch = p[k];
		if ((ch < 0x20 && ch != '\t' && ch != '\r' && ch != '\n') ||
		    ch == 0x7f)
			return "control character in sipfrag";
	}
	while (i < n) {
		const unsigned char *nl = memchr(p + i, '\n', n - i);
		size_t end = nl != NULL ? (size_t)(nl - p) : n;
		struct span l = { (const char *)p + i, end - i };
		i = end + 1;
		if (l.len > 0 && l.s[l.len - 1] == '\r')
			l.len--;
		if (memchr(l.s, '\r', l.len) != NULL)
			return "bare CR in sipfrag";
		if (lines == 0) {
			if ((f->status = status_line(l)) < 0)
				return "sipfrag does not start with a status"
				       " line";
		} else if (l.len == 0) {
			break; /* a sipfrag body, if any, is not looked at */
		} else {
			const char *why;
			if (lines > UACHAL_MAX_HEADERS)
				return "too many headers in sipfrag";
			if ((why = frag_line(f, l)) != NULL)
				return why;
		}
		lines++;
	}
	if (f->status < 0)
		return "empty sipfrag";
	if (f->nvia == 0)
		return "no Via in sipfrag";
	if (f->nfrom != 1 || f->nto != 1 || f->ncall_id != 1 ||
	    f->ncseq != 1 || f->ndate != 1)
		return "sipfrag lacks or repeats From, To, Call-ID, CSeq or"
		       " Date";
	return NULL;
}

/* ---- the MIME layout ---- */

static int
is_type(const struct mime_entity *e, const char *type, const char *sub)
{
	return e != NULL && strcmp(e->type, type) == 0 &&
	    strcmp(e->subtype, sub) == 0;
}

static int
is_sig_type(const struct mime_entity *e)
{
	return is_type(e, "application", "pkcs7-signature") ||
	    is_type(e, "application", "x-pkcs7-signature");
}

/* Digest 4.6 layout; on success the parts in *frag, *cert, *sig. */
static const char *
check_layout(const struct mime_entity *root, const struct mime_entity **frag,
    const struct mime_entity **cert, const struct mime_entity **sig)
{
	const char *proto = mime_param(root, "protocol");

	if (!is_type(root, "multipart", "signed"))
		return "not multipart/signed";
	if (proto == NULL || (strcasecmp(proto, "application/pkcs7-signature")
	    != 0 && strcasecmp(proto, "application/x-pkcs7-signature") != 0))
		return "multipart/signed protocol is not pkcs7-signature";
	if (root->nchildren != 2)
		return "multipart/signed without exactly two parts";
	const struct mime_entity *mix = root->children[0];
	*sig = root->children[1];
	if (!is_type(mix, "multipart", "mixed") || mix->nchildren != 2)
		return "signed part is not multipart/mixed of two parts";
	if (!is_sig_type(*sig))
		return "second part is not a pkcs7-signature";
	*frag = mix->children[0];
	*cert = mix->children[1];
	if (!is_type(*frag, "message", "sipfrag"))
		return "first signed part is not message/sipfrag";
	if (!is_type(*cert, "application", "pkix-cert"))
		return "second signed part is not application/pkix-cert";
	if ((*frag)->data == NULL || (*cert)->data == NULL ||
	    (*sig)->data == NULL)
		return "part in an encoding that is not decoded";
	if ((*cert)->data_len == 0 || (*sig)->data_len == 0)
		return "empty certificate or signature";
	return NULL;
}

/* ---- freshness and consistency ---- */

/* The sipfrag answers req (step 5). */
static const char *
check_fresh(const struct frag *f, const struct uachal_request *req)
{
	struct span tag, branch;

	if (!span_eq(f->call_id, span_str(req->call_id)))
		return "Call-ID is not the request's";
	if (!cseq_eq(f->cseq, span_str(req->cseq)))
		return "CSeq is not the request's";
	if (from_tag(f->from, &tag) != 0)
		return "no From tag in sipfrag";
	if (!span_eq(tag, span_str(req->from_tag)))
		return "From tag is not the request's";
	/* The bottom-most Via is the one the UA itself put in; proxies add
	 * theirs above it. */
	if (via_branch(f->last_via, &branch) != 0)
		return "no branch in the bottom Via of the sipfrag";
	if (!branch_eq(span_str(req->branch), branch))
		return "Via branch is not the request's";
	return NULL;
}

/* The response's own headers are the signed ones. The UA acts on the
 * response it received, and only the sipfrag is covered by the signature:
 * a Warning added on the way (a type, or another agent) would steer the UA
 * with unsigned data, and one removed would change what it discloses.
 * Requiring equality makes every header the UA reads a signed one. */
static const char *
check_same(const struct frag *f, const struct uachal_response *resp,
    const struct span *rw, size_t nrw)
{
	if (f->status != resp->status)
		return "sipfrag status is not the response's";
	if (resp->to == NULL || !span_eq(f->to, span_str(resp->to)))
		return "To is not the signed one";
	if (resp->date == NULL || !span_eq(f->date, span_str(resp->date)))
		return "Date is not the signed one";
	if (nrw != f->nwarn)
		return "Warnings are not the signed ones";
	for (size_t i = 0; i < nrw; i++)
		if (!span_eq(rw[i], f->warn[i]))
			return "Warnings are not the signed ones";
	return NULL;
}

static const char *
check_date(const struct uachal_request *req, long long now,
    unsigned max_skew, long long t)
{
	if (t > now + (long long)max_skew || t < now - (long long)max_skew)
		return "Date outside the allowed skew";
	/* Signed before the request left: an old challenge. */
	if (t < req->sent_at - (long long)max_skew)
		return "Date before the request was sent";
	return NULL;
}

/* ---- entry points ---- */

static int
req_ok(const struct uachal_request *r)
{
	return r->call_id != NULL && r->cseq != NULL && r->from_tag != NULL &&
	    r->branch != NULL && span_str(r->call_id).len > 0 &&
	    span_str(r->from_tag).len > 0;
}

static enum uachal_status
fail(enum uachal_status st, const char *reason, const char **why,
    struct uachal *c)
{
	uachal_free(c);
	if (why != NULL)
		*why = reason;
	return st;
}

/* Legacy draft form: a bare certificate, nothing signed. */
static enum uachal_status
parse_unsigned(struct uachal *c, const struct mime_entity *root,
    const struct uachal_response *resp, unsigned code, struct uachal **out,
    const char **why)
{
	struct span rw[UACHAL_MAX_WARNINGS];
	size_t nrw;
	const char *reason;

	if (root->data == NULL || root->data_len == 0)
		return fail(UACHAL_MALFORMED, "empty certificate", why, c);
	if ((reason = resp_warnings(resp, rw, &nrw)) != NULL ||
	    (reason = take_warnings(rw, nrw, code, c)) != NULL)
		return fail(UACHAL_MALFORMED, reason, why, c);
	c->cert = root->data;
	c->cert_len = root->data_len;
	*out = c;
	if (why != NULL)
		*why = "unsigned challenge: only a certificate";
	return UACHAL_UNSIGNED;
}

enum uachal_status
uachal_parse(const struct uachal_request *req,
    const struct uachal_response *resp, unsigned warn_code, long long now,
    unsigned max_skew, struct uachal **out, const char **why)
{
	struct mime_headers top = { 0 };
	struct mime_limits lim = { UACHAL_MAX_BODY, 3, 4 };
	struct mime_entity *root = NULL;
	const struct mime_entity *fp, *cp, *sp;
	struct span rw[UACHAL_MAX_WARNINGS];
	size_t nrw;
	struct frag f;
	struct uachal *c;
	const char *reason = NULL;
	long long t = -1;

	if (out == NULL)
		return fail(UACHAL_MALFORMED, "no output", why, NULL);
	*out = NULL;
	if (req == NULL || resp == NULL || !req_ok(req))
		return fail(UACHAL_MALFORMED, "incomplete request", why, NULL);
	/* Without the cookie the branch is not unique (RFC 3261 8.1.1.7) and
	 * proves nothing about freshness. */
	if (strlen(req->branch) <= COOKIE_LEN ||
	    strncasecmp(req->branch, COOKIE, COOKIE_LEN) != 0)
		return fail(UACHAL_MALFORMED, "request branch lacks the cookie",
		    why, NULL);
	/* Digest 4.4: only with a 495 or 496 is the warn-code ours. */
	if (resp->status != 495 && resp->status != 496)
		return fail(UACHAL_MALFORMED, "not a 495 or 496", why, NULL);
	if (resp->body == NULL || resp->body_len == 0)
		return fail(UACHAL_MALFORMED, "no body", why, NULL);
	if (resp->body_len > UACHAL_MAX_BODY)
		return fail(UACHAL_MALFORMED, "body too large", why, NULL);
	if (resp->content_type == NULL)
		return fail(UACHAL_MALFORMED, "no Content-Type", why, NULL);

	top.content_type = resp->content_type;
	top.content_transfer_encoding = resp->content_transfer_encoding;
	enum mime_status ms = mime_parse(&top, resp->body, resp->body_len,
	    &lim, &root, &reason);
	if (ms == MIME_NOMEM)
		return fail(UACHAL_NOMEM, "out of memory", why, NULL);
	if (ms != MIME_OK || root == NULL)
		return fail(UACHAL_MALFORMED, "body is not valid MIME", why,
		    NULL);
	if ((c = calloc(1, sizeof *c)) == NULL) {
		mime_free(root);
		return fail(UACHAL_NOMEM, "out of memory", why, NULL);
	}
	c->tree_ = root;
	c->frag_date = -1;

	if (is_type(root, "application", "pkix-cert"))
		return parse_unsigned(c, root, resp, warn_code, out, why);
	if ((reason = check_layout(root, &fp, &cp, &sp)) != NULL ||
	    (reason = frag_parse(fp->data, fp->data_len, &f)) != NULL ||
	    (reason = resp_warnings(resp, rw, &nrw)) != NULL)
		return fail(UACHAL_MALFORMED, reason, why, c);
	if ((reason = check_same(&f, resp, rw, nrw)) != NULL)
		return fail(UACHAL_MISMATCH, reason, why, c);
	if ((reason = take_warnings(f.warn, f.nwarn, warn_code, c)) != NULL)
		return fail(UACHAL_MALFORMED, reason, why, c);
	if ((reason = check_fresh(&f, req)) != NULL)
		return fail(UACHAL_STALE, reason, why, c);
	if (uachal_date_parse(f.date.s, f.date.len, &t) != 0)
		return fail(UACHAL_MALFORMED, "bad Date in sipfrag", why, c);
	if ((reason = check_date(req, now, max_skew, t)) != NULL)
		return fail(UACHAL_STALE, reason, why, c);

	c->frag_date = t;
	c->signed_part = fp->parent->raw;
	c->signed_part_len = fp->parent->raw_len;
	c->signature = sp->data;
	c->signature_len = sp->data_len;
	c->cert = cp->data;
	c->cert_len = cp->data_len;
	*out = c;
	if (why != NULL)
		*why = "ok";
	return UACHAL_OK;
}

void
uachal_free(struct uachal *c)
{
	if (c == NULL)
		return;
	mime_free(c->tree_);
	free(c);
}
