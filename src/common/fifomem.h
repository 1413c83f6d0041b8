/*
 * fifomem.h - memory for records released in the order they were made.
 *
 * The proxy keeps the last response of every completed UDP non-INVITE
 * server transaction for Timer J (owntx.c), all for the same time, so
 * they are released first in, first out. Kept in malloc's heap, tens of
 * thousands of such blocks of a few KB, interleaved with the short-lived
 * allocations of parsing and signing, fragment it: in a challenge flood
 * glibc's malloc spent a quarter of the proxy's time sorting free chunks
 * (docs/performance.md). Here records are appended to large blocks of
 * their own, mapped from the kernel, so they never touch the heap. Blocks
 * whose records are all released are kept for reuse until the owner
 * trims them (owntx.c keeps what the load of the last Timer J needed).
 *
 * Pure apart from mmap; not thread-safe.
 */
#ifndef FIFOMEM_H
#define FIFOMEM_H

#include <stddef.h>

struct fifomem;

/* NULL when out of memory. */
struct fifomem *fifomem_new(void);
void fifomem_free(struct fifomem *f); /* NULL is fine; frees all records */

/* A copy of len bytes as the newest record (aligned for any type), or
 * NULL when out of memory. */
void *fifomem_push(struct fifomem *f, const void *data, size_t len);

/* The oldest record, or NULL when there is none. */
void *fifomem_oldest(const struct fifomem *f);

/* Release the oldest record, which must be rec: 0, or -1 (nothing
 * released) when rec is not the oldest. */
int fifomem_pop(struct fifomem *f, const void *rec);

/* Blocks emptied by fifomem_pop() are kept for the next pushes; give
 * back to the system all but this many of them. */
void fifomem_trim(struct fifomem *f, size_t spare);

size_t fifomem_records(const struct fifomem *f);
size_t fifomem_blocks(const struct fifomem *f); /* standard ones in use */
size_t fifomem_mapped(const struct fifomem *f); /* bytes held from mmap */

#endif /* FIFOMEM_H */
