/* test_ntopfast.c - the interposed inet_ntop(): the same text, NULLs and
 * errnos as libc's, for every kind of IPv4 address and every buffer size;
 * IPv6 and unknown families still libc's; and the one that shared
 * libraries (Sofia) find. */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "proxyd/sofia/ntopfast.h"
#include "t.h"

typedef const char *ntop_fn(int, const void *, char *, socklen_t);

static ntop_fn *libc_ntop;

/* Ours and libc's agree on af/src into a buffer of size bytes. */
static int
same(int af, const void *src, socklen_t size)
{
	char a[INET6_ADDRSTRLEN + 8], b[INET6_ADDRSTRLEN + 8];
	const char *ra, *rb;
	int ea, eb;

	memset(a, 'x', sizeof(a));
	memset(b, 'x', sizeof(b));
	errno = 0;
	ra = inet_ntop(af, src, a, size);
	ea = errno;
	errno = 0;
	rb = libc_ntop(af, src, b, size);
	eb = errno;
	if ((ra == NULL) != (rb == NULL))
		return 0;
	if (ra == NULL)
		return ea == eb;
	return ra == a && strcmp(a, b) == 0;
}

int
main(void)
{
	static const uint8_t edge[] = { 0, 1, 9, 10, 42, 99, 100, 199, 200,
		255 };
	uint8_t v4[4], v6[16];
	uint32_t x = 12345;
	size_t i, j, k, l, n = sizeof(edge), bad = 0;
	socklen_t sz;

	*(void **)&libc_ntop = dlsym(RTLD_NEXT, "inet_ntop");
	T_OK(libc_ntop != NULL && libc_ntop != inet_ntop,
	    "libc's inet_ntop found behind ours");
	if (libc_ntop == NULL)
		return t_done();
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++)
			for (k = 0; k < n; k++)
				for (l = 0; l < n; l++) {
					v4[0] = edge[i], v4[1] = edge[j];
					v4[2] = edge[k], v4[3] = edge[l];
					bad += !same(AF_INET, v4, INET_ADDRSTRLEN);
				}
	T_EQ_INT(bad, 0, "10,000 IPv4 addresses of 1, 2 and 3 digit octets: "
	    "the same text as libc's");
	for (i = 0, bad = 0; i < 200000; i++) {
		x = x * 1103515245u + 12345u;
		memcpy(v4, &x, 4);
		bad += !same(AF_INET, v4, INET_ADDRSTRLEN);
	}
	T_EQ_INT(bad, 0, "200,000 pseudo-random IPv4 addresses: the same");
	memset(v4, 255, 4);
	for (sz = 0, bad = 0; sz <= INET_ADDRSTRLEN + 2; sz++)
		bad += !same(AF_INET, v4, sz);
	memcpy(v4, "\x01\x02\x03\x04", 4);
	for (sz = 0; sz <= 9; sz++)
		bad += !same(AF_INET, v4, sz);
	T_EQ_INT(bad, 0, "every buffer size around the text's length: the "
	    "same result, NULL with ENOSPC where libc's is");
	memcpy(v4, "\x7f\x00\x00\x01", 4);
	T_EQ_STR(ntopfast_v4(v4, (char[16]){ 0 }, 16), "127.0.0.1",
	    "ntopfast_v4 itself");
	errno = 0;
	T_OK(ntopfast_v4(v4, (char[9]){ 0 }, 9) == NULL && errno == ENOSPC,
	    "\"127.0.0.1\" needs 10 bytes: ENOSPC in 9");
	inet_pton(AF_INET6, "2001:db8::ff00:42:8329", v6);
	T_OK(same(AF_INET6, v6, INET6_ADDRSTRLEN), "IPv6: libc's text");
	inet_pton(AF_INET6, "::ffff:10.1.2.3", v6);
	T_OK(same(AF_INET6, v6, INET6_ADDRSTRLEN) && same(AF_INET6, v6, 8),
	    "IPv4-mapped IPv6, and too small a buffer: libc's answers");
	T_OK(same(AF_UNIX, v6, 64), "an unknown family: libc's answer");
	/* Sofia calls inet_ntop() through its PLT: bound to the first
	 * definition in the global scope, which must be this program's. */
	T_OK(dlsym(RTLD_DEFAULT, "inet_ntop") == (void *)inet_ntop,
	    "the inet_ntop shared libraries find is the program's");
	return t_done();
}
