/*
 * sdp.h - the media endpoints of an SDP body (RFC 8866, RFC 3605,
 * RFC 5761) that a firewall would need to open; pure, hostile input
 * expected.
 *
 * Every m= line is reported, in order, so that the i-th stream of an offer
 * and of its answer (RFC 3264: same count, same order) keep their index;
 * a stream with port 0 is rejected (RFC 3264 section 6) and has rejected
 * set. What to open is the caller's (services/pinhole.h) decision: this
 * module only says what the body announces, including what must not be
 * opened (a host name, a multicast group, a TCP or unknown transport).
 *
 * Direction: a=inactive (media level, else session level) sets inactive;
 * sendonly and recvonly do not, since RTCP flows both ways even then.
 *
 * Bounded: the body (SDP_MAX_BODY), each line (SDP_MAX_LINE) and the
 * number of m= lines (the caller's max, never above SDP_MAX_MEDIA). A
 * line the module does not read (o=, a=rtpmap, ...) only has to be a
 * "x=value" line; the lines it reads (v=, c=, m=, a=rtcp, a=rtcp-mux,
 * a=inactive) are checked strictly, and a broken one fails the whole body.
 */
#ifndef SDP_H
#define SDP_H

#include <stddef.h>

#define SDP_MAX_BODY (64 * 1024)
#define SDP_MAX_LINE 1024
#define SDP_MAX_MEDIA 64

enum sdp_status {
	SDP_OK = 0,
	SDP_MALFORMED,  /* not an SDP, or a line this module reads is broken */
	SDP_TOO_BIG,    /* body or a line over the bounds above */
	SDP_TOO_MANY    /* more m= lines than the caller's max */
};

/* What stands where an address should be (c= or a=rtcp's address). */
enum sdp_conn {
	SDP_CONN_IP = 0,    /* a unicast IP address in family/addr; may be
			       0.0.0.0 or :: (the old way to say "hold") */
	SDP_CONN_NONE,      /* no c= line applies to this stream */
	SDP_CONN_HOSTNAME,  /* a name: never resolved here */
	SDP_CONN_MULTICAST, /* a multicast group (family/addr are set) */
	SDP_CONN_OTHER      /* nettype not IN, addrtype not IP4/IP6, or an
			       address of the wrong type */
};

struct sdp_endpoint {
	enum sdp_conn conn;
	int family;             /* AF_INET or AF_INET6 if conn is IP or
				   MULTICAST, else AF_UNSPEC */
	unsigned char addr[16]; /* network byte order; 4 bytes for AF_INET */
	unsigned port;          /* 1..65535 (0 only in a rejected stream) */
	int proto;              /* IPPROTO_UDP, IPPROTO_TCP, or 0: a
				   transport this module does not know */
};

struct sdp_media {
	char media[16];      /* "audio", "video", ... (NUL-terminated) */
	char transport[32];  /* "RTP/AVP", "UDP/TLS/RTP/SAVPF", ... */
	int rejected;        /* port 0: nothing else below is meaningful */
	int rtp;             /* an RTP transport: RTP/RTCP port pairs */
	struct sdp_endpoint rtp_ep; /* the (first) media port */
	unsigned nports;     /* m=audio 49170/2: 2; 1 when not given. For RTP
				the streams are on rtp_ep.port + 2 * i (RTCP on
				the odd port after each), else on
				rtp_ep.port + i */
	int has_rtcp;        /* an RTP stream: rtcp is where its (first)
				RTCP goes if RTP and RTCP are not muxed */
	int rtcp_attr;       /* rtcp came from a=rtcp (RFC 3605), not port+1 */
	struct sdp_endpoint rtcp;
	int rtcp_mux;        /* a=rtcp-mux (RFC 5761): this side offers or
				accepts RTCP on the RTP port */
	int inactive;        /* a=inactive */
};

/*
 * Parse len bytes of body (CRLF or LF line ends; NUL bytes are an error)
 * into out[0..max-1], max <= SDP_MAX_MEDIA. *n is set to the number of m=
 * lines stored, also on error (then out[] may be partly filled: do not use
 * it). *why is a static string saying what is wrong (or "ok"); neither n
 * nor why may be NULL.
 */
enum sdp_status sdp_parse(const char *body, size_t len, struct sdp_media *out,
    size_t max, size_t *n, const char **why);

/* "ok", "malformed", ... for a status. */
const char *sdp_status_str(enum sdp_status st);

#endif /* SDP_H */
