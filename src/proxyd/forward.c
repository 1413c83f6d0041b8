/*
 * forward.c - the copy of a request that goes downstream (RFC 3261 16.6):
 * Max-Forwards, the Route set (a strict-routing previous hop undone, our
 * own entries removed), the next hop (Route, routing rules, or the
 * request-URI), Record-Route, one client transaction; and the stateless
 * forwarding of an ACK to a 2xx.
 */
#include "proxyd/ptx.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <strings.h>

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nta.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/tport.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_util.h>
#include <sofia-sip/hostdomain.h>

#include "common/log.h"
#include "common/monoclock.h"
#include "proxyd/agent.h"
#include "proxyd/conf.h"
#include "proxyd/route.h"
#include "proxyd/terminate.h"
#include "proxyd/wirecopy.h"

static void
set_max_forwards(struct ptx *t, sip_t *fsip)
{
	char val[16];
	unsigned n = (unsigned)t->st->conf->max_forwards;

	if (fsip->sip_max_forwards != NULL) {
		/* In its place: the other fields keep their order. */
		fsip->sip_max_forwards->mf_count--;
		msg_fragment_clear(fsip->sip_max_forwards->mf_common);
		return;
	}
	snprintf(val, sizeof(val), "%u", n);
	sip_add_make(t->fwd, fsip, sip_max_forwards_class, val);
}

/* RFC 3261 16.4: strict-routing previous hop, then our own Routes. */
static void
fix_route(struct ptx *t, sip_t *fsip)
{
	struct proxy *px = t->px;
	sip_route_t *r, *last;

	if (fsip->sip_route != NULL &&
	    agent_is_me(px->agent, fsip->sip_request->rq_url) &&
	    fsip->sip_request->rq_url->url_user == NULL) {
		for (last = fsip->sip_route; last->r_next; last = last->r_next)
			;
		fsip->sip_request->rq_url[0] = last->r_url[0];
		msg_fragment_clear(fsip->sip_request->rq_common);
		sip_header_remove(t->fwd, fsip, (sip_header_t *)last);
	}
	while ((r = fsip->sip_route) != NULL &&
	    agent_is_me(px->agent, r->r_url))
		sip_route_remove(t->fwd, fsip);
}

/*
 * RFC 3261 16.6 step 7: a first Route entry without lr is a strict
 * router (RFC 2543): the Request-URI goes to the end of the Route set, the
 * strict router's URI becomes the Request-URI, and the request goes
 * there. Returns 1 with t->route_url set to it (in the copy's home).
 */
static int
strict_next_hop(struct ptx *t, sip_t *fsip)
{
	su_home_t *home = msg_home(t->fwd);
	sip_route_t *r = fsip->sip_route, *last;
	url_t *next;

	if (r == NULL || url_has_param(r->r_url, "lr"))
		return 0;
	if ((next = url_hdup(home, r->r_url)) == NULL ||
	    (last = sip_route_create(home, fsip->sip_request->rq_url,
	    NULL)) == NULL ||
	    sip_add_dup(t->fwd, fsip, (sip_header_t *)last) < 0)
		return 0;
	sip_route_remove(t->fwd, fsip);
	fsip->sip_request->rq_url[0] = *next;
	msg_fragment_clear(fsip->sip_request->rq_common);
	t->route_url = url_as_string(home, next);
	t->rule_line = 0;
	return t->route_url != NULL;
}

/* The transport a URI asks for; *explicit 0 when it leaves it to the
 * sender (then RFC 3263 4.1 says UDP for an address). */
static enum conf_transport
url_transport(const url_t *u, int *explicit)
{
	char tp[16];

	*explicit = 1;
	if (u != NULL && u->url_type == url_sips)
		return CONF_TP_TLS;
	if (u != NULL && url_param(u->url_params, "transport", tp,
	    sizeof(tp)) > 0) {
		if (strcasecmp(tp, "tls") == 0)
			return CONF_TP_TLS;
		if (strcasecmp(tp, "tcp") == 0)
			return CONF_TP_TCP;
		if (strcasecmp(tp, "udp") == 0)
			return CONF_TP_UDP;
	}
	*explicit = 0;
	return CONF_TP_UDP;
}

/* The next hop's URI, in nta's order (nta.c outgoing_create()): the
 * route URL we give it (a rule's or a flow's next hop, a strict router),
 * else a loose first Route, else the Request-URI. */
static const url_t *
next_hop_url(const struct ptx *t, const sip_t *fsip)
{
	const sip_route_t *r = fsip->sip_route;

	if (t->route_url != NULL)
		return url_make(msg_home(t->fwd), t->route_url);
	if (r != NULL && url_has_param(r->r_url, "lr"))
		return r->r_url;
	return fsip->sip_request->rq_url;
}

/* Where one side of the hop is: the transport and address family a
 * Record-Route entry facing it must name. */
struct side {
	enum conf_transport tp;
	int family; /* AF_INET, AF_INET6 */
};

/* The side the request came from: its connection, else its Via and
 * source address. */
static struct side
inbound_side(const struct ptx *t)
{
	tport_t *tp = t->irq != NULL ? nta_incoming_transport(
	    agent_nta(t->px->agent), t->irq, NULL) : tport_ref(t->tport);
	const su_addrinfo_t *ai = msg_addrinfo(t->req);
	const char *proto = t->sip->sip_via->v_protocol;
	struct side s;

	s.family = ai != NULL && ai->ai_family == AF_INET6 ? AF_INET6 :
	    AF_INET;
	if (tp != NULL) {
		s.tp = tport_has_tls(tp) ? CONF_TP_TLS : tport_is_udp(tp) ?
		    CONF_TP_UDP : CONF_TP_TCP;
		tport_unref(tp);
	} else if (strcasecmp(proto, sip_transport_tls) == 0)
		s.tp = CONF_TP_TLS;
	else
		s.tp = strcasecmp(proto, sip_transport_tcp) == 0 ?
		    CONF_TP_TCP : CONF_TP_UDP;
	return s;
}

int
ptx_hop_address(const url_t *next, char *out, size_t size)
{
	char maddr[64];
	const char *h = next != NULL ? next->url_host : NULL;
	size_t len;

	if (next != NULL && url_param(next->url_params, "maddr", maddr,
	    sizeof(maddr)) > 0)
		h = maddr;
	if (h == NULL || (len = strlen(h)) >= size)
		return 0;
	/* Twice for every forwarded request: copied, not printed. */
	if (host_is_ip6_reference(h)) {
		memcpy(out, h + 1, len - 2);
		out[len - 2] = '\0';
	} else
		memcpy(out, h, len + 1);
	if (host_is_ip6_address(out))
		return AF_INET6;
	return host_is_ip4_address(out) ? AF_INET : 0;
}

/* The address family of a next hop; a host name leaves it to DNS: taken
 * as the inbound side's (dflt). */
static int
url_family(const url_t *u, int dflt)
{
	char host[64];
	int f = ptx_hop_address(u, host, sizeof(host));

	return f != 0 ? f : dflt;
}

static sip_record_route_t *
insert_rr(struct ptx *t, sip_t *fsip, const url_t *u)
{
	sip_record_route_t *rr;

	if (u == NULL)
		return NULL;
	rr = sip_record_route_create(msg_home(t->fwd), u, NULL);
	if (rr == NULL || msg_header_insert(t->fwd, (msg_pub_t *)fsip,
	    (msg_header_t *)rr) < 0)
		return NULL;
	return rr;
}

/*
 * The requests that create a dialog (RFC 3261 12.1, RFC 6665 4.1, RFC
 * 3515: INVITE, SUBSCRIBE, REFER), outside one (no To tag): only these
 * have a route set to record. A NOTIFY always has a To tag.
 */
static int
creates_dialog(const sip_t *fsip)
{
	sip_method_t m = fsip->sip_request->rq_method;

	if (fsip->sip_to != NULL && fsip->sip_to->a_tag != NULL)
		return 0;
	return m == sip_method_invite || m == sip_method_subscribe ||
	    m == sip_method_refer;
}

/* The entries of ours a copy carries, so that they can be taken back. */
struct our_entries {
	sip_record_route_t *rr[2];
	sip_path_t *path;
};

/*
 * Record-Route, to stay on the path of the dialog the request creates:
 * each entry tells the side it faces the transport to come back over
 * (transport=tcp, sips:) and the address family to come back by; when
 * the two sides differ in either, one entry each (RFC 5658), the
 * outbound one on top. Path on a REGISTER through the edge
 * proxy faces the registrar's side.
 */
static void
add_entries(struct ptx *t, sip_t *fsip, struct side in, struct side out,
    struct our_entries *e)
{
	struct agent *ag = t->px->agent;
	const sip_path_t *before = fsip->sip_path;
	const url_t *rin, *rout;

	memset(e, 0, sizeof(*e));
	rin = agent_rr_url(ag, in.tp, in.family);
	rout = agent_rr_url(ag, out.tp, out.family);
	if (fsip->sip_request->rq_method == sip_method_register) {
		edge_add_path(t, fsip, rout);
		if (fsip->sip_path != before)
			e->path = fsip->sip_path;
		return;
	}
	if (!t->st->conf->record_route || !creates_dialog(fsip))
		return;
	if (rin == rout) {
		/* One entry for both sides: a flow's token if either is one. */
		e->rr[0] = insert_rr(t, fsip, edge_rr_url(t, edge_rr_url(t,
		    rin, 1), 0));
		return;
	}
	e->rr[0] = insert_rr(t, fsip, edge_rr_url(t, rin, 1));
	e->rr[1] = insert_rr(t, fsip, edge_rr_url(t, rout, 0));
}

static void
remove_entries(struct ptx *t, sip_t *fsip, struct our_entries *e)
{
	size_t i;

	for (i = 0; i < 2; i++)
		if (e->rr[i] != NULL)
			msg_header_remove(t->fwd, (msg_pub_t *)fsip,
			    (msg_header_t *)e->rr[i]);
	if (e->path != NULL)
		msg_header_remove(t->fwd, (msg_pub_t *)fsip,
		    (msg_header_t *)e->path);
	memset(e, 0, sizeof(*e));
}

/* Larger than the UDP MTU once nta has added its Via (our branch and
 * rport): tport refuses it on UDP, and nta sends it over TCP. */
static int
too_large_for_udp(struct ptx *t, sip_t *fsip, int family)
{
	const url_t *via = agent_rr_url(t->px->agent, CONF_TP_UDP, family);
	issize_t n;
	size_t total;

	if (msg_serialize(t->fwd, (msg_pub_t *)fsip) < 0 ||
	    (n = msg_prepare(t->fwd)) < 0)
		return 0;
	/* "Via: SIP/2.0/UDP host:port;branch=...;rport\r\n" */
	total = (size_t)n + sizeof("Via: SIP/2.0/UDP :;branch=;rport\r\n") -
	    1 + strlen(t->branch) + strlen(via->url_host) +
	    (via->url_port != NULL ? strlen(via->url_port) : 4);
	return total > t->px->conf->udp_mtu;
}

/*
 * Our entries, facing the side the copy leaves on: what the next hop's
 * URI says (sips: is TLS), else UDP (RFC 3263 4.1), unless the copy is
 * larger than the UDP MTU with the entries facing UDP: then nta sends it
 * over TCP (RFC 3261 18.1.1), and they must face TCP. Not foreseen: a
 * host name whose NAPTR records pick TCP or TLS; routing rules and
 * Routes that name such a hop should say ;transport=. nta falling back
 * to UDP when the TCP connection is refused leaves entries saying TCP,
 * which the peer can still follow.
 */
static void
add_our_entries(struct ptx *t, sip_t *fsip)
{
	struct agent *ag = t->px->agent;
	struct our_entries e;
	const url_t *next;
	struct side in, out;
	int explicit;

	if (!creates_dialog(fsip) &&
	    fsip->sip_request->rq_method != sip_method_register)
		return;
	in = inbound_side(t);
	next = next_hop_url(t, fsip);
	out.tp = url_transport(next, &explicit);
	out.family = url_family(next, in.family);
	add_entries(t, fsip, in, out, &e);
	if (explicit || (e.rr[0] == NULL && e.path == NULL) ||
	    !agent_listens(ag, CONF_TP_TCP) ||
	    !agent_listens(ag, CONF_TP_UDP) ||
	    !too_large_for_udp(t, fsip, out.family))
		return;
	remove_entries(t, fsip, &e);
	out.tp = CONF_TP_TCP;
	add_entries(t, fsip, in, out, &e);
}

static void
choose_next_hop(struct ptx *t, const sip_t *fsip)
{
	struct route_facts f;
	struct route_choice rc;
	su_addrinfo_t *ai = msg_addrinfo(t->req);

	t->route_url = NULL;
	t->rule_line = 0;
	if (fsip->sip_route != NULL)
		return; /* loose routing: the Route set decides */
	f.method = method_name(fsip);
	f.domain = fsip->sip_request->rq_url->url_host;
	f.source = ai != NULL ? ai->ai_addr : NULL;
	rc = route_select(t->st->conf, &f);
	t->route_url = rc.next_hop;
	t->rule_line = rc.rule_line;
}

/* The request is for us and no rule claims it: nobody to forward it to
 * (the default next hop is for other domains' traffic). */
static int
targets_me(const struct ptx *t, const sip_t *fsip)
{
	return fsip->sip_route == NULL && t->rule_line == 0 &&
	    agent_is_me(t->px->agent, fsip->sip_request->rq_url);
}

static enum step
answer_local(struct ptx *t)
{
	if (t->sip->sip_request->rq_method == sip_method_options)
		return answer_reply(t, SIP_200_OK);
	return answer_reply(t, SIP_404_NOT_FOUND);
}

/*
 * nta picks the socket for a next hop by its address family, and Sofia
 * tells an IPv6 address only without brackets (tport.c
 * tport_primary_by_name()): "[2001:db8::1]" went out of the first UDP
 * listener, an IPv4 one when that was listed first, and failed
 * (EAFNOSUPPORT: 500 upstream). nta takes the maddr parameter of its
 * route URL as the host, as it is written, so the route it is given
 * names the address there bare. (The route URL is not put in the
 * message.) Returns the next hop's URI, so changed or not.
 */
static const url_t *
bare_ipv6_next_hop(struct ptx *t, const sip_t *fsip)
{
	su_home_t *home = msg_home(t->fwd);
	const url_t *u = next_hop_url(t, fsip);
	size_t n;
	url_t *v;
	char *maddr;

	if (u == NULL || u->url_host == NULL ||
	    !host_is_ip6_reference(u->url_host) || url_has_param(u, "maddr"))
		return u;
	n = strlen(u->url_host);
	if ((v = url_hdup(home, u)) == NULL || (maddr = su_sprintf(home,
	    "maddr=%.*s", (int)n - 2, u->url_host + 1)) == NULL ||
	    url_param_add(home, v, maddr) != 0)
		return u;
	t->route_url = url_as_string(home, v);
	return v;
}

/*
 * The URL nta routes the copy by. Without a Route header field or a rule
 * it is the Request-URI, named here rather than left to nta: given no
 * route, nta clears the request line's received bytes and encodes it
 * again (its outgoing_create()), which costs a formatted print per
 * forwarded request and changes bytes 16.6 step 1 says to keep. With a
 * Route field (lr), NULL lets nta take it, as before.
 */
static url_string_t const *
route_of(const struct ptx *t, const sip_t *fsip)
{
	if (t->route_url != NULL)
		return URL_STRING_MAKE(t->route_url);
	if (fsip->sip_route == NULL)
		return (url_string_t const *)fsip->sip_request->rq_url;
	return NULL;
}

static void
log_forwarded(const struct ptx *t)
{
	if (t->rule_line)
		ptx_logf(t, LOG_DEBUG, "routed by rule at line %d to %s",
		    t->rule_line, t->route_url);
	edge_log_forward(t);
	ptx_log(t, "forwarded");
}

enum step
forward_request(struct ptx *t)
{
	struct proxy *px = t->px;
	sip_t *fsip;
	url_string_t const *route;
	const url_t *next;
	tport_t *conn;

	if (t->is_ack) {
		forward_ack(t);
		return STEP_DONE;
	}
	/* A message of its own (nta keeps an INVITE client transaction 32 s,
	 * Timer D; a shallow msg_copy() would keep the received request alive
	 * with it), made from the received bytes: 16.6 step 1. Other
	 * requests' copies live briefly: shallow, the same bytes. */
	t->fwd = t->sip->sip_request->rq_method == sip_method_invite ?
	    wirecopy(t->req) : wirecopy_shared(t->req);
	if (t->fwd == NULL)
		return answer_reply(t, SIP_500_INTERNAL_SERVER_ERROR);
	fsip = sip_object(t->fwd);
	set_max_forwards(t, fsip);
	fix_route(t, fsip);
	if (edge_next_hop(t, t->edge.out_url, sizeof(t->edge.out_url),
	    &conn) == -1)
		return edge_flow_failed(t);
	if (t->edge.to_flow) {
		t->route_url = t->edge.out_url; /* RFC 5626 5.3: that flow */
		t->rule_line = 0;
	} else if (!strict_next_hop(t, fsip)) {
		choose_next_hop(t, fsip);
		if (targets_me(t, fsip))
			return answer_local(t);
	}
	add_our_entries(t, fsip);
	next = bare_ipv6_next_hop(t, fsip);
	/* Before the client transaction exists: its callback may free t. */
	stages_send_trying(t);
	route = route_of(t, fsip);
	switch (ownclient_send(t, next, route, conn)) {
	case 1:
		log_forwarded(t);
		return STEP_NEXT;
	case -1:
		return STEP_DONE;
	default:
		break; /* nta's client transaction */
	}
	/* Towards a phone over its connection: that one, no other. */
	t->orq = nta_outgoing_mcreate(agent_nta(px->agent),
	    responses_on_response, t, route, t->fwd,
	    NTATAG_BRANCH_KEY(t->branch), NTATAG_PASS_100(1),
	    TAG_IF(conn != NULL, NTATAG_TPORT(conn)), TAG_END());
	if (t->orq == NULL) {
		ptx_logf(t, LOG_INFO, "cannot forward %s",
		    method_name(t->sip));
		return answer_reply(t, SIP_503_SERVICE_UNAVAILABLE);
	}
	t->fwd = NULL; /* the client transaction owns it now */
	log_forwarded(t);
	return STEP_NEXT;
}

/* ACK to a 2xx is its own transaction: forward it and keep no state.
 * t is borrowed; its request and irq are left to the caller. */
void
forward_ack(struct ptx *t)
{
	struct proxy *px = t->px;
	msg_t *fwd;
	sip_t *fsip;
	nta_outgoing_t *orq;
	tport_t *conn;

	if ((fwd = wirecopy_shared(t->req)) == NULL) /* sent at once */
		return;
	t->fwd = fwd;
	fsip = sip_object(fwd);
	set_max_forwards(t, fsip);
	fix_route(t, fsip);
	if (edge_ack(t) != 0 || edge_next_hop(t, t->edge.out_url,
	    sizeof(t->edge.out_url), &conn) == -1) {
		t->fwd = NULL;
		msg_destroy(fwd);
		return;
	}
	if (t->edge.to_flow) {
		t->route_url = t->edge.out_url;
		t->rule_line = 0;
	} else if (!strict_next_hop(t, fsip)) {
		choose_next_hop(t, fsip);
	}
	(void)bare_ipv6_next_hop(t, fsip);
	t->fwd = NULL;
	if ((!t->edge.to_flow && targets_me(t, fsip)) ||
	    (t->sip->sip_max_forwards != NULL &&
	    t->sip->sip_max_forwards->mf_count == 0)) {
		msg_destroy(fwd);
		return;
	}
	if (t->terminate != NULL)
		ptx_logf(t, LOG_INFO, "dialog terminated: %d BYE sent",
		    terminate_from_ack(px->dialogs, px->agent, fsip,
		    t->st->conf->ch_496_code, t->terminate, monoclock_ms()));
	else
		dialogs_forget(px->dialogs, fsip, monoclock_ms());
	orq = nta_outgoing_mcreate(agent_nta(px->agent), NULL, NULL,
	    route_of(t, fsip), fwd,
	    NTATAG_STATELESS(1), TAG_IF(conn != NULL, NTATAG_TPORT(conn)),
	    TAG_END());
	if (orq == NULL)
		msg_destroy(fwd);
	else if (orq != (nta_outgoing_t *)-1)
		nta_outgoing_destroy(orq);
}
