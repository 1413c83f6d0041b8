/* sipframe.c - SIP message boundaries on a stream (see sipframe.h). */
#include "common/sipframe.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

/*
 * Content-Length is read as its line comes, byte by byte: a value can
 * stand anywhere in a line of any length (leading zeros, white space),
 * and Sofia reads it wherever it stands.
 */
enum {
	CL_NAME,	/* in the field name (kept in f->line) */
	CL_COLON,	/* "Content-Length" or "l", white space: a ':' next */
	CL_SPACE,	/* after the ':' */
	CL_DIGITS,	/* in the value */
	CL_END,		/* after the value (its end is not checked) */
	CL_OTHER	/* another field */
};

void
sipframe_init(struct sipframe *f)
{
	memset(f, 0, sizeof(*f));
	f->state = SIPFRAME_IDLE;
}

static void
begin(struct sipframe *f)
{
	f->state = SIPFRAME_PARTIAL;
	f->in_body = 0;
	f->body_left = 0;
	f->line_len = 0;
	f->line_no = 0;
	f->start_sip = 0;
	f->sip_match = 0;
	f->cl_state = CL_NAME;
	f->cl_val = 0;
	f->clen = 0;
}

static void
content_length(struct sipframe *f, unsigned char b)
{
	size_t n = f->line_len;

	switch (f->cl_state) {
	case CL_NAME:
		if (b != ':' && b != ' ' && b != '\t')
			return;
		if ((n == 14 && strncasecmp(f->line, "Content-Length", 14) ==
		    0) || (n == 1 && (f->line[0] == 'l' || f->line[0] == 'L')))
			f->cl_state = b == ':' ? CL_SPACE : CL_COLON;
		else
			f->cl_state = CL_OTHER;
		return;
	case CL_COLON:
		if (b == ':')
			f->cl_state = CL_SPACE;
		else if (b != ' ' && b != '\t')
			f->cl_state = CL_OTHER;
		return;
	case CL_SPACE:
	case CL_DIGITS:
		if (isdigit(b)) {
			f->cl_state = CL_DIGITS;
			f->cl_val = f->cl_val < SIZE_MAX / 20 ? f->cl_val * 10 +
			    (size_t)(b - '0') : SIZE_MAX / 2;
		} else if (f->cl_state == CL_DIGITS ||
		    (b != ' ' && b != '\t' && b != '\r')) {
			f->cl_state = CL_END;
		}
		return;
	default:
		return;
	}
}

/* A header-section byte; returns 1 when the message ended with it. */
static int
header_byte(struct sipframe *f, unsigned char b)
{
	static const char sip[] = "SIP/";

	if (b == '\n') {
		if (f->line_no == 0) {
			if (!f->start_sip) {
				f->state = SIPFRAME_GARBAGE;
				return 0;
			}
		} else if (f->line_len == 0 ||
		    (f->line_len == 1 && f->line[0] == '\r')) {
			if (f->clen == 0) {
				f->state = SIPFRAME_IDLE;
				return 1;
			}
			f->in_body = 1;
			f->body_left = f->clen;
			return 0;
		} else if (f->cl_state == CL_SPACE ||
		    f->cl_state == CL_DIGITS || f->cl_state == CL_END) {
			f->clen = f->cl_val;	/* no digits: 0, as before */
		}
		f->line_no++;
		f->line_len = 0;
		f->cl_state = CL_NAME;
		f->cl_val = 0;
		return 0;
	}
	if (f->line_no == 0) {
		/* RFC 3261 25.1: a start line is printable ASCII and spaces */
		if ((b < 0x20 && b != '\r' && b != '\t') || b >= 0x7f) {
			f->state = SIPFRAME_GARBAGE;
			return 0;
		}
		if (b == (unsigned char)sip[f->sip_match]) {
			if (++f->sip_match == 4)
				f->start_sip = 1, f->sip_match = 0;
		} else {
			f->sip_match = b == 'S' ? 1 : 0;
		}
	} else {
		content_length(f, b);
	}
	if (f->line_len < sizeof(f->line))
		f->line[f->line_len] = (char)b;
	f->line_len++;
	return 0;
}

unsigned
sipframe_feed(struct sipframe *f, const char *p, size_t n)
{
	const unsigned char *b = (const unsigned char *)p, *end = b + n;
	unsigned done = 0;
	size_t k;

	while (b < end && f->state != SIPFRAME_GARBAGE) {
		if (f->state == SIPFRAME_IDLE) {
			if (*b == '\r' || *b == '\n') {
				b++;
				continue;
			}
			begin(f);
		}
		if (f->in_body) {
			k = (size_t)(end - b) < f->body_left ?
			    (size_t)(end - b) : f->body_left;
			b += k;
			f->body_left -= k;
			if (f->body_left == 0) {
				f->in_body = 0;
				f->state = SIPFRAME_IDLE;
				done++;
			}
			continue;
		}
		done += (unsigned)header_byte(f, *b++);
	}
	return done;
}
