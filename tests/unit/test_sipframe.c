/* test_sipframe.c - whole, headless and short-bodied datagrams. */
#include <string.h>

#include "common/sipframe.h"
#include "t.h"

#define RESP "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n" \
	"CSeq: 1 MESSAGE\r\n"

static enum sipframe
check(const char *s)
{
	return sipframe_check(s, strlen(s));
}

int
main(void)
{
	static const char nul_body[] = RESP "Content-Length: 3\r\n\r\na\0b";

	T_EQ_INT(check(RESP "Content-Length: 0\r\n\r\n"), SIPFRAME_WHOLE,
	    "no body, Content-Length 0");
	T_EQ_INT(check(RESP "Content-Length: 4\r\n\r\nbody"), SIPFRAME_WHOLE,
	    "body as long as Content-Length");
	T_EQ_INT(check(RESP "Content-Length: 2\r\n\r\nbody"), SIPFRAME_WHOLE,
	    "body longer than Content-Length (the rest is Sofia's)");
	T_EQ_INT(check(RESP "Content-Length: 5\r\n\r\nbody"),
	    SIPFRAME_SHORT_BODY, "body one byte short");
	T_EQ_INT(check(RESP "l:10\r\n\r\nbody"), SIPFRAME_SHORT_BODY,
	    "compact form l");
	T_EQ_INT(check(RESP "content-length   :  \t7  \r\n\r\nbody"),
	    SIPFRAME_SHORT_BODY, "any case, white space around the colon");
	T_EQ_INT(check(RESP "\r\n"), SIPFRAME_WHOLE,
	    "no Content-Length, empty line (UDP: the datagram is the body)");
	T_EQ_INT(check(RESP), SIPFRAME_NO_END, "no empty line");
	T_EQ_INT(check(RESP "Content-Length: 0\r\n"), SIPFRAME_NO_END,
	    "no empty line after Content-Length");
	T_EQ_INT(check(RESP "Content-Le"), SIPFRAME_NO_END,
	    "cut inside a header name");
	T_EQ_INT(check("SIP/2.0 200"), SIPFRAME_NO_END,
	    "cut inside the status line");
	T_EQ_INT(check(""), SIPFRAME_NO_END, "nothing");
	T_EQ_INT(check("\r\n\r\n" RESP "\r\n"), SIPFRAME_WHOLE,
	    "leading empty lines skipped");
	T_EQ_INT(check("SIP/2.0 200 OK\nCSeq: 1 X\nl: 3\n\nabc"),
	    SIPFRAME_WHOLE, "bare LF line ends");
	T_EQ_INT(check("SIP/2.0 200 OK\nCSeq: 1 X\nl: 4\n\nabc"),
	    SIPFRAME_SHORT_BODY, "bare LF line ends, short body");
	T_EQ_INT(check(RESP "X-Content-Length: 9\r\nl-x: 9\r\n\r\n"),
	    SIPFRAME_WHOLE, "other names that contain the name");
	T_EQ_INT(check(RESP "Subject: a\r\n Content-Length: 9\r\n\r\n"),
	    SIPFRAME_WHOLE, "a folded line is no header of its own");
	T_EQ_INT(check(RESP "Content-Length: 9x\r\n\r\n"), SIPFRAME_WHOLE,
	    "a value that is no number: Sofia's to refuse");
	T_EQ_INT(check(RESP "Content-Length: 99999999999999999999999\r\n\r\n"),
	    SIPFRAME_WHOLE, "an overflowing value: Sofia's to refuse");
	T_EQ_INT(check(RESP "Content-Length: 4\r\nContent-Length: 9\r\n\r\n"
	    "body"), SIPFRAME_SHORT_BODY, "the last of two Content-Lengths");
	T_EQ_INT(sipframe_check(nul_body, sizeof(nul_body) - 1),
	    SIPFRAME_WHOLE, "a NUL in the body");
	T_EQ_INT(sipframe_check(nul_body, sizeof(nul_body) - 2),
	    SIPFRAME_SHORT_BODY, "a NUL in a short body");
	return t_done();
}
