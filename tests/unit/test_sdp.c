/* test_sdp.c - media endpoints from SDP bodies, real and hostile. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "services/sdp.h"
#include "t.h"

static struct sdp_media m[SDP_MAX_MEDIA + 1];
static size_t n;
static const char *why;

static enum sdp_status
parse_max(const char *body, size_t max)
{
	memset(m, 0xa5, sizeof(m));
	return sdp_parse(body, strlen(body), m, max, &n, &why);
}

static enum sdp_status
parse(const char *body)
{
	return parse_max(body, SDP_MAX_MEDIA);
}

/* "192.0.2.1" or "2001:db8::1" of an endpoint, or "-". */
static const char *
addr(const struct sdp_endpoint *ep)
{
	static char buf[INET6_ADDRSTRLEN];

	if (ep->family != AF_INET && ep->family != AF_INET6)
		return "-";
	return inet_ntop(ep->family, ep->addr, buf, sizeof(buf));
}

/* The digest's 6.1 offer, as Alice's UA sends it (LF line ends). */
static const char offer61[] =
    "v=0\n"
    "o=alice 2890844526 2890844526 IN IP4 client.atlanta.example.com\n"
    "s=-\n"
    "c=IN IP4 192.0.2.101\n"
    "t=0 0\n"
    "m=audio 49172 RTP/AVP 0\n"
    "a=rtpmap:0 PCMU/8000\n";

static void
test_digest(void)
{
	T_EQ_INT(parse(offer61), SDP_OK, "6.1 offer parses");
	T_EQ_STR(why, "ok", "6.1: why is ok");
	T_EQ_INT(n, 1, "6.1: one stream");
	T_EQ_STR(m[0].media, "audio", "6.1: audio");
	T_EQ_STR(m[0].transport, "RTP/AVP", "6.1: RTP/AVP");
	T_EQ_INT(m[0].rtp, 1, "6.1: an RTP stream");
	T_EQ_INT(m[0].rejected, 0, "6.1: not rejected");
	T_EQ_INT(m[0].rtp_ep.conn, SDP_CONN_IP, "6.1: an IP address");
	T_EQ_STR(addr(&m[0].rtp_ep), "192.0.2.101", "6.1: session c= applies");
	T_EQ_INT(m[0].rtp_ep.port, 49172, "6.1: port 49172");
	T_EQ_INT(m[0].rtp_ep.proto, IPPROTO_UDP, "6.1: UDP");
	T_EQ_INT(m[0].nports, 1, "6.1: one port");
	T_EQ_INT(m[0].has_rtcp, 1, "6.1: RTCP");
	T_EQ_INT(m[0].rtcp_attr, 0, "6.1: no a=rtcp");
	T_EQ_STR(addr(&m[0].rtcp), "192.0.2.101", "6.1: RTCP address");
	T_EQ_INT(m[0].rtcp.port, 49173, "6.1: RTCP on port + 1");
	T_EQ_INT(m[0].rtcp.proto, IPPROTO_UDP, "6.1: RTCP over UDP");
	T_EQ_INT(m[0].rtcp_mux, 0, "6.1: no rtcp-mux");
	T_EQ_INT(m[0].inactive, 0, "6.1: active");

	/* Bob's answer (CRLF), and 6.2's SRTP part with its key line */
	T_EQ_INT(parse("v=0\r\no=bob 1 1 IN IP4 192.0.2.201\r\ns=-\r\n"
	    "c=IN IP4 192.0.2.201\r\nt=0 0\r\nm=audio 3456 RTP/AVP 0\r\n"),
	    SDP_OK, "6.1 answer (CRLF) parses");
	T_OK(n == 1 && strcmp(addr(&m[0].rtp_ep), "192.0.2.201") == 0 &&
	    m[0].rtp_ep.port == 3456 && m[0].rtcp.port == 3457,
	    "6.1 answer: 192.0.2.201 3456, RTCP 3457");
	T_EQ_INT(parse("v=0\r\no=alice 1 1 IN IP4 192.0.2.101\r\ns=-\r\n"
	    "c=IN IP4 192.0.2.101\r\nt=0 0\r\nm=audio 49172 RTP/SAVP 0\r\n"
	    "a=crypto:1 AES_CM_128_HMAC_SHA1_32 "
	    "inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^20|1:32\r\n"),
	    SDP_OK, "6.2 SRTP part parses");
	T_OK(n == 1 && strcmp(m[0].transport, "RTP/SAVP") == 0 && m[0].rtp &&
	    m[0].rtp_ep.proto == IPPROTO_UDP && m[0].rtp_ep.port == 49172,
	    "6.2: RTP/SAVP is RTP over UDP");
}

static void
test_ipv6_and_levels(void)
{
	T_EQ_INT(parse("v=0\no=- 1 1 IN IP6 2001:db8::1\ns=-\n"
	    "c=IN IP6 2001:db8::1\nt=0 0\nm=audio 5004 RTP/AVP 0\n"
	    "m=video 5006 RTP/AVP 96\nc=IN IP6 2001:db8::2\n"
	    "m=video 5008 RTP/AVP 96\nc=IN IP4 198.51.100.7\n"), SDP_OK,
	    "IPv6 with media-level c= parses");
	T_EQ_INT(n, 3, "IPv6: three streams");
	T_OK(m[0].rtp_ep.family == AF_INET6 &&
	    strcmp(addr(&m[0].rtp_ep), "2001:db8::1") == 0,
	    "IPv6: session c= for the first");
	T_EQ_STR(addr(&m[1].rtp_ep), "2001:db8::2",
	    "IPv6: media c= overrides the session's");
	T_EQ_STR(addr(&m[1].rtcp), "2001:db8::2", "IPv6: RTCP follows it");
	T_OK(m[2].rtp_ep.family == AF_INET &&
	    strcmp(addr(&m[2].rtp_ep), "198.51.100.7") == 0,
	    "media c= may change the family");

	T_EQ_INT(parse("v=0\ns=-\nt=0 0\nm=audio 5004 RTP/AVP 0\n"
	    "m=audio 6000 RTP/AVP 0\nc=IN IP4 192.0.2.9\n"), SDP_OK,
	    "missing c= parses");
	T_EQ_INT(m[0].rtp_ep.conn, SDP_CONN_NONE, "no c= at all: NONE");
	T_EQ_INT(m[0].rtp_ep.family, AF_UNSPEC, "no c=: no family");
	T_EQ_INT(m[0].rtcp.conn, SDP_CONN_NONE, "no c=: RTCP neither");
	T_EQ_INT(m[1].rtp_ep.conn, SDP_CONN_IP, "its own c=: IP");
}

static void
test_rtcp(void)
{
	T_EQ_INT(parse("v=0\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n"
	    "m=audio 49170 RTP/AVP 0\na=rtcp:53020 IN IP4 126.16.64.4\n"
	    "m=audio 49180 RTP/AVP 0\na=rtcp:53021\n"
	    "m=audio 49190 RTP/AVP 0\na=rtcp:53022 IN IP6 2001:db8::7\n"
	    "m=audio 49200 RTP/AVP 0\na=rtcp:53023 IN IP4 rtcp.example.com\n"),
	    SDP_OK, "RFC 3605 a=rtcp parses");
	T_OK(m[0].rtcp_attr && m[0].rtcp.port == 53020 &&
	    strcmp(addr(&m[0].rtcp), "126.16.64.4") == 0 &&
	    m[0].rtcp.proto == IPPROTO_UDP, "a=rtcp with an address");
	T_EQ_STR(addr(&m[0].rtp_ep), "192.0.2.1", "a=rtcp leaves RTP alone");
	T_OK(m[1].rtcp_attr && m[1].rtcp.port == 53021 &&
	    strcmp(addr(&m[1].rtcp), "192.0.2.1") == 0,
	    "a=rtcp without an address: the stream's");
	T_OK(m[2].rtcp.family == AF_INET6 && m[2].rtcp.port == 53022,
	    "a=rtcp with an IPv6 address");
	T_EQ_INT(m[3].rtcp.conn, SDP_CONN_HOSTNAME, "a=rtcp with a name");

	T_EQ_INT(parse("v=0\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n"
	    "m=audio 49170 UDP/TLS/RTP/SAVPF 111\na=rtcp-mux\n"
	    "a=rtcp:49171\na=rtcp-fb:111 nack\n"), SDP_OK,
	    "rtcp-mux parses");
	T_EQ_INT(m[0].rtcp_mux, 1, "a=rtcp-mux is seen");
	T_EQ_INT(m[0].has_rtcp, 1, "rtcp-mux: the RTCP port stays known");
	T_EQ_INT(m[0].rtp, 1, "UDP/TLS/RTP/SAVPF is RTP");

	T_EQ_INT(parse("v=0\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\na=rtcp:9\n"
	    "a=rtcp-mux\nm=audio 49170 RTP/AVP 0\n"), SDP_OK,
	    "session-level a=rtcp is ignored");
	T_OK(m[0].rtcp_mux == 0 && m[0].rtcp.port == 49171,
	    "session-level rtcp attributes do not apply");
	T_EQ_INT(parse("v=0\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n"
	    "m=image 49170 udptl t38\na=rtcp:5000\n"), SDP_OK, "T.38 parses");
	T_OK(m[0].rtp == 0 && m[0].has_rtcp == 0 &&
	    m[0].rtp_ep.proto == IPPROTO_UDP, "udptl: UDP without RTCP");
}

static void
test_rejected_and_ports(void)
{
	T_EQ_INT(parse("v=0\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n"
	    "m=audio 49170 RTP/AVP 0\nm=video 0 RTP/AVP 31\na=rtcp:5000\n"
	    "m=video 49170/2 RTP/AVP 31\n"), SDP_OK, "port 0 stream parses");
	T_EQ_INT(n, 3, "the rejected stream keeps its index");
	T_EQ_INT(m[1].rejected, 1, "port 0: rejected");
	T_EQ_INT(m[1].has_rtcp, 0, "port 0: no RTCP");
	T_EQ_INT(m[0].rejected + m[2].rejected, 0, "the others are not");
	T_EQ_INT(m[2].nports, 2, "m=video 49170/2: two ports");

	T_EQ_INT(parse("v=0\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n"
	    "m=audio 65534 RTP/AVP 0\n"), SDP_OK, "RTP on 65534 parses");
	T_EQ_INT(parse("v=0\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n"
	    "m=audio 65535 RTP/AVP 0\n"), SDP_MALFORMED,
	    "RTP on 65535 (RTCP on 65536) is refused");
	T_EQ_INT(parse("v=0\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n"
	    "m=audio 65535 udptl t38\n"), SDP_OK, "udptl on 65535 parses");
	T_EQ_INT(parse("v=0\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n"
	    "m=audio 65530/4 RTP/AVP 0\n"), SDP_MALFORMED,
	    "4 RTP pairs from 65530 run past 65535");
	T_EQ_INT(parse("v=0\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n"
	    "m=audio 0/9 RTP/AVP 0\n"), SDP_OK,
	    "a rejected stream's port count is not checked");
}

static void
test_transports(void)
{
	static const struct {
		const char *t;
		int proto, rtp;
	} cases[] = {
		{ "RTP/AVP", IPPROTO_UDP, 1 },
		{ "RTP/SAVPF", IPPROTO_UDP, 1 },
		{ "UDP/TLS/RTP/SAVP", IPPROTO_UDP, 1 },
		{ "udp", IPPROTO_UDP, 0 },
		{ "UDP/BFCP", IPPROTO_UDP, 0 },
		{ "TCP/MSRP", IPPROTO_TCP, 0 },
		{ "TCP/RTP/AVP", IPPROTO_TCP, 1 },
		{ "TCP/TLS/RTP/SAVP", IPPROTO_TCP, 1 },
		{ "tcp", IPPROTO_TCP, 0 },
		{ "DCCP/RTP/AVP", 0, 1 },
		{ "UDPX", 0, 0 },
		{ "SCTP", 0, 0 },
	};
	char body[256], name[96];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(body, sizeof(body), "v=0\ns=-\nc=IN IP4 192.0.2.1\n"
		    "t=0 0\nm=application 9000 %s *\n", cases[i].t);
		snprintf(name, sizeof(name), "transport %s: proto %d, rtp %d",
		    cases[i].t, cases[i].proto, cases[i].rtp);
		T_OK(parse(body) == SDP_OK && n == 1 &&
		    m[0].rtp_ep.proto == cases[i].proto &&
		    m[0].rtp == cases[i].rtp && m[0].has_rtcp == cases[i].rtp,
		    name);
	}
}

static void
test_connection_forms(void)
{
	static const struct {
		const char *c;
		enum sdp_conn conn;
		const char *addr;
	} cases[] = {
		{ "IN IP4 192.0.2.1", SDP_CONN_IP, "192.0.2.1" },
		{ "IN IP4 0.0.0.0", SDP_CONN_IP, "0.0.0.0" },
		{ "IN IP6 ::", SDP_CONN_IP, "::" },
		{ "IN IP4 host.atlanta.example.com", SDP_CONN_HOSTNAME, "-" },
		{ "IN IP4 999.1.1.1", SDP_CONN_HOSTNAME, "-" },
		{ "IN IP6 media.example.com", SDP_CONN_HOSTNAME, "-" },
		{ "IN IP4 224.2.1.1/127", SDP_CONN_MULTICAST, "224.2.1.1" },
		{ "IN IP4 224.2.1.1/127/3", SDP_CONN_MULTICAST, "224.2.1.1" },
		{ "IN IP4 239.1.1.1", SDP_CONN_MULTICAST, "239.1.1.1" },
		{ "IN IP6 ff15::101/3", SDP_CONN_MULTICAST, "ff15::101" },
		{ "IN IP4 192.0.2.1/127", SDP_CONN_OTHER, "-" },
		{ "IN IP4 2001:db8::1", SDP_CONN_OTHER, "-" },
		{ "IN IP6 192.0.2.1", SDP_CONN_OTHER, "-" },
		{ "IN IP6 fe80::1%eth0", SDP_CONN_OTHER, "-" },
		{ "IN IP5 192.0.2.1", SDP_CONN_OTHER, "-" },
		{ "ATM NSAP 47.0091.8100.0000.0060.3e64.fd01", SDP_CONN_OTHER,
		    "-" },
		{ "IN IP4 /", SDP_CONN_OTHER, "-" },
		{ "IN IP4 a_b", SDP_CONN_OTHER, "-" },
	};
	char body[256], name[128];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(body, sizeof(body), "v=0\ns=-\nc=%s\nt=0 0\n"
		    "m=audio 9000 RTP/AVP 0\n", cases[i].c);
		snprintf(name, sizeof(name), "c=%s: conn %d, %s", cases[i].c,
		    (int)cases[i].conn, cases[i].addr);
		T_OK(parse(body) == SDP_OK && n == 1 &&
		    m[0].rtp_ep.conn == cases[i].conn &&
		    strcmp(addr(&m[0].rtp_ep), cases[i].addr) == 0 &&
		    m[0].rtcp.conn == cases[i].conn, name);
	}
	T_EQ_INT(parse("v=0\ns=-\nt=0 0\nm=audio 9000 RTP/AVP 0\n"
	    "c=IN IP4 192.0.2.1\nc=IN IP4 192.0.2.2\n"), SDP_OK,
	    "two media-level c= parse");
	T_EQ_INT(m[0].rtp_ep.conn, SDP_CONN_OTHER, "two media-level c=: OTHER");
}

static void
test_direction(void)
{
	T_EQ_INT(parse("v=0\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\na=inactive\n"
	    "m=audio 9000 RTP/AVP 0\nm=audio 9002 RTP/AVP 0\na=sendrecv\n"
	    "m=audio 9004 RTP/AVP 0\na=recvonly\n"), SDP_OK,
	    "session a=inactive parses");
	T_EQ_INT(m[0].inactive, 1, "session a=inactive applies");
	T_EQ_INT(m[1].inactive, 0, "media a=sendrecv overrides it");
	T_EQ_INT(m[2].inactive, 0, "recvonly is not inactive");
	T_EQ_INT(parse("v=0\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n"
	    "m=audio 9000 RTP/AVP 0\na=inactive\nm=audio 9002 RTP/AVP 0\n"
	    "a=sendonly\n"), SDP_OK, "media a=inactive parses");
	T_OK(m[0].inactive == 1 && m[1].inactive == 0,
	    "media a=inactive is its stream's only");
}

static void
test_malformed(void)
{
	static const struct {
		const char *body, *name;
	} cases[] = {
		{ "", "empty body" },
		{ "\n\r\n\n", "blank lines only" },
		{ "v=1\ns=-\n", "v=1" },
		{ "s=-\nv=0\n", "v= not first" },
		{ "hello\n", "not an SDP" },
		{ "v=0\ns=-\nhello world\n", "a line without =" },
		{ "v=0\ns=-\nX=1\n", "an upper-case type" },
		{ "v=0\ns=-\n=x\n", "no type" },
		{ "v=0\nv=0\n", "a second v=" },
		{ "v=0\nc=IN IP4\nm=audio 9000 RTP/AVP 0\n",
		    "c= of two fields" },
		{ "v=0\nc=IN IP4 192.0.2.1 x\n", "c= of four fields" },
		{ "v=0\nc=IN IP4 192.0.2.1\nc=IN IP4 192.0.2.2\n",
		    "two session c=" },
		{ "v=0\nm=audio\n", "m= of one field" },
		{ "v=0\nm=audio 9000\n", "m= without transport" },
		{ "v=0\nm=audio 65536 RTP/AVP 0\n", "port 65536" },
		{ "v=0\nm=audio 99999 RTP/AVP 0\n", "port 99999" },
		{ "v=0\nm=audio 123456789012345678901234567890 RTP/AVP 0\n",
		    "a huge port" },
		{ "v=0\nm=audio 4294967297 RTP/AVP 0\n", "port 2^32 + 1" },
		{ "v=0\nm=audio -1 RTP/AVP 0\n", "a negative port" },
		{ "v=0\nm=audio +9000 RTP/AVP 0\n", "a signed port" },
		{ "v=0\nm=audio 0x10 RTP/AVP 0\n", "a hex port" },
		{ "v=0\nm=audio 9000/0 RTP/AVP 0\n", "zero ports" },
		{ "v=0\nm=audio 9000/ RTP/AVP 0\n", "an empty port count" },
		{ "v=0\nm=audio 9000/99999999999 RTP/AVP 0\n",
		    "a huge port count" },
		{ "v=0\nm=audio /2 RTP/AVP 0\n", "no port before the count" },
		{ "v=0\nm=audio 9000 RTP/AVP 0\na=rtcp:0\n", "a=rtcp:0" },
		{ "v=0\nm=audio 9000 RTP/AVP 0\na=rtcp:x\n", "a=rtcp:x" },
		{ "v=0\nm=audio 9000 RTP/AVP 0\na=rtcp:\n", "a=rtcp: empty" },
		{ "v=0\nm=audio 9000 RTP/AVP 0\na=rtcp:70000\n",
		    "a=rtcp:70000" },
		{ "v=0\nm=audio 9000 RTP/AVP 0\na=rtcp:9001 IN IP4\n",
		    "a=rtcp with half an address" },
		{ "v=0\nm=audio 9000 RTP/AVP 0\na=rtcp:9001\na=rtcp:9003\n",
		    "two a=rtcp" },
		{ "v=0\nm=averyveryverylongmediatype 9000 RTP/AVP 0\n",
		    "a media type over 15 bytes" },
		{ "v=0\nm=au/dio 9000 RTP/AVP 0\n", "a media type with /" },
		{ "v=0\nm=audio 9000 "
		  "RTP/AVP/AND/A/VERY/LONG/TRANSPORT/NAME 0\n",
		    "a transport over 31 bytes" },
		{ "v=0\ns=a\rb\n", "a CR inside a line" },
	};
	char name[96];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(name, sizeof(name), "malformed: %s", cases[i].name);
		T_EQ_INT(parse(cases[i].body), SDP_MALFORMED, name);
		T_OK(why != NULL && strcmp(why, "ok") != 0,
		    "  ... with a reason");
	}
	/* NUL bytes: strlen() would stop there */
	memset(m, 0, sizeof(m));
	T_EQ_INT(sdp_parse("v=0\ns=a\0b\n", 9, m, SDP_MAX_MEDIA, &n, &why),
	    SDP_MALFORMED, "malformed: a NUL byte");
	T_EQ_STR(sdp_status_str(SDP_MALFORMED), "malformed", "status names");
}

static void
test_bounds(void)
{
	char *big;
	size_t i, len;

	T_EQ_INT(parse("v=0\ns=-\nt=0 0\n"), SDP_OK, "no m= line parses");
	T_EQ_INT(n, 0, "no m= line: no media");
	T_EQ_INT(parse("v=0\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n"
	    "m=audio 9000 RTP/AVP 0"), SDP_OK, "no line end at the end");
	T_OK(n == 1 && m[0].rtp_ep.port == 9000, "  ... and the last line is "
	    "read");
	T_EQ_INT(parse_max("v=0\nm=audio 9000 RTP/AVP 0\n"
	    "m=audio 9002 RTP/AVP 0\nm=audio 9004 RTP/AVP 0\n", 2),
	    SDP_TOO_MANY, "three m= lines over max 2");
	T_EQ_INT(parse_max("v=0\nm=audio 9000 RTP/AVP 0\n", 0), SDP_TOO_MANY,
	    "max 0 takes no m= line");
	T_EQ_INT(parse_max("v=0\nm=audio 9000 RTP/AVP 0\n", 1), SDP_OK,
	    "max 1 takes one");

	/* more m= lines than SDP_MAX_MEDIA, with a larger max */
	big = malloc(SDP_MAX_BODY + 2);
	if (big == NULL)
		abort();
	len = (size_t)snprintf(big, 64, "v=0\nc=IN IP4 192.0.2.1\n");
	for (i = 0; i <= SDP_MAX_MEDIA; i++)
		len += (size_t)snprintf(big + len, 64,
		    "m=audio %zu RTP/AVP 0\n", 10000 + 2 * i);
	T_EQ_INT(sdp_parse(big, len, m, SDP_MAX_MEDIA + 1, &n, &why),
	    SDP_TOO_MANY, "max is capped at SDP_MAX_MEDIA");
	T_EQ_INT(n, SDP_MAX_MEDIA, "  ... after SDP_MAX_MEDIA streams");

	memset(big, 'x', SDP_MAX_BODY + 1);
	memcpy(big, "v=0\ns=", 6);
	T_EQ_INT(sdp_parse(big, SDP_MAX_BODY + 1, m, 4, &n, &why), SDP_TOO_BIG,
	    "a body over SDP_MAX_BODY");
	big[6 + SDP_MAX_LINE - 2] = '\n';
	T_EQ_INT(sdp_parse(big, 6 + SDP_MAX_LINE - 1, m, 4, &n, &why), SDP_OK,
	    "a line of SDP_MAX_LINE bytes");
	big[6 + SDP_MAX_LINE - 2] = 'x';
	big[6 + SDP_MAX_LINE - 1] = '\n';
	T_EQ_INT(sdp_parse(big, 6 + SDP_MAX_LINE, m, 4, &n, &why), SDP_TOO_BIG,
	    "a line over SDP_MAX_LINE");
	free(big);
}

int
main(void)
{
	test_digest();
	test_ipv6_and_levels();
	test_rtcp();
	test_rejected_and_ports();
	test_transports();
	test_connection_forms();
	test_direction();
	test_malformed();
	test_bounds();
	return t_done();
}
