/*
 * flowtoken.c - RFC 5626 flow tokens: encode and check (flowtoken.h).
 */
#include "proxyd/flowtoken.h"

#include <netinet/in.h>
#include <string.h>

#include "crypto/mac.h"

#define VERSION 1
#define FIELDS 29 /* bytes before the MAC */
#define MACLEN 12
#define RAWLEN (FIELDS + MACLEN)

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

const char *
flow_kind_name(enum flow_kind k)
{
	switch (k) {
	case FLOW_UDP: return "udp";
	case FLOW_TCP: return "tcp";
	case FLOW_TLS: return "tls";
	}
	return "?";
}

static void
put_u64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)(v & 0xff);
}

static uint64_t
get_u64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static int
pack(const struct flow_addr *f, unsigned char raw[FIELDS])
{
	const struct sockaddr_in *s4 = (const void *)&f->peer;
	const struct sockaddr_in6 *s6 = (const void *)&f->peer;
	uint16_t port;

	memset(raw, 0, FIELDS);
	raw[0] = VERSION;
	raw[1] = (unsigned char)f->kind;
	put_u64(raw + 2, f->id);
	if (f->peer.ss_family == AF_INET) {
		raw[10] = 4;
		memcpy(raw + 11, &s4->sin_addr, 4);
		port = ntohs(s4->sin_port);
	} else if (f->peer.ss_family == AF_INET6) {
		raw[10] = 6;
		memcpy(raw + 11, &s6->sin6_addr, 16);
		port = ntohs(s6->sin6_port);
	} else {
		return -1;
	}
	raw[27] = (unsigned char)(port >> 8);
	raw[28] = (unsigned char)(port & 0xff);
	return 0;
}

/* The fields back; -1 for values no encoder makes. */
static int
unpack(const unsigned char raw[FIELDS], struct flow_addr *f)
{
	static const unsigned char zero[12];
	struct sockaddr_in *s4 = (void *)&f->peer;
	struct sockaddr_in6 *s6 = (void *)&f->peer;
	uint16_t port = (uint16_t)(raw[27] << 8 | raw[28]);

	if (raw[0] != VERSION || raw[1] < FLOW_UDP || raw[1] > FLOW_TLS)
		return -1;
	memset(f, 0, sizeof(*f));
	f->kind = (enum flow_kind)raw[1];
	f->id = get_u64(raw + 2);
	if (raw[10] == 4 && memcmp(raw + 15, zero, 12) == 0) {
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, raw + 11, 4);
		s4->sin_port = htons(port);
	} else if (raw[10] == 6) {
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, raw + 11, 16);
		s6->sin6_port = htons(port);
	} else {
		return -1;
	}
	return port != 0 ? 0 : -1;
}

static void
b64_encode(const unsigned char *in, size_t n, char *out)
{
	size_t i, o = 0;
	uint32_t v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = b64[v >> 6 & 63];
		out[o++] = b64[v & 63];
	}
	if (n - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = b64[v >> 6 & 63];
	} else if (n - i == 1) {
		v = (uint32_t)in[i] << 16;
		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
	}
	out[o] = '\0';
}

static int
b64_value(char c)
{
	const char *p;

	if (c == '\0' || (p = strchr(b64, c)) == NULL)
		return -1;
	return (int)(p - b64);
}

/* Exactly RAWLEN bytes from FLOWTOKEN_LEN characters; the unused low
 * bits of the last character must be zero (one encoding per token). */
static int
b64_decode(const char *s, unsigned char raw[RAWLEN])
{
	uint32_t acc = 0;
	int bits = 0, v;
	size_t i, o = 0;

	for (i = 0; i < FLOWTOKEN_LEN; i++) {
		if ((v = b64_value(s[i])) < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == RAWLEN)
				return -1;
			raw[o++] = (unsigned char)(acc >> bits & 0xff);
		}
	}
	if (o != RAWLEN || (acc & ((1u << bits) - 1)) != 0)
		return -1;
	return 0;
}

int
flowtoken_encode(const void *key, size_t keylen, const struct flow_addr *f,
    char out[FLOWTOKEN_LEN + 1])
{
	unsigned char raw[RAWLEN], mac[MAC_SHA256_LEN];

	if (pack(f, raw) != 0 || mac_sha256(key, keylen, raw, FIELDS, mac) != 0)
		return -1;
	memcpy(raw + FIELDS, mac, MACLEN);
	b64_encode(raw, RAWLEN, out);
	return 0;
}

int
flowtoken_decode(const void *key, size_t keylen, const char *s, size_t n,
    struct flow_addr *f)
{
	unsigned char raw[RAWLEN], mac[MAC_SHA256_LEN];

	if (n != FLOWTOKEN_LEN || b64_decode(s, raw) != 0)
		return -1;
	if (mac_sha256(key, keylen, raw, FIELDS, mac) != 0 ||
	    !mac_equal(mac, raw + FIELDS, MACLEN))
		return -1;
	return unpack(raw, f);
}
