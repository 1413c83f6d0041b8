/*
 * flows.c - the registered flows table (flows.h): two hash indexes over
 * one set of entries (by id; by UDP address or connection) and a count
 * per source address for the per-source cap.
 */
#include "proxyd/flows.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

struct entry {
	struct flow f;
	struct entry *next_id, *next_key, *next_inst;
};

struct source {
	unsigned char addr[16];
	int family;
	size_t n;
	struct source *next;
};

struct flows {
	struct entry **by_id, **by_key, **by_inst;
	struct source **sources;
	size_t nbuckets; /* a power of two, for every index */
	size_t n, max_total, max_per_source;
	uint64_t next_id;
	void (*release)(void *conn);
};

static uint64_t
mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

/* The address bytes of an IP sockaddr (16 for v6, 4 for v4); port. */
static const unsigned char *
ip_of(const struct sockaddr *sa, size_t *len, uint16_t *port)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;
		*len = 4;
		*port = s4->sin_port;
		return (const unsigned char *)&s4->sin_addr;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;
		*len = 16;
		*port = s6->sin6_port;
		return (const unsigned char *)&s6->sin6_addr;
	}
	return NULL;
}

static uint64_t
hash_bytes(const unsigned char *p, size_t n, uint64_t h)
{
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return mix(h);
}

static size_t
key_bucket(const struct flows *fl, enum flow_kind kind,
    const struct sockaddr *peer, const void *conn)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)kind;
	const unsigned char *ip;
	size_t len;
	uint16_t port;

	if (kind != FLOW_UDP)
		return (size_t)(mix(h ^ (uint64_t)(uintptr_t)conn) &
		    (fl->nbuckets - 1));
	if ((ip = ip_of(peer, &len, &port)) == NULL)
		return 0;
	h = hash_bytes(ip, len, h);
	return (size_t)(mix(h ^ port) & (fl->nbuckets - 1));
}

static int
same_peer(const struct sockaddr *a, const struct sockaddr_storage *b)
{
	const unsigned char *ia, *ib;
	size_t la, lb;
	uint16_t pa, pb;

	if ((ia = ip_of(a, &la, &pa)) == NULL ||
	    (ib = ip_of((const struct sockaddr *)b, &lb, &pb)) == NULL)
		return 0;
	return la == lb && pa == pb && memcmp(ia, ib, la) == 0;
}

static int
key_matches(const struct entry *e, enum flow_kind kind,
    const struct sockaddr *peer, const void *conn)
{
	if (e->f.a.kind != kind)
		return 0;
	if (kind != FLOW_UDP)
		return e->f.conn == conn;
	return same_peer(peer, &e->f.a.peer);
}

static struct source **
source_slot(struct flows *fl, const struct sockaddr *sa, int add)
{
	const unsigned char *ip;
	size_t len;
	uint16_t port;
	struct source **pp, *s;

	if ((ip = ip_of(sa, &len, &port)) == NULL)
		return NULL;
	pp = &fl->sources[hash_bytes(ip, len, 0xcbf29ce484222325ULL) &
	    (fl->nbuckets - 1)];
	for (; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->family == sa->sa_family &&
		    memcmp((*pp)->addr, ip, len) == 0)
			return pp;
	if (!add || (s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->family = sa->sa_family;
	memcpy(s->addr, ip, len);
	*pp = s;
	return pp;
}

struct flows *
flows_new(size_t max_total, size_t max_per_source,
    void (*release)(void *conn))
{
	struct flows *fl = calloc(1, sizeof(*fl));
	size_t nb = 64;

	if (fl == NULL)
		return NULL;
	while (nb < max_total && nb < (1u << 20))
		nb <<= 1;
	fl->nbuckets = nb;
	fl->by_id = calloc(nb, sizeof(*fl->by_id));
	fl->by_key = calloc(nb, sizeof(*fl->by_key));
	fl->by_inst = calloc(nb, sizeof(*fl->by_inst));
	fl->sources = calloc(nb, sizeof(*fl->sources));
	if (fl->by_id == NULL || fl->by_key == NULL || fl->by_inst == NULL ||
	    fl->sources == NULL) {
		flows_free(fl);
		return NULL;
	}
	fl->max_total = max_total;
	fl->max_per_source = max_per_source;
	fl->release = release;
	fl->next_id = 1;
	return fl;
}

static void
unlink_entry(struct flows *fl, struct entry *e)
{
	struct entry **pp;
	struct source **sp, *s;

	pp = &fl->by_id[mix(e->f.a.id) & (fl->nbuckets - 1)];
	while (*pp != e)
		pp = &(*pp)->next_id;
	*pp = e->next_id;
	pp = &fl->by_key[key_bucket(fl, e->f.a.kind,
	    (const struct sockaddr *)&e->f.a.peer, e->f.conn)];
	while (*pp != e)
		pp = &(*pp)->next_key;
	*pp = e->next_key;
	if (e->f.inst != 0) {
		pp = &fl->by_inst[mix(e->f.inst) & (fl->nbuckets - 1)];
		while (*pp != e)
			pp = &(*pp)->next_inst;
		*pp = e->next_inst;
	}
	if ((sp = source_slot(fl, (const struct sockaddr *)&e->f.a.peer,
	    0)) != NULL && --(*sp)->n == 0) {
		s = *sp;
		*sp = s->next;
		free(s);
	}
	fl->n--;
	if (e->f.conn != NULL && fl->release != NULL)
		fl->release(e->f.conn);
	free(e);
}

void
flows_free(struct flows *fl)
{
	size_t i;
	struct source *s;

	if (fl == NULL)
		return;
	for (i = 0; fl->by_id != NULL && i < fl->nbuckets; i++)
		while (fl->by_id[i] != NULL)
			unlink_entry(fl, fl->by_id[i]);
	for (i = 0; fl->sources != NULL && i < fl->nbuckets; i++)
		while ((s = fl->sources[i]) != NULL) {
			fl->sources[i] = s->next;
			free(s);
		}
	free(fl->by_id);
	free(fl->by_key);
	free(fl->by_inst);
	free(fl->sources);
	free(fl);
}

static struct entry *
find_entry(const struct flows *fl, enum flow_kind kind,
    const struct sockaddr *peer, const void *conn)
{
	struct entry *e;

	if (kind == FLOW_UDP && (peer == NULL ||
	    (peer->sa_family != AF_INET && peer->sa_family != AF_INET6)))
		return NULL;
	e = fl->by_key[key_bucket(fl, kind, peer, conn)];
	for (; e != NULL; e = e->next_key)
		if (key_matches(e, kind, peer, conn))
			return e;
	return NULL;
}

const struct flow *
flows_find(const struct flows *fl, enum flow_kind kind,
    const struct sockaddr *peer, const void *conn)
{
	struct entry *e = find_entry(fl, kind, peer, conn);

	return e != NULL ? &e->f : NULL;
}

static struct entry *
id_entry(const struct flows *fl, uint64_t id)
{
	struct entry *e = fl->by_id[mix(id) & (fl->nbuckets - 1)];

	while (e != NULL && e->f.a.id != id)
		e = e->next_id;
	return e;
}

const struct flow *
flows_by_id(const struct flows *fl, uint64_t id)
{
	struct entry *e = id_entry(fl, id);

	return e != NULL ? &e->f : NULL;
}

static void
peer_copy(struct sockaddr_storage *to, const struct sockaddr *sa)
{
	memset(to, 0, sizeof(*to));
	memcpy(to, sa, sa->sa_family == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
}

const struct flow *
flows_get(struct flows *fl, enum flow_kind kind, const struct sockaddr *peer,
    void *conn, uint64_t expires_ms, enum flows_result *res)
{
	struct entry *e;
	struct source **sp;
	size_t len;
	uint16_t port;

	if ((e = find_entry(fl, kind, peer, conn)) != NULL) {
		if (e->f.expires_ms < expires_ms)
			e->f.expires_ms = expires_ms;
		*res = FLOWS_FOUND;
		return &e->f;
	}
	*res = FLOWS_NOMEM;
	if (peer == NULL || ip_of(peer, &len, &port) == NULL)
		return NULL;
	if (fl->n >= fl->max_total) {
		*res = FLOWS_FULL;
		return NULL;
	}
	sp = source_slot(fl, peer, 0);
	if (sp != NULL && (*sp)->n >= fl->max_per_source) {
		*res = FLOWS_SOURCE_FULL;
		return NULL;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL ||
	    (sp == NULL && (sp = source_slot(fl, peer, 1)) == NULL)) {
		free(e);
		return NULL;
	}
	(*sp)->n++;
	e->f.a.kind = kind;
	e->f.a.id = fl->next_id++;
	peer_copy(&e->f.a.peer, peer);
	e->f.conn = kind != FLOW_UDP ? conn : NULL;
	e->f.expires_ms = expires_ms;
	e->next_id = fl->by_id[mix(e->f.a.id) & (fl->nbuckets - 1)];
	fl->by_id[mix(e->f.a.id) & (fl->nbuckets - 1)] = e;
	e->next_key = fl->by_key[key_bucket(fl, kind, peer, e->f.conn)];
	fl->by_key[key_bucket(fl, kind, peer, e->f.conn)] = e;
	fl->n++;
	*res = FLOWS_ADDED;
	return &e->f;
}

void
flows_registered(struct flows *fl, uint64_t id, uint64_t expires_ms)
{
	struct entry *e = id_entry(fl, id);

	if (e == NULL)
		return;
	if (expires_ms == 0) {
		unlink_entry(fl, e);
		return;
	}
	e->f.registered = 1;
	e->f.expires_ms = expires_ms;
}

size_t
flows_set_instance(struct flows *fl, uint64_t id, uint64_t inst)
{
	struct entry *e = id_entry(fl, id), *o, *next, **head;
	size_t gone = 0;

	if (e == NULL || inst == 0 || e->f.inst != 0)
		return 0;
	head = &fl->by_inst[mix(inst) & (fl->nbuckets - 1)];
	for (o = *head; o != NULL; o = next) {
		next = o->next_inst;
		if (o->f.inst == inst && o != e) {
			unlink_entry(fl, o);
			gone++;
		}
	}
	e->f.inst = inst;
	e->next_inst = *head;
	*head = e;
	return gone;
}

void
flows_remove(struct flows *fl, uint64_t id)
{
	struct entry *e = id_entry(fl, id);

	if (e != NULL)
		unlink_entry(fl, e);
}

size_t
flows_expire(struct flows *fl, uint64_t now_ms, int (*dead)(void *conn))
{
	struct entry *e, *next;
	size_t i, gone = 0;

	for (i = 0; i < fl->nbuckets; i++)
		for (e = fl->by_id[i]; e != NULL; e = next) {
			next = e->next_id;
			if (e->f.expires_ms <= now_ms || (e->f.conn != NULL &&
			    dead != NULL && dead(e->f.conn))) {
				unlink_entry(fl, e);
				gone++;
			}
		}
	return gone;
}

size_t
flows_count(const struct flows *fl)
{
	return fl->n;
}
