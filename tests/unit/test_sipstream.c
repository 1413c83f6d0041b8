/* test_sipstream.c - header sections of a SIP byte stream: escaped NULs
 * masked in the header only, the cut at the limit, bodies and pipelined
 * messages, bytes split anywhere. */
#include <stdlib.h>
#include <string.h>

#include "common/sipstream.h"
#include "t.h"

#define REQ(cl) "MESSAGE sip:b@h SIP/2.0\r\nTo: \"a\\\0b\" <sip:b@h>\r\n" \
	"Content-Length: " cl "\r\n\r\n"

/* Feed p[0..n) in pieces of step bytes; the bytes passed, in out. */
static size_t
feed(struct sipstream *s, const char *p, size_t n, size_t step,
    unsigned char *out)
{
	size_t at = 0, got = 0, k, r;

	while (at < n) {
		k = n - at < step ? n - at : step;
		memcpy(out + got, p + at, k);
		r = sipstream_feed(s, out + got, k);
		got += r;
		if (r < k)
			break;
		at += k;
	}
	return got;
}

int
main(void)
{
	static const char two[] = REQ("4") "a\\\0b" "\r\n\r\n" REQ("0");
	size_t n = sizeof(two) - 1, step, got, nul1, nul2, body;
	unsigned char out[sizeof(two)];
	struct sipstream s;
	int good = 1;

	nul1 = (size_t)((const char *)memchr(two, 0, n) - two);
	body = (size_t)(strstr(&two[nul1 + 1], "\r\n\r\n") - two) + 4;
	nul2 = body + 2;
	for (step = 1; step <= n; step++) {
		sipstream_init(&s, 4096);
		got = feed(&s, two, n, step, out);
		if (got != n || out[nul1] != SIPSTREAM_NUL || out[nul2] != 0 ||
		    out[n - 1] != '\n' ||
		    ((unsigned char *)memchr(out + body + 4, 0xFF,
		    n - body - 4) == NULL))
			good = 0;
	}
	T_OK(good, "a quoted NUL masked in each header section, not in the "
	    "body between them, whatever the pieces");
	sipstream_unmask(out + nul1 - 8, 16);
	T_OK(out[nul1] == 0, "unmasked again");

	{
		unsigned char p[] = "To: \"\\\\\0\"\r\n";
		unsigned char q[] = "a\\\\\xff b\\\xff";

		sipstream_init(&s, 4096);
		sipstream_feed(&s, (unsigned char *)"M s SIP/2.0\r\n", 13);
		sipstream_feed(&s, p, sizeof(p) - 1);
		T_OK(p[7] == 0, "a NUL after an escaped backslash is left");
		sipstream_unmask(q, sizeof(q) - 1);
		T_OK(q[3] == 0xFF && q[7] == 0, "unmask: only after an odd "
		    "run of backslashes");
	}
	{
		char *big = malloc(300);
		unsigned char o[300];

		memset(big, 'a', 300);
		memcpy(big, "INVITE sip:x SIP/2.0\r\nVia: ", 27);
		sipstream_init(&s, 100);
		got = sipstream_feed(&s, (unsigned char *)memcpy(o, big, 300),
		    300);
		T_EQ_INT(got, 150, "a line that goes on past the limit: cut "
		    "at half the limit more");
		T_EQ_INT(s.state, SIPSTREAM_CUT, "and the stream is cut");
		T_EQ_INT(sipstream_feed(&s, o, 10), 0, "later bytes dropped");
		T_EQ_STR(sipstream_cut_prefix(&s), "\r\n",
		    "the partial line is ended by CRLF");
		sipstream_init(&s, 27);
		got = sipstream_feed(&s, (unsigned char *)memcpy(o, big, 300),
		    300);
		T_EQ_INT(got, 40, "the limit in a line: cut at half more");
		T_EQ_STR(sipstream_cut_prefix(&s), "\r\n",
		    "(a line begun with Via)");
		sipstream_init(&s, 22);
		got = sipstream_feed(&s, (unsigned char *)memcpy(o, big, 300),
		    300);
		T_EQ_INT(got, 22, "the limit at a line start: cut there");
		T_EQ_STR(sipstream_cut_prefix(&s), "", "nothing to end there");
		free(big);
	}
	{
		static const char b[] = "\r\n\r\nOPTIONS s SIP/2.0\r\nl: 3\r\n\r\n"
		    "\0\0\0OPTIONS s SIP/2.0\r\nContent-Length: 0\r\n\r\n";
		unsigned char o[sizeof(b)];

		sipstream_init(&s, 40);
		got = feed(&s, b, sizeof(b) - 1, 5, o);
		T_EQ_INT(got, sizeof(b) - 1, "keep-alives, compact l, a body "
		    "of NULs, two messages each under the limit");
		T_EQ_INT(s.state, SIPSTREAM_HEAD, "ready for the next");
	}
	{
		static const char b[] = "OPTIONS s SIP/2.0\r\nContent-Length: x"
		    "\r\n\r\n\\\0";
		unsigned char o[sizeof(b)];

		sipstream_init(&s, 4096);
		got = feed(&s, b, sizeof(b) - 1, 7, o);
		T_OK(s.state == SIPSTREAM_LOST && o[sizeof(b) - 2] == 0,
		    "a Content-Length that is no number: hands off");
	}
	{
		static const char a[] = "MESSAGE sip:b@h SIP/2.0\r\n"
		    "Via: SIP/2.0/TCP h;branch=z9hG4bK1\r\nf: <sip:a@h>;tag=1\r\n"
		    "Via: SIP/2.0/TCP g;branch=z9hG4bK2\r\nVia: SIP/2.0/TCP "
		    "k;branch=z9hG4bK3\r\nCSeq: 7 MESSAGE\r\n";
		unsigned char o[sizeof(a)];
		char text[256];
		size_t lim = (size_t)(strstr(a, "Via: SIP/2.0/TCP g") - a);

		sipstream_init(&s, lim - 3);
		got = feed(&s, a, sizeof(a) - 1, 9, o);
		T_EQ_INT(got, lim, "past the limit, cut where the next line "
		    "starts");
		T_OK(sipstream_cut_text(&s, "X-M", text, sizeof(text)) > 0 &&
		    strcmp(text, "To: <sip:cut.invalid>\r\nCall-ID: "
		    "cut.invalid\r\nCSeq: 1 MESSAGE\r\nX-M: 1\r\n\r\n") == 0,
		    "stand-ins for what had not come (f counts as From), the "
		    "method from the request line, the marker, the empty line");
		T_EQ_INT(sipstream_cut_text(&s, "X-M", text, 20), 0,
		    "no room: nothing");
		sipstream_init(&s, sizeof(a) + 10);
		got = feed(&s, a, sizeof(a) - 1, 4, o);
		T_EQ_INT(got, sizeof(a) - 1, "under the limit: no cut");
	}
	{
		/* fuzz_sipstream: a "\" before a bare CR still counted, so
		 * the NUL after the CR was masked and never unmasked (the
		 * unmasking counts from the CR): forwarded as 0xFF. */
		static const char c[] = "OPTIONS sip:x SIP/2.0\r\n"
		    "To: \"a\\\r\0\" <sip:x>\r\n\r\n";
		unsigned char o[sizeof(c)];

		sipstream_init(&s, 1000);
		memcpy(o, c, sizeof(c));
		sipstream_feed(&s, o, sizeof(c) - 1);
		T_OK(o[31] == 0, "a NUL after \"\\\" and a bare CR: not masked");
		sipstream_unmask(o, sizeof(c) - 1);
		T_OK(memcmp(o, c, sizeof(c)) == 0, "  unmasking gives it back");
	}
	{
		/* fuzz_sipstream: bare CRs were never a place to cut, so a
		 * line of them grew the header section past every limit. */
		unsigned char o[3000];
		char text[256];
		size_t k;

		memset(o, '\r', sizeof(o));
		memcpy(o, "OPTIONS sip:x SIP/2.0\r\nX: a", 27);
		sipstream_init(&s, 100);
		k = sipstream_feed(&s, o, sizeof(o));
		T_EQ_INT(k, 150, "a line of bare CRs: cut at half the limit more");
		T_EQ_INT(s.state, SIPSTREAM_CUT, "  and the stream is cut");
		T_EQ_STR(sipstream_cut_prefix(&s), "\n", "  the CR before it "
		    "ended by a LF");
		T_OK(sipstream_cut_text(&s, "X-M", text, sizeof(text)) > 0,
		    "  and the text that ends the section fits");
		memset(o, '\r', sizeof(o));
		memcpy(o, "OPTIONS sip:x SIP/2.0\r\nX: a\n", 28);
		sipstream_init(&s, 100);
		k = sipstream_feed(&s, o, sizeof(o));
		T_EQ_INT(k, 150, "a line of them alone: cut too");
		T_EQ_STR(sipstream_cut_prefix(&s), "\n", "  (not an empty "
		    "line: it holds more than one CR)");
		memset(o, '\r', sizeof(o));
		memcpy(o, "OPTIONS sip:x SIP/2.0\r\nX: ", 26);
		memset(o + 26, 'a', 122);
		o[148] = '\n';
		sipstream_init(&s, 100);
		k = sipstream_feed(&s, o, sizeof(o));
		T_EQ_INT(k, 150, "its second CR past half the limit more: cut "
		    "there");
		T_EQ_STR(sipstream_cut_prefix(&s), "X\r\n", "  the line's one "
		    "CR made a line of its own");
	}
	return t_done();
}
