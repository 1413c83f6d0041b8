/* agent.c - nta agent creation, transports, self recognition. */
#include "proxyd/agent.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <sofia-sip/su_log.h>
#include <sofia-sip/tport.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/tport_tag.h>
#include <sofia-sip/nta_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/su_tag_io.h>

#include "common/log.h"
#include "common/monoclock.h"
#include "crypto/tlsping.h"
#include "proxyd/keepalive.h"
#include "proxyd/sofia/parsefix.h"
#include "proxyd/sofia/sockfind.h"
#include "proxyd/sofia/streamlag.h"
#include "proxyd/sofia/recvhook.h"
#include "proxyd/sofia/srcguard.h"
#include "proxyd/sofia/hdrguard.h"
#include "proxyd/sofia/connlimit.h"
#include "proxyd/sofia/fdreserve.h"
#include "proxyd/sofia/streamguard.h"
#include "proxyd/sofia/tcpclamp.h"
#include "proxyd/sofia/tporterr.h"
#include "proxyd/sofia/tlscheck.h"

#define TLS_DIR_MAX 512
#define STREAM_RCVBUF (32 * 1024) /* the kernel doubles it */
/*
 * The largest segment we let a peer send us (TCP_MAXSEG: the MSS we
 * advertise). The window such a receive buffer opens is about 31 KiB,
 * under loopback's MSS (64 KiB, MTU 65536): a sender must not send a
 * segment beyond the window nor, avoiding silly windows, less than a
 * full one while more is queued, so it stopped in its persist timer
 * (backing off 200 ms, 400 ms, ...) with megabytes queued and our buffer
 * empty. That was what held TCP legs at 3,000 calls/s on 127.0.0.1
 * (INVITE p50 1.4-16 s, docs/performance.md). 8 KiB keeps several
 * segments in the window; on Ethernet (MSS 1460) it changes nothing.
 */
#define STREAM_MSS (8 * 1024)

struct agent {
	const struct conf *conf;
	su_home_t home[1];
	nta_agent_t *nta;
	/* Record-Route entries by enum conf_transport (sip:addr:port;lr,
	 * sip:addr:port;transport=tcp;lr, sips:addr:port;lr), then by
	 * address family (fam_index()). */
	url_t *rr[CONF_TP_TLS + 1][2];
	const char **names; /* own_names, then listener addresses */
	size_t nnames;
	struct event *ev_streams; /* streamguard's sweep */
};

extern su_log_t nta_log[];
extern su_log_t tport_log[];

static void
sofia_logger(void *stream, char const *fmt, va_list ap)
{
	char buf[1024];
	size_t n;

	(void)stream;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	/* In SIP trace mode whole messages come through here (TPTAG_LOG). */
	if (n > 0)
		log_msg(log_trace_enabled() ? LOG_INFO : LOG_DEBUG, "sofia: %s",
		    buf);
}

void
agent_redirect_sofia_logs(unsigned level)
{

	su_log_redirect(NULL, sofia_logger, NULL);
	su_log_redirect(nta_log, sofia_logger, NULL);
	su_log_redirect(tport_log, sofia_logger, NULL);
	su_log_set_level(NULL, level);
	su_log_set_level(nta_log, level);
	su_log_set_level(tport_log, level);
}

static char *
host_literal(su_home_t *home, const char *addr)
{
	if (strchr(addr, ':') != NULL)
		return su_sprintf(home, "[%s]", addr);
	return su_strdup(home, addr);
}

static char *
listen_url(su_home_t *home, const struct conf_listen *li)
{
	char *host = host_literal(home, li->address);

	if (li->transport == CONF_TP_TLS)
		return su_sprintf(home, "sips:%s:%d", host, li->port);
	return su_sprintf(home, "sip:%s:%d;transport=%s", host, li->port,
	    conf_transport_name(li->transport));
}

static int
copy_file(FILE *out, const char *path)
{
	FILE *in;
	char buf[4096];
	size_t n;
	int rc = 0;

	if ((in = fopen(path, "r")) == NULL) {
		log_warnx("cannot read %s", path);
		return -1;
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			rc = -1;
	if (ferror(in))
		rc = -1;
	fclose(in);
	return rc;
}

/*
 * Sofia 1.12 takes TLS material only as a directory holding agent.pem
 * (key and certificate) and cafile.pem. Build one, private, and remove it
 * once the transport has read it.
 */
static int
tls_dir_make(char *dir, size_t dirsz, const struct conf *c)
{
	const char *tmp = getenv("TMPDIR");
	char path[TLS_DIR_MAX + 32];
	FILE *f;
	int rc = 0;
	mode_t old;

	if (tmp == NULL || strlen(tmp) > TLS_DIR_MAX - 32)
		tmp = "/tmp";
	snprintf(dir, dirsz, "%s/e2mproxyd-tls.XXXXXX", tmp);
	if (mkdtemp(dir) == NULL) {
		log_warnx("mkdtemp %s", dir);
		return -1;
	}
	old = umask(077);
	snprintf(path, sizeof(path), "%s/agent.pem", dir);
	if ((f = fopen(path, "w")) == NULL ||
	    copy_file(f, c->tls_key) == -1 ||
	    copy_file(f, c->tls_certificate) == -1)
		rc = -1;
	if (f != NULL && fclose(f) != 0)
		rc = -1;
	snprintf(path, sizeof(path), "%s/cafile.pem", dir);
	if (rc == 0 && ((f = fopen(path, "w")) == NULL ||
	    copy_file(f, c->tls_ca_file) == -1 || fclose(f) != 0))
		rc = -1;
	umask(old);
	return rc;
}

static void
tls_dir_remove(const char *dir)
{
	char path[TLS_DIR_MAX + 32];

	snprintf(path, sizeof(path), "%s/agent.pem", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/cafile.pem", dir);
	unlink(path);
	rmdir(dir);
}

/* SUBJECTS_OUT: Sofia compares the next hop's name after the handshake;
 * the comparison itself is OpenSSL's (sofia/tlscheck.h). */
static unsigned
tls_policy(const struct conf *c)
{
	unsigned p = TPTLS_VERIFY_NONE;

	if (c->tls_verify_server)
		p |= TPTLS_VERIFY_SUBJECTS_OUT;
	if (c->tls_verify_client)
		p |= TPTLS_VERIFY_INCOMING;
	return p;
}

/*
 * Sofia reads all a TCP socket holds in one go and splits it into messages
 * by copying the unparsed rest into the next message, while each message
 * keeps its whole buffer. So N bytes of pipelined requests cost about N*N/2
 * bytes, held as long as the transactions: a peer that gets ahead of us
 * (or wants to) could make us use gigabytes. A small receive buffer bounds
 * one read. Accepted sockets inherit it (and the MSS, and
 * sip.send_timeout's TCP_USER_TIMEOUT: tcpclamp.c sets all three) from the
 * listening socket, which Sofia does not expose: find it among our
 * descriptors by its port.
 */
static void
clamp_stream_rcvbuf(const struct conf_listen *li)
{
	int fds[8], n, i;

	n = sockfind(SOCK_STREAM, li->port, fds, 8);
	for (i = 0; i < n; i++) {
		tcpclamp_socket(fds[i]);
		streamguard_add_listener(fds[i]);
	}
}

static void
sweep_streams(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	streamguard_sweep(monoclock_coarse_ms());
}

/*
 * Stalled, slow-dripped and non-SIP TCP/TLS connections closed in seconds
 * (sip.message_timeout, streamguard.h), checked twice a second: a bound
 * of timeout + 0.5 s.
 */
static int
guard_streams(struct agent *a, struct loop *l)
{
	struct timeval tv = { 0, 500000 };

	streamguard_init(a->conf->message_timeout_s * 1000u);
	if (a->conf->message_timeout_s == 0)
		return 0;
	recvhook_observe(streamguard_recvmsg);
	tlsping_observe(streamguard_bytes);
	a->ev_streams = event_new(loop_base(l), -1, EV_PERSIST, sweep_streams,
	    NULL);
	if (a->ev_streams == NULL || event_add(a->ev_streams, &tv) != 0)
		return -1;
	return 0;
}

/* hdrguard.c follows the connections accepted on a TCP or TLS
 * listener (escaped NULs, header sections too large for Sofia). */
static void
follow_streams(const struct conf_listen *li)
{
	int fds[8], n, i;

	n = sockfind(SOCK_STREAM, li->port, fds, 8);
	for (i = 0; i < n; i++)
		if (hdrguard_add_listener(fds[i]) != 0)
			log_warnx("more TCP/TLS listeners than the stream guard "
			    "can follow: %u is not", li->port);
}

/* srcguard.c watches the UDP listeners: the datagram budget
 * (sip.source_rate) when set, STUN keep-alives always (keepalive.c). */
static void
guard_datagrams(const struct conf_listen *li)
{
	int fds[8], n, i;

	n = sockfind(SOCK_DGRAM, li->port, fds, 8);
	for (i = 0; i < n; i++)
		if (srcguard_add_fd(fds[i]) != 0)
			log_warnx("more UDP sockets than the datagram filter "
			    "can watch: %u is not limited and does not "
			    "answer STUN", li->port);
}

/*
 * Messages a TCP or TLS connection holds while it cannot send (still
 * connecting, or the peer reads slowly). Sofia's default, 64, failed the
 * 65th request of a burst to a next hop the proxy had no connection to
 * yet with a transport error (500 upstream), where the connection was up
 * a millisecond later. The messages are held anyway; this only lets more
 * of them wait.
 */
#define STREAM_QUEUE 4096

static int
add_listener(struct agent *a, const struct conf_listen *li)
{
	const struct conf *c = a->conf;
	char *url = listen_url(a->home, li);
	char dir[TLS_DIR_MAX];
	int rc;

	/*
	 * RFC 5626 keep-alives (4.4.1): a CRLFCRLF ping on a TCP connection
	 * gets a CRLF pong: Sofia's (PONG2PING) on TCP, ours on TLS, where
	 * Sofia has none (crypto/tlsping.c).
	 * STUN on UDP is ours (keepalive.c), so Sofia's RFC 3489 server,
	 * on by default, is off.
	 */
	if (li->transport != CONF_TP_TLS) {
		rc = nta_agent_add_tport(a->nta, URL_STRING_MAKE(url),
		    TPTAG_UDP_RMEM(c->udp_buffer),
		    TPTAG_UDP_WMEM(c->udp_buffer),
		    TPTAG_QUEUESIZE(STREAM_QUEUE),
		    TPTAG_PONG2PING(1), TPTAG_STUN_SERVER(0),
		    TPTAG_IDLE(c->idle_timeout_s * 1000u),
		    TAG_END());
	} else {
		if (tls_dir_make(dir, sizeof(dir), c) == -1) {
			tls_dir_remove(dir);
			log_error("cannot prepare TLS material for %s", url);
			return -1;
		}
		/* Without VERIFY_DATE Sofia accepts expired peers. */
		rc = nta_agent_add_tport(a->nta, URL_STRING_MAKE(url),
		    TPTAG_CERTIFICATE(dir),
		    TPTAG_TLS_VERIFY_POLICY(tls_policy(c)),
		    TPTAG_TLS_VERIFY_DATE(1), TPTAG_TLS_VERIFY_DEPTH(8),
		    TPTAG_QUEUESIZE(STREAM_QUEUE),
		    TPTAG_PONG2PING(1), TPTAG_STUN_SERVER(0),
		    TPTAG_IDLE(c->idle_timeout_s * 1000u),
		    TAG_END());
		tls_dir_remove(dir);
		/* Names by OpenSSL's rules, failed handshakes reported at
		 * once (sofia/tlscheck.h). */
		if (rc >= 0)
			tlscheck_enable(c->tls_verify_server);
		if (rc >= 0 && tlsping_enable() != 0)
			log_warnx("CRLF keep-alives on TLS will not be answered "
			    "(no room in OpenSSL for the connection flag)");
	}
	if (rc < 0) {
		log_error("cannot listen on %s: %s", url, strerror(errno));
		return -1;
	}
	if (li->transport != CONF_TP_UDP) {
		follow_streams(li);
		clamp_stream_rcvbuf(li);
	} else {
		guard_datagrams(li);
	}
	log_info("listening on %s", url);
	return 0;
}

/* Index of rr[][]: by address family. */
static int
fam_index(int family)
{
	return family == AF_INET6;
}

/*
 * The first listener of each transport and address family is the one our
 * Record-Route entries name: a peer sends the dialog's requests over the
 * transport the entry facing it says (RFC 3263 4.1 on a Route URI: UDP
 * when it says nothing), to an address of the family it reached us by.
 * The host is the one Sofia puts in our Via for that listener: its
 * address, or for a wildcard (0.0.0.0, ::) the address Sofia found for
 * this host; never the wildcard itself, which a peer cannot send to.
 */
static void
set_rr_urls(struct agent *a)
{
	tport_t *tp;
	const tp_name_t *n;
	const su_addrinfo_t *ai;
	const char *host, *fmt;
	enum conf_transport k;
	int f;

	for (tp = tport_primaries(nta_agent_tports(a->nta)); tp != NULL;
	    tp = tport_next(tp)) {
		n = tport_name(tp);
		ai = tport_get_address(tp);
		if (n == NULL || ai == NULL || ai->ai_canonname == NULL)
			continue;
		k = tport_has_tls(tp) ? CONF_TP_TLS :
		    strcasecmp(n->tpn_proto, "udp") == 0 ? CONF_TP_UDP :
		    CONF_TP_TCP;
		f = fam_index(ai->ai_family);
		if (a->rr[k][f] != NULL)
			continue;
		host = ai->ai_canonname;
		if (strchr(host, ':') != NULL && host[0] != '[')
			host = su_sprintf(a->home, "[%s]", host);
		fmt = k == CONF_TP_TLS ? "sips:%s:%s;lr" : k == CONF_TP_TCP ?
		    "sip:%s:%s;transport=tcp;lr" : "sip:%s:%s;lr";
		a->rr[k][f] = url_make(a->home, su_sprintf(a->home, fmt, host,
		    n->tpn_port));
	}
}

/*
 * Sofia flags a stream as "too large" when what it has buffered from a TCP
 * connection passes this size, even if that is many small pipelined
 * messages; then it closes the connection. So it is only a memory cap per
 * connection; sip.max_message_size is enforced per message by the proxy.
 */
static unsigned
stream_limit(const struct conf *c)
{
	unsigned cap = 4U * 1024 * 1024;

	return c->max_message_size * 16U > cap ? c->max_message_size * 16U :
	    cap;
}

/* A TCP header section past this is cut (hdrguard.h): larger than
 * any message the proxy takes (sip.max_message_size; then 413), well
 * within Sofia's buffer (stream_limit()). */
size_t
agent_header_limit(const struct conf *c)
{
	return (size_t)c->max_message_size + 4096;
}

/* What a Proxy-Inspect-Body value may call us: configured names first. */
static int
set_names(struct agent *a)
{
	const struct conf *c = a->conf;
	size_t i, n = 0;

	a->names = su_zalloc(a->home,
	    (c->nown_names + c->nlisten + 1) * sizeof(*a->names));
	if (a->names == NULL)
		return -1;
	for (i = 0; i < c->nown_names; i++)
		a->names[n++] = c->own_names[i];
	for (i = 0; i < c->nlisten; i++)
		a->names[n++] = c->listen[i].address;
	a->nnames = n;
	return 0;
}

/* Sources tracked by the datagram budget (about 50 bytes each). */
#define GUARD_SOURCES 65536

static void
report_drops(uint64_t dropped, const char *last)
{
	log_warnx("dropped %llu datagrams over sip.source_rate so far "
	    "(last from %s)", (unsigned long long)dropped, last);
}

/* A response datagram cut short, discarded unparsed (srcguard.h). */
static void
report_cut(const struct sockaddr *from, const char *why)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (from->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)from;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
	} else if (from->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)from;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
	}
	log_debug("response from %s port %u discarded, cut short (%s)",
	    host, port, why);
}

struct agent *
agent_new(struct loop *l, const struct conf *c, nta_message_f *stray,
    nta_agent_magic_t *magic)
{
	struct agent *a;
	size_t i;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	su_home_init(a->home);
	a->conf = c;
	tcpclamp_set(STREAM_RCVBUF, STREAM_MSS, c->send_timeout_s * 1000u);
	/* a read of three quarters of the buffer found the sender's input
	 * waiting (the window a 32 KiB buffer opens is about 31 KiB) */
	streamlag_set_full(STREAM_RCVBUF * 3 / 4);
	tporterr_enable();
	if (parsefix_install() != 0) {
		log_error("out of memory for the SIP parser table");
		goto fail;
	}
	if (srcguard_init(c->source_rate, c->source_burst, GUARD_SOURCES,
	    c->source_exempt, c->nsource_exempt) != 0) {
		log_error("out of memory for the datagram budget");
		goto fail;
	}
	if (hdrguard_init(agent_header_limit(c)) != 0) {
		log_error("cannot start the TCP stream guard");
		goto fail;
	}
	srcguard_report(report_drops);
	srcguard_on_cut(report_cut);
	keepalive_start();
	if (connlimit_init(c->max_connections_per_source) != 0) {
		log_error("out of memory");
		goto fail;
	}
	if (fdreserve_init() != 0)
		log_warn("no descriptor held in reserve: a flood of connections "
		    "past the descriptor limit will busy the loop");
	if (guard_streams(a, l) != 0) {
		log_error("cannot start the stream connection sweep");
		goto fail;
	}
	/*
	 * Sofia's message log (whole messages, bodies too) is switched by its
	 * environment when the transports are created; TPTAG_LOG given to
	 * nta_agent_create() does not reach them. Only our SIP trace mode may
	 * turn it on.
	 */
	unsetenv("MSG_STREAM_LOG");
	if (c->sip_trace)
		setenv("TPORT_LOG", "1", 1);
	else
		unsetenv("TPORT_LOG");
	/* NTATAG_UA(0): we are a proxy; CANCEL_487(0): the UAS sends 487.
	 * PASS_408(1): nta drops a 408 to a non-INVITE by default (RFC
	 * 4320), so over TCP and TLS a MESSAGE whose next hop was silent got
	 * no answer at all (the caller waited out its own Timer F) while
	 * over UDP (owntx.c) it got the 408; our transaction_timeout may be
	 * far shorter than the caller's, so the 408 is worth sending. */
	a->nta = nta_agent_create(loop_root(l), (url_string_t *)-1, stray,
	    magic, NTATAG_UA(0), NTATAG_CANCEL_487(0), NTATAG_PASS_408(1),
	    NTATAG_SERVER_RPORT(1), NTATAG_CLIENT_RPORT(1),
	    NTATAG_TCP_RPORT(1), NTATAG_UDP_MTU(c->udp_mtu),
	    NTATAG_MAXSIZE(stream_limit(c)),
	    NTATAG_SIP_T1X64(c->transaction_timeout_ms),
	    NTATAG_MERGE_482(0), NTATAG_EXTRA_100(0),
	    TPTAG_STUN_SERVER(0),
	    /* Each header field's received bytes kept: wirecopy.c. */
	    NTATAG_SIPFLAGS(MSG_DO_CANONIC | MSG_DO_EXTRACT_COPY),
	    TAG_END());
	if (a->nta == NULL) {
		log_error("cannot create the SIP agent");
		goto fail;
	}
	for (i = 0; i < c->nlisten; i++)
		if (add_listener(a, &c->listen[i]) == -1)
			goto fail;
	set_rr_urls(a);
	if (set_names(a) == -1)
		goto fail;
	return a;
fail:
	agent_free(a);
	return NULL;
}

void
agent_free(struct agent *a)
{
	if (a == NULL)
		return;
	if (a->nta != NULL)
		nta_agent_destroy(a->nta);
	srcguard_reset();
	if (a->ev_streams != NULL)
		event_free(a->ev_streams);
	recvhook_observe(NULL);
	tlsping_observe(NULL);
	streamguard_reset();
	fdreserve_reset();
	connlimit_reset();
	hdrguard_reset();
	tporterr_reset();
	su_home_deinit(a->home);
	free(a);
}

const char *const *
agent_own_names(const struct agent *a, size_t *n)
{
	*n = a->nnames;
	return a->names;
}

nta_agent_t *
agent_nta(const struct agent *a)
{
	return a->nta;
}

/* Transport tp's entry for family index f, else its other family's. */
static const url_t *
rr_of(const struct agent *a, enum conf_transport tp, int f)
{
	return a->rr[tp][f] != NULL ? a->rr[tp][f] : a->rr[tp][!f];
}

const url_t *
agent_rr_url(const struct agent *a, enum conf_transport tp, int family)
{
	int f = fam_index(family);
	const url_t *u = rr_of(a, tp, f);

	/* No listener of that transport: then nothing came or goes over
	 * it; any entry of ours is better than none. */
	if (u == NULL)
		u = rr_of(a, CONF_TP_UDP, f);
	if (u == NULL)
		u = rr_of(a, CONF_TP_TCP, f);
	return u != NULL ? u : rr_of(a, CONF_TP_TLS, f);
}

int
agent_listens(const struct agent *a, enum conf_transport tp)
{
	return rr_of(a, tp, 0) != NULL;
}

/* Ports compare as numbers with the scheme's default filled in. */
static unsigned
url_port_num(const url_t *u)
{
	if (u->url_port != NULL && u->url_port[0] != '\0')
		return (unsigned)strtoul(u->url_port, NULL, 10);
	return u->url_type == url_sips ? 5061 : 5060;
}

/* Strip [] from IPv6 references so "[::1]" equals "::1". */
static int
host_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (a[0] == '[' && la > 2) {
		a++;
		la -= 2;
	}
	if (b[0] == '[' && lb > 2) {
		b++;
		lb -= 2;
	}
	return la == lb && strncasecmp(a, b, la) == 0;
}

int
agent_is_me(const struct agent *a, const url_t *u)
{
	const struct conf *c = a->conf;
	const sip_via_t *v;
	unsigned port;
	size_t i;

	if (u == NULL || u->url_host == NULL ||
	    (u->url_type != url_sip && u->url_type != url_sips))
		return 0;
	port = url_port_num(u);
	for (i = 0; i < c->nown_names; i++)
		if (host_eq(c->own_names[i], u->url_host))
			return 1;
	for (i = 0; i < c->nlisten; i++) {
		const struct conf_listen *li = &c->listen[i];

		if ((unsigned)li->port != port)
			continue;
		if (host_eq(li->address, u->url_host))
			return 1;
	}
	/* Wildcard listeners: Sofia lists the addresses it really bound. */
	for (v = nta_agent_via(a->nta); v != NULL; v = v->v_next) {
		unsigned vport = v->v_port ? (unsigned)atoi(v->v_port) :
		    (strcasecmp(v->v_protocol, sip_transport_tls) == 0 ?
		    5061 : 5060);

		if (vport == port && host_eq(v->v_host, u->url_host))
			return 1;
	}
	return 0;
}
