/*
 * facts.h - what the policy engine is told about one SIP message: the
 * request facts from Sofia's parse and the decrypt stage's findings, put
 * into struct policy_facts. Keeps Sofia out of the engine and the engine's
 * vocabulary out of the proxy.
 */
#ifndef FACTS_H
#define FACTS_H

#include <sofia-sip/msg.h>
#include <sofia-sip/sip.h>

#include "e2m/policy.h"

struct inspect;

#define FACTS_MAX 32

/* struct policy_facts plus the storage it points into. */
struct facts {
	struct policy_facts f;
	char method[32];
	enum policy_target_state targets[FACTS_MAX];
	const char *visible[FACTS_MAX];
	struct policy_signature sigs[FACTS_MAX];
};

/*
 * Fill fx for a message of the transaction of request req (rsip is its
 * parse): the criteria come from the request, so that a response meets
 * the rule its request met; the body facts from body (the request itself,
 * or a response) and its inspection in, which may be NULL (not inspected).
 * fx borrows from all of them: use it while they live.
 */
void facts_fill(struct facts *fx, msg_t *req, const sip_t *rsip,
    const sip_t *body, const struct inspect *in);

/* Where a request came from, for logs and archive records: the source
 * address (numeric, "" if unknown) and port, and the transport its top
 * Via names, lower case ("udp"; "" if none). */
struct facts_source {
	char address[46]; /* INET6_ADDRSTRLEN */
	unsigned port;
	char transport[8];
};
void facts_source(msg_t *req, const sip_t *sip, struct facts_source *out);

#endif /* FACTS_H */
