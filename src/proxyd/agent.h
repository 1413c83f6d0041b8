/*
 * agent.h - the Sofia nta agent and its transports (UDP, TCP, TLS), and
 * the answer to "is this URI me?".
 */
#ifndef AGENT_H
#define AGENT_H

#include <sofia-sip/nta.h>
#include <sofia-sip/url.h>

#include "proxyd/conf.h"
#include "proxyd/loop.h"

struct agent;

/*
 * Binds every listener of c. The stray callback receives responses that
 * match no transaction (late 2xx retransmissions) and, as long as no
 * default leg is made, every request that matches none (new requests);
 * NULL on failure (logged). c must outlive the agent.
 */
struct agent *agent_new(struct loop *l, const struct conf *c,
    nta_message_f *stray, nta_agent_magic_t *magic);
void agent_free(struct agent *a); /* NULL is fine */

nta_agent_t *agent_nta(const struct agent *a);

/* The names a label may give this proxy: sip.own_names, then the
 * listener addresses. Borrowed from the agent. */
const char *const *agent_own_names(const struct agent *a, size_t *n);

/* 1 when u names one of our listeners or configured own names. */
int agent_is_me(const struct agent *a, const url_t *u);

/*
 * Our URI to put in Record-Route (or Path) for one side of a hop, facing
 * a peer that uses transport tp over address family (AF_INET, AF_INET6):
 * the first listener of that transport and family, with ;lr, and
 * ;transport=tcp for TCP, sips: for TLS (RFC 5658 says why each side
 * needs its own). The other family's, then another transport's, when
 * there is none; NULL if no listener at all. One pointer per listener:
 * two sides that get the same one can share an entry.
 */
const url_t *agent_rr_url(const struct agent *a, enum conf_transport tp,
    int family);

/* 1 when some listener has transport tp. */
int agent_listens(const struct agent *a, enum conf_transport tp);

/* Route Sofia's own log output into log.c, with Sofia's 0-9 verbosity. */
void agent_redirect_sofia_logs(unsigned level);

/* How long a TCP header section may grow before it is cut and answered
 * 413 (hdrguard.h); follows sip.max_message_size. */
size_t agent_header_limit(const struct conf *c);

#endif /* AGENT_H */
