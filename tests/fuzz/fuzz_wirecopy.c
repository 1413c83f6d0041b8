/*
 * fuzz_wirecopy.c - libFuzzer harness for the unmasking of escaped NULs
 * in a parsed message (proxyd/wirecopy.c: wirecopy_unmask(), which
 * responses.c applies to every response it relays as received). The
 * input is one message; its header section is masked as srcguard.c does
 * for a datagram (common/sipstream.c), Sofia parses it as the proxy's
 * agent does (MSG_DO_EXTRACT_COPY: each field keeps its received bytes),
 * and wirecopy_unmask() puts the NULs back. Checked: every header field's
 * received bytes are then the input's, bar a SIPSTREAM_NUL the input
 * itself had after an odd run of "\" (sipstream.h); a copy made by
 * wirecopy() has no field left masked; wirecopy_shared()'s copy goes out
 * as the same bytes as wirecopy()'s.
 *
 *   ./configure CC=clang --enable-fuzzing && make tests/fuzz/fuzz_wirecopy
 *   tests/fuzz/fuzz_wirecopy tests/fuzz/corpus/wirecopy/
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/msg.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>

#include "common/sipstream.h"
#include "proxyd/wirecopy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The masked header section ends before the first empty line. */
static size_t
header_end(const uint8_t *p, size_t n)
{
	const uint8_t *a = memmem(p, n, "\r\n\r\n", 4), *b = memmem(p, n,
	    "\n\n", 2);

	if (a == NULL || (b != NULL && b < a))
		a = b;
	return a != NULL ? (size_t)(a - p) : n;
}

/* p[i] is a byte the unmasking may take for a masked NUL: SIPSTREAM_NUL
 * after an odd run of "\" (counted back to the field's start). */
static int
ambiguous(const uint8_t *p, size_t start, size_t i)
{
	size_t n = 0;

	if (p[i] != SIPSTREAM_NUL)
		return 0;
	while (i > start && p[i - 1] == '\\')
		i--, n++;
	return n % 2 == 1;
}

/*
 * Where each header field of m (in received order) has its received
 * bytes in the input: found in turn in from (the bytes as m holds them
 * now); *n of them, NULL when out of memory. A field encoded anew, not
 * received, has none (-1).
 */
static size_t *
offsets(msg_t *m, const uint8_t *from, size_t size, size_t *n)
{
	msg_header_t **head, *h;
	const uint8_t *at;
	size_t pos = 0, k = 0, *o;

	*n = 0;
	if ((head = msg_chain_head(m)) == NULL)
		return NULL;
	for (h = *head; h != NULL; h = h->sh_succ)
		k++;
	if ((o = malloc((k + 1) * sizeof(*o))) == NULL)
		return NULL;
	for (h = *head; h != NULL; h = h->sh_succ, (*n)++) {
		o[*n] = (size_t)-1;
		if (h->sh_class == sip_payload_class || h->sh_data == NULL ||
		    h->sh_len == 0)
			continue;
		at = memmem(from + pos, size - pos, h->sh_data, h->sh_len);
		if (at == NULL)
			continue;
		o[*n] = (size_t)(at - from);
		pos = o[*n] + h->sh_len;
	}
	return o;
}

/* After unmasking: each field's bytes are the input's at its offset. */
static void
as_received(msg_t *m, const size_t *o, size_t n, const uint8_t *data)
{
	msg_header_t **head, *h;
	size_t k, i;

	if ((head = msg_chain_head(m)) == NULL)
		return;
	for (h = *head, k = 0; h != NULL && k < n; h = h->sh_succ, k++) {
		if (o[k] == (size_t)-1)
			continue;
		for (i = 0; i < h->sh_len; i++)
			if (((const uint8_t *)h->sh_data)[i] != data[o[k] + i] &&
			    !ambiguous(data, o[k], o[k] + i))
				abort();
	}
}

/* No header field of m holds SIPSTREAM_NUL after an odd run of "\". */
static void
none_masked(msg_t *m)
{
	msg_header_t **head, *h;
	size_t i;

	if ((head = msg_chain_head(m)) == NULL)
		return;
	for (h = *head; h != NULL; h = h->sh_succ)
		if (h->sh_class != sip_payload_class && h->sh_data != NULL)
			for (i = 0; i < h->sh_len; i++)
				if (ambiguous(h->sh_data, 0, i))
					abort();
}

/* The bytes m goes out as (what tport sends): malloc()ed, NULL when it
 * cannot be prepared. */
static uint8_t *
wire(msg_t *m, size_t *len)
{
	msg_iovec_t *vec;
	isize_t n, i;
	uint8_t *b;

	*len = 0;
	if (msg_prepare(m) < 0 || (n = msg_iovec(m, NULL, 0)) <= 0 ||
	    (vec = calloc((size_t)n, sizeof(*vec))) == NULL)
		return NULL;
	msg_iovec(m, vec, n);
	for (i = 0; i < n; i++)
		*len += vec[i].mv_len;
	if ((b = malloc(*len + 1)) != NULL)
		for (i = 0, *len = 0; i < n; i++) {
			memcpy(b + *len, vec[i].mv_base, vec[i].mv_len);
			*len += vec[i].mv_len;
		}
	free(vec);
	return b;
}

/* wirecopy_shared() and wirecopy() give copies of the same bytes, for a
 * request the proxy forwards: SIP/2.0 (parsefix.c: 505 otherwise), the
 * fields nta needs, and an end to its header section (incoming.c answers
 * the rest, cut_short()). */
static void
same_as_wirecopy(msg_t *m)
{
	msg_t *a, *b;
	uint8_t *wa = NULL, *wb = NULL;
	size_t la = 0, lb = 0;
	sip_t *sip = sip_object(m);

	if (sip->sip_request == NULL || sip->sip_separator == NULL ||
	    sip->sip_request->rq_version == NULL ||
	    strcmp(sip->sip_request->rq_version, "SIP/2.0") != 0 ||
	    sip->sip_via == NULL || sip->sip_from == NULL ||
	    sip->sip_to == NULL || sip->sip_call_id == NULL ||
	    sip->sip_cseq == NULL)
		return;
	a = wirecopy(m);
	b = wirecopy_shared(m);

	if (a != NULL && b != NULL) {
		wa = wire(a, &la);
		wb = wire(b, &lb);
		if (wa != NULL && wb != NULL && (la != lb ||
		    memcmp(wa, wb, la) != 0))
			abort();
	}
	free(wa);
	free(wb);
	if (a != NULL)
		msg_destroy(a);
	if (b != NULL)
		msg_destroy(b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sipstream st;
	uint8_t *masked;
	msg_t *m, *c;
	size_t hl, n, *o;

	if (size == 0 || (masked = malloc(size)) == NULL)
		return 0;
	memcpy(masked, data, size);
	hl = header_end(masked, size);
	sipstream_init(&st, size + 1);
	sipstream_feed(&st, masked, hl);
	m = msg_make(sip_default_mclass(), MSG_DO_CANONIC |
	    MSG_DO_EXTRACT_COPY, (const char *)masked, (ssize_t)size);
	if (m != NULL && sip_object(m) != NULL) {
		/* a request forwarded: wirecopy()'s copy has no field left
		 * masked (its fields need not be m's: Sofia encodes anew
		 * what it could not keep) */
		if ((c = wirecopy(m)) != NULL) {
			none_masked(c);
			msg_destroy(c);
		}
		same_as_wirecopy(m);
		/* a response relayed as received */
		if ((o = offsets(m, masked, size, &n)) != NULL) {
			wirecopy_unmask(m);
			as_received(m, o, n, data);
			free(o);
		}
	}
	if (m != NULL)
		msg_destroy(m);
	free(masked);
	return 0;
}
