/*
 * txmap.h - a map from a 64-bit key to pointers, several per key, for the
 * proxy's transactions that Sofia no longer tracks (INVITE client
 * transactions the proxy took over; see docs/memory.md, "The INVITE client
 * transaction"). The caller hashes its own key and confirms a match
 * itself. Pure, no I/O.
 */
#ifndef TXMAP_H
#define TXMAP_H

#include <stddef.h>
#include <stdint.h>

struct txmap;

struct txmap *txmap_new(void); /* NULL when out of memory */
void txmap_free(struct txmap *m); /* NULL is fine; values are not freed */

/* 0, or -1 when out of memory (nothing added). */
int txmap_put(struct txmap *m, uint64_t key, void *val);
/* Remove that one entry; absent is fine. */
void txmap_del(struct txmap *m, uint64_t key, const void *val);
/* The first value under key that match(val, arg) accepts, or NULL. */
void *txmap_find(const struct txmap *m, uint64_t key,
    int (*match)(const void *val, const void *arg), const void *arg);
size_t txmap_count(const struct txmap *m);

#endif /* TXMAP_H */
