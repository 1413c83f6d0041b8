/* owntx.c - compact non-INVITE server transactions (see owntx.h). */
#include "proxyd/owntx.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/fifomem.h"
#include "common/txmap.h"

struct owntx {
	struct owntx *next; /* completed: the next to expire */
	uint64_t hash;
	uint64_t expires;   /* completed only */
	void *owner;        /* NULL once completed */
	char *resp;         /* last response sent, or NULL */
	size_t resp_len;
	unsigned char done;  /* then resp, if any, is in the table's fifo */
	/* branch, host, port, method: four NUL-terminated strings */
	char key[];
};

struct owntx_table {
	struct txmap *map;
	struct owntx *head, *tail; /* completed, oldest first */
	struct fifomem *finals;    /* their final responses, the same order */
	/* Most fifo blocks in use within the current and the previous
	 * linger period: what is kept for reuse (spare_keep()). */
	size_t peak, peak_prev;
	uint64_t peak_start;
	uint64_t linger;
	size_t n;
};

struct probe {
	const char *branch, *host, *port, *method;
};

/* FNV-1a over the fields without case (branch, host) or with it. */
static uint64_t
mix(uint64_t h, const char *s, int fold)
{
	for (; *s != '\0'; s++) {
		h ^= (unsigned char)(fold ? tolower((unsigned char)*s) : *s);
		h *= 0x100000001b3ULL;
	}
	h ^= 0xff; /* field separator */
	return h * 0x100000001b3ULL;
}

/* The method is left out so that a CANCEL finds its target. */
static uint64_t
hash_of(const char *branch, const char *host, const char *port)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	h = mix(h, branch, 1);
	h = mix(h, host, 1);
	return mix(h, port != NULL ? port : "", 0);
}

static int
matches(const void *val, const void *arg)
{
	const struct owntx *x = val;
	const struct probe *p = arg;
	const char *branch = x->key, *host = branch + strlen(branch) + 1;
	const char *port = host + strlen(host) + 1;
	const char *method = port + strlen(port) + 1;

	return strcasecmp(branch, p->branch) == 0 &&
	    strcasecmp(host, p->host) == 0 &&
	    strcmp(port, p->port != NULL ? p->port : "") == 0 &&
	    (p->method == NULL || strcmp(method, p->method) == 0);
}

struct owntx_table *
owntx_new(uint64_t linger_ms)
{
	struct owntx_table *tb = calloc(1, sizeof(*tb));

	if (tb == NULL)
		return NULL;
	if ((tb->map = txmap_new()) == NULL ||
	    (tb->finals = fifomem_new()) == NULL) {
		txmap_free(tb->map);
		free(tb);
		return NULL;
	}
	tb->linger = linger_ms;
	return tb;
}

static void
x_free(struct owntx *x)
{
	if (!x->done)
		free(x->resp);
	free(x);
}

void
owntx_free(struct owntx_table *tb)
{
	struct owntx *x, *next;

	if (tb == NULL)
		return;
	/* Open ones belong to their owners' lifetimes: the caller frees
	 * the owners (which drop them) first. */
	for (x = tb->head; x != NULL; x = next) {
		next = x->next;
		x_free(x);
	}
	txmap_free(tb->map);
	fifomem_free(tb->finals);
	free(tb);
}

struct owntx *
owntx_find(const struct owntx_table *tb, const char *branch,
    const char *host, const char *port, const char *method)
{
	struct probe p = { branch, host, port, method };

	return txmap_find(tb->map, hash_of(branch, host, port), matches, &p);
}

struct owntx *
owntx_open(struct owntx_table *tb, const char *branch, const char *host,
    const char *port, const char *method, void *owner)
{
	size_t lb = strlen(branch) + 1, lh = strlen(host) + 1;
	size_t lp = (port != NULL ? strlen(port) : 0) + 1;
	size_t lm = strlen(method) + 1;
	struct owntx *x = calloc(1, sizeof(*x) + lb + lh + lp + lm);

	if (x == NULL)
		return NULL;
	memcpy(x->key, branch, lb);
	memcpy(x->key + lb, host, lh);
	memcpy(x->key + lb + lh, port != NULL ? port : "", lp);
	memcpy(x->key + lb + lh + lp, method, lm);
	x->hash = hash_of(branch, host, port);
	x->owner = owner;
	if (txmap_put(tb->map, x->hash, x) != 0) {
		free(x);
		return NULL;
	}
	tb->n++;
	return x;
}

void *
owntx_owner(const struct owntx *x)
{
	return x->owner;
}

int
owntx_completed(const struct owntx *x)
{
	return x->done;
}

static void
complete(struct owntx_table *tb, struct owntx *x, uint64_t now)
{
	x->done = 1;
	x->owner = NULL;
	x->expires = now + tb->linger;
	x->next = NULL;
	if (tb->tail != NULL)
		tb->tail->next = x;
	else
		tb->head = x;
	tb->tail = x;
}

/* A provisional response's bytes, replacing the previous ones. */
static int
keep_provisional(struct owntx *x, const char *resp, size_t len)
{
	char *copy;

	if (resp == NULL || (copy = malloc(len > 0 ? len : 1)) == NULL)
		return -1;
	memcpy(copy, resp, len);
	free(x->resp);
	x->resp = copy;
	x->resp_len = len;
	return 0;
}

/* The final response's bytes, kept in expiry order; without them
 * retransmissions are absorbed (stale provisional bytes would be a wrong
 * answer). */
static int
keep_final(struct owntx_table *tb, struct owntx *x, const char *resp,
    size_t len)
{
	char *copy = resp != NULL ? fifomem_push(tb->finals, resp, len) : NULL;

	free(x->resp);
	x->resp = copy;
	x->resp_len = copy != NULL ? len : 0;
	return copy != NULL ? 0 : -1;
}

int
owntx_respond(struct owntx_table *tb, struct owntx *x, const char *resp,
    size_t len, int final, uint64_t now)
{
	int rc;

	if (x->done)
		return 0;
	if (!final)
		return keep_provisional(x, resp, len);
	rc = keep_final(tb, x, resp, len);
	complete(tb, x, now);
	return rc;
}

const char *
owntx_response(const struct owntx *x, size_t *len)
{
	*len = x->resp_len;
	return x->resp;
}

void
owntx_drop(struct owntx_table *tb, struct owntx *x)
{
	if (x->done)
		return; /* on the expiry list: it goes when its time is up */
	txmap_del(tb->map, x->hash, x);
	tb->n--;
	x_free(x);
}

/* Give back the fifo blocks that the load of the last two linger periods
 * did not need: a load that comes and goes (rounds of a flood) reuses
 * its blocks instead of having fresh pages zeroed at every rise, and
 * memory goes back once it has been quiet for that long. */
static void
spare_keep(struct owntx_table *tb, uint64_t now)
{
	size_t used = fifomem_blocks(tb->finals), keep;

	if (tb->head == NULL) {
		fifomem_trim(tb->finals, 0);
		tb->peak = tb->peak_prev = 0;
		return;
	}
	if (now - tb->peak_start >= tb->linger) {
		tb->peak_prev = tb->peak;
		tb->peak = used;
		tb->peak_start = now;
	} else if (used > tb->peak) {
		tb->peak = used;
	}
	keep = tb->peak > tb->peak_prev ? tb->peak : tb->peak_prev;
	fifomem_trim(tb->finals, keep > used ? keep - used : 0);
}

size_t
owntx_expire(struct owntx_table *tb, uint64_t now)
{
	struct owntx *x;
	size_t n = 0;

	while ((x = tb->head) != NULL && x->expires <= now) {
		tb->head = x->next;
		if (tb->head == NULL)
			tb->tail = NULL;
		txmap_del(tb->map, x->hash, x);
		tb->n--;
		if (x->resp != NULL)
			(void)fifomem_pop(tb->finals, x->resp);
		x_free(x);
		n++;
	}
	spare_keep(tb, now);
	return n;
}

int
owntx_next_expiry(const struct owntx_table *tb, uint64_t *when)
{
	if (tb->head == NULL)
		return 0;
	*when = tb->head->expires;
	return 1;
}

size_t
owntx_count(const struct owntx_table *tb)
{
	return tb->n;
}
