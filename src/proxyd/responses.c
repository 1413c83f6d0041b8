/*
 * responses.c - responses on their way upstream. They leave in the order
 * they came, each inspected first when the request's rule asks (then
 * policy may end what it belongs to: digest 5.2, a response itself cannot
 * be challenged). A lone 503 or nta's own failure becomes 500 upstream.
 */
#include "proxyd/ptx.h"

#include <string.h>

#include <sofia-sip/nta.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_util.h>

#include "common/log.h"
#include "common/monoclock.h"
#include "e2m/inspect.h"
#include "e2m/policy.h"
#include "proxyd/conf.h"
#include "proxyd/facts.h"
#include "proxyd/svc_pinhole.h"
#include "proxyd/terminate.h"
#include "proxyd/wirecopy.h"

/*
 * RFC 3261 16.9 counts a transport error as a 503 from the next hop, and
 * 16.7 step 6 has a proxy answer 500 for a lone 503: upstream, a 503
 * would say this proxy is unavailable (RFC 3263 moves every request to
 * another server), when only one destination behind it is.
 */
#define SIP_500_DOWNSTREAM 500, "Next Hop Unavailable"

/* nta made this final response itself: timeout (408) or transport
 * error (503). A canceled call still ends as canceled. */
void
responses_local_failure(struct ptx *t, int status)
{
	int sent = t->canceled ? 487 : status == 408 ? 408 : 500;

	if (sent == 500)
		answer_status(t, SIP_500_DOWNSTREAM, TAG_END());
	else
		answer_status(t, sent, NULL, TAG_END());
	ptx_logf(t, LOG_INFO, "%s got no answer downstream (%d), answered %d",
	    method_name(t->sip), status, sent);
}

/* Hand one response upstream; 1 when it was final (t is done). */
static int
relay_response(struct ptx *t, msg_t *resp)
{
	int status = sip_object(resp)->sip_status->st_status;

	if (status == 503) {
		msg_destroy(resp);
		ptx_logf(t, LOG_INFO, "%s got 503 downstream, answering 500",
		    method_name(t->sip));
		answer_status(t, SIP_500_DOWNSTREAM, TAG_END());
		return 1;
	}
	if (status >= 200)
		t->final_status = status;
	if (t->sip->sip_request->rq_method == sip_method_register)
		edge_register_response(t, resp);
	if (t->irq != NULL)
		ptx_count_response(t->px, status); /* answer_own_send counts */
	wirecopy_unmask(resp);
	/* mreply consumes resp; it fails on a response left without Via. */
	if ((t->irq != NULL ? nta_incoming_mreply(t->irq, resp) :
	    answer_own_send(t, resp)) != 0)
		ptx_logf(t, LOG_INFO, "cannot relay %d for %s upstream",
		    status, method_name(t->sip));
	if (status < 200)
		return 0;
	ptx_logf(t, LOG_DEBUG, "%s relayed %d", method_name(t->sip),
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
	const struct conf *c = t->st->conf;
	int n;

	if (d->verdict != POLICY_TERMINATE)
		return;
	if (t->sip->sip_request->rq_method != sip_method_invite) {
		ptx_logf(t, LOG_INFO, "nothing to terminate for %s",
		    method_name(t->sip));
	} else if (status >= 200 && status < 300) {
		n = terminate_dialog(t->px->agent, invite, rsip, c->ch_496_code,
		    d->reason);
		ptx_logf(t, LOG_INFO, "dialog terminated: %d BYE sent", n);
	} else if (status < 200 && !t->canceled) {
		invite_cancel_downstream(t);
		ptx_logf(t, LOG_INFO, "call canceled");
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
	msg_t *resp = t->resp.q[t->resp.first], *keep;
	const sip_t *rsip = sip_object(resp);
	int status = rsip->sip_status->st_status, final;
	struct policy_decision d;
	struct facts fx;
	char line[1024];

	t->resp.first = (t->resp.first + 1) % RESP_QUEUE;
	t->resp.n--;
	if (t->resp.insp == NULL) {
		svc_pinhole_response(t->px->pinholes, t, rsip, NULL);
		remember_caller(t, rsip, status);
		return relay_response(t, resp) ? (ptx_free(t), 1) : 0;
	}
	if (inspect_result(t->resp.insp) == INSPECT_DONE) {
		stages_count_inspection(t->px, t->resp.insp);
		if (log_get_level() >= LOG_INFO) /* the summary costs */
			ptx_logf(t, LOG_INFO, "%s %d inspected: %s",
			    method_name(t->sip), status,
			    inspect_summary(t->resp.insp, line, sizeof(line)));
	} else {
		ptx_logf(t, LOG_INFO, "%s %d not inspected: %s",
		    method_name(t->sip), status, inspect_reason(t->resp.insp));
	}
	facts_fill(&fx, t->req, t->sip, rsip,
	    inspect_result(t->resp.insp) == INSPECT_DONE ? t->resp.insp : NULL);
	fx.f.direction = t->edge.direction;
	d = policy_decide(&t->st->policy, &fx.f);
	svc_pinhole_response(t->px->pinholes, t, rsip, t->resp.insp);
	ptx_logf(t, d.rule_line != 0 ? LOG_INFO : LOG_DEBUG,
	    "%s %d policy: rule at line %u -> %s: %s",
	    method_name(t->sip), status, d.rule_line,
	    policy_verdict_name(d.verdict), d.reason);
	inspect_free(t->resp.insp);
	t->resp.insp = NULL;
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
	t->resp.busy = 0;
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

	while (t->resp.n > 0 && !t->resp.busy) {
		resp = t->resp.q[t->resp.first];
		if (stages_to_inspect(t, sip_object(resp))) {
			stages_inspect_input(t, resp, &in, labels);
			if (inspect_start(t->st->inspector, &in,
			    response_inspected, t, &t->resp.insp) ==
			    INSPECT_PENDING) {
				t->resp.busy = 1;
				return;
			}
		}
		if (release_response(t))
			return;
	}
}

/* resp goes upstream in turn, with our Via removed. */
void
responses_queue(struct ptx *t, msg_t *resp, int status)
{
	sip_via_remove(resp, sip_object(resp));
	if (t->resp.n == RESP_QUEUE) {
		ptx_logf(t, LOG_INFO, "%d dropped: too many responses waiting",
		    status);
		msg_destroy(resp);
		return;
	}
	/* Later 2xx retransmissions arrive stray and go stateless. */
	t->resp.q[(t->resp.first + t->resp.n++) % RESP_QUEUE] = resp;
	pump_responses(t);
}

int
responses_on_response(struct ptx *t, nta_outgoing_t *orq, const sip_t *sip)
{
	msg_t *resp = NULL;
	int status = sip ? sip->sip_status->st_status : nta_outgoing_status(orq);

	if (nta_sip_is_internal(sip)) {
		if (status >= 200) {
			responses_local_failure(t, status);
			ptx_free(t);
		}
		return 0;
	}
	if (status > 100)
		resp = nta_outgoing_getresponse(orq);
	if (status < 200 && !t->canceled && !t->det.tried &&
	    t->sip->sip_request->rq_method == sip_method_invite)
		invite_detach(t);
	if (resp != NULL)
		responses_queue(t, resp, status);
	return 0;
}
