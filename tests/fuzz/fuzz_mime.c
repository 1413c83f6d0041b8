/*
 * fuzz_mime.c - libFuzzer harness for mime.c. Input: the first line is the
 * Content-Type value, the rest is the body. Parse with small limits, walk
 * the tree, graft the first leaf's decoded body onto it, free.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
 *       tests/fuzz/fuzz_mime.c src/e2m/mime.c -o /tmp/fuzz_mime
 *   /tmp/fuzz_mime -max_total_time=30 tests/fuzz/corpus/mime/
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "e2m/mime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile size_t sink;

static int
visit(const struct mime_entity *e, void *arg)
{
	size_t *sum = arg;

	/* touch every byte range the tree hands out */
	if (e->raw_len > 0)
		*sum += e->raw[0] + e->raw[e->raw_len - 1];
	if (e->body_len > 0)
		*sum += e->body[0] + e->body[e->body_len - 1];
	if (e->data != NULL && e->data_len > 0)
		*sum += e->data[0] + e->data[e->data_len - 1];
	*sum += strlen(e->type) + strlen(e->subtype);
	if (e->content_id != NULL)
		*sum += strlen(e->content_id);
	if (mime_param(e, "boundary") != NULL)
		(*sum)++;
	return 0;
}

static int
cid_any(const char *have, const char *want, void *arg)
{
	(void)arg;
	return strcmp(have, want) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mime_limits lim = { 4096, 4, 8 };
	struct mime_headers h;
	struct mime_entity *t = NULL, *leaf;
	const uint8_t *nl = memchr(data, '\n', size);
	char *ct;
	size_t ctlen = nl != NULL ? (size_t)(nl - data) : size, sum = 0;
	const char *err = NULL;

	if ((ct = malloc(ctlen + 1)) == NULL)
		return 0;
	memcpy(ct, data, ctlen);
	ct[ctlen] = '\0';
	memset(&h, 0, sizeof(h));
	/* a NUL in the first line simply shortens the header */
	h.content_type = ct;
	h.content_id = "<a@b>";
	h.content_disposition = "attachment;handling=optional";
	if (mime_parse(&h, nl != NULL ? nl + 1 : data + size,
	    nl != NULL ? size - ctlen - 1 : 0, &lim, &t, &err) == MIME_OK &&
	    t != NULL) {
		mime_walk(t, visit, &sum);
		(void)mime_find_cid(t, "<a@b>", cid_any, NULL);
		leaf = t;
		while (leaf->nchildren > 0)
			leaf = leaf->children[0];
		if (leaf->data != NULL && strcmp(leaf->type, "multipart") != 0 &&
		    mime_graft(leaf, leaf->data, leaf->data_len, &lim, &err) ==
		    MIME_OK)
			mime_walk(t, visit, &sum);
	}
	mime_free(t);
	free(ct);
	sink = sum;
	return 0;
}
