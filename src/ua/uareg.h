/*
 * uareg.h - e2mua -l -g: the UAS registers its AOR (-f) with a registrar
 * as an RFC 5626 outbound client (one flow, reg-id=1, +sip.instance,
 * "Supported: path, outbound"), through -o when given; refreshes before
 * the granted expiry; keeps a TCP flow alive with CRLF pings (Sofia's
 * tport, pong within 10 s) and registers again on a new flow when it
 * fails; unregisters at the end. Each event is a JSON line on stdout.
 */
#ifndef UAREG_H
#define UAREG_H

struct uaopts;
struct uareg;
struct nta_agent_s;
struct su_root_s;

/* The first registration failed for good: exit with this status. */
typedef void uareg_failed_f(void *arg, int exit_status);

/* Send the first REGISTER; the rest happens on root. NULL: a local
 * failure (said on stderr). */
struct uareg *uareg_start(struct nta_agent_s *nta, struct su_root_s *root,
    const struct uaopts *o, uareg_failed_f *failed, void *arg);

/* Unregister (expires=0, on the flow) if registered, running root for
 * at most ms milliseconds; then free everything. NULL is fine. Returns
 * UA_EXIT_TIMEOUT when the first REGISTER was still unanswered (said as
 * a register_failed line), else -1. */
int uareg_stop(struct uareg *r, unsigned ms);

#endif /* UAREG_H */
