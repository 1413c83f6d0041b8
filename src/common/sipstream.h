/*
 * sipstream.h - where each SIP message of a byte stream (TCP) has its
 * header section, followed as the bytes arrive, and two things done
 * there that Sofia's parser cannot (hdrguard.c runs it on every read
 * of a TCP connection the proxy accepted, before Sofia sees the bytes):
 *
 * - A NUL escaped in a quoted string (quoted-pair "\" %x00, RFC 3261
 *   25.1; RFC 4475 3.1.1.2 intmeth) ends a header field for Sofia, which
 *   works on C strings: the message became garbage and was dropped. Here
 *   such a NUL becomes SIPSTREAM_NUL (0xFF, a byte RFC 3261 allows in no
 *   quoted-pair and UTF-8 nowhere); wirecopy.c puts the NUL back into
 *   the copy it forwards (sipstream_unmask()).
 * - A header section longer than the limit: Sofia keeps a whole message
 *   in one buffer and, once its per-connection cap is reached, closes the
 *   connection with no answer. Here the section is cut where the first
 *   line after the limit starts (or, in a line that goes on, at half the
 *   limit more) and the caller ends it (hdrguard.c: a marker field and an empty line,
 *   so that the proxy can answer 413); the rest of the stream is dropped.
 *
 * A body (Content-Length) passes untouched; CRLF keep-alives between
 * messages are not counted. A Content-Length this cannot read (no number,
 * a line longer than it keeps) makes it leave the rest of the stream
 * alone: Sofia refuses such a message anyway. Pure: no I/O, no allocation.
 */
#ifndef SIPSTREAM_H
#define SIPSTREAM_H

#include <stddef.h>

#define SIPSTREAM_NUL 0xFF

enum sipstream_state {
	SIPSTREAM_HEAD,
	SIPSTREAM_BODY,
	SIPSTREAM_CUT,	/* the header section passed the limit */
	SIPSTREAM_LOST	/* a Content-Length not understood: hands off */
};

struct sipstream {
	enum sipstream_state state;
	size_t limit;		/* header section bytes allowed */
	size_t head;		/* header section bytes so far */
	size_t body_left;	/* body bytes still to come */
	size_t cl;		/* this message's Content-Length */
	size_t linelen;		/* bytes of the current line (CR excluded) */
	unsigned backslashes;	/* run of "\" just before */
	int started;		/* a byte of this message other than CR/LF */
	int cr;			/* the byte before was CR */
	unsigned lines;		/* lines of this header section ended */
	unsigned seen;		/* From, To, Call-ID, CSeq seen (bits) */
	char method[32];	/* the request line's method, if short */
	char line[64];		/* the current line's first bytes */
};

/* A fresh stream whose header sections may have limit bytes. */
void sipstream_init(struct sipstream *s, size_t limit);

/*
 * The next n bytes of the stream, p changed in place (escaped NULs
 * masked). Returns n, or, when the header section is cut, the offset of
 * the cut: those bytes are the stream's, the rest of p is
 * not, and the state is SIPSTREAM_CUT from then on (every later byte
 * dropped: returns 0).
 */
size_t sipstream_feed(struct sipstream *s, unsigned char *p, size_t n);

/* After a cut: what ends the partial line the passed bytes left (so that
 * a field added after it is a line of its own, and no empty line comes
 * before it): "", "\r\n", "\n" (they ended in CR), or "X\r\n" (a bare
 * CR began the line). */
const char *sipstream_cut_prefix(const struct sipstream *s);

/*
 * After a cut: the text that ends the cut header section so that a SIP
 * stack takes it for a request it can answer: the prefix above, stand-ins
 * for From, To, Call-ID and CSeq if none came before the cut (a client
 * matches a response by its Via branch and CSeq method, RFC 3261 17.1.3;
 * the stand-in CSeq names the request line's method), "marker: 1" and
 * the empty line. Its length, or 0 if it does not fit in size.
 */
size_t sipstream_cut_text(const struct sipstream *s, const char *marker,
    char *buf, size_t size);

/* Escaped NULs masked by sipstream_feed() back in p[0..n) (one header
 * field's bytes): SIPSTREAM_NUL after an odd run of "\" becomes 0. */
void sipstream_unmask(unsigned char *p, size_t n);

#endif /* SIPSTREAM_H */
