/*
 * nftset_try.c - drives the firewall back end (services/nftset.c) from
 * the command line, for tests/integration/t_nftset.sh; run it inside a
 * network namespace of its own.
 *
 *   nftset_try [-b nft|exec] [-c] [-t SECS] [-f FAMILY] [-T TABLE]
 *              [-4 SET|-] [-6 SET|-] [-p PROGRAM] COMMAND...
 *
 * COMMAND is "add|del|refresh ADDR udp|tcp PORT" (queued) or "sync" (wait
 * until everything queued is applied, as the daemon's loop would: poll the
 * descriptor, collect). Each sync prints "sync: N failed[: REASON]"; the
 * program ends with an implicit sync. Exit 0, 1 if a change failed, 2 if
 * the back end did not start (its reason on stderr), 3 on bad usage.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "services/nftset.h"

static unsigned total_failed;

static void
usage(void)
{
	fprintf(stderr, "usage: nftset_try [-b nft|exec] [-c] [-t SECS] "
			"[-f FAMILY] [-T TABLE] [-4 SET|-] [-6 SET|-] "
			"[-p PROGRAM] COMMAND...\n");
	exit(3);
}

static void
sync_set(struct nftset *s)
{
	struct pollfd p = { .fd = nftset_fd(s), .events = POLLIN };
	const char *err;
	unsigned failed = 0, f;

	/* pending reaches 0 only after the round's failures are recorded;
	 * the last round's wakeup is collected below */
	while (nftset_pending(s) > 0)
		if (poll(&p, 1, 1000) == 1) {
			nftset_collect(s, &f, &err);
			failed += f;
			if (f > 0)
				printf("sync: error: %s\n", err);
		}
	nftset_collect(s, &f, &err);
	failed += f;
	if (f > 0)
		printf("sync: error: %s\n", err);
	printf("sync: %u failed\n", failed);
	total_failed += failed;
}

static int
queue(struct nftset *s, char **argv)
{
	struct pinhole_hole h;
	int rc;

	memset(&h, 0, sizeof(h));
	h.family = strchr(argv[1], ':') != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(h.family, argv[1], h.addr) != 1)
		usage();
	h.proto = strcmp(argv[2], "tcp") == 0 ? IPPROTO_TCP :
	    strcmp(argv[2], "udp") == 0 ? IPPROTO_UDP : 0;
	h.port = (unsigned)strtoul(argv[3], NULL, 10);
	if (strcmp(argv[0], "add") == 0)
		rc = nftset_add(s, &h);
	else if (strcmp(argv[0], "del") == 0)
		rc = nftset_del(s, &h);
	else if (strcmp(argv[0], "refresh") == 0)
		rc = nftset_refresh(s, &h);
	else
		usage();
	if (rc != 0)
		printf("queue full\n");
	return rc;
}

static const char *
set_arg(const char *a)
{
	return strcmp(a, "-") == 0 ? NULL : a;
}

int
main(int argc, char **argv)
{
	struct nftset_conf c;
	struct nftset *s;
	char err[256];
	int ch, i;

	memset(&c, 0, sizeof(c));
	c.backend = NFTSET_NFT;
	c.family = "inet";
	c.table = "e2mproxy";
	c.set4 = "media4";
	c.set6 = "media6";
	c.timeout_s = 2;
	while ((ch = getopt(argc, argv, "b:ct:f:T:4:6:p:")) != -1) {
		switch (ch) {
		case 'b':
			c.backend = strcmp(optarg, "exec") == 0 ? NFTSET_EXEC :
			    NFTSET_NFT;
			break;
		case 'c':
			c.create = 1;
			break;
		case 't':
			c.timeout_s = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'f':
			c.family = optarg;
			break;
		case 'T':
			c.table = optarg;
			break;
		case '4':
			c.set4 = set_arg(optarg);
			break;
		case '6':
			c.set6 = set_arg(optarg);
			break;
		case 'p':
			c.program = optarg;
			break;
		default:
			usage();
		}
	}
	if ((s = nftset_new(&c, err, sizeof(err))) == NULL) {
		fprintf(stderr, "nftset_try: %s\n", err);
		return 2;
	}
	for (i = optind; i < argc;) {
		if (strcmp(argv[i], "sync") == 0) {
			sync_set(s);
			i++;
		} else if (i + 3 < argc) {
			queue(s, &argv[i]);
			i += 4;
		} else
			usage();
	}
	sync_set(s);
	nftset_free(s);
	return total_failed > 0 ? 1 : 0;
}
