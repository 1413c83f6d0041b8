/*
 * fuzz_sipdgram.c - libFuzzer harness for the whole-datagram check
 * (common/sipdgram.c, what srcguard.c asks of every UDP response before
 * Sofia parses it). The input is one datagram. Checked beyond "no crash":
 *
 * - sipdgram_check() agrees with a second reading written here from
 *   sipdgram.h alone (leading CRLFs skipped, lines to LF, the empty line
 *   after the start line, Content-Length and "l" as plain numbers, one
 *   that is no number making the datagram Sofia's to refuse: WHOLE).
 * - sipdgram_content_length() agrees with that reading on every header
 *   line, with or without its line end; a value it reads, written back
 *   as "Content-Length: N", reads back the same.
 * - Whole stays whole: a WHOLE datagram with bytes appended is WHOLE; cut
 *   to its header section plus Content-Length bytes it is still WHOLE,
 *   one byte fewer SHORT_BODY. SHORT_BODY padded to its Content-Length is
 *   WHOLE. Whatever a prefix has found (an empty line) the whole has too.
 *
 *   ./configure CC=clang --enable-fuzzing && make tests/fuzz/fuzz_sipdgram
 *   tests/fuzz/fuzz_sipdgram tests/fuzz/corpus/sipdgram/
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/sipdgram.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NONE ((size_t)-1)
/* Padding a short body is tried up to this many bytes. */
#define MAX_PAD 65536

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int
lws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The reading of sipdgram.h: 1 and *v, 0 (another field), -1. */
static int
ref_cl(const uint8_t *p, size_t n, size_t *v)
{
	static const char cl[] = "content-length";
	size_t i = 0, name, x = 0, digits = 0;

	while (i < n && p[i] != ':' && p[i] != ' ' && p[i] != '\t')
		i++;
	name = i;
	if (name == 14) {
		for (i = 0; i < 14; i++)
			if (lower(p[i]) != cl[i])
				return 0;
	} else if (name != 1 || lower(p[0]) != 'l') {
		return 0;
	}
	for (i = name; i < n && (p[i] == ' ' || p[i] == '\t'); i++)
		;
	if (i == n || p[i] != ':')
		return 0;
	for (i++; i < n && lws(p[i]); i++)
		;
	for (; i < n && p[i] >= '0' && p[i] <= '9'; i++, digits++) {
		/* sipdgram.c refuses a little early: any value whose last
		 * digit could overflow (ten values below SIZE_MAX; Sofia's
		 * Content-Length is 32 bits anyway) */
		if (x > (SIZE_MAX - 9) / 10)
			return -1;
		x = x * 10 + (size_t)(p[i] - '0');
	}
	if (digits == 0)
		return -1;
	for (; i < n; i++)
		if (!lws(p[i]))
			return -1;
	*v = x;
	return 1;
}

/*
 * The reading of sipdgram.h of a whole datagram; *hdr the length of
 * its header section (to the end of the empty line, leading CRLFs
 * included) and *cl its Content-Length (0 if none), both NONE when not
 * known.
 */
static enum sipdgram
ref_check(const uint8_t *p, size_t n, size_t *hdr, size_t *cl)
{
	size_t i = 0, j, v;
	int first = 1, r;

	*hdr = *cl = NONE;
	for (;;) {
		if (i < n && p[i] == '\n')
			i++;
		else if (i + 1 < n && p[i] == '\r' && p[i + 1] == '\n')
			i += 2;
		else
			break;
	}
	*cl = 0;
	for (; i < n; i = j + 1, first = 0) {
		for (j = i; j < n && p[j] != '\n'; j++)
			;
		if (j == n)
			break;
		if (!first && (j == i || (j == i + 1 && p[i] == '\r'))) {
			*hdr = j + 1;
			return n - *hdr < *cl ? SIPDGRAM_SHORT_BODY :
			    SIPDGRAM_WHOLE;
		}
		if (first || p[i] == ' ' || p[i] == '\t')
			continue;
		r = ref_cl(p + i, j + 1 - i, &v);
		if (r < 0) {
			*cl = NONE;
			return SIPDGRAM_WHOLE;
		}
		if (r > 0)
			*cl = v;
	}
	*cl = NONE;
	return SIPDGRAM_NO_END;
}

static enum sipdgram
check(const uint8_t *p, size_t n)
{
	return sipdgram_check((const char *)p, n);
}

/* Every header line to sipdgram_content_length(), three ways. */
static void
lines(const uint8_t *p, size_t n)
{
	const uint8_t *line, *nl, *end = p + n;
	size_t v, w, len;
	char back[64];
	int r, s;

	for (line = p; line < end; line = nl + 1) {
		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
			nl = end - 1;
		len = (size_t)(nl + 1 - line);
		v = w = NONE;
		r = sipdgram_content_length((const char *)line, len, &v);
		if (r != ref_cl(line, len, &w) || (r > 0 && v != w))
			abort();
		/* the line end changes nothing */
		while (len > 0 && (line[len - 1] == '\n' ||
		    line[len - 1] == '\r'))
			len--;
		s = sipdgram_content_length((const char *)line, len, &w);
		if (s != r || (r > 0 && w != v))
			abort();
		if (r > 0) {
			snprintf(back, sizeof(back), "Content-Length: %zu\r\n",
			    v);
			if (sipdgram_content_length(back, strlen(back), &w) != 1
			    || w != v)
				abort();
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum sipdgram got, want;
	size_t hdr, cl, k;
	uint8_t *more;

	got = check(data, size);
	want = ref_check(data, size, &hdr, &cl);
	if (got != want)
		abort();
	lines(data, size);
	if (size == 0 || (more = malloc(2 * size + MAX_PAD)) == NULL)
		return 0;
	/* Appended bytes (the datagram again) */
	memcpy(more, data, size);
	memcpy(more + size, data, size);
	if (got == SIPDGRAM_WHOLE && check(more, 2 * size) != SIPDGRAM_WHOLE)
		abort();
	if (got == SIPDGRAM_SHORT_BODY &&
	    check(more, 2 * size) == SIPDGRAM_NO_END)
		abort();
	/* Prefixes: what they found, the whole has. */
	for (k = size / 2; k < size; k += (size - k + 1) / 2)
		if (check(data, k) != SIPDGRAM_NO_END &&
		    got == SIPDGRAM_NO_END)
			abort();
	if (hdr != NONE && cl != NONE) {
		if (got == SIPDGRAM_WHOLE) {
			/* trailing bytes trimmed per Content-Length */
			if (check(data, hdr + cl) != SIPDGRAM_WHOLE)
				abort();
			if (cl > 0 &&
			    check(data, hdr + cl - 1) != SIPDGRAM_SHORT_BODY)
				abort();
		} else if (got == SIPDGRAM_SHORT_BODY &&
		    cl - (size - hdr) <= MAX_PAD) {
			memset(more + size, 'x', hdr + cl - size);
			if (check(more, hdr + cl) != SIPDGRAM_WHOLE ||
			    check(more, hdr + cl - 1) != SIPDGRAM_SHORT_BODY)
				abort();
		} else if (got == SIPDGRAM_NO_END) {
			abort();
		}
	}
	free(more);
	return 0;
}
