/*
 * buf.h - a growing byte buffer for assembling messages and MIME bodies.
 * After a failed allocation every append is a no-op and oom stays set, so
 * a builder appends freely and checks once at the end.
 */
#ifndef BUF_H
#define BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *p;
	size_t len, cap;
	int oom;
};

void buf_add(struct buf *b, const void *data, size_t n);
void buf_str(struct buf *b, const char *s);
/* Base64 with CRLF after every 76 characters and at the end (RFC 2045). */
void buf_base64(struct buf *b, const uint8_t *in, size_t n);
void buf_free(struct buf *b); /* back to empty; oom cleared */

#endif /* BUF_H */
