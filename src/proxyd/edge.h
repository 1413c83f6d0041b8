/*
 * edge.h - the proxy as an RFC 5626 / RFC 3327 edge proxy: phones
 * register through it (our Path, with a flow token naming the flow the
 * REGISTER came over), and requests for them come back from the
 * registrar with that token in their Route and go out over exactly that
 * flow, or get 430 when it is gone. Dialogs over a flow are record-routed
 * with its token too. Everything edge-specific the stages need is here;
 * the flow table (flows.c) and tokens (flowtoken.c) are pure.
 */
#ifndef EDGE_H
#define EDGE_H

#include <stdint.h>

#include "e2m/policy.h"
#include "proxyd/flowtoken.h"

struct edge;
struct ptx;
struct conf;
struct event_base;

/* Per request (in struct ptx). */
struct edge_req {
	uint64_t in_flow;          /* arrived on this registered flow; 0 */
	int to_flow;               /* goes out on out (a token routed it) */
	int bad;                   /* 403: token not ours; 430: flow gone */
	struct flow_addr out;
	char out_url[96];          /* out as a next hop (t->route_url) */
	enum policy_direction direction;
	/* A REGISTER we put our Path on. */
	int path;                  /* 1: add Path (token when reg_flow) */
	int outbound;              /* the UA asked for RFC 5626 outbound */
	uint64_t reg_flow;         /* the flow the Path's token names */
	int reg_new;               /* that flow was made for this REGISTER */
	uint64_t inst;             /* its UA's +sip.instance and reg-id */
};

/* For /metrics. */
struct edge_counters {
	uint64_t flows;            /* registered flows now */
	uint64_t routed;           /* requests sent over a flow by token */
	uint64_t failed_430;       /* their flow was gone */
	uint64_t forged_403;       /* tokens that were not ours */
	uint64_t refused;          /* REGISTERs over the flow limits */
	uint64_t expired;          /* flows ended (registration, close) */
};

/* NULL and nothing to do when edge.path is off; NULL with err set on
 * failure (the key, memory). */
struct edge *edge_new(const struct conf *c, struct event_base *base,
    int *failed, char *err, size_t errsz);
void edge_free(struct edge *e);
void edge_counters(const struct edge *e, struct edge_counters *out);

#endif /* EDGE_H */
