/* netaddr.c - IPv4/IPv6 prefixes ("10.0.0.0/8", "::1") and matching. */
#include "common/netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

static const uint8_t v4mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/* Digits only: atoi()/strtoul() would take "+8", " 8" and "8x". */
static int
parse_prefix(const char *s, unsigned max, unsigned *out)
{
	unsigned v = 0;
	size_t i;

	if (s[0] == '\0' || strlen(s) > 3)
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

static void
clear_host_bits(struct netaddr *na)
{
	size_t len = na->family == AF_INET ? 4 : 16;
	size_t i = na->prefix / 8;

	if (i >= len)
		return;
	if (na->prefix % 8 != 0) {
		na->addr[i] &= (uint8_t)(0xff00 >> (na->prefix % 8));
		i++;
	}
	memset(na->addr + i, 0, sizeof(na->addr) - i);
}

/*
 * "::ffff:10.0.0.0/104" is an IPv4 network in disguise; storing it as one
 * lets it match both AF_INET peers and v4-mapped AF_INET6 peers.
 */
static void
unmap_v4(struct netaddr *na)
{
	if (na->family != AF_INET6 || na->prefix < 96 ||
	    memcmp(na->addr, v4mapped, sizeof(v4mapped)) != 0)
		return;
	memmove(na->addr, na->addr + 12, 4);
	memset(na->addr + 4, 0, sizeof(na->addr) - 4);
	na->family = AF_INET;
	na->prefix -= 96;
}

int
netaddr_parse(struct netaddr *na, const char *text)
{
	char buf[INET6_ADDRSTRLEN];
	const char *slash;
	struct netaddr n;
	size_t len;

	if (text == NULL)
		return -1;
	slash = strchr(text, '/');
	len = slash != NULL ? (size_t)(slash - text) : strlen(text);
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, text, len);
	buf[len] = '\0';

	memset(&n, 0, sizeof(n));
	if (inet_pton(AF_INET, buf, n.addr) == 1) {
		n.family = AF_INET;
		n.prefix = 32;
	} else if (inet_pton(AF_INET6, buf, n.addr) == 1) {
		n.family = AF_INET6;
		n.prefix = 128;
	} else
		return -1;
	if (slash != NULL && parse_prefix(slash + 1, n.prefix, &n.prefix) < 0)
		return -1;
	clear_host_bits(&n);
	unmap_v4(&n);
	*na = n;
	return 0;
}

/* The peer's address bytes as the family a prefix would be stored in. */
static int
sockaddr_bytes(const struct sockaddr *sa, uint8_t out[16])
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;

	switch (sa->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)(const void *)sa;
		memcpy(out, &sin->sin_addr, 4);
		return AF_INET;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		if (memcmp(&sin6->sin6_addr, v4mapped, sizeof(v4mapped)) == 0) {
			memcpy(out, (const uint8_t *)&sin6->sin6_addr + 12, 4);
			return AF_INET;
		}
		memcpy(out, &sin6->sin6_addr, 16);
		return AF_INET6;
	default:
		return -1;
	}
}

int
netaddr_match(const struct netaddr *na, const struct sockaddr *sa)
{
	uint8_t a[16] = { 0 };
	unsigned full, rest;

	if (na == NULL || sa == NULL || sockaddr_bytes(sa, a) != na->family)
		return 0;
	full = na->prefix / 8;
	rest = na->prefix % 8;
	if (memcmp(a, na->addr, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return (a[full] & (uint8_t)(0xff00 >> rest)) == na->addr[full];
}
