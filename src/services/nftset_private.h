/* nftset_private.h - what nftset.c shares with its two back ends. */
#ifndef NFTSET_PRIVATE_H
#define NFTSET_PRIVATE_H

#include <stddef.h>

#include "services/nftset.h"

#define NFTSET_ERRSZ 256

enum nftset_op { NFTSET_OP_ADD, NFTSET_OP_DEL, NFTSET_OP_REFRESH };

struct nftset_change {
	enum nftset_op op;
	struct pinhole_hole h;
};

/* What one round did: failures and the reason of the last one. */
struct nftset_result {
	unsigned failed;
	char error[NFTSET_ERRSZ];
};

struct nft_ctx;

/* "add", "del", "refresh" */
const char *nftset_op_name(enum nftset_op op);
/* "udp" or "tcp"; NULL for another protocol. */
const char *nftset_proto_name(int proto);
/* The set of a hole's family, or NULL. */
const char *nftset_set_of(const struct nftset_conf *c, int family);
/* One failure more, with its reason. */
void nftset_fail(struct nftset_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* libnftables (nftset_nft.c): a context with the table and sets checked
 * (or created); the changes of one round as one transaction. */
struct nft_ctx *nftset_nft_open(const struct nftset_conf *c, char *err,
    size_t errsz);
void nftset_nft_apply(struct nft_ctx *nft, const struct nftset_conf *c,
    const struct nftset_change *ch, size_t n, struct nftset_result *r);
void nftset_nft_close(struct nft_ctx *nft);

/* The program (nftset_exec.c): one run per change. */
int nftset_exec_check(const struct nftset_conf *c, char *err, size_t errsz);
void nftset_exec_apply(const struct nftset_conf *c,
    const struct nftset_change *ch, size_t n, struct nftset_result *r);

#endif /* NFTSET_PRIVATE_H */
