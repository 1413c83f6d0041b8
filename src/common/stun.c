/* stun.c - RFC 5389 Binding requests parsed, responses built (stun.h). */
#include "common/stun.h"

#include <netinet/in.h>
#include <string.h>

#define BINDING_REQUEST 0x0001
#define BINDING_SUCCESS 0x0101
#define BINDING_ERROR 0x0111

#define ATTR_MAPPED_ADDRESS 0x0001
#define ATTR_USERNAME 0x0006
#define ATTR_MESSAGE_INTEGRITY 0x0008
#define ATTR_ERROR_CODE 0x0009
#define ATTR_UNKNOWN_ATTRIBUTES 0x000A
#define ATTR_REALM 0x0014
#define ATTR_NONCE 0x0015
#define ATTR_XOR_MAPPED_ADDRESS 0x0020
#define ATTR_FINGERPRINT 0x8028

#define FINGERPRINT_XOR 0x5354554eu
#define MI_LEN 20 /* HMAC-SHA1 */

static const char unknown_reason[] = "Unknown Attribute";

static unsigned
rd16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
wr16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

uint32_t
stun_crc32(const void *p, size_t n)
{
	/* Four bits at a time: a constant table, no initialisation to race
	 * on, and fast enough for messages of a few dozen bytes. */
	static const uint32_t t[16] = {
		0x00000000u, 0x1db71064u, 0x3b6e20c8u, 0x26d930acu,
		0x76dc4190u, 0x6b6b51f4u, 0x4db26158u, 0x5005713cu,
		0xedb88320u, 0xf00f9344u, 0xd6d6a3e8u, 0xcb61b38cu,
		0x9b64c2b0u, 0x86d3d2d4u, 0xa00ae278u, 0xbdbdf21cu,
	};
	const uint8_t *b = p;
	uint32_t c = 0xFFFFFFFFu;
	size_t i;

	for (i = 0; i < n; i++) {
		c = t[(c ^ b[i]) & 0x0F] ^ (c >> 4);
		c = t[(c ^ ((unsigned)b[i] >> 4)) & 0x0F] ^ (c >> 4);
	}
	return c ^ 0xFFFFFFFFu;
}

int
stun_is_stun(const void *p, size_t n)
{
	return n > 0 && ((const uint8_t *)p)[0] < 4;
}

/* The comprehension-required attributes of RFC 5389 (section 18.2): a
 * request may carry them and we need not act on them (no
 * authentication is used; the address ones belong in responses). */
static int
known(unsigned type)
{
	switch (type) {
	case ATTR_MAPPED_ADDRESS:
	case ATTR_USERNAME:
	case ATTR_MESSAGE_INTEGRITY:
	case ATTR_ERROR_CODE:
	case ATTR_UNKNOWN_ATTRIBUTES:
	case ATTR_REALM:
	case ATTR_NONCE:
	case ATTR_XOR_MAPPED_ADDRESS:
		return 1;
	default:
		return 0;
	}
}

static void
note_unknown(struct stun_request *r, unsigned type)
{
	size_t i;

	for (i = 0; i < r->nunknown; i++)
		if (r->unknown[i] == type)
			return;
	if (r->nunknown < STUN_MAX_UNKNOWN)
		r->unknown[r->nunknown++] = (uint16_t)type;
}

enum stun_verdict
stun_parse(const void *data, size_t n, struct stun_request *r)
{
	const uint8_t *p = data;
	size_t off, len, padded;
	unsigned type;
	int after_mi = 0;

	memset(r, 0, sizeof(*r));
	/* Header (RFC 5389 6): the top two bits zero, a Binding request,
	 * a length that is a multiple of 4 and covers exactly the rest,
	 * the magic cookie. */
	if (n < STUN_HEADER || n > STUN_MAX_REQUEST || (p[0] & 0xC0) != 0 ||
	    rd16(p) != BINDING_REQUEST || rd16(p + 2) % 4 != 0 ||
	    rd16(p + 2) != n - STUN_HEADER || rd32(p + 4) != STUN_COOKIE)
		return STUN_DROP;
	memcpy(r->tid, p + 8, STUN_TID_LEN);
	/* Attributes (RFC 5389 15), each inside the message with its
	 * padding. */
	for (off = STUN_HEADER; off < n; off += 4 + padded) {
		if (n - off < 4)
			return STUN_DROP;
		type = rd16(p + off);
		len = rd16(p + off + 2);
		padded = (len + 3) & ~(size_t)3;
		if (padded > n - off - 4)
			return STUN_DROP;
		if (type == ATTR_FINGERPRINT) {
			/* Last, and right (RFC 5389 15.5, 7.3). */
			if (len != 4 || off + 8 != n ||
			    (stun_crc32(p, off) ^ FINGERPRINT_XOR) !=
			    rd32(p + off + 4))
				return STUN_DROP;
			r->fingerprint = 1;
		} else if (after_mi) {
			/* Only FINGERPRINT counts after MESSAGE-INTEGRITY
			 * (RFC 5389 15.4); the rest is ignored. */
		} else if (type == ATTR_MESSAGE_INTEGRITY) {
			if (len != MI_LEN)
				return STUN_DROP;
			after_mi = 1;
		} else if (type < 0x8000 && !known(type)) {
			note_unknown(r, type);
		}
	}
	return r->nunknown > 0 ? STUN_UNKNOWN : STUN_BINDING;
}

/* Append one attribute (value zero-padded to 4); its length, or 0. */
static size_t
put_attr(uint8_t *out, size_t at, size_t outsz, unsigned type,
    const void *val, size_t len)
{
	size_t padded = (len + 3) & ~(size_t)3;

	if (at > outsz || outsz - at < 4 + padded)
		return 0;
	wr16(out + at, type);
	wr16(out + at + 2, (unsigned)len);
	if (len > 0)
		memcpy(out + at + 4, val, len);
	memset(out + at + 4 + len, 0, padded - len);
	return 4 + padded;
}

/* XOR-MAPPED-ADDRESS's value (RFC 5389 15.2) for from; its length or 0. */
static size_t
xor_address(const struct stun_request *r, const struct sockaddr *from,
    uint8_t *v)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };
	uint8_t key[16];
	const uint8_t *addr;
	unsigned port;
	size_t alen, i;

	wr32(key, STUN_COOKIE);
	memcpy(key + 4, r->tid, STUN_TID_LEN);
	if (from->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)from;

		addr = (const uint8_t *)&sin->sin_addr;
		alen = 4;
		port = ntohs(sin->sin_port);
	} else if (from->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)from;

		addr = sin6->sin6_addr.s6_addr;
		alen = 16;
		port = ntohs(sin6->sin6_port);
		/* A dual-stack socket's IPv4 peer is an IPv4 client. */
		if (memcmp(addr, mapped, sizeof(mapped)) == 0) {
			addr += 12;
			alen = 4;
		}
	} else {
		return 0;
	}
	v[0] = 0;
	v[1] = alen == 4 ? 0x01 : 0x02;
	wr16(v + 2, port ^ (STUN_COOKIE >> 16));
	for (i = 0; i < alen; i++)
		v[4 + i] = addr[i] ^ key[i];
	return 4 + alen;
}

size_t
stun_response(const struct stun_request *r, const struct sockaddr *from,
    uint8_t *out, size_t outsz)
{
	uint8_t v[4 + 2 * STUN_MAX_UNKNOWN + sizeof(unknown_reason)];
	size_t at = STUN_HEADER, len, i, vlen;

	if (outsz < STUN_HEADER)
		return 0;
	wr16(out, r->nunknown > 0 ? BINDING_ERROR : BINDING_SUCCESS);
	wr32(out + 4, STUN_COOKIE);
	memcpy(out + 8, r->tid, STUN_TID_LEN);
	if (r->nunknown > 0) {
		/* 420 (RFC 5389 7.3.1): ERROR-CODE, UNKNOWN-ATTRIBUTES. */
		v[0] = v[1] = 0;
		v[2] = 4;
		v[3] = 20;
		memcpy(v + 4, unknown_reason, sizeof(unknown_reason) - 1);
		if ((len = put_attr(out, at, outsz, ATTR_ERROR_CODE, v,
		    4 + sizeof(unknown_reason) - 1)) == 0)
			return 0;
		at += len;
		for (i = 0; i < r->nunknown && i < STUN_MAX_UNKNOWN; i++)
			wr16(v + 2 * i, r->unknown[i]);
		if ((len = put_attr(out, at, outsz, ATTR_UNKNOWN_ATTRIBUTES,
		    v, 2 * i)) == 0)
			return 0;
		at += len;
	} else {
		if ((vlen = xor_address(r, from, v)) == 0 ||
		    (len = put_attr(out, at, outsz, ATTR_XOR_MAPPED_ADDRESS,
		    v, vlen)) == 0)
			return 0;
		at += len;
	}
	if (r->fingerprint) {
		/* The length covers FINGERPRINT before the CRC is taken
		 * (RFC 5389 15.5). */
		if (outsz - at < 8)
			return 0;
		wr16(out + 2, (unsigned)(at + 8 - STUN_HEADER));
		wr16(out + at, ATTR_FINGERPRINT);
		wr16(out + at + 2, 4);
		wr32(out + at + 4, stun_crc32(out, at) ^ FINGERPRINT_XOR);
		at += 8;
	}
	wr16(out + 2, (unsigned)(at - STUN_HEADER));
	return at;
}
