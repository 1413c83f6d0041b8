/* test_netaddr.c - prefix parsing and matching against peer addresses. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

#include "common/netaddr.h"
#include "addr.h"
#include "t.h"

/* Parses or fails the test run loudly: later checks depend on it. */
static struct netaddr
na(const char *text)
{
	struct netaddr n;

	memset(&n, 0xa5, sizeof(n));
	if (netaddr_parse(&n, text) != 0)
		printf("# cannot parse %s\n", text);
	return n;
}

static int
bytes_are(const struct netaddr *n, const char *text)
{
	unsigned char want[16] = { 0 };
	int family = strchr(text, ':') != NULL ? AF_INET6 : AF_INET;

	inet_pton(family, text, want);
	return memcmp(n->addr, want, sizeof(want)) == 0;
}

static void
test_parse_good(void)
{
	struct netaddr n;

	T_EQ_INT(netaddr_parse(&n, "192.0.2.1"), 0, "v4 host parses");
	T_EQ_INT(n.family, AF_INET, "v4 host: family");
	T_EQ_INT(n.prefix, 32, "v4 host: missing /n is /32");
	T_OK(bytes_are(&n, "192.0.2.1"), "v4 host: address bytes");

	T_EQ_INT(netaddr_parse(&n, "10.1.2.3/8"), 0, "v4 /8 parses");
	T_EQ_INT(n.prefix, 8, "v4 /8: prefix");
	T_OK(bytes_are(&n, "10.0.0.0"), "v4 /8: host bits cleared");

	T_EQ_INT(netaddr_parse(&n, "10.255.255.255/9"), 0, "v4 /9 parses");
	T_OK(bytes_are(&n, "10.128.0.0"), "v4 /9: partial byte masked");

	T_EQ_INT(netaddr_parse(&n, "192.0.2.1/32"), 0, "v4 /32 parses");
	T_EQ_INT(n.prefix, 32, "v4 /32: prefix");
	T_OK(bytes_are(&n, "192.0.2.1"), "v4 /32: nothing cleared");

	T_EQ_INT(netaddr_parse(&n, "1.2.3.4/0"), 0, "v4 /0 parses");
	T_EQ_INT(n.prefix, 0, "v4 /0: prefix");
	T_OK(bytes_are(&n, "0.0.0.0"), "v4 /0: all bits cleared");

	T_EQ_INT(netaddr_parse(&n, "::1"), 0, "v6 host parses");
	T_EQ_INT(n.family, AF_INET6, "v6 host: family");
	T_EQ_INT(n.prefix, 128, "v6 host: missing /n is /128");
	T_OK(bytes_are(&n, "::1"), "v6 host: address bytes");

	T_EQ_INT(netaddr_parse(&n, "2001:db8:ffff::1/32"), 0, "v6 /32 parses");
	T_EQ_INT(n.prefix, 32, "v6 /32: prefix");
	T_OK(bytes_are(&n, "2001:db8::"), "v6 /32: host bits cleared");

	T_EQ_INT(netaddr_parse(&n, "2001:db8::1/128"), 0, "v6 /128 parses");
	T_EQ_INT(n.prefix, 128, "v6 /128: prefix");

	T_EQ_INT(netaddr_parse(&n, "2001:db8::1/0"), 0, "v6 /0 parses");
	T_OK(bytes_are(&n, "::"), "v6 /0: all bits cleared");

	T_EQ_INT(netaddr_parse(&n, "::ffff:10.9.8.7/104"), 0,
	    "v4-mapped v6 prefix parses");
	T_EQ_INT(n.family, AF_INET, "v4-mapped v6 prefix is stored as v4");
	T_EQ_INT(n.prefix, 8, "v4-mapped /104 is v4 /8");
	T_OK(bytes_are(&n, "10.0.0.0"), "v4-mapped: v4 bytes, cleared");
}

static void
test_parse_bad(void)
{
	static const char *const bad[] = {
		"10.0.0.0/33", "1.2.3", "", "::1/129", "1.2.3.4/",
		"1.2.3.4/08x", "/8", "1.2.3.4/-1", "1.2.3.4/+8", "1.2.3.4/ 8",
		" 1.2.3.4", "1.2.3.4 ", "1.2.3.4/0008", "1.2.3.4/8/8",
		"256.1.1.1", "fe80::1%eth0", "example.com", "::1/",
		"1.2.3.4/4294967304",
	};
	struct netaddr n;
	char name[80];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(name, sizeof(name), "\"%s\" is rejected", bad[i]);
		T_EQ_INT(netaddr_parse(&n, bad[i]), -1, name);
	}
	T_EQ_INT(netaddr_parse(&n, NULL), -1, "NULL is rejected");
}

static void
test_match_v4(void)
{
	struct netaddr n = na("10.0.0.0/8");

	T_OK(netaddr_match(&n, v4("10.0.0.0")), "v4 /8: network address");
	T_OK(netaddr_match(&n, v4("10.255.255.255")), "v4 /8: last address");
	T_OK(!netaddr_match(&n, v4("11.0.0.0")), "v4 /8: next network");
	T_OK(!netaddr_match(&n, v4("9.255.255.255")), "v4 /8: before it");

	n = na("10.128.0.0/9");
	T_OK(netaddr_match(&n, v4("10.200.1.1")), "v4 /9: inside");
	T_OK(!netaddr_match(&n, v4("10.127.255.255")), "v4 /9: bit 9 differs");

	n = na("192.0.2.1");
	T_OK(netaddr_match(&n, v4("192.0.2.1")), "v4 /32: same host");
	T_OK(!netaddr_match(&n, v4("192.0.2.2")), "v4 /32: other host");

	n = na("0.0.0.0/0");
	T_OK(netaddr_match(&n, v4("203.0.113.9")), "v4 /0: any v4");
	T_OK(!netaddr_match(&n, v6("2001:db8::1")), "v4 /0: not a v6 peer");
}

static void
test_match_v6(void)
{
	struct netaddr n = na("2001:db8::/32");

	T_OK(netaddr_match(&n, v6("2001:db8:1::5")), "v6 /32: inside");
	T_OK(!netaddr_match(&n, v6("2001:db9::5")), "v6 /32: outside");

	n = na("::1");
	T_OK(netaddr_match(&n, v6("::1")), "v6 /128: same host");
	T_OK(!netaddr_match(&n, v6("::2")), "v6 /128: other host");
	T_OK(!netaddr_match(&n, v4("127.0.0.1")), "::1 is not 127.0.0.1");

	n = na("::/0");
	T_OK(netaddr_match(&n, v6("2001:db8::1")), "v6 /0: any v6");
	T_OK(!netaddr_match(&n, v4("192.0.2.1")), "v6 /0: not a v4 peer");
	T_OK(!netaddr_match(&n, v6("::ffff:192.0.2.1")),
	    "v6 /0: not a v4-mapped peer (it is v4)");
}

static void
test_match_mapped(void)
{
	struct netaddr n = na("10.0.0.0/8");
	struct sockaddr_un sun;

	T_OK(netaddr_match(&n, v6("::ffff:10.1.2.3")),
	    "v4-mapped v6 peer matches a v4 prefix");
	T_OK(!netaddr_match(&n, v6("::ffff:11.1.2.3")),
	    "v4-mapped v6 peer outside a v4 prefix");
	T_OK(!netaddr_match(&n, v6("::10.1.2.3")),
	    "v4-compatible (not mapped) v6 peer is v6");

	n = na("::ffff:10.0.0.0/104");
	T_OK(netaddr_match(&n, v4("10.4.5.6")),
	    "v4-mapped prefix matches a v4 peer");
	T_OK(netaddr_match(&n, v6("::ffff:10.4.5.6")),
	    "v4-mapped prefix matches a v4-mapped peer");

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	n = na("0.0.0.0/0");
	T_OK(!netaddr_match(&n, (const struct sockaddr *)&sun),
	    "AF_UNIX peer never matches");
	T_OK(!netaddr_match(&n, NULL), "NULL peer never matches");
}

int
main(void)
{
	test_parse_good();
	test_parse_bad();
	test_match_v4();
	test_match_v6();
	test_match_mapped();
	return t_done();
}
