/*
 * uac.h - e2mua's calling side: one MESSAGE, or one call (INVITE, ACK,
 * hold, BYE), with the body uamsg builds, answering 495 and 496
 * challenges as digest 4.6 tells a UA (ualearn.c, uatrust.c) and reporting
 * the outcome as one JSON line.
 */
#ifndef UAC_H
#define UAC_H

struct uaopts;
struct cms_keys;
struct cms_signing_key;

/* sk signs (may be NULL); keys holds the trust anchors, CRLs and the -k
 * key for the callee's answer (may be NULL). Returns the exit status. */
int uac_run(struct uaopts *o, const struct cms_signing_key *sk,
    const struct cms_keys *keys);

#endif /* UAC_H */
