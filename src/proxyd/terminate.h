/*
 * terminate.h - end a dialog the proxy let through but whose required
 * body it could not see (digest 5.2, Q10, on_undecipherable_in_dialog =
 * terminate): a BYE to each side, sent as the other side would, along the
 * route set the dialog's Record-Route gave each of them. Needs the proxy
 * to be record-routed (otherwise in-dialog requests would not pass it and
 * there would be no route set to use; the BYE then goes straight to the
 * Contact).
 */
#ifndef TERMINATE_H
#define TERMINATE_H

#include <stddef.h>
#include <stdint.h>

#include <sofia-sip/sip.h>

struct agent;

/*
 * invite: the INVITE as received; ok: the 2xx that established the dialog
 * (Record-Route and Contact of the callee). reason_code/reason_text go into
 * a Reason header. Returns how many BYEs were sent (0-2); their
 * transactions clean up after themselves.
 */
int terminate_dialog(struct agent *ag, const sip_t *invite, const sip_t *ok,
    unsigned reason_code, const char *reason_text);

/* What a terminating ACK needs of its dialog but does not carry. */
struct dialogs;

/* Entries live linger_ms (the ACK comes within 64*T1 of the 2xx). */
struct dialogs *dialogs_new(unsigned linger_ms);
void dialogs_free(struct dialogs *d); /* NULL is fine */

/* After relaying ok, the 2xx to invite: keep how to reach the caller
 * (its Contact, the Record-Route entries on its side of ours). */
void dialogs_remember(struct dialogs *d, struct agent *ag,
    const sip_t *invite, const sip_t *ok, uint64_t now_ms);
/* The dialog's ACK went through without ending it. */
void dialogs_forget(struct dialogs *d, const sip_t *ack, uint64_t now_ms);
size_t dialogs_count(const struct dialogs *d);

/*
 * From an ACK (fwd: as forwarded, our Route entries gone): a BYE to the
 * callee along the rest of the ACK's Route set, and one to the caller as
 * dialogs_remember() kept it, else at the ACK's Contact if any. Returns
 * how many BYEs were sent.
 */
int terminate_from_ack(struct dialogs *d, struct agent *ag,
    const sip_t *fwd, unsigned reason_code, const char *reason_text,
    uint64_t now_ms);

#endif /* TERMINATE_H */
