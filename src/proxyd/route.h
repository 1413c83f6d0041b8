/*
 * route.h - choose the next hop for a request from the configured rules.
 * Pure: no I/O, no Sofia types, so it is unit-tested on its own.
 */
#ifndef ROUTE_H
#define ROUTE_H

#include <sys/socket.h>

#include "proxyd/conf.h"

struct route_facts {
	const char *method;          /* "INVITE" */
	const char *domain;          /* request-URI host, any case */
	const struct sockaddr *source; /* where the request came from */
};

struct route_choice {
	const char *next_hop; /* borrowed from the conf; NULL: none configured */
	int rule_line;        /* line of the matching rule; 0 for the default */
};

/* First matching rule wins; then the default next hop; else none. */
struct route_choice route_select(const struct conf *c,
    const struct route_facts *f);

#endif /* ROUTE_H */
