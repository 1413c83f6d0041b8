/*
 * nftset.h - the firewall back ends of the pinhole service: holes go into
 * nftables sets (libnftables) or to an external program, on a thread of
 * their own so that the event loop never waits for netlink or a fork.
 *
 * The loop thread queues changes (add, del, refresh); the back-end thread
 * takes everything queued at once and applies it: with NFTSET_NFT as one
 * nftables transaction per round, with NFTSET_EXEC as one run of the
 * program per change. After each round the descriptor of nftset_fd()
 * becomes readable; the loop then calls nftset_collect() for the failures.
 *
 * Sets: one per address family, each
 *     type ipv4_addr . inet_proto . inet_service; flags timeout;
 * (ipv6_addr for IPv6), as in conf/e2mproxy-nftables.conf. Every element
 * gets timeout_s: the caller refreshes the holes of live dialogs
 * (pinhole_due()), and whatever a stopped or crashed daemon left in the
 * sets expires by itself within timeout_s; nothing is left open forever,
 * and a restarted daemon needs no clean-up.
 *
 * One nftset per process: libnftables is not documented as thread safe,
 * and each nftset's context is used by its own thread.
 */
#ifndef NFTSET_H
#define NFTSET_H

#include "services/pinhole.h"

struct nftset;

enum nftset_backend { NFTSET_NFT, NFTSET_EXEC };

struct nftset_conf {
	enum nftset_backend backend;
	const char *family;      /* nft table family: "inet", "ip", "ip6",
				    "bridge" or "netdev" */
	const char *table;       /* "e2mproxy" */
	const char *set4, *set6; /* "media4", "media6"; NULL: no set for
				    that family, and its holes fail (not
				    both; with NFTSET_EXEC only passed on) */
	int create;              /* NFTSET_NFT: create the table and the sets
				    (idempotent), at start and before every
				    round (a ruleset reload that dropped them
				    heals itself); else they must exist */
	unsigned timeout_s;      /* element timeout, 1..86400 */
	/*
	 * NFTSET_EXEC: an absolute path, run without a shell as
	 *     program add|del|refresh ipv4|ipv6 ADDR udp|tcp PORT TIMEOUT
	 * with stdin /dev/null, in a process group of its own, an
	 * environment of PATH and E2M_PINHOLE_OP, _FAMILY, _ADDR, _PROTO,
	 * _PORT, _TIMEOUT (the arguments), _NFT_FAMILY, _TABLE and _SET (the
	 * settings above, _SET for the hole's family; those that are NULL
	 * are left out). Exit 0 is success; the first line of its output
	 * is the reason of a failure.
	 */
	const char *program;
	unsigned exec_timeout_ms; /* a run is killed after (0: 5000) */
	unsigned queue_max;       /* changes waiting at most (0: 4096) */
};

/*
 * Checks the settings, creates the table and sets (create) or checks that
 * they exist with the right type and the timeout flag, starts the thread.
 * NULL with a reason in err on failure. Blocks (netlink): call at start.
 */
struct nftset *nftset_new(const struct nftset_conf *c, char *err,
    size_t errsz);
/* Readable when rounds have finished: then call nftset_collect(). */
int nftset_fd(const struct nftset *s);
/* Queue a change; 0, or -1 when the queue is full (nothing queued). An
 * add or a refresh sets the element's timeout to timeout_s from the
 * moment it is applied; deleting an element that is not there is no
 * failure. */
int nftset_add(struct nftset *s, const struct pinhole_hole *h);
int nftset_del(struct nftset *s, const struct pinhole_hole *h);
int nftset_refresh(struct nftset *s, const struct pinhole_hole *h);
/*
 * On the loop thread, after nftset_fd() was readable: *failed is the
 * number of changes that failed since the last call, *last_error the
 * reason of the last one (NULL if none failed), valid until the next
 * call. Clears the descriptor's readiness.
 */
void nftset_collect(struct nftset *s, unsigned *failed,
    const char **last_error);
/* Changes queued or being applied (metrics, tests). */
unsigned nftset_pending(struct nftset *s);
/* Wait until nothing is queued or being applied. Blocks: for tests and
 * shutdown, never on the daemon's loop. */
void nftset_flush(struct nftset *s);
/* Applies what is queued, stops the thread, frees. NULL is fine. The
 * elements stay in the sets until their timeouts. */
void nftset_free(struct nftset *s);

#endif /* NFTSET_H */
