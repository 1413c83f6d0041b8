/*
 * uaoutbound.h - the pure pieces of an RFC 5626 registration (e2mua -g):
 * the instance URN, the Contact value, and the timing of refreshes,
 * keep-alives and retries. No Sofia types; the caller brings the random
 * numbers, so every result can be checked.
 */
#ifndef UAOUTBOUND_H
#define UAOUTBOUND_H

#include <stddef.h>
#include <stdint.h>

#define UAOB_URN_SIZE 46 /* "urn:uuid:" + 36 + NUL */
#define UAOB_PONG_WAIT_MS 10000 /* RFC 5626 4.4.1: no pong in 10 s */

/* A version 4 (random) UUID as a "urn:uuid:" URN (8-4-4-4-12 hex digits,
 * version digit 4, variant bits 10) from 16 random bytes (RFC 4122 4.4);
 * out has UAOB_URN_SIZE bytes. */
void uaob_uuid_urn(const unsigned char rnd[16], char out[UAOB_URN_SIZE]);

/* Is s usable as +sip.instance: a URN ("urn:" and a namespace) with
 * nothing that would break the quoted "<...>" value around it? */
int uaob_instance_ok(const char *s);

/*
 * The REGISTER's Contact value: uri (our bound address, as nta reports
 * it) with ";ob" added, +sip.instance, reg-id=1 and the expiry asked:
 *   <sip:192.0.2.1:5070;transport=tcp;ob>;+sip.instance="<urn:uuid:...>";
 *   reg-id=1;expires=600
 * Returns the length, or -1 when it does not fit or uri is not a SIP URI
 * without headers (a '?' part would have to follow ";ob").
 */
int uaob_contact(char *out, size_t size, const char *uri,
    const char *instance, unsigned expires);

/* Two +sip.instance values name the same instance: quotes and angle
 * brackets aside, the URN compared case-insensitively (RFC 8141 leaves
 * the namespace-specific part to the namespace; uuid is hex). */
int uaob_same_instance(const char *a, const char *b);

/* Seconds after a 2xx granting `granted` seconds to send the refresh:
 * half of it (RFC 5626 leaves the margin to the UA; half survives a lost
 * refresh and its retransmissions), at least 1. */
unsigned uaob_refresh_after(unsigned granted);

/*
 * Milliseconds between CRLF keep-alives on a connection (RFC 5626 4.4.1):
 * `configured` seconds when non-zero (-K: tests, short NAT timers);
 * else between 80% and 100% of the registrar's Flow-Timer when it sent
 * one; else between 95 and 120 seconds. rnd picks the point in the range.
 */
unsigned uaob_keepalive_ms(unsigned configured, unsigned flow_timer,
    uint32_t rnd);

/*
 * Seconds to wait before registering again after `failures` consecutive
 * failed attempts (RFC 5626 4.5): min(1800, base * 2^failures) with base
 * 30 (all flows failed: e2mua has one), a random point between 50% and
 * 100% of it.
 */
unsigned uaob_backoff(unsigned failures, uint32_t rnd);

#endif /* UAOUTBOUND_H */
