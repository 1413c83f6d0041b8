/*
 * sipoverload.h - overload control on the proxy's side (overload.h
 * decides): new out-of-dialog requests refused with a stateless
 * 503 + Retry-After while the proxy is behind, the ACKs of those 503s
 * absorbed, a log line when an episode starts and when it ends, and the
 * e2mproxy_overload_* families.
 */
#ifndef SIPOVERLOAD_H
#define SIPOVERLOAD_H

#include <sofia-sip/nta.h>
#include <sofia-sip/sip.h>

struct proxy;
struct metrics_out;

/* At proxy_new(): the To tag of our 503s and the end-of-episode timer;
 * 0, or -1 out of memory. */
int sipoverload_init(struct proxy *px);
void sipoverload_free(struct proxy *px);

/* A new request (nta matched no transaction to it) that is neither ACK
 * nor CANCEL: when it is out of dialog and the proxy is behind, it is
 * answered 503 at once, without a transaction, and 1 returned (msg
 * consumed); else 0. */
int sipoverload_shed(struct proxy *px, msg_t *msg, sip_t *sip);

/* An ACK for one of those 503s (our To tag): dropped, 1 (msg consumed);
 * else 0. */
int sipoverload_ack(struct proxy *px, msg_t *msg, sip_t *sip);

void sipoverload_metrics(const struct proxy *px, struct metrics_out *o);

#endif /* SIPOVERLOAD_H */
