/* wirecopy.h - a copy of a received message that keeps its bytes. */
#ifndef E2M_PROXYD_WIRECOPY_H
#define E2M_PROXYD_WIRECOPY_H

#include <sofia-sip/msg.h>

/*
 * A new message parsed from the bytes msg came with: every header field
 * in its order and spelling (unknown ones, and known ones Sofia could not
 * parse, included), each as received unless changed since (then as Sofia
 * encodes it). Needs the agent's MSG_DO_EXTRACT_COPY (agent.c), which
 * keeps each field's received bytes. NULL when out of memory.
 */
msg_t *wirecopy(msg_t *msg);

/*
 * The same bytes, cheaper: a shallow copy (msg_copy(): the header
 * structures copied, in the received order with their received bytes;
 * the strings shared), which keeps msg alive as long as it lives. For a
 * request whose copy lives briefly (an ACK sent at once, a BYE until its
 * final response); an INVITE's is kept by nta's client transaction for
 * 32 s (RFC 6026), so it gets wirecopy(). A message with a masked NUL
 * gets wirecopy() too. NULL when out of memory.
 */
msg_t *wirecopy_shared(msg_t *msg);

/* A NUL escaped in a quoted string, masked for Sofia's parser
 * (common/sipstream.h), put back into msg's received bytes, which are
 * what goes out of an unchanged field (a response relayed as received). */
void wirecopy_unmask(msg_t *msg);

#endif
