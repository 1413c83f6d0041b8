/* test_sipdgram.c - whole, headless and short-bodied datagrams. */
#include <string.h>

#include "common/sipdgram.h"
#include "t.h"

#define RESP "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n" \
	"CSeq: 1 MESSAGE\r\n"

static enum sipdgram
check(const char *s)
{
	return sipdgram_check(s, strlen(s));
}

int
main(void)
{
	static const char nul_body[] = RESP "Content-Length: 3\r\n\r\na\0b";

	T_EQ_INT(check(RESP "Content-Length: 0\r\n\r\n"), SIPDGRAM_WHOLE,
	    "no body, Content-Length 0");
	T_EQ_INT(check(RESP "Content-Length: 4\r\n\r\nbody"), SIPDGRAM_WHOLE,
	    "body as long as Content-Length");
	T_EQ_INT(check(RESP "Content-Length: 2\r\n\r\nbody"), SIPDGRAM_WHOLE,
	    "body longer than Content-Length (the rest is Sofia's)");
	T_EQ_INT(check(RESP "Content-Length: 5\r\n\r\nbody"),
	    SIPDGRAM_SHORT_BODY, "body one byte short");
	T_EQ_INT(check(RESP "l:10\r\n\r\nbody"), SIPDGRAM_SHORT_BODY,
	    "compact form l");
	T_EQ_INT(check(RESP "content-length   :  \t7  \r\n\r\nbody"),
	    SIPDGRAM_SHORT_BODY, "any case, white space around the colon");
	T_EQ_INT(check(RESP "\r\n"), SIPDGRAM_WHOLE,
	    "no Content-Length, empty line (UDP: the datagram is the body)");
	T_EQ_INT(check(RESP), SIPDGRAM_NO_END, "no empty line");
	T_EQ_INT(check(RESP "Content-Length: 0\r\n"), SIPDGRAM_NO_END,
	    "no empty line after Content-Length");
	T_EQ_INT(check(RESP "Content-Le"), SIPDGRAM_NO_END,
	    "cut inside a header name");
	T_EQ_INT(check("SIP/2.0 200"), SIPDGRAM_NO_END,
	    "cut inside the status line");
	T_EQ_INT(check(""), SIPDGRAM_NO_END, "nothing");
	T_EQ_INT(check("\r\n\r\n" RESP "\r\n"), SIPDGRAM_WHOLE,
	    "leading empty lines skipped");
	T_EQ_INT(check("SIP/2.0 200 OK\nCSeq: 1 X\nl: 3\n\nabc"),
	    SIPDGRAM_WHOLE, "bare LF line ends");
	T_EQ_INT(check("SIP/2.0 200 OK\nCSeq: 1 X\nl: 4\n\nabc"),
	    SIPDGRAM_SHORT_BODY, "bare LF line ends, short body");
	T_EQ_INT(check(RESP "X-Content-Length: 9\r\nl-x: 9\r\n\r\n"),
	    SIPDGRAM_WHOLE, "other names that contain the name");
	T_EQ_INT(check(RESP "Subject: a\r\n Content-Length: 9\r\n\r\n"),
	    SIPDGRAM_WHOLE, "a folded line is no header of its own");
	T_EQ_INT(check(RESP "Content-Length: 9x\r\n\r\n"), SIPDGRAM_WHOLE,
	    "a value that is no number: Sofia's to refuse");
	T_EQ_INT(check(RESP "Content-Length: 99999999999999999999999\r\n\r\n"),
	    SIPDGRAM_WHOLE, "an overflowing value: Sofia's to refuse");
	T_EQ_INT(check(RESP "Content-Length: 4\r\nContent-Length: 9\r\n\r\n"
	    "body"), SIPDGRAM_SHORT_BODY, "the last of two Content-Lengths");
	T_EQ_INT(sipdgram_check(nul_body, sizeof(nul_body) - 1),
	    SIPDGRAM_WHOLE, "a NUL in the body");
	T_EQ_INT(sipdgram_check(nul_body, sizeof(nul_body) - 2),
	    SIPDGRAM_SHORT_BODY, "a NUL in a short body");
	return t_done();
}
