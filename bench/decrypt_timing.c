/*
 * decrypt_timing.c - how long cms_decrypt() takes for each way an
 * envelope can fail, against one that opens (digest R10: every
 * decryption failure the same 496, "same timing as far as practical").
 *
 * Each argument names an envelope file KIND_CASE.der in DIR (made by
 * bench/decrypt_timing.sh) and the proxy key pair it goes to,
 * proxy_KIND.{crt,key}. All cases are timed in turns, one call each per
 * pass, PASSES passes, so that a noisy moment hits them alike; per case:
 * the outcome, the median, 10th and 90th percentile of one call, in
 * microseconds, and the median's ratio to the first case of its KIND
 * (the one that opens).
 *
 * Usage: decrypt_timing [-n PASSES] DIR KIND_CASE...
 */
#define _GNU_SOURCE /* asprintf (benchutil.h) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crypto/cms.h"

#include "benchutil.h"

#define MAX_CASES 32

struct tcase {
	char name[64];
	char kind[16];
	uint8_t *der;
	size_t len;
	struct cms_keys *keys;
	double *us;
	unsigned opened;	/* calls that returned CMS_OK */
};

/* The p-th percentile (nearest rank) of v[0..n), sorted in place. */
static double
pct(double *v, unsigned n, unsigned p)
{
	unsigned i = (n * p + 99) / 100;

	qsort(v, n, sizeof(*v), cmp_double);
	return v[i > 0 ? i - 1 : 0];
}

static void
load(struct tcase *c, const char *arg, unsigned passes)
{
	char der[96], crt[64], key[64], err[256];
	const char *cf[1], *kf[1], *us;

	if ((us = strchr(arg, '_')) == NULL || (size_t)(us - arg) >=
	    sizeof(c->kind) || strlen(arg) >= sizeof(c->name))
		die("a case is named KIND_CASE");
	snprintf(c->name, sizeof(c->name), "%s", arg);
	snprintf(c->kind, sizeof(c->kind), "%.*s", (int)(us - arg), arg);
	snprintf(der, sizeof(der), "%s.der", arg);
	c->der = slurp(path(der), &c->len);
	snprintf(crt, sizeof(crt), "proxy_%s.crt", c->kind);
	snprintf(key, sizeof(key), "proxy_%s.key", c->kind);
	cf[0] = path(crt);
	kf[0] = path(key);
	if ((c->keys = cms_keys_load(cf, kf, 1, NULL, 0, NULL, 0, err,
	    sizeof(err))) == NULL)
		die(err);
	if ((c->us = calloc(passes, sizeof(double))) == NULL)
		die("out of memory");
}

static void
time_one(struct tcase *c, unsigned pass)
{
	uint8_t *plain = NULL;
	size_t plen = 0;
	double t0 = now();
	enum cms_status st = cms_decrypt(c->keys, c->der, c->len, &plain,
	    &plen);

	c->us[pass] = (now() - t0) * 1e6;
	c->opened += st == CMS_OK;
	if (plain != NULL)
		cms_plain_free(plain, plen);
}

int
main(int argc, char **argv)
{
	static struct tcase cs[MAX_CASES];
	unsigned passes = 2000, n = 0, i, p;
	double base = 0, med;
	const char *kind = "";
	int o;

	prog = "decrypt_timing";
	while ((o = getopt(argc, argv, "n:")) != -1) {
		if (o != 'n' || (passes = (unsigned)atoi(optarg)) < 10)
			die("usage: decrypt_timing [-n PASSES >= 10] DIR KIND_CASE...");
	}
	if (argc - optind < 2 || argc - optind - 1 > MAX_CASES)
		die("usage: decrypt_timing [-n PASSES] DIR KIND_CASE...");
	dir = argv[optind];
	for (i = (unsigned)optind + 1; i < (unsigned)argc; i++)
		load(&cs[n++], argv[i], passes);
	for (i = 0; i < n; i++) {	/* warm-up: first-call costs */
		time_one(&cs[i], 0);
		cs[i].opened = 0;
	}
	for (p = 0; p < passes; p++)
		for (i = 0; i < n; i++)
			time_one(&cs[i], p);
	printf("| case | calls that opened (CMS_OK) | median us | p10 - p90 us | median / its kind's first |\n");
	printf("|---|---|---|---|---|\n");
	for (i = 0; i < n; i++) {
		double p10 = pct(cs[i].us, passes, 10);
		double p90 = pct(cs[i].us, passes, 90);

		med = pct(cs[i].us, passes, 50);
		if (strcmp(cs[i].kind, kind) != 0) {
			kind = cs[i].kind;
			base = med;
		}
		printf("| %s | %u of %u | %.1f | %.1f - %.1f | %.3f |\n",
		    cs[i].name, cs[i].opened, passes, med, p10, p90,
		    med / base);
	}
	return 0;
}
