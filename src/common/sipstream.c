/* sipstream.c - header sections of a SIP byte stream (sipstream.h). */
#include "common/sipstream.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/sipdgram.h"

void
sipstream_init(struct sipstream *s, size_t limit)
{
	memset(s, 0, sizeof(*s));
	s->limit = limit;
}

/* The next message starts. */
static void
next_message(struct sipstream *s)
{
	size_t limit = s->limit;

	sipstream_init(s, limit);
}

#define SEEN_FROM 1u
#define SEEN_TO 2u
#define SEEN_CALL_ID 4u
#define SEEN_CSEQ 8u

/* Which of From, To, Call-ID, CSeq the header line p[0..n) is (a bit). */
static unsigned
essential(const char *p, size_t n)
{
	static const struct {
		const char *name;
		unsigned bit;
	} names[] = {
		{ "from", SEEN_FROM }, { "f", SEEN_FROM }, { "to", SEEN_TO },
		{ "t", SEEN_TO }, { "call-id", SEEN_CALL_ID },
		{ "i", SEEN_CALL_ID }, { "cseq", SEEN_CSEQ },
	};
	size_t len = 0, i;

	while (len < n && p[len] != ':' && p[len] != ' ' && p[len] != '\t')
		len++;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i].name) == len &&
		    strncasecmp(p, names[i].name, len) == 0)
			return names[i].bit;
	return 0;
}

/* A header line ended (its first bytes in s->line). A Content-Length
 * that is no number, or longer than the line kept: the body's end is
 * unknown, so the stream is left alone from here (SIPSTREAM_LOST). */
static void
end_line(struct sipstream *s)
{
	size_t v, n = s->linelen < sizeof(s->line) ? s->linelen :
	    sizeof(s->line);
	int r;

	if (s->lines++ == 0) {	/* the start line: keep the method */
		for (v = 0; v < n && v < sizeof(s->method) - 1 &&
		    s->line[v] != ' '; v++)
			s->method[v] = s->line[v];
		if (v < n && s->line[v] == ' ')
			s->method[v] = '\0';
		else
			s->method[0] = '\0';
		return;
	}
	if (n == 0 || s->line[0] == ' ' || s->line[0] == '\t')
		return;
	s->seen |= essential(s->line, n);
	r = sipdgram_content_length(s->line, n, &v);
	if (r > 0 && s->linelen <= sizeof(s->line))
		s->cl = v;
	else if (r != 0)
		s->state = SIPSTREAM_LOST;
}

size_t
sipstream_feed(struct sipstream *s, unsigned char *p, size_t n)
{
	size_t i = 0, take;

	while (i < n) {
		if (s->state == SIPSTREAM_CUT)
			return 0;
		if (s->state == SIPSTREAM_LOST)
			return n;
		if (s->state == SIPSTREAM_BODY) {
			take = n - i < s->body_left ? n - i : s->body_left;
			i += take;
			if ((s->body_left -= take) == 0)
				next_message(s);
			continue;
		}
		/* SIPSTREAM_HEAD */
		if (!s->started && (p[i] == '\r' || p[i] == '\n')) {
			i++;	/* keep-alive, or the CRLF after a body */
			continue;
		}
		s->started = 1;
		/* Past the limit, cut where a line starts (then the fields
		 * before are whole), or in a line half the limit longer. Never
		 * at a LF, nor at a CR that may be the one of the empty line
		 * (sipstream_cut_prefix); a CR after a CR is in a line, and a
		 * run of them must not carry it past every limit. */
		if (++s->head > s->limit && p[i] != '\n' &&
		    (p[i] != '\r' || s->cr) &&
		    ((s->linelen == 0 && !s->cr) ||
		    s->head > s->limit + s->limit / 2)) {
			s->state = SIPSTREAM_CUT;
			return i;
		}
		if (s->cr && p[i] != '\n')
			s->linelen++;	/* a bare CR: part of the line */
		if (p[i] == '\n') {
			if (s->linelen == 0) {	/* the empty line */
				if (s->cl == 0) {
					next_message(s);
				} else {
					s->state = SIPSTREAM_BODY;
					s->body_left = s->cl;
				}
				i++;
				continue;
			}
			end_line(s);
			s->linelen = 0;
			s->backslashes = 0;
			s->cr = 0;
			i++;
			continue;
		}
		if (p[i] == '\r') {
			/* RFC 3261 25.1: a quoted-pair never escapes a CR, and
			 * the unmasking counts the run of "\" again from it */
			s->cr = 1;
			s->backslashes = 0;
			i++;
			continue;
		}
		if (p[i] == 0 && s->backslashes % 2 == 1)
			p[i] = SIPSTREAM_NUL;
		s->backslashes = p[i] == '\\' ? s->backslashes + 1 : 0;
		if (s->linelen < sizeof(s->line))
			s->line[s->linelen] = (char)p[i];
		s->linelen++;
		s->cr = 0;
		i++;
	}
	return n;
}

const char *
sipstream_cut_prefix(const struct sipstream *s)
{
	if (s->cr)	/* "\r" alone would make an empty line of "\r\n" */
		return s->linelen > 0 ? "\n" : "X\r\n";
	return s->linelen > 0 ? "\r\n" : "";
}

void
sipstream_unmask(unsigned char *p, size_t n)
{
	size_t i;
	unsigned bs = 0;

	for (i = 0; i < n; i++) {
		if (p[i] == SIPSTREAM_NUL && bs % 2 == 1)
			p[i] = 0;
		bs = p[i] == '\\' ? bs + 1 : 0;
	}
}

size_t
sipstream_cut_text(const struct sipstream *s, const char *marker, char *buf,
    size_t size)
{
	int n = snprintf(buf, size, "%s%s%s%s%s%s%s%s: 1\r\n\r\n",
	    sipstream_cut_prefix(s),
	    (s->seen & SEEN_FROM) ? "" : "From: <sip:cut.invalid>;tag=cut\r\n",
	    (s->seen & SEEN_TO) ? "" : "To: <sip:cut.invalid>\r\n",
	    (s->seen & SEEN_CALL_ID) ? "" : "Call-ID: cut.invalid\r\n",
	    (s->seen & SEEN_CSEQ) || s->method[0] == '\0' ? "" : "CSeq: 1 ",
	    (s->seen & SEEN_CSEQ) || s->method[0] == '\0' ? "" : s->method,
	    (s->seen & SEEN_CSEQ) || s->method[0] == '\0' ? "" : "\r\n",
	    marker);

	return n > 0 && (size_t)n < size ? (size_t)n : 0;
}
