/*
 * fuzz_label.c - libFuzzer harness for the label parser (label.c).
 * The input is split on '\n' into header field values (NUL bytes stay in
 * them); they are parsed as one message, matched against fixed own names,
 * and every cid found is compared with the first line as a Content-ID.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
 *       tests/fuzz/fuzz_label.c src/e2m/label.c -o fuzz_label
 *   ./fuzz_label tests/fuzz/corpus/label/
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "e2m/label.h"

#define MAX_FIELDS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const own[] = { "ss1.atlanta.example.com", "192.0.2.10",
	"[2001:db8::10]" };

/* Touch every accessor so that each returned string is read in full. */
static void
walk(const struct label_set *set)
{
	size_t i, j, k, field, offset, sum = 0;

	for (i = 0; i < label_count(set); i++) {
		sum += strlen(label_host(set, i)) + (size_t)label_port(set, i);
		for (j = 0; j < label_ncids(set, i); j++)
			sum += strlen(label_cid(set, i, j));
	}
	for (k = 0; k < label_nnotes(set); k++)
		sum += strlen(label_note(set, k, &field, &offset)) + field + offset;
	if (sum == (size_t)-1)
		abort(); /* keeps the reads from being optimised away */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct label_field fields[MAX_FIELDS];
	const char *mine[LABEL_MAX_OWN_CIDS];
	const char *p = (const char *)data, *nl;
	char norm[LABEL_CID_BUFSZ];
	struct label_set *set;
	size_t n = 0, rest = size, i, nmine;

	while (n < MAX_FIELDS) {
		nl = memchr(p, '\n', rest);
		fields[n].value = p;
		fields[n].len = nl != NULL ? (size_t)(nl - p) : rest;
		n++;
		if (nl == NULL)
			break;
		rest -= (size_t)(nl - p) + 1;
		p = nl + 1;
	}
	set = label_parse(fields, n);
	if (set == NULL)
		return 0;
	walk(set);
	nmine = label_own_cids(set, own, sizeof(own) / sizeof(own[0]), mine,
	    LABEL_MAX_OWN_CIDS);
	for (i = 0; i < nmine; i++) {
		/* A stored cid is already normalised: it must map to itself. */
		if (label_cid_normalise(mine[i], strlen(mine[i]), norm) != NULL ||
		    strcmp(norm, mine[i]) != 0)
			abort();
		(void)label_cid_equal(mine[i], strlen(mine[i]),
		    fields[0].value, fields[0].len);
	}
	(void)label_cid_normalise(fields[0].value, fields[0].len, norm);
	label_free(set);
	return 0;
}
