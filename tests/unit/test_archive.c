/* test_archive.c - archive records: each member, escaping, UTF-8, base64,
 * failures; every line produced is also parsed by Python's json module. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "services/archive.h"
#include "services/utf8.h"
#include "t.h"

#define PYTHON "/usr/bin/python3"

/* Every line made here, for the JSON check at the end. */
static struct buf all;

static const struct archive_message base = {
	.time_ms = 1796573400123LL, /* 2026-12-06T16:10:00.123Z */
	.call_id = "a84b4c76e66710@pc33.atlanta.example.com",
	.cseq = 1,
	.method = "MESSAGE",
	.from_uri = "sip:alice@atlanta.example.com",
	.from_tag = "1928301774",
	.to_uri = "sip:bob@biloxi.example.com",
	.source_address = "192.0.2.4",
	.source_port = 5060,
	.transport = "udp",
};

/* The record as a C string ("" when formatting failed). */
static char *
fmt(const struct archive_message *m)
{
	struct buf b = { 0 };
	char *s;

	if (archive_format_message(&b, m) != 0) {
		buf_free(&b);
		return strdup("");
	}
	buf_add(&all, b.p, b.len);
	buf_add(&b, "", 1);
	s = strdup((char *)b.p);
	buf_free(&b);
	return s;
}

/* The part of a message with one part, from "parts":[ to the end. */
static char *
fmt_part(const struct archive_part *p)
{
	struct archive_message m = base;
	char *s, *at, *out;

	m.parts = p;
	m.nparts = 1;
	s = fmt(&m);
	at = strstr(s, "\"parts\":[");
	out = strdup(at != NULL ? at + 9 : "");
	free(s);
	return out;
}

/* A message whose Call-ID is s; the Call-ID as written. */
static char *
fmt_callid(const char *s)
{
	struct archive_message m = base;
	char *r, *a, *e, *out;

	m.call_id = s;
	r = fmt(&m);
	a = strstr(r, "\"call_id\":");
	e = a != NULL ? strstr(a, ",\"cseq\":") : NULL;
	if (a == NULL || e == NULL) {
		free(r);
		return strdup("?");
	}
	*e = '\0';
	out = strdup(a + 10);
	free(r);
	return out;
}

static void
test_utf8(void)
{
	static const struct {
		const char *in;
		size_t len;
		uint32_t cp;
	} v[] = {
		{ "A", 1, 'A' },
		{ "\xc3\xa9", 2, 0xe9 },
		{ "\xe2\x82\xac", 3, 0x20ac },
		{ "\xf0\x9f\x98\x80", 4, 0x1f600 },
		{ "\xf4\x8f\xbf\xbf", 4, 0x10ffff },
		{ "\xc0\xaf", 1, UTF8_BAD },         /* overlong lead */
		{ "\xe0\x80\xaf", 1, UTF8_BAD },     /* overlong, 2nd byte */
		{ "\xed\xa0\x80", 1, UTF8_BAD },     /* surrogate */
		{ "\xf4\x90\x80\x80", 1, UTF8_BAD }, /* > U+10FFFF */
		{ "\xf5\x80", 1, UTF8_BAD },
		{ "\x80", 1, UTF8_BAD },             /* stray continuation */
		{ "\xe2\x82" "A", 2, UTF8_BAD },     /* cut short */
		{ "\xf0\x9f\x98", 3, UTF8_BAD },     /* cut at the end */
	};
	size_t i, bad = 0, k;
	uint32_t cp;
	uint8_t enc[4];

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		k = utf8_decode((const uint8_t *)v[i].in, strlen(v[i].in), &cp);
		if (k != v[i].len || cp != v[i].cp) {
			printf("# vector %zu: len %zu cp %x\n", i, k, cp);
			bad++;
		}
	}
	T_EQ_INT(bad, 0, "utf8: decoding, maximal subparts of broken sequences");
	T_OK(utf8_valid((const uint8_t *)"\xef\xbf\xbd", 3),
	    "utf8: a genuine U+FFFD is valid");
	T_OK(!utf8_valid((const uint8_t *)"ab\xf0\x9f\x98", 5),
	    "utf8: a sequence cut at the end is not");
	for (cp = 0, bad = 0; cp <= 0x10ffff; cp++) {
		uint32_t back;

		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;
		k = utf8_encode(cp, enc);
		if (utf8_decode(enc, k, &back) != k || back != cp)
			bad++;
	}
	T_EQ_INT(bad, 0, "utf8: every code point encodes and decodes back");
}

static void
test_whole_message(void)
{
	static const char *const rcpt[] = { "CN=ss1.atlanta.example.com",
		"CN=bob" };
	static const struct archive_signature sig[] = {
		{ "CN=alice,O=Atlanta", 1, 1, NULL },
		{ NULL, 0, 0, "certificate expired" },
	};
	static const unsigned char hello[] = "Hello Bob";
	struct archive_part p[2] = {
		{ .type = "text/plain", .charset = "utf-8", .data = hello,
		    .len = 9, .encrypted = 1,
		    .opened_with = "CN=ss1.atlanta.example.com",
		    .recipients = rcpt, .nrecipients = 2, .sigs = sig,
		    .nsigs = 2 },
		{ .type = "text/plain", .data = hello, .len = 5 },
	};
	struct archive_message m = base;
	char *s;

	m.to_tag = "314159";
	m.rule = "/etc/e2mproxyd.conf:42";
	m.content_type = "multipart/mixed;boundary=x";
	m.parts = p;
	m.nparts = 2;
	s = fmt(&m);
	T_EQ_STR(s,
	    "{\"v\":1,\"kind\":\"message\",\"time\":\"2026-12-06T16:10:00.123Z\","
	    "\"call_id\":\"a84b4c76e66710@pc33.atlanta.example.com\","
	    "\"cseq\":1,\"method\":\"MESSAGE\","
	    "\"from\":{\"uri\":\"sip:alice@atlanta.example.com\","
	    "\"tag\":\"1928301774\"},"
	    "\"to\":{\"uri\":\"sip:bob@biloxi.example.com\",\"tag\":\"314159\"},"
	    "\"source\":{\"address\":\"192.0.2.4\",\"port\":5060,"
	    "\"transport\":\"udp\"},"
	    "\"rule\":\"/etc/e2mproxyd.conf:42\","
	    "\"content_type\":\"multipart/mixed;boundary=x\","
	    "\"parts\":[{\"type\":\"text/plain\",\"charset\":\"utf-8\","
	    "\"protection\":{\"encrypted\":{"
	    "\"opened_with\":\"CN=ss1.atlanta.example.com\","
	    "\"recipients\":[\"CN=ss1.atlanta.example.com\",\"CN=bob\"]},"
	    "\"signatures\":[{\"signer\":\"CN=alice,O=Atlanta\",\"valid\":true,"
	    "\"inside_envelope\":true},{\"valid\":false,"
	    "\"inside_envelope\":false,\"reason\":\"certificate expired\"}]},"
	    "\"text\":\"Hello Bob\"},"
	    "{\"type\":\"text/plain\",\"protection\":{},\"text\":\"Hello\"}]}\n",
	    "a whole message record, member by member, in order");
	free(s);
}

static void
test_optional(void)
{
	struct archive_message m = base;
	struct archive_part p = { .type = "text/plain", .encrypted = 1 };
	static const struct archive_signature sig = { "CN=a", 1, 0, NULL };
	char *s;

	m.from_tag = NULL;
	s = fmt(&m);
	T_EQ_STR(s,
	    "{\"v\":1,\"kind\":\"message\",\"time\":\"2026-12-06T16:10:00.123Z\","
	    "\"call_id\":\"a84b4c76e66710@pc33.atlanta.example.com\","
	    "\"cseq\":1,\"method\":\"MESSAGE\","
	    "\"from\":{\"uri\":\"sip:alice@atlanta.example.com\"},"
	    "\"to\":{\"uri\":\"sip:bob@biloxi.example.com\"},"
	    "\"source\":{\"address\":\"192.0.2.4\",\"port\":5060,"
	    "\"transport\":\"udp\"},\"parts\":[]}\n",
	    "no tags, rule, content type or parts: members left out, parts []");
	free(s);

	s = fmt_part(&p);
	T_EQ_STR(s, "{\"type\":\"text/plain\",\"protection\":{\"encrypted\":{"
	    "\"recipients\":[]}},\"text\":\"\"}]}\n",
	    "encrypted, opener and recipients unknown, empty content");
	free(s);
	p.encrypted = 0;
	p.sigs = &sig;
	p.nsigs = 1;
	s = fmt_part(&p);
	T_EQ_STR(s, "{\"type\":\"text/plain\",\"protection\":{\"signatures\":"
	    "[{\"signer\":\"CN=a\",\"valid\":true,\"inside_envelope\":false}]},"
	    "\"text\":\"\"}]}\n", "signed only: signatures, no encrypted");
	free(s);
}

static void
test_escaping(void)
{
	char in[2], want[16], *s;
	int c, bad = 0;

	for (c = 1; c < 0x20; c++) {
		in[0] = (char)c;
		in[1] = '\0';
		if (c == '\n')
			strcpy(want, "\"\\n\"");
		else if (c == '\r')
			strcpy(want, "\"\\r\"");
		else if (c == '\t')
			strcpy(want, "\"\\t\"");
		else
			snprintf(want, sizeof(want), "\"\\u%04x\"", c);
		s = fmt_callid(in);
		if (strcmp(s, want) != 0) {
			printf("# control %02x: %s\n", c, s);
			bad++;
		}
		free(s);
	}
	T_EQ_INT(bad, 0, "each control character 01..1f escaped");
	s = fmt_callid("a\"b\\c\x7f/d");
	T_EQ_STR(s, "\"a\\\"b\\\\c\\u007f/d\"", "quote, backslash, DEL");
	free(s);
	s = fmt_callid("x\xc2\x85y\xc2\x9f\xc2\xa0");
	T_EQ_STR(s, "\"x\\u0085y\\u009f\xc2\xa0\"",
	    "C1 controls escaped, U+00A0 kept");
	free(s);
	s = fmt_callid("l\xe2\x80\xa8p\xe2\x80\xa9\xe2\x80\xa7");
	T_EQ_STR(s, "\"l\\u2028p\\u2029\xe2\x80\xa7\"",
	    "U+2028 and U+2029 escaped, U+2027 kept");
	free(s);
	s = fmt_callid("\xe2\x80\xa9\xe2\x80\xaa\xe2\x80\xae\xe2\x80\xaf"
	    "\xe2\x81\xa5\xe2\x81\xa6\xe2\x81\xa9\xe2\x81\xaa");
	T_EQ_STR(s, "\"\\u2029\\u202a\\u202e\xe2\x80\xaf\xe2\x81\xa5"
	    "\\u2066\\u2069\xe2\x81\xaa\"",
	    "bidi embeddings, overrides, isolates escaped; U+202F, U+2065, "
	    "U+206A kept");
	free(s);
	s = fmt_callid("caf\xc3\xa9 \xf0\x9f\x98\x80");
	T_EQ_STR(s, "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"", "UTF-8 passed as it is");
	free(s);
	s = fmt_callid("a\xff" "b\xc3" "c\xed\xa0\x80" "d\xe2\x82");
	T_EQ_STR(s, "\"a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xef\xbf\xbd\xef\xbf\xbd"
	    "\xef\xbf\xbd" "d\xef\xbf\xbd\"",
	    "ill-formed UTF-8 replaced by U+FFFD, one per maximal subpart");
	free(s);
}

static void
test_network_strings(void)
{
	struct archive_message m = base;
	static const struct archive_signature sig = { "CN=\x1b[31mevil\xff",
		0, 1, "bad\nreason" };
	struct archive_part p = { .type = "text/plain", .sigs = &sig,
		.nsigs = 1, .encrypted = 1 };
	static const char *const rcpt[] = { "CN=\"q\"" };
	char *s;

	m.from_uri = "sip:\"al\nice\"@a";
	m.from_tag = "t\x01";
	m.to_uri = "sip:b\xc0@b";
	m.to_tag = "\\";
	m.method = "MES\x7fSAGE";
	m.source_address = "::1";
	m.transport = "t\"ls";
	m.rule = "r\x02";
	m.content_type = "text/plain\r\nX: y";
	p.recipients = rcpt;
	p.nrecipients = 1;
	p.opened_with = "CN=\x03";
	m.parts = &p;
	m.nparts = 1;
	s = fmt(&m);
	T_OK(strstr(s, "\"from\":{\"uri\":\"sip:\\\"al\\nice\\\"@a\","
	    "\"tag\":\"t\\u0001\"}") != NULL &&
	    strstr(s, "\"to\":{\"uri\":\"sip:b\xef\xbf\xbd@b\",\"tag\":\"\\\\\"}") !=
	    NULL && strstr(s, "\"method\":\"MES\\u007fSAGE\"") != NULL &&
	    strstr(s, "\"transport\":\"t\\\"ls\"") != NULL &&
	    strstr(s, "\"rule\":\"r\\u0002\"") != NULL &&
	    strstr(s, "\"content_type\":\"text/plain\\r\\nX: y\"") != NULL &&
	    strstr(s, "\"opened_with\":\"CN=\\u0003\",\"recipients\":"
	    "[\"CN=\\\"q\\\"\"]") != NULL &&
	    strstr(s, "\"signer\":\"CN=\\u001b[31mevil\xef\xbf\xbd\"") != NULL &&
	    strstr(s, "\"reason\":\"bad\\nreason\"") != NULL,
	    "every network string escaped: URIs, tags, method, transport, rule, "
	    "content type, opener, recipients, signer, reason");
	free(s);
}

static void
test_text_or_base64(void)
{
	static const unsigned char nul[] = { 'a', 0, 'b', '\n' };
	static const unsigned char bad[] = { 'h', 'i', 0xff };
	static const unsigned char sep[] = "a\xe2\x80\xa8z";
	struct archive_part p = { .type = "text/plain", .data = nul,
		.len = sizeof(nul) };
	char *s;

	s = fmt_part(&p);
	T_EQ_STR(s, "{\"type\":\"text/plain\",\"protection\":{},"
	    "\"text\":\"a\\u0000b\\n\"}]}\n", "NUL bytes in text as \\u0000");
	free(s);
	p.data = sep;
	p.len = sizeof(sep) - 1;
	s = fmt_part(&p);
	T_EQ_STR(s, "{\"type\":\"text/plain\",\"protection\":{},"
	    "\"text\":\"a\\u2028z\"}]}\n", "U+2028 in text escaped");
	free(s);
	p.data = bad;
	p.len = sizeof(bad);
	s = fmt_part(&p);
	T_EQ_STR(s, "{\"type\":\"text/plain\",\"protection\":{},"
	    "\"base64\":\"aGn/\"}]}\n",
	    "text that is not UTF-8 goes as base64, untouched");
	free(s);
	p.data = (const unsigned char *)"caf\xe9";
	p.len = 4;
	p.charset = "ISO-8859-1";
	s = fmt_part(&p);
	T_EQ_STR(s, "{\"type\":\"text/plain\",\"charset\":\"ISO-8859-1\","
	    "\"protection\":{},\"base64\":\"Y2Fm6Q==\"}]}\n",
	    "text in another charset: base64 with the charset");
	free(s);
	p.data = (const unsigned char *)"plain";
	p.len = 5;
	p.charset = "US-ASCII";
	p.type = "TEXT/Plain";
	s = fmt_part(&p);
	T_OK(strstr(s, "\"text\":\"plain\"") != NULL,
	    "us-ascii and an upper-case type are text too");
	free(s);
}

static void
test_base64(void)
{
	static const char *const want[] = { "", "Zg==", "Zm8=", "Zm9v",
		"Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	struct archive_part p = { .type = "application/octet-stream",
		.data = (const unsigned char *)"foobar" };
	unsigned char bin[256];
	char exp[128], *s;
	size_t i;
	int bad = 0;

	for (i = 0; i < 7; i++) {
		p.len = i;
		s = fmt_part(&p);
		snprintf(exp, sizeof(exp), "{\"type\":\"application/octet-stream\","
		    "\"protection\":{},\"base64\":\"%s\"}]}\n", want[i]);
		if (strcmp(s, exp) != 0) {
			printf("# %zu: %s", i, s);
			bad++;
		}
		free(s);
	}
	T_EQ_INT(bad, 0, "base64: RFC 4648 test vectors, one line, padded");
	for (i = 0; i < sizeof(bin); i++)
		bin[i] = (unsigned char)i;
	p.data = bin;
	p.len = sizeof(bin);
	s = fmt_part(&p);
	{
		char *v = strstr(s, "\"base64\":\"");
		char *e = v != NULL ? strchr(v + 10, '"') : NULL;

		T_OK(e != NULL && e - (v + 10) == 344 &&
		    strncmp(v + 10, "AAECAwQFBgcICQoLDA0ODxAR", 24) == 0 &&
		    strncmp(e - 20, "8/T19vf4+fr7/P3+/w==", 20) == 0,
		    "base64: all 256 byte values, 344 characters, no breaks");
	}
	free(s);
	p.data = NULL;
	p.len = 0;
	s = fmt_part(&p);
	T_OK(strstr(s, "\"base64\":\"\"") != NULL, "an empty binary part");
	free(s);
}

static void
test_long(void)
{
	size_t n = 1 << 20, i;
	char *v = malloc(n + 1), *s, *want = malloc(n + 3);

	for (i = 0; i < n; i++)
		v[i] = (char)('a' + i % 26);
	v[n] = '\0';
	want[0] = '"';
	memcpy(want + 1, v, n);
	strcpy(want + n + 1, "\"");
	s = fmt_callid(v);
	T_OK(strcmp(s, want) == 0, "a Call-ID of 1 MiB written whole");
	free(s);
	for (i = 0; i < n; i++)
		v[i] = (char)(i % 2 ? '\x01' : '"');
	s = fmt_callid(v);
	T_EQ_INT(strlen(s), 2 + n / 2 * 2 + n / 2 * 6,
	    "1 MiB of quotes and control characters: every one escaped");
	free(s);
	free(v);
	free(want);
}

static void
test_final(void)
{
	struct archive_final f = { 1796573401000LL, "cid\x1f", 7, "MESSAGE",
		200 };
	struct buf b = { 0 };

	T_EQ_INT(archive_format_final(&b, &f), 0, "final: made");
	buf_add(&all, b.p, b.len);
	buf_add(&b, "", 1);
	T_EQ_STR((char *)b.p, "{\"v\":1,\"kind\":\"final\","
	    "\"time\":\"2026-12-06T16:10:01.000Z\",\"call_id\":\"cid\\u001f\","
	    "\"cseq\":7,\"method\":\"MESSAGE\",\"status\":200}\n",
	    "final: every member");
	buf_free(&b);
	f.status = 99;
	T_EQ_INT(archive_format_final(&b, &f), -1, "final: status 99 refused");
	f.status = 700;
	T_EQ_INT(archive_format_final(&b, &f), -1, "final: status 700 refused");
	T_EQ_INT(b.len, 0, "nothing appended by refused records");
	buf_free(&b);
}

static void
test_time_and_failures(void)
{
	struct archive_message m = base;
	struct archive_part p = { .type = NULL };
	struct buf b = { 0 };
	char *s;

	m.time_ms = -1;
	s = fmt(&m);
	T_OK(strstr(s, "\"time\":\"1969-12-31T23:59:59.999Z\"") != NULL,
	    "a time before 1970 rounds down, not toward zero");
	free(s);
	m.time_ms = 0;
	s = fmt(&m);
	T_OK(strstr(s, "\"time\":\"1970-01-01T00:00:00.000Z\"") != NULL,
	    "the epoch");
	free(s);
	m.time_ms = 253402300799999LL;
	s = fmt(&m);
	T_OK(strstr(s, "\"time\":\"9999-12-31T23:59:59.999Z\"") != NULL,
	    "the last millisecond of 9999");
	free(s);

	buf_str(&b, "earlier record\n");
	m.time_ms = 253402300800000LL;
	T_EQ_INT(archive_format_message(&b, &m), -1, "year 10000 refused");
	m = base;
	m.call_id = NULL;
	T_EQ_INT(archive_format_message(&b, &m), -1, "no Call-ID refused");
	m = base;
	m.to_uri = NULL;
	T_EQ_INT(archive_format_message(&b, &m), -1, "no To URI refused");
	m = base;
	m.transport = NULL;
	T_EQ_INT(archive_format_message(&b, &m), -1, "no transport refused");
	m = base;
	m.cseq = 4294967296UL;
	T_EQ_INT(archive_format_message(&b, &m), -1, "a CSeq of 2^32 refused");
	m.cseq = 4294967295UL;
	T_EQ_INT(archive_format_message(&b, &m), 0, "2^32 - 1 taken");
	b.len = 15;
	m = base;
	m.parts = &p;
	m.nparts = 1;
	T_EQ_INT(archive_format_message(&b, &m), -1,
	    "a part without a type refused");
	p.type = "text/plain";
	p.len = 3;
	T_EQ_INT(archive_format_message(&b, &m), -1,
	    "a part with a length and no data refused");
	T_OK(b.len == 15 && memcmp(b.p, "earlier record\n", 15) == 0,
	    "refused records leave the buffer as it was");
	b.oom = 1;
	T_EQ_INT(archive_format_message(&b, &base), -1,
	    "a buffer out of memory: -1");
	T_EQ_INT(b.len, 15, "and still as it was");
	buf_free(&b);
}

/*
 * Every line made above through Python's json module (strict: a raw
 * control character in a string is an error), one object a line; it
 * writes back each Call-ID as UTF-8 hex, to compare with what was meant.
 */
static void
test_python(void)
{
	char in[] = "/tmp/test_archive.XXXXXX", out[64], cmd[512], line[256];
	const char *py = "import json,sys\n"
	    "for l in sys.stdin.buffer.read().split(b'\\n')[:-1]:\n"
	    "  r=json.loads(l.decode('utf-8'))\n"
	    "  assert type(r) is dict and r['v'] == 1\n"
	    "  print(r['call_id'].encode('utf-8','surrogatepass').hex()[:64])\n";
	size_t lines = 0, i;
	FILE *f;
	int fd, rc, found = 0;

	if (access(PYTHON, X_OK) != 0) {
		printf("ok %d # SKIP no %s\n", ++t_count, PYTHON);
		return;
	}
	for (i = 0; i < all.len; i++)
		lines += all.p[i] == '\n';
	fd = mkstemp(in);
	T_OK(fd >= 0 && write(fd, all.p, all.len) == (ssize_t)all.len,
	    "records saved for Python");
	close(fd);
	snprintf(out, sizeof(out), "%s.out", in);
	snprintf(cmd, sizeof(cmd), "%s -c \"$PY\" < %s > %s", PYTHON, in, out);
	setenv("PY", py, 1);
	rc = system(cmd);
	T_EQ_INT(rc, 0, "Python's json.loads takes every line made here");
	f = fopen(out, "r");
	for (i = 0; f != NULL && fgets(line, sizeof(line), f) != NULL; i++)
		/* "a\xff" "b..." from test_escaping: U+FFFD decoded back */
		if (strncmp(line, "61efbfbd62efbfbd63efbfbdefbfbdefbfbd64efbfbd",
		    44) == 0)
			found = 1;
	T_EQ_INT(i, lines, "one object for each line");
	T_OK(found, "an escaped Call-ID decodes to what was meant");
	if (f != NULL)
		fclose(f);
	unlink(in);
	unlink(out);
}

int
main(void)
{
	test_utf8();
	test_whole_message();
	test_optional();
	test_escaping();
	test_network_strings();
	test_text_or_base64();
	test_base64();
	test_long();
	test_final();
	test_time_and_failures();
	test_python();
	buf_free(&all);
	return t_done();
}
