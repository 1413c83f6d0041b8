/*
 * cms_speed.c - CMS speed on this machine, three ways in one run
 * (benchmark.md section 2):
 *
 *   raw     OpenSSL alone: d2i_CMS_ContentInfo + CMS_decrypt (recipient
 *           certificate passed), d2i + CMS_verify of a detached SignedData
 *           against a store holding the CA, CMS_sign (detached) + i2d;
 *   module  cms_decrypt(), cms_verify(), cms_sign() on the same inputs;
 *   stage   the decrypt stage: an inspector with ONE worker thread on a real
 *           loop opening a labelled INVITE body (application/pkcs7-mime
 *           enveloped-data with a Content-ID, label naming the proxy), a
 *           fixed number of inspections in flight (a new one is started in
 *           each done callback), completions counted on the loop thread.
 *
 * Each figure is a fixed time (-t SECS, default 3) of back-to-back
 * operations on one thread (the stage: one worker plus the loop thread),
 * cut into -r ROUNDS (default 5) slices taken round-robin over all the
 * figures, so that a noisy moment on a shared machine hits them alike. The
 * table gives the median rate over the rounds and its range; ratios are
 * medians of the per-round ratios (raw, module and stage of one key type
 * run back to back within a round).
 *
 * Usage: cms_speed [-t SECS] [-r ROUNDS] [-n INFLIGHT] DIR
 * DIR holds what bench/cms_speed.sh makes: ca.crt, proxy_{ec,rsa}.{crt,key},
 * signer_{ec,rsa}.{crt,key}, env_{ec,rsa}.der, sig.der and signed.txt.
 */
#define _GNU_SOURCE /* asprintf */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "crypto/cms.h"
#include "e2m/inspect.h"
#include "e2m/label.h"
#include "proxyd/loop.h"
#include "e2m/mime.h"
#include "proxyd/workers.h"

#include "benchutil.h"

#define MAX_ROUNDS 64

static double secs = 3.0;      /* per figure, over all rounds */
static unsigned rounds = 5;
static double slice;           /* secs / rounds */
static unsigned inflight = 32;
static X509 *
read_cert(const char *name)
{
	FILE *f = fopen(path(name), "r");
	X509 *x;

	if (f == NULL || (x = PEM_read_X509(f, NULL, NULL, NULL)) == NULL)
		die(name);
	fclose(f);
	return x;
}

static EVP_PKEY *
read_key(const char *name)
{
	FILE *f = fopen(path(name), "r");
	EVP_PKEY *k;

	if (f == NULL || (k = PEM_read_PrivateKey(f, NULL, NULL, NULL)) == NULL)
		die(name);
	fclose(f);
	return k;
}

/* Run op until the time is up; ops per second. op returns 0 on success. */
typedef int op_fn(void *arg);

static double
measure(op_fn *op, void *arg, const char *name)
{
	double t0, t;
	unsigned long n = 0;

	if (op(arg) != 0) /* warm-up and correctness check */
		die(name);
	t0 = now();
	do {
		if (op(arg) != 0)
			die(name);
		n++;
	} while ((t = now()) - t0 < slice);
	return (double)n / (t - t0);
}

static double
median(const double *v, unsigned n)
{
	double s[MAX_ROUNDS];

	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* ---- inputs ---- */

struct kind {
	const char *name;       /* "EC P-256", "RSA-2048" */
	const char *tag;        /* "ec", "rsa" */
	X509 *proxy_cert;
	EVP_PKEY *proxy_key;
	X509 *signer_cert;
	EVP_PKEY *signer_key;
	uint8_t *env;
	size_t env_len;
	struct cms_keys *keys;  /* this proxy key + the CA */
	struct cms_signing_key *sk;
	/* ops/s, one per round */
	double raw_dec[MAX_ROUNDS], mod_dec[MAX_ROUNDS], stage_dec[MAX_ROUNDS];
	double raw_sign[MAX_ROUNDS], mod_sign[MAX_ROUNDS];
	/* stage: worker thread CPU / wall, loop thread CPU us per opening */
	double worker_busy[MAX_ROUNDS], loop_us[MAX_ROUNDS];
};

static X509 *ca;
static STACK_OF(X509) *chain; /* the CA, carried in signatures */
static X509_STORE *store;
static uint8_t *sig, *sdata;
static size_t sig_len, sdata_len;
static struct cms_keys *vkeys; /* verify-only: the CA */

/* ---- raw OpenSSL ---- */

static int
raw_decrypt(void *arg)
{
	struct kind *k = arg;
	const unsigned char *p = k->env;
	CMS_ContentInfo *cms;
	BIO *out;
	int ok;

	if ((cms = d2i_CMS_ContentInfo(NULL, &p, (long)k->env_len)) == NULL ||
	    (out = BIO_new(BIO_s_mem())) == NULL)
		return -1;
	ok = CMS_decrypt(cms, k->proxy_key, k->proxy_cert, NULL, out,
	    CMS_BINARY);
	BIO_free(out);
	CMS_ContentInfo_free(cms);
	return ok == 1 ? 0 : -1;
}

static int
raw_verify(void *arg)
{
	const unsigned char *p = sig;
	CMS_ContentInfo *cms;
	BIO *data;
	int ok;

	(void)arg;
	if ((cms = d2i_CMS_ContentInfo(NULL, &p, (long)sig_len)) == NULL ||
	    (data = BIO_new_mem_buf(sdata, (int)sdata_len)) == NULL)
		return -1;
	ok = CMS_verify(cms, NULL, store, data, NULL, CMS_BINARY);
	BIO_free(data);
	CMS_ContentInfo_free(cms);
	return ok == 1 ? 0 : -1;
}

static int
raw_sign(void *arg)
{
	struct kind *k = arg;
	CMS_ContentInfo *cms;
	BIO *data;
	unsigned char *der = NULL;
	int n = -1;

	if ((data = BIO_new_mem_buf(sdata, (int)sdata_len)) == NULL)
		return -1;
	cms = CMS_sign(k->signer_cert, k->signer_key, chain, data,
	    CMS_BINARY | CMS_DETACHED);
	if (cms != NULL)
		n = i2d_CMS_ContentInfo(cms, &der);
	OPENSSL_free(der);
	CMS_ContentInfo_free(cms);
	BIO_free(data);
	return n > 0 ? 0 : -1;
}

/* ---- our module ---- */

static int
mod_decrypt(void *arg)
{
	struct kind *k = arg;
	uint8_t *plain;
	size_t len;

	if (cms_decrypt(k->keys, k->env, k->env_len, &plain, &len) != CMS_OK)
		return -1;
	cms_plain_free(plain, len);
	return 0;
}

static int
mod_verify(void *arg)
{
	struct cms_signer s;
	const char *why = NULL;

	(void)arg;
	return cms_verify(vkeys, sig, sig_len, sdata, sdata_len, &s, NULL,
	    NULL, &why) == CMS_OK ? 0 : -1;
}

static int
mod_sign(void *arg)
{
	struct kind *k = arg;
	uint8_t *der;
	size_t len;

	if (cms_sign(k->sk, sdata, sdata_len, true, &der, &len) != CMS_OK)
		return -1;
	free(der);
	return 0;
}

/* ---- the decrypt stage ---- */

static const char *const own_names[] = { "proxy.example.com" };
static const char label_value[] = "proxy.example.com;cid=env@example.com";

struct stage {
	struct loop *loop;
	struct inspector *ins;
	struct inspect_input in;
	struct label_field label;
	struct inspect **slots;
	int counting;
	int stopping;
	unsigned long done, bad;
};

struct slot_ref {
	struct stage *s;
	unsigned i;
};

static void stage_done(struct inspect *in, void *arg);

static int
stage_start(struct stage *s, struct slot_ref *r)
{
	enum inspect_status st;

	st = inspect_start(s->ins, &s->in, stage_done, r, &s->slots[r->i]);
	if (st != INSPECT_PENDING) {
		fprintf(stderr, "cms_speed: inspect_start: %d (%s)\n", (int)st,
		    inspect_reason(s->slots[r->i]) ? inspect_reason(
		    s->slots[r->i]) : "-");
		inspect_free(s->slots[r->i]);
		s->slots[r->i] = NULL;
		return -1;
	}
	return 0;
}

static int
opened(const struct inspect *in)
{
	return inspect_result(in) == INSPECT_DONE &&
	    inspect_ntargets(in) == 1 &&
	    inspect_target(in, 0)->state == TARGET_OPENED &&
	    inspect_sees(in, "application/sdp");
}

static void
stage_done(struct inspect *in, void *arg)
{
	struct slot_ref *r = arg;
	struct stage *s = r->s;

	if (!opened(in))
		s->bad++;
	else if (s->counting)
		s->done++;
	inspect_free(in);
	s->slots[r->i] = NULL;
	if (s->stopping)
		return;
	if (stage_start(s, r) != 0) {
		s->bad++;
		loop_break(s->loop);
	}
}

/* Ends a phase (warm-up, measurement) of the stage run. */
static void
stage_break(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	loop_break(arg);
}

static int
submit(void *pool, inspect_work_fn *work, inspect_job_done_fn *done,
    void *arg)
{
	return workers_submit(pool, work, done, arg);
}

static double
stage_measure(struct kind *k, unsigned r)
{
	double p0, p1, m0, m1;
	struct inspector_conf c;
	struct workers *w;
	struct stage s;
	struct slot_ref *refs;
	struct event *tick;
	struct timeval tw = { 0, 100000 }, tm;
	double t0, t1;
	unsigned i;

	memset(&s, 0, sizeof(s));
	if ((s.loop = loop_new()) == NULL)
		die("loop_new");
	if ((w = workers_new(s.loop, 1, 100000)) == NULL)
		die("workers_new");
	memset(&c, 0, sizeof(c));
	c.keys = k->keys;
	c.submit = submit;
	c.pool = w;
	mime_limits_default(&c.limits);
	c.own_names = own_names;
	c.nown_names = 1;
	if ((s.ins = inspector_new(&c)) == NULL)
		die("inspector_new");

	s.in.top.content_type = "application/pkcs7-mime; "
	    "smime-type=enveloped-data; name=smime.p7m";
	s.in.top.content_id = "<env@example.com>";
	s.in.top.content_disposition = "attachment; handling=required";
	s.in.top.content_transfer_encoding = "binary";
	s.in.body = k->env;
	s.in.len = k->env_len;
	s.label.value = label_value;
	s.label.len = strlen(label_value);
	s.in.labels = &s.label;
	s.in.nlabels = 1;

	s.slots = calloc(inflight, sizeof(*s.slots));
	refs = calloc(inflight, sizeof(*refs));
	if (s.slots == NULL || refs == NULL)
		die("out of memory");
	for (i = 0; i < inflight; i++) {
		refs[i].s = &s;
		refs[i].i = i;
		if (stage_start(&s, &refs[i]) != 0)
			die("stage start");
	}
	tick = evtimer_new(loop_base(s.loop), stage_break, s.loop);
	if (tick == NULL)
		die("evtimer_new");

	/* Warm-up: 0.1 s, not counted. */
	evtimer_add(tick, &tw);
	if (loop_run(s.loop) != 0 || s.bad != 0)
		die("stage warm-up");
	/* Measure. */
	tm.tv_sec = (time_t)slice;
	tm.tv_usec = (suseconds_t)((slice - (double)tm.tv_sec) * 1e6);
	s.counting = 1;
	t0 = now();
	p0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	m0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
	evtimer_add(tick, &tm);
	if (loop_run(s.loop) != 0)
		die("loop_run");
	t1 = now();
	p1 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	m1 = clock_s(CLOCK_THREAD_CPUTIME_ID);
	/* The process has two threads here: this one (the loop) and the
	 * worker. */
	k->worker_busy[r] = ((p1 - p0) - (m1 - m0)) / (t1 - t0);
	k->loop_us[r] = s.done ? (m1 - m0) * 1e6 / (double)s.done : 0;
	s.counting = 0;
	if (s.bad != 0) {
		fprintf(stderr, "cms_speed: stage: %lu inspections not opened\n",
		    s.bad);
		exit(1);
	}

	/* Stop: pending inspections are abandoned (freed when their job
	 * finishes), then the pool runs the remaining completions. */
	s.stopping = 1;
	for (i = 0; i < inflight; i++)
		inspect_free(s.slots[i]);
	workers_free(w);
	inspector_free(s.ins);
	event_free(tick);
	loop_free(s.loop);
	free(s.slots);
	free(refs);
	return (double)s.done / (t1 - t0);
}

/* ---- setup and report ---- */

static double
min_of(const double *v)
{
	double m = v[0];

	for (unsigned i = 1; i < rounds; i++)
		if (v[i] < m)
			m = v[i];
	return m;
}

static double
max_of(const double *v)
{
	double m = v[0];

	for (unsigned i = 1; i < rounds; i++)
		if (v[i] > m)
			m = v[i];
	return m;
}

static void
load_kind(struct kind *k)
{
	char pc[64], pk[64], sc[64], sk[64], env[64], err[256];
	const char *cf[1], *kf[1], *caf[1] = { path("ca.crt") };

	snprintf(pc, sizeof(pc), "proxy_%s.crt", k->tag);
	snprintf(pk, sizeof(pk), "proxy_%s.key", k->tag);
	snprintf(sc, sizeof(sc), "signer_%s.crt", k->tag);
	snprintf(sk, sizeof(sk), "signer_%s.key", k->tag);
	snprintf(env, sizeof(env), "env_%s.der", k->tag);
	k->proxy_cert = read_cert(pc);
	k->proxy_key = read_key(pk);
	k->signer_cert = read_cert(sc);
	k->signer_key = read_key(sk);
	k->env = slurp(path(env), &k->env_len);
	cf[0] = path(pc);
	kf[0] = path(pk);
	if ((k->keys = cms_keys_load(cf, kf, 1, caf, 1, NULL, 0, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "cms_speed: cms_keys_load: %s\n", err);
		exit(1);
	}
	if ((k->sk = cms_signing_key_load(path(sc), path(sk), caf, 1, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "cms_speed: cms_signing_key_load: %s\n", err);
		exit(1);
	}
}

static void
row(const char *op, const char *key, const double *v)
{
	char name[64];

	snprintf(name, sizeof(name), "%s%s%s", op, key ? ", " : "",
	    key ? key : "");
	printf("%-46s %9.0f   [%.0f..%.0f]\n", name, median(v, rounds),
	    min_of(v), max_of(v));
}

static void
ratio(const char *what, const char *key, const double *num,
    const double *den)
{
	double r[MAX_ROUNDS];
	char name[64];
	unsigned i;

	for (i = 0; i < rounds; i++)
		r[i] = num[i] / den[i];
	snprintf(name, sizeof(name), "%s, %s", what, key);
	printf("%-46s %9.2f   [%.2f..%.2f]\n", name, median(r, rounds),
	    min_of(r), max_of(r));
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: cms_speed [-t SECS] [-r ROUNDS] [-n INFLIGHT] DIR\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct kind kinds[2] = {
		{ .name = "EC P-256", .tag = "ec" },
		{ .name = "RSA-2048", .tag = "rsa" },
	};
	const char *caf[1];
	char err[256];
	double raw_ver[MAX_ROUNDS], mod_ver[MAX_ROUNDS];
	int ch;
	unsigned r;
	size_t i;

	prog = "cms_speed";
	while ((ch = getopt(argc, argv, "t:r:n:")) != -1) {
		switch (ch) {
		case 't':
			secs = atof(optarg);
			if (secs <= 0)
				usage();
			break;
		case 'r':
			rounds = (unsigned)atoi(optarg);
			if (rounds == 0 || rounds > MAX_ROUNDS)
				usage();
			break;
		case 'n':
			inflight = (unsigned)atoi(optarg);
			if (inflight == 0)
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind + 1 != argc)
		usage();
	dir = argv[optind];
	slice = secs / rounds;

	ca = read_cert("ca.crt");
	if ((chain = sk_X509_new_null()) == NULL || !sk_X509_push(chain, ca) ||
	    (store = X509_STORE_new()) == NULL ||
	    X509_STORE_add_cert(store, ca) != 1)
		die("CA store");
	sig = slurp(path("sig.der"), &sig_len);
	sdata = slurp(path("signed.txt"), &sdata_len);
	caf[0] = path("ca.crt");
	if ((vkeys = cms_keys_load(NULL, NULL, 0, caf, 1, NULL, 0, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "cms_speed: cms_keys_load: %s\n", err);
		exit(1);
	}
	for (i = 0; i < 2; i++)
		load_kind(&kinds[i]);

	printf("cms_speed: %.1f s per figure in %u interleaved rounds; "
	    "stage: 1 worker, %u in flight\n%s\n", secs, rounds, inflight,
	    OpenSSL_version(OPENSSL_VERSION));
	fflush(stdout);
	/* Round-robin, so that slow moments of a shared machine hit every
	 * figure alike; medians over the rounds. */
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < 2; i++) {
			struct kind *k = &kinds[i];

			k->raw_dec[r] = measure(raw_decrypt, k, "raw decrypt");
			k->mod_dec[r] = measure(mod_decrypt, k, "cms_decrypt");
			k->stage_dec[r] = stage_measure(k, r);
		}
		raw_ver[r] = measure(raw_verify, NULL, "raw verify");
		mod_ver[r] = measure(mod_verify, NULL, "cms_verify");
		for (i = 0; i < 2; i++) {
			struct kind *k = &kinds[i];

			k->raw_sign[r] = measure(raw_sign, k, "raw sign");
			k->mod_sign[r] = measure(mod_sign, k, "cms_sign");
		}
	}

	printf("\n%-46s %9s   %s\n", "operation", "ops/s", "[min..max]");
	for (i = 0; i < 2; i++) {
		struct kind *k = &kinds[i];

		row("raw    d2i + CMS_decrypt", k->name, k->raw_dec);
		row("module cms_decrypt", k->name, k->mod_dec);
		row("stage  labelled INVITE body", k->name, k->stage_dec);
	}
	row("raw    d2i + CMS_verify (detached, CA store)", NULL, raw_ver);
	row("module cms_verify (detached)", NULL, mod_ver);
	for (i = 0; i < 2; i++) {
		struct kind *k = &kinds[i];

		row("raw    CMS_sign detached", k->name, k->raw_sign);
		row("module cms_sign detached", k->name, k->mod_sign);
	}
	printf("\n%-46s %9s   %s\n", "ratio (median of per-round ratios)", "",
	    "[min..max]");
	for (i = 0; i < 2; i++) {
		struct kind *k = &kinds[i];

		ratio("stage / raw decrypt", k->name, k->stage_dec, k->raw_dec);
		ratio("module / raw decrypt", k->name, k->mod_dec, k->raw_dec);
	}
	ratio("module / raw verify", "EC P-256 signer", mod_ver, raw_ver);
	for (i = 0; i < 2; i++) {
		struct kind *k = &kinds[i];

		ratio("module / raw sign", k->name, k->mod_sign, k->raw_sign);
	}
	printf("\n%-46s %9s   %s\n", "stage threads (median)", "",
	    "[min..max]");
	for (i = 0; i < 2; i++) {
		struct kind *k = &kinds[i];
		double us_per_op[MAX_ROUNDS];

		for (r = 0; r < rounds; r++)
			us_per_op[r] = k->worker_busy[r] * 1e6 /
			    k->stage_dec[r];
		printf("%-46s %8.0f%%   [%.0f..%.0f]\n", k->name[0] == 'E' ?
		    "worker CPU / wall, EC P-256" : "worker CPU / wall, RSA-2048",
		    median(k->worker_busy, rounds) * 100,
		    min_of(k->worker_busy) * 100, max_of(k->worker_busy) * 100);
		printf("%-46s %9.0f   [%.0f..%.0f]\n", k->name[0] == 'E' ?
		    "worker CPU us per opening, EC P-256" :
		    "worker CPU us per opening, RSA-2048",
		    median(us_per_op, rounds), min_of(us_per_op),
		    max_of(us_per_op));
		printf("%-46s %9.0f   [%.0f..%.0f]\n", k->name[0] == 'E' ?
		    "loop CPU us per opening, EC P-256" :
		    "loop CPU us per opening, RSA-2048",
		    median(k->loop_us, rounds), min_of(k->loop_us),
		    max_of(k->loop_us));
	}
	return 0;
}
