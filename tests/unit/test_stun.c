/* test_stun.c - RFC 5389 Binding requests and responses, against the
 * RFC 5769 test vectors where they apply. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/stun.h"
#include "t.h"

/* RFC 5769 2.1: a request (SOFTWARE, PRIORITY, ICE-CONTROLLED, USERNAME,
 * MESSAGE-INTEGRITY, FINGERPRINT). */
static const uint8_t req_5769[] = {
	0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42,
	0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
	0x80, 0x22, 0x00, 0x10, 'S', 'T', 'U', 'N', ' ', 't', 'e', 's',
	't', ' ', 'c', 'l', 'i', 'e', 'n', 't',
	0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
	0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36,
	0x00, 0x06, 0x00, 0x09, 0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76,
	0x59, 0x20, 0x20, 0x20,
	0x00, 0x08, 0x00, 0x14, 0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56,
	0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49, 0xc1, 0xb5, 0x71, 0xa2,
	0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,
};

/* RFC 5769 2.2 and 2.3: responses for 192.0.2.1:32853 and
 * [2001:db8:1234:5678:11:2233:4455:6677]:32853 (SOFTWARE,
 * XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY, FINGERPRINT). */
static const uint8_t resp4_5769[] = {
	0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42,
	0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
	0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
	0x74, 0x6f, 0x72, 0x20,
	0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
	0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3,
	0x8c, 0x74, 0x89, 0xf9, 0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7,
	0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96,
};
static const uint8_t resp6_5769[] = {
	0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42,
	0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
	0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
	0x74, 0x6f, 0x72, 0x20,
	0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47,
	0x01, 0x13, 0xa9, 0xfa, 0xa5, 0xd3, 0xf1, 0x79,
	0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9,
	0x00, 0x08, 0x00, 0x14, 0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1,
	0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75, 0xbf, 0xe3, 0xed, 0x41,
	0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c,
};
#define XMA4_AT 36 /* XOR-MAPPED-ADDRESS in resp4_5769 and resp6_5769 */

static const uint8_t tid_5769[12] = { 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
	0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae };

static struct sockaddr_storage ss;

static const struct sockaddr *
sa4(const char *ip, unsigned port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, ip, &sin->sin_addr);
	return (const struct sockaddr *)&ss;
}

static const struct sockaddr *
sa6(const char *ip, unsigned port)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons((uint16_t)port);
	inet_pton(AF_INET6, ip, &sin6->sin6_addr);
	return (const struct sockaddr *)&ss;
}

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* Set the header length to n - 20 and, with fp, append a FINGERPRINT
 * (room for 8 more bytes expected); the new size. */
static size_t
finish(uint8_t *m, size_t n, int fp)
{
	uint32_t crc;

	if (fp) {
		m[2] = (uint8_t)((n + 8 - 20) >> 8);
		m[3] = (uint8_t)(n + 8 - 20);
		m[n] = 0x80, m[n + 1] = 0x28, m[n + 2] = 0, m[n + 3] = 4;
		crc = stun_crc32(m, n) ^ 0x5354554eu;
		m[n + 4] = (uint8_t)(crc >> 24), m[n + 5] = (uint8_t)(crc >> 16);
		m[n + 6] = (uint8_t)(crc >> 8), m[n + 7] = (uint8_t)crc;
		return n + 8;
	}
	m[2] = (uint8_t)((n - 20) >> 8);
	m[3] = (uint8_t)(n - 20);
	return n;
}

/* A bare Binding request with tid 1..12, attributes appended by callers. */
static size_t
binding(uint8_t *m)
{
	size_t i;

	memset(m, 0, 20);
	m[1] = 0x01;
	m[4] = 0x21, m[5] = 0x12, m[6] = 0xa4, m[7] = 0x42;
	for (i = 0; i < 12; i++)
		m[8 + i] = (uint8_t)(i + 1);
	return 20;
}

static size_t
attr(uint8_t *m, size_t n, unsigned type, const void *v, size_t len)
{
	size_t padded = (len + 3) & ~(size_t)3;

	m[n] = (uint8_t)(type >> 8), m[n + 1] = (uint8_t)type;
	m[n + 2] = (uint8_t)(len >> 8), m[n + 3] = (uint8_t)len;
	memcpy(m + n + 4, v, len);
	memset(m + n + 4 + len, 0xEE, padded - len); /* any padding value */
	return n + 4 + padded;
}

static void
test_vectors(void)
{
	struct stun_request r;
	uint8_t out[STUN_MAX_RESPONSE];
	size_t n;

	/* The FINGERPRINT of each vector, recomputed: the CRC is right. */
	T_EQ_INT(stun_crc32(req_5769, sizeof(req_5769) - 8) ^ 0x5354554eu,
	    rd32(req_5769 + sizeof(req_5769) - 4), "crc32: RFC 5769 2.1");
	T_EQ_INT(stun_crc32(resp4_5769, sizeof(resp4_5769) - 8) ^ 0x5354554eu,
	    rd32(resp4_5769 + sizeof(resp4_5769) - 4), "crc32: RFC 5769 2.2");
	T_EQ_INT(stun_crc32(resp6_5769, sizeof(resp6_5769) - 8) ^ 0x5354554eu,
	    rd32(resp6_5769 + sizeof(resp6_5769) - 4), "crc32: RFC 5769 2.3");
	T_EQ_INT(stun_crc32("123456789", 9), 0xCBF43926u,
	    "crc32: the check value of CRC-32/ISO-HDLC");

	/* 2.1 carries PRIORITY (0x0024, ICE): comprehension-required and
	 * unknown here, so a 420 naming it; its FINGERPRINT is valid. */
	T_EQ_INT(stun_parse(req_5769, sizeof(req_5769), &r), STUN_UNKNOWN,
	    "RFC 5769 2.1: parsed, unknown attribute");
	T_OK(memcmp(r.tid, tid_5769, 12) == 0, "RFC 5769 2.1: transaction id");
	T_OK(r.fingerprint, "RFC 5769 2.1: FINGERPRINT checked");
	T_OK(r.nunknown == 1 && r.unknown[0] == 0x0024,
	    "RFC 5769 2.1: PRIORITY is the unknown one (USERNAME, "
	    "MESSAGE-INTEGRITY, comprehension-optional ones are not)");
	n = stun_response(&r, sa4("192.0.2.1", 32853), out, sizeof(out));
	{
		static const uint8_t want[] = {
			0x01, 0x11, 0x00, 0x2c, 0x21, 0x12, 0xa4, 0x42,
			0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
			0xfa, 0x87, 0xdf, 0xae,
			0x00, 0x09, 0x00, 0x15, 0x00, 0x00, 0x04, 20,
			'U', 'n', 'k', 'n', 'o', 'w', 'n', ' ', 'A', 't',
			't', 'r', 'i', 'b', 'u', 't', 'e', 0, 0, 0,
			0x00, 0x0a, 0x00, 0x02, 0x00, 0x24, 0x00, 0x00,
			0x80, 0x28, 0x00, 0x04,
		};

		T_EQ_INT(n, sizeof(want) + 4, "420: its length");
		T_OK(n == sizeof(want) + 4 &&
		    memcmp(out, want, sizeof(want)) == 0,
		    "420: ERROR-CODE 420 and UNKNOWN-ATTRIBUTES 0x0024, byte "
		    "for byte");
		T_EQ_INT(stun_crc32(out, n - 8) ^ 0x5354554eu,
		    rd32(out + n - 4), "420: its FINGERPRINT");
	}

	/* The 2.2/2.3 responses' XOR-MAPPED-ADDRESS, from ours. */
	memset(&r, 0, sizeof(r));
	memcpy(r.tid, tid_5769, 12);
	n = stun_response(&r, sa4("192.0.2.1", 32853), out, sizeof(out));
	T_EQ_INT(n, 32, "v4 success: header and XOR-MAPPED-ADDRESS");
	T_OK(n == 32 && memcmp(out, "\x01\x01\x00\x0c\x21\x12\xa4\x42", 8)
	    == 0 && memcmp(out + 8, tid_5769, 12) == 0,
	    "v4 success: type, length, cookie, transaction id");
	T_OK(n == 32 && memcmp(out + 20, resp4_5769 + XMA4_AT, 12) == 0,
	    "v4 XOR-MAPPED-ADDRESS equals RFC 5769 2.2's");
	n = stun_response(&r, sa6("2001:db8:1234:5678:11:2233:4455:6677",
	    32853), out, sizeof(out));
	T_EQ_INT(n, 44, "v6 success: header and XOR-MAPPED-ADDRESS");
	T_OK(n == 44 && out[3] == 24 &&
	    memcmp(out + 20, resp6_5769 + XMA4_AT, 24) == 0,
	    "v6 XOR-MAPPED-ADDRESS equals RFC 5769 2.3's");
	n = stun_response(&r, sa6("::ffff:192.0.2.1", 32853), out,
	    sizeof(out));
	T_OK(n == 32 && memcmp(out + 20, resp4_5769 + XMA4_AT, 12) == 0,
	    "a v4-mapped IPv6 peer is told its IPv4 address");
}

static void
test_valid(void)
{
	struct stun_request r;
	uint8_t m[256], out[STUN_MAX_RESPONSE];
	size_t n, k;

	n = finish(m, binding(m), 0);
	T_EQ_INT(stun_parse(m, n, &r), STUN_BINDING, "bare Binding request");
	T_OK(!r.fingerprint && r.nunknown == 0 && r.tid[0] == 1 &&
	    r.tid[11] == 12, "bare: tid, no fingerprint");
	k = stun_response(&r, sa4("127.0.0.1", 5060), out, sizeof(out));
	T_EQ_INT(k, 32, "bare: response without FINGERPRINT");
	/* 127.0.0.1 ^ 0x2112a442 = 0x5e12a443; 5060 (0x13c4) ^ 0x2112 = 0x32d6 */
	T_OK(k == 32 && memcmp(out + 20, "\x00\x20\x00\x08\x00\x01\x32\xd6"
	    "\x5e\x12\xa4\x43", 12) == 0, "bare: XOR-MAPPED-ADDRESS bytes");

	n = finish(m, binding(m), 1);
	T_EQ_INT(stun_parse(m, n, &r), STUN_BINDING, "with FINGERPRINT");
	T_OK(r.fingerprint, "FINGERPRINT noted");
	k = stun_response(&r, sa6("2001:db8::1", 40000), out, sizeof(out));
	T_EQ_INT(k, 52, "v6 response with FINGERPRINT");
	T_OK(k == 52 && out[3] == 32 && out[44] == 0x80 && out[45] == 0x28 &&
	    (stun_crc32(out, 44) ^ 0x5354554eu) == rd32(out + 48),
	    "response FINGERPRINT: last, covered by the length, right");
	T_EQ_INT(stun_parse(out, k, &r), STUN_DROP,
	    "our own response is not a request");

	/* Known and optional attributes: SOFTWARE, USERNAME, REALM, NONCE,
	 * MESSAGE-INTEGRITY; something unknown after MESSAGE-INTEGRITY is
	 * ignored. */
	n = binding(m);
	n = attr(m, n, 0x8022, "phone 1.0", 9);
	n = attr(m, n, 0x0006, "alice", 5);
	n = attr(m, n, 0x0014, "example.com", 11);
	n = attr(m, n, 0x0015, "nonce", 5);
	n = attr(m, n, 0xC001, "x", 1); /* optional, unknown */
	n = attr(m, n, 0x0008, "01234567890123456789", 20);
	n = attr(m, n, 0x0003, "\0\0\0\x06", 4); /* after MI: ignored */
	n = finish(m, n, 1);
	T_EQ_INT(stun_parse(m, n, &r), STUN_BINDING,
	    "known and comprehension-optional attributes are accepted");

	/* Unknown comprehension-required ones: a 420 naming each once. */
	n = binding(m);
	n = attr(m, n, 0x0003, "\0\0\0\x06", 4); /* CHANGE-REQUEST */
	n = attr(m, n, 0x0024, "abcd", 4);
	n = attr(m, n, 0x0003, "\0\0\0\x00", 4);
	n = finish(m, n, 0);
	T_EQ_INT(stun_parse(m, n, &r), STUN_UNKNOWN, "CHANGE-REQUEST: 420");
	T_OK(r.nunknown == 2 && r.unknown[0] == 3 && r.unknown[1] == 0x24,
	    "unknown attributes listed once each, in order");
	k = stun_response(&r, sa4("127.0.0.1", 5060), out, sizeof(out));
	T_OK(k == 56 && out[0] == 0x01 && out[1] == 0x11 && out[26] == 4 &&
	    out[27] == 20 && out[48] == 0 && out[49] == 0x0a &&
	    out[51] == 4 && out[53] == 3 && out[55] == 0x24,
	    "420 without FINGERPRINT: ERROR-CODE, UNKNOWN-ATTRIBUTES");

	/* Many unknown ones: the response stays bounded. */
	n = binding(m);
	for (k = 0; k < 40; k++)
		n = attr(m, n, 0x7000 + (unsigned)k, "", 0);
	n = finish(m, n, 1);
	T_EQ_INT(stun_parse(m, n, &r), STUN_UNKNOWN, "40 unknown attributes");
	T_EQ_INT(r.nunknown, STUN_MAX_UNKNOWN, "at most STUN_MAX_UNKNOWN kept");
	k = stun_response(&r, sa4("127.0.0.1", 5060), out, sizeof(out));
	T_OK(k > 0 && k <= STUN_MAX_RESPONSE, "bounded 420");
	T_EQ_INT(stun_response(&r, sa4("127.0.0.1", 5060), out, 40), 0,
	    "a response that does not fit: 0");

	memset(&r, 0, sizeof(r));
	{
		struct sockaddr sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_family = AF_UNIX;
		T_EQ_INT(stun_response(&r, &sa, out, sizeof(out)), 0,
		    "no address family we can report: 0");
	}
}

/* Each malformed datagram, made from a good one. */
static void
test_malformed(void)
{
	static const uint8_t filler[STUN_MAX_REQUEST];
	struct stun_request r;
	uint8_t m[STUN_MAX_REQUEST + 64], g[64];
	size_t n, gn;

	gn = binding(g);
	gn = attr(g, gn, 0x8022, "soft", 4);
	gn = finish(g, gn, 1);
	T_EQ_INT(stun_parse(g, gn, &r), STUN_BINDING, "the good one");

#define BAD(what, len) T_EQ_INT(stun_parse(m, (len), &r), STUN_DROP, what)
	memcpy(m, g, gn);
	BAD("empty", 0);
	BAD("19 bytes", 19);
	T_OK(!stun_is_stun(m, 0), "is_stun: nothing is not STUN");
	T_OK(stun_is_stun("\x00", 1) && stun_is_stun("\x03", 1) &&
	    !stun_is_stun("\x04", 1) && !stun_is_stun("OPTIONS", 7) &&
	    !stun_is_stun("\r\n", 2), "is_stun: first byte 0-3 only");

	memcpy(m, g, gn), m[0] = 0x40;
	BAD("top bits set", gn);
	memcpy(m, g, gn), m[1] = 0x11;
	BAD("a Binding indication", gn);
	memcpy(m, g, gn), m[0] = 0x01, m[1] = 0x01;
	BAD("a Binding success response", gn);
	memcpy(m, g, gn), m[0] = 0x01, m[1] = 0x11;
	BAD("a Binding error response", gn);
	memcpy(m, g, gn), m[1] = 0x03;
	BAD("another method (Allocate)", gn);
	memcpy(m, g, gn), m[4] = 0x00;
	BAD("no magic cookie (RFC 3489)", gn);
	memcpy(m, g, gn), m[3] += 2;
	BAD("length not a multiple of 4", gn);
	memcpy(m, g, gn), m[3] += 4;
	BAD("length past the datagram", gn);
	memcpy(m, g, gn), m[3] -= 4;
	BAD("length short of the datagram", gn);
	memcpy(m, g, gn);
	BAD("datagram cut", gn - 4);
	memcpy(m, g, gn), m[23] = 200;
	BAD("attribute longer than the message", gn);
	memcpy(m, g, gn), m[23] = 5;
	/* SOFTWARE of 5 pads to 8, eating the FINGERPRINT's header */
	BAD("attribute padding runs into the next", gn);
	memcpy(m, g, gn), m[gn - 1] ^= 1;
	BAD("wrong FINGERPRINT", gn);
	memcpy(m, g, gn), m[10] ^= 1;
	BAD("transaction id changed under the FINGERPRINT", gn);

	n = binding(m);
	n = attr(m, n, 0x8028, "\0\0\0\0", 4);
	n = attr(m, n, 0x8022, "soft", 4);
	n = finish(m, n, 0);
	BAD("FINGERPRINT not last", n);
	n = binding(m);
	n = attr(m, n, 0x8028, "\0\0\0\0\0\0\0\0", 8);
	n = finish(m, n, 0);
	BAD("FINGERPRINT of 8 bytes", n);
	n = binding(m);
	n = attr(m, n, 0x0008, "0123456789", 10);
	n = finish(m, n, 0);
	BAD("MESSAGE-INTEGRITY of 10 bytes", n);
	n = binding(m);
	m[n] = 0x80, m[n + 1] = 0x22, m[n + 2] = 0, m[n + 3] = 0;
	n += 4;
	m[n] = 0, m[n + 1] = 0; /* 2 bytes: no room for a header */
	n += 2;
	m[2] = 0, m[3] = (uint8_t)(n - 20);
	BAD("attribute header cut (length not multiple of 4 anyway)", n);

	/* Too large, though well formed. */
	n = binding(m);
	n = attr(m, n, 0x8022, filler, STUN_MAX_REQUEST - 20);
	n = finish(m, n, 0);
	BAD("larger than STUN_MAX_REQUEST", n);
	n = binding(m);
	n = attr(m, n, 0x8022, filler, STUN_MAX_REQUEST - 20 - 4);
	n = finish(m, n, 0);
	T_EQ_INT(stun_parse(m, n, &r), STUN_BINDING,
	    "exactly STUN_MAX_REQUEST is accepted");
#undef BAD
}

int
main(void)
{
	test_vectors();
	test_valid();
	test_malformed();
	return t_done();
}
