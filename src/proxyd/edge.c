/*
 * edge.c - the RFC 5626 / RFC 3327 edge proxy (edge.h): which flow a
 * request came over and which one it must go out on, Path on REGISTER,
 * flow tokens in Record-Route, what a REGISTER's final response tells
 * about its flow, and the flows table's upkeep.
 */
#include "proxyd/ptx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <event2/event.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_util.h>
#include <sofia-sip/tport.h>

#include "common/log.h"
#include "common/monoclock.h"
#include "proxyd/agent.h"
#include "proxyd/conf.h"
#include "proxyd/edge.h"
#include "proxyd/flows.h"

/* A flow outlives its registration by this much: the phone refreshes
 * just before the end, and its REGISTER may take a while. */
#define GRACE_MS 32000
/* Closed connections and ended registrations are looked for this often. */
#define SWEEP_MS 5000

struct edge {
	struct flows *flows;
	struct event *sweep;
	unsigned char key[CONF_EDGE_KEY_MAX];
	size_t keylen;
	unsigned flow_timer_udp, flow_timer_stream;
	uint64_t routed, failed_430, forged_403, refused, expired;
};

static void
release_conn(void *conn)
{
	tport_unref(conn);
}

static int
conn_dead(void *conn)
{
	return tport_is_shutdown(conn);
}

static void
on_sweep(evutil_socket_t fd, short what, void *arg)
{
	struct edge *e = arg;

	(void)fd;
	(void)what;
	e->expired += flows_expire(e->flows, monoclock_ms(), conn_dead);
}

struct edge *
edge_new(const struct conf *c, struct event_base *base, int *failed,
    char *err, size_t errsz)
{
	struct edge *e;
	struct timeval tv = { SWEEP_MS / 1000, 0 };

	*failed = 0;
	if (c->edge_path == CONF_EDGE_OFF)
		return NULL;
	*failed = 1;
	if ((e = calloc(1, sizeof(*e))) == NULL) {
		snprintf(err, errsz, "edge: out of memory");
		return NULL;
	}
	if (conf_edge_read_key(c->edge_flow_key, e->key, &e->keylen, err,
	    errsz) != 0) {
		free(e);
		return NULL;
	}
	e->flow_timer_udp = c->edge_flow_timer_udp;
	e->flow_timer_stream = c->edge_flow_timer_stream;
	e->flows = flows_new(c->edge_max_flows, c->edge_max_flows_per_source,
	    release_conn);
	e->sweep = event_new(base, -1, EV_PERSIST, on_sweep, e);
	if (e->flows == NULL || e->sweep == NULL ||
	    event_add(e->sweep, &tv) != 0) {
		snprintf(err, errsz, "edge: out of memory");
		edge_free(e);
		return NULL;
	}
	*failed = 0;
	return e;
}

void
edge_free(struct edge *e)
{
	if (e == NULL)
		return;
	if (e->sweep != NULL)
		event_free(e->sweep);
	flows_free(e->flows);
	memset(e->key, 0, sizeof(e->key));
	free(e);
}

void
edge_counters(const struct edge *e, struct edge_counters *out)
{
	memset(out, 0, sizeof(*out));
	if (e == NULL)
		return;
	out->flows = flows_count(e->flows);
	out->routed = e->routed;
	out->failed_430 = e->failed_430;
	out->forged_403 = e->forged_403;
	out->refused = e->refused;
	out->expired = e->expired;
}

/* The transport a request came over, and its connection (a stream's
 * secondary tport, referenced: the caller unrefs it). */
static enum flow_kind
arrival(const struct ptx *t, tport_t **conn)
{
	tport_t *tp = nta_incoming_transport(agent_nta(t->px->agent), NULL,
	    t->req);

	*conn = NULL;
	if (tp == NULL)
		return (enum flow_kind)0;
	if (tport_is_udp(tp)) {
		tport_unref(tp);
		return FLOW_UDP;
	}
	*conn = tp;
	return tport_has_tls(tp) ? FLOW_TLS : FLOW_TCP;
}

static const struct sockaddr *
source_of(const struct ptx *t)
{
	su_addrinfo_t *ai = msg_addrinfo(t->req);

	return ai != NULL ? ai->ai_addr : NULL;
}

/* The token of the first Route entry of ours that has a user part: the
 * Path or Record-Route entry we made. NULL: none. */
static const char *
route_token(const struct ptx *t)
{
	const sip_route_t *r;

	for (r = t->sip->sip_route; r != NULL; r = r->r_next) {
		if (!agent_is_me(t->px->agent, r->r_url))
			break;
		if (r->r_url->url_user != NULL)
			return r->r_url->url_user;
	}
	return NULL;
}

static enum step
answer_430(struct ptx *t, const struct flow_addr *f)
{
	t->px->edge->failed_430++;
	ptx_logf(t, LOG_INFO, "%s: flow %llu (%s) is gone, answered 430",
	    method_name(t->sip), (unsigned long long)f->id,
	    flow_kind_name(f->kind));
	return answer_reply(t, 430, "Flow Failed");
}

static int
same_peer(const struct sockaddr *a, const struct sockaddr_storage *b)
{
	const struct sockaddr_in *a4 = (const void *)a, *b4 = (const void *)b;
	const struct sockaddr_in6 *a6 = (const void *)a, *b6 = (const void *)b;

	if (a->sa_family != b->ss_family)
		return 0;
	if (a->sa_family == AF_INET)
		return a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	return a->sa_family == AF_INET6 && a6->sin6_port == b6->sin6_port &&
	    memcmp(&a6->sin6_addr, &b6->sin6_addr, 16) == 0;
}

/* A token the request carries (RFC 5626 5.3): towards the phone unless
 * it came from that very flow. 0, 403 (not ours) or 430 (flow gone). */
static int
token_route(struct ptx *t, const char *tok, enum flow_kind kind,
    const tport_t *conn)
{
	struct edge *e = t->px->edge;
	struct flow_addr f;
	const struct flow *fl;

	if (flowtoken_decode(e->key, e->keylen, tok, strlen(tok), &f) != 0)
		return 403;
	t->edge.out = f; /* where it goes, or which flow failed */
	if (f.kind == FLOW_UDP) {
		if (kind == FLOW_UDP && source_of(t) != NULL &&
		    same_peer(source_of(t), &f.peer))
			return 0; /* from the phone itself */
	} else {
		fl = flows_by_id(e->flows, f.id);
		if (fl != NULL && fl->conn == conn)
			return 0;
		if (fl == NULL || tport_is_shutdown(fl->conn)) {
			if (fl != NULL)
				flows_remove(e->flows, f.id);
			return 430;
		}
	}
	t->edge.to_flow = 1;
	return 0;
}

/* RFC 5626 4.2: the UA asks for outbound with reg-id and +sip.instance
 * on a Contact. */
static int
asks_outbound(const sip_t *sip)
{
	const sip_contact_t *m;

	for (m = sip->sip_contact; m != NULL; m = m->m_next)
		if (msg_params_find(m->m_params, "reg-id") != NULL &&
		    msg_params_find(m->m_params, "+sip.instance") != NULL)
			return 1;
	return 0;
}

/* The first outbound Contact's +sip.instance and reg-id, hashed; 0 when
 * there is none. */
static uint64_t
instance_key(const sip_t *sip)
{
	const sip_contact_t *m;
	const char *inst, *reg;

	for (m = sip->sip_contact; m != NULL; m = m->m_next) {
		inst = msg_params_find(m->m_params, "+sip.instance");
		reg = msg_params_find(m->m_params, "reg-id");
		if (inst != NULL && reg != NULL)
			return ptx_hash_str(ptx_hash_str(0xcbf29ce484222325ULL,
			    inst), reg) | 1;
	}
	return 0;
}

static int
supports_path(const sip_t *sip)
{
	return sip_has_feature(sip->sip_supported, "path") ||
	    sip_has_feature(sip->sip_require, "path");
}

static enum step
register_refused(struct ptx *t, enum flows_result r)
{
	char ra[16];

	t->px->edge->refused++;
	snprintf(ra, sizeof(ra), "%u", t->st->conf->retry_after);
	ptx_logf(t, LOG_NOTICE, "REGISTER answered 503: %s",
	    r == FLOWS_SOURCE_FULL ? "edge.max_flows_per_source reached for "
	    "this address" : r == FLOWS_FULL ? "edge.max_flows reached" :
	    "out of memory");
	answer_status(t, SIP_503_SERVICE_UNAVAILABLE,
	    SIPTAG_RETRY_AFTER_STR(ra), TAG_END());
	return STEP_DONE;
}

/* RFC 3327 5.2 and RFC 5626 5.1: whether our Path goes on, and for the
 * first hop the flow it names (made or found, within the limits). */
static enum step
on_register(struct ptx *t, enum flow_kind kind, tport_t *conn)
{
	struct edge *e = t->px->edge;
	const sip_t *sip = t->sip;
	const struct flow *fl;
	enum flows_result r;

	if (sip->sip_contact == NULL || sip->sip_contact->m_url->url_type ==
	    url_any)
		return STEP_NEXT; /* a query or "Contact: *": nothing to route */
	t->edge.outbound = asks_outbound(sip);
	if (!t->edge.outbound && t->px->conf->edge_path != CONF_EDGE_ALWAYS)
		return STEP_NEXT;
	if (t->edge.outbound && !supports_path(sip) &&
	    t->px->conf->edge_path != CONF_EDGE_ALWAYS) {
		ptx_logf(t, LOG_INFO, "REGISTER asks for outbound without "
		    "Supported: path, answered 421");
		answer_status(t, SIP_421_EXTENSION_REQUIRED,
		    SIPTAG_REQUIRE_STR("path"), TAG_END());
		return STEP_DONE;
	}
	t->edge.path = 1;
	/* Only the first hop knows the phone's flow (RFC 5626 5.1). */
	if (sip->sip_via == NULL || sip->sip_via->v_next != NULL ||
	    source_of(t) == NULL)
		return STEP_NEXT;
	fl = flows_get(e->flows, kind, source_of(t), conn,
	    monoclock_ms() + t->st->conf->transaction_timeout_ms + GRACE_MS,
	    &r);
	if (fl == NULL)
		return register_refused(t, r);
	if (r == FLOWS_ADDED && conn != NULL)
		tport_ref(conn); /* the table's: keeps the connection open */
	if (r == FLOWS_ADDED && t->edge.outbound)
		t->edge.inst = instance_key(sip);
	t->edge.reg_flow = fl->a.id;
	t->edge.reg_new = r == FLOWS_ADDED;
	return STEP_NEXT;
}

/* Which flow the request came over and which one a token in its Route
 * names; t->edge.bad: 403 or 430 when that token cannot be followed.
 * conn: the stream it came over, referenced (the caller unrefs it). */
static enum flow_kind
classify(struct ptx *t, tport_t **conn)
{
	struct edge *e = t->px->edge;
	const struct flow *fl;
	const char *tok;
	enum flow_kind kind;

	t->edge.direction = POLICY_DIR_OTHER;
	*conn = NULL;
	if (e == NULL || (kind = arrival(t, conn)) == 0)
		return (enum flow_kind)0;
	fl = flows_find(e->flows, kind, source_of(t), *conn);
	t->edge.in_flow = fl != NULL ? fl->a.id : 0;
	if ((tok = route_token(t)) != NULL)
		t->edge.bad = token_route(t, tok, kind, *conn);
	if (t->edge.to_flow)
		t->edge.direction = POLICY_DIR_TO_PHONES;
	else if (t->edge.in_flow != 0)
		t->edge.direction = POLICY_DIR_FROM_PHONES;
	return kind;
}

/* An ACK is never answered: one the edge cannot deliver is dropped. */
int
edge_ack(struct ptx *t)
{
	tport_t *conn;

	classify(t, &conn);
	if (conn != NULL)
		tport_unref(conn);
	if (t->edge.bad != 0)
		ptx_logf(t, LOG_INFO, "ACK dropped: %s", t->edge.bad == 403 ?
		    "forged or damaged flow token" : "its flow is gone");
	return t->edge.bad != 0 ? -1 : 0;
}

/* The edge stage: between loop detection and the policy rule, which may
 * ask which way the request goes. */
enum step
edge_stage(struct ptx *t)
{
	struct edge *e = t->px->edge;
	tport_t *conn;
	enum flow_kind kind = classify(t, &conn);
	enum step s = STEP_NEXT;

	if (t->edge.bad == 403) {
		e->forged_403++;
		ptx_logf(t, LOG_NOTICE, "%s: forged or damaged flow token in "
		    "Route, answered 403", method_name(t->sip));
		s = answer_reply(t, SIP_403_FORBIDDEN);
	} else if (t->edge.bad == 430) {
		s = answer_430(t, &t->edge.out);
	} else if (kind != 0 && t->sip->sip_request->rq_method ==
	    sip_method_register && !t->edge.to_flow) {
		s = on_register(t, kind, conn);
	}
	if (conn != NULL)
		tport_unref(conn);
	return s;
}

/* Our URI on the side facing the phone or the registrar, with a token
 * as its user part when f is given; ob for an outbound Path; facing the
 * phone, the flow's transport. */
static url_t *
our_url(struct ptx *t, const url_t *base, const struct flow_addr *f,
    int ob, int phone_side)
{
	su_home_t *home = msg_home(t->fwd);
	struct edge *e = t->px->edge;
	char tok[FLOWTOKEN_LEN + 1];
	url_t *u;

	if (base == NULL || (u = url_hdup(home, base)) == NULL)
		return NULL;
	if (f != NULL && flowtoken_encode(e->key, e->keylen, f, tok) == 0)
		u->url_user = su_strdup(home, tok);
	/* A phone on a TCP flow must come back over TCP, its flow: left to
	 * itself it would send a later request of the dialog over UDP, from
	 * another flow, and the token would send it back to the phone. */
	if (phone_side && f != NULL && f->kind == FLOW_TCP &&
	    u->url_type == url_sip &&
	    !url_has_param(u, "transport"))
		u->url_params = su_sprintf(home, "%s;transport=tcp",
		    u->url_params != NULL ? u->url_params : "lr");
	if (ob)
		u->url_params = su_sprintf(home, "%s;ob", u->url_params != NULL ?
		    u->url_params : "lr");
	return u;
}

/* The flow of a REGISTER's Path, or the one a request came over. */
static const struct flow_addr *
flow_of(const struct edge *e, uint64_t id)
{
	const struct flow *fl = id != 0 ? flows_by_id(e->flows, id) : NULL;

	return fl != NULL ? &fl->a : NULL;
}

/* RFC 3327: our Path on the REGISTER, and Require: path so that a
 * registrar that would ignore it says so (420) instead. */
void
edge_add_path(struct ptx *t, sip_t *fsip, const url_t *rr)
{
	const struct flow_addr *f;
	sip_path_t *p;
	url_t *u;

	if (t->px->edge == NULL || !t->edge.path)
		return;
	f = flow_of(t->px->edge, t->edge.reg_flow);
	if ((u = our_url(t, rr, f, t->edge.outbound, 0)) == NULL ||
	    (p = (sip_path_t *)msg_header_make(msg_home(t->fwd),
	    sip_path_class, su_sprintf(msg_home(t->fwd), "<%s>",
	    url_as_string(msg_home(t->fwd), u)))) == NULL)
		return;
	msg_header_insert(t->fwd, (msg_pub_t *)fsip, (msg_header_t *)p);
	if (!sip_has_feature(fsip->sip_require, "path"))
		sip_add_make(t->fwd, fsip, sip_require_class, "path");
}

/* A Record-Route entry of ours facing a flow carries its token, so the
 * dialog's requests from the far side reach the phone over it. */
const url_t *
edge_rr_url(struct ptx *t, const url_t *rr, int inbound)
{
	struct edge *e = t->px->edge;
	const struct flow_addr *f = NULL;
	url_t *u;

	if (e == NULL)
		return rr;
	if (inbound && t->edge.in_flow != 0)
		f = flow_of(e, t->edge.in_flow);
	else if (!inbound && t->edge.to_flow)
		f = &t->edge.out;
	if (f == NULL || (u = our_url(t, rr, f, 0, 1)) == NULL)
		return rr;
	return u;
}

/* Where a request towards a phone goes: its flow's address, and for a
 * stream the connection itself. 0, or -1: the flow is gone (430). */
int
edge_next_hop(struct ptx *t, char *url, size_t urlsz, tport_t **conn)
{
	const struct flow_addr *f = &t->edge.out;
	const struct flow *fl;
	char host[64];
	const struct sockaddr *sa = (const struct sockaddr *)&f->peer;
	unsigned port;

	*conn = NULL;
	if (!t->edge.to_flow)
		return 1;
	if (f->kind != FLOW_UDP) {
		fl = flows_by_id(t->px->edge->flows, f->id);
		if (fl == NULL || tport_is_shutdown(fl->conn))
			return -1;
		*conn = fl->conn;
		sa = (const struct sockaddr *)&fl->a.peer;
	}
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		port = ntohs(s4->sin_port);
		snprintf(url, urlsz, "sip:%s:%u;transport=%s", host, port,
		    flow_kind_name(f->kind));
	} else {
		const struct sockaddr_in6 *s6 = (const void *)sa;
		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		port = ntohs(s6->sin6_port);
		snprintf(url, urlsz, "sip:[%s]:%u;transport=%s", host, port,
		    flow_kind_name(f->kind));
	}
	t->px->edge->routed++;
	return 0;
}

enum step
edge_flow_failed(struct ptx *t)
{
	return answer_430(t, &t->edge.out);
}

static int
has_header(const sip_t *sip, const char *name)
{
	const sip_unknown_t *u;

	for (u = sip->sip_unknown; u != NULL; u = u->un_next)
		if (u->un_name != NULL && strcasecmp(u->un_name, name) == 0)
			return 1;
	return 0;
}

/* The expiry the registrar gave our binding: the largest over the 2xx's
 * Contacts that are the REGISTER's own; 0 when none is left. */
static unsigned
granted(const sip_t *req, const sip_t *resp)
{
	const sip_contact_t *m, *q;
	unsigned best = 0, v;
	const char *ex;
	int found = 0;

	for (m = resp->sip_contact; m != NULL; m = m->m_next)
		for (q = req->sip_contact; q != NULL; q = q->m_next) {
			if (url_cmp(m->m_url, q->m_url) != 0)
				continue;
			found = 1;
			ex = msg_params_find(m->m_params, "expires");
			v = ex != NULL ? (unsigned)strtoul(ex, NULL, 10) :
			    resp->sip_expires != NULL ?
			    (unsigned)resp->sip_expires->ex_delta : 3600;
			if (v > best)
				best = v;
		}
	if (!found && resp->sip_contact != NULL)
		return 3600; /* the registrar rewrote them: assume it kept ours */
	return best;
}

/* A final response to a REGISTER we put a Path on: the flow is
 * registered (until when) or not; Flow-Timer tells an outbound UA how
 * often to keep it alive (RFC 5626 4.4.1). */
void
edge_register_response(struct ptx *t, msg_t *resp)
{
	struct edge *e = t->px->edge;
	sip_t *rsip = sip_object(resp);
	const struct flow *fl;
	unsigned secs, ft;
	msg_header_t *h;
	char v[32];

	if (e == NULL || t->edge.reg_flow == 0 || rsip->sip_status == NULL ||
	    rsip->sip_status->st_status < 200)
		return;
	fl = flows_by_id(e->flows, t->edge.reg_flow);
	if (rsip->sip_status->st_status >= 300)
		return; /* a flow made for it goes with it (edge_ptx_free) */
	secs = granted(t->sip, rsip);
	ft = fl == NULL ? 0 : fl->a.kind == FLOW_UDP ? e->flow_timer_udp :
	    e->flow_timer_stream;
	/* RFC 5626 6: the same instance and reg-id over a new flow has
	 * replaced its binding at the registrar (which accepted it: not
	 * before, or anyone could evict a phone's flow by naming its
	 * instance); the old flow is done with. */
	if (secs != 0 && t->edge.inst != 0)
		e->expired += flows_set_instance(e->flows, t->edge.reg_flow,
		    t->edge.inst);
	/* Unregistered (no time left): this frees the flow, fl with it. */
	flows_registered(e->flows, t->edge.reg_flow, secs == 0 ? 0 :
	    monoclock_ms() + (uint64_t)secs * 1000 + GRACE_MS);
	if (secs == 0 || !t->edge.outbound || ft == 0 ||
	    has_header(rsip, "Flow-Timer"))
		return;
	/* Inserted, not added: a received message's chain ends with its
	 * body, and an added header would be sent after it. */
	snprintf(v, sizeof(v), "Flow-Timer: %u", ft);
	if ((h = msg_header_make(msg_home(resp), sip_unknown_class, v)) != NULL)
		msg_header_insert(resp, (msg_pub_t *)rsip, h);
}

/* A flow made for a REGISTER that never got its 2xx goes with it. */
void
edge_ptx_free(struct ptx *t)
{
	const struct flow *fl;

	if (t->px->edge == NULL || !t->edge.reg_new)
		return;
	fl = flows_by_id(t->px->edge->flows, t->edge.reg_flow);
	if (fl != NULL && !fl->registered)
		flows_remove(t->px->edge->flows, t->edge.reg_flow);
}

/* Debug: where the edge sent the request, and what it put on it. */
void
edge_log_forward(const struct ptx *t)
{
	if (t->px->edge == NULL)
		return;
	if (t->edge.to_flow)
		ptx_logf(t, LOG_DEBUG, "to a phone over flow %llu (%s) at %s",
		    (unsigned long long)t->edge.out.id,
		    flow_kind_name(t->edge.out.kind), t->edge.out_url);
	else if (t->edge.path && t->edge.reg_flow != 0)
		ptx_logf(t, LOG_DEBUG, "REGISTER: our Path names flow %llu%s",
		    (unsigned long long)t->edge.reg_flow,
		    t->edge.outbound ? " (outbound)" : "");
	else if (t->edge.path)
		ptx_logf(t, LOG_DEBUG, "REGISTER: our Path, no flow (not the "
		    "first hop)");
}
