/*
 * svc_pinhole.h - media pinholes as the proxy feeds them (digest 6.1-6.2):
 * from every SDP the proxy could read (an INVITE's or UPDATE's offer, the
 * answer in a 18x/2xx, or in the ACK for a late offer), holes for each
 * side's media in the firewall (services/pinhole.h, services/nftset.h),
 * moved by re-INVITE and UPDATE, closed by BYE, by a failed or canceled
 * INVITE, or after pinholes.max_duration. A dialog is named by its
 * Call-ID and the caller's tag, so the proxy must be record-routed.
 */
#ifndef SVC_PINHOLE_H
#define SVC_PINHOLE_H

#include <stddef.h>

#include <sofia-sip/sip.h>

#include "services/pinhole.h"

struct conf;
struct inspect;
struct loop;
struct ptx;
struct svc_pinhole;

/* The table; nothing started. NULL with err set. */
struct svc_pinhole *svc_pinhole_new(struct loop *l, const struct conf *c,
    char *err, size_t errsz);
/* The firewall back end's thread (after any fork), its table and sets
 * checked or created, the refresh timer. 0, or -1 with err set. */
int svc_pinhole_start(struct svc_pinhole *p, char *err, size_t errsz);
/* Changes still queued are applied; holes stay until they time out. */
void svc_pinhole_free(struct svc_pinhole *p); /* NULL is fine */
/* The table's holes and refusals (pinhole_stats()), and the firewall
 * changes that failed. */
void svc_pinhole_counts(const struct svc_pinhole *p, struct pinhole_stats *st,
    unsigned long *failed);

/* A request the proxy is about to forward (its inspection, if any, is in
 * t->insp): an offer or answer moves the sender's holes, a BYE closes. */
void svc_pinhole_request(struct svc_pinhole *p, const struct ptx *t);
/* A response the proxy is about to relay upstream, with its inspection
 * (NULL when not inspected): the answer moves the responder's holes; a
 * final failure of an initial INVITE closes the dialog. */
void svc_pinhole_response(struct svc_pinhole *p, const struct ptx *t,
    const sip_t *rsip, const struct inspect *rinsp);

#endif /* SVC_PINHOLE_H */
