/* test_label.c - Proxy-Inspect-Body parsing (digest 3.4) and Content-ID
 * normalisation (digest 2.4). */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "e2m/label.h"
#include "t.h"

static const char *const own[] = { "ss1.atlanta.example.com", "192.0.2.10",
	"2001:db8::10" };
#define NOWN (sizeof(own) / sizeof(own[0]))

/* One field given as bytes with a length (may hold NUL). */
static struct label_set *
parse_bytes(const char *s, size_t len)
{
	struct label_field f;

	f.value = s;
	f.len = len;
	return label_parse(&f, 1);
}

static struct label_set *
parse1(const char *s)
{
	return parse_bytes(s, strlen(s));
}

/* "host:port cid1|cid2" for value i, or "-" when there is none. */
static const char *
show(const struct label_set *set, size_t i)
{
	static char buf[4096];
	size_t j, n;

	if (i >= label_count(set))
		return "-";
	n = (size_t)snprintf(buf, sizeof(buf), "%s", label_host(set, i));
	if (label_port(set, i) >= 0)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, ":%d",
		    label_port(set, i));
	for (j = 0; j < label_ncids(set, i) && n < sizeof(buf); j++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s",
		    j ? "|" : " ", label_cid(set, i, j));
	return buf;
}

/* Parse one field, check the value count, ignored count and value 0. */
static void
check1(const char *in, size_t count, size_t ignored, const char *first,
    const char *name)
{
	struct label_set *set = parse1(in);

	T_OK(set != NULL, name);
	T_EQ_INT(label_count(set), count, name);
	T_EQ_INT(label_nignored(set), ignored, name);
	T_EQ_STR(show(set, 0), first, name);
	label_free(set);
}

static const char *
norm(const char *s)
{
	static char out[LABEL_CID_BUFSZ];

	return label_cid_normalise(s, strlen(s), out) == NULL ? out : "ERR";
}

static void
test_forms(void)
{
	struct label_set *set;

	check1("ss1.atlanta.example.com;cid=1234@atlanta.example.com", 1, 0,
	    "ss1.atlanta.example.com 1234@atlanta.example.com",
	    "bare cid (draft examples)");
	check1("ss1.atlanta.example.com;cid=\"1234@atlanta.example.com\"", 1, 0,
	    "ss1.atlanta.example.com 1234@atlanta.example.com",
	    "quoted cid (published ABNF)");
	check1("ss1.atlanta.example.com;cid=<1234@atlanta.example.com>", 1, 0,
	    "ss1.atlanta.example.com 1234@atlanta.example.com",
	    "bracketed cid");
	check1("ss1.atlanta.example.com;cid=\"1234@atlanta.example.com\","
	    "cid=\"3333@atlanta.example.com\"", 1, 0,
	    "ss1.atlanta.example.com 1234@atlanta.example.com|"
	    "3333@atlanta.example.com",
	    "canonical emission: two quoted cids, outer first");
	check1("ss1.atlanta.example.com;cid=1234@atlanta.example.com,"
	    "cid=3333@atlanta.example.com", 1, 0,
	    "ss1.atlanta.example.com 1234@atlanta.example.com|"
	    "3333@atlanta.example.com",
	    "digest 2.5 split example: comma-joined cids in order");
	check1("h.example;cid=a@x;cid=b@x;cid=c@x", 1, 0,
	    "h.example a@x|b@x|c@x", "cid as repeated SEMI parameter, in order");
	check1("h.example;cid=a@x,cid=\"b@x\",cid=<c@x>;cid=d@x", 1, 0,
	    "h.example a@x|b@x|c@x|d@x", "all three forms mixed in one value");
	check1("  h.example ; cid = a@x ,\tcid\t=\t\"b@x\"  ", 1, 0,
	    "h.example a@x|b@x", "SWS around every separator");
	check1("h.example;\r\n cid=a@x", 1, 0, "h.example a@x",
	    "folded value (CRLF WSP) accepted");
	check1("SS1.Atlanta.Example.COM;CID=AbC@Atlanta.EXAMPLE.com", 1, 0,
	    "ss1.atlanta.example.com AbC@atlanta.example.com",
	    "host and param name case-insensitive; cid left part kept");
	check1("ss1.atlanta.example.com.;cid=a@x", 1, 0,
	    "ss1.atlanta.example.com a@x", "trailing dot of the host dropped");
	check1("h.example;foo=bar;cid=a@x;lr;q=\"x,y;cid=z@z\",cid=b@x;"
	    "v=[2001:db8::1]", 1, 0, "h.example a@x|b@x",
	    "generic params ignored, also quoted ones holding , ; and cid=");
	check1("cid;cid=a@x", 1, 0, "cid a@x", "a host named cid");
	check1("192.0.2.10;cid=a@x", 1, 0, "192.0.2.10 a@x", "IPv4 host");
	check1("[2001:DB8:0:0::10];cid=a@x", 1, 0, "2001:db8::10 a@x",
	    "IPv6 reference, canonical form without brackets");
	check1("h.example;cid=a@[2001:db8::1]", 1, 0, "h.example a@[2001:db8::1]",
	    "cid with an IPv6 right part");
	check1("h.example;cid=a%41@x", 1, 0, "h.example a%41@x",
	    "% kept literally (atom character, no percent-decoding)");

	/* digest 3.4: a port is tolerated, kept aside and noted. */
	set = parse1("ss1.atlanta.example.com:5061;cid=a@x");
	T_EQ_STR(show(set, 0), "ss1.atlanta.example.com:5061 a@x",
	    "port after the host tolerated");
	T_EQ_INT(label_nignored(set), 0, "port: value not ignored");
	T_EQ_INT(label_nnotes(set), 1, "port: noted for the log");
	T_EQ_STR(label_note(set, 0, NULL, NULL), "port after the host ignored",
	    "port: reason");
	label_free(set);
	check1("[::1]:5060;cid=a@x", 1, 0, "::1:5060 a@x", "IPv6 with a port");
}

static void
test_several_proxies(void)
{
	struct label_field f[3];
	struct label_set *set;

	/* Mahy's form: several proxies comma-joined in one field. */
	set = parse1("p1.example;cid=a@x, p2.example;cid=b@x;foo=1 ,"
	    "p3.example;cid=c@x,cid=d@x");
	T_EQ_INT(label_count(set), 3, "comma-joined proxies: three values");
	T_EQ_STR(show(set, 0), "p1.example a@x", "comma-joined: first");
	T_EQ_STR(show(set, 1), "p2.example b@x", "comma-joined: second");
	T_EQ_STR(show(set, 2), "p3.example c@x|d@x",
	    "comma-joined: third keeps its two cids");
	label_free(set);

	/* Several header fields, the old name among them: the caller hands
	 * over Proxy-Inspect-Body and Proxy-Required-Body values alike. */
	f[0].value = "p1.example;cid=a@x";
	f[1].value = "p2.example;cid=\"a@x\",cid=b@x"; /* Proxy-Required-Body */
	f[2].value = "p3.example;cid=<a@x>, p4.example;cid=e@x";
	f[0].len = strlen(f[0].value);
	f[1].len = strlen(f[1].value);
	f[2].len = strlen(f[2].value);
	set = label_parse(f, 3);
	T_EQ_INT(label_count(set), 4, "three fields: four values");
	T_EQ_STR(show(set, 0), "p1.example a@x", "fields in message order 1");
	T_EQ_STR(show(set, 1), "p2.example a@x|b@x",
	    "old header name value parsed the same");
	T_EQ_STR(show(set, 2), "p3.example a@x", "fields in message order 3");
	T_EQ_STR(show(set, 3), "p4.example e@x", "fields in message order 4");
	label_free(set);

	set = label_parse(NULL, 0);
	T_OK(set != NULL && label_count(set) == 0, "no fields: empty set");
	label_free(set);
	label_free(NULL); /* must not crash: the program's exit says so */
}

static void
test_own(void)
{
	const char *out[LABEL_MAX_OWN_CIDS];
	const char *const bad_own[] = { NULL, "", "bad name!", "x..y" };
	struct label_set *set;
	size_t n;

	T_OK(label_host_is_own("ss1.atlanta.example.com", own, NOWN),
	    "own name matches");
	T_OK(!label_host_is_own("ss2.atlanta.example.com", own, NOWN),
	    "other proxy does not match");
	T_OK(!label_host_is_own("atlanta.example.com", own, NOWN),
	    "parent domain does not match");
	/* Whole names only (mutant L1 of docs/reliability.md): a prefix
	 * or an extension of an own name is another host. */
	T_OK(!label_host_is_own("ss1.atlanta.example.co", own, NOWN),
	    "a prefix of an own name does not match");
	T_OK(!label_host_is_own("ss1.atlanta.example.com.evil", own, NOWN),
	    "an own name extended does not match");
	T_OK(!label_host_is_own("ss1", own, NOWN),
	    "the first label of an own name does not match");
	T_OK(!label_host_is_own("ss1.atlanta.example.com", NULL, 0),
	    "no own names: nothing matches");
	T_OK(!label_host_is_own("", bad_own, 4), "invalid own names never match");

	set = parse1("SS1.ATLANTA.EXAMPLE.COM.:5070;cid=a@x");
	T_OK(label_host_is_own(label_host(set, 0), own, NOWN),
	    "case, trailing dot and port do not matter");
	label_free(set);

	set = parse1("[2001:DB8:0::10];cid=a@x, 192.0.2.10;cid=b@x");
	T_OK(label_host_is_own(label_host(set, 0), own, NOWN),
	    "IPv6 own name matches another spelling");
	T_OK(label_host_is_own(label_host(set, 1), own, NOWN),
	    "IPv4 own name matches");
	label_free(set);

	{
		const char *const bracketed[] = { "[2001:db8::10]",
			"SS9.Example.ORG." };
		set = parse1("[2001:db8::10];cid=a@x, ss9.example.org;cid=b@x");
		T_OK(label_host_is_own(label_host(set, 0), bracketed, 2),
		    "bracketed IPv6 own name");
		T_OK(label_host_is_own(label_host(set, 1), bracketed, 2),
		    "own names are normalised too");
		label_free(set);
	}

	set = parse1("p0.example;cid=z@x, ss1.atlanta.example.com;cid=a@x,"
	    "cid=b@x, p2.example;cid=c@x, ss1.atlanta.example.com;cid=b@X,"
	    "cid=d@x");
	n = label_own_cids(set, own, NOWN, out, LABEL_MAX_OWN_CIDS);
	T_EQ_INT(n, 3, "own cids: ours only, duplicates once");
	T_EQ_STR(n > 0 ? out[0] : NULL, "a@x", "own cids: outer first");
	T_EQ_STR(n > 1 ? out[1] : NULL, "b@x", "own cids: inner next");
	T_EQ_STR(n > 2 ? out[2] : NULL, "d@x", "own cids: second value after");
	T_EQ_INT(label_own_cids(set, own, NOWN, out, 2), 2,
	    "own cids: cap respected");
	T_EQ_INT(label_own_cids(set, own, NOWN, NULL, 9), 0,
	    "own cids: no output array");
	T_EQ_INT(label_own_cids(set, NULL, 0, out, 9), 0,
	    "own cids: no own names");
	T_EQ_INT(label_own_cids(NULL, own, NOWN, out, 9), 0,
	    "own cids: no set");
	label_free(set);

	set = parse1("p1.example;cid=a@x");
	T_EQ_INT(label_own_cids(set, own, NOWN, out, 9), 0,
	    "label for another proxy only: nothing for us");
	label_free(set);

	/* Content-IDs compare whole (mutant L3 of docs/reliability.md): a
	 * prefix or an extension of one is another part. */
	T_OK(!label_cid_equal("a@x.com", 7, "a@x.co", 6),
	    "cid a@x.co is not a@x.com");
	T_OK(!label_cid_equal("<a@x>", 5, "<a@x.com>", 9),
	    "cid a@x is not a@x.com");
	T_OK(!label_cid_equal("ab@x", 4, "a@x", 3), "cid a@x is not ab@x");

	/* The label cid finds the MIME part whatever its Content-ID form. */
	set = parse1("ss1.atlanta.example.com;cid=\"1234@Atlanta.Example.COM\"");
	n = label_own_cids(set, own, NOWN, out, 9);
	T_OK(n == 1 && label_cid_equal(out[0], strlen(out[0]),
	    "<1234@atlanta.example.com>", 26), "label cid matches Content-ID");
	T_OK(n == 1 && label_cid_equal(out[0], strlen(out[0]),
	    "1234@atlanta.example.com", 24),
	    "label cid matches a bare Content-ID (draft examples)");
	T_OK(n == 1 && !label_cid_equal(out[0], strlen(out[0]),
	    "<1234@atlanta.example.net>", 26), "different Content-ID");
	label_free(set);
}

static void
test_normalise(void)
{
	char out[LABEL_CID_BUFSZ], big[400];

	T_EQ_STR(norm("<1234@Atlanta.Example.COM>"), "1234@atlanta.example.com",
	    "brackets stripped, right part lower-cased");
	T_EQ_STR(norm("\"1234@atlanta.example.com\""),
	    "1234@atlanta.example.com", "quotes stripped");
	T_EQ_STR(norm("1234@atlanta.example.com"), "1234@atlanta.example.com",
	    "bare form");
	T_EQ_STR(norm("<\"a@b\">"), "a@b", "quotes inside brackets");
	T_EQ_STR(norm("\"<a@b>\""), "a@b", "brackets inside quotes");
	T_EQ_STR(norm(" \t(part one) <AbC@X.Y> (comment (nested) \\) )\r\n"),
	    "AbC@x.y", "surrounding whitespace and comments dropped");
	T_EQ_STR(norm("<a$b=c/d?e^f{g}h|i#j&k@x>"), "a$b=c/d?e^f{g}h|i#j&k@x",
	    "RFC 5322 atext in the left part");
	T_EQ_STR(norm("<a@[IPv6:2001:DB8::1]>"), "a@[ipv6:2001:db8::1]",
	    "domain literal right part");
	T_EQ_STR(norm("a%2Fb@x"), "a%2Fb@x", "no percent-decoding");
	strcpy(big, norm("<Q@R.S>"));
	T_EQ_STR(norm(big), "Q@r.s", "normalised form is stable");

	T_OK(!label_cid_equal("ABC@x", 5, "abc@x", 5), "left part case-sensitive");
	T_OK(label_cid_equal("abc@X.COM", 9, "<abc@x.com>", 11),
	    "right part case-insensitive");
	T_OK(!label_cid_equal("a%41@x", 6, "aA@x", 4),
	    "percent-encoded and plain differ");
	T_OK(!label_cid_equal("junk", 4, "junk", 4), "two malformed never equal");
	T_OK(!label_cid_equal(NULL, 0, "a@b", 3), "NULL never equal");
	T_OK(label_cid_equal("a@b\0zzz", 3, "a@b", 3), "length-delimited input");

	T_EQ_STR(norm(""), "ERR", "empty");
	T_EQ_STR(norm("<>"), "ERR", "empty brackets");
	T_EQ_STR(norm("ab"), "ERR", "no @");
	T_EQ_STR(norm("a@b@c"), "ERR", "two @");
	T_EQ_STR(norm("@b"), "ERR", "empty left part");
	T_EQ_STR(norm("a@"), "ERR", "empty right part");
	T_EQ_STR(norm("<a b@c>"), "ERR", "space inside");
	T_EQ_STR(norm("<a@b"), "ERR", "unterminated <");
	T_EQ_STR(norm("\"a@b"), "ERR", "unterminated quote");
	T_EQ_STR(norm("(a <a@b>"), "ERR", "unterminated comment");
	T_EQ_STR(norm("<a@b> x"), "ERR", "text after the msg-id");
	T_EQ_STR(norm("<a@b>>"), "ERR", "stray >");
	T_EQ_STR(norm("<\xc3\xa4@b>"), "ERR", "non-ASCII");
	T_OK(label_cid_normalise("a@b\0c", 5, out) != NULL && out[0] == '\0',
	    "NUL inside: reason and empty output");

	memset(big, 'a', sizeof(big));
	big[253] = '@';
	T_OK(label_cid_normalise(big, 255, out) == NULL && strlen(out) == 255,
	    "cid of LABEL_MAX_CID_LEN accepted");
	T_OK(label_cid_normalise(big, 256, out) != NULL,
	    "cid one byte longer refused");
}

/* Values that are malformed are ignored, their neighbours kept. */
static void
test_malformed(void)
{
	struct label_field f[2];
	struct label_set *set;
	size_t field = 9, offset = 0;

	check1("", 0, 0, "-", "empty field: nothing, nothing ignored");
	check1(" ,,, , ,", 0, 0, "-", "only commas: empty elements skipped");
	check1("h.example", 0, 1, "-", "host alone");
	check1("h.example;foo=bar", 0, 1, "-", "no cid");
	check1("h.example;cid", 0, 1, "-", "cid without =");
	check1("h.example;cid=", 0, 1, "-", "cid = nothing");
	check1("h.example;cid=\"\"", 0, 1, "-", "empty quoted cid");
	check1("h.example;cid=abc", 0, 1, "-", "cid without @");
	check1("h.example;cid=a b@x", 0, 1, "-", "space in bare cid");
	check1(";cid=a@x", 0, 1, "-", "missing host");
	check1("cid=a@x", 0, 1, "-", "cid only, no host");
	check1(".;cid=a@x", 0, 1, "-", "host is a dot");
	check1("a..b;cid=a@x", 0, 1, "-", "empty host label");
	check1("h_x.example;cid=a@x", 0, 1, "-", "underscore in host");
	check1("[zz::1];cid=a@x", 0, 1, "-", "bad IPv6 reference");
	check1("h.example:99999;cid=a@x", 0, 1, "-", "port too large");
	check1("h.example:;cid=a@x", 0, 1, "-", "empty port");
	check1("h.example:0000005060;cid=a@x", 0, 1, "-", "port too many digits");
	check1("h.example;cid=a@x;", 0, 1, "-", "trailing ;");
	check1("h.example;;;;;;;;cid=a@x", 0, 1, "-", "; storm before cid");
	check1("h.example;cid=a@x;;;;;;;", 0, 1, "-", "; storm after cid");
	check1(";;;;;;;;;;;;;;;;;;;", 0, 1, "-", "; storm alone");
	check1("h.example;x=", 0, 1, "-", "generic param with = and no value");
	check1("h.example;cid=a@x;q=\"open", 0, 1, "-",
	    "unterminated quote in a generic param");
	check1("h.example;cid=a@x x", 0, 1, "-", "junk after a cid");
	check1("h.example;cid=a@x,", 1, 0, "h.example a@x",
	    "trailing comma is an empty element");

	/* A bad value in the middle costs only that value. */
	set = parse1("a.example;cid=1@x, b.example;cid=bad, c.example;cid=3@x");
	T_EQ_INT(label_count(set), 2, "middle value bad: neighbours kept");
	T_EQ_STR(show(set, 0), "a.example 1@x", "neighbour before");
	T_EQ_STR(show(set, 1), "c.example 3@x", "neighbour after");
	T_EQ_INT(label_nignored(set), 1, "one value ignored");
	T_EQ_STR(label_note(set, 0, &field, &offset), "cid needs exactly one @",
	    "reason recorded");
	T_EQ_INT(field, 0, "reason: field index");
	T_EQ_INT(offset, 36, "reason: byte offset");
	T_OK(label_note(set, 1, NULL, NULL) == NULL, "no note beyond the count");
	label_free(set);

	/* A bad cid among good ones drops the whole value: the outer-first
	 * chain would be wrong with a hole in it (digest 3.4). */
	check1("h.example;cid=a@x,cid=bad,cid=c@x, ok.example;cid=d@x", 1, 1,
	    "ok.example d@x", "bad cid drops its whole value only");

	check1("h.example;cid=<a@x, ok.example;cid=b@x", 1, 1,
	    "ok.example b@x", "unterminated < : next value still found");
	check1("[::1;cid=a@x, ok.example;cid=b@x", 1, 1, "ok.example b@x",
	    "unterminated [ : next value still found");
	check1("h.example;cid=\"a@x, ok.example;cid=b@x", 0, 1, "-",
	    "unterminated quote swallows the rest of the field");
	check1("h.example;q=\"a,b\"junk, ok.example;cid=b@x", 1, 1,
	    "ok.example b@x", "resync skips commas inside quotes");

	f[0].value = "ok.example;cid=a@x";
	f[0].len = strlen(f[0].value);
	f[1].value = "broken";
	f[1].len = 6;
	set = label_parse(f, 2);
	T_EQ_INT(label_count(set), 1, "bad second field: first kept");
	T_EQ_INT(label_nignored(set), 1, "bad second field ignored");
	label_note(set, 0, &field, NULL);
	T_EQ_INT(field, 1, "reason names the second field");
	label_free(set);

	f[0].value = NULL;
	f[0].len = 100;
	set = label_parse(f, 1);
	T_OK(set != NULL && label_count(set) == 0 && label_nignored(set) == 0,
	    "NULL value pointer skipped");
	label_free(set);
}

static void
test_nul_and_bytes(void)
{
	static const char nul_cid[] = "h.example;cid=a\0b@x, ok.example;cid=c@x";
	static const char nul_host[] = "h.ex\0ample;cid=a@x, ok.example;cid=c@x";
	static const char nul_tail[] = "h.example;cid=a@x\0";
	static const char nul_q[] = "h.example;cid=\"a\0@x\", ok.example;cid=c@x";
	static const char nuls[] = "\0\0\0\0\0\0\0\0";
	struct label_set *set;

	set = parse_bytes(nul_cid, sizeof(nul_cid) - 1);
	T_EQ_INT(label_count(set), 1, "NUL in a cid: that value ignored");
	T_EQ_STR(show(set, 0), "ok.example c@x", "NUL in a cid: next value kept");
	label_free(set);
	set = parse_bytes(nul_host, sizeof(nul_host) - 1);
	T_EQ_STR(show(set, 0), "ok.example c@x", "NUL in a host: next kept");
	T_EQ_INT(label_nignored(set), 1, "NUL in a host: one ignored");
	label_free(set);
	set = parse_bytes(nul_tail, sizeof(nul_tail) - 1);
	T_EQ_INT(label_count(set), 0, "NUL after a value: value ignored");
	label_free(set);
	set = parse_bytes(nul_q, sizeof(nul_q) - 1);
	T_EQ_STR(show(set, 0), "ok.example c@x", "NUL in a quoted cid");
	T_EQ_INT(label_count(set), 1, "NUL in a quoted cid: one value left");
	label_free(set);
	set = parse_bytes(nuls, sizeof(nuls) - 1);
	T_OK(label_count(set) == 0 && label_nignored(set) == 1, "only NULs");
	label_free(set);

	check1("\xc4\xa5\xc3\xb8st;cid=a@x", 0, 1, "-", "UTF-8 host");
	check1("h.example;cid=\xc3\xa4@x", 0, 1, "-", "UTF-8 in a bare cid");
	check1("h.example;cid=\"a@\xe2\x82\xac\"", 0, 1, "-",
	    "UTF-8 in a quoted cid");
	check1("\xff\xfe\xfd;\x80\x81=\x82, ok.example;cid=b@x", 1, 1,
	    "ok.example b@x", "invalid UTF-8 garbage, next value kept");
	check1("h.example;cid=a@x;\xf0\x9f\x92\xa9=1", 0, 1, "-",
	    "UTF-8 parameter name");
}

static char *
repeat(const char *head, const char *unit, size_t n, const char *tail)
{
	size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail), i;
	char *s = malloc(hl + ul * n + tl + 1);

	if (s == NULL)
		abort();
	memcpy(s, head, hl);
	for (i = 0; i < n; i++)
		memcpy(s + hl + i * ul, unit, ul);
	memcpy(s + hl + n * ul, tail, tl + 1);
	return s;
}

static void
test_limits(void)
{
	struct label_field *many;
	struct label_set *set;
	char *s;
	size_t i;

	/* 10000 cids: far over the field length limit. */
	s = repeat("h.example;cid=first@x", ",cid=c@x", 10000, "");
	check1(s, 0, 1, "-", "10000 cids: ignored, no crash");
	free(s);
	s = repeat("h.example", ";cid=c@x", 10000, "");
	set = parse1(s);
	T_EQ_STR(label_note(set, 0, NULL, NULL), "header field too long",
	    "10000 SEMI cids: field too long");
	label_free(set);
	free(s);

	/* At and over the per-value cid limit, within the length limit. */
	s = repeat("h.example;cid=c0@x", ",cid=c@x", LABEL_MAX_CIDS - 1, "");
	set = parse1(s);
	T_EQ_INT(label_ncids(set, 0), LABEL_MAX_CIDS,
	    "LABEL_MAX_CIDS cids accepted");
	label_free(set);
	free(s);
	s = repeat("h.example;cid=c0@x", ",cid=c@x", LABEL_MAX_CIDS,
	    ", ok.example;cid=d@x");
	set = parse1(s);
	T_EQ_INT(label_count(set), 1, "one cid too many: that value ignored");
	T_EQ_STR(show(set, 0), "ok.example d@x", "one cid too many: next kept");
	T_EQ_STR(label_note(set, 0, NULL, NULL), "too many cids in one label",
	    "one cid too many: reason");
	label_free(set);
	free(s);

	/* Field length: exactly at the limit parses, one byte more does not. */
	s = repeat("h.example;cid=a@x", " ", LABEL_MAX_FIELD_LEN - 17, "");
	check1(s, 1, 0, "h.example a@x", "field of LABEL_MAX_FIELD_LEN parsed");
	free(s);
	s = repeat("h.example;cid=a@x", " ", LABEL_MAX_FIELD_LEN - 16, "");
	check1(s, 0, 1, "-", "field one byte over the limit ignored");
	free(s);

	/* Hosts: the longest allowed, one longer, and a huge one. */
	s = repeat("", "a", LABEL_MAX_HOST_LEN, ";cid=a@x");
	set = parse1(s);
	T_OK(label_count(set) == 1 &&
	    strlen(label_host(set, 0)) == LABEL_MAX_HOST_LEN,
	    "host of LABEL_MAX_HOST_LEN accepted");
	label_free(set);
	free(s);
	s = repeat("", "a", LABEL_MAX_HOST_LEN + 1, ";cid=a@x, ok.example;cid=b@x");
	check1(s, 1, 1, "ok.example b@x", "host one byte too long ignored");
	free(s);
	s = repeat("", "a", 1000000, ";cid=a@x");
	check1(s, 0, 1, "-", "a megabyte of host ignored");
	free(s);
	s = repeat("h.example;cid=", "a", 300, "@x");
	check1(s, 0, 1, "-", "cid too long ignored");
	free(s);
	s = repeat("h.example", ";", 5000, "cid=a@x");
	check1(s, 0, 1, "-", "5000 semicolons");
	free(s);
	s = repeat("", ",", LABEL_MAX_FIELD_LEN, "");
	check1(s, 0, 0, "-", "a field full of commas");
	free(s);

	/* Values beyond LABEL_MAX_ENTRIES are ignored, the first kept. */
	s = repeat("first.example;cid=a@x", ",h.example;cid=b@x",
	    LABEL_MAX_ENTRIES + 3, "");
	set = parse1(s);
	T_EQ_INT(label_count(set), LABEL_MAX_ENTRIES, "entry limit kept");
	T_EQ_INT(label_nignored(set), 4, "entries over the limit counted");
	T_EQ_STR(show(set, 0), "first.example a@x", "first entries kept");
	label_free(set);
	free(s);

	/* 10000 fields: bounded entries, bounded notes, all counted. */
	many = calloc(10000, sizeof(*many));
	if (many == NULL)
		abort();
	for (i = 0; i < 10000; i++) {
		many[i].value = i % 2 ? "h.example;cid=a@x" : "bad";
		many[i].len = strlen(many[i].value);
	}
	set = label_parse(many, 10000);
	T_EQ_INT(label_count(set), LABEL_MAX_ENTRIES, "10000 fields: entries");
	T_EQ_INT(label_nignored(set), 10000 - LABEL_MAX_ENTRIES,
	    "10000 fields: all the rest ignored");
	T_EQ_INT(label_nnotes(set), LABEL_MAX_NOTES, "10000 fields: notes capped");
	label_free(set);
	free(many);
}

/* The parser reads a field's len bytes and no more: each value ends
 * right before a page that cannot be read, so a look-ahead past the end
 * faults instead of reading a NUL that happens to follow (mutant L12: the
 * "cid =" look-ahead after a comma with only "ci" left). */
static void
test_field_end(void)
{
	static const struct {
		const char *in, *first;
		size_t count, ignored;
	} t[] = {
		{ "h.example;cid=a@x,ci", "h.example a@x", 1, 1 },
		{ "h.example;cid=a@x,c", "h.example a@x", 1, 1 },
		{ "h.example;cid=a@x, ci", "h.example a@x", 1, 1 },
		{ "h.example;cid=a@x,cid", "h.example a@x", 1, 1 },
		{ "h.example;cid=a@x,cid=b@x", "h.example a@x|b@x", 1, 0 },
	};
	long pg = sysconf(_SC_PAGESIZE);
	char *m, *p;
	size_t i, n;
	struct label_set *set;

	m = mmap(NULL, 2 * (size_t)pg, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	T_OK(m != MAP_FAILED && mprotect(m + pg, (size_t)pg, PROT_NONE) == 0,
	    "a field before an unreadable page");
	if (m == MAP_FAILED)
		return;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		n = strlen(t[i].in);
		p = m + pg - n;
		memcpy(p, t[i].in, n);
		set = parse_bytes(p, n);
		T_EQ_INT(label_count(set), t[i].count, t[i].in);
		T_EQ_INT(label_nignored(set), t[i].ignored, t[i].in);
		T_EQ_STR(show(set, 0), t[i].first, t[i].in);
		label_free(set);
	}
	munmap(m, 2 * (size_t)pg);
}

int
main(void)
{
	test_forms();
	test_several_proxies();
	test_own();
	test_normalise();
	test_malformed();
	test_nul_and_bytes();
	test_limits();
	test_field_end();
	return t_done();
}
