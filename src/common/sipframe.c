/* sipframe.c - SIP message boundaries on a stream (see sipframe.h). */
#include "common/sipframe.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

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
	f->clen = 0;
}

/* "Content-Length" or "l", optional whitespace, ':', whitespace, digits. */
static void
content_length(struct sipframe *f)
{
	size_t n = f->line_len < sizeof(f->line) ? f->line_len :
	    sizeof(f->line);
	const char *p = f->line, *end = p + n, *name = p;
	size_t v = 0;

	while (p < end && *p != ':' && *p != ' ' && *p != '\t')
		p++;
	if (!((p - name == 14 && strncasecmp(name, "Content-Length", 14) == 0) ||
	    (p - name == 1 && (*name == 'l' || *name == 'L'))))
		return;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p == end || *p++ != ':')
		return;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	for (; p < end && isdigit((unsigned char)*p); p++)
		v = v < SIZE_MAX / 20 ? v * 10 + (size_t)(*p - '0') : SIZE_MAX / 2;
	f->clen = v;
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
		} else {
			content_length(f);
		}
		f->line_no++;
		f->line_len = 0;
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
