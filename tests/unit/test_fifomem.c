/* test_fifomem.c - first-in first-out record memory. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/fifomem.h"
#include "t.h"

#define N 20000

/* Record i: its number, then i % 3000 bytes of (i & 0xff). */
static size_t
rec_len(int i)
{
	return sizeof(int) + (size_t)(i % 3000);
}

static void *
push(struct fifomem *f, int i)
{
	static unsigned char buf[sizeof(int) + 3000];

	memcpy(buf, &i, sizeof(int));
	memset(buf + sizeof(int), i & 0xff, rec_len(i) - sizeof(int));
	return fifomem_push(f, buf, rec_len(i));
}

static int
intact(const void *p, int i)
{
	const unsigned char *b = p;
	int got;
	size_t k;

	memcpy(&got, b, sizeof(int));
	if (got != i || ((uintptr_t)p & 15) != 0)
		return 0;
	for (k = sizeof(int); k < rec_len(i); k++)
		if (b[k] != (i & 0xff))
			return 0;
	return 1;
}

int
main(void)
{
	static void *rec[N];
	struct fifomem *f = fifomem_new();
	void *big;
	int i, bad;

	T_OK(f != NULL, "made");
	if (f == NULL)
		return t_done();
	T_OK(fifomem_oldest(f) == NULL, "empty: no oldest");
	T_EQ_INT(fifomem_pop(f, NULL), -1, "empty: nothing to pop");
	T_EQ_INT(fifomem_mapped(f), 0, "empty: nothing mapped");

	for (i = 0, bad = 0; i < N; i++)
		if ((rec[i] = push(f, i)) == NULL)
			bad++;
	T_EQ_INT(bad, 0, "20000 records of 4..3003 bytes pushed");
	T_EQ_INT(fifomem_records(f), N, "counted");
	T_OK(fifomem_oldest(f) == rec[0], "oldest is the first pushed");
	T_EQ_INT(fifomem_pop(f, rec[1]), -1, "only the oldest may go");
	T_EQ_INT(fifomem_records(f), N, "nothing released by that");

	/* Release the older half; the younger half is untouched. */
	for (i = 0, bad = 0; i < N / 2; i++)
		if (!intact(rec[i], i) || fifomem_pop(f, rec[i]) != 0)
			bad++;
	T_EQ_INT(bad, 0, "older half intact, aligned, released in order");
	T_OK(fifomem_oldest(f) == rec[N / 2], "oldest is the first left");
	for (i = N / 2, bad = 0; i < N; i++)
		if (!intact(rec[i], i))
			bad++;
	T_EQ_INT(bad, 0, "younger half intact");

	/* A record larger than a block gets one of its own. */
	{
		static unsigned char huge[600 * 1024];

		memset(huge, 0x5a, sizeof(huge));
		big = fifomem_push(f, huge, sizeof(huge));
		T_OK(big != NULL && memcmp(big, huge, sizeof(huge)) == 0,
		    "600 KB record kept whole");
	}
	for (i = N / 2, bad = 0; i < N; i++)
		if (fifomem_pop(f, rec[i]) != 0)
			bad++;
	T_EQ_INT(bad, 0, "rest released in order");
	T_EQ_INT(fifomem_blocks(f), 0, "no standard block in use");
	T_EQ_INT(fifomem_pop(f, big), 0, "big one released last");
	T_EQ_INT(fifomem_records(f), 0, "none left");
	T_OK(fifomem_oldest(f) == NULL, "no oldest");
	/* Emptied blocks are kept for reuse until trimmed. */
	{
		size_t before = fifomem_mapped(f);

		for (i = 0, bad = 0; i < N / 2; i++)
			if ((rec[i] = push(f, i)) == NULL)
				bad++;
		T_EQ_INT(bad, 0, "pushed again");
		T_EQ_INT(fifomem_mapped(f), before, "into the kept blocks");
		for (i = 0; i < N / 2; i++)
			fifomem_pop(f, rec[i]);
		fifomem_trim(f, 2);
		T_EQ_INT(fifomem_mapped(f), 2 * 256 * 1024, "trimmed to two");
		fifomem_trim(f, 0);
		T_EQ_INT(fifomem_mapped(f), 0, "trimmed to none");
	}

	/* Zero-length records are records too. */
	rec[0] = fifomem_push(f, NULL, 0);
	T_OK(rec[0] != NULL && fifomem_oldest(f) == rec[0], "empty record");
	T_EQ_INT(fifomem_pop(f, rec[0]), 0, "empty record released");

	/* Freeing with records still held releases them all (ASan checks). */
	for (i = 0; i < 1000; i++)
		push(f, i);
	fifomem_free(f);
	fifomem_free(NULL);
	return t_done();
}
