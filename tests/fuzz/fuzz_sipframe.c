/*
 * fuzz_sipframe.c - libFuzzer harness for the stream framer
 * (common/sipframe.c, what streamguard.c feeds every TCP/TLS read to).
 * The input is the bytes of one connection. Checked beyond "no crash":
 *
 * - The split does not matter: the stream fed in one piece, a byte at a
 *   time, and in two or three pieces (cut where a hash of the input
 *   says) gives the same number of messages and the same state after
 *   them, and the first piece alone as many messages as ended in it.
 * - Each message it reports (fed a byte at a time, so its end is known)
 *   lies inside the input, starts with a printable start line naming
 *   "SIP/", has an empty line, and ends after its header section plus
 *   Content-Length bytes whenever every Content-Length field of it is a
 *   plain number (read here independently, as sipdgram.c does), and
 *   sipdgram_check() calls it whole.
 * - A message not yet ended really is incomplete; GARBAGE comes only
 *   from a byte no start line may hold or a start line without "SIP/",
 *   and sticks; a stream has no more messages than line feeds.
 *
 *   ./configure CC=clang --enable-fuzzing && make tests/fuzz/fuzz_sipframe
 *   tests/fuzz/fuzz_sipframe tests/fuzz/corpus/sipframe/
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/sipdgram.h"
#include "common/sipframe.h"
#include "fuzzsplit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NONE ((size_t)-1)

static void
same(const struct sipframe *a, const struct sipframe *b)
{
	size_t k = a->line_len < sizeof(a->line) ? a->line_len :
	    sizeof(a->line);

	if (a->state != b->state || a->in_body != b->in_body ||
	    a->body_left != b->body_left || a->line_len != b->line_len ||
	    a->line_no != b->line_no || a->start_sip != b->start_sip ||
	    a->sip_match != b->sip_match || a->clen != b->clen ||
	    a->cl_state != b->cl_state || a->cl_val != b->cl_val ||
	    (a->state == SIPFRAME_PARTIAL && !a->in_body &&
	    memcmp(a->line, b->line, k) != 0))
		abort();
}

static int
start_line_byte(uint8_t b)
{
	return (b >= 0x20 && b < 0x7f) || b == '\r' || b == '\t';
}

static int
has_sip(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 4 <= n; i++)
		if (memcmp(p + i, "SIP/", 4) == 0)
			return 1;
	return 0;
}

/*
 * The message starting at p[0] (not CR or LF), read independently:
 * *hdr the length of its header section (empty line included), NONE if
 * it has none yet; *cl its Content-Length when every such field is a
 * plain number on a line of its own, else NONE; 0 when there is none.
 */
static void
reference(const uint8_t *p, size_t n, size_t *hdr, size_t *cl)
{
	const uint8_t *line = p, *nl, *end = p + n;
	int first = 1, last_was_cl = 0, r;
	size_t v;

	*hdr = NONE;
	*cl = 0;
	for (; line < end; line = nl + 1, first = 0) {
		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
			return;
		if (first)
			continue;
		if (nl == line || (nl == line + 1 && line[0] == '\r')) {
			*hdr = (size_t)(nl + 1 - p);
			return;
		}
		if (line[0] == ' ' || line[0] == '\t') {
			if (last_was_cl)	/* a folded Content-Length */
				*cl = NONE;
			continue;
		}
		r = sipdgram_content_length((const char *)line,
		    (size_t)(nl + 1 - line), &v);
		last_was_cl = r != 0;
		if (r < 0)
			*cl = NONE;
		else if (r > 0 && *cl != NONE)
			*cl = v;
	}
}

/* A message the framer says ended: p[s..e). */
static void
check_frame(const uint8_t *p, size_t s, size_t e)
{
	const uint8_t *nl;
	size_t i, hdr, cl;

	if (s == NONE || s >= e || p[s] == '\r' || p[s] == '\n')
		abort();
	nl = memchr(p + s, '\n', e - s);
	if (nl == NULL)
		abort();
	for (i = s; p + i < nl; i++)
		if (!start_line_byte(p[i]))
			abort();
	if (!has_sip(p + s, (size_t)(nl - (p + s))))
		abort();
	reference(p + s, e - s, &hdr, &cl);
	if (hdr == NONE || hdr > e - s)
		abort();
	if (cl != NONE && e - s - hdr != cl)
		abort();
	switch (sipdgram_check((const char *)p + s, e - s)) {
	case SIPDGRAM_NO_END:
		abort();
	case SIPDGRAM_SHORT_BODY:
		if (cl != NONE)
			abort();
		break;
	default:
		break;
	}
}

/* The stream went GARBAGE at p[i], in the message starting at s. */
static void
check_garbage(const uint8_t *p, size_t s, size_t i)
{
	if (s == NONE || i < s || memchr(p + s, '\n', i - s) != NULL)
		abort();	/* only a start line can be garbage */
	if (p[i] == '\n') {
		if (has_sip(p + s, i - s))
			abort();
	} else if (start_line_byte(p[i])) {
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sipframe whole, bytes, two, three;
	const char *p = (const char *)data;
	size_t i, s = NONE, k, k2, lf = 0, hdr, cl;
	unsigned n_whole, n_bytes = 0, before_k = 0, d, got;
	enum sipframe_state was;

	sipframe_init(&whole);
	n_whole = sipframe_feed(&whole, p, size);

	/* A byte at a time: where each message ends. */
	sipframe_init(&bytes);
	k = split_at(data, size, 0);
	for (i = 0; i < size; i++) {
		if (i == k)
			before_k = n_bytes;
		was = bytes.state;
		d = sipframe_feed(&bytes, p + i, 1);
		lf += data[i] == '\n';
		if (d > 1)
			abort();
		if (was == SIPFRAME_GARBAGE) {
			if (d != 0 || bytes.state != SIPFRAME_GARBAGE)
				abort();
			continue;
		}
		if (was == SIPFRAME_IDLE) {
			if (data[i] == '\r' || data[i] == '\n') {
				if (bytes.state != SIPFRAME_IDLE || d != 0)
					abort();
				continue;
			}
			s = i;
		}
		if (bytes.state == SIPFRAME_GARBAGE) {
			check_garbage(data, s, i);
			continue;
		}
		if (d == 1) {
			check_frame(data, s, i + 1);
			if (bytes.state != SIPFRAME_IDLE)
				abort();
			n_bytes++;
			s = NONE;
		}
	}
	if (k == size)
		before_k = n_bytes;
	if (n_bytes != n_whole || n_bytes > lf)
		abort();
	same(&whole, &bytes);
	/* A message under way has not ended yet, whatever its length. */
	if (bytes.state == SIPFRAME_PARTIAL) {
		reference(data + s, size - s, &hdr, &cl);
		if (hdr != NONE && cl != NONE && size - s - hdr >= cl)
			abort();
	}

	/* Two pieces, then three. */
	sipframe_init(&two);
	got = sipframe_feed(&two, p, k);
	if (got != before_k)
		abort();
	got += sipframe_feed(&two, p + k, size - k);
	if (got != n_whole)
		abort();
	same(&whole, &two);
	k2 = k + split_at(data + k, size - k, 1);
	sipframe_init(&three);
	got = sipframe_feed(&three, p, k);
	got += sipframe_feed(&three, p + k, k2 - k);
	got += sipframe_feed(&three, p + k2, size - k2);
	if (got != n_whole)
		abort();
	same(&whole, &three);
	return 0;
}
