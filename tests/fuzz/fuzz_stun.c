/*
 * fuzz_stun.c - libFuzzer harness for the STUN Binding server
 * (common/stun.c). The input is one UDP datagram; a request it accepts
 * is answered for an IPv4 and an IPv6 source, and each response is
 * checked: bounded, a well-formed STUN message of the right type with
 * the request's transaction id, whose XOR-MAPPED-ADDRESS decodes back to
 * the source, FINGERPRINT right when the request had one.
 *
 *   ./configure CC=clang --enable-fuzzing && make tests/fuzz/fuzz_stun
 *   tests/fuzz/fuzz_stun tests/fuzz/corpus/stun/
 */
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/stun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned
rd16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static void
check(const struct stun_request *r, enum stun_verdict v,
    const struct sockaddr *from, const uint8_t *addr, size_t alen,
    unsigned port)
{
	uint8_t out[STUN_MAX_RESPONSE], key[16];
	size_t n, off, len, i;
	int saw_xma = 0, saw_err = 0, saw_fp = 0;

	n = stun_response(r, from, out, sizeof(out));
	if (n < STUN_HEADER || n > STUN_MAX_RESPONSE || n % 4 != 0 ||
	    rd16(out + 2) != n - STUN_HEADER ||
	    rd16(out) != (v == STUN_UNKNOWN ? 0x0111u : 0x0101u) ||
	    memcmp(out + 8, r->tid, STUN_TID_LEN) != 0 ||
	    out[4] != 0x21 || out[5] != 0x12 || out[6] != 0xa4 || out[7] != 0x42)
		abort();
	memcpy(key, out + 4, 16);
	for (off = STUN_HEADER; off < n; off += 4 + ((len + 3) & ~(size_t)3)) {
		if (n - off < 4)
			abort();
		len = rd16(out + off + 2);
		if (((len + 3) & ~(size_t)3) > n - off - 4)
			abort();
		switch (rd16(out + off)) {
		case 0x0020:
			saw_xma = 1;
			if (len != 4 + alen || out[off + 5] !=
			    (alen == 4 ? 1 : 2) ||
			    (rd16(out + off + 6) ^ 0x2112u) != port)
				abort();
			for (i = 0; i < alen; i++)
				if ((out[off + 8 + i] ^ key[i]) != addr[i])
					abort();
			break;
		case 0x0009:
			saw_err = 1;
			if (out[off + 6] != 4 || out[off + 7] != 20)
				abort();
			break;
		case 0x000A:
			if (len != 2 * r->nunknown)
				abort();
			break;
		case 0x8028:
			saw_fp = 1;
			if (off + 8 != n || ((stun_crc32(out, off) ^
			    0x5354554eu) != ((uint32_t)rd16(out + off + 4) <<
			    16 | rd16(out + off + 6))))
				abort();
			break;
		default:
			abort();
		}
	}
	if (saw_fp != r->fingerprint || saw_xma != (v == STUN_BINDING) ||
	    saw_err != (v == STUN_UNKNOWN))
		abort();
	/* A response is never taken for a request. */
	{
		struct stun_request again;

		if (stun_parse(out, n, &again) != STUN_DROP)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t a4[4] = { 192, 0, 2, 1 };
	static const uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
	    0, 0, 0, 0, 0, 0, 0, 7 };
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	struct stun_request r;
	enum stun_verdict v;

	v = stun_parse(data, size, &r);
	if (v == STUN_DROP)
		return 0;
	if (!stun_is_stun(data, size) || size < STUN_HEADER ||
	    size > STUN_MAX_REQUEST || r.nunknown > STUN_MAX_UNKNOWN ||
	    (v == STUN_UNKNOWN) != (r.nunknown > 0) ||
	    memcmp(r.tid, data + 8, STUN_TID_LEN) != 0)
		abort();
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(40000);
	memcpy(&sin.sin_addr, a4, 4);
	check(&r, v, (struct sockaddr *)&sin, a4, 4, 40000);
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(5060);
	memcpy(&sin6.sin6_addr, a6, 16);
	check(&r, v, (struct sockaddr *)&sin6, a6, 16, 5060);
	return 0;
}
