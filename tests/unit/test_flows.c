/* test_flows.c - the edge proxy's flow table: find, limits per source and
 * in total, registration and expiry, connections released. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "proxyd/flows.h"
#include "t.h"

static int released;
static void *last_released;

static void
release(void *conn)
{
	released++;
	last_released = conn;
}

static int
dead_b(void *conn)
{
	return strcmp(conn, "b") == 0;
}

static struct sockaddr *
v4(struct sockaddr_in *s, const char *ip, unsigned port)
{
	memset(s, 0, sizeof(*s));
	s->sin_family = AF_INET;
	inet_pton(AF_INET, ip, &s->sin_addr);
	s->sin_port = htons((uint16_t)port);
	return (struct sockaddr *)s;
}

int
main(void)
{
	struct flows *fl = flows_new(4, 2, release);
	struct sockaddr_in a1, a2, a3, b1, c1;
	char ca[] = "a", cb[] = "b", cc[] = "c";
	const struct flow *f, *g;
	enum flows_result r;
	uint64_t id1;

	v4(&a1, "192.0.2.1", 5060);
	v4(&a2, "192.0.2.1", 5062);
	v4(&a3, "192.0.2.1", 5064);
	v4(&b1, "192.0.2.2", 5060);
	v4(&c1, "192.0.2.3", 5060);
	T_OK(fl != NULL, "made");
	f = flows_get(fl, FLOW_UDP, (struct sockaddr *)&a1, NULL, 1000, &r);
	T_OK(f != NULL && r == FLOWS_ADDED && f->a.id != 0, "UDP flow added");
	id1 = f->a.id;
	g = flows_get(fl, FLOW_UDP, (struct sockaddr *)&a1, NULL, 500, &r);
	T_OK(g == f && r == FLOWS_FOUND && g->expires_ms == 1000,
	    "same address and port: found, expiry never shrinks");
	T_OK(flows_find(fl, FLOW_UDP, (struct sockaddr *)&a2, NULL) == NULL,
	    "another port is another flow");
	T_OK(flows_find(fl, FLOW_TCP, (struct sockaddr *)&a1, ca) == NULL,
	    "TCP from the same address is not that UDP flow");
	f = flows_get(fl, FLOW_TCP, (struct sockaddr *)&a2, ca, 1000, &r);
	T_OK(f != NULL && r == FLOWS_ADDED && f->conn == ca,
	    "TCP flow added with its connection");
	T_OK(flows_find(fl, FLOW_TCP, (struct sockaddr *)&b1, ca) == f,
	    "a stream flow is found by its connection alone");
	g = flows_get(fl, FLOW_UDP, (struct sockaddr *)&a3, NULL, 1000, &r);
	T_OK(g == NULL && r == FLOWS_SOURCE_FULL,
	    "third flow from one address: per-source limit");
	T_OK(flows_get(fl, FLOW_TCP, (struct sockaddr *)&b1, cb, 1000, &r) &&
	    flows_get(fl, FLOW_UDP, (struct sockaddr *)&c1, NULL, 1000, &r),
	    "other addresses still get flows");
	T_EQ_INT((int)flows_count(fl), 4, "four flows");
	g = flows_get(fl, FLOW_TLS, (struct sockaddr *)&c1, cc, 1000, &r);
	T_OK(g == NULL && r == FLOWS_FULL, "fifth: total limit");

	flows_registered(fl, id1, 60000);
	f = flows_by_id(fl, id1);
	T_OK(f != NULL && f->registered && f->expires_ms == 60000,
	    "registered: expiry from the registrar");
	T_EQ_INT((int)flows_expire(fl, 1000, dead_b), 3,
	    "expired at 1000 ms: the unregistered ones, and the dead one");
	T_OK(released == 2, "both connections released");
	T_OK(flows_by_id(fl, id1) != NULL && flows_count(fl) == 1,
	    "the registered flow stays");
	g = flows_get(fl, FLOW_UDP, (struct sockaddr *)&a3, NULL, 1000, &r);
	T_OK(g != NULL && r == FLOWS_ADDED && g->a.id != id1,
	    "per-source room again after expiry; ids are never reused");
	flows_registered(fl, id1, 0);
	T_OK(flows_by_id(fl, id1) == NULL, "unregistered (expires 0): gone");
	f = flows_get(fl, FLOW_TCP, (struct sockaddr *)&b1, ca, 1000, &r);
	g = flows_get(fl, FLOW_UDP, (struct sockaddr *)&c1, NULL, 1000, &r);
	id1 = g->a.id;
	T_EQ_INT((int)flows_set_instance(fl, f->a.id, 77), 0,
	    "an instance's first flow replaces nothing");
	released = 0;
	T_EQ_INT((int)flows_set_instance(fl, id1, 77), 1,
	    "the same instance on a new flow: the old one goes");
	T_OK(released == 1 && last_released == ca &&
	    flows_by_id(fl, id1) != NULL, "... released, the new one stays");
	T_EQ_INT((int)flows_set_instance(fl, id1, 78), 0,
	    "a flow's instance is set once");
	flows_remove(fl, id1);
	f = flows_get(fl, FLOW_TCP, (struct sockaddr *)&b1, cb, 1000, &r);
	released = 0;
	flows_remove(fl, f->a.id);
	T_OK(released == 1 && last_released == cb, "removed: released");
	f = flows_get(fl, FLOW_TCP, (struct sockaddr *)&b1, cc, 1000, &r);
	released = 0;
	flows_free(fl);
	T_OK(released == 1 && last_released == cc, "freed: released");
	return t_done();
}
