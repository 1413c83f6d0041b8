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
#include <strings.h>

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nta.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_util.h>

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

static int
url_is_tls(const url_t *u)
{
	char tp[16];

	if (u == NULL)
		return 0;
	if (u->url_type == url_sips)
		return 1;
	return url_param(u->url_params, "transport", tp, sizeof(tp)) > 0 &&
	    strcasecmp(tp, "tls") == 0;
}

/* Where the copy will really go: top Route, rule next hop, else R-URI. */
static int
outbound_is_tls(const struct ptx *t, const sip_t *fsip)
{
	if (fsip->sip_route != NULL)
		return url_is_tls(fsip->sip_route->r_url);
	if (t->route_url != NULL)
		return url_is_tls(url_make(msg_home(t->fwd), t->route_url));
	return url_is_tls(fsip->sip_request->rq_url);
}

static int
url_is_tcp(const url_t *u)
{
	char tp[16];

	return u != NULL && url_param(u->url_params, "transport", tp,
	    sizeof(tp)) > 0 && strcasecmp(tp, "tcp") == 0;
}

/* The same for TCP: only a transport=tcp parameter says so. */
static int
outbound_is_tcp(const struct ptx *t, const sip_t *fsip)
{
	if (fsip->sip_route != NULL)
		return url_is_tcp(fsip->sip_route->r_url);
	if (t->route_url != NULL)
		return url_is_tcp(url_make(msg_home(t->fwd), t->route_url));
	return url_is_tcp(fsip->sip_request->rq_url);
}

static int
inbound_is_tls(const struct ptx *t)
{
	return strcasecmp(t->sip->sip_via->v_protocol, sip_transport_tls) == 0;
}

static void
insert_rr(struct ptx *t, sip_t *fsip, const url_t *u)
{
	sip_record_route_t *rr;

	if (u == NULL)
		return;
	rr = sip_record_route_create(msg_home(t->fwd), u, NULL);
	if (rr != NULL)
		msg_header_insert(t->fwd, (msg_pub_t *)fsip,
		    (msg_header_t *)rr);
}

/* Stay on the path of the dialog this request may create (in-dialog
 * requests cannot change the route set). When the two sides differ in
 * TLS, put one entry for each side (RFC 5658), the outbound one on top. */
static void
record_route(struct ptx *t, sip_t *fsip)
{
	int in, out;
	sip_method_t m = fsip->sip_request->rq_method;

	if (!t->st->conf->record_route || m == sip_method_register ||
	    m == sip_method_ack || m == sip_method_cancel ||
	    (fsip->sip_to != NULL && fsip->sip_to->a_tag != NULL))
		return;
	in = inbound_is_tls(t);
	out = outbound_is_tls(t, fsip);
	if (in == out && !edge_rr_double(t, outbound_is_tcp(t, fsip))) {
		/* One entry for both sides: a flow's token if either is one. */
		insert_rr(t, fsip, edge_rr_url(t, edge_rr_url(t,
		    agent_rr_url(t->px->agent, in), 1), 0));
		return;
	}
	insert_rr(t, fsip, edge_rr_url(t, agent_rr_url(t->px->agent, in), 1));
	insert_rr(t, fsip, edge_rr_url(t, agent_rr_url(t->px->agent, out),
	    0));
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

enum step
forward_request(struct ptx *t)
{
	struct proxy *px = t->px;
	sip_t *fsip;
	url_string_t const *route;
	tport_t *conn;

	if (t->is_ack) {
		forward_ack(t);
		return STEP_DONE;
	}
	/* A message of its own (nta keeps an INVITE client transaction 32 s,
	 * Timer D; a shallow msg_copy() would keep the received request alive
	 * with it), made from the received bytes: 16.6 step 1. */
	if ((t->fwd = wirecopy(t->req)) == NULL)
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
	record_route(t, fsip);
	if (fsip->sip_request->rq_method == sip_method_register)
		edge_add_path(t, fsip, agent_rr_url(px->agent,
		    outbound_is_tls(t, fsip)));
	/* Before the client transaction exists: its callback may free t. */
	stages_send_trying(t);
	route = t->route_url ? URL_STRING_MAKE(t->route_url) : NULL;
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
	if (t->rule_line)
		ptx_logf(t, LOG_DEBUG, "routed by rule at line %d to %s",
		    t->rule_line, t->route_url);
	edge_log_forward(t);
	ptx_log(t, "forwarded");
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

	if ((fwd = wirecopy(t->req)) == NULL)
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
	    t->route_url ? URL_STRING_MAKE(t->route_url) : NULL, fwd,
	    NTATAG_STATELESS(1), TAG_IF(conn != NULL, NTATAG_TPORT(conn)),
	    TAG_END());
	if (orq == NULL)
		msg_destroy(fwd);
	else if (orq != (nta_outgoing_t *)-1)
		nta_outgoing_destroy(orq);
}
