/* test_sipframe.c - SIP message boundaries on a stream. */
#include <stdio.h>
#include <string.h>

#include "common/sipframe.h"
#include "t.h"

static const char req[] =
    "MESSAGE sip:bob@example.com SIP/2.0\r\n"
    "Via: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK-1\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Length:   5\r\n"
    "\r\n"
    "hello";

/* Feed s one byte at a time; the messages ended. */
static unsigned
bytewise(struct sipframe *f, const char *s, size_t n)
{
	unsigned done = 0;
	size_t i;

	for (i = 0; i < n; i++)
		done += sipframe_feed(f, s + i, 1);
	return done;
}

int
main(void)
{
	struct sipframe f;
	char two[2 * sizeof(req) + 8];
	int n;

	sipframe_init(&f);
	T_EQ_INT(sipframe_feed(&f, "\r\n\r\n", 4), 0, "CRLF keep-alives end no message");
	T_EQ_INT(f.state, SIPFRAME_IDLE, "  and leave the stream between messages");
	T_EQ_INT(sipframe_feed(&f, req, 20), 0, "a message's first bytes");
	T_EQ_INT(f.state, SIPFRAME_PARTIAL, "  leave it partial");
	T_EQ_INT(sipframe_feed(&f, req + 20, strlen(req) - 21), 0,
	    "all but the body's last byte");
	T_EQ_INT(f.state, SIPFRAME_PARTIAL, "  still partial (Content-Length read)");
	T_EQ_INT(sipframe_feed(&f, req + strlen(req) - 1, 1), 1, "the last byte ends it");
	T_EQ_INT(f.state, SIPFRAME_IDLE, "  between messages again");

	n = snprintf(two, sizeof(two), "%s\r\n%s", req, req);
	sipframe_init(&f);
	T_EQ_INT(sipframe_feed(&f, two, (size_t)n), 2, "two pipelined messages in one read");
	sipframe_init(&f);
	T_EQ_INT(bytewise(&f, two, (size_t)n), 2, "  and byte by byte");
	T_EQ_INT(f.state, SIPFRAME_IDLE, "  between messages after them");

	sipframe_init(&f);
	T_EQ_INT(sipframe_feed(&f, "SIP/2.0 200 OK\r\nl: 0\r\n\r\n", 24), 1,
	    "a response with a compact l: 0");
	sipframe_init(&f);
	T_EQ_INT(sipframe_feed(&f, "OPTIONS sip:x SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n", 43), 1,
	    "no Content-Length: taken as 0");
	sipframe_init(&f);
	T_EQ_INT(sipframe_feed(&f, "INVITE sip:x SIP/2.0\r\ncontent-length : 3\r\n\r\nabcOPT", 50), 1,
	    "content-length in any case, space before the colon");
	T_EQ_INT(f.state, SIPFRAME_PARTIAL, "  the next message begins after the body");

	sipframe_init(&f);
	sipframe_feed(&f, "\x16\x03\x01\x02\x00\x01", 6);
	T_EQ_INT(f.state, SIPFRAME_GARBAGE, "a control byte in the start line is not SIP");
	sipframe_init(&f);
	sipframe_feed(&f, "hello world\r\n", 13);
	T_EQ_INT(f.state, SIPFRAME_GARBAGE, "a start line without SIP/ is not SIP");
	sipframe_init(&f);
	sipframe_feed(&f, "INVITE sip:\xc3\xa9@x SIP/2.0\r\n", 24);
	T_EQ_INT(f.state, SIPFRAME_GARBAGE, "  nor one with 8-bit bytes");
	T_EQ_INT(sipframe_feed(&f, req, strlen(req)), 0, "garbage sticks");
	sipframe_init(&f);
	sipframe_feed(&f, "OPTIONS sip:x SIP/2.0\r\nSubject: caf\xc3\xa9\r\n", 38);
	T_EQ_INT(f.state, SIPFRAME_PARTIAL, "UTF-8 in a header value is fine");
	sipframe_init(&f);
	sipframe_feed(&f, "OPTIONS sip:x SSIP/2.0\r\n", 24);
	T_EQ_INT(f.state, SIPFRAME_PARTIAL, "SIP/ found after a false start");
	sipframe_init(&f);
	for (n = 0; n < 1000; n++)
		sipframe_feed(&f, "X-Long: aaaaaaaaaaaaaaaaaaaaaaaa", 32);
	T_EQ_INT(f.state, SIPFRAME_PARTIAL,
	    "an endless start line stays partial (the deadline's to end)");

	/* fuzz_sipframe: a Content-Length line longer than the 128 bytes
	 * once kept of a line was read from its first 128 bytes (here 0),
	 * and the body taken for the next message's start line. */
	{
		char lz[400];
		size_t k;

		k = (size_t)snprintf(lz, sizeof(lz),
		    "MESSAGE sip:x SIP/2.0\r\nContent-Length: %0150d\r\n"
		    "\r\nhello", 5);
		sipframe_init(&f);
		T_EQ_INT(sipframe_feed(&f, lz, k - 1), 0,
		    "Content-Length with 145 leading zeros: not ended early");
		T_EQ_INT(f.state, SIPFRAME_PARTIAL, "  the body still to come");
		T_EQ_INT(sipframe_feed(&f, lz + k - 1, 1), 1,
		    "  its 5th body byte ends it");
		T_EQ_INT(f.state, SIPFRAME_IDLE, "  between messages after it");
		sipframe_init(&f);
		T_EQ_INT(bytewise(&f, lz, k), 1, "  and byte by byte");
		sipframe_init(&f);
		T_EQ_INT(sipframe_feed(&f, "SIP/2.0 200 OK\r\nl:\t \r7\r\n\r\n"
		    "1234567", 33), 1, "white space and a CR before the value");
		T_EQ_INT(f.state, SIPFRAME_IDLE, "  the 7 bytes read as its body");
	}
	printf("1..%d\n", t_count);
	return t_failed != 0;
}
