/*
 * fuzz_e2mlog.c - libFuzzer harness for what e2mlog does with each line
 * of an archive (archread.c): the input is split on '\n' into lines, each
 * parsed; a record that parses is summarised (message or final), matched
 * against users, and its strings made safe for a terminal. Nothing may
 * crash or leak, and no summary may hold a raw control character (C0,
 * DEL, C1), a line separator or a bidirectional override: e2mlog -t
 * prints them to a terminal. Every line is also tried as a time and as a
 * user pattern.
 *
 *   ./configure CC=clang --enable-fuzzing && make tests/fuzz/fuzz_e2mlog
 *   tests/fuzz/fuzz_e2mlog tests/fuzz/corpus/e2mlog/
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "services/archread.h"
#include "services/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What a terminal may be shown: printable text, one final newline. */
static void
check_safe(const struct buf *b, int newline)
{
	size_t i, k, n = b->len;
	uint32_t cp;

	if (newline && (n == 0 || b->p[n - 1] != '\n'))
		abort();
	n -= newline;
	for (i = 0; i < n; i += k) {
		k = utf8_decode(b->p + i, n - i, &cp);
		if (cp == UTF8_BAD || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
		    cp == 0x2028 || cp == 0x2029 ||
		    (cp >= 0x202a && cp <= 0x202e) ||
		    (cp >= 0x2066 && cp <= 0x2069))
			abort();
	}
}

static void
one_line(const char *line, size_t len)
{
	static const char *const users[] = { "alice", "alice@a.example",
		"sip:alice@a.example", "tel:+1", "" };
	struct archread_rec r;
	struct buf b = { 0 };
	const char *why;
	char *s;
	long long ms;
	size_t i;

	if (archread_parse(&r, line, len, &why) == 0) {
		if (r.kind == ARCHREAD_MESSAGE) {
			archread_summary(&b, &r, r.cseq % 2 ? 200 : -1);
			check_safe(&b, 1);
			for (i = 0; i < sizeof(users) / sizeof(users[0]); i++)
				(void)(archread_user_match(r.from_uri,
				    users[i]) + archread_user_match(r.to_uri,
				    users[i]));
		} else if (r.kind == ARCHREAD_FINAL) {
			archread_summary_final(&b, &r);
			check_safe(&b, 1);
			if (r.status < 100 || r.status > 699)
				abort();
		}
	} else if (why == NULL)
		abort(); /* a refusal always says why */
	archread_clear(&r);
	buf_free(&b);

	/* The line as a C string: a time, a user pattern, terminal text. */
	if ((s = malloc(len + 1)) == NULL)
		return;
	memcpy(s, line, len);
	s[len] = '\0';
	(void)archread_time(s, &ms);
	(void)archread_user_match(s, s);
	(void)archread_user_match("sip:alice@a.example", s);
	archread_safe(&b, s, len % 7, (int)(len & 1));
	check_safe(&b, 0);
	buf_free(&b);
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *nl;
	size_t rest = size;

	while (rest > 0) {
		nl = memchr(p, '\n', rest);
		one_line(p, nl != NULL ? (size_t)(nl - p) : rest);
		if (nl == NULL)
			break;
		rest -= (size_t)(nl - p) + 1;
		p = nl + 1;
	}
	return 0;
}
