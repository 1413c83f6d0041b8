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

/* A NUL escaped in a quoted string, masked for Sofia's parser
 * (common/sipstream.h), put back into msg's received bytes, which are
 * what goes out of an unchanged field (a response relayed as received). */
void wirecopy_unmask(msg_t *msg);

#endif
