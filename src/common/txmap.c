/* txmap.c - chained hash table, doubled when it gets crowded. */
#include "common/txmap.h"

#include <stdlib.h>

#define MIN_BUCKETS 64

struct node {
	struct node *next;
	uint64_t key;
	void *val;
};

struct txmap {
	struct node **b;
	size_t nb; /* a power of two */
	size_t n;
};

/* Keys are hashes already, but the low bits alone may be poor. */
static size_t
slot(uint64_t key, size_t nb)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdULL;
	key ^= key >> 33;
	return (size_t)key & (nb - 1);
}

struct txmap *
txmap_new(void)
{
	struct txmap *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	if ((m->b = calloc(MIN_BUCKETS, sizeof(*m->b))) == NULL) {
		free(m);
		return NULL;
	}
	m->nb = MIN_BUCKETS;
	return m;
}

void
txmap_free(struct txmap *m)
{
	struct node *e, *next;
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nb; i++)
		for (e = m->b[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	free(m->b);
	free(m);
}

/* A failed grow leaves the table as it was: only slower. */
static void
grow(struct txmap *m)
{
	struct node **b, *e, *next;
	size_t i, nb = m->nb * 2, s;

	if ((b = calloc(nb, sizeof(*b))) == NULL)
		return;
	for (i = 0; i < m->nb; i++)
		for (e = m->b[i]; e != NULL; e = next) {
			next = e->next;
			s = slot(e->key, nb);
			e->next = b[s];
			b[s] = e;
		}
	free(m->b);
	m->b = b;
	m->nb = nb;
}

int
txmap_put(struct txmap *m, uint64_t key, void *val)
{
	struct node *e = malloc(sizeof(*e));
	size_t s;

	if (e == NULL)
		return -1;
	if (m->n >= m->nb)
		grow(m);
	s = slot(key, m->nb);
	e->key = key;
	e->val = val;
	e->next = m->b[s];
	m->b[s] = e;
	m->n++;
	return 0;
}

void
txmap_del(struct txmap *m, uint64_t key, const void *val)
{
	struct node **p, *e;

	for (p = &m->b[slot(key, m->nb)]; (e = *p) != NULL; p = &e->next)
		if (e->key == key && e->val == val) {
			*p = e->next;
			free(e);
			m->n--;
			return;
		}
}

void *
txmap_find(const struct txmap *m, uint64_t key,
    int (*match)(const void *val, const void *arg), const void *arg)
{
	const struct node *e;

	for (e = m->b[slot(key, m->nb)]; e != NULL; e = e->next)
		if (e->key == key && (match == NULL || match(e->val, arg)))
			return e->val;
	return NULL;
}

size_t
txmap_count(const struct txmap *m)
{
	return m->n;
}
