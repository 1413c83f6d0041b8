/*
 * terminate.c - BYE both sides of a dialog the proxy sits in (see
 * terminate.h).
 */
#include "terminate.h"

#include <stdio.h>

#include <sofia-sip/nta.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_util.h>
#include <sofia-sip/su_tagarg.h>

#include "agent.h"
#include "log.h"

/* The BYE's own transaction needs nobody: forget it once it is over. */
static int
bye_answered(nta_outgoing_magic_t *magic, nta_outgoing_t *orq,
    const sip_t *sip)
{
	int status = sip != NULL ? sip->sip_status->st_status :
	    nta_outgoing_status(orq);

	(void)magic;
	if (status >= 200) {
		log_debug("dialog termination: BYE answered %d", status);
		nta_outgoing_destroy(orq);
	}
	return 0;
}

/*
 * Split the 2xx's Record-Route around our own entries (one, or two when
 * the transport changed): those above lead to the callee (nearest last),
 * those below to the caller (nearest first). Copies in home.
 */
static void
split_route(su_home_t *home, struct agent *ag, const sip_record_route_t *rr,
    sip_route_t **callee, sip_route_t **caller)
{
	const sip_record_route_t *r, *first_me = NULL, *last_me = NULL;
	sip_route_t *above = NULL, **tail = &above;

	*callee = *caller = NULL;
	for (r = rr; r != NULL; r = r->r_next)
		if (agent_is_me(ag, r->r_url)) {
			if (first_me == NULL)
				first_me = r;
			last_me = r;
		}
	if (first_me == NULL)
		return; /* not record-routed: straight to the Contacts */
	for (r = rr; r != first_me; r = r->r_next) {
		*tail = sip_route_create(home, r->r_url, NULL);
		if (*tail == NULL)
			break;
		tail = &(*tail)->r_next;
	}
	*callee = sip_route_reverse(home, above);
	if (last_me->r_next != NULL)
		*caller = sip_route_fixdup(home, (const sip_route_t *)
		    last_me->r_next);
}

/* from and to are header values: the same address, once as the caller's
 * From and once as the callee's, so no header object is reused. */
static int
send_bye(struct agent *ag, const url_t *target, sip_route_t *route,
    const char *from, const char *to, const sip_t *invite,
    const char *reason)
{
	nta_agent_t *nta = agent_nta(ag);
	msg_t *msg = nta_msg_create(nta, 0);
	sip_t *sip = sip_object(msg);
	su_home_t *home = msg_home(msg);
	nta_outgoing_t *orq;
	url_string_t const *next;

	if (msg == NULL || target == NULL)
		goto fail;
	if (sip_add_tl(msg, sip,
	    SIPTAG_REQUEST(sip_request_create(home, SIP_METHOD_BYE,
	    (url_string_t const *)target, NULL)),
	    SIPTAG_FROM_STR(from), SIPTAG_TO_STR(to),
	    SIPTAG_CALL_ID(invite->sip_call_id),
	    SIPTAG_CSEQ(sip_cseq_create(home, invite->sip_cseq->cs_seq + 1,
	    SIP_METHOD_BYE)),
	    SIPTAG_ROUTE(route), SIPTAG_MAX_FORWARDS_STR("70"),
	    SIPTAG_REASON_STR(reason), TAG_END()) < 0)
		goto fail;
	next = sip->sip_route != NULL ?
	    (url_string_t const *)sip->sip_route->r_url : NULL;
	orq = nta_outgoing_mcreate(nta, bye_answered, NULL, next, msg,
	    TAG_END());
	if (orq == NULL)
		goto fail;
	return 1;
fail:
	msg_destroy(msg);
	return 0;
}

int
terminate_dialog(struct agent *ag, const sip_t *invite, const sip_t *ok,
    unsigned reason_code, const char *reason_text)
{
	su_home_t home[1] = { SU_HOME_INIT(home) };
	sip_route_t *to_callee, *to_caller;
	char reason[128];
	const char *caller, *callee;
	int n = 0;

	if (invite->sip_call_id == NULL || invite->sip_cseq == NULL ||
	    invite->sip_from == NULL || ok->sip_to == NULL) {
		su_home_deinit(home);
		return 0;
	}
	snprintf(reason, sizeof(reason), "SIP;cause=%u;text=\"%s\"",
	    reason_code, reason_text);
	split_route(home, ag, ok->sip_record_route, &to_callee, &to_caller);
	caller = sip_header_as_string(home, (const sip_header_t *)
	    invite->sip_from);
	callee = sip_header_as_string(home, (const sip_header_t *)ok->sip_to);
	/* As the caller towards the callee, and as the callee back. */
	if (ok->sip_contact != NULL)
		n += send_bye(ag, ok->sip_contact->m_url, to_callee, caller,
		    callee, invite, reason);
	if (invite->sip_contact != NULL)
		n += send_bye(ag, invite->sip_contact->m_url, to_caller,
		    callee, caller, invite, reason);
	su_home_deinit(home);
	return n;
}

int
terminate_from_ack(struct agent *ag, const sip_t *fwd, unsigned reason_code,
    const char *reason_text)
{
	su_home_t home[1] = { SU_HOME_INIT(home) };
	const char *caller, *callee;
	char reason[128];
	int n = 0;

	if (fwd->sip_call_id == NULL || fwd->sip_cseq == NULL ||
	    fwd->sip_from == NULL || fwd->sip_to == NULL) {
		su_home_deinit(home);
		return 0;
	}
	snprintf(reason, sizeof(reason), "SIP;cause=%u;text=\"%s\"",
	    reason_code, reason_text);
	caller = sip_header_as_string(home, (const sip_header_t *)
	    fwd->sip_from);
	callee = sip_header_as_string(home, (const sip_header_t *)fwd->sip_to);
	n += send_bye(ag, fwd->sip_request->rq_url, sip_route_dup(home,
	    fwd->sip_route), caller, callee, fwd, reason);
	if (fwd->sip_contact != NULL)
		n += send_bye(ag, fwd->sip_contact->m_url, NULL, callee, caller,
		    fwd, reason);
	su_home_deinit(home);
	return n;
}
