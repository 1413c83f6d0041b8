/* parsefix.c - Sofia's parsers of request line, CSeq and Via, adjusted
 * (parsefix.h). */
#include "proxyd/sofia/parsefix.h"

#include <stdlib.h>
#include <string.h>

#include <sofia-sip/bnf.h>
#include <sofia-sip/msg_mclass.h>
#include <sofia-sip/msg_parser.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_parser.h>
#include <sofia-sip/su_string.h>
#include <sofia-sip/url.h>

const char parsefix_bad_version[] = "SIP/2.0";

static msg_parse_f *via_d;

/*
 * A method at *ss (RFC 3261 token), up to LWS or the end; NUL-terminated
 * there, LWS after it skipped. Known methods get their code and Sofia's
 * static name, others sip_method_unknown and the name in place.
 */
static int
method_d(char **ss, sip_method_t *code, const char **name)
{
	char *s = *ss;
	size_t n = span_token(s);
	sip_method_t m;

	if (n == 0 || (s[n] != '\0' && !IS_LWS(s[n])))
		return -1;
	if (s[n] != '\0')
		s[n++] = '\0';
	while (IS_LWS(s[n]))
		n++;
	m = sip_method_code(s);	/* -1 for what Sofia's parser refuses */
	if (m <= sip_method_unknown) {
		*code = sip_method_unknown;
		*name = s;
	} else {
		*code = m;
		*name = sip_method_name(m, s);
	}
	*ss = s + n;
	return 0;
}

/* Sofia's sip_request_d() with method_d() and the version noted. */
static issize_t
request_d(su_home_t *home, msg_header_t *h, char *s, isize_t slen)
{
	sip_request_t *rq = (sip_request_t *)h;
	char *uri, *version;

	(void)home;
	(void)slen;
	if (msg_firstline_d(s, &uri, &version) < 0 || uri == NULL ||
	    version == NULL ||
	    method_d(&s, &rq->rq_method, &rq->rq_method_name) < 0 ||
	    *s != '\0' || url_d(rq->rq_url, uri) < 0 ||
	    sip_version_d(&version, &rq->rq_version) < 0 || *version != '\0')
		return -1;
	if (!su_casematch(rq->rq_version, sip_version_2_0))
		rq->rq_version = parsefix_bad_version;
	return 0;
}

/* Sofia's sip_cseq_d() with method_d(). */
static issize_t
cseq_d(su_home_t *home, msg_header_t *h, char *s, isize_t slen)
{
	sip_cseq_t *cs = (sip_cseq_t *)h;

	(void)home;
	(void)slen;
	if (msg_uint32_d(&s, &cs->cs_seq) < 0 || *s == '\0')
		return -1;
	return method_d(&s, &cs->cs_method, &cs->cs_method_name);
}

/* "SIP/<other version>/T" of a known T: T of SIP/2.0. */
static const char *
protocol_2_0(const char *p)
{
	static const char *const known[] = { sip_transport_udp,
	    sip_transport_tcp, sip_transport_tls, sip_transport_sctp };
	const char *t;
	size_t i;

	if (p == NULL || !su_casenmatch(p, "SIP/", 4) ||
	    (t = strchr(p + 4, '/')) == NULL)
		return p;
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (su_casematch(t, known[i] + 7))
			return known[i];
	return p;
}

/* Sofia's Via parser, then the sent-protocol's version made 2.0. Each
 * further Via of a list passes through here too (msg_parse_next_field). */
static issize_t
via_d_2_0(su_home_t *home, msg_header_t *h, char *s, isize_t slen)
{
	issize_t r = via_d(home, h, s, slen);
	sip_via_t *v = (sip_via_t *)h;

	if (r >= 0)
		v->v_protocol = protocol_2_0(v->v_protocol);
	return r;
}

/* A class like hc but parsing with parse. */
static msg_hclass_t *
class_with(msg_hclass_t *hc, msg_parse_f *parse)
{
	struct msg_hclass_s *c = malloc(sizeof(*c));

	if (c == NULL)
		return NULL;
	memcpy(c, hc, sizeof(*c));
	c->hc_parse = parse;
	return c;
}

/*
 * The named class orig of mc parses as copy: copy takes orig's slot in the
 * hash table (msg_find_hclass() finds a name at the first slot of its
 * probe sequence that has it) and orig moves further down the same
 * sequence, where msg_hclass_offset(), which looks for the class pointer,
 * still finds it: headers Sofia makes with orig (nta's Via, CSeq) go
 * into messages of mc as before. The compact form too.
 */
static int
shadow(msg_mclass_t *mc, msg_hclass_t *orig, msg_hclass_t *copy)
{
	msg_href_t *shorts = (msg_href_t *)mc->mc_short;
	msg_href_t o;
	int j;

	if (copy == NULL)
		return -1;
	for (j = 0; j < mc->mc_hash_size; j++)
		if (mc->mc_hash[j].hr_class == orig)
			break;
	if (j == mc->mc_hash_size)
		return -1;
	o = mc->mc_hash[j];
	mc->mc_hash[j].hr_class = copy;
	mc->mc_hash_used--;	/* msg_mclass_insert() counts it again */
	if (shorts != NULL && orig->hc_short[0] >= 'a' &&
	    orig->hc_short[0] <= 'z')
		shorts[orig->hc_short[0] - 'a'].hr_class = NULL;
	if (msg_mclass_insert(mc, &o) < 0)
		return -1;
	if (shorts != NULL && orig->hc_short[0] >= 'a' &&
	    orig->hc_short[0] <= 'z')
		shorts[orig->hc_short[0] - 'a'].hr_class = copy;
	mc->mc_hash_used++;
	return 0;
}

int
parsefix_install(void)
{
	static msg_mclass_t *mc;
	msg_mclass_t const *def = sip_default_mclass();
	msg_hclass_t *rq;

	if (mc != NULL)
		return 0;
	/* Twice the slots: room for the moved classes, short probes. */
	if ((mc = msg_mclass_clone(def, def->mc_hash_size * 2, 0)) == NULL)
		return -1;
	via_d = sip_via_class->hc_parse;
	if ((rq = class_with(sip_request_class, request_d)) == NULL ||
	    shadow(mc, sip_via_class, class_with(sip_via_class,
	    via_d_2_0)) < 0 ||
	    shadow(mc, sip_cseq_class, class_with(sip_cseq_class,
	    cseq_d)) < 0) {
		free(mc);
		mc = NULL;
		return -1;
	}
	/* Found by its hash, not its pointer (msg_hclass_offset()). */
	mc->mc_request[0].hr_class = rq;
	return sip_update_default_mclass(mc);
}
