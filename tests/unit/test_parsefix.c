/* test_parsefix.c - Sofia's message class with the proxy's parsers: token
 * methods (RFC 4475 intmeth), another SIP version marked, and the headers
 * Sofia makes itself still placed in messages of that class. */
#include <string.h>

#include <sofia-sip/msg.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>

#include "proxyd/sofia/parsefix.h"
#include "t.h"

static msg_t *
parse(const char *s)
{
	return msg_make(sip_default_mclass(), MSG_DO_EXTRACT_COPY, s,
	    (ssize_t)strlen(s));
}

#define REQ(m, v, via) m " sip:b@example.com " v "\r\nVia: " via \
	" h.example.com;branch=z9hG4bK1\r\nFrom: <sip:a@example.com>;tag=1" \
	"\r\nTo: <sip:b@example.com>\r\nCall-ID: c1\r\nCSeq: 5 " m "\r\n" \
	"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n"

int
main(void)
{
	msg_t *m;
	sip_t *sip;
	su_home_t *home;
	sip_cseq_t *cs;
	sip_via_t *v;

	T_EQ_INT(parsefix_install(), 0, "installed");
	T_EQ_INT(parsefix_install(), 0, "twice is once");

	m = parse(REQ("!interesting-Method0123456789_*+`.%indeed'~",
	    "SIP/2.0", "SIP/2.0/UDP"));
	sip = sip_object(m);
	T_OK(sip != NULL && sip->sip_request != NULL && sip->sip_error == NULL,
	    "a token method parses (request line and CSeq)");
	T_OK(sip != NULL && sip->sip_request != NULL &&
	    sip->sip_request->rq_method == sip_method_unknown &&
	    strcmp(sip->sip_request->rq_method_name,
	    "!interesting-Method0123456789_*+`.%indeed'~") == 0 &&
	    sip->sip_cseq != NULL && sip->sip_cseq->cs_seq == 5 &&
	    strcmp(sip->sip_cseq->cs_method_name,
	    sip->sip_request->rq_method_name) == 0,
	    "its name, in both");
	T_OK(sip != NULL && sip->sip_request != NULL &&
	    sip->sip_request->rq_version != parsefix_bad_version,
	    "SIP/2.0 is not marked");
	msg_destroy(m);

	m = parse(REQ("INVITE", "SIP/2.0", "SIP/2.0/UDP"));
	sip = sip_object(m);
	T_OK(sip != NULL && sip->sip_request != NULL &&
	    sip->sip_request->rq_method == sip_method_invite &&
	    sip->sip_cseq != NULL && sip->sip_cseq->cs_method ==
	    sip_method_invite, "a known method keeps its code");
	/* What nta does to a message of this class: its own Via on top, a
	 * CSeq of Sofia's class in place of the parsed one. */
	home = msg_home(m);
	v = sip_via_make(home, "SIP/2.0/UDP p.example.com;branch=z9hG4bKp");
	cs = sip_cseq_create(home, 6, sip_method_ack, NULL);
	T_OK(v != NULL && msg_header_insert(m, (msg_pub_t *)sip,
	    (msg_header_t *)v) == 0 && sip->sip_via == v &&
	    sip->sip_via->v_next != NULL, "a Via Sofia makes goes on top");
	T_OK(cs != NULL && msg_header_replace(m, (msg_pub_t *)sip,
	    (msg_header_t *)sip->sip_cseq, (msg_header_t *)cs) == 0 &&
	    sip->sip_cseq == cs, "a CSeq Sofia makes replaces the parsed one");
	T_OK(sip_is_via((sip_header_t *)sip->sip_via->v_next) &&
	    sip_is_cseq((sip_header_t *)cs), "classes still tell by hash");
	msg_destroy(m);

	m = parse(REQ("OPTIONS", "SIP/7.0", "SIP/7.0/UDP"));
	sip = sip_object(m);
	T_OK(sip != NULL && sip->sip_request != NULL &&
	    sip->sip_request->rq_version == parsefix_bad_version &&
	    strcmp(sip->sip_request->rq_version, "SIP/2.0") == 0,
	    "SIP/7.0: marked, reads SIP/2.0 for nta");
	T_OK(sip != NULL && sip->sip_via != NULL &&
	    strcmp(sip->sip_via->v_protocol, sip_transport_udp) == 0,
	    "its Via SIP/7.0/UDP as SIP/2.0/UDP (nta's Via check)");
	msg_destroy(m);

	m = parse("SIP/2.0 200 OK\r\nv: SIP/2.0/TCP h;branch=z9hG4bK1\r\n"
	    "CSeq: 1 NOTIFY\r\nContent-Length: 0\r\n\r\n");
	sip = sip_object(m);
	T_OK(sip != NULL && sip->sip_status != NULL && sip->sip_via != NULL &&
	    sip->sip_cseq != NULL && sip->sip_cseq->cs_method ==
	    sip_method_notify, "a response, compact Via");
	msg_destroy(m);

	m = parse(REQ("BAD(METHOD", "SIP/2.0", "SIP/2.0/UDP"));
	sip = sip_object(m);
	T_OK(sip == NULL || sip->sip_request == NULL,
	    "a method that is no token is refused");
	msg_destroy(m);
	return t_done();
}
