/* route.c - first-match routing rules over request facts. */
#include "proxyd/route.h"

#include "common/domain.h"

#include <string.h>
#include <strings.h>

static int
match_method(const struct conf_route *r, const char *method)
{
	size_t i;

	if (r->nmethods == 0)
		return 1;
	for (i = 0; i < r->nmethods; i++)
		if (strcmp(r->methods[i], method) == 0)
			return 1;
	return 0;
}

static int
match_source(const struct conf_route *r, const struct sockaddr *sa)
{
	size_t i;

	if (r->nsources == 0)
		return 1;
	if (sa == NULL)
		return 0;
	for (i = 0; i < r->nsources; i++)
		if (netaddr_match(&r->sources[i], sa))
			return 1;
	return 0;
}

static int
match_rule(const struct conf_route *r, const struct route_facts *f)
{
	return (r->domain == NULL || domain_match(r->domain, f->domain)) &&
	    match_method(r, f->method) && match_source(r, f->source);
}

struct route_choice
route_select(const struct conf *c, const struct route_facts *f)
{
	struct route_choice rc = { NULL, 0 };
	size_t i;

	for (i = 0; i < c->nroutes; i++) {
		if (match_rule(&c->routes[i], f)) {
			rc.next_hop = c->routes[i].next_hop;
			rc.rule_line = c->routes[i].line;
			return rc;
		}
	}
	rc.next_hop = c->default_next_hop;
	return rc;
}
