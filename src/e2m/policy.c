/* policy.c - rule matching and the decision order of digest §5.1 step 6. */
#include <string.h>
#include <strings.h>

#include "e2m/policy.h"

#include "common/domain.h"

void
policy_rule_defaults(struct policy_rule *r, unsigned line)
{
	memset(r, 0, sizeof(*r));
	r->line = line;
	r->active = 1;
	r->require_inner_signature = 1;
	r->reject_on_labelled_failure = 1;
	r->open_unlabelled = 1;
	r->on_missing_prmb = POLICY_MISSING_REJECT403;
	r->on_bad_signature = POLICY_BADSIG_REJECT403;
	r->on_undecipherable_in_dialog = POLICY_INDIALOG_LOG;
}

static int
any_domain(const char *const *list, size_t n, const char *host)
{
	size_t i;

	if (n == 0)
		return 1;
	for (i = 0; i < n; i++)
		if (domain_match(list[i], host))
			return 1;
	return 0;
}

static int
any_exact(const char *const *list, size_t n, const char *s)
{
	size_t i;

	if (n == 0)
		return 1;
	for (i = 0; i < n; i++)
		if (strcmp(list[i], "*") == 0 ||
		    (s != NULL && strcmp(list[i], s) == 0))
			return 1;
	return 0;
}

static int
any_source(const struct netaddr *list, size_t n, const struct sockaddr *sa)
{
	size_t i;

	if (n == 0)
		return 1;
	if (sa == NULL)
		return 0;
	for (i = 0; i < n; i++)
		if (netaddr_match(&list[i], sa))
			return 1;
	return 0;
}

/* An ACK completes its INVITE's offer/answer (digest 5.2): a rule for
 * INVITE covers it, as it covers the INVITE's responses. */
static int
method_matches(const struct policy_rule *r, const char *method)
{
	if (any_exact(r->methods, r->nmethods, method))
		return 1;
	return method != NULL && strcmp(method, "ACK") == 0 &&
	    any_exact(r->methods, r->nmethods, "INVITE");
}

int
policy_rule_matches(const struct policy_rule *r, const struct policy_facts *f)
{
	if (!method_matches(r, f->method))
		return 0;
	if (!any_domain(r->ruri_domains, r->nruri_domains, f->ruri_domain))
		return 0;
	if (!any_exact(r->from_users, r->nfrom_users, f->from_user))
		return 0;
	if (!any_domain(r->from_domains, r->nfrom_domains, f->from_domain))
		return 0;
	if (!any_source(r->sources, r->nsources, f->source))
		return 0;
	if (r->transports != 0 && (r->transports & (unsigned)f->transport) == 0)
		return 0;
	if (r->directions != 0 && (r->directions & (f->direction != 0 ?
	    (unsigned)f->direction : (unsigned)POLICY_DIR_OTHER)) == 0)
		return 0;
	return 1;
}

const struct policy_rule *
policy_match(const struct policy *p, const struct policy_facts *f)
{
	size_t i;

	if (p == NULL)
		return NULL;
	for (i = 0; i < p->nrules; i++)
		if (policy_rule_matches(&p->rules[i], f))
			return &p->rules[i];
	return NULL;
}

static int
visible(const struct policy_facts *f, const char *type)
{
	size_t i;

	for (i = 0; i < f->nvisible; i++)
		if (f->visible[i] != NULL && strcasecmp(f->visible[i], type) == 0)
			return 1;
	return 0;
}

/* A valid signature over the whole plaintext; with inner required, an
 * outer signature over encrypted data (encrypt-then-sign) does not do. */
static int
integrity_met(const struct policy_rule *r, const struct policy_facts *f)
{
	size_t i;

	for (i = 0; i < f->nsignatures; i++) {
		const struct policy_signature *s = &f->signatures[i];

		if (!s->valid || !s->covers_whole)
			continue;
		if (r->require_inner_signature && s->over_envelope &&
		    !s->inside_envelope)
			continue;
		return 1;
	}
	return 0;
}

static int
is_method(const struct policy_facts *f, const char *m)
{
	return f->method != NULL && strcmp(f->method, m) == 0;
}

struct policy_decision
policy_decide(const struct policy *p, const struct policy_facts *f)
{
	struct policy_decision d;
	const struct policy_rule *r;
	int no_error; /* response or ACK: no error response possible */
	int labelled_fail = 0, undecipherable, bad_sig = 0;
	size_t i;

	memset(&d, 0, sizeof(d));
	d.verdict = POLICY_FORWARD;

	r = policy_match(p, f);
	if (r == NULL) {
		d.reason = "no rule matched";
		return d;
	}
	d.rule_line = r->line;
	if (!r->active) {
		d.reason = "mechanism off for this traffic";
		return d;
	}
	if (!f->is_response && is_method(f, "CANCEL")) {
		d.reason = "CANCEL is never challenged";
		return d;
	}
	if (!f->has_body) {
		d.reason = "no body";
		return d;
	}
	no_error = f->is_response || is_method(f, "ACK");

	for (i = 0; i < f->ntargets; i++)
		if (f->targets[i] == POLICY_TARGET_UNDECIPHERABLE)
			labelled_fail = 1;
	undecipherable = labelled_fail || f->nclosed > 0;
	for (i = 0; i < r->nprmb_types && d.nmissing < POLICY_MAX_PRMB; i++)
		if (!visible(f, r->prmb_types[i]))
			d.missing[d.nmissing++] = r->prmb_types[i];

	/* 6a: disclosure first, even when integrity is required too. */
	if ((labelled_fail && r->reject_on_labelled_failure) ||
	    (undecipherable && d.nmissing > 0) ||
	    (undecipherable && r->require_whole_body)) {
		if (no_error) {
			d.log = 1;
			if (r->on_undecipherable_in_dialog ==
			    POLICY_INDIALOG_TERMINATE) {
				d.verdict = POLICY_TERMINATE;
				d.reason = "required body undecipherable, "
				    "dialog terminated";
			} else {
				d.reason = "required body undecipherable, "
				    "forwarded";
			}
			return d;
		}
		d.verdict = POLICY_CHALLENGE_496;
		/* §4.2: whole body required, or reading and integrity both
		 * needed: no Warning naming a type. */
		if (r->require_whole_body || r->require_integrity) {
			d.whole_body = 1;
			d.nmissing = 0;
		}
		d.reason = labelled_fail ? "labelled body undecipherable" :
		    "required body undecipherable";
		return d;
	}

	/* 6b: everything needed is open, a PRMB type is absent. */
	if (d.nmissing > 0) {
		if (no_error ||
		    r->on_missing_prmb == POLICY_MISSING_FORWARD) {
			d.log = 1;
			d.reason = "required body type absent, forwarded";
		} else {
			d.verdict = POLICY_REJECT_403;
			d.reason = "required body type absent";
		}
		return d;
	}

	/* 6c: a signature that fails verification. */
	for (i = 0; i < f->nsignatures; i++)
		if (!f->signatures[i].valid)
			bad_sig = 1;
	if (bad_sig) {
		d.log = 1;
		if (r->on_bad_signature == POLICY_BADSIG_REJECT403) {
			if (no_error) {
				d.reason = "bad signature, forwarded";
			} else {
				d.verdict = POLICY_REJECT_403;
				d.reason = "bad signature";
			}
			return d;
		}
		/* forward_and_log: an integrity requirement still holds. */
		d.reason = "bad signature, forwarded";
	}

	/* 6d: integrity required and not given. */
	if (r->require_integrity && !integrity_met(r, f)) {
		if (no_error) {
			d.log = 1;
			d.reason = "signature required, forwarded";
		} else {
			d.verdict = POLICY_CHALLENGE_495;
			d.reason = "signature required";
		}
		return d;
	}

	/* 6e. */
	if (d.reason == NULL)
		d.reason = "policy satisfied";
	return d;
}

const char *
policy_verdict_name(enum policy_verdict v)
{
	switch (v) {
	case POLICY_FORWARD:
		return "forward";
	case POLICY_CHALLENGE_496:
		return "496";
	case POLICY_CHALLENGE_495:
		return "495";
	case POLICY_REJECT_403:
		return "403";
	case POLICY_TERMINATE:
		return "terminate";
	}
	return "?";
}
