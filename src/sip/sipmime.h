/*
 * sipmime.h - the SIP side of a body: the Content-* header values a MIME
 * parser needs for the top-level entity (digest 5.1 step 3). Sofia has no
 * class for Content-ID or Content-Transfer-Encoding, so those are read as
 * unknown headers. Shared by the proxy and the user agent.
 */
#ifndef SIPMIME_H
#define SIPMIME_H

#include <sofia-sip/msg.h>
#include <sofia-sip/sip.h>

#include "e2m/mime.h"

/* The value of the first unknown header called name, or NULL. */
const char *sipmime_unknown(const sip_t *sip, const char *name);

/* Content-Type, Content-Disposition, Content-ID and
 * Content-Transfer-Encoding of msg, as strings in msg's home. */
void sipmime_headers(msg_t *msg, const sip_t *sip, struct mime_headers *top);

#endif /* SIPMIME_H */
