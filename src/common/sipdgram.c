/* sipdgram.c - is a datagram one whole SIP message? (sipdgram.h) */
#include "common/sipdgram.h"

#include <string.h>
#include <strings.h>

/* Length of the line end at p (CRLF, or a bare LF as Sofia takes), 0 if
 * none. */
static size_t
eol(const char *p, const char *end)
{
	if (p < end && *p == '\n')
		return 1;
	if (p + 1 < end && p[0] == '\r' && p[1] == '\n')
		return 2;
	return 0;
}

int
sipdgram_content_length(const char *p, size_t n, size_t *len)
{
	const char *c = p, *e = p + n;
	size_t name, v = 0;
	int digits = 0;

	while (c < e && *c != ':' && *c != ' ' && *c != '\t')
		c++;
	name = (size_t)(c - p);
	if (!((name == 14 && strncasecmp(p, "Content-Length", 14) == 0) ||
	    (name == 1 && (*p == 'l' || *p == 'L'))))
		return 0;
	while (c < e && (*c == ' ' || *c == '\t'))
		c++;
	if (c == e || *c++ != ':')
		return 0;
	for (; c < e; c++) {
		if (*c >= '0' && *c <= '9') {
			if (v > ((size_t)-1 - 9) / 10)
				return -1;
			v = v * 10 + (size_t)(*c - '0');
			digits++;
		} else if (*c != ' ' && *c != '\t' && *c != '\r' &&
		    *c != '\n') {
			return -1;
		} else if (digits > 0) {
			break;	/* trailing white space; a fold is refused */
		}
	}
	if (digits == 0)
		return -1;
	for (; c < e; c++)
		if (*c != ' ' && *c != '\t' && *c != '\r' && *c != '\n')
			return -1;
	*len = v;
	return 1;
}

enum sipdgram
sipdgram_check(const char *p, size_t n)
{
	const char *s = p, *end = p + n, *line, *nl;
	size_t cl = 0, k;
	int have_cl = 0, r;

	while ((k = eol(s, end)) > 0)
		s += k;
	for (line = s; line < end; line = nl + 1) {
		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
			return SIPDGRAM_NO_END;
		if (line != s && eol(line, end) == (size_t)(nl + 1 - line)) {
			/* the empty line: the body follows */
			if (have_cl && (size_t)(end - (nl + 1)) < cl)
				return SIPDGRAM_SHORT_BODY;
			return SIPDGRAM_WHOLE;
		}
		if (line != s && *line != ' ' && *line != '\t' &&
		    (r = sipdgram_content_length(line, (size_t)(nl + 1 - line),
		    &cl)) != 0) {
			if (r < 0)
				return SIPDGRAM_WHOLE;	/* Sofia's to refuse */
			have_cl = 1;
		}
	}
	return SIPDGRAM_NO_END;
}
