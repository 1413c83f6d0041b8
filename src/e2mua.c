/*
 * e2mua.c - the user agent side of end-to-middle security (issue 5), first
 * part: send one MESSAGE whose body is plain, signed, encrypted to the
 * peer, or also disclosed to named proxies (shared or separate envelopes,
 * labelled), and report the final response as one JSON line.
 *
 * A 496 is answered as digest 4.6 tells a UA: the challenge must be the
 * signed layout, fresh for this very request (uachal.c), signed by a
 * certificate that validates to the trust anchors (-r) and names the
 * warn-agent host, hand out an encryption certificate that validates and
 * names the same host, and that host must be on the allow-list (-a);
 * only then is the proxy added as a recipient and the MESSAGE sent again
 * (same Call-ID and From tag, next CSeq, new branch), at most once per
 * proxy and for at most -n proxies. Anything else ends the run with exit
 * status 5 and nothing disclosed.
 *
 * A 495 is answered by signing (inside the envelope when encrypting) and
 * sending once more; it is not verified first, since it only ever asks
 * for more protection (digest R15).
 *
 * -I places a call instead: an SDP offer protected the same way, ACK of
 * the 2xx along the dialog's route set, a hold (-H), BYE. -l is the UAS:
 * MESSAGE and INVITE are opened and checked (uarecv.c), an INVITE is
 * answered with an SDP answer protected by the UAS's own -e/-x.
 *
 * Not yet here (issue 5 still open, and the usage text says so): the
 * configuration file, the learned-proxy cache, revocation for the UA.
 *
 * Exit status: 0 for a 2xx, 1 for any other final response, 2 for a bad
 * command line, 3 for a local failure (keys, transport), 4 for a timeout,
 * 5 for a challenge refused.
 */
#define NTA_OUTGOING_MAGIC_T struct ua
#define NTA_LEG_MAGIC_T struct uas

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/nta.h>
#include <sofia-sip/su_log.h>
#include <sofia-sip/nta_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_util.h>
#include <sofia-sip/su_tagarg.h>

#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cms.h"
#include "sipmime.h"
#include "uachal.h"
#include "uamsg.h"
#include "uarecv.h"
#include "version.h"

enum { EXIT_2XX = 0, EXIT_FINAL = 1, EXIT_USAGE = 2, EXIT_LOCAL = 3,
	EXIT_TIMEOUT = 4, EXIT_REFUSED = 5 };

#define MAX_SKEW 300 /* seconds of Date / signingTime difference */

/* Media is not the tool's business: a fixed offer and answer. */
#define SDP_OFFER "v=0\r\no=e2mua 1 1 IN IP4 127.0.0.1\r\ns=-\r\n" \
	"c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\n"
#define SDP_ANSWER "v=0\r\no=e2mua 2 2 IN IP4 127.0.0.1\r\ns=-\r\n" \
	"c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 49172 RTP/AVP 0\r\n"

struct ua {
	su_root_t *root;
	int status;
	char phrase[128];
	int done;
	msg_t *resp;          /* the final response */
};

/* The request's identity across retries (RFC 3261 8.1.3.5). */
struct call {
	const char *call_id;
	const char *from_tag;
	unsigned cseq;
	char branch[128];     /* of the last attempt */
	long long sent_at;
};

struct opts {
	const char *to, *from, *proxy, *bind, *type, *text;
	const char *sign_cert, *sign_key;
	const char *peer_certs[8];
	size_t npeer;
	struct uamsg_proxy proxies[UAMSG_MAX_PROXIES];
	size_t nproxies;
	int separate, cbc, signed_data;
	int lazy_sign;              /* -L: sign only when a 495 asks */
	unsigned timeout;
	const char *trust[4];       /* -r: anchors for challenges */
	size_t ntrust;
	const char *crls[4];        /* -R: CRL files (then every path is
	                               checked for revocation) */
	size_t ncrl;
	const char *allow[8];       /* -a: legitimate inspecting proxies */
	size_t nallow;
	unsigned max_proxies;       /* -n */
	char learned[UAMSG_MAX_PROXIES][64]; /* temp PEM files we wrote */
	size_t nlearned;
	int listen;                 /* -l: UAS mode */
	int invite;                 /* -I: a call instead of a MESSAGE */
	unsigned hold;              /* -H: seconds between ACK and BYE */
	const char *dec_cert, *dec_key; /* -k: our decryption key */
	unsigned count;             /* -N: requests to answer, 0: until -T */
};

static void
usage(void)
{
	fprintf(stderr,
	    "usage: e2mua -t TO-URI [-f FROM-URI] [-o OUTBOUND-PROXY-URI]\n"
	    "             [-b BIND-URI] [-c TYPE] [-m TEXT] [-T SECONDS]\n"
	    "             [-s CERT:KEY] [-d] [-e PEER-CERT]...\n"
	    "             [-x HOST=PROXY-CERT]... [-S] [-C]\n"
	    "             [-r TRUST-ANCHORS]... [-R CRL]... [-a ALLOWED-PROXY]...\n"
	    "             [-n N]\n"
	    "  -s  sign with CERT and KEY (PEM); -d: signed-data instead of\n"
	    "      multipart/signed; -L: sign only when a 495 asks for it\n"
	    "  -e  encrypt to this certificate (the peer's; repeatable)\n"
	    "  -x  also disclose to this proxy and label it (repeatable)\n"
	    "  -S  separate envelopes for the proxies; -C: AES-CBC\n"
	    "  -r  CA file to check 496 challenges against (repeatable)\n"
	    "  -R  CRL file (PEM, repeatable): every certificate of a path\n"
	    "      must then have a current CRL from its issuer\n"
	    "  -a  a proxy host that may inspect (repeatable); -n: at most N\n"
	    "      proxies disclosed to by answering 496s (default 3)\n"
	    "   or: e2mua -l -b BIND-URI [-k CERT:KEY] [-r TRUST-ANCHORS]...\n"
	    "             [-N COUNT] [-T SECONDS]\n"
	    "  -l  UAS mode: answer MESSAGEs, one JSON line each: open what\n"
	    "      -k opens (493 if a required part stays shut), check\n"
	    "      signatures (-r), show text/plain or SDP (else 415)\n"
	    "exit: 0 2xx, 1 other final, 2 usage, 3 local error, 4 timeout,\n"
	    "      5 challenge refused\n"
	    "  -I  place a call instead (SDP offer; ACK, -H seconds, BYE);\n"
	    "      with -l the UAS answers INVITEs with an SDP answer\n"
	    "      protected by its own -e/-x\n"
	    "Not implemented yet: config file, cache, revocation for the UA.\n");
}

static int
split_pair(char *arg, char sep, const char **a, const char **b)
{
	char *p = strchr(arg, sep);

	if (p == NULL || p == arg || p[1] == '\0')
		return -1;
	*p = '\0';
	*a = arg;
	*b = p + 1;
	return 0;
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	int ch;

	memset(o, 0, sizeof(*o));
	o->from = "sip:e2mua@localhost";
	o->bind = "sip:127.0.0.1:*";
	o->type = "text/plain";
	o->text = "hello from e2mua";
	o->timeout = 10;
	o->max_proxies = 3;
	while ((ch = getopt(argc, argv, "t:f:o:b:c:m:T:s:dLe:x:SCr:R:a:n:lk:N:IH:V")) !=
	    -1) {
		switch (ch) {
		case 't': o->to = optarg; break;
		case 'f': o->from = optarg; break;
		case 'o': o->proxy = optarg; break;
		case 'b': o->bind = optarg; break;
		case 'c': o->type = optarg; break;
		case 'm': o->text = optarg; break;
		case 'T': o->timeout = (unsigned)strtoul(optarg, NULL, 10); break;
		case 's':
			if (split_pair(optarg, ':', &o->sign_cert,
			    &o->sign_key) != 0)
				return -1;
			break;
		case 'd': o->signed_data = 1; break;
		case 'L': o->lazy_sign = 1; break;
		case 'e':
			if (o->npeer == 8)
				return -1;
			o->peer_certs[o->npeer++] = optarg;
			break;
		case 'x':
			if (o->nproxies == UAMSG_MAX_PROXIES ||
			    split_pair(optarg, '=', &o->proxies[o->nproxies].host,
			    &o->proxies[o->nproxies].cert_file) != 0)
				return -1;
			o->nproxies++;
			break;
		case 'r':
			if (o->ntrust == 4)
				return -1;
			o->trust[o->ntrust++] = optarg;
			break;
		case 'R':
			if (o->ncrl == 4)
				return -1;
			o->crls[o->ncrl++] = optarg;
			break;
		case 'a':
			if (o->nallow == 8)
				return -1;
			o->allow[o->nallow++] = optarg;
			break;
		case 'n': o->max_proxies = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'l': o->listen = 1; break;
		case 'I': o->invite = 1; break;
		case 'H': o->hold = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'k':
			if (split_pair(optarg, ':', &o->dec_cert,
			    &o->dec_key) != 0)
				return -1;
			break;
		case 'N': o->count = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'S': o->separate = 1; break;
		case 'C': o->cbc = 1; break;
		case 'V':
			printf("e2mua %s\n", E2M_VERSION);
			exit(0);
		default:
			return -1;
		}
	}
	if (o->invite && strcmp(o->type, "text/plain") == 0) {
		o->type = "application/sdp";
		o->text = SDP_OFFER;
	}
	if (o->listen)
		return optind == argc && o->timeout > 0 ? 0 : -1;
	return o->to != NULL && optind == argc && o->timeout > 0 ? 0 : -1;
}

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
	struct ua *ua = (struct ua *)arg;

	(void)m;
	(void)t;
	su_root_break(ua->root);
}

/* The request with the body and labels uamsg made. */
static msg_t *
make_request(nta_agent_t *nta, const struct opts *o, const struct uamsg_out *b,
    const struct call *c)
{
	msg_t *msg = nta_msg_create(nta, 0);
	sip_t *sip = sip_object(msg);
	su_home_t *home = msg_home(msg);
	size_t i;

	if (msg == NULL)
		return NULL;
	if (sip_add_tl(msg, sip,
	    SIPTAG_REQUEST(sip_request_create(home, o->invite ?
	    sip_method_invite : sip_method_message, o->invite ? "INVITE" :
	    "MESSAGE", URL_STRING_MAKE(o->to), NULL)),
	    TAG_IF(o->invite, SIPTAG_CONTACT_STR(su_sprintf(home, "<%s>",
	    o->bind))),
	    SIPTAG_FROM(sip_from_create(home, URL_STRING_MAKE(o->from))),
	    SIPTAG_TO_STR(o->to), SIPTAG_CALL_ID_STR(c->call_id),
	    SIPTAG_CSEQ(sip_cseq_create(home, c->cseq, o->invite ?
	    sip_method_invite : sip_method_message, o->invite ? "INVITE" :
	    "MESSAGE")),
	    SIPTAG_MAX_FORWARDS_STR("70"),
	    SIPTAG_CONTENT_TYPE_STR(b->content_type),
	    SIPTAG_CONTENT_DISPOSITION_STR(b->disposition),
	    TAG_IF(b->content_id != NULL, SIPTAG_HEADER_STR(su_sprintf(home,
	    "Content-ID: %s", b->content_id))),
	    SIPTAG_PAYLOAD(sip_payload_create(home, b->body, (isize_t)b->len)),
	    TAG_END()) < 0 || sip_from_tag(home, sip->sip_from, c->from_tag) <
	    0) {
		msg_destroy(msg);
		return NULL;
	}
	for (i = 0; i < b->nlabels; i++)
		if (sip_add_tl(msg, sip, SIPTAG_HEADER_STR(su_sprintf(home,
		    "Proxy-Inspect-Body: %s", b->labels[i])), TAG_END()) < 0) {
			msg_destroy(msg);
			return NULL;
		}
	return msg;
}

static void
json_string(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", (unsigned char)*s);
		else
			putchar(*s);
	}
	putchar('"');
}

/* A request inside the dialog the 2xx ok made: to its Contact, along
 * the route set its Record-Route gives (reversed: RFC 3261 12.1.2). */
static nta_outgoing_t *
in_dialog(nta_agent_t *nta, struct ua *ua, const struct opts *o,
    const struct call *c, const sip_t *ok, sip_method_t m, const char *name,
    unsigned cseq)
{
	msg_t *msg = nta_msg_create(nta, 0);
	sip_t *sip = sip_object(msg);
	su_home_t *home = msg_home(msg);
	sip_route_t *route;
	nta_outgoing_t *orq;

	if (msg == NULL || ok->sip_contact == NULL)
		goto fail;
	route = sip_route_reverse(home, ok->sip_record_route);
	if (sip_add_tl(msg, sip, SIPTAG_REQUEST(sip_request_create(home, m,
	    name, (url_string_t const *)ok->sip_contact->m_url, NULL)),
	    SIPTAG_FROM(sip_from_create(home, URL_STRING_MAKE(o->from))),
	    SIPTAG_TO(ok->sip_to), SIPTAG_CALL_ID_STR(c->call_id),
	    SIPTAG_CSEQ(sip_cseq_create(home, cseq, m, name)),
	    SIPTAG_ROUTE(route), SIPTAG_MAX_FORWARDS_STR("70"),
	    TAG_END()) < 0 || sip_from_tag(home, sip->sip_from,
	    c->from_tag) < 0)
		goto fail;
	orq = nta_outgoing_mcreate(nta, m == sip_method_ack ? NULL :
	    on_response, m == sip_method_ack ? NULL : ua,
	    sip->sip_route != NULL ? (url_string_t const *)
	    sip->sip_route->r_url : NULL, msg, TAG_IF(m == sip_method_ack,
	    NTATAG_STATELESS(1)), TAG_END());
	if (orq == NULL)
		goto fail;
	return orq;
fail:
	msg_destroy(msg);
	return NULL;
}

/* ACK the 2xx, hold the call, BYE it; the BYE's final status. */
static int
end_call(nta_agent_t *nta, struct ua *ua, const struct opts *o,
    const struct call *c)
{
	msg_t *okmsg = msg_ref_create(ua->resp);
	const sip_t *ok = sip_object(okmsg);
	nta_outgoing_t *orq;
	su_timer_t *timer;
	int status = 0;

	orq = in_dialog(nta, ua, o, c, ok, SIP_METHOD_ACK, c->cseq);
	if (orq != NULL && orq != (nta_outgoing_t *)-1)
		nta_outgoing_destroy(orq);
	timer = su_timer_create(su_root_task(ua->root), o->hold * 1000 + 1);
	su_timer_set(timer, timed_out, (su_timer_arg_t *)ua);
	su_root_run(ua->root);
	su_timer_destroy(timer);
	ua->done = 0;
	if ((orq = in_dialog(nta, ua, o, c, ok, SIP_METHOD_BYE, c->cseq + 1)) !=
	    NULL) {
		timer = su_timer_create(su_root_task(ua->root),
		    o->timeout * 1000);
		su_timer_set(timer, timed_out, (su_timer_arg_t *)ua);
		su_root_run(ua->root);
		su_timer_destroy(timer);
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

struct run {
	int challenges;          /* 495s and 496s answered */
	int signed_now;          /* the body is signed */
	int bye;                 /* a call: the BYE's final status */
	const char *refused;     /* why a challenge was refused, or NULL */
};

static int
report(const struct ua *ua, const struct opts *o, const struct run *r)
{
	size_t i;

	printf("{\"method\":\"%s\",\"status\":%d,\"phrase\":",
	    o->invite ? "INVITE" : "MESSAGE", ua->status);
	json_string(ua->done ? ua->phrase : "timeout");
	printf(",\"signed\":%s,\"encrypted\":%s,\"disclosed_to\":[",
	    r->signed_now ? "true" : "false",
	    o->npeer > 0 ? "true" : "false");
	for (i = 0; i < o->nproxies; i++) {
		if (i > 0)
			putchar(',');
		json_string(o->proxies[i].host);
	}
	printf("],\"challenges\":%d", r->challenges);
	if (o->invite && r->bye != 0)
		printf(",\"bye\":%d", r->bye);
	if (r->refused != NULL) {
		printf(",\"refused\":");
		json_string(r->refused);
	}
	printf("}\n");
	if (r->refused != NULL)
		return EXIT_REFUSED;
	if (!ua->done)
		return EXIT_TIMEOUT;
	if (o->invite && ua->status < 300 && (r->bye < 200 || r->bye >= 300))
		return EXIT_FINAL;
	return ua->status < 300 ? EXIT_2XX : EXIT_FINAL;
}

static int
build_body(const struct opts *o, const struct cms_signing_key *sk,
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
attempt(nta_agent_t *nta, const struct opts *o, const struct uamsg_out *b,
    struct call *c, struct ua *ua)
{
	nta_outgoing_t *orq;
	su_timer_t *timer;
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
	timer = su_timer_create(su_root_task(ua->root), o->timeout * 1000);
	su_timer_set(timer, timed_out, (su_timer_arg_t *)ua);
	su_root_run(ua->root);
	su_timer_destroy(timer);
	nta_outgoing_destroy(orq);
	return 0;
}

static int
names_host(const struct cms_signer *who, const char *host)
{
	size_t i;

	for (i = 0; i < who->ndns; i++)
		if (strcasecmp(who->dns[i], host) == 0)
			return 1;
	return strncasecmp(who->uri, "sip:", 4) == 0 &&
	    strcasecmp(who->uri + 4, host) == 0;
}

static int
allowed(const struct opts *o, const char *host)
{
	size_t i;

	for (i = 0; i < o->nallow; i++)
		if (strcasecmp(o->allow[i], host) == 0)
			return 1;
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

/* Digest 4.6 steps 1-5: a proxy to disclose to, or a reason not to. */
static const char *
check_challenge(struct opts *o, const struct cms_keys *trust, msg_t *resp,
    const struct call *c)
{
	struct uachal_request rq = { c->call_id, NULL, c->from_tag, c->branch,
	    c->sent_at };
	struct uachal_response rs;
	struct uachal *ch = NULL;
	struct cms_signer signer, enc;
	const char *warn[UACHAL_MAX_WARNINGS], *why = NULL, *reason = NULL;
	char cseq[32], host[UACHAL_AGENT_LEN], *colon;
	enum uachal_status st;
	int fd;

	snprintf(cseq, sizeof(cseq), "%u %s", c->cseq, o->invite ? "INVITE" :
	    "MESSAGE");
	rq.cseq = cseq;
	response_facts(resp, &rs, warn, UACHAL_MAX_WARNINGS);
	st = uachal_parse(&rq, &rs, 380, (long long)time(NULL), MAX_SKEW,
	    &ch, &why);
	if (st != UACHAL_OK) {
		reason = st == UACHAL_UNSIGNED ? "unsigned challenge" : why;
		goto out;
	}
	if (cms_verify(trust, ch->signature, ch->signature_len,
	    ch->signed_part, ch->signed_part_len, &signer, NULL, NULL,
	    &why) != CMS_OK) {
		reason = why;
		goto out;
	}
	if (llabs((long long)signer.signing_time - (long long)time(NULL)) >
	    MAX_SKEW) {
		reason = "signingTime outside the allowed skew";
		goto out;
	}
	snprintf(host, sizeof(host), "%s", ch->warn_agent[0] ?
	    ch->warn_agent : signer.ndns > 0 ? signer.dns[0] : "");
	if (host[0] != '[' && (colon = strchr(host, ':')) != NULL)
		*colon = '\0';
	if (host[0] == '\0' || !names_host(&signer, host)) {
		reason = "the signer does not name the challenging host";
		goto out;
	}
	if (cms_cert_check(trust, ch->cert, ch->cert_len, &enc, &why) !=
	    CMS_OK) {
		reason = why;
		goto out;
	}
	if (!names_host(&enc, host)) {
		reason = "the encryption certificate names another host";
		goto out;
	}
	if (!allowed(o, host)) {
		reason = "the proxy is not on the allow-list";
		goto out;
	}
	for (size_t i = 0; i < o->nproxies; i++)
		if (strcasecmp(o->proxies[i].host, host) == 0) {
			reason = "the proxy challenged again after disclosure";
			goto out;
		}
	if (o->nproxies >= o->max_proxies ||
	    o->nproxies >= UAMSG_MAX_PROXIES) {
		reason = "too many inspecting proxies";
		goto out;
	}
	/* uamsg encrypts to certificate files: keep the learned one in a
	 * private temporary file. */
	snprintf(o->learned[o->nlearned], sizeof(o->learned[0]),
	    "/tmp/e2mua-cert.XXXXXX");
	if ((fd = mkstemp(o->learned[o->nlearned])) < 0 || (close(fd),
	    cms_cert_write_pem(ch->cert, ch->cert_len,
	    o->learned[o->nlearned], NULL, 0)) != 0) {
		reason = "cannot keep the proxy's certificate";
		goto out;
	}
	o->proxies[o->nproxies].host = strdup(host);
	o->proxies[o->nproxies].cert_file = o->learned[o->nlearned++];
	o->nproxies++;
out:
	uachal_free(ch);
	return reason;
}

static int
run(struct opts *o, const struct cms_signing_key *sk,
    const struct cms_keys *trust)
{
	su_home_t home[1] = { SU_HOME_INIT(home) };
	struct ua ua = { 0 };
	struct run r = { 0 };
	struct call c = { 0 };
	struct uamsg_out b = { 0 };
	nta_agent_t *nta = NULL;
	int rc = EXIT_LOCAL;

	if ((ua.root = su_root_create(NULL)) == NULL ||
	    (nta = nta_agent_create(ua.root, URL_STRING_MAKE(o->bind), NULL,
	    NULL, NTATAG_UA(1), TAG_END())) == NULL) {
		fprintf(stderr, "e2mua: cannot bind %s\n", o->bind);
		goto out;
	}
	c.call_id = sip_call_id_create(home, NULL)->i_id;
	c.from_tag = nta_agent_newtag(home, "%s", nta);
	r.signed_now = sk != NULL && !o->lazy_sign;
	for (c.cseq = 1;; c.cseq++) {
		if (build_body(o, r.signed_now ? sk : NULL, &b) != 0 ||
		    attempt(nta, o, &b, &c, &ua) != 0)
			goto out;
		if (!ua.done || ua.resp == NULL)
			break;
		if (ua.status == 495) {
			if (r.signed_now) {
				r.refused = "495 although the body is signed";
				break;
			}
			if (sk == NULL) {
				r.refused = "495: a signature is required and "
				    "no key was given (-s)";
				break;
			}
			r.signed_now = 1;
			r.challenges++;
			continue;
		}
		if (ua.status != 496)
			break;
		if (trust == NULL) {
			r.refused = "no trust anchors (-r) to check a challenge";
			break;
		}
		if ((r.refused = check_challenge(o, trust, ua.resp, &c)) !=
		    NULL)
			break;
		r.challenges++;
	}
	if (o->invite && ua.done && ua.status < 300 && ua.resp != NULL)
		r.bye = end_call(nta, &ua, o, &c);
	rc = report(&ua, o, &r);
out:
	uamsg_out_free(&b);
	if (ua.resp != NULL)
		msg_destroy(ua.resp);
	nta_agent_destroy(nta);
	su_root_destroy(ua.root);
	su_home_deinit(home);
	return rc;
}

struct uas {
	su_root_t *root;
	const struct cms_keys *keys;
	const struct opts *o;
	unsigned count, answered;
};

static int
recv_status(enum uarecv_status st)
{
	switch (st) {
	case UARECV_OK:
		return 200;
	case UARECV_UNDECIPHERABLE:
		return 493;
	case UARECV_UNSUPPORTED:
		return 415;
	case UARECV_MALFORMED:
		return 400;
	default:
		return 500;
	}
}

static void
print_received(const sip_t *sip, int status, const struct uarecv *r)
{
	const char *method = sip->sip_request->rq_method_name;
	char from[256] = "";

	if (sip->sip_from != NULL)
		url_e(from, sizeof(from), sip->sip_from->a_url);
	from[sizeof(from) - 1] = '\0';
	printf("{\"received\":");
	json_string(method);
	printf(",\"from\":");
	json_string(from);
	printf(",\"status\":%d,\"decrypted\":%d,\"undecipherable\":%d,"
	    "\"signatures\":%d,\"valid\":%d,\"signer\":", status,
	    r->decrypted, r->undecipherable, r->signatures, r->valid);
	json_string(r->signer);
	printf(",\"type\":");
	json_string(r->type);
	printf(",\"text\":");
	json_string(r->content != NULL ? r->content : "");
	printf("}\n");
	fflush(stdout);
}

/* 200 with an SDP answer, protected as -e/-x say for the UAS. */
static int
answer_invite(struct uas *u, nta_incoming_t *irq)
{
	const struct opts *o = u->o;
	struct uamsg_in in = { .type = "application/sdp",
	    .content = (const uint8_t *)SDP_ANSWER, .len = strlen(SDP_ANSWER),
	    .peer_certs = o->peer_certs, .npeer_certs = o->npeer,
	    .proxies = o->proxies, .nproxies = o->nproxies,
	    .separate = o->separate, .cbc = o->cbc };
	struct uamsg_out b;
	su_home_t home[1] = { SU_HOME_INIT(home) };
	char err[256], labels[2048] = "", cid[160] = "";
	size_t i, n = 0;

	if (uamsg_build(&in, &b, err, sizeof(err)) != 0) {
		fprintf(stderr, "e2mua: %s\n", err);
		uamsg_out_free(&b);
		return 500;
	}
	for (i = 0; i < b.nlabels; i++)
		n += (size_t)snprintf(labels + n, n < sizeof(labels) ?
		    sizeof(labels) - n : 0, "%sProxy-Inspect-Body: %s",
		    i ? "\r\n" : "", b.labels[i]);
	if (b.content_id != NULL)
		snprintf(cid, sizeof(cid), "Content-ID: %s", b.content_id);
	/* In angle brackets, or ;transport= would be a header parameter. */
	nta_incoming_treply(irq, SIP_200_OK, SIPTAG_CONTACT_STR(su_sprintf(home,
	    "<%s>", o->bind)),
	    SIPTAG_CONTENT_TYPE_STR(b.content_type),
	    SIPTAG_CONTENT_DISPOSITION_STR(b.disposition),
	    TAG_IF(cid[0] != '\0', SIPTAG_HEADER_STR(cid)),
	    TAG_IF(labels[0] != '\0', SIPTAG_HEADER_STR(labels)),
	    SIPTAG_PAYLOAD(sip_payload_create(home, b.body, (isize_t)b.len)),
	    TAG_END());
	su_home_deinit(home);
	uamsg_out_free(&b);
	return 0;
}

/* UAS mode: every request that is not for a dialog of ours. */
static int
uas_request(struct uas *u, nta_leg_t *leg, nta_incoming_t *irq,
    const sip_t *sip)
{
	msg_t *msg = nta_incoming_getrequest(irq);
	struct mime_headers top;
	struct uarecv r;
	int status;

	(void)leg;
	if (sip->sip_request->rq_method == sip_method_ack) {
		msg_destroy(msg);
		return 0;
	}
	if (sip->sip_request->rq_method == sip_method_bye) {
		memset(&r, 0, sizeof(r));
		print_received(sip, 200, &r);
		msg_destroy(msg);
		status = 200;
		goto counted;
	}
	if (sip->sip_request->rq_method != sip_method_message &&
	    sip->sip_request->rq_method != sip_method_invite) {
		msg_destroy(msg);
		return 501;
	}
	sipmime_headers(msg, sip, &top);
	status = recv_status(uarecv_open(u->keys, &top,
	    sip->sip_payload != NULL ? sip->sip_payload->pl_data : NULL,
	    sip->sip_payload != NULL ? sip->sip_payload->pl_len : 0, &r));
	print_received(sip, status, &r);
	uarecv_free(&r);
	msg_destroy(msg);
	if (status == 200 && sip->sip_request->rq_method == sip_method_invite)
		status = answer_invite(u, irq);
counted:
	if (u->count != 0 && ++u->answered >= u->count)
		su_root_break(u->root);
	return status;
}

static void
uas_timeout(su_root_magic_t *m, su_timer_t *t, su_timer_arg_t *arg)
{
	(void)m;
	(void)t;
	su_root_break(((struct uas *)arg)->root);
}

static int
listen_mode(const struct opts *o, const struct cms_keys *keys)
{
	struct uas u = { .keys = keys, .o = o, .count = o->count };
	nta_agent_t *nta = NULL;
	nta_leg_t *leg = NULL;
	su_timer_t *timer = NULL;
	int rc = EXIT_LOCAL;

	if ((u.root = su_root_create(NULL)) == NULL ||
	    (nta = nta_agent_create(u.root, URL_STRING_MAKE(o->bind), NULL,
	    NULL, NTATAG_UA(1), TAG_END())) == NULL ||
	    (leg = nta_leg_tcreate(nta, uas_request, &u, NTATAG_NO_DIALOG(1),
	    TAG_END())) == NULL) {
		fprintf(stderr, "e2mua: cannot listen on %s\n", o->bind);
		goto out;
	}
	timer = su_timer_create(su_root_task(u.root), o->timeout * 1000);
	su_timer_set(timer, uas_timeout, (su_timer_arg_t *)&u);
	su_root_run(u.root);
	rc = u.count == 0 || u.answered >= u.count ? EXIT_2XX : EXIT_TIMEOUT;
out:
	su_timer_destroy(timer);
	if (leg != NULL)
		nta_leg_destroy(leg);
	nta_agent_destroy(nta);
	su_root_destroy(u.root);
	return rc;
}

static void
forget_learned(struct opts *o, size_t given)
{
	size_t i;

	for (i = 0; i < o->nlearned; i++)
		unlink(o->learned[i]);
	for (i = given; i < o->nproxies; i++)
		free((char *)o->proxies[i].host);
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct cms_signing_key *sk = NULL;
	struct cms_keys *trust = NULL;
	char err[256];
	size_t given;
	int rc = EXIT_LOCAL;

	if (parse_opts(argc, argv, &o) != 0) {
		usage();
		return EXIT_USAGE;
	}
	given = o.nproxies;
	if (su_init() != 0)
		return EXIT_LOCAL;
	/* The JSON line is the output; Sofia's chatter is not. */
	su_log_set_level(NULL, 0);
	if (o.sign_cert != NULL && (sk = cms_signing_key_load(o.sign_cert,
	    o.sign_key, NULL, 0, err, sizeof(err))) == NULL) {
		fprintf(stderr, "e2mua: %s\n", err);
		goto out;
	}
	if ((o.ntrust > 0 || o.dec_cert != NULL) && (trust = cms_keys_load(
	    o.dec_cert != NULL ? &o.dec_cert : NULL, o.dec_cert != NULL ?
	    &o.dec_key : NULL, o.dec_cert != NULL ? 1 : 0, o.trust,
	    o.ntrust, o.crls, o.ncrl, err, sizeof(err))) == NULL) {
		fprintf(stderr, "e2mua: %s\n", err);
		goto out;
	}
	rc = o.listen ? listen_mode(&o, trust) : run(&o, sk, trust);
out:
	forget_learned(&o, given);
	cms_keys_free(trust);
	cms_signing_key_free(sk);
	su_deinit();
	return rc;
}
