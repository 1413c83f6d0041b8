/* hopbyhop.c - CANCEL and non-2xx ACK for an INVITE (see hopbyhop.h). */
#include "proxyd/hopbyhop.h"

#include <stdio.h>
#include <string.h>

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nta_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_tagarg.h>

#include "common/log.h"

static int
cancel_answered(nta_outgoing_magic_t *magic, nta_outgoing_t *orq,
    const sip_t *sip)
{
	(void)magic;
	if (sip == NULL || sip->sip_status->st_status >= 200)
		nta_outgoing_destroy(orq);
	return 0;
}

/* The parts every hop-by-hop request copies from the INVITE: our Via
 * (same branch: that is how the next hop matches it), From, Call-ID,
 * Route. */
static int
copy_common(msg_t *msg, sip_t *sip, const sip_t *inv)
{
	sip_via_t top = *inv->sip_via;

	/* One Via only: the rest belong to the INVITE's upstream hops. */
	top.v_next = NULL;
	return sip_add_tl(msg, sip, SIPTAG_VIA(&top),
	    SIPTAG_FROM(inv->sip_from), SIPTAG_CALL_ID(inv->sip_call_id),
	    SIPTAG_ROUTE(inv->sip_route), SIPTAG_MAX_FORWARDS_STR("70"),
	    TAG_END());
}

static int
build(msg_t *msg, const sip_t *inv, sip_method_t m, const char *name,
    const url_t *ruri, const sip_to_t *to)
{
	sip_t *sip = sip_object(msg);
	su_home_t *home = msg_home(msg);

	if (inv->sip_via == NULL || inv->sip_cseq == NULL ||
	    inv->sip_call_id == NULL || inv->sip_from == NULL || to == NULL)
		return -1;
	if (sip_add_tl(msg, sip, SIPTAG_REQUEST(sip_request_create(home, m,
	    name, (url_string_t const *)ruri, NULL)),
	    SIPTAG_TO(to), SIPTAG_CSEQ(sip_cseq_create(home,
	    inv->sip_cseq->cs_seq, m, name)), TAG_END()) < 0 ||
	    copy_common(msg, sip, inv) < 0)
		return -1;
	return 0;
}

static url_string_t const *
next_of(const char *next_hop)
{
	return next_hop != NULL ? URL_STRING_MAKE(next_hop) : NULL;
}

int
hop_cancel(nta_agent_t *nta, msg_t *sent, const char *next_hop)
{
	const sip_t *inv = sip_object(sent);
	msg_t *msg = nta_msg_create(nta, 0);

	if (msg == NULL || inv == NULL || build(msg, inv, SIP_METHOD_CANCEL,
	    inv->sip_request->rq_url, inv->sip_to) < 0)
		goto fail;
	if (nta_outgoing_mcreate(nta, cancel_answered, NULL, next_of(next_hop),
	    msg, NTATAG_USER_VIA(1), NTATAG_BRANCH_KEY(inv->sip_via->v_branch),
	    TAG_END()) == NULL)
		goto fail;
	return 0;
fail:
	msg_destroy(msg);
	return -1;
}

/* Where a response came from, as a next-hop URI on our Via's transport. */
static const char *
back_to(su_home_t *home, msg_t *resp, const sip_t *rsip)
{
	su_addrinfo_t *ai = msg_addrinfo(resp);
	char host[64];
	const char *tp = rsip->sip_via->v_protocol;
	const char *slash = tp != NULL ? strrchr(tp, '/') : NULL;
	unsigned port;

	if (ai == NULL || ai->ai_addr == NULL ||
	    su_inet_ntop(ai->ai_family, SU_ADDR(((su_sockaddr_t *)ai->ai_addr)),
	    host, sizeof(host)) == NULL)
		return NULL;
	port = ntohs(((su_sockaddr_t *)ai->ai_addr)->su_port);
	return su_sprintf(home, ai->ai_family == AF_INET6 ?
	    "sip:[%s]:%u;transport=%s" : "sip:%s:%u;transport=%s", host, port,
	    slash != NULL ? slash + 1 : "udp");
}

int
hop_ack(nta_agent_t *nta, msg_t *sent, const char *next_hop, msg_t *resp)
{
	const sip_t *rsip = sip_object(resp);
	const sip_t *inv = sent != NULL ? sip_object(sent) : rsip;
	msg_t *msg = nta_msg_create(nta, 0);
	const url_t *ruri;
	nta_outgoing_t *orq;

	if (msg == NULL || rsip->sip_to == NULL || rsip->sip_via == NULL)
		goto fail;
	ruri = sent != NULL ? inv->sip_request->rq_url : rsip->sip_to->a_url;
	if (sent == NULL)
		next_hop = back_to(msg_home(msg), resp, rsip);
	if (build(msg, inv, SIP_METHOD_ACK, ruri, rsip->sip_to) < 0 ||
	    (sent == NULL && next_hop == NULL))
		goto fail;
	orq = nta_outgoing_mcreate(nta, NULL, NULL, next_of(next_hop), msg,
	    NTATAG_STATELESS(1), NTATAG_USER_VIA(1),
	    NTATAG_BRANCH_KEY(rsip->sip_via->v_branch), TAG_END());
	if (orq == NULL)
		goto fail;
	if (orq != (nta_outgoing_t *)-1)
		nta_outgoing_destroy(orq);
	return 0;
fail:
	msg_destroy(msg);
	return -1;
}
