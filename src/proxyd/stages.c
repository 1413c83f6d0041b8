/*
 * stages.c - the stages a request passes before it is forwarded: check
 * (headers we act on, size, Max-Forwards, Proxy-Require), loop (RFC 3261
 * 16.3.4), select (the policy rule that applies), inspect (open what the
 * UA labelled for us, on the workers), decide (digest 5.1 step 6:
 * challenge, refuse or let through); then forward.c. A stage answers, goes
 * on, or waits for crypto, after which the stages resume where they were.
 */
#include "proxyd/ptx.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nta.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_tagarg.h>

#include "common/log.h"
#include "common/monoclock.h"
#include "common/ratelimit.h"
#include "e2m/inspect.h"
#include "e2m/policy.h"
#include "proxyd/agent.h"
#include "proxyd/conf.h"
#include "proxyd/facts.h"
#include "proxyd/sipchallenge.h"
#include "proxyd/svc_archive.h"
#include "proxyd/svc_pinhole.h"
#include "sip/sipmime.h"

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

uint64_t
ptx_hash_str(uint64_t h, const char *s)
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
	return ptx_hash_str(h, buf);
}

/* These two run for every request: snprintf() cost more than the
 * hashing they serve. */
static const char *
dec_u32(char buf[11], uint32_t v)
{
	char *p = buf + 10;

	*p = '\0';
	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	return p;
}

/* v as HEXHASH_LEN lower-case hex digits and a NUL ("%016llx"). */
static void
hex64(char *out, uint64_t v)
{
	static const char digit[] = "0123456789abcdef";
	size_t i;

	for (i = HEXHASH_LEN; i-- > 0; v >>= 4)
		out[i] = digit[v & 15];
	out[HEXHASH_LEN] = '\0';
}

/* The request fields that stay the same when a request loops back. */
static uint64_t
loop_hash(const sip_t *sip)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	const sip_route_t *r;
	char cseq[11];
	size_t i;

	h = fnv_url(h, sip->sip_request->rq_url);
	h = ptx_hash_str(h, sip->sip_from ? sip->sip_from->a_tag : NULL);
	h = ptx_hash_str(h, sip->sip_to ? sip->sip_to->a_tag : NULL);
	h = ptx_hash_str(h, sip->sip_call_id ? sip->sip_call_id->i_id : NULL);
	h = ptx_hash_str(h, dec_u32(cseq, sip->sip_cseq ? sip->sip_cseq->cs_seq :
	    0));
	for (r = sip->sip_route; r != NULL; r = r->r_next)
		h = fnv_url(h, r->r_url);
	if (sip->sip_proxy_require != NULL &&
	    sip->sip_proxy_require->k_items != NULL)
		for (i = 0; sip->sip_proxy_require->k_items[i]; i++)
			h = ptx_hash_str(h, sip->sip_proxy_require->k_items[i]);
	return h;
}

static void
make_branch(struct ptx *t)
{
	const sip_t *sip = t->sip;
	uint64_t loop = loop_hash(sip), uniq;
	char *b = t->branch;

	uniq = ptx_hash_str(loop, sip->sip_via->v_branch);
	uniq = ptx_hash_str(uniq, sip->sip_via->v_host);
	uniq = ptx_hash_str(uniq, sip->sip_via->v_port);
	hex64(t->loophash, loop);
	memcpy(b, BRANCH_MAGIC, sizeof(BRANCH_MAGIC) - 1);
	b += sizeof(BRANCH_MAGIC) - 1;
	hex64(b, uniq);
	b[HEXHASH_LEN] = '.';
	memcpy(b + HEXHASH_LEN + 1, t->loophash, HEXHASH_LEN + 1);
}

int
ptx_via_is_me(const struct proxy *px, const sip_via_t *v)
{
	url_t u[1];

	url_init(u, strcasecmp(v->v_protocol, sip_transport_tls) == 0 ?
	    url_sips : url_sip);
	u->url_host = v->v_host;
	u->url_port = v->v_port;
	return agent_is_me(px->agent, u);
}

void
msg_vlogf(msg_t *req, const sip_t *sip, unsigned long long tx, int prio,
    const char *fmt, va_list ap)
{
	struct facts_source src;
	struct log_req r;

	if (prio > log_get_level())
		return;
	facts_source(req, sip, &src);
	memset(&r, 0, sizeof(r));
	r.tx = tx;
	r.method = method_name(sip);
	r.cseq = sip->sip_cseq != NULL ? sip->sip_cseq->cs_seq : 0;
	r.call_id = sip->sip_call_id != NULL ? sip->sip_call_id->i_id : NULL;
	r.transport = src.transport;
	r.address = src.address[0] != '\0' ? src.address : NULL;
	r.port = src.port;
	log_vreq(prio, &r, fmt, ap);
}

void
msg_logf(msg_t *req, const sip_t *sip, int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msg_vlogf(req, sip, 0, prio, fmt, ap);
	va_end(ap);
}

void
ptx_vlogf(const struct ptx *t, int prio, const char *fmt, va_list ap)
{
	msg_vlogf(t->req, t->sip, t->id, prio, fmt, ap);
}

void
ptx_logf(const struct ptx *t, int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ptx_vlogf(t, prio, fmt, ap);
	va_end(ap);
}

void
ptx_log(const struct ptx *t, const char *what)
{
	char ruri[256], safe[1024];

	if (log_get_level() < LOG_DEBUG)
		return;
	url_e(ruri, sizeof(ruri), t->sip->sip_request->rq_url);
	ruri[sizeof(ruri) - 1] = '\0';
	ptx_logf(t, LOG_DEBUG, "%s %s %s", what, method_name(t->sip),
	    log_safe(safe, sizeof(safe), ruri, strlen(ruri)));
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

/* The schemes a next hop can be found for: SIP's, and tel: by rules. */
static int
uri_routable(const url_t *u)
{
	return u->url_type == url_sip || u->url_type == url_sips ||
	    u->url_type == url_tel;
}

static enum step
stage_check(struct ptx *t)
{
	const sip_t *sip = t->sip;

	if (has_bad_header_we_use(sip))
		return answer_reply(t, 400, "Malformed Header");
	if (msg_size(t->req) > t->st->conf->max_message_size)
		return answer_reply(t, SIP_413_REQUEST_TOO_LARGE);
	/* 16.3 step 2: a scheme we cannot route is 416, not a DNS lookup. */
	if (!uri_routable(sip->sip_request->rq_url))
		return answer_reply(t, SIP_416_UNSUPPORTED_URI);
	/* RFC 3261 19.1.1: headers are not allowed in a Request-URI, and
	 * must never become header fields (RFC 4475 escruri). */
	if (sip->sip_request->rq_url->url_headers != NULL)
		return answer_reply(t, 400, "Headers In Request-URI");
	if (sip->sip_max_forwards != NULL &&
	    sip->sip_max_forwards->mf_count == 0)
		return answer_reply(t, SIP_483_TOO_MANY_HOPS);
	if (sip->sip_proxy_require != NULL) {
		/* We support no extensions; list what was asked (16.3.5). */
		char *unsupp = sip_header_as_string(msg_home(t->req),
		    (sip_header_t const *)sip->sip_proxy_require);

		ptx_logf(t, LOG_INFO, "unsupported Proxy-Require");
		answer_status(t, SIP_420_BAD_EXTENSION,
		    SIPTAG_UNSUPPORTED_STR(unsupp), TAG_END());
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
		    ptx_via_is_me(t->px, v))
			return answer_reply(t, SIP_482_LOOP_DETECTED);
	}
	return STEP_NEXT;
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

	snprintf(ra, sizeof(ra), "%u", t->st->conf->retry_after);
	ptx_logf(t, LOG_INFO, "%s answered 503: %s", method_name(t->sip),
	    why);
	answer_status(t, SIP_503_SERVICE_UNAVAILABLE,
	    SIPTAG_RETRY_AFTER_STR(ra), TAG_END());
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
	fx.f.direction = t->edge.direction;
	t->rule = policy_match(&t->st->policy, &fx.f);
	return STEP_NEXT;
}

static void
log_decision(const struct ptx *t, const struct policy_decision *d)
{
	char rule[32] = "no rule";

	if (d->rule_line != 0)
		snprintf(rule, sizeof(rule), "rule at line %u", d->rule_line);
	ptx_logf(t, d->rule_line != 0 ? LOG_INFO : LOG_DEBUG,
	    "%s policy: %s -> %s: %s", method_name(t->sip),
	    rule, policy_verdict_name(d->verdict), d->reason);
}

static enum step
challenge(struct ptx *t, enum sipchallenge_kind kind,
    const char *const *missing, size_t nmissing)
{
	struct proxy *px = t->px;
	const char *why, *phrase;
	int status;

	if (!ratelimit_take(px->ch_rl, source_of(t), monoclock_ms())) {
		px->stats.limited_challenge++;
		return busy(t, "challenge rate limit");
	}
	if ((t->irq != NULL ? sipchallenge_send(t->st->chal, agent_nta(px->agent),
	    t->irq, kind, missing, nmissing, &why) :
	    answer_own_challenge(t, kind, missing, nmissing, &why)) == -1) {
		ptx_logf(t, LOG_ERR, "cannot make the challenge: %s", why);
		return answer_reply(t, SIP_500_INTERNAL_SERVER_ERROR);
	}
	status = sipchallenge_status(t->st->chal, kind, &phrase);
	px->stats.challenges[kind == SIPCHALLENGE_496]++;
	t->final_status = status;
	if (t->irq != NULL)
		ptx_count_response(px, status); /* answer_own_send counts ours */
	ptx_logf(t, LOG_INFO, "%s answered %d %s", method_name(t->sip),
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
	fx.f.direction = t->edge.direction;
	d = policy_decide(&t->st->policy, &fx.f);
	log_decision(t, &d);
	switch (d.verdict) {
	case POLICY_CHALLENGE_496:
		return challenge(t, SIPCHALLENGE_496, d.missing,
		    d.whole_body ? 0 : d.nmissing);
	case POLICY_CHALLENGE_495:
		return challenge(t, SIPCHALLENGE_495, NULL, 0);
	case POLICY_REJECT_403:
		return answer_reply(t, SIP_403_FORBIDDEN);
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
		ptx_logf(t, LOG_INFO, "ACK not inspected: %s",
		    inspect_reason(t->insp));
		return STEP_NEXT; /* an ACK cannot be refused */
	}
	switch (st) {
	case INSPECT_DONE:
		stages_count_inspection(t->px, t->insp);
		if (log_get_level() >= LOG_INFO) /* the summary costs */
			ptx_logf(t, LOG_INFO, "%s inspected: %s",
			    method_name(t->sip), inspect_summary(t->insp,
			    line, sizeof(line)));
		return STEP_NEXT;
	case INSPECT_PENDING:
		return STEP_WAIT;
	case INSPECT_TOO_LARGE:
		return answer_reply(t, SIP_413_REQUEST_TOO_LARGE);
	case INSPECT_MALFORMED:
		ptx_logf(t, LOG_INFO, "bad body: %s",
		    inspect_reason(t->insp));
		return answer_reply(t, 400, "Bad Request Body");
	case INSPECT_BUSY:
		t->px->stats.busy++;
		return busy(t, inspect_reason(t->insp));
	case INSPECT_RATE_LIMITED:
		t->px->stats.limited_decrypt++;
		return busy(t, inspect_reason(t->insp));
	default:
		return answer_reply(t, SIP_500_INTERNAL_SERVER_ERROR);
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

/* What the decrypt stage opened and checked, for /metrics. */
void
stages_count_inspection(struct proxy *px, const struct inspect *in)
{
	const struct inspect_target *tg;
	const struct inspect_signature *sg;
	size_t i;

	for (i = 0; (tg = inspect_target(in, i)) != NULL; i++)
		if (tg->state == TARGET_OPENED)
			px->stats.decrypt_opened++;
		else if (tg->state == TARGET_UNDECIPHERABLE)
			px->stats.decrypt_failed++;
	for (i = 0; (sg = inspect_signature(in, i)) != NULL; i++)
		if (sg->valid)
			px->stats.sig_valid++;
		else
			px->stats.sig_invalid++;
}

/* Only an active rule looks at bodies (digest 5.1 step 1). */
int
stages_to_inspect(const struct ptx *t, const sip_t *sip)
{
	return t->rule != NULL && t->rule->active && sip->sip_payload != NULL &&
	    sip->sip_payload->pl_len > 0;
}

/* The decrypt stage's view of msg (the request or a response). */
void
stages_inspect_input(struct ptx *t, msg_t *msg, struct inspect_input *in,
    struct label_field *labels)
{
	const sip_t *sip = sip_object(msg);

	memset(in, 0, sizeof(*in));
	sipmime_headers(msg, sip, &in->top);
	in->body = sip->sip_payload->pl_data;
	in->len = sip->sip_payload->pl_len;
	in->labels = labels;
	in->nlabels = label_fields(t->st->conf, sip, labels, MAX_LABEL_FIELDS);
	in->open_unlabelled = t->rule->open_unlabelled;
}

/* Open what the UA labelled for us; the body itself is never changed. */
static enum step
stage_inspect(struct ptx *t)
{
	struct label_field labels[MAX_LABEL_FIELDS];
	struct inspect_input in;

	if (!stages_to_inspect(t, t->sip))
		return STEP_NEXT;
	stages_inspect_input(t, t->req, &in, labels);
	in.may_decrypt = may_decrypt;
	in.may_decrypt_arg = t;
	return after_inspect(t, inspect_start(t->st->inspector, &in,
	    inspect_done, t, &t->insp));
}

/* The archive could not take the record: fail closed (500, nothing
 * forwarded) unless configured to forward anyway. */
static enum step
archive_failed(struct ptx *t)
{
	char warning[300];

	if (svc_archive_fails_open(t->px->archive))
		return STEP_NEXT;
	snprintf(warning, sizeof(warning), "399 %s \"message archive "
	    "unavailable\"", t->st->conf->ch_warn_agent);
	ptx_logf(t, LOG_INFO, "%s answered 500: not archived",
	    method_name(t->sip));
	answer_status(t, 500, "Archive Unavailable",
	    SIPTAG_WARNING_STR(warning), TAG_END());
	return STEP_DONE;
}

static void
archived(struct ptx *t, int durable)
{
	if (durable)
		t->archived = 1;
	else if (archive_failed(t) == STEP_DONE) {
		ptx_free(t);
		return;
	}
	run_stages(t);
}

/* Digest 5.1 step 6e: the IM archive, durable before forwarding. */
static enum step
stage_archive(struct ptx *t)
{
	if (t->px->archive == NULL || t->is_ack || t->rule == NULL ||
	    !t->rule->active ||
	    t->sip->sip_request->rq_method != sip_method_message)
		return STEP_NEXT;
	if (svc_archive_seen(t->px->archive, t)) {
		ptx_logf(t, LOG_INFO, "MESSAGE already archived: its first "
		    "pass through this proxy (a spiral)");
		return STEP_NEXT;
	}
	switch (svc_archive_message(t->px->archive, t, archived)) {
	case 0:
		return STEP_NEXT;
	case 1:
		return STEP_WAIT;
	default:
		return archive_failed(t);
	}
}

/* Digest 5.1 step 6e: media pinholes from the SDP the proxy read; a
 * BYE closes them. Never stops the request. */
static enum step
stage_media(struct ptx *t)
{
	svc_pinhole_request(t->px->pinholes, t);
	return STEP_NEXT;
}

static enum step (*const stages[])(struct ptx *) = {
	stage_check,
	stage_loop,
	edge_stage,
	stage_select,
	stage_inspect,
	stage_decide,
	stage_archive,
	stage_media,
	forward_request,
};

#define NSTAGES (sizeof(stages) / sizeof(stages[0]))

/*
 * RFC 3261 16.2: a 100 for an INVITE that will not be answered at once,
 * because it waits for crypto or goes downstream. One refused on the spot
 * (496, 403, a rate-limit 503) gets its final response alone: a flood of
 * refused INVITEs costs one send each, not two.
 */
void
stages_send_trying(struct ptx *t)
{
	if (t->trying_sent || t->sip->sip_request->rq_method !=
	    sip_method_invite)
		return;
	t->trying_sent = 1;
	ptx_count_response(t->px, 100);
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
			stages_send_trying(t);
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
	ptx_log(t, "received");
	/* Which way it goes, for the rule (forward_ack() routes it). */
	(void)edge_ack(t);
	/* Checks that answer an error do not apply to an ACK. */
	while (stages[t->stage] != stage_select)
		t->stage++;
	run_stages(t);
}

void
stages_start(struct ptx *t)
{
	t->px->stats.requests[proxy_stats_method(method_name(t->sip))]++;
	if (t->sip->sip_request->rq_method == sip_method_ack) {
		on_ack(t);
		return;
	}
	make_branch(t);
	ptx_log(t, "received");
	/* From now on a CANCEL reaches us, also while crypto runs. */
	if (t->irq != NULL)
		nta_incoming_bind(t->irq, invite_on_cancel, t);
	run_stages(t);
}
