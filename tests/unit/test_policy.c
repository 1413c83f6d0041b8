/* test_policy.c - rule matching and the decision order (digest §5.1 step 6,
 * §5.2, matrix §5.5 at the decision level). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "e2m/policy.h"
#include "addr.h"
#include "t.h"

static const char *const SDP[] = { "application/sdp" };
static const char *const TEXT[] = { "text/plain" };
static const char *const HTML[] = { "text/html" };

/* An out-of-dialog request from alice@atlanta.example.com over UDP. */
static struct policy_facts
request(const char *method)
{
	struct policy_facts f;

	memset(&f, 0, sizeof(f));
	f.method = method;
	f.ruri_domain = "biloxi.example.com";
	f.from_user = "alice";
	f.from_domain = "atlanta.example.com";
	f.source = v4("192.0.2.10");
	f.transport = POLICY_TP_UDP;
	f.has_body = 1;
	return f;
}

/* A one-rule policy around r. */
static struct policy
one(const struct policy_rule *r)
{
	struct policy p = { r, 1 };

	return p;
}

static void
test_matching(void)
{
	static const char *const inv[] = { "INVITE" };
	static const char *const doms[] = { "*.example.com" };
	static const char *const exact[] = { "Biloxi.Example.COM." };
	static const char *const bare[] = { "*.biloxi.example.com" };
	static const char *const users[] = { "alice" };
	static const char *const fdoms[] = { "atlanta.example.com" };
	struct policy_rule r;
	struct policy_facts f = request("INVITE");
	struct netaddr nets[2];

	policy_rule_defaults(&r, 7);
	T_OK(policy_rule_matches(&r, &f), "a rule without criteria matches");

	r.methods = inv;
	r.nmethods = 1;
	T_OK(policy_rule_matches(&r, &f), "method INVITE matches INVITE");
	f.method = "MESSAGE";
	T_OK(!policy_rule_matches(&r, &f), "method INVITE misses MESSAGE");
	f.method = "invite";
	T_OK(!policy_rule_matches(&r, &f), "methods are case-sensitive");
	f = request("INVITE");

	policy_rule_defaults(&r, 7);
	r.ruri_domains = doms;
	r.nruri_domains = 1;
	T_OK(policy_rule_matches(&r, &f), "*.example.com matches a subdomain");
	f.ruri_domain = "example.com";
	T_OK(!policy_rule_matches(&r, &f), "*.example.com misses example.com");
	f.ruri_domain = "badexample.com";
	T_OK(!policy_rule_matches(&r, &f), "*.example.com misses badexample.com");
	f.ruri_domain = NULL;
	T_OK(!policy_rule_matches(&r, &f), "a domain rule misses no domain");
	r.ruri_domains = exact;
	f.ruri_domain = "biloxi.example.com";
	T_OK(policy_rule_matches(&r, &f),
	    "exact domain: case and trailing dot ignored");
	f.ruri_domain = "x.biloxi.example.com";
	T_OK(!policy_rule_matches(&r, &f), "exact domain misses a subdomain");
	r.ruri_domains = bare;
	f.ruri_domain = "biloxi.example.com";
	T_OK(!policy_rule_matches(&r, &f), "*.suffix needs a label before it");
	f = request("INVITE");

	policy_rule_defaults(&r, 7);
	r.from_users = users;
	r.nfrom_users = 1;
	T_OK(policy_rule_matches(&r, &f), "From user alice matches");
	f.from_user = "bob";
	T_OK(!policy_rule_matches(&r, &f), "From user alice misses bob");
	f.from_user = NULL;
	T_OK(!policy_rule_matches(&r, &f), "From user rule misses no user");
	f = request("INVITE");
	r.from_domains = fdoms;
	r.nfrom_domains = 1;
	T_OK(policy_rule_matches(&r, &f), "From user and domain match");
	f.from_domain = "biloxi.example.com";
	T_OK(!policy_rule_matches(&r, &f), "From domain must match too");
	f = request("INVITE");

	policy_rule_defaults(&r, 7);
	netaddr_parse(&nets[0], "10.0.0.0/8");
	netaddr_parse(&nets[1], "2001:db8::/32");
	r.sources = nets;
	r.nsources = 2;
	f.source = v4("10.1.2.3");
	T_OK(policy_rule_matches(&r, &f), "source 10.1.2.3 in 10/8");
	f.source = v6("2001:db8::5");
	T_OK(policy_rule_matches(&r, &f), "source v6 in 2001:db8::/32");
	f.source = v4("192.0.2.10");
	T_OK(!policy_rule_matches(&r, &f), "source outside every network");
	f.source = NULL;
	T_OK(!policy_rule_matches(&r, &f), "no source misses a source rule");
	f = request("INVITE");

	policy_rule_defaults(&r, 7);
	r.transports = POLICY_TP_TLS | POLICY_TP_TCP;
	T_OK(!policy_rule_matches(&r, &f), "tls|tcp rule misses udp");
	f.transport = POLICY_TP_TLS;
	T_OK(policy_rule_matches(&r, &f), "tls|tcp rule matches tls");
	f = request("INVITE");

	policy_rule_defaults(&r, 7);
	T_OK(policy_rule_matches(&r, &f), "no direction criterion: any");
	r.directions = POLICY_DIR_TO_PHONES;
	T_OK(!policy_rule_matches(&r, &f),
	    "to_phones rule misses a request of unknown direction (other)");
	f.direction = POLICY_DIR_FROM_PHONES;
	T_OK(!policy_rule_matches(&r, &f), "to_phones rule misses from_phones");
	f.direction = POLICY_DIR_TO_PHONES;
	T_OK(policy_rule_matches(&r, &f), "to_phones rule matches to_phones");
	r.directions = POLICY_DIR_OTHER;
	f.direction = 0;
	T_OK(policy_rule_matches(&r, &f), "no direction counts as other");
}

static void
test_first_match(void)
{
	static const char *const msg[] = { "MESSAGE" };
	struct policy_rule rules[3];
	struct policy p = { rules, 3 };
	struct policy_facts f = request("MESSAGE");
	struct policy_decision d;

	policy_rule_defaults(&rules[0], 10);
	rules[0].transports = POLICY_TP_TLS;
	policy_rule_defaults(&rules[1], 20);
	rules[1].methods = msg;
	rules[1].nmethods = 1;
	rules[1].active = 0;
	policy_rule_defaults(&rules[2], 30);
	rules[2].prmb_types = TEXT;
	rules[2].nprmb_types = 1;

	T_OK(policy_match(&p, &f) == &rules[1], "first match wins (2nd rule)");
	f.transport = POLICY_TP_TLS;
	T_OK(policy_match(&p, &f) == &rules[0], "first match wins (1st rule)");
	f = request("INVITE");
	f.nclosed = 1;
	d = policy_decide(&p, &f);
	T_EQ_INT(d.rule_line, 30, "decision names the matching rule's line");
	T_EQ_INT(d.verdict, POLICY_CHALLENGE_496, "later rule decides");

	p.nrules = 0;
	d = policy_decide(&p, &f);
	T_EQ_INT(d.verdict, POLICY_FORWARD, "no rule matched: forwarded");
	T_EQ_INT(d.rule_line, 0, "no rule matched: line 0");
	T_EQ_STR(d.reason, "no rule matched", "no rule matched: reason");
	d = policy_decide(NULL, &f);
	T_EQ_INT(d.verdict, POLICY_FORWARD, "no policy at all: forwarded");
}

/* The firewall rule of the matrix: INVITE needs application/sdp. */
static struct policy_rule
sdp_rule(void)
{
	struct policy_rule r;

	policy_rule_defaults(&r, 12);
	r.prmb_types = SDP;
	r.nprmb_types = 1;
	return r;
}

/* The IM logging rule: MESSAGE needs text/plain. */
static struct policy_rule
im_rule(void)
{
	struct policy_rule r;

	policy_rule_defaults(&r, 40);
	r.prmb_types = TEXT;
	r.nprmb_types = 1;
	return r;
}

/* Names compared whole (docs/reliability.md, "Mutation testing", P1 and
 * P5): a From user or method that is a prefix or an extension of the
 * rule's does not match it; a visible type that is a prefix of a required
 * one does not satisfy it. */
static void
test_strict(void)
{
	static const char *const users[] = { "alice" };
	static const char *const inv[] = { "INVITE" };
	static const char *const app[] = { "application" };
	static const char *const sdpx[] = { "application/sdpx" };
	struct policy_rule r;
	struct policy_facts f = request("INVITE");
	struct policy p;
	struct policy_decision d;

	policy_rule_defaults(&r, 7);
	r.from_users = users;
	r.nfrom_users = 1;
	f.from_user = "ali";
	T_OK(!policy_rule_matches(&r, &f), "strict: From user 'ali' misses alice");
	f.from_user = "alicex";
	T_OK(!policy_rule_matches(&r, &f),
	    "strict: From user 'alicex' misses alice");
	f = request("INV");
	policy_rule_defaults(&r, 7);
	r.methods = inv;
	r.nmethods = 1;
	T_OK(!policy_rule_matches(&r, &f), "strict: method INV misses INVITE");
	f.method = "INVITEX";
	T_OK(!policy_rule_matches(&r, &f),
	    "strict: method INVITEX misses INVITE");

	r = sdp_rule();
	p = one(&r);
	f = request("INVITE");
	f.visible = app;
	f.nvisible = 1;
	d = policy_decide(&p, &f);
	T_EQ_INT(d.verdict, POLICY_REJECT_403,
	    "strict: 'application' visible does not satisfy application/sdp");
	f.visible = sdpx;
	d = policy_decide(&p, &f);
	T_EQ_INT(d.verdict, POLICY_REJECT_403,
	    "strict: application/sdpx visible does not satisfy "
	    "application/sdp");
}

static void
test_matrix(void)
{
	static const enum policy_target_state opened[] = {
		POLICY_TARGET_OPENED
	};
	static const enum policy_target_state undec[] = {
		POLICY_TARGET_UNDECIPHERABLE
	};
	static const enum policy_target_state opened_missing[] = {
		POLICY_TARGET_OPENED, POLICY_TARGET_NOT_FOUND
	};
	struct policy_rule r;
	struct policy p;
	struct policy_facts f;
	struct policy_decision d, d2;
	struct policy_signature sig;

	/* T1: enveloped to proxy+Bob, labelled, opened; SDP visible. */
	r = sdp_rule();
	p = one(&r);
	f = request("INVITE");
	f.targets = opened;
	f.ntargets = 1;
	f.visible = SDP;
	f.nvisible = 1;
	d = policy_decide(&p, &f);
	T_EQ_INT(d.verdict, POLICY_FORWARD, "T1 forwarded");
	T_EQ_INT(d.log, 0, "T1 nothing to report");
	T_EQ_INT(d.rule_line, 12, "T1 rule line");

	/* T2: enveloped to Bob only, unlabelled (closed) ... */
	f = request("INVITE");
	f.nclosed = 1;
	d = policy_decide(&p, &f);
	T_EQ_INT(d.verdict, POLICY_CHALLENGE_496, "T2 unlabelled: 496");
	T_EQ_INT(d.nmissing, 1, "T2 unlabelled: one Warning");
	T_EQ_STR(d.nmissing ? d.missing[0] : NULL, "application/sdp",
	    "T2 unlabelled: Warning names application/sdp");
	T_EQ_INT(d.whole_body, 0, "T2 not whole body");
	/* ... and labelled for us (fails to open). */
	f = request("INVITE");
	f.targets = undec;
	f.ntargets = 1;
	d = policy_decide(&p, &f);
	T_EQ_INT(d.verdict, POLICY_CHALLENGE_496, "T2 labelled: 496");
	T_EQ_STR(d.nmissing ? d.missing[0] : NULL, "application/sdp",
	    "T2 labelled: Warning names application/sdp");

	/* T3: T2 with require_whole_body. */
	r.require_whole_body = 1;
	f = request("INVITE");
	f.nclosed = 1;
	d = policy_decide(&p, &f);
	T_EQ_INT(d.verdict, POLICY_CHALLENGE_496, "T3 496");
	T_EQ_INT(d.nmissing, 0, "T3 no 380 Warning");
	T_EQ_INT(d.whole_body, 1, "T3 whole body");
	/* Whole body, SDP visible in a plain part, another part closed. */
	f.visible = SDP;
	f.nvisible = 1;
	d = policy_decide(&p, &f);
	T_EQ_INT(d.verdict, POLICY_CHALLENGE_496,
	    "whole body: any closed part gives 496 even with PRMBs visible");
	T_EQ_INT(d.nmissing, 0, "whole body: still no Warning");
	f.nclosed = 0;
	d = policy_decide(&p, &f);
	T_EQ_INT(d.verdict, POLICY_FORWARD, "whole body all open: forwarded");

	/* T4: multipart/mixed, proxy part opened, Bob's part closed. */
	r = sdp_rule();
	f = request("INVITE");
	f.targets = opened;
	f.ntargets = 1;
	f.nclosed = 1;
	f.visible = SDP;
	f.nvisible = 1;
	d = policy_decide(&p, &f);
	T_EQ_INT(d.verdict, POLICY_FORWARD, "T4 forwarded, no 496");

	/* T5: labelled part encrypted to an old proxy certificate. */
	f = request("INVITE");
	f.targets = undec;
	f.ntargets = 1;
	d = policy_decide(&p, &f);
	T_EQ_INT(d.verdict, POLICY_CHALLENGE_496, "T5 496");
	T_EQ_STR(d.reason, "labelled body undecipherable", "T5 reason");
	/* Even when the PRMB is visible elsewhere (draft §3 MUST). */
	f.visible = SDP;
	f.nvisible = 1;
	d = policy_decide(&p, &f);
	T_EQ_INT(d.verdict, POLICY_CHALLENGE_496,
	    "T5 labelled failure gives 496 with PRMB visible");
	T_EQ_INT(d.nmissing, 0, "T5 PRMB visible: no type Warning");
	r.reject_on_labelled_failure = 0;
	d = policy_decide(&p, &f);
	T_EQ_INT(d.verdict, POLICY_FORWARD,
	    "T5 reject_on_labelled_failure off, PRMB visible: forwarded");

	/* T6: MESSAGE text/plain encrypted to Bob only (IM logging). */
	r = im_rule();
	f = request("MESSAGE");
	f.nclosed = 1;
	d = policy_decide(&p, &f);
	T_EQ_INT(d.verdict, POLICY_CHALLENGE_496, "T6 496");
	T_EQ_STR(d.nmissing ? d.missing[0] : NULL, "text/plain",
	    "T6 Warning names text/plain");

	/* T7: MESSAGE in plain text, unsigned, integrity required. */
	r = im_rule();
	r.require_integrity = 1;
	f = request("MESSAGE");
	f.visible = TEXT;
	f.nvisible = 1;
	d = policy_decide(&p, &f);
	T_EQ_INT(d.verdict, POLICY_CHALLENGE_495, "T7 495");
	T_EQ_INT(d.nmissing, 0, "T7 no Warning");
	/* A valid signature over the plain body satisfies it. */
	memset(&sig, 0, sizeof(sig));
	sig.valid = 1;
	sig.covers_whole = 1;
	f.signatures = &sig;
	f.nsignatures = 1;
	d = policy_decide(&p, &f);
	T_EQ_INT(d.verdict, POLICY_FORWARD, "T7 signed plain body: forwarded");
	sig.covers_whole = 0;
	d = policy_decide(&p, &f);
	T_EQ_INT(d.verdict, POLICY_CHALLENGE_495,
	    "T7 signature over part of the body: 495");

	/* T8: encrypted to proxy, opened, no inner signature. */
	f = request("MESSAGE");
	f.targets = opened;
	f.ntargets = 1;
	f.visible = TEXT;
	f.nvisible = 1;
	d = policy_decide(&p, &f);
	T_EQ_INT(d.verdict, POLICY_CHALLENGE_495, "T8 495 after decrypt");
	/* Encrypt-then-sign: a valid outer signature only. */
	memset(&sig, 0, sizeof(sig));
	sig.valid = 1;
	sig.covers_whole = 1;
	sig.over_envelope = 1;
	f.signatures = &sig;
	f.nsignatures = 1;
	d = policy_decide(&p, &f);
	T_EQ_INT(d.verdict, POLICY_CHALLENGE_495,
	    "T8 outer-only signature does not satisfy inner");
	r.require_inner_signature = 0;
	d = policy_decide(&p, &f);
	T_EQ_INT(d.verdict, POLICY_FORWARD,
	    "T8 outer signature enough without require_inner_signature");
	r.require_inner_signature = 1;
	sig.over_envelope = 0;
	sig.inside_envelope = 1;
	d = policy_decide(&p, &f);
	T_EQ_INT(d.verdict, POLICY_FORWARD, "T8 inner signature: forwarded");
	/* Undecipherable and integrity required: 496 first, no type. */
	f = request("MESSAGE");
	f.nclosed = 1;
	d = policy_decide(&p, &f);
	T_EQ_INT(d.verdict, POLICY_CHALLENGE_496,
	    "496 before 495 when both are needed");
	T_EQ_INT(d.nmissing, 0, "read+integrity 496 has no type Warning");
	T_EQ_INT(d.whole_body, 1, "read+integrity 496 asks the whole body");

	/* T9: bad signature / revoked signer. */
	r = im_rule();
	memset(&sig, 0, sizeof(sig));
	sig.valid = 0;
	sig.covers_whole = 1;
	f = request("MESSAGE");
	f.visible = TEXT;
	f.nvisible = 1;
	f.signatures = &sig;
	f.nsignatures = 1;
	d = policy_decide(&p, &f);
	T_EQ_INT(d.verdict, POLICY_REJECT_403, "T9 403");
	T_EQ_STR(d.reason, "bad signature", "T9 reason");
	r.on_bad_signature = POLICY_BADSIG_FORWARD_AND_LOG;
	d = policy_decide(&p, &f);
	T_EQ_INT(d.verdict, POLICY_FORWARD, "T9 forward_and_log: forwarded");
	T_EQ_INT(d.log, 1, "T9 forward_and_log: logged");
	r.require_integrity = 1;
	d = policy_decide(&p, &f);
	T_EQ_INT(d.verdict, POLICY_CHALLENGE_495,
	    "T9 forward_and_log does not satisfy require_integrity");
	/* 403 (bad signature) comes before 495. */
	r.on_bad_signature = POLICY_BADSIG_REJECT403;
	d = policy_decide(&p, &f);
	T_EQ_INT(d.verdict, POLICY_REJECT_403, "T9 403 before 495");

	/* T10: decrypted fine, PRMB type absent. */
	r = im_rule();
	f = request("MESSAGE");
	f.targets = opened;
	f.ntargets = 1;
	f.visible = HTML;
	f.nvisible = 1;
	d = policy_decide(&p, &f);
	T_EQ_INT(d.verdict, POLICY_REJECT_403, "T10 403 by default");
	T_EQ_STR(d.nmissing ? d.missing[0] : NULL, "text/plain",
	    "T10 names the absent type");
	r.on_missing_prmb = POLICY_MISSING_FORWARD;
	d = policy_decide(&p, &f);
	T_EQ_INT(d.verdict, POLICY_FORWARD, "T10 on_missing_prmb forward");
	T_EQ_INT(d.log, 1, "T10 forward is logged");
	/* 403 for a missing PRMB comes before the bad-signature check. */
	r.on_missing_prmb = POLICY_MISSING_REJECT403;
	sig.valid = 0;
	f.signatures = &sig;
	f.nsignatures = 1;
	r.on_bad_signature = POLICY_BADSIG_FORWARD_AND_LOG;
	d = policy_decide(&p, &f);
	T_EQ_INT(d.verdict, POLICY_REJECT_403, "T10 missing PRMB before 6c");

	/* T11: user not activated: label and body ignored. */
	r = sdp_rule();
	r.active = 0;
	f = request("INVITE");
	f.targets = undec;
	f.ntargets = 1;
	f.nclosed = 2;
	d = policy_decide(&p, &f);
	T_EQ_INT(d.verdict, POLICY_FORWARD, "T11 forwarded");
	T_EQ_INT(d.rule_line, 12, "T11 the off rule is named");
	T_EQ_STR(d.reason, "mechanism off for this traffic", "T11 reason");

	/* T12 (label syntax is label.c's): however the cids were written,
	 * the same target list gives the same decision; a cid naming
	 * nothing is skipped (digest Q5). */
	r = sdp_rule();
	f = request("INVITE");
	f.targets = opened_missing;
	f.ntargets = 2;
	f.visible = SDP;
	f.nvisible = 1;
	d = policy_decide(&p, &f);
	T_EQ_INT(d.verdict, POLICY_FORWARD, "T12 cid naming nothing skipped");

	/* An ACK meets the rule of its INVITE, not of other methods. */
	f = request("ACK");
	{
		struct policy_rule m = r;
		static const char *const inv[] = { "INVITE" };
		static const char *const msg[] = { "MESSAGE" };

		m.methods = inv;
		m.nmethods = 1;
		T_OK(policy_rule_matches(&m, &f), "ACK meets an INVITE rule");
		m.methods = msg;
		T_OK(!policy_rule_matches(&m, &f),
		    "ACK does not meet a MESSAGE rule");
	}

	/* T13: ACK or 2xx carrying undecipherable required SDP. */
	f = request("ACK");
	f.in_dialog = 1;
	f.nclosed = 1;
	d = policy_decide(&p, &f);
	T_EQ_INT(d.verdict, POLICY_FORWARD, "T13 ACK: no error, forwarded");
	T_EQ_INT(d.log, 1, "T13 ACK: logged");
	r.on_undecipherable_in_dialog = POLICY_INDIALOG_TERMINATE;
	d = policy_decide(&p, &f);
	T_EQ_INT(d.verdict, POLICY_TERMINATE, "T13 ACK: terminate");
	f.method = "INVITE";
	f.is_response = 1;
	d = policy_decide(&p, &f);
	T_EQ_INT(d.verdict, POLICY_TERMINATE, "T13 2xx: terminate");
	r.on_undecipherable_in_dialog = POLICY_INDIALOG_LOG;
	d = policy_decide(&p, &f);
	T_EQ_INT(d.verdict, POLICY_FORWARD, "T13 2xx: forwarded");
	T_EQ_INT(d.log, 1, "T13 2xx: logged");

	/* T14/T15: the decision depends on the facts only; "no
	 * RecipientInfo for us" and "corrupted RecipientInfo" are the one
	 * state undecipherable, so the decisions are identical (the
	 * signed body and timing are the challenge's and cms.c's tests). */
	r = sdp_rule();
	f = request("INVITE");
	f.targets = undec;
	f.ntargets = 1;
	d = policy_decide(&p, &f);
	d2 = policy_decide(&p, &f);
	T_OK(d.verdict == d2.verdict && d.nmissing == d2.nmissing &&
	        d.missing[0] == d2.missing[0] && d.reason == d2.reason &&
	        d.rule_line == d2.rule_line && d.log == d2.log,
	    "T14/T15 same facts, same decision");

	/* T16: oversize / too deep bodies end in the decrypt stage (413 /
	 * 400) before any policy; nothing to decide here. */
}

static void
test_never_challenged(void)
{
	struct policy_rule r = sdp_rule();
	struct policy p = one(&r);
	struct policy_facts f;
	struct policy_decision d;

	r.require_integrity = 1;
	f = request("CANCEL");
	f.nclosed = 1;
	d = policy_decide(&p, &f);
	T_EQ_INT(d.verdict, POLICY_FORWARD, "CANCEL never challenged");
	T_EQ_INT(d.rule_line, 12, "CANCEL still names its rule");

	f = request("ACK");
	f.visible = SDP;
	f.nvisible = 1;
	d = policy_decide(&p, &f);
	T_EQ_INT(d.verdict, POLICY_FORWARD, "ACK unsigned: no 495");
	T_EQ_INT(d.log, 1, "ACK unsigned: logged");

	f = request("ACK");
	f.visible = HTML;
	f.nvisible = 1;
	d = policy_decide(&p, &f);
	T_EQ_INT(d.verdict, POLICY_FORWARD, "ACK without PRMB: no 403");

	f = request("INVITE");
	f.is_response = 1;
	f.visible = SDP;
	f.nvisible = 1;
	{
		struct policy_signature bad = { 0, 0, 0, 1 };

		f.signatures = &bad;
		f.nsignatures = 1;
		d = policy_decide(&p, &f);
	}
	T_EQ_INT(d.verdict, POLICY_FORWARD, "response bad signature: no 403");
	T_EQ_INT(d.log, 1, "response bad signature: logged");
}

static void
test_in_dialog_and_bodyless(void)
{
	struct policy_rule r = sdp_rule();
	struct policy p = one(&r);
	struct policy_facts f;
	struct policy_decision d;

	/* A re-INVITE can be answered with an error: challenged. */
	f = request("INVITE");
	f.in_dialog = 1;
	f.nclosed = 1;
	d = policy_decide(&p, &f);
	T_EQ_INT(d.verdict, POLICY_CHALLENGE_496, "in-dialog re-INVITE: 496");

	/* INVITE with no body (offer in the 2xx): nothing is missing. */
	r.require_integrity = 1;
	f = request("INVITE");
	f.has_body = 0;
	d = policy_decide(&p, &f);
	T_EQ_INT(d.verdict, POLICY_FORWARD, "bodyless INVITE forwarded");
	T_EQ_STR(d.reason, "no body", "bodyless reason");

	/* PRMB types compare without case. */
	{
		static const char *const upper[] = { "Application/SDP" };

		r.require_integrity = 0;
		f = request("INVITE");
		f.visible = upper;
		f.nvisible = 1;
		d = policy_decide(&p, &f);
		T_EQ_INT(d.verdict, POLICY_FORWARD, "type match ignores case");
	}

	/* Several PRMBs: every absent one is named. */
	{
		static const char *const two[] = { "application/sdp",
			"text/plain" };

		r.prmb_types = two;
		r.nprmb_types = 2;
		f = request("INVITE");
		f.nclosed = 1;
		d = policy_decide(&p, &f);
		T_EQ_INT(d.nmissing, 2, "two absent PRMBs: two Warnings");
		f.visible = TEXT;
		f.nvisible = 1;
		d = policy_decide(&p, &f);
		T_EQ_INT(d.nmissing, 1, "one visible: one Warning");
		T_EQ_STR(d.nmissing ? d.missing[0] : NULL, "application/sdp",
		    "the absent one is named");
	}
	T_EQ_STR(policy_verdict_name(POLICY_CHALLENGE_496), "496",
	    "verdict name");
}

int
main(void)
{
	test_matching();
	test_first_match();
	test_strict();
	test_matrix();
	test_never_challenged();
	test_in_dialog_and_bodyless();
	return t_done();
}
