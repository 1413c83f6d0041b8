/*
 * hopbyhop.h - the hop-by-hop requests a stateful proxy sends for an
 * INVITE it forwarded: CANCEL (RFC 3261 9.1) and the ACK for a non-2xx final
 * response (17.1.1.3). nta makes them itself while it keeps the INVITE
 * client transaction; the proxy lets go of that transaction once the call
 * is proceeding (docs/memory.md, "The INVITE client transaction") and
 * then uses these.
 */
#ifndef HOPBYHOP_H
#define HOPBYHOP_H

#include <sofia-sip/msg.h>
#include <sofia-sip/nta.h>

/*
 * sent: the INVITE as nta sent it (our Via on top); next_hop: the URI it
 * was sent to by rule, or NULL (Route or request-URI). 0, or -1.
 */
int hop_cancel(nta_agent_t *nta, msg_t *sent, const char *next_hop);

/*
 * ACK for the non-2xx final response resp (our Via on top). With sent,
 * as RFC 3261 17.1.1.3 says; without it (the proxy already forgot the
 * call, resp is a retransmission), the request-URI is resp's To URI and
 * the ACK goes back where resp came from: the server transaction matches
 * it by branch. 0, or -1.
 */
int hop_ack(nta_agent_t *nta, msg_t *sent, const char *next_hop,
    msg_t *resp);

#endif /* HOPBYHOP_H */
