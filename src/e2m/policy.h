/*
 * policy.h - the policy engine (digest §5.1 step 6 and §5.2): a pure
 * function of the request facts and what the decrypt stage saw. No I/O, no
 * logging, no Sofia, no OpenSSL: the proxy fills struct policy_facts from
 * the inspection result and acts on the verdict.
 *
 * Use: policy_match() picks the rule before inspecting (activation and
 * open_unlabelled tell the proxy whether and what to open); policy_decide()
 * then matches again and gives the verdict.
 */
#ifndef POLICY_H
#define POLICY_H

#include <stddef.h>
#include <sys/socket.h>

#include "common/netaddr.h"

/* At most this many PRMB types per rule (the config loader refuses more). */
#define POLICY_MAX_PRMB 16

enum policy_transport {
	POLICY_TP_UDP = 1u << 0,
	POLICY_TP_TCP = 1u << 1,
	POLICY_TP_TLS = 1u << 2
};

/* Which way a request goes through an edge proxy (RFC 5626): arrived on
 * a phone's registered flow, goes out on one, or neither. */
enum policy_direction {
	POLICY_DIR_OTHER = 1u << 0,
	POLICY_DIR_FROM_PHONES = 1u << 1,
	POLICY_DIR_TO_PHONES = 1u << 2
};

enum policy_on_missing_prmb {
	POLICY_MISSING_REJECT403 = 0, /* digest Q11 default */
	POLICY_MISSING_FORWARD        /* forward and log */
};

enum policy_on_bad_signature {
	POLICY_BADSIG_REJECT403 = 0, /* digest Q12 default */
	POLICY_BADSIG_FORWARD_AND_LOG
};

enum policy_on_undecipherable_in_dialog {
	POLICY_INDIALOG_LOG = 0, /* digest §5.2 default */
	POLICY_INDIALOG_TERMINATE
};

/*
 * One rule. Every list criterion that is empty (n == 0) matches anything;
 * a rule matches when all its criteria do. Strings and arrays are owned by
 * whoever built the rule (the config loader); the engine only reads them.
 */
struct policy_rule {
	unsigned line; /* config file line, for logs; 0 is never a rule */

	/* Criteria. */
	const char *const *methods; /* "INVITE", ...: exact, case-sensitive */
	size_t nmethods;
	const char *const *ruri_domains; /* "example.com" or "*.example.com" */
	size_t nruri_domains;
	const char *const *from_users; /* exact, case-sensitive */
	size_t nfrom_users;
	const char *const *from_domains; /* as ruri_domains */
	size_t nfrom_domains;
	const struct netaddr *sources; /* source networks */
	size_t nsources;
	unsigned transports; /* POLICY_TP_* bits; 0 = any */
	unsigned directions; /* POLICY_DIR_* bits; 0 = any */

	/* Settings. */
	int active; /* 0: the mechanism is ignored for this traffic */
	const char *const *prmb_types; /* "type/subtype", case-insensitive */
	size_t nprmb_types;            /* <= POLICY_MAX_PRMB */
	int require_whole_body;
	int require_integrity;
	int require_inner_signature; /* sign-then-encrypt (digest §5.1 6d) */
	int reject_on_labelled_failure; /* 6a: labelled target undecipherable */
	int open_unlabelled;            /* view S/MIME parts not labelled */
	enum policy_on_missing_prmb on_missing_prmb;
	enum policy_on_bad_signature on_bad_signature;
	enum policy_on_undecipherable_in_dialog on_undecipherable_in_dialog;
};

struct policy {
	const struct policy_rule *rules; /* in config order; first match wins */
	size_t nrules;
};

/* The digest's defaults: active, no criteria, no PRMB, no requirements,
 * require_inner_signature, reject_on_labelled_failure and open_unlabelled
 * on (digest Q1, §5.1 6a/6d), 403 for a missing PRMB and a bad signature,
 * log for an undecipherable response. line is set to the argument. */
void policy_rule_defaults(struct policy_rule *r, unsigned line);

enum policy_target_state {
	POLICY_TARGET_NOT_FOUND,      /* labelled, no part has that cid */
	POLICY_TARGET_OPENED,         /* envelope decrypted */
	POLICY_TARGET_UNDECIPHERABLE, /* envelope failed to open */
	POLICY_TARGET_PLAIN           /* labelled part not encrypted */
};

struct policy_signature {
	int valid;           /* verification (chain, revocation, ...) passed */
	int inside_envelope; /* came out of a decrypted envelope */
	int over_envelope;   /* its signed content holds encrypted data
	                      * (encrypt-then-sign: an outer signature) */
	int covers_whole;    /* signed content is the whole plaintext carrying
	                      * the PRMBs: the full decrypted entity, or the
	                      * full top-level body when not encrypted */
};

/* What the proxy knows about one message; everything borrowed. */
struct policy_facts {
	const char *method;  /* request method; for a response, CSeq's */
	int is_response;
	int in_dialog;       /* To tag present */
	const char *ruri_domain; /* request-URI host (responses: may be NULL) */
	const char *from_user;   /* NULL or "" when the From URI has none */
	const char *from_domain;
	const struct sockaddr *source; /* NULL: matches no source criterion */
	enum policy_transport transport;
	enum policy_direction direction; /* 0 counts as POLICY_DIR_OTHER */

	int has_body; /* a message with no body skips 6a-6d */
	/* Labelled targets for this proxy, in label order. */
	const enum policy_target_state *targets;
	size_t ntargets;
	/* Envelopes that stayed closed without being a labelled target
	 * (unlabelled, or open_unlabelled off, or failed to open). */
	size_t nclosed;
	/* Distinct type/subtype of every leaf visible in plaintext. */
	const char *const *visible;
	size_t nvisible;
	const struct policy_signature *signatures;
	size_t nsignatures;
};

enum policy_verdict {
	POLICY_FORWARD,       /* body byte-for-byte unchanged */
	POLICY_CHALLENGE_496, /* signed challenge, digest §4.6 */
	POLICY_CHALLENGE_495,
	POLICY_REJECT_403,
	POLICY_TERMINATE      /* response/ACK: forward, then BYE both sides */
};

struct policy_decision {
	enum policy_verdict verdict;
	unsigned rule_line; /* 0: no rule matched (forwarded) */
	int log;            /* a policy failure let through or terminated:
	                     * log it as such (every decision is logged with
	                     * rule_line anyway) */
	int whole_body;     /* 496: no type Warning, "disclose everything" */
	/* PRMB types not visible: one Warning 380 each on a 496 (none when
	 * whole_body); the absent types on a 403. Point into the rule. */
	const char *missing[POLICY_MAX_PRMB];
	size_t nmissing;
	const char *reason; /* static, short, no plaintext */
};

/* 1 if the rule's criteria all match the facts. */
int policy_rule_matches(const struct policy_rule *r,
    const struct policy_facts *f);
/* The first matching rule, or NULL. */
const struct policy_rule *policy_match(const struct policy *p,
    const struct policy_facts *f);
/* The decision for one message (digest §5.1 steps 0, 1, 6; §5.2). */
struct policy_decision policy_decide(const struct policy *p,
    const struct policy_facts *f);

const char *policy_verdict_name(enum policy_verdict v);

#endif /* POLICY_H */
