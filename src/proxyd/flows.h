/*
 * flows.h - the edge proxy's registered flows (RFC 5626): a phone's UDP
 * address and port, or its TCP/TLS connection, over which its REGISTER
 * came and over which requests for it must go. Bounded in total and per
 * source address (a phone behind a NAT is one address with many ports).
 * Pure: a connection is an opaque pointer, given back through the
 * release hook when its flow goes (the caller holds a reference to it
 * meanwhile, which keeps Sofia from reaping it as idle).
 */
#ifndef FLOWS_H
#define FLOWS_H

#include <stddef.h>
#include <stdint.h>

#include "proxyd/flowtoken.h"

struct flows;

struct flow {
	struct flow_addr a;   /* kind, id, peer */
	void *conn;           /* TCP/TLS: the connection; UDP: NULL */
	uint64_t expires_ms;  /* monotonic: the registration's end */
	int registered;       /* a 2xx to a REGISTER over it came back */
	uint64_t inst;        /* the UA's instance key; 0: none */
};

enum flows_result {
	FLOWS_FOUND,          /* the flow existed: its id is kept */
	FLOWS_ADDED,
	FLOWS_FULL,           /* max_total flows */
	FLOWS_SOURCE_FULL,    /* max_per_source from that address */
	FLOWS_NOMEM
};

/* release(conn) when a stream flow goes; may be NULL. */
struct flows *flows_new(size_t max_total, size_t max_per_source,
    void (*release)(void *conn));
void flows_free(struct flows *fl);

/* The flow a message arrived on: UDP by peer address and port, a stream
 * by its connection. NULL when that is no flow of ours. */
const struct flow *flows_find(const struct flows *fl, enum flow_kind kind,
    const struct sockaddr *peer, const void *conn);
const struct flow *flows_by_id(const struct flows *fl, uint64_t id);

/* The flow for a REGISTER: found, or added with expires_ms (the caller
 * then holds one reference to conn for the table). *res says which;
 * NULL when full or out of memory. A found flow's expiry only grows. */
const struct flow *flows_get(struct flows *fl, enum flow_kind kind,
    const struct sockaddr *peer, void *conn, uint64_t expires_ms,
    enum flows_result *res);

/* Flow id is the one of instance key inst (a UA's +sip.instance and
 * reg-id; 0: none): any other flow of that instance is removed (the UA
 * moved to a new flow). Returns how many went. */
size_t flows_set_instance(struct flows *fl, uint64_t id, uint64_t inst);

/* A registration over flow id: registered, ending at expires_ms (0:
 * unregistered, the flow goes now). Unknown ids are ignored. */
void flows_registered(struct flows *fl, uint64_t id, uint64_t expires_ms);
void flows_remove(struct flows *fl, uint64_t id);

/* Remove flows ended by now_ms, and stream flows dead(conn) says are
 * closed. Returns how many went. */
size_t flows_expire(struct flows *fl, uint64_t now_ms,
    int (*dead)(void *conn));

size_t flows_count(const struct flows *fl);

#endif /* FLOWS_H */
