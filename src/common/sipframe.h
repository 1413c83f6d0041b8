/*
 * sipframe.h - where one SIP message ends on a stream (RFC 3261 18.3):
 * the header section up to the empty line, then Content-Length bytes.
 *
 * Sofia buffers a partial message for as long as the connection lives and
 * drops garbage without closing the connection, so a peer that sends
 * random bytes, a header line that never ends, or a request a few bytes
 * at a time holds a connection (and its buffer) until the idle timer,
 * half an hour. streamguard.c feeds every stream read through this
 * framer to know when a message started and whether the bytes can be SIP
 * at all; it closes connections on that basis, Sofia still parses.
 *
 * Deliberately loose (it only has to tell a message's boundaries and
 * what cannot be SIP): a start line is printable ASCII (RFC 3261 25.1:
 * Request-Line and Status-Line have no other octets) and names
 * "SIP/"; Content-Length (or "l") is the only header read. Missing,
 * it is taken as 0, as Sofia does.
 *
 * Pure: no I/O, no clock; one instance per connection.
 */
#ifndef SIPFRAME_H
#define SIPFRAME_H

#include <stddef.h>

enum sipframe_state {
	SIPFRAME_IDLE,    /* between messages (CRLF keep-alives included) */
	SIPFRAME_PARTIAL, /* inside a message */
	SIPFRAME_GARBAGE  /* not SIP: the start line cannot be one */
};

struct sipframe {
	enum sipframe_state state;
	int in_body;
	size_t body_left;
	size_t line_len;     /* bytes of the current header line so far */
	int line_no;         /* 0: start line */
	char line[16];       /* the current line's start (a field name) */
	int start_sip;       /* the start line named "SIP/" */
	int sip_match;       /* bytes of "SIP/" matched so far */
	int cl_state;        /* where in a Content-Length line (sipframe.c) */
	size_t cl_val;       /* its value so far */
	size_t clen;
};

void sipframe_init(struct sipframe *f);

/* Feed n more bytes of the stream. Returns how many messages ended in
 * them; f->state tells where the stream is after them. GARBAGE sticks. */
unsigned sipframe_feed(struct sipframe *f, const char *p, size_t n);

#endif /* SIPFRAME_H */
