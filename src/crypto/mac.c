/*
 * mac.c - HMAC-SHA256 and a constant-time comparison, on OpenSSL.
 */
#include "crypto/mac.h"

#include <limits.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

int
mac_sha256(const void *key, size_t keylen, const void *data, size_t n,
    unsigned char out[MAC_SHA256_LEN])
{
	unsigned int len = 0;

	if (keylen > (size_t)INT_MAX)
		return -1;
	if (HMAC(EVP_sha256(), key, (int)keylen, data, n, out, &len) == NULL)
		return -1;
	return len == MAC_SHA256_LEN ? 0 : -1;
}

int
mac_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}
