/*
 * sipchallenge.h - answer a request with a 496 or 495 challenge (digest
 * 4.2-4.6): the proxy acts as UAS for the transaction, so nta fills Via,
 * From, To (with our tag), Call-ID and CSeq; Date and one Warning 380 per
 * missing type are added; then the body is signed over exactly those
 * header values (challenge.c) and the response goes out through the
 * server transaction, which absorbs retransmissions and the ACK.
 */
#ifndef SIPCHALLENGE_H
#define SIPCHALLENGE_H

#include <stddef.h>

#include <sofia-sip/nta.h>

struct conf;
struct sipchallenge;

/* Load the signing key and the certificate to hand out; NULL with err set.
 * Nothing is loaded (and this succeeds) when no policy rule can challenge
 * and no files are configured. */
struct sipchallenge *sipchallenge_new(const struct conf *c, char *err,
    size_t errsz);
void sipchallenge_free(struct sipchallenge *sc); /* NULL is fine */

enum sipchallenge_kind { SIPCHALLENGE_496, SIPCHALLENGE_495 };

/*
 * Send the challenge on irq. missing[] are the PRMB types to name in
 * Warning 380 (none: "disclose everything"); ignored for a 495. Returns 0
 * when the challenge was sent, -1 when it could not be built (*why says
 * why, static, no message content); the caller then answers otherwise.
 */
int sipchallenge_send(const struct sipchallenge *sc, nta_agent_t *nta,
    nta_incoming_t *irq, enum sipchallenge_kind kind,
    const char *const *missing, size_t nmissing, const char **why);

/*
 * The same challenge put into msg, a response already completed from its
 * request (status line, Via, From, To with tag, Call-ID, CSeq), for a
 * caller that sends it itself (the proxy's own server transactions).
 * 0, or -1 (*why as above; msg is left to the caller).
 */
int sipchallenge_fill(const struct sipchallenge *sc, msg_t *msg,
    enum sipchallenge_kind kind, const char *const *missing,
    size_t nmissing, const char **why);

/* Status code and phrase a kind is sent with (configurable). */
int sipchallenge_status(const struct sipchallenge *sc,
    enum sipchallenge_kind kind, const char **phrase);

#endif /* SIPCHALLENGE_H */
