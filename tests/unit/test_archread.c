/* test_archread.c - archive records read back: round trips through the
 * formatter, malformed lines and their reasons, times, user matching,
 * text made safe for a terminal, summary lines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "services/archive.h"
#include "services/archread.h"
#include "t.h"

/* Parse a C string line; the reason (NULL when it parsed). */
static const char *
parse(struct archread_rec *r, const char *line)
{
	const char *why = NULL;

	if (archread_parse(r, line, strlen(line), &why) == 0)
		return NULL;
	return why != NULL ? why : "(no reason)";
}

static void
test_round_trip(void)
{
	static const unsigned char bin[] = { 0, 1, 0xff };
	static const unsigned char text[] = "Hi \"Bob\"\n\xe2\x80\xa8\xf0\x9f\x98\x80";
	struct archive_part parts[2] = {
		{ .type = "application/octet-stream", .data = bin, .len = 3 },
		{ .type = "text/plain", .data = text, .len = sizeof(text) - 1 },
	};
	struct archive_message m = {
		.time_ms = 1796573400123LL, .call_id = "c\x01\\\"d\xff",
		.cseq = 4294967295UL, .method = "MESSAGE",
		.from_uri = "sip:al\xe2\x80\xa9ice@a.example", .from_tag = "t1",
		.to_uri = "sip:bob@b.example", .source_address = "2001:db8::1",
		.source_port = 65535, .transport = "tls", .parts = parts,
		.nparts = 2,
	};
	struct archive_final f = { -1, "c", 2, "MESSAGE", 699 };
	struct archread_rec r;
	struct buf b = { 0 };
	const char *why;

	archive_format_message(&b, &m);
	why = archread_parse(&r, (char *)b.p, b.len - 1, &why) == 0 ? NULL :
	    why;
	T_OK(why == NULL, "a formatted message parses");
	T_OK(r.kind == ARCHREAD_MESSAGE && r.time_ms == m.time_ms &&
	    r.cseq == m.cseq && r.source_port == 65535 && r.nparts == 2,
	    "kind, time, cseq, port, parts count");
	T_EQ_STR(r.call_id, "c\x01\\\"d\xef\xbf\xbd",
	    "Call-ID: escapes undone, the replacement character kept");
	T_EQ_STR(r.from_uri, "sip:al\xe2\x80\xa9ice@a.example",
	    "From: U+2029 back from its \\u escape");
	T_OK(r.from_tag != NULL && strcmp(r.from_tag, "t1") == 0 &&
	    r.to_tag == NULL, "tags: present one read, absent one NULL");
	T_OK(strcmp(r.to_uri, "sip:bob@b.example") == 0 &&
	    strcmp(r.source_address, "2001:db8::1") == 0 &&
	    strcmp(r.transport, "tls") == 0 && strcmp(r.method, "MESSAGE") ==
	    0, "To, source address, transport, method");
	T_EQ_STR(r.text, (const char *)text,
	    "the first text part (after a base64 one), byte for byte");
	archread_clear(&r);
	buf_free(&b);

	archive_format_final(&b, &f);
	T_OK(archread_parse(&r, (char *)b.p, b.len, &why) == 0 &&
	    r.kind == ARCHREAD_FINAL && r.status == 699 && r.time_ms == -1 &&
	    r.cseq == 2, "a final parses (with its newline): status, time");
	archread_clear(&r);
	buf_free(&b);
}

static void
test_malformed(void)
{
	static const struct {
		const char *line, *why;
	} v[] = {
		{ "", "not JSON: a value missing" },
		{ "{", "not JSON: a member without a name" },
		{ "[]", "not a JSON object" },
		{ "{}", "no version (v)" },
		{ "{\"v\":2,\"kind\":\"message\"}",
		    "a version this e2mlog does not know" },
		{ "{\"v\":1.0,\"kind\":\"final\"}", "no version (v)" },
		{ "{\"v\":1}", "no kind" },
		{ "{\"v\":1,\"kind\":\"final\",\"time\":\"2026-13-01\"}",
		    "no time, or a bad one" },
		{ "{\"v\":1,\"kind\":\"final\",\"time\":\"2026-12-06\"}",
		    "no call_id" },
		{ "{\"v\":1,\"kind\":\"final\",\"time\":\"2026-12-06\","
		    "\"call_id\":\"c\",\"cseq\":-1}", "no cseq, or a bad one" },
		{ "{\"v\":1,\"kind\":\"final\",\"time\":\"2026-12-06\","
		    "\"call_id\":\"c\",\"cseq\":1e3}", "no cseq, or a bad one" },
		{ "{\"v\":1,\"kind\":\"final\",\"time\":\"2026-12-06\","
		    "\"call_id\":\"c\",\"cseq\":4294967296}",
		    "no cseq, or a bad one" },
		{ "{\"v\":1,\"kind\":\"final\",\"time\":\"2026-12-06\","
		    "\"call_id\":\"c\",\"cseq\":1,\"method\":\"M\","
		    "\"status\":99}", "no status, or a bad one" },
		{ "{\"v\":1,\"kind\":\"message\",\"time\":\"2026-12-06\","
		    "\"call_id\":\"c\",\"cseq\":1,\"method\":\"M\","
		    "\"from\":{\"uri\":5}}", "no from.uri" },
		{ "{\"v\":1,\"kind\":\"message\",\"time\":\"2026-12-06\","
		    "\"call_id\":\"c\",\"cseq\":1,\"method\":\"M\","
		    "\"from\":{\"uri\":\"a\"},\"to\":{\"uri\":\"b\"},"
		    "\"source\":{\"address\":\"x\",\"port\":65536,"
		    "\"transport\":\"udp\"},\"parts\":[]}",
		    "no source, or a bad one" },
		{ "{\"v\":1,\"kind\":\"message\",\"time\":\"2026-12-06\","
		    "\"call_id\":\"c\",\"cseq\":1,\"method\":\"M\","
		    "\"from\":{\"uri\":\"a\"},\"to\":{\"uri\":\"b\"},"
		    "\"source\":{\"address\":\"x\",\"port\":1,"
		    "\"transport\":\"udp\"},\"parts\":{}}", "no parts" },
		{ "{\"v\":1,\"a\":\"x\ty\"}",
		    "not JSON: a raw control character in a string" },
		{ "{\"v\":1,\"a\":\"\\x\"}", "not JSON: a bad escape" },
		{ "{\"v\":1,\"a\":\"\\u12\"}", "not JSON: a bad \\u escape" },
		{ "{\"v\":1,\"a\":\"abc}", "not JSON: a string without its end" },
		{ "{\"v\":01}", "not JSON: no ',' or end of a container" },
		{ "{\"v\":1.}", "not JSON: a bad number" },
		{ "{\"v\":-}", "not JSON: a bad number" },
		{ "{\"v\":tru}", "not JSON: an unknown word" },
		{ "{\"v\" 1}", "not JSON: no ':'" },
		{ "{\"v\":1} x", "not JSON: more after the object" },
		{ "{\"v\":1}{}", "not JSON: more after the object" },
	};
	struct archread_rec r;
	const char *why;
	size_t i;
	int bad = 0;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		why = parse(&r, v[i].line);
		if (why == NULL || strcmp(why, v[i].why) != 0) {
			printf("# %s: %s\n", v[i].line, why ? why : "parsed");
			bad++;
		}
		archread_clear(&r);
	}
	T_EQ_INT(bad, 0, "malformed lines refused, each with its reason");
}

static void
test_json_corners(void)
{
	struct archread_rec r;
	char deep[400];
	size_t i;
	const char *why;

	why = parse(&r, " { \"\\u0076\" : 1 , \"kind\" : \"note\" , "
	    "\"x\" : [ true , false , null , -0.5e+3 , { } , [ ] ] }\r");
	T_OK(why == NULL && r.kind == ARCHREAD_OTHER,
	    "an escaped member name, every JSON value, spaces, a CR: parses; "
	    "an unknown kind is OTHER, not malformed");
	archread_clear(&r);
	why = parse(&r, "{\"v\":1,\"kind\":\"final\",\"time\":\"2026-12-06\","
	    "\"call_id\":\"\\ud83d\\ude00|\\ud800|\\u0000|\\udc00x\","
	    "\"cseq\":1,\"method\":\"M\",\"status\":200,\"v2\":{\"a\":[1]}}");
	T_OK(why == NULL, "a final with members unknown to version 1 parses");
	T_EQ_STR(r.call_id, "\xf0\x9f\x98\x80|\xef\xbf\xbd|\xef\xbf\xbd|"
	    "\xef\xbf\xbdx", "surrogate pair joined; lone ones and NUL: U+FFFD");
	archread_clear(&r);
	for (i = 0; i < 100; i++)
		deep[i] = '[';
	deep[100] = '\0';
	why = parse(&r, deep);
	T_EQ_STR(why, "not JSON: nested too deep", "100 levels deep refused");
	archread_clear(&r);
	memcpy(deep, "{\"v\":1,\"a\":", 11);
	for (i = 11; i < 11 + 16; i++)
		deep[i] = '[';
	for (; i < 11 + 32; i++)
		deep[i] = ']';
	strcpy(deep + i, ",\"kind\":\"x\"}");
	T_OK(parse(&r, deep) == NULL, "16 levels of nesting inside: fine");
	archread_clear(&r);
}

static void
test_time(void)
{
	static const struct {
		const char *s;
		long long ms;
	} ok[] = {
		{ "1970-01-01", 0 },
		{ "2026-12-06T16:10:00.123Z", 1796573400123LL },
		{ "2026-12-06 16:10", 1796573400000LL },
		{ "2026-12-06T16:10:00+00:00", 1796573400000LL },
		{ "2026-12-06T16:10:00.1234567Z", 1796573400123LL },
		{ "2024-02-29", 1709164800000LL },
		{ "1969-12-31T23:59:59.999Z", -1 },
		{ "0000-01-01", -62167219200000LL },
		{ "9999-12-31T23:59:59.999Z", 253402300799999LL },
	};
	static const char *const bad[] = { "", "2026", "2026-12", "2026-1-06",
		"2026-12-06T", "2026-12-06T16", "2026-12-06T24:00",
		"2026-12-06T16:60", "2026-12-06T16:10:60", "2026-12-06T16:10:00.",
		"2026-02-29", "2026-04-31", "2026-12-06T16:10:00+01:00",
		"2026-12-06Zx", "2026-12-06T16:10:00ZZ", "x026-12-06" };
	size_t i;
	int nbad = 0;
	long long ms;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (archread_time(ok[i].s, &ms) != 0 || ms != ok[i].ms) {
			printf("# %s\n", ok[i].s);
			nbad++;
		}
	T_EQ_INT(nbad, 0, "times: dates, minutes, seconds, fractions, Z, "
	    "+00:00, leap day, before 1970, years 0 and 9999");
	for (i = 0, nbad = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (archread_time(bad[i], &ms) != -1) {
			printf("# taken: %s\n", bad[i]);
			nbad++;
		}
	T_EQ_INT(nbad, 0, "times: malformed ones and other offsets refused");
}

static void
test_users(void)
{
	static const struct {
		const char *uri, *user;
		int match;
	} v[] = {
		{ "sip:alice@atlanta.example.com", "alice", 1 },
		{ "sip:alice@atlanta.example.com", "Alice", 0 },
		{ "sip:alice@atlanta.example.com", "ali", 0 },
		{ "sips:alice:pw@atlanta.example.com;transport=tls", "alice", 1 },
		{ "sip:alice@atlanta.example.com", "alice@ATLANTA.example.com", 1 },
		{ "sip:alice@atlanta.example.com;user=phone",
		    "alice@atlanta.example.com", 1 },
		{ "sip:alice@atlanta.example.com", "alice@biloxi.example.com", 0 },
		{ "sip:alice@atlanta.example.com:5061", "alice@atlanta.example.com",
		    0 },
		{ "sip:alice@atlanta.example.com", "sip:alice@atlanta.example.com",
		    1 },
		{ "sips:alice@atlanta.example.com", "sip:alice@atlanta.example.com",
		    0 },
		{ "SIP:alice@atlanta.example.com?subject=x",
		    "sip:alice@atlanta.example.com", 1 },
		{ "sip:atlanta.example.com", "atlanta.example.com", 0 },
		{ "tel:+15551234;phone-context=x", "+15551234", 1 },
		{ "sip:alice@a", "", 0 },
		{ "no scheme", "no scheme", 0 },
	};
	size_t i;
	int bad = 0;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (archread_user_match(v[i].uri, v[i].user) != v[i].match) {
			printf("# %s ~ %s\n", v[i].uri, v[i].user);
			bad++;
		}
	T_EQ_INT(bad, 0, "users: bare, user@host, whole URI; parameters, "
	    "password, case of user and host, tel:");
}

static void
test_safe_and_summary(void)
{
	struct archread_rec r = { 0 };
	struct buf b = { 0 };

	archread_safe(&b, "a\x1b[2Jb\xe2\x80\xae" "c\xff\xc2\x85\n\xc3\xa9", 0, 0);
	buf_add(&b, "", 1);
	T_EQ_STR((char *)b.p, "a\\u001b[2Jb\\u202ec\\xff\\u0085\\u000a\xc3\xa9",
	    "safe: ESC, RLO, a bad byte, C1, a newline escaped; U+00E9 kept");
	buf_free(&b);
	archread_safe(&b, "one\ntwo\tthree \xe2\x80\xa8", 0, 1);
	archread_safe(&b, "|\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 3, 1);
	archread_safe(&b, "|ab", 3, 1);
	buf_add(&b, "", 1);
	T_EQ_STR((char *)b.p, "one two three \\u2028|\xc3\xa9\xc3\xa9..."
	    "|ab", "flattened text; cut by characters, not bytes; an exact "
	    "fit is not cut");
	buf_free(&b);

	r.kind = ARCHREAD_MESSAGE;
	r.time_ms = 1796573400123LL;
	r.from_uri = "sip:alice@a";
	r.to_uri = "sip:bob@b\x1b";
	r.call_id = "cid";
	r.text = "Hello\nBob";
	r.nparts = 1;
	archread_summary(&b, &r, 200);
	r.text = NULL;
	r.nparts = 2;
	archread_summary(&b, &r, -1);
	r.nparts = 0;
	archread_summary(&b, &r, -1);
	buf_add(&b, "", 1);
	T_EQ_STR((char *)b.p,
	    "2026-12-06T16:10:00.123Z  sip:alice@a -> sip:bob@b\\u001b  200  "
	    "cid  \"Hello Bob\"\n"
	    "2026-12-06T16:10:00.123Z  sip:alice@a -> sip:bob@b\\u001b  -  "
	    "cid  (2 parts, no text)\n"
	    "2026-12-06T16:10:00.123Z  sip:alice@a -> sip:bob@b\\u001b  -  "
	    "cid  (no body)\n", "message summaries");
	buf_free(&b);
	r.kind = ARCHREAD_FINAL;
	r.status = 486;
	r.cseq = 7;
	r.method = "MESSAGE";
	archread_summary_final(&b, &r);
	buf_add(&b, "", 1);
	T_EQ_STR((char *)b.p,
	    "2026-12-06T16:10:00.123Z  final  486  cid  7 MESSAGE\n",
	    "final summary");
	buf_free(&b);
}

int
main(void)
{
	test_round_trip();
	test_malformed();
	test_json_corners();
	test_time();
	test_users();
	test_safe_and_summary();
	return t_done();
}
