/*
 * uac.c - e2mua's calling side (see uac.h).
 *
 * A retry after a challenge keeps the Call-ID and From tag and takes the
 * next CSeq and a new branch (RFC 3261 8.1.3.5), like a 401/407 retry.
 * A 495 is answered by signing (inside the envelope when encrypting) and
 * sending once more; it is not verified first, since it only ever asks for
 * more protection (digest R15).
 */
#define NTA_OUTGOING_MAGIC_T struct ua

#include "ua/uac.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sofia-sip/nta.h>
#include <sofia-sip/nta_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_util.h>
#include <sofia-sip/su_tagarg.h>

#include "crypto/cms.h"
#include "sip/sipmime.h"
#include "ua/uajson.h"
#include "ua/ualearn.h"
#include "ua/uamsg.h"
#include "ua/uaopts.h"
#include "ua/uarecv.h"
#include "ua/uatrust.h"

#define WARN_CODE 380 /* "Required to View Content-Type" (digest 4.4) */

struct ua {
	su_root_t *root;
	int status;
	char phrase[128];
	int done;
	msg_t *resp;          /* the final response */
};

/* The request's identity across retries. */
struct call {
	const char *call_id;
	const char *from_tag;
	unsigned cseq;
	char branch[128];     /* of the last attempt */
	long long sent_at;
};

#define MAX_CHECKS 8 /* challenges reported; more end the run anyway */

/* One 495 or 496 and what came of it, for the report. */
struct check {
	int status;
	struct ualearn_seen seen; /* a 496 accepted: who, wanting what */
	const char *refused;      /* or why not */
};

struct run {
	struct check checks[MAX_CHECKS];
	int challenges;          /* 495s and 496s answered */
	int signed_now;          /* the body is signed */
	int bye;                 /* a call: the BYE's final status */
	const char *refused;     /* why a challenge was refused, or NULL */
	struct uarecv answer;    /* a call: what the 2xx body said */
	int have_answer;
	struct ualearn *learn;
};

static int
on_response(struct ua *ua, nta_outgoing_t *orq, const sip_t *sip)
{
	int status = sip != NULL ? sip->sip_status->st_status :
	    nta_outgoing_status(orq);

	if (status < 200)
		return 0;
	ua->status = status;
	snprintf(ua->phrase, sizeof(ua->phrase), "%s", sip != NULL &&
	    sip->sip_status->st_phrase ? sip->sip_status->st_phrase : "");
	ua->done = 1;
	if (sip != NULL) {
		if (ua->resp != NULL)
			msg_destroy(ua->resp);
		ua->resp = nta_outgoing_getresponse(orq);
	}
	su_root_break(ua->root);
	return 0;
}

static void
timed_out(su_root_magic_t *m, su_timer_t *t, su_timer_arg_t *arg)
{
	(void)m;
	(void)t;
	su_root_break(((struct ua *)arg)->root);
}

/* Run the loop until a final response or ms milliseconds. */
static void
wait_final(struct ua *ua, unsigned ms)
{
	su_timer_t *timer = su_timer_create(su_root_task(ua->root), ms);

	su_timer_set(timer, timed_out, (su_timer_arg_t *)ua);
	su_root_run(ua->root);
	su_timer_destroy(timer);
}

static int
add_labels(msg_t *msg, sip_t *sip, const struct uamsg_out *b)
{
	size_t i;

	for (i = 0; i < b->nlabels; i++)
		if (sip_add_tl(msg, sip, SIPTAG_HEADER_STR(su_sprintf(
		    msg_home(msg), "Proxy-Inspect-Body: %s", b->labels[i])),
		    TAG_END()) < 0)
			return -1;
	return 0;
}

/* The request with the body and labels uamsg made. */
static msg_t *
make_request(nta_agent_t *nta, const struct uaopts *o,
    const struct uamsg_out *b, const struct call *c)
{
	msg_t *msg = nta_msg_create(nta, 0);
	sip_t *sip = sip_object(msg);
	su_home_t *home = msg_home(msg);
	sip_method_t m = o->invite ? sip_method_invite : sip_method_message;
	const char *name = o->invite ? "INVITE" : "MESSAGE";

	if (msg == NULL)
		return NULL;
	if (sip_add_tl(msg, sip,
	    SIPTAG_REQUEST(sip_request_create(home, m, name,
	    URL_STRING_MAKE(o->to), NULL)),
	    TAG_IF(o->invite, SIPTAG_CONTACT_STR(su_sprintf(home, "<%s>",
	    o->bind))),
	    SIPTAG_FROM(sip_from_create(home, URL_STRING_MAKE(o->from))),
	    SIPTAG_TO(sip_to_create(home, URL_STRING_MAKE(o->to))),
	    SIPTAG_CALL_ID_STR(c->call_id),
	    SIPTAG_CSEQ(sip_cseq_create(home, c->cseq, m, name)),
	    SIPTAG_MAX_FORWARDS_STR("70"),
	    SIPTAG_CONTENT_TYPE_STR(b->content_type),
	    SIPTAG_CONTENT_DISPOSITION_STR(b->disposition),
	    TAG_IF(b->content_id != NULL, SIPTAG_HEADER_STR(su_sprintf(home,
	    "Content-ID: %s", b->content_id))),
	    SIPTAG_PAYLOAD(sip_payload_create(home, b->body, (isize_t)b->len)),
	    TAG_END()) < 0 || sip_from_tag(home, sip->sip_from, c->from_tag) <
	    0 || add_labels(msg, sip, b) != 0) {
		msg_destroy(msg);
		return NULL;
	}
	return msg;
}

/* A request inside the dialog the 2xx ok made: to its Contact, along
 * the route set its Record-Route gives (reversed: RFC 3261 12.1.2). */
static nta_outgoing_t *
in_dialog(nta_agent_t *nta, struct ua *ua, const struct uaopts *o,
    const struct call *c, const sip_t *ok, sip_method_t m, const char *name,
    unsigned cseq)
{
	msg_t *msg = nta_msg_create(nta, 0);
	sip_t *sip = sip_object(msg);
	su_home_t *home = msg_home(msg);
	nta_outgoing_t *orq;
	int ack = m == sip_method_ack;

	if (msg == NULL || ok->sip_contact == NULL)
		goto fail;
	if (sip_add_tl(msg, sip, SIPTAG_REQUEST(sip_request_create(home, m,
	    name, (url_string_t const *)ok->sip_contact->m_url, NULL)),
	    SIPTAG_FROM(sip_from_create(home, URL_STRING_MAKE(o->from))),
	    SIPTAG_TO(ok->sip_to), SIPTAG_CALL_ID_STR(c->call_id),
	    SIPTAG_CSEQ(sip_cseq_create(home, cseq, m, name)),
	    SIPTAG_ROUTE(sip_route_reverse(home, ok->sip_record_route)),
	    SIPTAG_MAX_FORWARDS_STR("70"), TAG_END()) < 0 ||
	    sip_from_tag(home, sip->sip_from, c->from_tag) < 0)
		goto fail;
	orq = nta_outgoing_mcreate(nta, ack ? NULL : on_response,
	    ack ? NULL : ua, sip->sip_route != NULL ?
	    (url_string_t const *)sip->sip_route->r_url : NULL, msg,
	    TAG_IF(ack, NTATAG_STATELESS(1)), TAG_END());
	if (orq == NULL)
		goto fail;
	return orq;
fail:
	msg_destroy(msg);
	return NULL;
}

/* ACK the 2xx, hold the call, BYE it; the BYE's final status. */
static int
end_call(nta_agent_t *nta, struct ua *ua, const struct uaopts *o,
    const struct call *c)
{
	msg_t *okmsg = msg_ref_create(ua->resp);
	const sip_t *ok = sip_object(okmsg);
	nta_outgoing_t *orq;
	int status = 0;

	orq = in_dialog(nta, ua, o, c, ok, SIP_METHOD_ACK, c->cseq);
	if (orq != NULL && orq != (nta_outgoing_t *)-1)
		nta_outgoing_destroy(orq);
	wait_final(ua, o->hold * 1000 + 1);
	ua->done = 0;
	if ((orq = in_dialog(nta, ua, o, c, ok, SIP_METHOD_BYE, c->cseq + 1)) !=
	    NULL) {
		wait_final(ua, o->timeout * 1000);
		status = ua->done ? ua->status : 408;
		nta_outgoing_destroy(orq);
	}
	/* The call's own outcome is the INVITE's. */
	ua->done = 1;
	ua->status = ok->sip_status->st_status;
	snprintf(ua->phrase, sizeof(ua->phrase), "%s",
	    ok->sip_status->st_phrase ? ok->sip_status->st_phrase : "");
	msg_destroy(okmsg);
	return status;
}

static void
report_answer(const struct uarecv *a)
{
	printf(",\"answer\":{\"decrypted\":%d,\"undecipherable\":%d,"
	    "\"signatures\":%d,\"valid\":%d,\"type\":", a->decrypted,
	    a->undecipherable, a->signatures, a->valid);
	uajson_string(a->type);
	printf(",\"text\":");
	uajson_string(a->content != NULL ? a->content : "");
	putchar('}');
}

/* "checks":[{"status":496,"proxy":"p","wants":["text/plain"],
 * "result":"accepted"},...]: what each challenge was found to be. */
static void
report_checks(const struct run *r, int n)
{
	const struct check *c;
	const char *types[UACHAL_MAX_TYPES];
	size_t k;
	int i;

	printf(",\"checks\":[");
	for (i = 0; i < n && i < MAX_CHECKS; i++) {
		c = &r->checks[i];
		printf("%s{\"status\":%d", i ? "," : "", c->status);
		if (c->status == 496 && c->refused == NULL) {
			printf(",\"proxy\":");
			uajson_string(c->seen.host);
			for (k = 0; k < c->seen.ntypes; k++)
				types[k] = c->seen.types[k];
			uajson_list("wants", types, c->seen.ntypes);
		}
		printf(",\"result\":");
		uajson_string(c->refused != NULL ? "refused" : c->status ==
		    495 ? "signed" : "verified");
		putchar('}');
	}
	putchar(']');
}

static int
report(const struct ua *ua, const struct uaopts *o, const struct run *r)
{
	const char *hosts[UAMSG_MAX_PROXIES];
	const char *const *cached;
	size_t i, ncached;

	printf("{\"method\":\"%s\",\"status\":%d,\"phrase\":",
	    o->invite ? "INVITE" : "MESSAGE", ua->status);
	uajson_string(ua->done ? ua->phrase : "timeout");
	printf(",\"signed\":%s,\"encrypted\":%s", r->signed_now ? "true" :
	    "false", o->npeer > 0 ? "true" : "false");
	for (i = 0; i < o->nproxies; i++)
		hosts[i] = o->proxies[i].host;
	uajson_list("disclosed_to", hosts, o->nproxies);
	cached = ualearn_cached(r->learn, &ncached);
	if (ncached > 0)
		uajson_list("from_cache", cached, ncached);
	printf(",\"challenges\":%d", r->challenges);
	if (r->challenges > 0 || r->refused != NULL)
		report_checks(r, r->challenges + (r->refused != NULL));
	if (o->invite && r->bye != 0)
		printf(",\"bye\":%d", r->bye);
	if (r->have_answer)
		report_answer(&r->answer);
	if (r->refused != NULL) {
		printf(",\"refused\":");
		uajson_string(r->refused);
	}
	printf("}\n");
	if (r->refused != NULL)
		return UA_EXIT_REFUSED;
	if (!ua->done)
		return UA_EXIT_TIMEOUT;
	if (o->invite && ua->status < 300 && (r->bye < 200 || r->bye >= 300))
		return UA_EXIT_FINAL;
	return ua->status < 300 ? UA_EXIT_2XX : UA_EXIT_FINAL;
}

static int
build_body(const struct uaopts *o, const struct cms_signing_key *sk,
    struct uamsg_out *b)
{
	struct uamsg_in in = { .type = o->type,
	    .content = (const uint8_t *)o->text, .len = strlen(o->text),
	    .sk = sk, .signed_data = o->signed_data,
	    .peer_certs = o->peer_certs, .npeer_certs = o->npeer,
	    .proxies = o->proxies, .nproxies = o->nproxies,
	    .separate = o->separate, .cbc = o->cbc };
	char err[256];

	uamsg_out_free(b);
	if (uamsg_build(&in, b, err, sizeof(err)) != 0) {
		fprintf(stderr, "e2mua: %s\n", err);
		return -1;
	}
	return 0;
}

/* One request and its final response (or the timeout) in ua. */
static int
attempt(nta_agent_t *nta, const struct uaopts *o, const struct uamsg_out *b,
    struct call *c, struct ua *ua)
{
	nta_outgoing_t *orq;
	msg_t *msg, *sent;

	ua->done = 0;
	ua->status = 0;
	if (ua->resp != NULL)
		msg_destroy(ua->resp);
	ua->resp = NULL;
	if ((msg = make_request(nta, o, b, c)) == NULL ||
	    (orq = nta_outgoing_mcreate(nta, on_response, ua,
	    o->proxy != NULL ? URL_STRING_MAKE(o->proxy) : NULL, msg,
	    TAG_END())) == NULL) {
		fprintf(stderr, "e2mua: cannot send the request\n");
		return -1;
	}
	c->sent_at = (long long)time(NULL);
	if ((sent = nta_outgoing_getrequest(orq)) != NULL) {
		const sip_t *ss = sip_object(sent);

		snprintf(c->branch, sizeof(c->branch), "%s",
		    ss->sip_via != NULL && ss->sip_via->v_branch ?
		    ss->sip_via->v_branch : "");
		msg_destroy(sent);
	}
	wait_final(ua, o->timeout * 1000);
	nta_outgoing_destroy(orq);
	return 0;
}

/* The 496 as uachal wants it; strings in the response's home. */
static void
response_facts(msg_t *resp, struct uachal_response *r, const char **warn,
    size_t maxwarn)
{
	const sip_t *sip = sip_object(resp);
	su_home_t *home = msg_home(resp);
	const sip_warning_t *w;

	memset(r, 0, sizeof(*r));
	r->status = sip->sip_status->st_status;
	if (sip->sip_content_type != NULL)
		r->content_type = sip_header_as_string(home,
		    (const sip_header_t *)sip->sip_content_type);
	if (sip->sip_payload != NULL) {
		r->body = (const unsigned char *)sip->sip_payload->pl_data;
		r->body_len = sip->sip_payload->pl_len;
	}
	for (w = sip->sip_warning; w != NULL && r->nwarnings < maxwarn;
	    w = w->w_next)
		warn[r->nwarnings++] = sip_header_as_string(home,
		    (const sip_header_t *)w);
	r->warnings = warn;
	if (sip->sip_date != NULL)
		r->date = sip_header_as_string(home,
		    (const sip_header_t *)sip->sip_date);
	if (sip->sip_to != NULL)
		r->to = sip_header_as_string(home,
		    (const sip_header_t *)sip->sip_to);
}

static const char *
answer_496(const struct uaopts *o, struct run *r, const struct call *c,
    msg_t *resp, struct ualearn_seen *seen)
{
	const char *warn[UACHAL_MAX_WARNINGS];
	struct uachal_request rq = { c->call_id, NULL, c->from_tag, c->branch,
	    c->sent_at };
	struct uachal_response rs;
	char cseq[32];

	snprintf(cseq, sizeof(cseq), "%u %s", c->cseq, o->invite ? "INVITE" :
	    "MESSAGE");
	rq.cseq = cseq;
	response_facts(resp, &rs, warn, UACHAL_MAX_WARNINGS);
	return ualearn_challenge(r->learn, &rq, &rs, (long long)time(NULL),
	    seen);
}

/* What to do about a final response: 1 send again, 0 done. */
static int
next_step(const struct uaopts *o, const struct cms_signing_key *sk,
    const struct cms_keys *keys, struct run *r, const struct call *c,
    const struct ua *ua)
{
	struct check *k = &r->checks[r->challenges < MAX_CHECKS ?
	    r->challenges : MAX_CHECKS - 1];

	if (ua->status != 495 && ua->status != 496)
		return 0;
	memset(k, 0, sizeof(*k));
	k->status = ua->status;
	if (ua->status == 495) {
		if (r->signed_now)
			r->refused = "495 although the body is signed";
		else if (sk == NULL)
			r->refused = "495: a signature is required and no key "
			    "was given (-s)";
		else
			r->signed_now = 1;
	} else if (keys == NULL)
		r->refused = "no trust anchors (-r) to check a challenge";
	else
		r->refused = answer_496(o, r, c, ua->resp, &k->seen);
	k->refused = r->refused;
	if (r->refused != NULL)
		return 0;
	r->challenges++;
	return 1;
}

/* What the callee's 2xx carried (its SDP answer), opened with -k. */
static void
open_answer(const struct cms_keys *keys, msg_t *resp, struct run *r)
{
	const sip_t *sip = sip_object(resp);
	struct mime_headers top;

	if (sip->sip_payload == NULL || sip->sip_content_type == NULL)
		return;
	sipmime_headers(resp, sip, &top);
	uarecv_open(keys, &top, sip->sip_payload->pl_data,
	    sip->sip_payload->pl_len, &r->answer);
	r->have_answer = 1;
}

/* The first hop, which keys the learned-proxy cache. */
static char *
route_of(su_home_t *home, const struct uaopts *o)
{
	url_t *u;

	if (o->proxy != NULL)
		return su_strdup(home, o->proxy);
	u = url_make(home, o->to);
	return u != NULL && u->url_host != NULL ? su_strdup(home, u->url_host) :
	    su_strdup(home, o->to);
}

static int
exchange(nta_agent_t *nta, struct uaopts *o, const struct cms_signing_key *sk,
    const struct cms_keys *keys, struct run *r, struct call *c,
    struct ua *ua)
{
	struct uamsg_out b = { 0 };
	int rc = 0;

	r->signed_now = sk != NULL && !o->lazy_sign;
	for (c->cseq = 1;; c->cseq++) {
		if (build_body(o, r->signed_now ? sk : NULL, &b) != 0 ||
		    attempt(nta, o, &b, c, ua) != 0) {
			rc = -1;
			break;
		}
		if (!ua->done || ua->resp == NULL ||
		    !next_step(o, sk, keys, r, c, ua))
			break;
	}
	uamsg_out_free(&b);
	return rc;
}

int
uac_run(struct uaopts *o, const struct cms_signing_key *sk,
    const struct cms_keys *keys)
{
	su_home_t home[1] = { SU_HOME_INIT(home) };
	struct uatrust trust = { keys, o->allow, o->nallow, WARN_CODE,
	    o->max_skew };
	struct ua ua = { 0 };
	struct run r = { 0 };
	struct call c = { 0 };
	nta_agent_t *nta = NULL;
	int rc = UA_EXIT_LOCAL;

	if ((ua.root = su_root_create(NULL)) == NULL ||
	    (nta = nta_agent_create(ua.root, URL_STRING_MAKE(o->bind), NULL,
	    NULL, NTATAG_UA(1), TAG_END())) == NULL) {
		fprintf(stderr, "e2mua: cannot bind %s\n", o->bind);
		goto out;
	}
	if ((r.learn = ualearn_new(o, &trust, route_of(home, o))) == NULL)
		goto out;
	if (keys != NULL)
		ualearn_from_cache(r.learn, o->type, (long long)time(NULL));
	c.call_id = sip_call_id_create(home, NULL)->i_id;
	c.from_tag = nta_agent_newtag(home, "%s", nta);
	if (exchange(nta, o, sk, keys, &r, &c, &ua) != 0)
		goto out;
	if (o->invite && ua.done && ua.status < 300 && ua.resp != NULL) {
		open_answer(keys, ua.resp, &r);
		r.bye = end_call(nta, &ua, o, &c);
	}
	rc = report(&ua, o, &r);
out:
	if (r.have_answer)
		uarecv_free(&r.answer);
	ualearn_free(r.learn);
	if (ua.resp != NULL)
		msg_destroy(ua.resp);
	nta_agent_destroy(nta);
	su_root_destroy(ua.root);
	su_home_deinit(home);
	return rc;
}
