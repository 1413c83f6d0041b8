/* test_connlimit.c - connections counted per source address
 * (connlimit.h): the limit, the release at close, IPv4 and IPv6 apart,
 * v4-mapped IPv6 as IPv4, a descriptor number reused unclosed. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "t.h"
#include "proxyd/sofia/connlimit.h"

static struct sockaddr_storage ss;

static const struct sockaddr *
v4(const char *text)
{
	struct sockaddr_in *a = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	a->sin_family = AF_INET;
	a->sin_port = htons(5060);
	inet_pton(AF_INET, text, &a->sin_addr);
	return (const struct sockaddr *)&ss;
}

static const struct sockaddr *
v6(const char *text)
{
	struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	a->sin6_family = AF_INET6;
	a->sin6_port = htons(5061);
	inet_pton(AF_INET6, text, &a->sin6_addr);
	return (const struct sockaddr *)&ss;
}

int
main(void)
{
	int fd, kept;

	T_OK(connlimit_init(0) == 0, "off: made");
	T_OK(connlimit_admit(10, v4("192.0.2.1")) == 1 &&
	    connlimit_admit(11, v4("192.0.2.1")) == 1, "off: everything kept");
	T_EQ_INT(connlimit_refused(), 0, "off: nothing refused");

	T_OK(connlimit_init(3) == 0, "limit 3: made");
	for (kept = 0, fd = 10; fd < 15; fd++)
		kept += connlimit_admit(fd, v4("192.0.2.1"));
	T_EQ_INT(kept, 3, "5 from one address: 3 kept");
	T_EQ_INT(connlimit_refused(), 2, "2 refused");
	T_OK(connlimit_admit(20, v4("192.0.2.2")) == 1,
	    "another address is not affected");
	T_OK(connlimit_admit(21, v6("2001:db8::1")) == 1 &&
	    connlimit_admit(22, v6("2001:db8::1")) == 1 &&
	    connlimit_admit(23, v6("2001:db8::1")) == 1 &&
	    connlimit_admit(24, v6("2001:db8::1")) == 0,
	    "IPv6: the same limit, counted apart");
	T_OK(connlimit_admit(25, v6("::ffff:192.0.2.1")) == 0,
	    "v4-mapped IPv6 counts with its IPv4 address");

	connlimit_closed(11);
	T_OK(connlimit_admit(30, v4("192.0.2.1")) == 1,
	    "one closed: one more kept");
	T_OK(connlimit_admit(31, v4("192.0.2.1")) == 0, "then the limit again");
	connlimit_closed(31); /* refused ones were never counted */
	T_OK(connlimit_admit(32, v4("192.0.2.1")) == 0,
	    "closing a refused one frees nothing");
	connlimit_closed(999); /* never accepted */
	connlimit_closed(-1);
	connlimit_closed(1 << 20); /* past the table */
	T_OK(connlimit_admit(1 << 20, v4("192.0.2.1")) == 1,
	    "descriptors past the table are not counted");

	/* fd 10 reused for another address without a close seen: the old
	 * count goes (Sofia closed it some other way). */
	T_OK(connlimit_admit(10, v4("198.51.100.7")) == 1,
	    "a reused descriptor number: kept for its new address");
	T_OK(connlimit_admit(33, v4("192.0.2.1")) == 1,
	    "and its old address got its place back");

	T_OK(connlimit_admit(40, NULL) == 1, "no address known: kept");
	connlimit_reset();
	T_OK(connlimit_admit(41, v4("192.0.2.1")) == 1 &&
	    connlimit_admit(42, v4("192.0.2.1")) == 1 &&
	    connlimit_admit(43, v4("192.0.2.1")) == 1 &&
	    connlimit_admit(44, v4("192.0.2.1")) == 1,
	    "after reset: no limit");
	connlimit_closed(41);
	return t_done();
}
