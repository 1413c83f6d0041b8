/*
 * uareg.c - e2mua's registration (see uareg.h).
 *
 * The flow is the connection nta opened for the first REGISTER: its
 * refreshes and the unregistration are pinned to it (NTATAG_TPORT), and
 * nta takes the requests the edge proxy sends back over it like any
 * other. Sofia's tport writes the keep-alives, because only it can put
 * CRLFCRLF between the SIP messages of a connection it owns: in 1.12.11
 * TPTAG_KEEPALIVE pings an idle TCP connection and TPTAG_PINGPONG closes
 * it when no data (the CRLF pong) follows within the time given; the
 * close reaches us through tport_pend(), as nua's own registrations do.
 * Its TLS and UDP transports have no such timer, and a STUN request
 * cannot be sent from Sofia's UDP socket (the transport has no keep-alive
 * method, and Sofia swallows STUN answers): there the refresh comes
 * early instead, at the keep-alive interval, so the REGISTER itself keeps
 * the NAT binding open and proves the flow.
 */
#define NTA_OUTGOING_MAGIC_T struct uareg
#define TP_CLIENT_T struct uareg
#define TP_STACK_T struct nta_agent_s

#include "ua/uareg.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include <sofia-sip/nta.h>
#include <sofia-sip/nta_tag.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_util.h>
#include <sofia-sip/su_tagarg.h>
#include <sofia-sip/tport.h>
#include <sofia-sip/tport_tag.h>

#include "ua/uajson.h"
#include "ua/uaopts.h"
#include "ua/uaoutbound.h"

#define WAIT_MAX_MS 32000 /* a REGISTER's answer: Timer F (64*T1) */
#define MAX_PATH 8        /* Path entries reported */

struct uareg {
	nta_agent_t *nta;
	su_root_t *root;
	const struct uaopts *o;
	uareg_failed_f *failed;
	void *arg;
	su_home_t home[1];
	char instance[128];
	const char *contact_uri;   /* ours, as nta bound it */
	const char *call_id, *from_tag;
	uint32_t cseq;
	unsigned expires;          /* asked; a 423's Min-Expires raises it */
	int tried_423;
	nta_outgoing_t *orq;       /* the REGISTER in progress */
	unsigned asked;            /* its expiry (0: unregistering) */
	unsigned wait_ms;          /* how long it may take */
	su_timer_t *next;          /* refresh or retry */
	su_timer_t *wait;          /* the answer's limit */
	tport_t *flow;             /* the connection of the 2xx, ref'd */
	int pendd;                 /* our watch on it (tport_pend) */
	int registered;            /* the first REGISTER succeeded */
	unsigned failures;         /* in a row, for the backoff */
	int stop_done;
};

static void send_or_retry(struct uareg *r);

static uint32_t
rnd32(void)
{
	uint32_t v = 0;

	if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
		v = (uint32_t)rand();
	return v;
}

/* Let go of the flow: our watch and our reference. */
static void
drop_flow(struct uareg *r)
{
	if (r->flow == NULL)
		return;
	if (r->pendd > 0)
		tport_release(r->flow, r->pendd, NULL, NULL, r, 0);
	tport_unref(r->flow);
	r->flow = NULL;
	r->pendd = 0;
}

static void
print_flow_failed(int error)
{
	printf("{\"event\":\"flow_failed\",\"reason\":");
	/* Sofia reports a missing pong as EPIPE, as it does a failed write. */
	uajson_string(error == EPIPE ? "no pong to the keep-alive, or the "
	    "connection broke (EPIPE)" : error > 0 ? strerror(error) :
	    "connection closed");
	printf("}\n");
	fflush(stdout);
}

/* The connection closed: the peer went, or no pong came (RFC 5626
 * 4.4.1). Register again at once, on a new connection (4.5). */
static void
flow_closed(nta_agent_t *nta, struct uareg *r, tport_t *tp, msg_t *msg,
    int error)
{
	(void)nta;
	(void)msg;
	if (tp != r->flow)
		return;
	drop_flow(r);
	print_flow_failed(error);
	if (r->orq == NULL && r->asked != 0) {
		su_timer_reset(r->next);
		send_or_retry(r);
	}
}

static void settle(struct uareg *r, nta_outgoing_t *orq, int status,
    const sip_t *sip);
static int on_response(struct uareg *r, nta_outgoing_t *orq,
    const sip_t *sip);

static void
wait_expired(su_root_magic_t *m, su_timer_t *t, su_timer_arg_t *arg)
{
	struct uareg *r = (struct uareg *)arg;

	(void)m;
	(void)t;
	if (r->orq != NULL)
		settle(r, r->orq, 0, NULL);
}

static int
send_register(struct uareg *r, unsigned expires)
{
	const struct uaopts *o = r->o;
	msg_t *msg = nta_msg_create(r->nta, 0);
	sip_t *sip = sip_object(msg);
	su_home_t *home = msg_home(msg);
	char contact[512];

	if (msg == NULL)
		return -1;
	if (uaob_contact(contact, sizeof(contact), r->contact_uri, r->instance,
	    expires) < 0 || sip_add_tl(msg, sip,
	    SIPTAG_REQUEST(sip_request_create(home, SIP_METHOD_REGISTER,
	    URL_STRING_MAKE(o->registrar), NULL)),
	    SIPTAG_FROM(sip_from_create(home, URL_STRING_MAKE(o->from))),
	    SIPTAG_TO(sip_to_create(home, URL_STRING_MAKE(o->from))),
	    SIPTAG_CALL_ID_STR(r->call_id),
	    SIPTAG_CSEQ(sip_cseq_create(home, r->cseq + 1,
	    SIP_METHOD_REGISTER)),
	    SIPTAG_CONTACT_STR(contact),
	    SIPTAG_SUPPORTED_STR("path, outbound"),
	    SIPTAG_MAX_FORWARDS_STR("70"), TAG_END()) < 0 ||
	    sip_from_tag(home, sip->sip_from, r->from_tag) < 0) {
		msg_destroy(msg);
		return -1;
	}
	r->orq = nta_outgoing_mcreate(r->nta, on_response, r,
	    o->proxy != NULL ? URL_STRING_MAKE(o->proxy) : NULL, msg,
	    TAG_IF(r->flow != NULL, NTATAG_TPORT(r->flow)), TAG_END());
	if (r->orq == NULL) {
		msg_destroy(msg);
		return -1;
	}
	r->cseq++; /* Call-ID kept, CSeq up by one (RFC 3261 10.2.4) */
	r->asked = expires;
	su_timer_set_interval(r->wait, wait_expired, (su_timer_arg_t *)r,
	    r->wait_ms);
	return 0;
}

static void
refresh_due(su_root_magic_t *m, su_timer_t *t, su_timer_arg_t *arg)
{
	(void)m;
	(void)t;
	send_or_retry((struct uareg *)arg);
}

/* A REGISTER now, or (it could not even be built) a retry later. */
static void
send_or_retry(struct uareg *r)
{
	if (send_register(r, r->expires) == 0)
		return;
	fprintf(stderr, "e2mua: cannot send the REGISTER\n");
	su_timer_set_interval(r->next, refresh_due, (su_timer_arg_t *)r,
	    uaob_backoff(++r->failures, rnd32()) * 1000U);
}

/* Flow-Timer of the 2xx (RFC 5626 10.2), -1 when absent or not a number. */
static long
flow_timer(const sip_t *sip)
{
	const sip_unknown_t *u;
	char *end;
	long v;

	for (u = sip->sip_unknown; u != NULL; u = u->un_next) {
		if (u->un_name == NULL || u->un_value == NULL ||
		    strcasecmp(u->un_name, "Flow-Timer") != 0)
			continue;
		v = strtol(u->un_value, &end, 10);
		return end != u->un_value && *end == '\0' && v >= 0 &&
		    v <= 86400 ? v : -1;
	}
	return -1;
}

/* The expiry the 2xx grants our binding: the Contact with our instance
 * (or our URI), its expires; else the Expires header; else what we
 * asked. The 2xx lists every binding of the AOR, others' too. */
static unsigned
granted(struct uareg *r, const sip_t *sip)
{
	const sip_contact_t *m, *ours = NULL;
	const char *inst;
	url_t *me = url_make(r->home, r->contact_uri);

	for (m = sip->sip_contact; m != NULL && ours == NULL; m = m->m_next) {
		inst = msg_header_find_param(m->m_common, "+sip.instance");
		if (inst != NULL ? uaob_same_instance(inst, r->instance) :
		    me != NULL && url_cmp(m->m_url, me) == 0)
			ours = m;
	}
	if (ours != NULL && ours->m_expires != NULL)
		return (unsigned)strtoul(ours->m_expires, NULL, 10);
	if (sip->sip_expires != NULL)
		return (unsigned)sip->sip_expires->ex_delta;
	return r->asked;
}

/* How the flow is kept alive: "crlf" (Sofia's pings on the connection),
 * "register" (early refreshes) or "none" (the registrar knows no
 * outbound and nothing was asked: the refresh alone). */
static const char *
keep_alive(struct uareg *r, tport_t *tp, int outbound, long ft, unsigned ms)
{
	if (!outbound && ft < 0 && r->o->keepalive == 0)
		return "none";
	if (tp != NULL && tport_is_secondary(tp) && tport_is_tcp(tp) &&
	    !tport_has_tls(tp)) {
		tport_set_params(tp, TPTAG_SDWN_ERROR(1), TPTAG_KEEPALIVE(ms),
		    TPTAG_PINGPONG(UAOB_PONG_WAIT_MS), TAG_END());
		return "crlf";
	}
	return "register";
}

/* Watch the connection the 2xx came on (a new one after a failure). */
static void
take_flow(struct uareg *r, tport_t *tp)
{
	if (tp == NULL || tp == r->flow || !tport_is_secondary(tp)) {
		tport_unref(tp);
		return;
	}
	drop_flow(r);
	r->flow = tp; /* nta_outgoing_transport()'s reference is ours */
	r->pendd = tport_pend(tp, NULL, flow_closed, r);
}

static void
print_registered(struct uareg *r, const sip_t *sip, unsigned exp,
    long ft, const char *how, unsigned ka_ms, unsigned refresh)
{
	const char *paths[MAX_PATH];
	const sip_path_t *p;
	size_t n = 0;
	const tp_name_t *tpn = r->flow != NULL ? tport_name(r->flow) : NULL;

	for (p = sip->sip_path; p != NULL && n < MAX_PATH; p = p->r_next)
		paths[n++] = su_sprintf(r->home, "<%s>",
		    url_as_string(r->home, p->r_url));
	printf("{\"event\":\"registered\",\"status\":%d,\"expires\":%u,"
	    "\"flow_timer\":", sip->sip_status->st_status, exp);
	if (ft < 0)
		printf("null");
	else
		printf("%ld", ft);
	printf(",\"outbound\":%s", sip_has_feature(sip->sip_require,
	    "outbound") ? "true" : "false");
	uajson_list("path", paths, n);
	printf(",\"instance\":");
	uajson_string(r->instance);
	printf(",\"connection\":%s,\"keepalive\":", tpn != NULL ? "true" :
	    "false");
	uajson_string(how);
	printf(",\"keepalive_ms\":%u,\"refresh\":%u,\"cseq\":%u}\n",
	    strcmp(how, "none") == 0 ? 0 : ka_ms, refresh, r->cseq);
	fflush(stdout);
}

static void failed(struct uareg *r, int status, const sip_t *sip,
    const char *why);

static void
registered(struct uareg *r, nta_outgoing_t *orq, const sip_t *sip)
{
	unsigned exp = granted(r, sip), refresh, ka_ms;
	long ft = flow_timer(sip);
	int outbound = sip_has_feature(sip->sip_require, "outbound");
	const char *how;

	if (exp == 0) {
		/* A 2xx that lists our binding as expired keeps nothing: a
		 * refresh "at half" would loop; fail (and back off) instead. */
		failed(r, sip->sip_status->st_status, sip,
		    "the 2xx grants our binding no time");
		return;
	}
	take_flow(r, nta_outgoing_transport(orq));
	ka_ms = uaob_keepalive_ms(r->o->keepalive, ft < 0 ? 0 : (unsigned)ft,
	    rnd32());
	how = keep_alive(r, r->flow, outbound, ft, ka_ms);
	refresh = uaob_refresh_after(exp);
	if (strcmp(how, "register") == 0 && refresh * 1000U > ka_ms)
		refresh = ka_ms >= 1000 ? ka_ms / 1000 : 1;
	print_registered(r, sip, exp, ft, how, ka_ms, refresh);
	r->registered = 1;
	r->failures = 0;
	su_timer_set_interval(r->next, refresh_due, (su_timer_arg_t *)r,
	    refresh * 1000U);
}

static void
print_failed(int status, const char *phrase, unsigned retry)
{
	printf("{\"event\":\"register_failed\",\"status\":%d,\"phrase\":",
	    status);
	uajson_string(phrase);
	if (retry > 0)
		printf(",\"retry\":%u", retry);
	printf("}\n");
	fflush(stdout);
}

/* why: the phrase to report when it is not the response's own. */
static void
failed(struct uareg *r, int status, const sip_t *sip, const char *why)
{
	const char *phrase = why != NULL ? why : status == 0 ? "timeout" :
	    sip != NULL && sip->sip_status->st_phrase != NULL ?
	    sip->sip_status->st_phrase : "";
	unsigned retry;

	/* RFC 3261 10.2.8: ask again for at least Min-Expires, once. */
	if (status == 423 && sip != NULL && sip->sip_min_expires != NULL &&
	    !r->tried_423 && sip->sip_min_expires->me_delta > r->expires) {
		r->tried_423 = 1;
		r->expires = (unsigned)sip->sip_min_expires->me_delta;
		send_or_retry(r);
		return;
	}
	if (status == 401 || status == 407)
		fprintf(stderr, "e2mua: the registrar asks for digest "
		    "authentication (%d), which e2mua does not do\n", status);
	/* A flow a REGISTER failed on is not trusted again (RFC 5626 4.5). */
	drop_flow(r);
	if (!r->registered) {
		print_failed(status, phrase, 0);
		r->failed(r->arg, status == 0 || status == 408 ?
		    UA_EXIT_TIMEOUT : UA_EXIT_FINAL);
		return;
	}
	retry = uaob_backoff(++r->failures, rnd32());
	print_failed(status, phrase, retry);
	su_timer_set_interval(r->next, refresh_due, (su_timer_arg_t *)r,
	    retry * 1000U);
}

static void
unregistered(struct uareg *r, int status)
{
	printf("{\"event\":\"unregistered\",\"status\":%d}\n", status);
	fflush(stdout);
	r->stop_done = 1;
	su_root_break(r->root);
}

/* The REGISTER's outcome: a final status, or 0 when none came in time. */
static void
settle(struct uareg *r, nta_outgoing_t *orq, int status, const sip_t *sip)
{
	su_timer_reset(r->wait);
	r->orq = NULL;
	if (r->asked == 0)
		unregistered(r, status);
	else if (status >= 200 && status < 300 && sip != NULL)
		registered(r, orq, sip);
	else
		failed(r, status, sip, NULL);
	nta_outgoing_destroy(orq);
}

static int
on_response(struct uareg *r, nta_outgoing_t *orq, const sip_t *sip)
{
	int status = sip != NULL ? sip->sip_status->st_status :
	    nta_outgoing_status(orq);

	if (status >= 200)
		settle(r, orq, status, sip);
	return 0;
}

struct uareg *
uareg_start(nta_agent_t *nta, su_root_t *root, const struct uaopts *o,
    uareg_failed_f *failed_cb, void *arg)
{
	struct uareg *r = calloc(1, sizeof(*r));
	const sip_contact_t *m = nta_agent_contact(nta);
	unsigned char rnd[16];

	if (r == NULL)
		return NULL;
	su_home_init(r->home);
	r->nta = nta;
	r->root = root;
	r->o = o;
	r->failed = failed_cb;
	r->arg = arg;
	r->expires = o->expires;
	r->wait_ms = o->timeout > 0 && o->timeout * 1000U < WAIT_MAX_MS ?
	    o->timeout * 1000U : WAIT_MAX_MS;
	if (o->instance != NULL)
		snprintf(r->instance, sizeof(r->instance), "%s", o->instance);
	else if (getrandom(rnd, sizeof(rnd), 0) == (ssize_t)sizeof(rnd))
		uaob_uuid_urn(rnd, r->instance);
	r->contact_uri = m != NULL ? url_as_string(r->home, m->m_url) : NULL;
	r->call_id = sip_call_id_create(r->home, NULL)->i_id;
	r->from_tag = nta_agent_newtag(r->home, "%s", nta);
	r->next = su_timer_create(su_root_task(root), 0);
	r->wait = su_timer_create(su_root_task(root), 0);
	if (r->instance[0] == '\0' || r->contact_uri == NULL ||
	    r->next == NULL || r->wait == NULL || send_register(r,
	    r->expires) != 0) {
		fprintf(stderr, "e2mua: cannot send a REGISTER to %s\n",
		    o->registrar);
		r->registered = 0;
		if (r->orq != NULL) {
			nta_outgoing_destroy(r->orq);
			r->orq = NULL;
		}
		uareg_stop(r, 0);
		return NULL;
	}
	return r;
}

int
uareg_stop(struct uareg *r, unsigned ms)
{
	int rc = -1;

	if (r == NULL)
		return -1;
	su_timer_reset(r->next);
	if (!r->registered && r->orq != NULL) {
		/* The run ended (-T, a signal) before the first answer. */
		print_failed(0, "timeout", 0);
		rc = UA_EXIT_TIMEOUT;
	}
	if (r->orq != NULL) {
		su_timer_reset(r->wait);
		nta_outgoing_destroy(r->orq);
		r->orq = NULL;
	}
	if (r->registered) {
		/* Best effort, bounded: the registrar forgets us now rather
		 * than at the expiry; a peer that is gone costs ms at most. */
		r->wait_ms = ms > 0 ? ms : 1;
		if (send_register(r, 0) == 0)
			while (!r->stop_done)
				su_root_run(r->root);
	}
	drop_flow(r);
	su_timer_destroy(r->next);
	su_timer_destroy(r->wait);
	su_home_deinit(r->home);
	free(r);
	return rc;
}
