/* nftset_nft.c - the libnftables back end: one transaction per round. */
#include "services/nftset_private.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <nftables/libnftables.h>

#include "common/buf.h"

/*
 * Element timeouts with nftables 1.0.6 (Debian 12), as found on the
 * kernel:
 *
 *  - "add element" of an element that exists is no error, but on the
 *    kernels of that time (Debian 12's 6.1) it leaves the old timeout
 *    alone: it is no refresh. (Newer kernels, 6.18 here, do update the
 *    timeout; we cannot count on that.)
 *  - "delete element" of an element that is not there (never added, or
 *    expired) fails with ENOENT, and with it the whole transaction.
 *  - "destroy element" (delete if there) came with nftables 1.0.8 and
 *    Linux 6.3; 1.0.6 does not parse it.
 *  - "create element" fails with EEXIST if it is there.
 *
 * So, in one transaction (the kernel applies it in order, all or
 * nothing):
 *
 *    add:      add X timeout T; delete X; add X timeout T
 *    refresh:  the same
 *    del:      add X timeout T; delete X
 *
 * The first add makes sure the delete finds an element; the delete and the
 * second add replace it with one whose timeout starts now. An add is done
 * this way too, because an element left by an earlier run of the daemon
 * would otherwise keep its old, nearer expiry. Nothing in such a batch
 * fails for an element being there or not; if the batch still fails (the
 * set full or gone, a wrong type, no memory), each change is tried again
 * alone so that one bad change does not cost the others.
 */

/* The first line of libnftables' error text, or what we have. */
static void
first_line(const char *text, char *out, size_t outsz)
{
	size_t n;

	if (text == NULL || text[0] == '\0')
		text = "nft failed without a message";
	n = strcspn(text, "\n");
	snprintf(out, outsz, "%.*s", (int)n, text);
}

/* Run commands; 0, or -1 with the first line of the error in err. */
static int
run(struct nft_ctx *nft, const char *cmds, char *err, size_t errsz)
{
	int rc = nft_run_cmd_from_buffer(nft, cmds);

	/* Fetching a buffer also empties it for the next command. */
	(void)nft_ctx_get_output_buffer(nft);
	if (rc == 0) {
		(void)nft_ctx_get_error_buffer(nft);
		return 0;
	}
	first_line(nft_ctx_get_error_buffer(nft), err, errsz);
	return -1;
}

static const char *
set_type(int family)
{
	return family == AF_INET ?
	    "ipv4_addr . inet_proto . inet_service" :
	    "ipv6_addr . inet_proto . inet_service";
}

static void
create_cmds(struct buf *b, const struct nftset_conf *c)
{
	char line[256];
	int fam[2] = { AF_INET, AF_INET6 }, i;
	const char *set;

	snprintf(line, sizeof(line), "add table %s %s\n", c->family, c->table);
	buf_str(b, line);
	for (i = 0; i < 2; i++) {
		if ((set = nftset_set_of(c, fam[i])) == NULL)
			continue;
		snprintf(line, sizeof(line),
		    "add set %s %s %s { type %s; flags timeout; }\n",
		    c->family, c->table, set, set_type(fam[i]));
		buf_str(b, line);
	}
}

/* "list set" of each set: there, of our type, with timeouts. */
static int
check_sets(struct nft_ctx *nft, const struct nftset_conf *c, char *err,
    size_t errsz)
{
	int fam[2] = { AF_INET, AF_INET6 }, i;
	char cmd[256], want[128], e[NFTSET_ERRSZ];
	const char *set, *out;

	for (i = 0; i < 2; i++) {
		if ((set = nftset_set_of(c, fam[i])) == NULL)
			continue;
		snprintf(cmd, sizeof(cmd), "list set %s %s %s", c->family,
		    c->table, set);
		if (nft_run_cmd_from_buffer(nft, cmd) != 0) {
			first_line(nft_ctx_get_error_buffer(nft), e, sizeof(e));
			snprintf(err, errsz, "%s: %s", cmd, e);
			return -1;
		}
		out = nft_ctx_get_output_buffer(nft);
		snprintf(want, sizeof(want), "type %s\n", set_type(fam[i]));
		if (out == NULL || strstr(out, want) == NULL ||
		    strstr(out, "timeout") == NULL) {
			snprintf(err, errsz, "set %s %s %s: not \"%.*s; "
			    "flags timeout\"", c->family, c->table, set,
			    (int)strlen(want) - 1, want);
			return -1;
		}
	}
	return 0;
}

struct nft_ctx *
nftset_nft_open(const struct nftset_conf *c, char *err, size_t errsz)
{
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
	struct buf b = { 0 };
	char e[NFTSET_ERRSZ];

	if (nft == NULL || nft_ctx_buffer_output(nft) != 0 ||
	    nft_ctx_buffer_error(nft) != 0) {
		snprintf(err, errsz, "cannot make a libnftables context");
		goto fail;
	}
	/* listings without the elements */
	nft_ctx_output_set_flags(nft, NFT_CTX_OUTPUT_TERSE);
	if (c->create) {
		create_cmds(&b, c);
		buf_add(&b, "", 1);
		if (b.oom || run(nft, (const char *)b.p, e, sizeof(e)) != 0) {
			snprintf(err, errsz, "cannot create table %s %s: %s",
			    c->family, c->table, b.oom ? "out of memory" : e);
			goto fail;
		}
	}
	if (check_sets(nft, c, err, errsz) != 0)
		goto fail;
	buf_free(&b);
	return nft;
fail:
	buf_free(&b);
	if (nft != NULL)
		nft_ctx_free(nft);
	return NULL;
}

void
nftset_nft_close(struct nft_ctx *nft)
{
	nft_ctx_free(nft);
}

/* "192.0.2.1 . udp . 49170" of a hole; -1 if it cannot be one. */
static int
element(const struct pinhole_hole *h, char *out, size_t outsz)
{
	char a[INET6_ADDRSTRLEN];
	const char *proto = nftset_proto_name(h->proto);

	if (proto == NULL || h->port == 0 || h->port > 65535 ||
	    (h->family != AF_INET && h->family != AF_INET6) ||
	    inet_ntop(h->family, h->addr, a, sizeof(a)) == NULL)
		return -1;
	snprintf(out, outsz, "%s . %s . %u", a, proto, h->port);
	return 0;
}

/* The commands of one change (see the top of the file); -1 (counted as a
 * failure) if the change cannot be made at all. */
static int
change_cmds(struct buf *b, const struct nftset_conf *c,
    const struct nftset_change *ch, struct nftset_result *r)
{
	const char *set = nftset_set_of(c, ch->h.family);
	char el[96], add[256], del[256];

	if (element(&ch->h, el, sizeof(el)) != 0) {
		nftset_fail(r, "%s: not a valid pinhole",
		    nftset_op_name(ch->op));
		return -1;
	}
	if (set == NULL) {
		nftset_fail(r, "%s %s: no set for IPv%d",
		    nftset_op_name(ch->op), el,
		    ch->h.family == AF_INET ? 4 : 6);
		return -1;
	}
	snprintf(add, sizeof(add), "add element %s %s %s { %s timeout %us }\n",
	    c->family, c->table, set, el, c->timeout_s);
	snprintf(del, sizeof(del), "delete element %s %s %s { %s }\n",
	    c->family, c->table, set, el);
	buf_str(b, add);
	buf_str(b, del);
	if (ch->op != NFTSET_OP_DEL)
		buf_str(b, add);
	return 0;
}

/* Each change in a transaction of its own, after the batch failed. */
static void
one_by_one(struct nft_ctx *nft, const struct nftset_conf *c,
    const struct nftset_change *ch, size_t n, struct nftset_result *r)
{
	char e[NFTSET_ERRSZ], el[96];
	struct buf b = { 0 };
	size_t i;

	for (i = 0; i < n; i++) {
		buf_free(&b);
		if (change_cmds(&b, c, &ch[i], r) != 0)
			continue;
		buf_add(&b, "", 1);
		if (b.oom) {
			nftset_fail(r, "out of memory");
			continue;
		}
		if (run(nft, (const char *)b.p, e, sizeof(e)) != 0) {
			(void)element(&ch[i].h, el, sizeof(el));
			nftset_fail(r, "%s %s: %s", nftset_op_name(ch[i].op),
			    el, e);
		}
	}
	buf_free(&b);
}

void
nftset_nft_apply(struct nft_ctx *nft, const struct nftset_conf *c,
    const struct nftset_change *ch, size_t n, struct nftset_result *r)
{
	struct buf b = { 0 };
	char e[NFTSET_ERRSZ];
	size_t i, good = 0;
	unsigned before = r->failed;

	if (c->create)
		create_cmds(&b, c);
	for (i = 0; i < n; i++)
		if (change_cmds(&b, c, &ch[i], r) == 0)
			good++;
	buf_add(&b, "", 1);
	if (good == 0 || b.oom) {
		if (good > 0) {
			nftset_fail(r, "out of memory for %zu changes", good);
			r->failed += (unsigned)good - 1;
		}
		buf_free(&b);
		return;
	}
	if (run(nft, (const char *)b.p, e, sizeof(e)) != 0) {
		/* The invalid ones were counted once already. */
		r->failed = before;
		one_by_one(nft, c, ch, n, r);
	}
	buf_free(&b);
}
