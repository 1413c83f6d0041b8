/* domain.c - host name patterns. */
#include "common/domain.h"

#include <string.h>
#include <strings.h>

/* Length of a host name without one trailing dot. */
static size_t
host_len(const char *h)
{
	size_t n = strlen(h);

	if (n > 0 && h[n - 1] == '.')
		n--;
	return n;
}

int
domain_match(const char *pattern, const char *host)
{
	size_t pn, hn;

	if (strcmp(pattern, "*") == 0)
		return 1;
	if (host == NULL)
		return 0;
	pn = host_len(pattern);
	hn = host_len(host);
	if (pn >= 2 && pattern[0] == '*' && pattern[1] == '.') {
		/* Compare ".suffix" with the end of host; something must
		 * come before the dot. */
		pattern++;
		pn--;
		return hn > pn &&
		    strncasecmp(host + (hn - pn), pattern, pn) == 0;
	}
	return hn == pn && strncasecmp(host, pattern, pn) == 0;
}
