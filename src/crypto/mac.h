/*
 * mac.h - HMAC-SHA256 for tokens the proxy hands out and must recognise
 * again (RFC 5626 flow tokens). Here because OpenSSL stays in crypto/.
 */
#ifndef MAC_H
#define MAC_H

#include <stddef.h>

#define MAC_SHA256_LEN 32

/* out = HMAC-SHA256(key, data). 0, or -1 (OpenSSL failed). */
int mac_sha256(const void *key, size_t keylen, const void *data, size_t n,
    unsigned char out[MAC_SHA256_LEN]);

/* 1 when the n bytes are equal, in time independent of where they differ
 * (a forged token must not learn its MAC a byte at a time). */
int mac_equal(const void *a, const void *b, size_t n);

#endif /* MAC_H */
