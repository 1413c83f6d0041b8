/* sdp.c - the media endpoints of an SDP body, for the pinhole service. */
#include "services/sdp.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#define MAX_TOKENS 8

/* A piece of the body: not NUL-terminated. */
struct span {
	const char *p;
	size_t len;
};

/* Direction attributes seen in a section. */
enum dir { DIR_NONE, DIR_INACTIVE, DIR_ACTIVE };

struct parse {
	enum sdp_status st;
	const char *why;
	/* session level */
	int seen_v;
	int have_conn;
	struct sdp_endpoint conn;
	enum dir dir;
	/* the media section being read, if any */
	struct sdp_media *m;
	int m_have_conn;
	struct sdp_endpoint m_conn;
	enum dir m_dir;
};

static int
fail(struct parse *ps, enum sdp_status st, const char *why)
{
	if (ps->st == SDP_OK) {
		ps->st = st;
		ps->why = why;
	}
	return -1;
}

static int
span_is(struct span s, const char *lit)
{
	return s.len == strlen(lit) && memcmp(s.p, lit, s.len) == 0;
}

static int
span_is_nocase(struct span s, const char *lit)
{
	return s.len == strlen(lit) && strncasecmp(s.p, lit, s.len) == 0;
}

/* Split on runs of spaces into at most max tokens; the count, or max + 1
 * when there are more. */
static size_t
tokens(struct span s, struct span *tok, size_t max)
{
	size_t n = 0, i = 0, start;

	while (i < s.len) {
		while (i < s.len && s.p[i] == ' ')
			i++;
		if (i == s.len)
			break;
		if (n == max)
			return max + 1;
		start = i;
		while (i < s.len && s.p[i] != ' ')
			i++;
		tok[n].p = s.p + start;
		tok[n].len = i - start;
		n++;
	}
	return n;
}

/* Decimal digits only (strtoul() would take signs and spaces), at most 5
 * of them, value <= max. */
static int
number(struct span s, unsigned max, unsigned *out)
{
	unsigned v = 0;
	size_t i;

	if (s.len == 0 || s.len > 5)
		return -1;
	for (i = 0; i < s.len; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s.p[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

/* The characters of a host name (RFC 8866 FQDN, loosely). */
static int
hostname_like(struct span s)
{
	size_t i;

	for (i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.'))
			return 0;
	}
	return s.len > 0;
}

static int
is_multicast(int family, const unsigned char *a)
{
	return family == AF_INET ? (a[0] & 0xf0) == 0xe0 : a[0] == 0xff;
}

/*
 * nettype addrtype address (c= and a=rtcp) -> an endpoint's conn, family
 * and addr. Always succeeds: what cannot be used is reported in conn.
 */
static void
address(struct span net, struct span type, struct span addr,
    struct sdp_endpoint *ep)
{
	char text[64];
	struct span base = addr;
	const char *slash;
	int family;

	ep->conn = SDP_CONN_OTHER;
	ep->family = AF_UNSPEC;
	memset(ep->addr, 0, sizeof(ep->addr));
	if (!span_is(net, "IN"))
		return;
	if (span_is(type, "IP4"))
		family = AF_INET;
	else if (span_is(type, "IP6"))
		family = AF_INET6;
	else
		return;
	/* "224.2.1.1/127[/3]": a multicast TTL and count; unicast has none */
	if ((slash = memchr(addr.p, '/', addr.len)) != NULL)
		base.len = (size_t)(slash - addr.p);
	if (base.len == 0 || base.len >= sizeof(text))
		return;
	memcpy(text, base.p, base.len);
	text[base.len] = '\0';
	if (inet_pton(family, text, ep->addr) == 1) {
		if (is_multicast(family, ep->addr)) {
			ep->conn = SDP_CONN_MULTICAST;
			ep->family = family;
		} else if (slash == NULL) {
			ep->conn = SDP_CONN_IP;
			ep->family = family;
		} else
			memset(ep->addr, 0, sizeof(ep->addr));
		return;
	}
	/* An IP4 literal under IP6 and the reverse stay OTHER. */
	if (slash == NULL && strchr(text, ':') == NULL &&
	    inet_pton(family == AF_INET ? AF_INET6 : AF_INET, text,
	    ep->addr) != 1 && hostname_like(base))
		ep->conn = SDP_CONN_HOSTNAME;
	memset(ep->addr, 0, sizeof(ep->addr));
}

/* c=IN IP4 192.0.2.1 */
static int
line_c(struct parse *ps, struct span v)
{
	struct span tok[MAX_TOKENS];
	struct sdp_endpoint ep;

	if (tokens(v, tok, MAX_TOKENS) != 3)
		return fail(ps, SDP_MALFORMED, "c= line: not three fields");
	address(tok[0], tok[1], tok[2], &ep);
	if (ps->m == NULL) {
		if (ps->have_conn)
			return fail(ps, SDP_MALFORMED,
			    "several c= lines at session level");
		ps->have_conn = 1;
		ps->conn = ep;
	} else if (ps->m_have_conn) {
		/* Layered multicast may list several: not for a pinhole. */
		ps->m_conn.conn = SDP_CONN_OTHER;
		ps->m_conn.family = AF_UNSPEC;
		memset(ps->m_conn.addr, 0, sizeof(ps->m_conn.addr));
	} else {
		ps->m_have_conn = 1;
		ps->m_conn = ep;
	}
	return 0;
}

/* Protocol and RTP-ness of an m= line's transport, by its first part. */
static void
transport(struct sdp_media *m, struct span t)
{
	struct span first = t;
	const char *slash = memchr(t.p, '/', t.len);
	size_t i, start = 0;

	if (slash != NULL)
		first.len = (size_t)(slash - t.p);
	if (span_is_nocase(first, "TCP"))
		m->rtp_ep.proto = IPPROTO_TCP;
	else if (span_is_nocase(first, "UDP") ||
	    span_is_nocase(first, "udptl") || span_is_nocase(first, "RTP"))
		m->rtp_ep.proto = IPPROTO_UDP;
	else
		m->rtp_ep.proto = 0;
	m->rtp = 0;
	for (i = 0; i <= t.len; i++) {
		if (i == t.len || t.p[i] == '/') {
			struct span part = { t.p + start, i - start };

			if (span_is_nocase(part, "RTP"))
				m->rtp = 1;
			start = i + 1;
		}
	}
}

/* The end of a media section: apply the session level where the media
 * level said nothing, and derive RTCP's endpoint. */
static void
media_end(struct parse *ps)
{
	struct sdp_media *m = ps->m;
	struct sdp_endpoint ep;

	if (m == NULL)
		return;
	ep = m->rtp_ep;
	if (ps->m_have_conn)
		ep = ps->m_conn;
	else if (ps->have_conn)
		ep = ps->conn;
	else {
		ep.conn = SDP_CONN_NONE;
		ep.family = AF_UNSPEC;
		memset(ep.addr, 0, sizeof(ep.addr));
	}
	ep.port = m->rtp_ep.port;
	ep.proto = m->rtp_ep.proto;
	m->rtp_ep = ep;
	m->inactive = (ps->m_dir != DIR_NONE ? ps->m_dir : ps->dir) ==
	    DIR_INACTIVE;
	m->has_rtcp = m->rtp && !m->rejected;
	if (!m->has_rtcp) {
		memset(&m->rtcp, 0, sizeof(m->rtcp));
		m->rtcp.conn = SDP_CONN_NONE;
	} else if (!m->rtcp_attr) {
		m->rtcp = m->rtp_ep;
		m->rtcp.port = m->rtp_ep.port + 1;
	} else {
		if (m->rtcp.conn == SDP_CONN_NONE) { /* a=rtcp:port only */
			ep = m->rtp_ep;
			ep.port = m->rtcp.port;
			m->rtcp = ep;
		}
		m->rtcp.proto = m->rtp_ep.proto;
	}
	ps->m = NULL;
}

/* m=audio 49170[/2] RTP/AVP 0 8 */
static int
line_m(struct parse *ps, struct span v, struct sdp_media *m)
{
	struct span tok[MAX_TOKENS], port = { NULL, 0 }, count = { NULL, 0 };
	const char *slash;
	unsigned last;

	memset(m, 0, sizeof(*m));
	ps->m = m;
	ps->m_have_conn = 0;
	ps->m_dir = DIR_NONE;
	/* at least media, port and transport; formats are not read */
	if (tokens(v, tok, 3) < 3)
		return fail(ps, SDP_MALFORMED, "m= line: fewer than 3 fields");
	if (tok[0].len >= sizeof(m->media) || !hostname_like(tok[0]))
		return fail(ps, SDP_MALFORMED, "m= line: bad media type");
	if (tok[2].len >= sizeof(m->transport))
		return fail(ps, SDP_MALFORMED, "m= line: transport too long");
	memcpy(m->media, tok[0].p, tok[0].len);
	memcpy(m->transport, tok[2].p, tok[2].len);
	transport(m, tok[2]);
	port = tok[1];
	m->nports = 1;
	if ((slash = memchr(port.p, '/', port.len)) != NULL) {
		count.p = slash + 1;
		count.len = port.len - (size_t)(count.p - port.p);
		port.len = (size_t)(slash - port.p);
		if (number(count, 65535, &m->nports) != 0 || m->nports == 0)
			return fail(ps, SDP_MALFORMED,
			    "m= line: bad number of ports");
	}
	if (number(port, 65535, &m->rtp_ep.port) != 0)
		return fail(ps, SDP_MALFORMED, "m= line: bad port");
	if (m->rtp_ep.port == 0) {
		m->rejected = 1;
		return 0;
	}
	/* the last port used, RTCP included */
	last = m->rtp_ep.port + (m->rtp ? 2 * m->nports : m->nports) - 1;
	if (last > 65535)
		return fail(ps, SDP_MALFORMED, "m= line: ports past 65535");
	return 0;
}

/* a=rtcp:53020 [IN IP4 126.16.64.4] (RFC 3605) */
static int
attr_rtcp(struct parse *ps, struct span v)
{
	struct span tok[MAX_TOKENS];
	struct sdp_media *m = ps->m;
	size_t n = tokens(v, tok, MAX_TOKENS);

	if (m->rtcp_attr)
		return fail(ps, SDP_MALFORMED, "several a=rtcp in a stream");
	if ((n != 1 && n != 4) || number(tok[0], 65535, &m->rtcp.port) != 0 ||
	    m->rtcp.port == 0)
		return fail(ps, SDP_MALFORMED, "a=rtcp: bad value");
	m->rtcp_attr = 1;
	m->rtcp.conn = SDP_CONN_NONE;
	if (n == 4) {
		address(tok[1], tok[2], tok[3], &m->rtcp);
		if (m->rtcp.conn == SDP_CONN_NONE)
			m->rtcp.conn = SDP_CONN_OTHER;
	}
	return 0;
}

static int
line_a(struct parse *ps, struct span v)
{
	const char *colon = memchr(v.p, ':', v.len);
	struct span name = v, value = { v.p + v.len, 0 };
	enum dir *dir = ps->m != NULL ? &ps->m_dir : &ps->dir;

	if (colon != NULL) {
		name.len = (size_t)(colon - v.p);
		value.p = colon + 1;
		value.len = v.len - name.len - 1;
	}
	if (span_is(name, "inactive"))
		*dir = DIR_INACTIVE;
	else if (span_is(name, "sendrecv") || span_is(name, "sendonly") ||
	    span_is(name, "recvonly"))
		*dir = DIR_ACTIVE;
	else if (ps->m == NULL || ps->m->rejected)
		return 0; /* a=rtcp and a=rtcp-mux are media level only */
	else if (span_is(name, "rtcp-mux"))
		ps->m->rtcp_mux = 1;
	else if (span_is(name, "rtcp"))
		return attr_rtcp(ps, value);
	return 0;
}

/* One line without its end; the media array for an m= line. */
static int
line(struct parse *ps, struct span l, struct sdp_media *out, size_t max,
    size_t *n)
{
	struct span v;
	size_t i;

	for (i = 0; i < l.len; i++)
		if (l.p[i] == '\0' || l.p[i] == '\r')
			return fail(ps, SDP_MALFORMED, "NUL or CR in a line");
	if (l.len < 2 || l.p[1] != '=' || l.p[0] < 'a' || l.p[0] > 'z')
		return fail(ps, SDP_MALFORMED, "a line is not x=value");
	v.p = l.p + 2;
	v.len = l.len - 2;
	if (!ps->seen_v) {
		if (l.p[0] != 'v' || !span_is(v, "0"))
			return fail(ps, SDP_MALFORMED,
			    "does not start with v=0");
		ps->seen_v = 1;
		return 0;
	}
	switch (l.p[0]) {
	case 'v':
		return fail(ps, SDP_MALFORMED, "a second v= line");
	case 'c':
		return line_c(ps, v);
	case 'a':
		return line_a(ps, v);
	case 'm':
		media_end(ps);
		if (*n >= max)
			return fail(ps, SDP_TOO_MANY, "too many m= lines");
		return line_m(ps, v, &out[(*n)++]);
	default:
		return 0;
	}
}

enum sdp_status
sdp_parse(const char *body, size_t len, struct sdp_media *out, size_t max,
    size_t *n, const char **why)
{
	struct parse ps;
	struct span l;
	const char *end = body + len, *p = body, *nl;

	memset(&ps, 0, sizeof(ps));
	ps.why = "ok";
	*n = 0;
	if (max > SDP_MAX_MEDIA)
		max = SDP_MAX_MEDIA;
	if (len > SDP_MAX_BODY)
		fail(&ps, SDP_TOO_BIG, "body too big");
	while (ps.st == SDP_OK && p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		l.p = p;
		l.len = (size_t)(nl - p);
		p = nl < end ? nl + 1 : end;
		if (l.len > 0 && l.p[l.len - 1] == '\r')
			l.len--;
		if (l.len > SDP_MAX_LINE)
			fail(&ps, SDP_TOO_BIG, "line too long");
		else if (l.len > 0)
			line(&ps, l, out, max, n);
	}
	if (ps.st == SDP_OK && !ps.seen_v)
		fail(&ps, SDP_MALFORMED, "empty");
	if (ps.st == SDP_OK)
		media_end(&ps);
	*why = ps.why;
	return ps.st;
}

const char *
sdp_status_str(enum sdp_status st)
{
	switch (st) {
	case SDP_OK:
		return "ok";
	case SDP_MALFORMED:
		return "malformed";
	case SDP_TOO_BIG:
		return "too big";
	case SDP_TOO_MANY:
		return "too many media";
	}
	return "?";
}
