/* ntopfast.c - inet_ntop(3) for IPv4 without sprintf() (see ntopfast.h). */
#include "proxyd/sofia/ntopfast.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "common/nextsym.h"

typedef const char *ntop_fn(int, const void *, char *, socklen_t);

const char *
ntopfast_v4(const void *src, char *dst, socklen_t size)
{
	const uint8_t *a = src;
	char buf[INET_ADDRSTRLEN], *p = buf;
	int i;

	for (i = 0; i < 4; i++) {
		if (a[i] >= 100)
			*p++ = (char)('0' + a[i] / 100);
		if (a[i] >= 10)
			*p++ = (char)('0' + a[i] / 10 % 10);
		*p++ = (char)('0' + a[i] % 10);
		*p++ = i < 3 ? '.' : '\0';
	}
	if ((socklen_t)(p - buf) > size) {
		errno = ENOSPC;
		return NULL;
	}
	return memcpy(dst, buf, (size_t)(p - buf));
}

/* Interposes libc's for the whole process, Sofia included. */
const char *
inet_ntop(int af, const void *restrict src, char *restrict dst,
    socklen_t size)
{
	static nextsym_cache next;
	ntop_fn *real;

	if (af == AF_INET)
		return ntopfast_v4(src, dst, size);
	if ((real = (ntop_fn *)nextsym(&next, "inet_ntop")) == NULL)
		return NULL;
	return real(af, src, dst, size);
}
