/* test_route.c - first-match routing rules. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "common/domain.h"
#include "proxyd/route.h"
#include "t.h"

static struct sockaddr_in
v4(const char *ip)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, ip, &sin.sin_addr);
	return sin;
}

int
main(void)
{
	char *invite_only[] = { "INVITE" };
	struct netaddr ten;
	struct conf_route rules[3];
	struct conf c;
	struct sockaddr_in inside = v4("10.1.2.3"), outside = v4("192.0.2.7");
	struct route_facts f;
	struct route_choice rc;

	T_OK(domain_match("example.com", "EXAMPLE.com"), "exact domain, any case");
	T_OK(!domain_match("example.com", "a.example.com"), "exact does not take subdomains");
	T_OK(domain_match("*.example.com", "a.b.example.com"), "wildcard takes deep subdomains");
	T_OK(!domain_match("*.example.com", "example.com"), "wildcard excludes the apex");
	T_OK(!domain_match("*.example.com", "badexample.com"), "wildcard needs the dot");
	T_OK(!domain_match("example.com", NULL), "no domain never matches");
	T_OK(domain_match("example.com.", "EXAMPLE.COM"), "one trailing dot ignored");
	T_OK(domain_match("*", NULL), "* matches even no host");

	netaddr_parse(&ten, "10.0.0.0/8");
	memset(rules, 0, sizeof(rules));
	rules[0].line = 10;
	rules[0].domain = "example.com";
	rules[0].methods = invite_only;
	rules[0].nmethods = 1;
	rules[0].sources = &ten;
	rules[0].nsources = 1;
	rules[0].next_hop = "sip:inside-gw:5070";
	rules[1].line = 20;
	rules[1].domain = "example.com";
	rules[1].next_hop = "sip:any-gw";
	rules[2].line = 30;
	rules[2].domain = "*.example.org";
	rules[2].next_hop = "sips:org-gw";
	memset(&c, 0, sizeof(c));
	c.routes = rules;
	c.nroutes = 3;

	f.method = "INVITE";
	f.domain = "example.com";
	f.source = (struct sockaddr *)&inside;
	rc = route_select(&c, &f);
	T_EQ_STR(rc.next_hop, "sip:inside-gw:5070", "all criteria match the first rule");
	T_EQ_INT(rc.rule_line, 10, "first rule's line reported");

	f.source = (struct sockaddr *)&outside;
	rc = route_select(&c, &f);
	T_EQ_STR(rc.next_hop, "sip:any-gw", "source outside: falls to the second rule");
	T_EQ_INT(rc.rule_line, 20, "second rule's line reported");

	f.source = (struct sockaddr *)&inside;
	f.method = "MESSAGE";
	rc = route_select(&c, &f);
	T_EQ_STR(rc.next_hop, "sip:any-gw", "other method: second rule");

	f.domain = "x.example.org";
	rc = route_select(&c, &f);
	T_EQ_STR(rc.next_hop, "sips:org-gw", "wildcard rule");

	f.domain = "elsewhere.net";
	rc = route_select(&c, &f);
	T_OK(rc.next_hop == NULL && rc.rule_line == 0, "no rule, no default: none");

	c.default_next_hop = "sip:outbound";
	rc = route_select(&c, &f);
	T_EQ_STR(rc.next_hop, "sip:outbound", "default next hop when no rule matches");
	T_EQ_INT(rc.rule_line, 0, "default reports line 0");

	f.source = NULL;
	f.domain = "example.com";
	f.method = "INVITE";
	rc = route_select(&c, &f);
	T_EQ_STR(rc.next_hop, "sip:any-gw", "unknown source never matches a source rule");
	return t_done();
}
