/*
 * sipdgram.h - is a datagram one whole SIP message? (RFC 3261 7.5, 18.3)
 *
 * A message's header section ends with an empty line, and its body is as
 * long as its Content-Length says. Sofia takes the end of a datagram for
 * the end of both, so one cut short (a lost IP fragment, a broken sender)
 * would pass for whole. RFC 3261 18.3: a response with a Content-Length
 * longer than its body is discarded; srcguard.c uses this before Sofia
 * parses (after parsing, nta would already have matched it to a
 * transaction and handed it on).
 *
 * Pure: bytes in, no allocation; hostile input expected.
 */
#ifndef SIPDGRAM_H
#define SIPDGRAM_H

#include <stddef.h>

enum sipdgram {
	SIPDGRAM_WHOLE,		/* empty line found, body long enough */
	SIPDGRAM_NO_END,	/* no empty line after the header section */
	SIPDGRAM_SHORT_BODY	/* fewer bytes after it than Content-Length */
};

/* p[0..n): one datagram. A Content-Length that is not a number is
 * Sofia's to refuse (WHOLE here). Leading CRLFs are skipped, as Sofia
 * does. */
enum sipdgram sipdgram_check(const char *p, size_t n);

/* If the header line p[0..n) (its line end may be included) names
 * Content-Length ("l" compact), 1 and its value in *len; 0 another field;
 * -1 a value that is no number. */
int sipdgram_content_length(const char *p, size_t n, size_t *len);

#endif /* SIPDGRAM_H */
