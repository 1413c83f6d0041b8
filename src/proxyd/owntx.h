/*
 * owntx.h - the proxy's own non-INVITE server transactions over UDP
 * (RFC 3261 17.2.2), kept small: per transaction its key (branch, sent-by,
 * method), its owner while it is being worked on, and the bytes of the
 * last response sent, which answer retransmissions. nta would keep the
 * whole parsed request and response for Timer J (64*T1) instead; see
 * docs/memory.md, "Non-INVITE server transactions over UDP". Completed
 * transactions all linger the same time, so they expire in the order they
 * completed: one list, one timer.
 * Pure, no I/O; times are the caller's milliseconds.
 */
#ifndef OWNTX_H
#define OWNTX_H

#include <stddef.h>
#include <stdint.h>

struct owntx_table;
struct owntx;

/* linger_ms: how long a completed transaction answers retransmissions
 * (Timer J). NULL when out of memory. */
struct owntx_table *owntx_new(uint64_t linger_ms);
void owntx_free(struct owntx_table *tb); /* NULL is fine; owners are not */

/*
 * The transaction a request with this top Via branch and sent-by
 * (host, port; port may be NULL) and this method belongs to, or NULL.
 * method NULL matches any method (a CANCEL looks for its target).
 * Branches and hosts compare without case, as nta does.
 */
struct owntx *owntx_find(const struct owntx_table *tb, const char *branch,
    const char *host, const char *port, const char *method);

/* A new transaction in Trying, worked on by owner; NULL when out of
 * memory. */
struct owntx *owntx_open(struct owntx_table *tb, const char *branch,
    const char *host, const char *port, const char *method, void *owner);

/* The owner, NULL once completed. */
void *owntx_owner(const struct owntx *x);
int owntx_completed(const struct owntx *x);

/*
 * Remember the response just sent (len bytes, copied). A final one
 * completes the transaction: it forgets its owner and expires linger_ms
 * after now. Later calls on a completed transaction are ignored. 0, or -1
 * when out of memory or resp is NULL (the transaction is unchanged, or completed without
 * bytes: retransmissions are then absorbed, not answered).
 */
int owntx_respond(struct owntx_table *tb, struct owntx *x, const char *resp,
    size_t len, int final, uint64_t now);

/* The last response sent, NULL before any (retransmissions are then
 * absorbed: RFC 3261 17.2.2, Trying). */
const char *owntx_response(const struct owntx *x, size_t *len);

/* Forget a transaction that is not completed (its owner gave up). */
void owntx_drop(struct owntx_table *tb, struct owntx *x);

/* Free the completed transactions whose time is up; how many. */
size_t owntx_expire(struct owntx_table *tb, uint64_t now);

/* 1 and *when = the next expiry, or 0 when nothing is completed. */
int owntx_next_expiry(const struct owntx_table *tb, uint64_t *when);

size_t owntx_count(const struct owntx_table *tb); /* all, open or not */

#endif /* OWNTX_H */
