/*
 * test_uachal.c - the UA side of a signed challenge (uachal.c).
 *
 * Genuine challenges are built with challenge_build() and a key made at
 * test time with the openssl command line tool (pki_vectors.sh, set uachal);
 * cms_verify() over signed_part shows the module hands out exactly the
 * signed bytes. Odd layouts and sipfrags are written by hand (their
 * "signature" is junk: this module does not verify it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e2m/challenge.h"
#include "crypto/cms.h"
#include "ua/uachal.h"
#include "pki.h"
#include "t.h"

static const char *const VIA[] = {
	"SIP/2.0/UDP ss1.atlanta.example.com:5060;branch=z9hG4bK2d4790.1"
	    ";received=192.0.2.111",
	"SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9"
	    ";received=192.0.2.101",
};
static const char FROM[] =
    "\"Alice; <x>\" <sip:alice@atlanta.example.com>;tag=9fxced76sl";
static const char TO[] = "Bob <sip:bob@biloxi.example.com>;tag=p-8321234356";
static const char CALLID[] = "3848276298220188511@atlanta.example.com";
static const char DATE[] = "Sat, 13 Nov 2010 23:29:00 GMT";
static const long long DATE_T = 1289690940LL;
static const char WARN1[] = "380 ss1.atlanta.example.com "
    "\"Required to View Content-Type 'application/sdp'\"";
static const char WARN2[] = "380 ss1.atlanta.example.com "
    "\"required to view, please, 'Text/Plain'\"";
static const char WARN_OTHER[] = "399 ss1.atlanta.example.com \"hello\"";

static unsigned char *cert;
static size_t cert_len;
static struct cms_signing_key *sk;
static struct cms_keys *trust;

struct gen {
	int status;
	const char *cseq, *call_id, *branch_via, *date;
	const char *const *warn;
	size_t nwarn;
	enum challenge_encoding enc;
};

static const char *const WARNS[] = { WARN1, WARN_OTHER, WARN2 };

static void
gen_default(struct gen *g)
{
	memset(g, 0, sizeof *g);
	g->status = 496;
	g->cseq = "1 INVITE";
	g->call_id = CALLID;
	g->branch_via = VIA[1];
	g->date = DATE;
	g->warn = WARNS;
	g->nwarn = 3;
}

static int
build(const struct gen *g, struct challenge_out *out)
{
	struct challenge_text via[2], warn[4];
	struct challenge_in in;
	const char *why;

	via[0] = challenge_text(VIA[0]);
	via[1] = challenge_text(g->branch_via);
	for (size_t i = 0; i < g->nwarn; i++)
		warn[i] = challenge_text(g->warn[i]);
	memset(&in, 0, sizeof in);
	in.status = g->status;
	in.reason = challenge_text(g->status == 496 ? "Proxy Undecipherable" :
	    "Signature Required");
	in.via = via;
	in.nvia = 2;
	in.from = challenge_text(FROM);
	in.to = challenge_text(TO);
	in.call_id = challenge_text(g->call_id);
	in.cseq = challenge_text(g->cseq);
	in.date = challenge_text(g->date);
	in.warning = warn;
	in.nwarning = g->nwarn;
	in.cert_der = cert;
	in.cert_der_len = cert_len;
	in.sk = sk;
	in.encoding = g->enc;
	return challenge_build(&in, out, &why) == CHALLENGE_OK ? 0 : -1;
}

static void
req_default(struct uachal_request *r)
{
	r->call_id = CALLID;
	r->cseq = "1 INVITE";
	r->from_tag = "9fxced76sl";
	r->branch = "z9hG4bK74bf9";
	r->sent_at = DATE_T - 1;
}

static void
resp_of(struct uachal_response *r, const struct challenge_out *o,
    const struct gen *g)
{
	memset(r, 0, sizeof *r);
	r->status = g->status;
	r->content_type = o->content_type;
	r->body = o->body;
	r->body_len = o->body_len;
	r->warnings = g->warn;
	r->nwarnings = g->nwarn;
	r->date = g->date;
	r->to = TO;
}

/* Parse and free; the status. */
static enum uachal_status
try(const struct uachal_request *rq, const struct uachal_response *rs,
    const char *name, enum uachal_status want)
{
	struct uachal *c = NULL;
	const char *why = NULL;
	enum uachal_status st = uachal_parse(rq, rs, 380, DATE_T + 2, 300, &c,
	    &why);
	T_EQ_INT(st, want, name);
	if (st != want)
		printf("# why: %s\n", why ? why : "(null)");
	T_OK(why != NULL && (st == UACHAL_OK || st == UACHAL_UNSIGNED ||
	    c == NULL), "  ... with a reason, no result unless OK");
	uachal_free(c);
	return st;
}

static void
test_genuine(enum challenge_encoding enc, const char *label)
{
	struct gen g;
	struct challenge_out o;
	struct uachal_request rq;
	struct uachal_response rs;
	struct uachal *c = NULL;
	const char *why = NULL;
	char name[128];

	gen_default(&g);
	g.enc = enc;
	req_default(&rq);
	if (build(&g, &o) != 0) {
		T_OK(0, "challenge_build");
		return;
	}
	resp_of(&rs, &o, &g);
	enum uachal_status st = uachal_parse(&rq, &rs, 380, DATE_T + 2, 300,
	    &c, &why);
	snprintf(name, sizeof name, "%s: genuine challenge is OK", label);
	T_EQ_INT(st, UACHAL_OK, name);
	if (st != UACHAL_OK) {
		printf("# why: %s\n", why);
		challenge_out_free(&o);
		return;
	}
	T_OK(c->cert_len == cert_len && memcmp(c->cert, cert, cert_len) == 0,
	    "  ... certificate DER handed out");
	T_OK(c->signed_part_len > 40 && memcmp(c->signed_part,
	    "Content-Type: multipart/mixed;", 30) == 0,
	    "  ... signed part starts with its MIME headers");
	T_EQ_STR(c->warn_agent, "ss1.atlanta.example.com", "  ... warn-agent");
	T_EQ_INT(c->ntypes, 2, "  ... two types (399 ignored)");
	T_EQ_STR(c->types[0], "application/sdp", "  ... first type");
	T_EQ_STR(c->types[1], "text/plain", "  ... second type, lower-cased");
	T_EQ_INT(c->frag_date, DATE_T, "  ... sipfrag Date");
	const char *vwhy = NULL;
	enum cms_status cst = cms_verify(trust, c->signature, c->signature_len,
	    c->signed_part, c->signed_part_len, NULL, NULL, NULL, &vwhy);
	T_EQ_INT(cst, CMS_OK, "  ... cms_verify over signed_part and signature");
	if (cst != CMS_OK)
		printf("# %s\n", vwhy ? vwhy : "");
	uachal_free(c);

	/* A 495 as well; and the warn-code is configurable. */
	challenge_out_free(&o);
	g.status = 495;
	if (build(&g, &o) == 0) {
		resp_of(&rs, &o, &g);
		st = uachal_parse(&rq, &rs, 399, DATE_T, 300, &c, &why);
		T_EQ_INT(st, UACHAL_OK, "  ... a 495 with warn-code 399");
		if (st == UACHAL_OK) {
			T_EQ_INT(c->ntypes, 0, "  ... 380s do not count");
			T_EQ_STR(c->warn_agent, "", "  ... 399 text not ours");
		}
		uachal_free(c);
		rs.status = 496;
		try(&rq, &rs, "  ... a 495 body with a 496 status",
		    UACHAL_MISMATCH);
	}
	challenge_out_free(&o);
}

/* Requests the genuine challenge does not answer, and responses whose
 * headers are not the signed ones. */
static void
test_freshness(void)
{
	struct gen g;
	struct challenge_out o;
	struct uachal_request rq;
	struct uachal_response rs;

	gen_default(&g);
	if (build(&g, &o) != 0) {
		T_OK(0, "challenge_build");
		return;
	}
	resp_of(&rs, &o, &g);
	req_default(&rq);

	rq.call_id = "other@atlanta.example.com";
	try(&rq, &rs, "replay: other Call-ID is STALE", UACHAL_STALE);
	req_default(&rq);
	rq.branch = "z9hG4bK74bf8";
	try(&rq, &rs, "replay: other branch is STALE", UACHAL_STALE);
	rq.branch = "z9hG4bK74BF9";
	try(&rq, &rs, "branch rest compared byte for byte", UACHAL_STALE);
	rq.branch = "Z9HG4BK74bf9";
	try(&rq, &rs, "cookie compared in any case", UACHAL_OK);
	rq.branch = "z9hG4bK2d4790.1";
	try(&rq, &rs, "the top (proxy) Via branch is not ours", UACHAL_STALE);
	rq.branch = "74bf9";
	try(&rq, &rs, "request branch without cookie refused",
	    UACHAL_MALFORMED);
	req_default(&rq);
	rq.cseq = "2 INVITE";
	try(&rq, &rs, "other CSeq number is STALE", UACHAL_STALE);
	rq.cseq = "1 invite";
	try(&rq, &rs, "CSeq method case-sensitive", UACHAL_STALE);
	rq.cseq = "1 MESSAGE";
	try(&rq, &rs, "other CSeq method is STALE", UACHAL_STALE);
	rq.cseq = " 01 \t INVITE ";
	try(&rq, &rs, "CSeq whitespace and leading zero tolerated", UACHAL_OK);
	req_default(&rq);
	rq.from_tag = "9fxced76sL";
	try(&rq, &rs, "other From tag is STALE", UACHAL_STALE);
	req_default(&rq);
	rq.sent_at = DATE_T + 400;
	try(&rq, &rs, "Date before the request was sent is STALE",
	    UACHAL_STALE);
	req_default(&rq);
	{
		struct uachal *c = NULL;
		const char *why;
		T_EQ_INT(uachal_parse(&rq, &rs, 380, DATE_T + 301, 300, &c,
		    &why), UACHAL_STALE, "Date too old is STALE");
		T_EQ_INT(uachal_parse(&rq, &rs, 380, DATE_T - 301, 300, &c,
		    &why), UACHAL_STALE, "Date in the future is STALE");
		T_EQ_INT(uachal_parse(&rq, &rs, 380, DATE_T + 300, 300, &c,
		    &why), UACHAL_OK, "Date at the skew edge is OK");
		uachal_free(c);
	}

	/* Response headers against the signed ones. */
	rs.to = "Bob <sip:bob@biloxi.example.com>;tag=other";
	try(&rq, &rs, "To differing from the signed one", UACHAL_MISMATCH);
	rs.to = NULL;
	try(&rq, &rs, "no To", UACHAL_MISMATCH);
	resp_of(&rs, &o, &g);
	rs.date = NULL;
	try(&rq, &rs, "no Date in the response", UACHAL_MISMATCH);
	rs.date = "Sat, 13 Nov 2010 23:29:01 GMT";
	try(&rq, &rs, "other Date in the response", UACHAL_MISMATCH);
	resp_of(&rs, &o, &g);
	const char *const extra[] = { WARN1, WARN_OTHER, WARN2,
		"380 evil.example.com \"Required to view 'text/plain'\"" };
	rs.warnings = extra;
	rs.nwarnings = 4;
	try(&rq, &rs, "an unsigned extra Warning", UACHAL_MISMATCH);
	rs.nwarnings = 2;
	try(&rq, &rs, "a signed Warning removed", UACHAL_MISMATCH);
	const char *const swapped[] = { WARN2, WARN_OTHER, WARN1 };
	rs.warnings = swapped;
	rs.nwarnings = 3;
	try(&rq, &rs, "Warnings reordered", UACHAL_MISMATCH);
	char joined[512];
	snprintf(joined, sizeof joined, "%s , %s,%s", WARN1, WARN_OTHER, WARN2);
	const char *const one[] = { joined };
	rs.warnings = one;
	rs.nwarnings = 1;
	try(&rq, &rs, "the same Warnings in one header field", UACHAL_OK);
	resp_of(&rs, &o, &g);
	rs.status = 400;
	try(&rq, &rs, "a 400 is not a challenge", UACHAL_MALFORMED);
	resp_of(&rs, &o, &g);
	rs.body_len = UACHAL_MAX_BODY + 1;
	try(&rq, &rs, "body over 64 KiB", UACHAL_MALFORMED);
	challenge_out_free(&o);

	/* A genuine challenge built for another transaction. */
	g.call_id = "1@elsewhere";
	if (build(&g, &o) == 0) {
		resp_of(&rs, &o, &g);
		try(&rq, &rs, "genuine challenge of another Call-ID is STALE",
		    UACHAL_STALE);
		challenge_out_free(&o);
	}
	gen_default(&g);
	g.branch_via = "SIP/2.0/UDP client.atlanta.example.com:5060"
	    ";branch=z9hG4bKold;received=192.0.2.101";
	if (build(&g, &o) == 0) {
		resp_of(&rs, &o, &g);
		try(&rq, &rs, "genuine challenge of another branch is STALE",
		    UACHAL_STALE);
		challenge_out_free(&o);
	}
	gen_default(&g);
	g.date = "Sat, 13 Nov 2010 23:29:00 gmt";
	if (build(&g, &o) == 0) {
		resp_of(&rs, &o, &g);
		try(&rq, &rs, "non-RFC 1123 Date is MALFORMED",
		    UACHAL_MALFORMED);
		challenge_out_free(&o);
	}
	gen_default(&g);
	const char *const twoagents[] = { WARN1,
		"380 other.example.com \"Required to view 'text/plain'\"" };
	g.warn = twoagents;
	g.nwarn = 2;
	if (build(&g, &o) == 0) {
		resp_of(&rs, &o, &g);
		try(&rq, &rs, "Warnings naming two agents", UACHAL_MALFORMED);
		challenge_out_free(&o);
	}
	const char *const sips[] = { "380 ss1.atlanta.example.com"
		" \"SIPS Not Allowed 'x/y'\"", WARN1 };
	g.warn = sips;
	if (build(&g, &o) == 0) {
		struct uachal *c = NULL;
		const char *why;
		resp_of(&rs, &o, &g);
		T_EQ_INT(uachal_parse(&rq, &rs, 380, DATE_T, 300, &c, &why),
		    UACHAL_OK, "RFC 5630 380 text is skipped");
		T_OK(c != NULL && c->ntypes == 1 &&
		    strcmp(c->types[0], "application/sdp") == 0,
		    "  ... only the Required-to-view type kept");
		uachal_free(c);
		challenge_out_free(&o);
	}
	const char *const notype[] = { "380 ss1.atlanta.example.com:5061"
		" \"Required to view the whole body\"" };
	g.warn = notype;
	g.nwarn = 1;
	if (build(&g, &o) == 0) {
		struct uachal *c = NULL;
		const char *why;
		resp_of(&rs, &o, &g);
		T_EQ_INT(uachal_parse(&rq, &rs, 380, DATE_T, 300, &c, &why),
		    UACHAL_OK, "380 without a type");
		T_OK(c != NULL && c->ntypes == 0 &&
		    strcmp(c->warn_agent, "ss1.atlanta.example.com:5061") == 0,
		    "  ... agent with port, no type (whole body)");
		uachal_free(c);
		challenge_out_free(&o);
	}
}

/* Values compared whole, never as prefixes either way (the weakenings of
 * docs/reliability.md, "Mutation testing", U1 and U3): the genuine
 * challenge against a request whose values are prefixes or extensions of
 * the signed ones, and a response whose To and Date are. */
static void
test_strict(void)
{
	struct gen g;
	struct challenge_out o;
	struct uachal_request rq;
	struct uachal_response rs;

	gen_default(&g);
	if (build(&g, &o) != 0) {
		T_OK(0, "challenge_build");
		return;
	}
	resp_of(&rs, &o, &g);
	req_default(&rq);
	try(&rq, &rs, "strict: the genuine challenge (control)", UACHAL_OK);
	rq.call_id = "3848276298220188511";
	try(&rq, &rs, "strict: request Call-ID a prefix of the signed one",
	    UACHAL_STALE);
	rq.call_id = "3848276298220188511@atlanta.example.com.x";
	try(&rq, &rs, "strict: signed Call-ID a prefix of the request's",
	    UACHAL_STALE);
	req_default(&rq);
	rq.from_tag = "9fxced76s";
	try(&rq, &rs, "strict: request From tag a prefix of the signed one",
	    UACHAL_STALE);
	rq.from_tag = "9fxced76slx";
	try(&rq, &rs, "strict: signed From tag a prefix of the request's",
	    UACHAL_STALE);
	req_default(&rq);
	rq.branch = "z9hG4bK74bf";
	try(&rq, &rs, "strict: request branch a prefix of the signed one",
	    UACHAL_STALE);
	rq.branch = "z9hG4bK74bf9x";
	try(&rq, &rs, "strict: signed branch a prefix of the request's",
	    UACHAL_STALE);
	req_default(&rq);
	rs.to = "Bob <sip:bob@biloxi.example.com>;tag=p-832";
	try(&rq, &rs, "strict: response To a prefix of the signed one",
	    UACHAL_MISMATCH);
	rs.to = "Bob <sip:bob@biloxi.example.com>;tag=p-8321234356x";
	try(&rq, &rs, "strict: response To longer than the signed one",
	    UACHAL_MISMATCH);
	resp_of(&rs, &o, &g);
	rs.date = "Sat, 13 Nov 2010 23:29:00";
	try(&rq, &rs, "strict: response Date a prefix of the signed one",
	    UACHAL_MISMATCH);
	resp_of(&rs, &o, &g);
	const char *const cut[] = { WARN1, WARN_OTHER,
		"380 ss1.atlanta.example.com \"required to view" };
	rs.warnings = cut;
	try(&rq, &rs, "strict: a response Warning a prefix of the signed one",
	    UACHAL_MISMATCH);
	challenge_out_free(&o);
}

/* ---- hand-made bodies ---- */

static const char GOODFRAG[] =
    "SIP/2.0 496 Proxy Undecipherable\r\n"
    "v: SIP/2.0/UDP ss1.atlanta.example.com;branch=z9hG4bKa, "
    "SIP/2.0/UDP client.atlanta.example.com;received=192.0.2.1;"
    "BRANCH=z9hG4bK74bf9\r\n"
    "f: <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n"
    "t: " "Bob <sip:bob@biloxi.example.com>;tag=p-8321234356\r\n"
    "i: 3848276298220188511@atlanta.example.com\r\n"
    "cseq:   1   INVITE\r\n"
    "X-Other: ignored\r\n"
    "date: Sat, 13 Nov 2010 23:29:00 GMT\r\n";

static char hbody[8192];

/* A multipart/signed around a sipfrag; the pieces are format arguments. */
static size_t
hand(const char *mixtype, const char *fragtype, const char *frag,
    const char *certtype, const char *sigtype, const char *extra)
{
	int n = snprintf(hbody, sizeof hbody,
	    "--S\r\n"
	    "Content-Type: %s; boundary=M\r\n\r\n"
	    "--M\r\nContent-Type: %s\r\n\r\n%s\r\n"
	    "--M\r\nContent-Type: %s\r\n\r\nCERTDER\r\n"
	    "--M--\r\n\r\n"
	    "--S\r\nContent-Type: %s\r\n\r\nSIGDER\r\n%s"
	    "--S--\r\n",
	    mixtype, fragtype, frag, certtype, sigtype, extra);
	return n > 0 && (size_t)n < sizeof hbody ? (size_t)n : 0;
}

static const char HCT[] =
    "multipart/signed; protocol=\"application/pkcs7-signature\"; boundary=S";

static enum uachal_status
hand_try(const char *ct, size_t len, const char *name,
    enum uachal_status want)
{
	struct uachal_request rq;
	struct uachal_response rs;

	req_default(&rq);
	memset(&rs, 0, sizeof rs);
	rs.status = 496;
	rs.content_type = ct;
	rs.body = (const unsigned char *)hbody;
	rs.body_len = len;
	rs.date = DATE;
	rs.to = TO;
	return try(&rq, &rs, name, want);
}

static void
hand_frag(const char *frag, const char *name, enum uachal_status want)
{
	size_t n = hand("multipart/mixed", "message/sipfrag", frag,
	    "application/pkix-cert", "application/pkcs7-signature", "");
	hand_try(HCT, n, name, want);
}

static void
test_layout(void)
{
	size_t n;

	hand_frag(GOODFRAG, "compact names, any case, comma Vias", UACHAL_OK);
	n = hand("multipart/mixed", "message/sipfrag", GOODFRAG,
	    "application/pkix-cert", "application/x-pkcs7-signature", "");
	hand_try("multipart/signed; protocol=\"application/x-pkcs7-signature\""
	    "; boundary=S", n, "x-pkcs7-signature accepted", UACHAL_OK);
	hand_try("multipart/signed; protocol=\"application/pgp-signature\""
	    "; boundary=S", n, "other protocol refused", UACHAL_MALFORMED);
	hand_try("multipart/signed; boundary=S", n, "no protocol refused",
	    UACHAL_MALFORMED);
	hand_try("multipart/mixed; boundary=S", n, "not multipart/signed",
	    UACHAL_MALFORMED);
	n = hand("multipart/mixed", "message/sipfrag", GOODFRAG,
	    "application/pkix-cert", "application/pkcs7-signature",
	    "--S\r\nContent-Type: text/plain\r\n\r\nthird\r\n");
	hand_try(HCT, n, "three parts refused", UACHAL_MALFORMED);
	n = hand("multipart/alternative", "message/sipfrag", GOODFRAG,
	    "application/pkix-cert", "application/pkcs7-signature", "");
	hand_try(HCT, n, "signed part not multipart/mixed", UACHAL_MALFORMED);
	n = hand("multipart/mixed", "application/pkix-cert", GOODFRAG,
	    "message/sipfrag", "application/pkcs7-signature", "");
	hand_try(HCT, n, "parts of the mixed swapped", UACHAL_MALFORMED);
	n = hand("multipart/mixed", "message/sipfrag", GOODFRAG,
	    "application/pkix-cert", "text/plain", "");
	hand_try(HCT, n, "second part not a signature", UACHAL_MALFORMED);
	n = hand("multipart/mixed", "message/sipfrag", GOODFRAG,
	    "application/pkix-cert", "application/pkcs7-signature", "");
	hand_try(NULL, n, "no Content-Type", UACHAL_MALFORMED);
	hand_try(HCT, 0, "no body", UACHAL_MALFORMED);

	/* Names compared whole (U2 of docs/reliability.md): a parameter
	 * "tagx" is not the tag, "branchx" not the branch, and a header
	 * whose name starts like a compact form is not that header. */
	{
		static char f1[1024], f2[1024], f3[1024];
		const char *p;

		p = strstr(GOODFRAG, ";tag=");
		snprintf(f1, sizeof f1, "%.*s;tagx=%s", (int)(p - GOODFRAG),
		    GOODFRAG, p + 5);
		hand_frag(f1, "strict: a 'tagx' parameter is not the From tag",
		    UACHAL_STALE);
		p = strstr(GOODFRAG, "BRANCH=z9hG4bK74bf9");
		snprintf(f2, sizeof f2, "%.*sBRANCHX=%s", (int)(p - GOODFRAG),
		    GOODFRAG, p + 7);
		hand_frag(f2, "strict: a 'branchx' parameter is not the branch",
		    UACHAL_STALE);
		/* U21, U22: a parameter given twice is ambiguous, even when
		 * the first one is the request's. */
		static char f4[1024], f5[1024];
		p = strstr(GOODFRAG, ";tag=9fxced76sl") + 15;
		snprintf(f4, sizeof f4, "%.*s;tag=other%s", (int)(p - GOODFRAG),
		    GOODFRAG, p);
		hand_frag(f4, "strict: two From tags are refused", UACHAL_STALE);
		p = strstr(GOODFRAG, "BRANCH=z9hG4bK74bf9") + 19;
		snprintf(f5, sizeof f5, "%.*s;branch=z9hG4bKother%s",
		    (int)(p - GOODFRAG), GOODFRAG, p);
		hand_frag(f5, "strict: two branches in the bottom Via are "
		    "refused", UACHAL_STALE);
		snprintf(f3, sizeof f3, "%sTimestamp: 5\r\nIdentity: x\r\n"
		    "Fx: 1\r\n", GOODFRAG);
		hand_frag(f3, "strict: Timestamp, Identity, Fx are not t, i, f",
		    UACHAL_OK);
	}

	/* The sipfrag itself. */
	hand_frag("SIP/2.0 496 Proxy Undecipherable\r\n",
	    "status line only", UACHAL_MALFORMED);
	{
		char f495[2048];
		snprintf(f495, sizeof f495, "SIP/2.0 495 Signature Required%s",
		    strstr(GOODFRAG, "\r\n"));
		hand_frag(f495, "sipfrag status differs from the response's",
		    UACHAL_MISMATCH);
	}
	static const char *const bad[] = {
		"",
		"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n",
		"SIP/2.0 49x Nope\r\nCall-ID: a\r\n",
		"SIP/2.0 496Proxy\r\n",
		"SIP/2.0 496 P\r\nNo colon here\r\n",
		"SIP/2.0 496 P\r\n folded\r\n",
		"SIP/2.0 496 P\r\nCall-ID: a\rb\r\n",
		"SIP/2.0 496 P\r\nCall-ID: a\x01\r\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char name[64];
		snprintf(name, sizeof name, "bad sipfrag %zu", i);
		hand_frag(bad[i], name, UACHAL_MALFORMED);
	}
	char frag[4096];
	/* Each required header dropped or doubled. */
	static const char *const hdr[] = { "v:", "f:", "t:", "i:", "cseq:",
		"date:" };
	for (size_t i = 0; i < 6; i++) {
		char name[64];
		const char *p = strstr(GOODFRAG, hdr[i]);
		const char *e = strstr(p, "\r\n") + 2;
		snprintf(frag, sizeof frag, "%.*s%s", (int)(p - GOODFRAG),
		    GOODFRAG, e);
		snprintf(name, sizeof name, "sipfrag without %s", hdr[i]);
		hand_frag(frag, name, UACHAL_MALFORMED);
		if (i == 0)
			continue; /* several Via fields are fine */
		snprintf(frag, sizeof frag, "%s%.*s", GOODFRAG,
		    (int)(e - p), p);
		snprintf(name, sizeof name, "sipfrag with two %s", hdr[i]);
		hand_frag(frag, name, UACHAL_MALFORMED);
	}
	/* Too many headers, a line too long. */
	size_t fl = (size_t)snprintf(frag, sizeof frag, "%s", GOODFRAG);
	for (int i = 0; i < UACHAL_MAX_HEADERS; i++)
		fl += (size_t)snprintf(frag + fl, sizeof frag - fl, "X: y\r\n");
	hand_frag(frag, "too many sipfrag headers", UACHAL_MALFORMED);
	/* A quoted display name with ';tag=' must not fool the tag. */
	snprintf(frag, sizeof frag, "%s", GOODFRAG);
	char *fp = strstr(frag, "f: ");
	const char *rest = strstr(GOODFRAG, "t: ");
	snprintf(fp, sizeof frag - (size_t)(fp - frag),
	    "f: \"x;tag=9fxced76sl\" <sip:a@b>;tag=zz\r\n%s", rest);
	hand_frag(frag, "tag in a quoted display name is not the tag",
	    UACHAL_STALE);
	snprintf(fp, sizeof frag - (size_t)(fp - frag),
	    "f: <sip:a@b;tag=9fxced76sl>\r\n%s", rest);
	hand_frag(frag, "URI parameter tag is not the From tag",
	    UACHAL_STALE);
	snprintf(fp, sizeof frag - (size_t)(fp - frag),
	    "f: sip:a@b;tag=9fxced76sl\r\n%s", rest);
	hand_frag(frag, "addr-spec From tag", UACHAL_OK);
	/* The branch is the last Via value's, even after a comma inside a
	 * quoted parameter. */
	snprintf(frag, sizeof frag, "%s", GOODFRAG);
	fp = strstr(frag, "f: ");
	snprintf(fp, sizeof frag - (size_t)(fp - frag),
	    "Via: SIP/2.0/UDP h;branch=z9hG4bK74bf9;x=\"a,b\"\r\n"
	    "VIA: SIP/2.0/UDP h;branch=z9hG4bKzz;x=\"a, SIP/2.0/UDP"
	    " h;branch=z9hG4bK74bf9\"\r\n%s", strstr(GOODFRAG, "f: "));
	hand_frag(frag, "bottom Via is the last value of the last field",
	    UACHAL_STALE);
}

static void
test_legacy(void)
{
	struct uachal_request rq;
	struct uachal_response rs;
	struct uachal *c = NULL;
	const char *why;
	const char *const w[] = { WARN1 };

	req_default(&rq);
	memset(&rs, 0, sizeof rs);
	rs.status = 496;
	rs.content_type = "application/pkix-cert";
	rs.body = cert;
	rs.body_len = cert_len;
	rs.warnings = w;
	rs.nwarnings = 1;
	T_EQ_INT(uachal_parse(&rq, &rs, 380, DATE_T, 300, &c, &why),
	    UACHAL_UNSIGNED, "legacy pkix-cert body is UNSIGNED");
	T_OK(c != NULL && c->cert_len == cert_len && c->signed_part == NULL &&
	    memcmp(c->cert, cert, cert_len) == 0,
	    "  ... certificate handed out, nothing signed");
	T_OK(c != NULL && c->ntypes == 1 &&
	    strcmp(c->warn_agent, "ss1.atlanta.example.com") == 0,
	    "  ... unsigned Warning read (for the user's question)");
	uachal_free(c);
	c = NULL;
	rs.content_type = "application/pkix-cert";
	rs.content_transfer_encoding = "base64";
	rs.body = (const unsigned char *)"TUlJ\r\n";
	rs.body_len = 6;
	T_EQ_INT(uachal_parse(&rq, &rs, 380, DATE_T, 300, &c, &why),
	    UACHAL_UNSIGNED, "legacy base64 certificate is UNSIGNED");
	T_OK(c != NULL && c->cert_len == 3 && memcmp(c->cert, "MII", 3) == 0,
	    "  ... decoded");
	uachal_free(c);
}

static void
test_date(void)
{
	long long t = 0;
	static const char *const bad[] = {
		"Sat, 13 Nov 2010 23:29:00 gmt",
		"Sun, 13 Nov 2010 23:29:00 GMT", /* wrong weekday */
		"Sat, 31 Feb 2010 23:29:00 GMT",
		"Sat, 13 Nov 2010 24:00:00 GMT",
		"Sat, 3 Nov 2010 23:29:00 GMT",
		"Sat,  13 Nov 2010 23:29:00 GMT",
		"Sat, 13 nov 2010 23:29:00 GMT",
		"Sat, 13 Nov 2010 23:29:0x GMT",
		"Thu, 01 Jan 1900 00:00:00 GMT",
		"Sat, 13 Nov 2010 23:29:00 GMT ",
	};

	T_OK(uachal_date_parse(DATE, strlen(DATE), &t) == 0 && t == DATE_T,
	    "RFC 1123 date");
	T_OK(uachal_date_parse("Fri, 27 Nov 2026 11:54:01 GMT", 29, &t) == 0 &&
	    t == 1795780441LL, "a date in 2026");
	T_OK(uachal_date_parse("Thu, 01 Jan 1970 00:00:00 GMT", 29, &t) == 0 &&
	    t == 0, "the epoch");
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char name[64];
		snprintf(name, sizeof name, "bad date %zu refused", i);
		T_OK(uachal_date_parse(bad[i], strlen(bad[i]), &t) != 0, name);
	}
}

/* Truncations and byte flips: no crash (run under ASan), and a damaged
 * signed part never comes back OK with the original bytes. */
static void
test_damage(enum challenge_encoding enc)
{
	struct gen g;
	struct challenge_out o;
	struct uachal_request rq;
	struct uachal_response rs;
	struct uachal *c;
	const char *why;
	int bad = 0, ok_trunc = 0;

	gen_default(&g);
	g.enc = enc;
	req_default(&rq);
	if (build(&g, &o) != 0) {
		T_OK(0, "challenge_build");
		return;
	}
	resp_of(&rs, &o, &g);
	c = NULL;
	if (uachal_parse(&rq, &rs, 380, DATE_T, 300, &c, &why) != UACHAL_OK) {
		T_OK(0, "undamaged challenge");
		challenge_out_free(&o);
		return;
	}
	size_t splen = c->signed_part_len;
	unsigned char *sp = malloc(splen);
	size_t off = (size_t)((const unsigned char *)memmem(o.body,
	    o.body_len, c->signed_part, 30) - o.body);
	memcpy(sp, c->signed_part, splen);
	uachal_free(c);

	unsigned char *copy = malloc(o.body_len);
	for (size_t n = 0; n < o.body_len; n++) {
		memcpy(copy, o.body, n);
		rs.body = copy;
		rs.body_len = n;
		c = NULL;
		if (uachal_parse(&rq, &rs, 380, DATE_T, 300, &c, &why) ==
		    UACHAL_OK) {
			ok_trunc++;
			if (c->signed_part_len != splen ||
			    memcmp(c->signed_part, sp, splen) != 0)
				bad++;
		}
		uachal_free(c);
	}
	rs.body_len = o.body_len;
	for (size_t i = 0; i < o.body_len; i++) {
		memcpy(copy, o.body, o.body_len);
		copy[i] ^= (unsigned char)(1u << (i % 8));
		c = NULL;
		if (uachal_parse(&rq, &rs, 380, DATE_T, 300, &c, &why) ==
		    UACHAL_OK) {
			/* A flip inside the signed part must show in it. */
			int inside = i >= off && i < off + splen;
			if (inside && c->signed_part_len == splen &&
			    memcmp(c->signed_part, sp, splen) == 0)
				bad++;
		}
		uachal_free(c);
	}
	T_EQ_INT(bad, 0, enc == CHALLENGE_ENC_BINARY ?
	    "damaged binary challenges: no OK with the original signed part" :
	    "damaged base64 challenges: no OK with the original signed part");
	T_OK(ok_trunc <= 3, "  ... only cuts in the closing delimiter's tail"
	    " still parse");
	free(copy);
	free(sp);
	challenge_out_free(&o);
}

int
main(void)
{
	char err[256];
	static unsigned char certbuf[4096];

	test_date();
	if (!pki_have_openssl()) {
		printf("# SKIP the rest: no openssl command\n");
		return t_done();
	}
	if (pki_mkdir("uachal") != 0)
		return 1;
	T_EQ_INT(pki_make("uachal"), 0, "openssl made a CA and a signing key");
	/* the signing certificate doubles as the encryption one (digest 4.6
	 * allows it) */
	cert_len = pki_read("sig", "der", certbuf, sizeof certbuf);
	cert = certbuf;
	sk = pki_signing_key("sig", err, sizeof err);
	trust = pki_anchors(err, sizeof err);
	T_OK(sk != NULL && trust != NULL && cert_len > 100,
	    "signing key, trust anchor, certificate loaded");
	if (sk != NULL && trust != NULL && cert_len > 100) {
		test_genuine(CHALLENGE_ENC_BINARY, "binary");
		test_genuine(CHALLENGE_ENC_BASE64, "base64");
		test_freshness();
		test_strict();
		test_layout();
		test_legacy();
		test_damage(CHALLENGE_ENC_BINARY);
		test_damage(CHALLENGE_ENC_BASE64);
	}
	cms_signing_key_free(sk);
	cms_keys_free(trust);
	pki_cleanup();
	return t_done();
}
