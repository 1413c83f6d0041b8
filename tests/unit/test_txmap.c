/* test_txmap.c - the key -> pointers map. */
#include <stdint.h>
#include <stdlib.h>

#include "t.h"
#include "common/txmap.h"

#define N 10000

static int
is_odd(const void *val, const void *arg)
{
	(void)arg;
	return *(const int *)val % 2 == 1;
}

static int
equals(const void *val, const void *arg)
{
	return *(const int *)val == *(const int *)arg;
}

int
main(void)
{
	static int v[N];
	struct txmap *m = txmap_new();
	int i, bad, a = 1, b = 2, want;

	T_OK(m != NULL, "map made");
	if (m == NULL)
		return t_done();
	T_OK(txmap_find(m, 7, NULL, NULL) == NULL, "empty: nothing found");
	txmap_del(m, 7, &a); /* absent: fine */
	T_EQ_INT(txmap_count(m), 0, "empty: count 0");

	/* Several values under one key; match picks among them. */
	T_EQ_INT(txmap_put(m, 42, &a), 0, "put a");
	T_EQ_INT(txmap_put(m, 42, &b), 0, "put b under the same key");
	T_EQ_INT(txmap_count(m), 2, "two entries");
	want = 1;
	T_OK(txmap_find(m, 42, equals, &want) == &a, "match finds a");
	want = 2;
	T_OK(txmap_find(m, 42, equals, &want) == &b, "match finds b");
	T_OK(txmap_find(m, 43, equals, &want) == NULL, "other key: none");
	txmap_del(m, 42, &b);
	T_OK(txmap_find(m, 42, equals, &want) == NULL, "b gone");
	want = 1;
	T_OK(txmap_find(m, 42, equals, &want) == &a, "a stays");
	txmap_del(m, 42, &a);
	T_EQ_INT(txmap_count(m), 0, "both gone");

	/* Many keys through several doublings, sequential on purpose. */
	for (i = 0; i < N; i++) {
		v[i] = i;
		if (txmap_put(m, (uint64_t)i << 32, &v[i]) != 0)
			break;
	}
	T_EQ_INT(i, N, "10000 put");
	T_EQ_INT(txmap_count(m), N, "10000 counted");
	for (bad = 0, i = 0; i < N; i++)
		if (txmap_find(m, (uint64_t)i << 32, equals, &v[i]) != &v[i])
			bad++;
	T_EQ_INT(bad, 0, "each found after growing");
	for (i = 0; i < N; i += 2)
		txmap_del(m, (uint64_t)i << 32, &v[i]);
	T_EQ_INT(txmap_count(m), N / 2, "half deleted");
	for (bad = 0, i = 0; i < N; i++)
		if ((txmap_find(m, (uint64_t)i << 32, is_odd, NULL) != NULL) !=
		    (i % 2 == 1))
			bad++;
	T_EQ_INT(bad, 0, "exactly the odd ones left");
	txmap_free(m);
	txmap_free(NULL);
	return t_done();
}
