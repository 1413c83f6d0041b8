/*
 * proxy.c - per-request proxy transactions on Sofia nta.
 *
 * A request passes short stages (check, loop, route) and is then forwarded
 * as one client transaction; the server transaction (nta's irq, or for a
 * non-INVITE over UDP one of our own, see owntx.h) and the client
 * transaction (orq) are tied by a struct ptx. Responses go upstream with
 * our Via removed. Everything runs on the loop thread.
 */
#define NTA_INCOMING_MAGIC_T struct ptx
#define NTA_OUTGOING_MAGIC_T struct ptx
#define NTA_AGENT_MAGIC_T struct proxy

#include "common/monoclock.h"
#include "proxyd/proxy.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/event.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nta.h>
#include <sofia-sip/nta_stateless.h>
#include <sofia-sip/nta_tag.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_util.h>
#include <sofia-sip/su_tagarg.h>
#include <sofia-sip/tport.h>

#include "proxyd/agent.h"
#include "crypto/cms.h"
#include "proxyd/conf.h"
#include "proxyd/facts.h"
#include "proxyd/hopbyhop.h"
#include "e2m/inspect.h"
#include "common/log.h"
#include "e2m/policy.h"
#include "common/ratelimit.h"
#include "proxyd/route.h"
#include "proxyd/sipchallenge.h"
#include "sip/sipmime.h"
#include "proxyd/owntx.h"
#include "proxyd/terminate.h"
#include "common/txmap.h"
#include "proxyd/workers.h"

/* Our branches are MAGIC + unique hash + "." + loop hash (RFC 3261 16.6). */
#define BRANCH_MAGIC "z9hG4bKe2m"
#define HEXHASH_LEN 16
/* RFC 3261 16.6 step 11: Timer C, more than three minutes. */
#define TIMER_C_SECONDS 185
/* Responses of one transaction waiting while an earlier one is inspected;
 * more than this many in that time is not a real UAS. */
#define RESP_QUEUE 16
/* Completed transactions of our own expire in batches this far apart. */
#define OWN_BATCH_MS 250
/* Sources tracked by each rate limiter (about 64 bytes each). */
#define RATELIMIT_SOURCES 65536

struct proxy {
	const struct conf *conf;
	struct loop *loop;
	struct agent *agent;
	struct cms_keys *keys;       /* NULL: no decryption keys configured */
	struct workers *workers;
	struct inspector *inspector;
	struct policy policy;
	struct sipchallenge *chal;
	struct ratelimit *ch_rl;  /* challenges per source */
	struct ratelimit *dec_rl; /* decryptions per source */
	struct txmap *detached;   /* INVITEs nta no longer tracks, by branch */
	struct dialogs *dialogs;  /* callers a terminating ACK must reach */
	struct owntx_table *own;  /* UDP non-INVITE server transactions */
	struct event *own_timer;  /* the oldest completed one expires */
	unsigned long long next_id;
};

struct ptx {
	struct proxy *px;
	unsigned long long id;
	nta_incoming_t *irq;       /* nta's server transaction, or NULL: */
	struct owntx *stx;         /* our own (UDP non-INVITE), or NULL */
	tport_t *tport;            /* stx: the socket the request came in on */
	nta_outgoing_t *orq;
	msg_t *req;          /* our reference to the received request */
	sip_t *sip;          /* parsed req */
	msg_t *fwd;          /* request being built; owned until sent */
	const char *route_url; /* next hop chosen by rules; borrowed */
	int rule_line;
	int canceled;
	int is_ack;                /* an ACK with a body, inspected */
	int trying_sent;           /* INVITE: our 100 went upstream */
	int detached;              /* orq let go of: see detach() */
	int detach_tried;
	msg_t *sent;               /* detached: the INVITE as sent */
	uint64_t bkey;             /* detached: key in px->detached */
	struct event *timer_c;     /* detached: no final response in time */
	const char *terminate;     /* ACK: why to end the dialog, or NULL */
	size_t stage;              /* next stage to run */
	const struct policy_rule *rule; /* NULL: no rule, not inspected */
	struct inspect *rinsp;     /* the oldest waiting response's */
	int rbusy;                 /* rinsp has crypto running */
	msg_t *rq[RESP_QUEUE];     /* responses to relay, oldest first */
	size_t rq_first, rq_n;
	struct inspect *insp;      /* the decrypt stage's findings */
	char loophash[HEXHASH_LEN + 1];
	char branch[sizeof(BRANCH_MAGIC) + 2 * HEXHASH_LEN + 2];
};

/* NEXT: go on (after forward: in flight); DONE: answered locally;
 * WAIT: crypto is running, the stages resume when it is done. */
enum step { STEP_NEXT, STEP_DONE, STEP_WAIT };

#define MAX_LABEL_FIELDS 16

/* FNV-1a: a loop check needs stability, not secrecy. */
static uint64_t
fnv1a(uint64_t h, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t
fnv_str(uint64_t h, const char *s)
{
	h = fnv1a(h, s ? s : "", s ? strlen(s) : 0);
	return fnv1a(h, "\0", 1); /* field separator */
}

static uint64_t
fnv_url(uint64_t h, const url_t *u)
{
	char buf[1024];

	if (u == NULL || url_e(buf, sizeof(buf), u) < 0)
		buf[0] = '\0';
	buf[sizeof(buf) - 1] = '\0';
	return fnv_str(h, buf);
}

/* The request fields that stay the same when a request loops back. */
static uint64_t
loop_hash(const sip_t *sip)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	const sip_route_t *r;
	char cseq[32];
	size_t i;

	h = fnv_url(h, sip->sip_request->rq_url);
	h = fnv_str(h, sip->sip_from ? sip->sip_from->a_tag : NULL);
	h = fnv_str(h, sip->sip_to ? sip->sip_to->a_tag : NULL);
	h = fnv_str(h, sip->sip_call_id ? sip->sip_call_id->i_id : NULL);
	snprintf(cseq, sizeof(cseq), "%u",
	    sip->sip_cseq ? sip->sip_cseq->cs_seq : 0);
	h = fnv_str(h, cseq);
	for (r = sip->sip_route; r != NULL; r = r->r_next)
		h = fnv_url(h, r->r_url);
	if (sip->sip_proxy_require != NULL &&
	    sip->sip_proxy_require->k_items != NULL)
		for (i = 0; sip->sip_proxy_require->k_items[i]; i++)
			h = fnv_str(h, sip->sip_proxy_require->k_items[i]);
	return h;
}

static void
make_branch(struct ptx *t)
{
	const sip_t *sip = t->sip;
	uint64_t loop = loop_hash(sip), uniq;

	uniq = fnv_str(loop, sip->sip_via->v_branch);
	uniq = fnv_str(uniq, sip->sip_via->v_host);
	uniq = fnv_str(uniq, sip->sip_via->v_port);
	snprintf(t->loophash, sizeof(t->loophash), "%016llx",
	    (unsigned long long)loop);
	snprintf(t->branch, sizeof(t->branch), BRANCH_MAGIC "%016llx.%s",
	    (unsigned long long)uniq, t->loophash);
}

static int
via_is_me(const struct proxy *px, const sip_via_t *v)
{
	url_t u[1];

	url_init(u, strcasecmp(v->v_protocol, sip_transport_tls) == 0 ?
	    url_sips : url_sip);
	u->url_host = v->v_host;
	u->url_port = v->v_port;
	return agent_is_me(px->agent, u);
}

static const char *
method_name(const sip_t *sip)
{
	return sip->sip_request->rq_method_name;
}

static void
log_request(const struct ptx *t, const char *what)
{
	char ruri[256], cid[128];
	const sip_t *sip = t->sip;

	if (log_get_level() < LOG_DEBUG)
		return;
	url_e(ruri, sizeof(ruri), sip->sip_request->rq_url);
	ruri[sizeof(ruri) - 1] = '\0';
	log_safe(cid, sizeof(cid), sip->sip_call_id->i_id,
	    strlen(sip->sip_call_id->i_id));
	log_debug("tx %llu: %s %s %s call-id %s", t->id, what,
	    method_name(sip), ruri, cid);
}

/*
 * Our own non-INVITE server transactions over UDP (docs/design.md,
 * "Memory"). nta would keep each completed one with its parsed request
 * and response for Timer J, 64*T1: most of the proxy's memory under a UDP
 * call load (the BYEs). Such requests reach us without a transaction (the
 * proxy has no default leg); owntx.c keeps the key and, once a response
 * went out, its bytes, which answer retransmissions (RFC 3261 17.2.2).
 */
static void own_arm(struct proxy *px);

/*
 * What a response copies from its request (RFC 3261 8.2.6.2; nta does
 * this for its own transactions), and a To tag for a final response that
 * has none, before its bytes are kept: a retransmission must get the same
 * tag.
 */
static int
own_complete(struct ptx *t, msg_t *resp, sip_t *rsip)
{
	su_home_t *home = msg_home(resp);
	const sip_t *q = t->sip;

	if ((rsip->sip_via == NULL && sip_add_dup(resp, rsip,
	    (sip_header_t const *)q->sip_via) < 0) ||
	    (rsip->sip_from == NULL && sip_add_dup(resp, rsip,
	    (sip_header_t const *)q->sip_from) < 0) ||
	    (rsip->sip_to == NULL && sip_add_dup(resp, rsip,
	    (sip_header_t const *)q->sip_to) < 0) ||
	    (rsip->sip_call_id == NULL && sip_add_dup(resp, rsip,
	    (sip_header_t const *)q->sip_call_id) < 0) ||
	    (rsip->sip_cseq == NULL && sip_add_dup(resp, rsip,
	    (sip_header_t const *)q->sip_cseq) < 0))
		return -1;
	if (rsip->sip_status->st_status > 100 && rsip->sip_to != NULL &&
	    rsip->sip_to->a_tag == NULL && sip_to_tag(home, rsip->sip_to,
	    nta_agent_newtag(home, "tag=%s", agent_nta(t->px->agent))) < 0)
		return -1;
	return sip_complete_message(resp);
}

/* The bytes the transport sent msg as (it encodes the headers into the
 * message for the send), in msg's home: cheaper than encoding them again
 * with msg_as_string(). NULL when msg was not encoded (an early failure). */
static char *
sent_bytes(msg_t *msg, size_t *len)
{
	msg_iovec_t iov[8];
	isize_t n = msg_iovec(msg, iov, 8), i;
	size_t total = 0, at = 0;
	char *b;

	if (n <= 0 || n > 8)
		return NULL;
	for (i = 0; i < n; i++)
		total += iov[i].mv_len;
	if ((b = su_alloc(msg_home(msg), total + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		memcpy(b + at, iov[i].mv_base, iov[i].mv_len);
		at += iov[i].mv_len;
	}
	b[total] = '\0';
	*len = total;
	return b;
}

/* Send resp (consumed) upstream on t's own transaction; its bytes answer
 * the request's retransmissions from now on. 0, or -1. */
static int
own_send(struct ptx *t, msg_t *resp)
{
	struct proxy *px = t->px;
	sip_t *rsip = sip_object(resp);
	int status = rsip->sip_status->st_status, final = status >= 200;
	int rc = -1;
	const char *bytes = NULL;
	size_t len = 0;
	msg_t *sent = NULL;

	if (owntx_completed(t->stx)) {
		/* As nta: one final response per transaction. */
		msg_destroy(resp);
		return -1;
	}
	if (own_complete(t, resp, rsip) == 0) {
		sent = msg_ref_create(resp);
		/* Out of the socket the request came in on, not by Via. */
		rc = nta_msg_mreply(agent_nta(px->agent), resp, rsip, status,
		    NULL, msg_ref_create(t->req), NTATAG_TPORT(t->tport),
		    TAG_END());
		if ((bytes = sent_bytes(sent, &len)) == NULL)
			bytes = msg_as_string(msg_home(sent), sent, NULL, 0,
			    &len);
	}
	/* Not sent: a final still completes the transaction (absorbing). */
	if (owntx_respond(px->own, t->stx, bytes, len, final, monoclock_ms()) != 0)
		log_info("tx %llu: %d not kept: retransmissions will be "
		    "absorbed", t->id, status);
	if (final)
		own_arm(px);
	msg_destroy(sent != NULL ? sent : resp);
	return rc;
}

/* A local answer on whichever server transaction t has. */
static void
answer(struct ptx *t, int status, const char *phrase, tag_type_t tag,
    tag_value_t value, ...)
{
	ta_list ta;
	msg_t *resp;
	sip_t *rsip;

	ta_start(ta, tag, value);
	if (t->irq != NULL) {
		nta_incoming_treply(t->irq, status, phrase, ta_tags(ta));
	} else if ((resp = nta_msg_create(agent_nta(t->px->agent), 0)) != NULL) {
		rsip = sip_object(resp);
		if (sip_add_tl(resp, rsip, SIPTAG_STATUS(sip_status_create(
		    msg_home(resp), status, phrase, NULL)), ta_tags(ta)) < 0 ||
		    rsip->sip_status == NULL)
			msg_destroy(resp);
		else
			own_send(t, resp);
	}
	(void)ta_end(ta);
}

static int
own_challenge(struct ptx *t, enum sipchallenge_kind kind,
    const char *const *missing, size_t nmissing, const char **why)
{
	msg_t *resp = nta_msg_create(agent_nta(t->px->agent), 0);
	sip_t *rsip = sip_object(resp);
	const char *phrase;
	int status = sipchallenge_status(t->px->chal, kind, &phrase);

	*why = "out of memory";
	if (resp == NULL)
		return -1;
	if (sip_add_tl(resp, rsip, SIPTAG_STATUS(sip_status_create(
	    msg_home(resp), status, phrase, NULL)), TAG_END()) < 0 ||
	    rsip->sip_status == NULL || own_complete(t, resp, rsip) < 0 ||
	    sipchallenge_fill(t->px->chal, resp, kind, missing, nmissing,
	    why) < 0) {
		msg_destroy(resp);
		return -1;
	}
	if (own_send(t, resp) < 0) {
		*why = "cannot send";
		return -1;
	}
	return 0;
}

static void
own_expire(evutil_socket_t fd, short what, void *arg)
{
	struct proxy *px = arg;

	(void)fd;
	(void)what;
	owntx_expire(px->own, monoclock_ms());
	own_arm(px);
}

/* One timer for all completed transactions, at the oldest one's end:
 * they all linger the same time, so they expire in order. */
static void
own_arm(struct proxy *px)
{
	uint64_t when, now = monoclock_ms();
	struct timeval tv;

	if (evtimer_pending(px->own_timer, NULL) ||
	    !owntx_next_expiry(px->own, &when))
		return;
	when = (when > now ? when - now : 0) + OWN_BATCH_MS;
	tv.tv_sec = (time_t)(when / 1000);
	tv.tv_usec = (suseconds_t)(when % 1000) * 1000;
	evtimer_add(px->own_timer, &tv);
}

/* Answer locally; the ptx is finished afterwards. */
static enum step
reply(struct ptx *t, int status, const char *phrase)
{
	/* Refusals are worth a line; keep-alive OPTIONS are not. */
	log_msg(status >= 300 ? LOG_INFO : LOG_DEBUG, "tx %llu: %s answered %d %s",
	    t->id, method_name(t->sip), status, phrase);
	answer(t, status, phrase, TAG_END());
	return STEP_DONE;
}

/*
 * Sofia keeps headers it cannot parse aside and goes on. That is right for
 * headers we only pass along, but one we act on must be well-formed.
 */
static int
has_bad_header_we_use(const sip_t *sip)
{
	static const char *const used[] = {
		"Max-Forwards", "Route", "Proxy-Require", "Record-Route",
		"Content-Length",
	};
	const sip_error_t *er;
	size_t i;

	for (er = sip->sip_error; er != NULL; er = er->er_next) {
		if (er->er_name == NULL)
			continue;
		for (i = 0; i < sizeof(used) / sizeof(used[0]); i++)
			if (strcasecmp(er->er_name, used[i]) == 0)
				return 1;
	}
	return 0;
}

static enum step
stage_check(struct ptx *t)
{
	const sip_t *sip = t->sip;

	if (has_bad_header_we_use(sip))
		return reply(t, 400, "Malformed Header");
	if (msg_size(t->req) > t->px->conf->max_message_size)
		return reply(t, SIP_413_REQUEST_TOO_LARGE);
	if (sip->sip_max_forwards != NULL &&
	    sip->sip_max_forwards->mf_count == 0)
		return reply(t, SIP_483_TOO_MANY_HOPS);
	if (sip->sip_proxy_require != NULL) {
		/* We support no extensions; list what was asked (16.3.5). */
		char *unsupp = sip_header_as_string(msg_home(t->req),
		    (sip_header_t const *)sip->sip_proxy_require);

		log_info("tx %llu: unsupported Proxy-Require", t->id);
		answer(t, SIP_420_BAD_EXTENSION, SIPTAG_UNSUPPORTED_STR(unsupp),
		    TAG_END());
		return STEP_DONE;
	}
	return STEP_NEXT;
}

/* RFC 3261 16.3.4: our Via with the same loop hash means a loop, not a
 * spiral (a spiral changed the request-URI or the Route set). */
static enum step
stage_loop(struct ptx *t)
{
	const sip_via_t *v;
	const char *dot;

	for (v = t->sip->sip_via; v != NULL; v = v->v_next) {
		if (v->v_branch == NULL ||
		    strncmp(v->v_branch, BRANCH_MAGIC, strlen(BRANCH_MAGIC)))
			continue;
		dot = strrchr(v->v_branch, '.');
		if (dot != NULL && strcmp(dot + 1, t->loophash) == 0 &&
		    via_is_me(t->px, v))
			return reply(t, SIP_482_LOOP_DETECTED);
	}
	return STEP_NEXT;
}

static void
set_max_forwards(struct ptx *t, sip_t *fsip)
{
	char val[16];
	unsigned n = (unsigned)t->px->conf->max_forwards;

	if (fsip->sip_max_forwards != NULL) {
		n = (unsigned)fsip->sip_max_forwards->mf_count - 1;
		sip_header_remove(t->fwd, fsip,
		    (sip_header_t *)fsip->sip_max_forwards);
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
	while ((r = fsip->sip_route) != NULL && agent_is_me(px->agent, r->r_url))
		sip_route_remove(t->fwd, fsip);
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

	if (!t->px->conf->record_route || m == sip_method_register ||
	    m == sip_method_ack || m == sip_method_cancel ||
	    (fsip->sip_to != NULL && fsip->sip_to->a_tag != NULL))
		return;
	in = inbound_is_tls(t);
	out = outbound_is_tls(t, fsip);
	insert_rr(t, fsip, agent_rr_url(t->px->agent, in));
	if (in != out)
		insert_rr(t, fsip, agent_rr_url(t->px->agent, out));
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
	rc = route_select(t->px->conf, &f);
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
		return reply(t, SIP_200_OK);
	return reply(t, SIP_404_NOT_FOUND);
}

static int on_response(struct ptx *t, nta_outgoing_t *orq, const sip_t *sip);
static int on_ack_cancel(struct ptx *t, nta_incoming_t *irq,
    const sip_t *sip);
static void ptx_free(struct ptx *t);
static void send_trying(struct ptx *t);
static void forward_ack(struct ptx *t);
static void cancel_downstream(struct ptx *t);

static enum step
forward(struct ptx *t)
{
	struct proxy *px = t->px;
	sip_t *fsip;
	url_string_t const *route;

	if (t->is_ack) {
		forward_ack(t);
		return STEP_DONE;
	}
	/* A deep copy: nta keeps an INVITE client transaction 32 s (Timer D)
	 * and a shallow msg_copy() would keep the received request alive
	 * with it, long after the server transaction let go. */
	if ((t->fwd = msg_dup(t->req)) == NULL)
		return reply(t, SIP_500_INTERNAL_SERVER_ERROR);
	fsip = sip_object(t->fwd);
	set_max_forwards(t, fsip);
	fix_route(t, fsip);
	choose_next_hop(t, fsip);
	if (targets_me(t, fsip))
		return answer_local(t);
	record_route(t, fsip);
	/* Before the client transaction exists: its callback may free t. */
	send_trying(t);
	route = t->route_url ? URL_STRING_MAKE(t->route_url) : NULL;
	t->orq = nta_outgoing_mcreate(agent_nta(px->agent), on_response, t,
	    route, t->fwd, NTATAG_BRANCH_KEY(t->branch), NTATAG_PASS_100(1),
	    TAG_END());
	if (t->orq == NULL) {
		log_info("tx %llu: cannot forward %s", t->id,
		    method_name(t->sip));
		return reply(t, SIP_503_SERVICE_UNAVAILABLE);
	}
	t->fwd = NULL; /* the client transaction owns it now */
	if (t->rule_line)
		log_debug("tx %llu: routed by rule at line %d to %s", t->id,
		    t->rule_line, t->route_url);
	log_request(t, "forwarded");
	return STEP_NEXT;
}

/* ACK to a 2xx is its own transaction: forward it and keep no state.
 * t is borrowed; its request and irq are left to the caller. */
static void
forward_ack(struct ptx *t)
{
	struct proxy *px = t->px;
	msg_t *fwd;
	sip_t *fsip;
	nta_outgoing_t *orq;

	if ((fwd = msg_copy(t->req)) == NULL)
		return;
	t->fwd = fwd;
	fsip = sip_object(fwd);
	set_max_forwards(t, fsip);
	fix_route(t, fsip);
	choose_next_hop(t, fsip);
	t->fwd = NULL;
	if (targets_me(t, fsip) || (t->sip->sip_max_forwards != NULL &&
	    t->sip->sip_max_forwards->mf_count == 0)) {
		msg_destroy(fwd);
		return;
	}
	if (t->terminate != NULL)
		log_info("tx %llu: dialog terminated: %d BYE sent", t->id,
		    terminate_from_ack(px->dialogs, px->agent, fsip,
		    px->conf->ch_496_code, t->terminate, monoclock_ms()));
	else
		dialogs_forget(px->dialogs, fsip, monoclock_ms());
	orq = nta_outgoing_mcreate(agent_nta(px->agent), NULL, NULL,
	    t->route_url ? URL_STRING_MAKE(t->route_url) : NULL, fwd,
	    NTATAG_STATELESS(1), TAG_END());
	if (orq == NULL)
		msg_destroy(fwd);
	else if (orq != (nta_outgoing_t *)-1)
		nta_outgoing_destroy(orq);
}

static int
is_label_header(const struct conf *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nlabel_headers; i++)
		if (strcasecmp(name, c->label_headers[i]) == 0)
			return 1;
	return 0;
}

/* Every name of the label header, every field, in message order. */
static size_t
label_fields(const struct conf *c, const sip_t *sip, struct label_field *f,
    size_t max)
{
	const sip_unknown_t *u;
	size_t n = 0;

	for (u = sip->sip_unknown; u != NULL && n < max; u = u->un_next) {
		if (u->un_name == NULL || u->un_value == NULL ||
		    !is_label_header(c, u->un_name))
			continue;
		f[n].value = u->un_value;
		f[n].len = strlen(u->un_value);
		n++;
	}
	return n;
}

static void run_stages(struct ptx *t);

/* Cheap on purpose: no signature, no body (digest 4.6, R11). */
static enum step
busy(struct ptx *t, const char *why)
{
	char ra[16];

	snprintf(ra, sizeof(ra), "%u", t->px->conf->retry_after);
	log_info("tx %llu: %s answered 503: %s", t->id, method_name(t->sip),
	    why);
	answer(t, SIP_503_SERVICE_UNAVAILABLE, SIPTAG_RETRY_AFTER_STR(ra),
	    TAG_END());
	return STEP_DONE;
}

static const struct sockaddr *
source_of(const struct ptx *t)
{
	su_addrinfo_t *ai = msg_addrinfo(t->req);

	return ai != NULL ? ai->ai_addr : NULL;
}

/* Each decryption is a private-key operation: bounded per source. */
static int
may_decrypt(void *arg)
{
	struct ptx *t = arg;

	return ratelimit_take(t->px->dec_rl, source_of(t), monoclock_ms());
}

/* Which rule applies decides whether the body is looked at at all. */
static enum step
stage_select(struct ptx *t)
{
	struct facts fx;

	facts_fill(&fx, t->req, t->sip, t->sip, NULL);
	t->rule = policy_match(&t->px->policy, &fx.f);
	return STEP_NEXT;
}

static void
log_decision(const struct ptx *t, const struct policy_decision *d)
{
	char rule[32] = "no rule";

	if (d->rule_line != 0)
		snprintf(rule, sizeof(rule), "rule at line %u", d->rule_line);
	log_msg(d->rule_line != 0 ? LOG_INFO : LOG_DEBUG,
	    "tx %llu: %s policy: %s -> %s: %s", t->id, method_name(t->sip),
	    rule, policy_verdict_name(d->verdict), d->reason);
}

static enum step
challenge(struct ptx *t, enum sipchallenge_kind kind,
    const char *const *missing, size_t nmissing)
{
	struct proxy *px = t->px;
	const char *why, *phrase;
	int status;

	if (!ratelimit_take(px->ch_rl, source_of(t), monoclock_ms()))
		return busy(t, "challenge rate limit");
	if ((t->irq != NULL ? sipchallenge_send(px->chal, agent_nta(px->agent),
	    t->irq, kind, missing, nmissing, &why) : own_challenge(t, kind,
	    missing, nmissing, &why)) == -1) {
		log_error("tx %llu: cannot make the challenge: %s", t->id, why);
		return reply(t, SIP_500_INTERNAL_SERVER_ERROR);
	}
	status = sipchallenge_status(px->chal, kind, &phrase);
	log_info("tx %llu: %s answered %d %s", t->id, method_name(t->sip),
	    status, phrase);
	return STEP_DONE;
}

/* Digest 5.1 step 6: challenge, refuse, or let it through unchanged. */
static enum step
stage_decide(struct ptx *t)
{
	struct facts fx;
	struct policy_decision d;

	facts_fill(&fx, t->req, t->sip, t->sip, t->insp != NULL &&
	    inspect_result(t->insp) == INSPECT_DONE ? t->insp : NULL);
	d = policy_decide(&t->px->policy, &fx.f);
	log_decision(t, &d);
	switch (d.verdict) {
	case POLICY_CHALLENGE_496:
		return challenge(t, SIPCHALLENGE_496, d.missing,
		    d.whole_body ? 0 : d.nmissing);
	case POLICY_CHALLENGE_495:
		return challenge(t, SIPCHALLENGE_495, NULL, 0);
	case POLICY_REJECT_403:
		return reply(t, SIP_403_FORBIDDEN);
	case POLICY_TERMINATE:
		if (t->is_ack)
			t->terminate = d.reason;
		return STEP_NEXT;
	default:
		return STEP_NEXT;
	}
}

/* Map the decrypt stage's outcome onto the SIP transaction. */
static enum step
after_inspect(struct ptx *t, enum inspect_status st)
{
	char line[1024];

	if (t->is_ack && st != INSPECT_DONE && st != INSPECT_PENDING) {
		log_info("tx %llu: ACK not inspected: %s", t->id,
		    inspect_reason(t->insp));
		return STEP_NEXT; /* an ACK cannot be refused */
	}
	switch (st) {
	case INSPECT_DONE:
		log_info("tx %llu: %s inspected: %s", t->id,
		    method_name(t->sip), inspect_summary(t->insp, line,
		    sizeof(line)));
		return STEP_NEXT;
	case INSPECT_PENDING:
		return STEP_WAIT;
	case INSPECT_TOO_LARGE:
		return reply(t, SIP_413_REQUEST_TOO_LARGE);
	case INSPECT_MALFORMED:
		log_info("tx %llu: bad body: %s", t->id,
		    inspect_reason(t->insp));
		return reply(t, 400, "Bad Request Body");
	case INSPECT_BUSY:
	case INSPECT_RATE_LIMITED:
		return busy(t, inspect_reason(t->insp));
	default:
		return reply(t, SIP_500_INTERNAL_SERVER_ERROR);
	}
}

static void
inspect_done(struct inspect *in, void *arg)
{
	struct ptx *t = arg;

	if (after_inspect(t, inspect_result(in)) == STEP_DONE) {
		ptx_free(t);
		return;
	}
	run_stages(t);
}

/* Only an active rule looks at bodies (digest 5.1 step 1). */
static int
to_inspect(const struct ptx *t, const sip_t *sip)
{
	return t->rule != NULL && t->rule->active && sip->sip_payload != NULL &&
	    sip->sip_payload->pl_len > 0;
}

/* The decrypt stage's view of msg (the request or a response). */
static void
inspect_input_of(struct ptx *t, msg_t *msg, struct inspect_input *in,
    struct label_field *labels)
{
	const sip_t *sip = sip_object(msg);

	memset(in, 0, sizeof(*in));
	sipmime_headers(msg, sip, &in->top);
	in->body = sip->sip_payload->pl_data;
	in->len = sip->sip_payload->pl_len;
	in->labels = labels;
	in->nlabels = label_fields(t->px->conf, sip, labels, MAX_LABEL_FIELDS);
	in->open_unlabelled = t->rule->open_unlabelled;
}

/* Open what the UA labelled for us; the body itself is never changed. */
static enum step
stage_inspect(struct ptx *t)
{
	struct label_field labels[MAX_LABEL_FIELDS];
	struct inspect_input in;

	if (!to_inspect(t, t->sip))
		return STEP_NEXT;
	inspect_input_of(t, t->req, &in, labels);
	in.may_decrypt = may_decrypt;
	in.may_decrypt_arg = t;
	return after_inspect(t, inspect_start(t->px->inspector, &in,
	    inspect_done, t, &t->insp));
}

static enum step (*const stages[])(struct ptx *) = {
	stage_check,
	stage_loop,
	stage_select,
	stage_inspect,
	stage_decide,
	forward,
};

#define NSTAGES (sizeof(stages) / sizeof(stages[0]))

/*
 * RFC 3261 16.2: a 100 for an INVITE that will not be answered at once,
 * because it waits for crypto or goes downstream. One refused on the spot
 * (496, 403, a rate-limit 503) gets its final response alone: a flood of
 * refused INVITEs costs one send each, not two.
 */
static void
send_trying(struct ptx *t)
{
	if (t->trying_sent || t->sip->sip_request->rq_method !=
	    sip_method_invite)
		return;
	t->trying_sent = 1;
	nta_incoming_treply(t->irq, SIP_100_TRYING, TAG_END());
}

static void
run_stages(struct ptx *t)
{
	enum step s;

	while (t->stage < NSTAGES) {
		s = stages[t->stage++](t);
		if (s == STEP_DONE) {
			ptx_free(t);
			return;
		}
		if (s == STEP_WAIT) {
			send_trying(t);
			return;
		}
	}
}

/*
 * An ACK for a 2xx is stateless, unless it carries a body policy must
 * see (digest 5.2: the answer SDP of a late offer): then it goes through
 * the same selection, inspection and decision, and cannot be refused.
 */
static void
on_ack(struct ptx *t)
{
	t->is_ack = 1;
	if (t->sip->sip_payload == NULL || t->sip->sip_payload->pl_len == 0) {
		forward_ack(t);
		ptx_free(t);
		return;
	}
	log_request(t, "received");
	/* Checks that answer an error do not apply to an ACK. */
	while (stages[t->stage] != stage_select)
		t->stage++;
	run_stages(t);
}

/* t is made for one request; NULL when out of memory. */
static struct ptx *
ptx_new(struct proxy *px, msg_t *req)
{
	struct ptx *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->px = px;
	t->id = ++px->next_id;
	t->req = req;
	t->sip = sip_object(req);
	return t;
}

static void
start(struct ptx *t)
{
	if (t->sip->sip_request->rq_method == sip_method_ack) {
		on_ack(t);
		return;
	}
	make_branch(t);
	log_request(t, "received");
	/* From now on a CANCEL reaches us, also while crypto runs. */
	if (t->irq != NULL)
		nta_incoming_bind(t->irq, on_ack_cancel, t);
	run_stages(t);
}

/* A request in a server transaction of nta's. */
static void
start_with_irq(struct proxy *px, nta_incoming_t *irq)
{
	struct ptx *t = ptx_new(px, nta_incoming_getrequest(irq));

	if (t == NULL) {
		if (nta_incoming_status(irq) < 200)
			nta_incoming_treply(irq, SIP_500_INTERNAL_SERVER_ERROR,
			    TAG_END());
		nta_incoming_destroy(irq);
		return;
	}
	t->irq = irq;
	start(t);
}

/* Requests whose transaction we keep ourselves: RFC 3261 branches (the
 * others match differently), non-INVITE, over UDP (over TCP nta ends the
 * transaction at its final response anyway). */
static int
own_eligible(const sip_t *sip)
{
	const sip_via_t *v = sip->sip_via;
	sip_method_t m = sip->sip_request->rq_method;

	return m != sip_method_invite && m != sip_method_ack &&
	    m != sip_method_cancel && v != NULL && v->v_host != NULL &&
	    v->v_branch != NULL && strncasecmp(v->v_branch, "z9hG4bK", 7) == 0 &&
	    strcasecmp(v->v_protocol, sip_transport_udp) == 0;
}

/* A retransmission: the last response again, or nothing while the
 * request is worked on (RFC 3261 17.2.2). Consumes msg. */
static void
own_retransmission(struct proxy *px, struct owntx *x, msg_t *msg,
    const sip_t *sip)
{
	size_t len;
	const char *bytes = owntx_response(x, &len);
	msg_t *resp;
	sip_t *rsip;

	if (bytes == NULL || len == 0) {
		log_debug("%s retransmission absorbed", method_name(sip));
		msg_destroy(msg);
		return;
	}
	resp = msg_make(sip_default_mclass(), 0, bytes, (ssize_t)len);
	rsip = sip_object(resp);
	if (rsip == NULL || rsip->sip_status == NULL) {
		msg_destroy(resp);
		msg_destroy(msg);
		return;
	}
	log_debug("%s retransmission answered %d again", method_name(sip),
	    rsip->sip_status->st_status);
	/* Out of the socket the retransmission came in on. */
	nta_msg_mreply(agent_nta(px->agent), resp, rsip,
	    rsip->sip_status->st_status, NULL, msg, TAG_END());
}

/* A request that is ours to keep track of (own_eligible). */
static void
start_own(struct proxy *px, msg_t *msg, sip_t *sip)
{
	nta_agent_t *nta = agent_nta(px->agent);
	const sip_via_t *v = sip->sip_via;
	struct owntx *x = owntx_find(px->own, v->v_branch, v->v_host,
	    v->v_port, method_name(sip));
	struct ptx *t;
	nta_incoming_t *irq;

	if (x != NULL) {
		own_retransmission(px, x, msg, sip);
		return;
	}
	if ((t = ptx_new(px, msg)) == NULL) {
		nta_msg_treply(nta, msg, SIP_500_INTERNAL_SERVER_ERROR, TAG_END());
		return;
	}
	t->stx = owntx_open(px->own, v->v_branch, v->v_host, v->v_port,
	    method_name(sip), t);
	if (t->stx == NULL) {
		/* nta's transaction then: costs memory, not correctness. */
		free(t);
		if ((irq = nta_incoming_create(nta, NULL, msg, sip,
		    TAG_END())) != NULL)
			start_with_irq(px, irq);
		return;
	}
	/* While it is being delivered nta can tell the socket. */
	t->tport = nta_incoming_transport(nta, NULL, msg);
	start(t);
}

/* A CANCEL nta matched to none of its transactions: ours may be the
 * target (RFC 3261 9.2: 200, and a non-INVITE goes on regardless). */
static void
on_cancel(struct proxy *px, msg_t *msg, const sip_t *sip)
{
	const sip_via_t *v = sip->sip_via;
	int mine = v != NULL && v->v_branch != NULL && v->v_host != NULL &&
	    owntx_find(px->own, v->v_branch, v->v_host, v->v_port, NULL) !=
	    NULL;

	nta_msg_treply(agent_nta(px->agent), msg, mine ? 200 : 481, NULL,
	    TAG_END());
}

/*
 * A request that matched no transaction of nta's (there is no default
 * leg, so all new requests come here). UDP non-INVITEs get a transaction
 * of ours; the rest one of nta's, as a default leg would have made.
 */
static void
on_new_request(struct proxy *px, nta_agent_t *nta, msg_t *msg, sip_t *sip)
{
	nta_incoming_t *irq;
	msg_t *ref;

	if (sip->sip_request->rq_method == sip_method_cancel) {
		on_cancel(px, msg, sip);
		return;
	}
	if (own_eligible(sip)) {
		start_own(px, msg, sip);
		return;
	}
	/* nta frees msg when it cannot make the transaction. */
	ref = msg_ref_create(msg);
	if ((irq = nta_incoming_create(nta, NULL, msg, sip, TAG_END())) ==
	    NULL) {
		if (sip->sip_request->rq_method != sip_method_ack)
			nta_msg_treply(nta, ref, SIP_500_INTERNAL_SERVER_ERROR,
			    TAG_END());
		else
			msg_destroy(ref);
		return;
	}
	msg_destroy(ref);
	start_with_irq(px, irq);
}

/* Like nta's for a destroyed transaction: a 500 if nothing final went. */
static void
own_close(struct ptx *t)
{
	if (!owntx_completed(t->stx))
		answer(t, SIP_500_INTERNAL_SERVER_ERROR, TAG_END());
	/* Still open only when even that could not be made. */
	owntx_drop(t->px->own, t->stx);
	t->stx = NULL;
	if (t->tport != NULL)
		tport_unref(t->tport);
}

/* The irq stays in nta (retransmissions, ACK); we only let go of it. */
static void
ptx_free(struct ptx *t)
{
	if (t->orq != NULL)
		nta_outgoing_destroy(t->orq);
	if (t->detached)
		txmap_del(t->px->detached, t->bkey, t);
	if (t->timer_c != NULL)
		event_free(t->timer_c);
	if (t->sent != NULL)
		msg_destroy(t->sent);
	if (t->irq != NULL)
		nta_incoming_destroy(t->irq);
	if (t->stx != NULL)
		own_close(t);
	inspect_free(t->insp);
	inspect_free(t->rinsp);
	for (; t->rq_n > 0; t->rq_n--, t->rq_first = (t->rq_first + 1) %
	    RESP_QUEUE)
		msg_destroy(t->rq[t->rq_first]);
	if (t->fwd != NULL)
		msg_destroy(t->fwd);
	if (t->req != NULL)
		msg_destroy(t->req);
	free(t);
}

/*
 * RFC 3261 16.9 counts a transport error as a 503 from the next hop, and
 * 16.7 step 6 has a proxy answer 500 for a lone 503: upstream, a 503
 * would say this proxy is unavailable (RFC 3263 moves every request to
 * another server), when only one destination behind it is.
 */
#define SIP_500_DOWNSTREAM 500, "Next Hop Unavailable"

/* nta made this final response itself: timeout (408) or transport
 * error (503). A canceled call still ends as canceled. */
static void
relay_local_failure(struct ptx *t, int status)
{
	int sent = t->canceled ? 487 : status == 408 ? 408 : 500;

	if (sent == 500)
		answer(t, SIP_500_DOWNSTREAM, TAG_END());
	else
		answer(t, sent, NULL, TAG_END());
	log_info("tx %llu: %s got no answer downstream (%d), answered %d",
	    t->id, method_name(t->sip), status, sent);
}

/* Hand one response upstream; 1 when it was final (t is done). */
static int
relay_response(struct ptx *t, msg_t *resp)
{
	int status = sip_object(resp)->sip_status->st_status;

	if (status == 503) {
		msg_destroy(resp);
		log_info("tx %llu: %s got 503 downstream, answering 500",
		    t->id, method_name(t->sip));
		answer(t, SIP_500_DOWNSTREAM, TAG_END());
		return 1;
	}
	/* mreply consumes resp; it fails on a response left without Via. */
	if ((t->irq != NULL ? nta_incoming_mreply(t->irq, resp) :
	    own_send(t, resp)) != 0)
		log_info("tx %llu: cannot relay %d for %s upstream", t->id,
		    status, method_name(t->sip));
	if (status < 200)
		return 0;
	log_debug("tx %llu: %s relayed %d", t->id, method_name(t->sip),
	    status);
	return 1;
}

/*
 * Digest 5.2: a response cannot be challenged. Policy says whether to
 * only log or to end what it belongs to: BYE both sides of the dialog a
 * 2xx to INVITE made, or CANCEL a call still ringing. resp is relayed
 * first either way (RFC 3261 16.7: 2xx to INVITE must be).
 */
static void
act_on_response(struct ptx *t, const struct policy_decision *d,
    const sip_t *invite, const sip_t *rsip, int status)
{
	const struct conf *c = t->px->conf;
	int n;

	if (d->verdict != POLICY_TERMINATE)
		return;
	if (t->sip->sip_request->rq_method != sip_method_invite) {
		log_info("tx %llu: nothing to terminate for %s", t->id,
		    method_name(t->sip));
	} else if (status >= 200 && status < 300) {
		n = terminate_dialog(t->px->agent, invite, rsip, c->ch_496_code,
		    d->reason);
		log_info("tx %llu: dialog terminated: %d BYE sent", t->id, n);
	} else if (status < 200 && !t->canceled) {
		cancel_downstream(t);
		log_info("tx %llu: call canceled", t->id);
	}
}

/* A terminate rule may have to end this dialog at its ACK, which will
 * not say how to reach the caller. */
static void
remember_caller(const struct ptx *t, const sip_t *rsip, int status)
{
	if (status >= 200 && status < 300 && t->rule != NULL &&
	    t->rule->active && t->rule->on_undecipherable_in_dialog ==
	    POLICY_INDIALOG_TERMINATE &&
	    t->sip->sip_request->rq_method == sip_method_invite)
		dialogs_remember(t->px->dialogs, t->px->agent, t->sip, rsip,
		    monoclock_ms());
}

/* Decide on and relay the oldest waiting response; 1 when t is gone. */
static int
release_response(struct ptx *t)
{
	msg_t *resp = t->rq[t->rq_first], *keep;
	const sip_t *rsip = sip_object(resp);
	int status = rsip->sip_status->st_status, final;
	struct policy_decision d;
	struct facts fx;
	char line[1024];

	t->rq_first = (t->rq_first + 1) % RESP_QUEUE;
	t->rq_n--;
	if (t->rinsp == NULL) {
		remember_caller(t, rsip, status);
		return relay_response(t, resp) ? (ptx_free(t), 1) : 0;
	}
	if (inspect_result(t->rinsp) == INSPECT_DONE)
		log_info("tx %llu: %s %d inspected: %s", t->id,
		    method_name(t->sip), status, inspect_summary(t->rinsp,
		    line, sizeof(line)));
	else
		log_info("tx %llu: %s %d not inspected: %s", t->id,
		    method_name(t->sip), status, inspect_reason(t->rinsp));
	facts_fill(&fx, t->req, t->sip, rsip,
	    inspect_result(t->rinsp) == INSPECT_DONE ? t->rinsp : NULL);
	d = policy_decide(&t->px->policy, &fx.f);
	log_msg(d.rule_line != 0 ? LOG_INFO : LOG_DEBUG,
	    "tx %llu: %s %d policy: rule at line %u -> %s: %s", t->id,
	    method_name(t->sip), status, d.rule_line,
	    policy_verdict_name(d.verdict), d.reason);
	inspect_free(t->rinsp);
	t->rinsp = NULL;
	if (d.verdict != POLICY_TERMINATE)
		remember_caller(t, rsip, status);
	keep = msg_ref_create(resp); /* the dialog's data, past mreply */
	final = relay_response(t, resp);
	act_on_response(t, &d, t->sip, sip_object(keep), status);
	msg_destroy(keep);
	if (final)
		ptx_free(t);
	return final;
}

static void pump_responses(struct ptx *t);

static void
response_inspected(struct inspect *in, void *arg)
{
	struct ptx *t = arg;

	(void)in;
	t->rbusy = 0;
	if (!release_response(t))
		pump_responses(t);
}

/* Responses leave in the order they came, each after its inspection. */
static void
pump_responses(struct ptx *t)
{
	struct label_field labels[MAX_LABEL_FIELDS];
	struct inspect_input in;
	msg_t *resp;

	while (t->rq_n > 0 && !t->rbusy) {
		resp = t->rq[t->rq_first];
		if (to_inspect(t, sip_object(resp))) {
			inspect_input_of(t, resp, &in, labels);
			if (inspect_start(t->px->inspector, &in,
			    response_inspected, t, &t->rinsp) ==
			    INSPECT_PENDING) {
				t->rbusy = 1;
				return;
			}
		}
		if (release_response(t))
			return;
	}
}

/* resp goes upstream in turn, with our Via removed. */
static void
queue_response(struct ptx *t, msg_t *resp, int status)
{
	sip_via_remove(resp, sip_object(resp));
	if (t->rq_n == RESP_QUEUE) {
		log_info("tx %llu: %d dropped: too many responses waiting",
		    t->id, status);
		msg_destroy(resp);
		return;
	}
	/* Later 2xx retransmissions arrive stray and go stateless. */
	t->rq[(t->rq_first + t->rq_n++) % RESP_QUEUE] = resp;
	pump_responses(t);
}

static uint64_t
branch_key(const char *branch)
{
	return fnv_str(0xcbf29ce484222325ULL, branch);
}

static int
has_branch(const void *val, const void *arg)
{
	return strcmp(((const struct ptx *)val)->branch, arg) == 0;
}

/* Timer C: ringing for ever. Give up downstream and upstream. */
static void
timer_c_fired(evutil_socket_t fd, short what, void *arg)
{
	struct ptx *t = arg;
	struct loop *l = t->px->loop;

	(void)fd;
	(void)what;
	log_info("tx %llu: no final response in %d s", t->id,
	    TIMER_C_SECONDS);
	if (!t->canceled)
		hop_cancel(agent_nta(t->px->agent), t->sent, t->route_url);
	relay_local_failure(t, 408);
	ptx_free(t);
	loop_kick(l);
}

/*
 * nta keeps an INVITE client transaction 32 s after its final response
 * (Timer D; Sofia has it at 32 s at least whatever T1 is) together with
 * both messages: most of the proxy's memory under UDP call load. Once the
 * call is proceeding the transaction has done its part (retransmitting
 * the INVITE), so let go of it: later responses arrive as strays and are
 * matched by our branch (on_stray), the non-2xx ACK and the CANCEL are
 * made by hopbyhop.c, and Timer C is ours.
 */
static void
detach(struct ptx *t)
{
	struct proxy *px = t->px;
	struct timeval tv = { TIMER_C_SECONDS, 0 };
	msg_t *sent = nta_outgoing_getrequest(t->orq);
	const sip_t *ssip = sip_object(sent);

	t->detach_tried = 1;
	/* Over TCP or TLS nta ends the transaction at its final response
	 * anyway; letting go of it early there only made Sofia hold on to
	 * more (measured: 4x the memory). */
	if (ssip == NULL || ssip->sip_via == NULL || strcasecmp(
	    ssip->sip_via->v_protocol, sip_transport_udp) != 0) {
		msg_destroy(sent);
		return;
	}
	t->bkey = branch_key(t->branch);
	t->timer_c = evtimer_new(loop_base(px->loop), timer_c_fired, t);
	if (t->timer_c == NULL || txmap_put(px->detached, t->bkey, t) != 0) {
		/* Keep nta's transaction: costs memory, not correctness. */
		if (t->timer_c != NULL)
			event_free(t->timer_c);
		t->timer_c = NULL;
		msg_destroy(sent);
		return;
	}
	t->sent = sent;
	nta_outgoing_destroy(t->orq);
	t->orq = NULL;
	t->detached = 1;
	evtimer_add(t->timer_c, &tv);
	log_debug("tx %llu: INVITE proceeding, transaction taken over", t->id);
}

static int
on_response(struct ptx *t, nta_outgoing_t *orq, const sip_t *sip)
{
	msg_t *resp = NULL;
	int status = sip ? sip->sip_status->st_status : nta_outgoing_status(orq);

	if (nta_sip_is_internal(sip)) {
		if (status >= 200) {
			relay_local_failure(t, status);
			ptx_free(t);
		}
		return 0;
	}
	if (status > 100)
		resp = nta_outgoing_getresponse(orq);
	if (status < 200 && !t->canceled && !t->detach_tried &&
	    t->sip->sip_request->rq_method == sip_method_invite)
		detach(t);
	if (resp != NULL)
		queue_response(t, resp, status);
	return 0;
}

/* A response for a detached INVITE, found by our branch. */
static void
on_detached_response(struct ptx *t, msg_t *msg, const sip_t *sip)
{
	int status = sip->sip_status->st_status;

	if (status <= 100) {
		msg_destroy(msg);
		return;
	}
	log_debug("tx %llu: %d matched by branch", t->id, status);
	if (status >= 300)
		hop_ack(agent_nta(t->px->agent), t->sent, t->route_url, msg);
	if (status >= 200 && t->timer_c != NULL)
		evtimer_del(t->timer_c);
	queue_response(t, msg, status);
}

static void
cancel_downstream(struct ptx *t)
{
	t->canceled = 1;
	if (t->orq != NULL)
		/* The CANCEL's own transaction needs nothing from us. */
		nta_outgoing_destroy(nta_outgoing_tcancel(t->orq, NULL, NULL,
		    TAG_END()));
	else if (t->detached)
		hop_cancel(agent_nta(t->px->agent), t->sent, t->route_url);
}

static int
on_ack_cancel(struct ptx *t, nta_incoming_t *irq, const sip_t *sip)
{
	(void)irq;
	if (sip == NULL || sip->sip_request->rq_method != sip_method_cancel)
		return 0;
	log_debug("tx %llu: CANCEL received", t->id);
	if (t->orq == NULL && !t->detached && !t->canceled) {
		/* Not forwarded yet (crypto running): end it here. */
		t->canceled = 1;
		nta_incoming_treply(t->irq, SIP_487_REQUEST_TERMINATED,
		    TAG_END());
		ptx_free(t);
		return 200;
	}
	if (!t->canceled)
		cancel_downstream(t);
	return 200;
}

/* A response to an INVITE we sent: our branch in a Via of ours on top. */
static int
ours_to_invite(struct proxy *px, const sip_t *sip)
{
	return sip != NULL && sip->sip_status != NULL && sip->sip_cseq != NULL &&
	    sip->sip_cseq->cs_method == sip_method_invite &&
	    sip->sip_via != NULL && sip->sip_via->v_branch != NULL &&
	    strncmp(sip->sip_via->v_branch, BRANCH_MAGIC,
	    strlen(BRANCH_MAGIC)) == 0 && via_is_me(px, sip->sip_via);
}

/*
 * Messages nta matched to no transaction. Requests: see on_new_request.
 * Responses: those of INVITEs we detached go to their call; once the call
 * is gone, a 2xx retransmission is forwarded statelessly (RFC 3261 16.7
 * step 10, only with a Via left for it: no reflection for strangers) and
 * a non-2xx one is ACKed again. Anything else is dropped.
 */
static int
on_stray(struct proxy *px, nta_agent_t *nta, msg_t *msg, sip_t *sip)
{
	struct ptx *t;
	int status;

	if (sip != NULL && sip->sip_request != NULL) {
		on_new_request(px, nta, msg, sip);
		return 0;
	}
	if (!ours_to_invite(px, sip)) {
		msg_destroy(msg);
		return 0;
	}
	t = txmap_find(px->detached, branch_key(sip->sip_via->v_branch),
	    has_branch, sip->sip_via->v_branch);
	if (t != NULL) {
		on_detached_response(t, msg, sip);
		return 0;
	}
	status = sip->sip_status->st_status;
	if (status >= 200 && status < 300 && sip->sip_via->v_next != NULL) {
		nta_msg_tsend(nta, msg, NULL, TAG_END());
		return 0;
	}
	if (status >= 300)
		hop_ack(nta, NULL, NULL, msg);
	msg_destroy(msg);
	return 0;
}

static int
load_keys(struct proxy *px)
{
	const struct conf *c = px->conf;
	const char *certs[CMS_MAX_KEYS], *keys[CMS_MAX_KEYS];
	char err[512];
	size_t i, n = c->ninspect_keys;

	if (n == 0 && c->ntrust_anchors == 0)
		return 0; /* nothing to open, nothing to check against */
	if (n > CMS_MAX_KEYS) {
		log_error("inspect.keys: at most %d key pairs", CMS_MAX_KEYS);
		return -1;
	}
	for (i = 0; i < n; i++) {
		certs[i] = c->inspect_keys[i].certificate;
		keys[i] = c->inspect_keys[i].key;
	}
	px->keys = cms_keys_load(certs, keys, n,
	    (const char *const *)c->trust_anchors, c->ntrust_anchors,
	    (const char *const *)c->crl_files, c->ncrl_files, err,
	    sizeof(err));
	if (px->keys == NULL) {
		log_error("cannot load the inspection keys: %s", err);
		return -1;
	}
	if (cms_keys_set_ciphers(px->keys,
	    (const char *const *)c->content_ciphers, c->ncontent_ciphers, err,
	    sizeof(err)) == -1) {
		log_error("inspect.content_ciphers: %s", err);
		return -1;
	}
	log_info("inspection: %zu decryption key(s), %zu trust anchor file(s), "
	    "%zu CRL file(s)", n, c->ntrust_anchors, c->ncrl_files);
	return 0;
}

static int
load_policy(struct proxy *px)
{
	const struct conf *c = px->conf;
	char err[512];

	px->policy.rules = c->policy_rules;
	px->policy.nrules = c->npolicy_rules;
	if ((px->chal = sipchallenge_new(c, err, sizeof(err))) == NULL) {
		log_error("cannot load the challenge keys: %s", err);
		return -1;
	}
	px->ch_rl = ratelimit_new(c->ch_rate, c->ch_burst, RATELIMIT_SOURCES);
	px->dialogs = dialogs_new(c->transaction_timeout_ms);
	if ((px->detached = txmap_new()) == NULL || px->dialogs == NULL) {
		log_error("cannot set up the transaction map: out of memory");
		return -1;
	}
	px->dec_rl = ratelimit_new(c->decrypt_rate, c->decrypt_burst,
	    RATELIMIT_SOURCES);
	if (px->ch_rl == NULL || px->dec_rl == NULL) {
		log_error("cannot set up the rate limits: out of memory");
		return -1;
	}
	if (c->npolicy_rules > 0)
		log_info("policy: %zu rule(s); challenges %s, warn-agent %s",
		    c->npolicy_rules, c->ch_legacy_unsigned ?
		    "unsigned (legacy)" : "signed", c->ch_warn_agent);
	return 0;
}

/* The decrypt stage's crypto goes to the worker pool. */
static int
submit_to_workers(void *pool, inspect_work_fn *work, inspect_job_done_fn *done,
    void *arg)
{
	return workers_submit(pool, work, done, arg);
}

/* Threads do not survive daemon()'s fork: start them afterwards. */
int
proxy_start(struct proxy *px)
{
	const struct conf *c = px->conf;
	struct inspector_conf ic;

	px->workers = workers_new(px->loop, c->workers, c->queue);
	if (px->workers == NULL) {
		log_error("cannot start %u crypto worker threads", c->workers);
		return -1;
	}
	memset(&ic, 0, sizeof(ic));
	ic.keys = px->keys;
	ic.submit = submit_to_workers;
	ic.pool = px->workers;
	ic.limits.max_body = c->max_body;
	ic.limits.max_depth = c->max_depth;
	ic.limits.max_parts = c->max_parts;
	ic.own_names = agent_own_names(px->agent, &ic.nown_names);
	if ((px->inspector = inspector_new(&ic)) == NULL) {
		log_error("cannot set up the decrypt stage");
		return -1;
	}
	return 0;
}

struct proxy *
proxy_new(struct loop *l, const struct conf *c, unsigned sofia_debug)
{
	struct proxy *px;

	if ((px = calloc(1, sizeof(*px))) == NULL)
		return NULL;
	px->conf = c;
	px->loop = l;
	agent_redirect_sofia_logs(sofia_debug);
	/* Timer J: 64*T1, which transaction_timeout is. */
	px->own = owntx_new(c->transaction_timeout_ms);
	px->own_timer = evtimer_new(loop_base(l), own_expire, px);
	if (px->own == NULL || px->own_timer == NULL) {
		log_error("cannot set up the transaction table: out of memory");
		goto fail;
	}
	/* No default leg: every new request comes to on_stray, which makes
	 * the server transaction, nta's or ours (on_new_request). */
	if ((px->agent = agent_new(l, c, on_stray, px)) == NULL)
		goto fail;
	if (load_keys(px) == -1 || load_policy(px) == -1)
		goto fail;
	return px;
fail:
	proxy_free(px);
	return NULL;
}

void
proxy_free(struct proxy *px)
{
	if (px == NULL)
		return;
	/* Pending completions may still answer through Sofia. */
	workers_free(px->workers);
	inspector_free(px->inspector);
	cms_keys_free(px->keys);
	sipchallenge_free(px->chal);
	ratelimit_free(px->ch_rl);
	ratelimit_free(px->dec_rl);
	txmap_free(px->detached);
	dialogs_free(px->dialogs);
	agent_free(px->agent);
	if (px->own_timer != NULL)
		event_free(px->own_timer);
	owntx_free(px->own);
	free(px);
}
