/* buf.c - growing byte buffer (see buf.h). */
#include "common/buf.h"

#include <stdlib.h>
#include <string.h>

#define B64_LINE 76

void
buf_add(struct buf *b, const void *data, size_t n)
{
	if (b->oom || n == 0)
		return;
	if (n > SIZE_MAX / 2 - b->len) {
		b->oom = 1;
		return;
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		while (cap < b->len + n)
			cap *= 2;
		uint8_t *p = realloc(b->p, cap);
		if (p == NULL) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

void
buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
	b->oom = 0;
}

void
buf_base64(struct buf *b, const uint8_t *in, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char line[B64_LINE];
	size_t ll = 0;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		size_t left = n - i;
		if (left > 1)
			v |= (uint32_t)in[i + 1] << 8;
		if (left > 2)
			v |= in[i + 2];
		line[ll++] = tab[(v >> 18) & 63];
		line[ll++] = tab[(v >> 12) & 63];
		line[ll++] = left > 1 ? tab[(v >> 6) & 63] : '=';
		line[ll++] = left > 2 ? tab[v & 63] : '=';
		if (ll == B64_LINE) {
			buf_add(b, line, ll);
			buf_str(b, "\r\n");
			ll = 0;
		}
	}
	if (ll > 0) {
		buf_add(b, line, ll);
		buf_str(b, "\r\n");
	}
}
