/*
 * test_cmscache.c - the verified-path cache of crypto/cms_verify.c
 * (a path once verified is not verified again until it expires): an entry
 * answers only for the exact 32-byte digest it was stored under and only
 * until it expires. No certificate pair with digests alike in their first
 * bytes can be made, so the cache's own functions are tested: this file
 * includes cms_verify.c to reach them (mutant C4 of docs/reliability.md:
 * digests compared on 4 bytes survived every test that verifies real
 * signatures).
 */
#include "../../src/crypto/cms_verify.c"

#include "t.h"

int
main(void)
{
	struct chain_cache c;
	uint8_t a[32], b[32];
	time_t now = 1000000;
	size_t i;

	memset(&c, 0, sizeof(c));
	pthread_mutex_init(&c.lock, NULL);
	for (i = 0; i < sizeof(a); i++)
		a[i] = (uint8_t)(i * 7 + 1);
	memcpy(b, a, sizeof(b));

	T_OK(!cache_lookup(&c, a, now), "an empty cache knows nothing");
	cache_insert(&c, a, now + 60);
	T_OK(cache_lookup(&c, a, now), "a stored digest is found");
	b[31] ^= 0x01;
	T_OK(!cache_lookup(&c, b, now), "a digest differing in its last byte is not");
	memcpy(b, a, sizeof(b));
	b[4] ^= 0x80;
	T_OK(!cache_lookup(&c, b, now), "a digest alike in its first 4 bytes is not");
	memcpy(b, a, sizeof(b));
	b[0] ^= 0x01;
	T_OK(!cache_lookup(&c, b, now), "a digest differing in its first byte is not");
	T_OK(!cache_lookup(&c, a, now + 60), "an entry is gone when it expires");
	T_OK(!cache_lookup(&c, a, now + 61), "and after");
	cache_insert(&c, a, now + 120);
	T_OK(cache_lookup(&c, a, now + 61), "storing it again renews it");
	pthread_mutex_destroy(&c.lock);
	return t_done();
}
