/*
 * fuzz_sipstream.c - libFuzzer harness for the header-section follower
 * of TCP streams (common/sipstream.c: escaped NULs masked, the cut at the
 * limit; hdrguard.c runs it on every read) and for the unmasking
 * (sipstream_unmask(), which wirecopy_unmask() applies to each header
 * field the proxy forwards). The input is the bytes of one connection,
 * followed with two limits: one no header section reaches, and a small
 * one (16 to 527 bytes, from a hash of the input). Checked beyond
 * "no crash":
 *
 * - The split does not matter: in one piece, a byte at a time, in two
 *   and in three pieces, the same bytes out, the same cut, the same state.
 * - Only a NUL after an odd run of "\" in a header section (never in a
 *   body, nor after a Content-Length it could not read) changes, to
 *   SIPSTREAM_NUL, and every such NUL does.
 * - Round trip: the masked header sections unmasked a line at a time
 *   (as wirecopy_unmask() does a field at a time) give back the input,
 *   bar a SIPSTREAM_NUL the input itself had after an odd run of "\"
 *   (that one becomes a NUL: sipstream.h says why it is no valid SIP).
 * - The cut: never before the limit, never past half the limit more
 *   (a few line-end bytes aside), and the bytes passed followed by
 *   sipstream_cut_text() are a header section whose only empty line is
 *   the one that ends it.
 *
 *   ./configure CC=clang --enable-fuzzing && make tests/fuzz/fuzz_sipstream
 *   tests/fuzz/fuzz_sipstream tests/fuzz/corpus/sipstream/
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/sipstream.h"
#include "fuzzsplit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NONE ((size_t)-1)
#define MARKER "X-E2m-Cut"

static void
same(const struct sipstream *a, const struct sipstream *b)
{
	size_t k = a->linelen < sizeof(a->line) ? a->linelen :
	    sizeof(a->line);

	if (a->state != b->state || a->limit != b->limit ||
	    a->head != b->head || a->body_left != b->body_left ||
	    a->cl != b->cl || a->linelen != b->linelen ||
	    a->backslashes != b->backslashes || a->started != b->started ||
	    a->cr != b->cr || a->lines != b->lines || a->seen != b->seen ||
	    memcmp(a->method, b->method, sizeof(a->method)) != 0 ||
	    memcmp(a->line, b->line, k) != 0)
		abort();
}

/* The stream in pieces ending at ends[0..n_ends) (the last one size). */
static void
pieces(size_t limit, const uint8_t *data, unsigned char *out,
    const size_t *ends, size_t n_ends, struct sipstream *s, size_t *cut)
{
	size_t at = 0, i, k, r;

	memcpy(out, data, ends[n_ends - 1]);
	sipstream_init(s, limit);
	*cut = NONE;
	for (i = 0; i < n_ends; at = ends[i++]) {
		k = ends[i] - at;
		r = sipstream_feed(s, out + at, k);
		if (*cut != NONE) {
			if (r != 0)
				abort();
		} else if (s->state == SIPSTREAM_CUT) {
			if (r > k)
				abort();
			*cut = at + r;
		} else if (r != k) {
			abort();
		}
	}
}

/* The run of "\" just before p[i], back to p[from] at most. */
static size_t
run_before(const uint8_t *p, size_t from, size_t i)
{
	size_t n = 0;

	while (i > from && p[i - 1] == '\\')
		i--, n++;
	return n;
}

/* The cut at data[cut] of the message whose header began at data[msg];
 * s as the cut left it, out the masked bytes. */
static void
check_cut(const struct sipstream *s, const unsigned char *out, size_t msg,
    size_t cut)
{
	char text[1024];
	unsigned char *all;
	size_t len, n, i, j, lines = 0;

	if (msg == NONE || msg > cut || s->head != cut - msg + 1 ||
	    s->head <= s->limit || cut - msg > s->limit + s->limit / 2 + 3)
		abort();
	len = sipstream_cut_text(s, MARKER, text, sizeof(text));
	if (len == 0 || sipstream_cut_text(s, MARKER, text, len) != 0 ||
	    sipstream_cut_text(s, MARKER, text, len + 1) != len)
		abort();
	n = cut - msg + len;
	if ((all = malloc(n)) == NULL)
		abort();
	memcpy(all, out + msg, cut - msg);
	memcpy(all + cut - msg, text, len);
	if (n < 4 || memcmp(all + n - 4, "\r\n\r\n", 4) != 0)
		abort();
	/* the only empty line is the last one */
	for (i = 0; i < n; i = j + 1, lines++) {
		for (j = i; j < n && all[j] != '\n'; j++)
			;
		if (j == n)
			abort();
		if (lines > 0 && (j == i || (j == i + 1 && all[i] == '\r')) &&
		    j + 1 != n)
			abort();
	}
	free(all);
}

static void
follow(size_t limit, const uint8_t *data, size_t size, unsigned char *buf)
{
	unsigned char *one = buf, *bytes = buf + size, *two = buf + 2 * size,
	    *three = buf + 3 * size;
	uint8_t *head = (uint8_t *)(buf + 4 * size);
	size_t *from = (size_t *)(void *)(buf + 5 * size + 8 -
	    (5 * size) % 8);
	struct sipstream s1, sb, s2, s3;
	size_t c1, cb = NONE, c2, c3, ends[3], i, r, msg = NONE, j, ls;
	enum sipstream_state st;
	int started;

	ends[0] = size;
	pieces(limit, data, one, ends, 1, &s1, &c1);

	/* A byte at a time: which bytes are header bytes, of which message. */
	memcpy(bytes, data, size);
	sipstream_init(&sb, limit);
	for (i = 0; i < size; i++) {
		st = sb.state;
		started = sb.started;
		head[i] = 0;
		if (st == SIPSTREAM_HEAD && !started && data[i] != '\r' &&
		    data[i] != '\n')
			msg = i;
		from[i] = msg;
		r = sipstream_feed(&sb, bytes + i, 1);
		if (st == SIPSTREAM_CUT || st == SIPSTREAM_LOST) {
			if (r != (st == SIPSTREAM_LOST) || sb.state != st)
				abort();
			continue;
		}
		if (sb.state == SIPSTREAM_CUT) {
			if (st != SIPSTREAM_HEAD || r != 0)
				abort();
			cb = i;
			check_cut(&sb, bytes, msg, i);
			continue;
		}
		if (r != 1)
			abort();
		head[i] = st == SIPSTREAM_HEAD;
		/* a header section never grows past the cut */
		if (sb.state == SIPSTREAM_HEAD &&
		    sb.head > limit + limit / 2 + 3)
			abort();
	}
	/* What changed, and only that. */
	for (i = 0; i < size; i++) {
		if (head[i] && data[i] == 0 &&
		    run_before(data, from[i], i) % 2 == 1) {
			if (bytes[i] != SIPSTREAM_NUL)
				abort();
		} else if (bytes[i] != data[i]) {
			abort();
		}
	}
	/* The other splits. */
	ends[0] = split_at(data, size, 0);
	ends[1] = size;
	pieces(limit, data, two, ends, 2, &s2, &c2);
	ends[1] = ends[0] + split_at(data + ends[0], size - ends[0], 1);
	ends[2] = size;
	pieces(limit, data, three, ends, 3, &s3, &c3);
	if (c1 != cb || c2 != cb || c3 != cb ||
	    memcmp(one, bytes, size) != 0 || memcmp(two, bytes, size) != 0 ||
	    memcmp(three, bytes, size) != 0)
		abort();
	same(&s1, &sb);
	same(&s2, &sb);
	same(&s3, &sb);

	/* Round trip: each header line unmasked on its own. */
	for (i = 0; i < size; i = j) {
		if (!head[i]) {
			j = i + 1;
			continue;
		}
		for (j = i; j < size && head[j] && (j == i ||
		    data[j - 1] != '\n'); j++)
			;
		sipstream_unmask(bytes + i, j - i);
	}
	for (i = 0; i < size; i++) {
		if (bytes[i] == data[i])
			continue;
		for (ls = i; ls > 0 && head[ls - 1] && data[ls - 1] != '\n';
		    ls--)
			;
		if (!head[i] || data[i] != SIPSTREAM_NUL || bytes[i] != 0 ||
		    run_before(data, ls, i) % 2 == 0)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *buf;

	if (size == 0)
		return 0;
	/* four copies, a flag a byte, a start a byte (aligned) */
	buf = malloc(5 * size + 8 + size * sizeof(size_t));
	if (buf == NULL)
		return 0;
	follow(size + 1, data, size, buf);
	follow(16 + split_at(data, size, 2) % 512, data, size, buf);
	free(buf);
	return 0;
}
