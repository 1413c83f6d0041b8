/* test_mime.c - unit tests for the MIME body tree (mime.c). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "e2m/mime.h"
#include "t.h"

static enum mime_status
parse_ct(const char *ct, const char *body, size_t len,
    const struct mime_limits *lim, struct mime_entity **tree,
    const char **err)
{
	struct mime_headers h;

	memset(&h, 0, sizeof(h));
	h.content_type = ct;
	return mime_parse(&h, body, len, lim, tree, err);
}

/* Parse with defaults; the status only (the tree is freed). */
static enum mime_status
status_of(const char *ct, const char *body)
{
	struct mime_entity *t = NULL;
	enum mime_status st = parse_ct(ct, body, strlen(body), NULL, &t,
	    NULL);

	mime_free(t);
	return st;
}

static int
mem_is(const unsigned char *p, size_t n, const char *want)
{
	return p != NULL && n == strlen(want) && memcmp(p, want, n) == 0;
}

static int
count_cb(const struct mime_entity *e, void *arg)
{
	(void)e;
	(*(int *)arg)++;
	return 0;
}

/* Content-ID comparison like the label module's: strip <>, case-blind. */
static int
cid_eq(const char *have, const char *want, void *arg)
{
	size_t n = strlen(have);

	(*(int *)arg)++;
	if (n >= 2 && have[0] == '<' && have[n - 1] == '>') {
		have++;
		n -= 2;
	}
	return strlen(want) == n && strncasecmp(have, want, n) == 0;
}

static void
test_single(void)
{
	struct mime_headers h = {
		"Application/SDP ; charset = \"utf-8\"",
		" <1234@atlanta.example.com> ",
		"session;handling=Required",
		"binary"
	};
	const char body[] = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n";
	struct mime_entity *t = NULL;
	const char *err = "x";
	enum mime_status st;

	st = mime_parse(&h, body, strlen(body), NULL, &t, &err);
	T_EQ_INT(st, MIME_OK, "single: parses");
	T_OK(err == NULL, "single: no reason on success");
	if (t == NULL)
		return;
	T_EQ_STR(t->type, "application", "single: type lower-cased");
	T_EQ_STR(t->subtype, "sdp", "single: subtype lower-cased");
	T_EQ_STR(mime_param(t, "CHARSET"), "utf-8",
	    "single: quoted param, case-blind name");
	T_EQ_STR(t->content_id, "<1234@atlanta.example.com>",
	    "single: Content-ID raw value, trimmed");
	T_EQ_STR(t->disposition, "session", "single: disposition");
	T_EQ_STR(t->handling, "required", "single: handling lower-cased");
	T_EQ_INT(t->cte, MIME_CTE_BINARY, "single: binary");
	T_OK(mem_is(t->raw, t->raw_len, body), "single: raw = SIP body");
	T_OK(mem_is(t->data, t->data_len, body), "single: data = body");
	T_EQ_INT(t->depth, 1, "single: depth 1");
	T_OK(t->parent == NULL && t->nchildren == 0, "single: no relatives");
	T_OK(t->raw != (const unsigned char *)body, "single: body copied");
	mime_free(t);
}

static const char mixed_body[] =
    "--boundary1\r\n"
    "Content-Type: application/pkcs7-mime;smime-type=enveloped-data;"
    "name=smime.p7m\r\n"
    "Content-ID: 3333@atlanta.example.com\r\n"
    "Content-Disposition: attachment;filename=smime.p7m;handling=optional\r\n"
    "\r\n"
    "AAAA\r\n"
    "--boundary1\r\n"
    "Content-Type: application/pkcs7-mime;smime-type=enveloped-data;"
    "name=smime.p7m\r\n"
    "Content-ID: <4444@atlanta.example.com>\r\n"
    "Content-Disposition: attachment;filename=smime.p7m;handling=required\r\n"
    "\r\n"
    "BBBB\r\n"
    "--boundary1--\r\n";

static void
test_mixed(void)
{
	struct mime_headers h = { "multipart/mixed; boundary=boundary1",
		"1234@atlanta.example.com",
		"attachment;filename=smime.p7m;handling=required", NULL };
	struct mime_entity *t = NULL;
	const struct mime_entity *a, *b, *f;
	enum mime_status st;
	int n = 0, calls = 0;

	st = mime_parse(&h, mixed_body, strlen(mixed_body), NULL, &t, NULL);
	T_EQ_INT(st, MIME_OK, "mixed: parses");
	if (t == NULL)
		return;
	T_EQ_INT(t->nchildren, 2, "mixed: two parts");
	T_EQ_STR(t->handling, "required", "mixed: top handling");
	if (t->nchildren != 2)
		goto out;
	a = t->children[0];
	b = t->children[1];
	T_EQ_STR(a->subtype, "pkcs7-mime", "mixed: part 1 subtype");
	T_EQ_STR(mime_param(a, "smime-type"), "enveloped-data",
	    "mixed: part 1 smime-type");
	T_EQ_STR(a->content_id, "3333@atlanta.example.com",
	    "mixed: part 1 Content-ID");
	T_EQ_STR(a->handling, "optional", "mixed: part 1 handling");
	T_EQ_STR(mime_disp_param(a, "filename"), "smime.p7m",
	    "mixed: disposition param");
	T_OK(mem_is(a->data, a->data_len, "AAAA"),
	    "mixed: part 1 body without the CRLF of the boundary");
	T_EQ_STR(b->content_id, "<4444@atlanta.example.com>",
	    "mixed: part 2 Content-ID");
	T_EQ_STR(b->handling, "required", "mixed: part 2 handling");
	T_OK(mem_is(b->data, b->data_len, "BBBB"), "mixed: part 2 body");
	T_OK(a->parent == t && b->index == 1 && b->depth == 2,
	    "mixed: parent, index, depth");
	T_EQ_INT(a->cte, MIME_CTE_NONE, "mixed: no CTE header");
	mime_walk(t, count_cb, &n);
	T_EQ_INT(n, 3, "mixed: walk visits 3 entities");
	f = mime_find_cid(t, "4444@atlanta.example.com", NULL, NULL);
	T_OK(f == NULL, "mixed: exact find does not strip <>");
	f = mime_find_cid(t, "4444@ATLANTA.example.com", cid_eq, &calls);
	T_OK(f == b, "mixed: find with callback");
	T_EQ_INT(calls, 3, "mixed: callback called per Content-ID");
	f = mime_find_cid(t, "3333@atlanta.example.com", NULL, NULL);
	T_OK(f == a, "mixed: exact find");
	T_OK(mime_find_cid(a, "1234@atlanta.example.com", NULL, NULL) == NULL,
	    "mixed: find limited to the subtree");
	T_OK(mime_next(t, b) == NULL && mime_next(a, a) == NULL,
	    "mixed: mime_next ends");
out:
	mime_free(t);
}

/* multipart/signed inside multipart/mixed; exact bytes of the signed
 * part. */
static void
test_signed_in_mixed(void)
{
	const char signed_first[] =
	    "Content-Type: text/plain\r\n"
	    "\r\n"
	    "hello\r\n"
	    "\r\n"
	    "world";
	char body[1024];
	struct mime_entity *t = NULL;
	const struct mime_entity *s, *p1, *sig;
	const char *where;
	enum mime_status st;

	snprintf(body, sizeof(body),
	    "preamble text\r\n"
	    "--outer\r\n"
	    "Content-Type: multipart/signed;"
	    " protocol=\"application/pkcs7-signature\";"
	    " micalg=sha-256; boundary=\"inner\"\r\n"
	    "\r\n"
	    "--inner\r\n"
	    "%s\r\n"
	    "--inner\r\n"
	    "Content-Type: application/pkcs7-signature; name=smime.p7s\r\n"
	    "Content-Transfer-Encoding: binary\r\n"
	    "Content-ID: 1234@atlanta.example.com\r\n"
	    "\r\n"
	    "SIG\r\n"
	    "--inner--\r\n"
	    "\r\n"
	    "--outer\r\n"
	    "\r\n"
	    "no headers here\r\n"
	    "--outer--\r\n"
	    "epilogue --outer\r\n",
	    signed_first);
	st = parse_ct("multipart/mixed;boundary=outer", body, strlen(body),
	    NULL, &t, NULL);
	T_EQ_INT(st, MIME_OK, "signed in mixed: parses");
	if (t == NULL)
		return;
	T_EQ_INT(t->nchildren, 2, "signed in mixed: preamble/epilogue ignored");
	if (t->nchildren != 2 || t->children[0]->nchildren != 2)
		goto out;
	s = t->children[0];
	p1 = s->children[0];
	sig = s->children[1];
	T_EQ_STR(s->subtype, "signed", "signed in mixed: signed part");
	T_EQ_STR(mime_param(s, "protocol"), "application/pkcs7-signature",
	    "signed in mixed: protocol unquoted");
	T_OK(mem_is(p1->raw, p1->raw_len, signed_first),
	    "signed in mixed: first part raw bytes exact");
	where = strstr(body, "Content-Type: text/plain");
	T_OK(p1->raw == t->raw + (where - body),
	    "signed in mixed: raw points at its place in the body");
	T_OK(mem_is(p1->data, p1->data_len, "hello\r\n\r\nworld"),
	    "signed in mixed: first part body");
	T_OK(mem_is(sig->data, sig->data_len, "SIG"),
	    "signed in mixed: signature body");
	T_EQ_INT(sig->depth, 3, "signed in mixed: depth 3");
	T_OK(t->children[1]->type_default &&
	    strcmp(t->children[1]->type, "text") == 0 &&
	    strcmp(t->children[1]->subtype, "plain") == 0,
	    "signed in mixed: part without headers is text/plain");
	T_OK(mem_is(t->children[1]->data, t->children[1]->data_len,
	    "no headers here"), "signed in mixed: headerless body");
	T_OK(mime_find_cid(t, "1234@atlanta.example.com", NULL, NULL) == sig,
	    "signed in mixed: find nested cid");
out:
	mime_free(t);
}

/* multipart/mixed inside multipart/signed: the signed first part is
 * itself multipart and its raw bytes include its headers. */
static void
test_mixed_in_signed(void)
{
	const char first[] =
	    "Content-Type: multipart/mixed; boundary=m\r\n"
	    "\r\n"
	    "--m\r\n"
	    "Content-Type: application/sdp\r\n"
	    "\r\n"
	    "v=0\r\n"
	    "--m\r\n"
	    "Content-Type: text/plain\r\n"
	    "\r\n"
	    "hi\r\n"
	    "--m--";
	char body[1024];
	struct mime_entity *t = NULL;
	const struct mime_entity *m;
	enum mime_status st;

	snprintf(body, sizeof(body),
	    "--s\r\n%s\r\n--s\r\n"
	    "Content-Type: application/pkcs7-signature\r\n\r\nXX\r\n--s--",
	    first);
	st = parse_ct("multipart/signed; protocol=\"application/"
	    "pkcs7-signature\"; boundary=s", body, strlen(body), NULL, &t,
	    NULL);
	T_EQ_INT(st, MIME_OK, "mixed in signed: parses (no final CRLF)");
	if (t == NULL)
		return;
	m = t->nchildren == 2 ? t->children[0] : NULL;
	T_OK(m != NULL && mem_is(m->raw, m->raw_len, first),
	    "mixed in signed: first part raw bytes exact");
	T_OK(m != NULL && m->nchildren == 2 &&
	    mem_is(m->children[0]->data, m->children[0]->data_len, "v=0") &&
	    strcmp(m->children[1]->subtype, "plain") == 0,
	    "mixed in signed: inner parts");
	mime_free(t);
}

static void
test_encodings(void)
{
	const char body[] =
	    "--b\r\n"
	    "Content-Type: application/octet-stream\r\n"
	    "Content-Transfer-Encoding: BASE64\r\n"
	    "\r\n"
	    "AAEC/wBo\r\n"
	    "ZWxsbw==\r\n"
	    "--b\r\n"
	    "Content-Type: application/pkcs7-mime\r\n"
	    "Content-Transfer-Encoding: binary\r\n"
	    "\r\n"
	    "\x30\x00\x01\xff\r\n\r\x00"
	    "\r\n"
	    "--b\r\n"
	    "Content-Type: text/plain\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n"
	    "\r\n"
	    "a=3Db\r\n"
	    "--b--\r\n";
	const unsigned char want64[] = { 0, 1, 2, 0xff, 0, 'h', 'e', 'l',
		'l', 'o' };
	const unsigned char wantbin[] = { 0x30, 0, 1, 0xff, '\r', '\n', '\r',
		0 };
	struct mime_entity *t = NULL;
	enum mime_status st;

	st = parse_ct("multipart/mixed;boundary=b", body, sizeof(body) - 1,
	    NULL, &t, NULL);
	T_EQ_INT(st, MIME_OK, "encodings: parses (NUL bytes in a body)");
	if (t == NULL || t->nchildren != 3) {
		T_OK(0, "encodings: three parts");
		mime_free(t);
		return;
	}
	T_EQ_INT(t->children[0]->cte, MIME_CTE_BASE64, "encodings: base64");
	T_OK(t->children[0]->data_len == sizeof(want64) &&
	    memcmp(t->children[0]->data, want64, sizeof(want64)) == 0,
	    "encodings: base64 decoded across line breaks");
	T_OK(mem_is(t->children[0]->body, t->children[0]->body_len,
	    "AAEC/wBo\r\nZWxsbw=="), "encodings: encoded body kept");
	T_OK(t->children[1]->data_len == sizeof(wantbin) &&
	    memcmp(t->children[1]->data, wantbin, sizeof(wantbin)) == 0,
	    "encodings: binary kept as is");
	T_OK(t->children[2]->cte == MIME_CTE_QUOTED_PRINTABLE &&
	    t->children[2]->data == NULL,
	    "encodings: quoted-printable kept, not decoded");
	mime_free(t);
}

static void
test_base64(void)
{
	const char *ok[] = { "", "Zg==", "Zm8=", "Zm9v", " Zm9v\r\n YmFy \t",
		"Zm\r\n9v" };
	const char *bad[] = { "Zg=", "Zm9", "Z===", "Zg==Zm9v", "Zm9v!",
		"Zm9v=", "=Zm9", "Zg=x", "Zm9v\x00" };
	size_t i;
	char name[64];

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct mime_headers h = { "application/octet-stream", NULL,
			NULL, "base64" };
		struct mime_entity *t = NULL;
		enum mime_status st = mime_parse(&h, ok[i], strlen(ok[i]) + 0,
		    NULL, &t, NULL);
		snprintf(name, sizeof(name), "base64: good %zu", i);
		T_EQ_INT(st, MIME_OK, name);
		mime_free(t);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct mime_headers h = { "application/octet-stream", NULL,
			NULL, "base64" };
		struct mime_entity *t = NULL;
		const char *err = NULL;
		/* include the NUL of the last one */
		size_t n = strlen(bad[i]) + (i == 8 ? 1 : 0);
		enum mime_status st = mime_parse(&h, bad[i], n, NULL, &t, &err);
		snprintf(name, sizeof(name), "base64: bad %zu rejected", i);
		T_EQ_INT(st, MIME_MALFORMED, name);
		T_OK(t == NULL && err != NULL, "base64: no tree, a reason");
	}
	{
		struct mime_headers h = { "text/plain", NULL, NULL, "base64" };
		struct mime_entity *t = NULL;
		mime_parse(&h, "Zm9vYg==", 8, NULL, &t, NULL);
		T_OK(t != NULL && mem_is(t->data, t->data_len, "foob"),
		    "base64: value");
		mime_free(t);
	}
}

static void
test_boundaries(void)
{
	const char spaced[] =
	    "--a b:c'd\r\n\r\none\r\n--a b:c'd--";
	const char padded[] =
	    "--b \t\r\n\r\none\r\n--b\t\r\n\r\ntwo\r\n--b-- \r\nepilogue";
	const char lookalike[] =
	    "--b\r\n\r\n--bb\r\n--b-x\r\n--b--";
	const char lf[] =
	    "--b\n"
	    "Content-Type: text/plain\n"
	    "\n"
	    "one\n"
	    "--b\n"
	    "\n"
	    "two\r\n"
	    "--b--\n";
	struct mime_entity *t = NULL;

	T_EQ_INT(parse_ct("multipart/mixed; boundary=\"a b:c'd\"", spaced,
	    strlen(spaced), NULL, &t, NULL), MIME_OK,
	    "boundary: quoted, with spaces");
	T_OK(t != NULL && t->nchildren == 1 &&
	    mem_is(t->children[0]->data, t->children[0]->data_len, "one"),
	    "boundary: spaced boundary part");
	mime_free(t);
	t = NULL;

	T_EQ_INT(parse_ct("multipart/mixed; boundary=b", padded,
	    strlen(padded), NULL, &t, NULL), MIME_OK,
	    "boundary: transport padding");
	T_OK(t != NULL && t->nchildren == 2 &&
	    mem_is(t->children[1]->data, t->children[1]->data_len, "two"),
	    "boundary: padded parts");
	mime_free(t);
	t = NULL;

	T_EQ_INT(parse_ct("multipart/mixed; boundary=b", lookalike,
	    strlen(lookalike), NULL, &t, NULL), MIME_OK,
	    "boundary: look-alike lines are content");
	T_OK(t != NULL && t->nchildren == 1 &&
	    mem_is(t->children[0]->data, t->children[0]->data_len,
	    "--bb\r\n--b-x"), "boundary: look-alike content kept");
	mime_free(t);
	t = NULL;

	T_EQ_INT(parse_ct("multipart/mixed; boundary=b", lf, strlen(lf),
	    NULL, &t, NULL), MIME_OK, "boundary: bare LF accepted");
	T_OK(t != NULL && t->nchildren == 2 &&
	    mem_is(t->children[0]->data, t->children[0]->data_len, "one") &&
	    mem_is(t->children[1]->data, t->children[1]->data_len, "two") &&
	    mem_is(t->children[0]->raw, t->children[0]->raw_len,
	    "Content-Type: text/plain\n\none"),
	    "boundary: bare LF parts and raw bytes");
	mime_free(t);
	t = NULL;

	T_EQ_INT(status_of("multipart/mixed; boundary=\"b \"",
	    "--b \r\n\r\nx\r\n--b --"), MIME_MALFORMED,
	    "boundary: trailing space invalid");
	T_EQ_INT(status_of("multipart/mixed; boundary=\"\"", "--\r\n--"),
	    MIME_MALFORMED, "boundary: empty invalid");
	T_EQ_INT(status_of("multipart/mixed; boundary=\"a[b\"",
	    "--a[b\r\n\r\nx\r\n--a[b--"), MIME_MALFORMED,
	    "boundary: bad character invalid");
	T_EQ_INT(status_of("multipart/mixed; boundary="
	    "12345678901234567890123456789012345678901234567890"
	    "123456789012345678901",
	    "--x"), MIME_MALFORMED, "boundary: 71 characters invalid");
}

static void
test_malformed(void)
{
	const char *mp = "multipart/mixed;boundary=b";
	struct mime_entity *t = (struct mime_entity *)&t;
	const char *err = NULL;
	enum mime_status st;

	T_EQ_INT(status_of(mp, "--b\r\n\r\nx\r\n--b"), MIME_MALFORMED,
	    "malformed: missing close delimiter");
	T_EQ_INT(status_of(mp, "--b\r\n\r\nx\r\n--b\r\n\r\ny\r\n"),
	    MIME_MALFORMED, "malformed: body ends inside a part");
	T_EQ_INT(status_of(mp, "--b\r\n\r\nx\r\n--"), MIME_MALFORMED,
	    "malformed: truncated delimiter");
	T_EQ_INT(status_of(mp, "--b\r\n\r\nx\r\n-"), MIME_MALFORMED,
	    "malformed: truncated delimiter (one dash)");
	T_EQ_INT(status_of(mp, "--b"), MIME_MALFORMED,
	    "malformed: only a delimiter");
	T_EQ_INT(status_of(mp, "--b--\r\n"), MIME_MALFORMED,
	    "malformed: no body parts");
	T_EQ_INT(status_of(mp, "hello\r\nworld\r\n"), MIME_MALFORMED,
	    "malformed: boundary never present");
	T_EQ_INT(status_of(mp, "x--b\r\n\r\nx\r\n--b--"), MIME_MALFORMED,
	    "malformed: boundary not at a line start");
	T_EQ_INT(status_of("multipart/mixed", "--b\r\n\r\nx\r\n--b--"),
	    MIME_MALFORMED, "malformed: no boundary param");
	T_EQ_INT(status_of("multipart/mixed;boundary=b;boundary=c",
	    "--b\r\n\r\nx\r\n--b--"), MIME_MALFORMED,
	    "malformed: duplicate boundary param");
	T_EQ_INT(status_of("text", "x"), MIME_MALFORMED,
	    "malformed: type without subtype");
	T_EQ_INT(status_of("text/plain; charset=\"utf-8", "x"),
	    MIME_MALFORMED, "malformed: unterminated quoted param");
	T_EQ_INT(status_of("text/plain extra", "x"), MIME_MALFORMED,
	    "malformed: junk after the type");
	T_EQ_INT(status_of(mp, "--b\r\nContent-Type: text/plain\r\n"
	    "Content-Type: text/html\r\n\r\nx\r\n--b--"), MIME_MALFORMED,
	    "malformed: duplicate Content-Type in a part");
	T_EQ_INT(status_of(mp, "--b\r\nno colon here\r\n\r\nx\r\n--b--"),
	    MIME_MALFORMED, "malformed: header line without colon");
	T_EQ_INT(status_of(mp, "--b\r\n Content-Type: text/plain\r\n\r\n"
	    "x\r\n--b--"), MIME_MALFORMED,
	    "malformed: continuation without a header");
	{
		const char nul[] = "--b\r\nContent-Type: text/pl\0ain\r\n\r\n"
		    "x\r\n--b--";
		struct mime_entity *u = NULL;
		T_EQ_INT(parse_ct(mp, nul, sizeof(nul) - 1, NULL, &u, NULL),
		    MIME_MALFORMED, "malformed: NUL in a MIME header");
		mime_free(u);
	}
	{
		const char nul[] = "--b\r\nX-Other: a\0b\r\n\r\nx\r\n--b--";
		struct mime_entity *u = NULL;
		T_EQ_INT(parse_ct(mp, nul, sizeof(nul) - 1, NULL, &u, NULL),
		    MIME_MALFORMED, "malformed: NUL in another header");
		mime_free(u);
	}
	T_EQ_INT(status_of(mp, "--b\r\nContent-Type: multipart/mixed;"
	    "boundary=c\r\n\r\n--c\r\n\r\nx\r\n--b--"), MIME_MALFORMED,
	    "malformed: inner multipart not closed");
	T_EQ_INT(status_of("multipart/mixed;boundary=b", "--b\r\n"
	    "Content-Type: multipart/mixed;boundary=c\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n--c\r\n\r\nx\r\n--c--"
	    "\r\n--b--"), MIME_MALFORMED, "malformed: base64 multipart");

	st = parse_ct(NULL, "v=0\r\n", 5, NULL, &t, &err);
	T_EQ_INT(st, MIME_MALFORMED, "malformed: body without Content-Type");
	T_OK(t == NULL && err != NULL && strstr(err, "Content-Type") != NULL,
	    "malformed: reason says Content-Type");

	t = (struct mime_entity *)&t;
	st = parse_ct("multipart/mixed;boundary=b", "", 0, NULL, &t, &err);
	T_OK(st == MIME_OK && t == NULL, "empty body: OK, no tree");
	st = mime_parse(NULL, NULL, 0, NULL, &t, NULL);
	T_OK(st == MIME_OK && t == NULL, "empty body, no headers: OK");
	T_EQ_INT(status_of(mp, "--b\r\n\r\n--b--"), MIME_OK,
	    "empty part is fine");
	T_EQ_INT(mime_status_code(MIME_TOO_LARGE), 413, "code: 413");
	T_EQ_INT(mime_status_code(MIME_LIMIT), 400, "code: limit 400");
	T_EQ_INT(mime_status_code(MIME_MALFORMED), 400, "code: 400");
}

/* n nested multipart/mixed levels around one text part: n + 1 levels. */
static char *
nested(size_t n)
{
	size_t i, cap = 64 + n * 120, len = 0;
	char *s = malloc(cap);

	for (i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, cap - len,
		    "--b%zu\r\nContent-Type: multipart/mixed; boundary=b%zu\r\n"
		    "\r\n", i, i + 1);
	len += (size_t)snprintf(s + len, cap - len,
	    "--b%zu\r\n\r\nleaf\r\n--b%zu--", n, n);
	for (i = n; i-- > 0;)
		len += (size_t)snprintf(s + len, cap - len, "\r\n--b%zu--", i);
	return s;
}

static void
test_limits(void)
{
	struct mime_limits lim;
	struct mime_entity *t = NULL;
	const char *err = NULL;
	char *big, *s;
	size_t i, len;
	enum mime_status st;

	mime_limits_default(&lim);
	T_OK(lim.max_body == 65536 && lim.max_depth == 8 &&
	    lim.max_parts == 32, "limits: defaults");

	big = malloc(65537);
	memset(big, 'a', 65537);
	st = parse_ct("text/plain", big, 65536, NULL, &t, NULL);
	T_EQ_INT(st, MIME_OK, "limits: 64 KiB body fits");
	mime_free(t);
	t = NULL;
	st = parse_ct("text/plain", big, 65537, NULL, &t, &err);
	T_EQ_INT(st, MIME_TOO_LARGE, "limits: 64 KiB + 1 is too large");
	T_OK(t == NULL && err != NULL, "limits: no tree, a reason");
	/* the size check comes first, even without a Content-Type */
	st = parse_ct(NULL, big, 65537, NULL, &t, NULL);
	T_EQ_INT(st, MIME_TOO_LARGE, "limits: size checked first");
	free(big);

	/* depth: the top-level entity is level 1; 8 levels are fine */
	s = nested(6);  /* 7 multipart levels + leaf = 8 */
	st = parse_ct("multipart/mixed; boundary=b0", s, strlen(s), NULL,
	    &t, &err);
	T_EQ_INT(st, MIME_OK, "limits: depth 8 fits");
	{
		const struct mime_entity *e = t;
		while (e != NULL && e->nchildren > 0)
			e = e->children[0];
		T_OK(e != NULL && e->depth == 8 &&
		    mem_is(e->data, e->data_len, "leaf"),
		    "limits: leaf at depth 8");
	}
	mime_free(t);
	t = NULL;
	free(s);
	s = nested(7);
	st = parse_ct("multipart/mixed; boundary=b0", s, strlen(s), NULL,
	    &t, &err);
	T_EQ_INT(st, MIME_LIMIT, "limits: depth 9 is over the limit");
	T_OK(t == NULL && err != NULL && strstr(err, "deep") != NULL,
	    "limits: depth reason");
	free(s);
	s = nested(200);
	st = parse_ct("multipart/mixed; boundary=b0", s, strlen(s), NULL,
	    &t, &err);
	T_EQ_INT(st, MIME_LIMIT, "limits: depth 201 stops early");
	lim.max_depth = 1000;
	st = parse_ct("multipart/mixed; boundary=b0", s, strlen(s), &lim,
	    &t, &err);
	T_EQ_INT(st, MIME_LIMIT, "limits: depth capped at MIME_DEPTH_CAP");
	free(s);
	mime_limits_default(&lim);

	/* parts */
	s = malloc(40 * 16 + 16);
	for (len = 0, i = 0; i < 32; i++)
		len += (size_t)sprintf(s + len, "--b\r\n\r\n%zu\r\n", i);
	sprintf(s + len, "--b--");
	st = parse_ct("multipart/mixed;boundary=b", s, strlen(s), NULL, &t,
	    NULL);
	T_EQ_INT(st, MIME_OK, "limits: 32 parts fit");
	T_OK(t != NULL && t->nchildren == 32, "limits: 32 children");
	mime_free(t);
	t = NULL;
	for (len = 0, i = 0; i < 33; i++)
		len += (size_t)sprintf(s + len, "--b\r\n\r\n%zu\r\n", i);
	sprintf(s + len, "--b--");
	st = parse_ct("multipart/mixed;boundary=b", s, strlen(s), NULL, &t,
	    &err);
	T_EQ_INT(st, MIME_LIMIT, "limits: 33 parts over the limit");
	T_OK(t == NULL && err != NULL && strstr(err, "parts") != NULL,
	    "limits: parts reason");
	lim.max_parts = 2;
	st = parse_ct("multipart/mixed;boundary=boundary1", mixed_body,
	    strlen(mixed_body), &lim, &t, NULL);
	T_EQ_INT(st, MIME_OK, "limits: configured 2 parts fit");
	mime_free(t);
	t = NULL;
	lim.max_parts = 1;
	st = parse_ct("multipart/mixed;boundary=boundary1", mixed_body,
	    strlen(mixed_body), &lim, &t, NULL);
	T_EQ_INT(st, MIME_LIMIT, "limits: configured 1 part");
	free(s);
}

static void
test_graft(void)
{
	const char plain[] =
	    "Content-Type: multipart/signed; boundary=s;"
	    " protocol=\"application/pkcs7-signature\"\r\n"
	    "\r\n"
	    "--s\r\n"
	    "Content-Type: application/sdp\r\n"
	    "Content-ID: <inner@atlanta.example.com>\r\n"
	    "\r\n"
	    "v=0\r\n"
	    "--s\r\n"
	    "Content-Type: application/pkcs7-signature\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "\r\n"
	    "U0lH\r\n"
	    "--s--\r\n";
	struct mime_limits lim;
	struct mime_entity *t = NULL;
	struct mime_entity *env;
	const struct mime_entity *g, *f;
	const char *err = NULL;
	enum mime_status st;
	char *copy;
	int n = 0;

	st = parse_ct("multipart/mixed;boundary=boundary1", mixed_body,
	    strlen(mixed_body), NULL, &t, NULL);
	if (t == NULL || t->nchildren != 2) {
		T_OK(0, "graft: setup");
		mime_free(t);
		return;
	}
	T_EQ_INT(mime_graft(t, "x", 1, NULL, &err), MIME_MALFORMED,
	    "graft: not onto a multipart");
	env = t->children[0];
	copy = malloc(sizeof(plain));
	memcpy(copy, plain, sizeof(plain));
	st = mime_graft(env, copy, strlen(copy), NULL, &err);
	T_EQ_INT(st, MIME_OK, "graft: decrypted signed entity");
	memset(copy, 'Z', strlen(copy));
	free(copy);
	g = env->nchildren == 1 ? env->children[0] : NULL;
	T_OK(g != NULL && g->grafted && g->depth == 3 && g->parent == env,
	    "graft: child of the enveloped part");
	T_OK(g != NULL && mem_is(g->raw, g->raw_len, plain),
	    "graft: raw is the whole plaintext (copied)");
	T_OK(g != NULL && g->nchildren == 2 &&
	    mem_is(g->children[0]->raw, g->children[0]->raw_len,
	    "Content-Type: application/sdp\r\n"
	    "Content-ID: <inner@atlanta.example.com>\r\n\r\nv=0") &&
	    mem_is(g->children[1]->data, g->children[1]->data_len, "SIG"),
	    "graft: inner signed parts");
	mime_walk(t, count_cb, &n);
	T_EQ_INT(n, 6, "graft: walk sees grafted entities");
	f = mime_find_cid(env, "<inner@atlanta.example.com>", NULL, NULL);
	T_OK(f != NULL && f->depth == 4, "graft: find cid in the subtree");
	T_OK(mime_next(t, g->children[1]) == t->children[1],
	    "graft: walk continues after the grafted subtree");
	T_EQ_INT(mime_graft(env, "Content-Type: text/plain\r\n\r\nx", 29,
	    NULL, &err), MIME_MALFORMED, "graft: only one graft per part");
	T_EQ_INT(env->nchildren, 1, "graft: refused graft leaves it alone");

	/* parts counted across the graft: 2 parts + graft tree of 3 = 5 */
	mime_limits_default(&lim);
	lim.max_parts = 6;
	st = mime_graft(t->children[1], "Content-Type: text/plain\r\n\r\nok",
	    30, &lim, &err);
	T_EQ_INT(st, MIME_OK, "graft: 6th part fits a limit of 6");
	mime_free(t);

	/* a graft that would exceed the part limit */
	t = NULL;
	parse_ct("multipart/mixed;boundary=boundary1", mixed_body,
	    strlen(mixed_body), NULL, &t, NULL);
	lim.max_parts = 4;
	st = mime_graft(t->children[0], plain, strlen(plain), &lim, &err);
	T_EQ_INT(st, MIME_LIMIT, "graft: parts counted across the graft");
	T_OK(t->children[0]->nchildren == 0 && t->children[0]->children ==
	    NULL, "graft: failed graft leaves no child");
	lim.max_parts = 32;
	lim.max_depth = 3;
	st = mime_graft(t->children[0], plain, strlen(plain), &lim, &err);
	T_EQ_INT(st, MIME_LIMIT, "graft: depth counted across the graft");
	lim.max_depth = 8;
	lim.max_body = 10;
	st = mime_graft(t->children[0], plain, strlen(plain), &lim, &err);
	T_EQ_INT(st, MIME_TOO_LARGE, "graft: size limit");
	st = mime_graft(t->children[0], "Content-Type: text/plain\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n!!!!", 67, NULL, &err);
	T_EQ_INT(st, MIME_MALFORMED, "graft: bad plaintext refused");
	st = mime_graft(t->children[0], "just text", 9, NULL, &err);
	T_EQ_INT(st, MIME_MALFORMED, "graft: headerless text is malformed");
	st = mime_graft(t->children[0], "\r\njust text", 11, NULL, &err);
	T_OK(st == MIME_OK && t->children[0]->children[0]->type_default &&
	    mem_is(t->children[0]->children[0]->data,
	    t->children[0]->children[0]->data_len, "just text"),
	    "graft: no headers means text/plain");
	mime_free(t);
}

static int
stop_at_second(const struct mime_entity *e, void *arg)
{
	(void)e;
	return ++*(int *)arg == 2 ? 7 : 0;
}

static void
test_headers(void)
{
	const char body[] =
	    "--b\r\n"
	    "X-A-Very-Long-Header-Name-That-Is-Ignored: 1\r\n"
	    "  continued\r\n"
	    "content-TYPE: text/plain;\r\n"
	    "\tcharset=utf-8\r\n"
	    "CONTENT-ID:<x@y>\r\n"
	    "Content-Disposition: render\r\n"
	    "\r\n"
	    "body\r\n"
	    "--b\r\n"
	    "Content-Type: application/sdp\r\n"
	    "--b--";
	struct mime_entity *t = NULL;
	const struct mime_entity *a, *b;
	int n = 0;

	T_EQ_INT(parse_ct("multipart/alternative;boundary=b", body,
	    strlen(body), NULL, &t, NULL), MIME_OK, "headers: parses");
	if (t == NULL || t->nchildren != 2) {
		T_OK(0, "headers: two parts");
		mime_free(t);
		return;
	}
	a = t->children[0];
	b = t->children[1];
	T_OK(strcmp(a->type, "text") == 0 && !a->type_default,
	    "headers: case-blind names, folded value");
	T_EQ_STR(mime_param(a, "charset"), "utf-8", "headers: folded param");
	T_EQ_STR(a->content_id, "<x@y>", "headers: Content-ID without space");
	T_OK(a->disposition != NULL && strcmp(a->disposition, "render") == 0 &&
	    a->handling == NULL, "headers: disposition without handling");
	T_OK(strcmp(b->subtype, "sdp") == 0 && b->body_len == 0 &&
	    b->data != NULL && b->data_len == 0,
	    "headers: part with headers only");
	T_EQ_INT(mime_walk(t, stop_at_second, &n), 7,
	    "headers: walk stops on non-zero");
	mime_free(t);

	t = NULL;
	T_EQ_INT(parse_ct("multipart/digest;boundary=d",
	    "--d\r\n\r\nFrom: a\r\n\r\nhi\r\n--d--", 27, NULL, &t, NULL),
	    MIME_OK, "headers: digest parses");
	T_OK(t != NULL && t->nchildren == 1 &&
	    strcmp(t->children[0]->type, "message") == 0 &&
	    strcmp(t->children[0]->subtype, "rfc822") == 0,
	    "headers: digest default is message/rfc822");
	mime_free(t);
}

int
main(void)
{
	test_single();
	test_mixed();
	test_signed_in_mixed();
	test_mixed_in_signed();
	test_encodings();
	test_base64();
	test_boundaries();
	test_malformed();
	test_limits();
	test_graft();
	test_headers();
	return t_done();
}
