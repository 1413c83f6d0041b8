/*
 * fuzz_uachal.c - libFuzzer harness for the user agent's reading of a
 * 495/496 (uachal.c): what any proxy on the path, or anyone who can answer
 * in its place, sends to e2mua. The input is a response to one fixed
 * request:
 *
 *   line 1   Content-Type value
 *   line 2   Date value (empty: none)
 *   line 3   To value
 *   line 4.. Warning values, up to the first empty line (at most 16)
 *   rest     the body
 *
 * Parsed against the request the seeds were made for (test_uachal's
 * Call-ID, CSeq, From tag and branch), so that a genuine challenge gets
 * through to the freshness and Warning checks; every result field is read.
 * Seeds: genuine challenges built once by challenge_build() with a
 * throwaway key (binary and base64 signature parts, with and without
 * Warnings) and a legacy unsigned one; certificates and signatures only.
 *
 *   ./configure CC=clang --enable-fuzzing && make tests/fuzz/fuzz_uachal
 *   ./tests/fuzz/fuzz_uachal -max_total_time=30 tests/fuzz/corpus/uachal/
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ua/uachal.h"

#define MAX_LINES (3 + UACHAL_MAX_WARNINGS)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile size_t sink;

static const struct uachal_request REQ = {
	"3848276298220188511@atlanta.example.com", "1 INVITE", "9fxced76sl",
	"z9hG4bK74bf9", 1289690939LL
};

/* Every byte range the result hands out is read. */
static size_t
touch(const struct uachal *c)
{
	size_t sum = strlen(c->warn_agent) + c->ntypes, i;

	if (c->signed_part_len > 0)
		sum += c->signed_part[0] + c->signed_part[c->signed_part_len - 1];
	if (c->signature_len > 0)
		sum += c->signature[0] + c->signature[c->signature_len - 1];
	if (c->cert_len > 0)
		sum += c->cert[0] + c->cert[c->cert_len - 1];
	for (i = 0; i < c->ntypes; i++)
		sum += strlen(c->types[i]);
	return sum + (size_t)c->frag_date;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy, *lines[MAX_LINES], *p, *nl;
	const char *warn[UACHAL_MAX_WARNINGS];
	struct uachal_response resp;
	struct uachal *c = NULL;
	const char *why = NULL;
	size_t n = 0, nwarn = 0, i;

	/* A NUL-terminated copy: header values are C strings. */
	if ((copy = malloc(size + 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	p = copy;
	while (n < MAX_LINES && (nl = strchr(p, '\n')) != NULL) {
		*nl = '\0';
		lines[n++] = p;
		p = nl + 1;
		if (n >= 3 && lines[n - 1][0] == '\0')
			break; /* the empty line: the body follows */
	}
	if (n < 3) {
		free(copy);
		return 0;
	}
	for (i = 3; i < n && lines[i][0] != '\0'; i++)
		warn[nwarn++] = lines[i];
	memset(&resp, 0, sizeof(resp));
	resp.status = 496;
	resp.content_type = lines[0];
	resp.date = lines[1][0] != '\0' ? lines[1] : NULL;
	resp.to = lines[2];
	resp.warnings = warn;
	resp.nwarnings = nwarn;
	/* The body: the original bytes (NULs and all), not the copy. */
	resp.body = data + (size_t)(p - copy);
	resp.body_len = size - (size_t)(p - copy);
	(void)uachal_parse(&REQ, &resp, 380, 1289690942LL, 300, &c, &why);
	if (c != NULL)
		sink = touch(c);
	sink += strlen(why);
	uachal_free(c);
	free(copy);
	return 0;
}
