/* nftset.c - the pinhole back ends' queue and thread, off the event loop. */
#include "services/nftset_private.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEFAULT_QUEUE 4096
#define DEFAULT_EXEC_TIMEOUT_MS 5000

struct nftset {
	struct nftset_conf c; /* strings point into the copies below */
	char *family, *table, *set4, *set6, *program;
	struct nft_ctx *nft;
	int efd;
	pthread_t thread;
	int started;

	pthread_mutex_t mu;
	pthread_cond_t work;  /* something queued, or stopping */
	pthread_cond_t idle;  /* a round finished */
	struct nftset_change *q, *batch; /* queue_max each */
	size_t nq, inflight;
	int stopping;
	unsigned failed;      /* since the last collect */
	char error[NFTSET_ERRSZ];
	/* the loop thread's: what nftset_collect() returned */
	char reported[NFTSET_ERRSZ];
};

const char *
nftset_op_name(enum nftset_op op)
{
	return op == NFTSET_OP_ADD ? "add" :
	    op == NFTSET_OP_DEL ? "del" : "refresh";
}

const char *
nftset_proto_name(int proto)
{
	return proto == IPPROTO_UDP ? "udp" :
	    proto == IPPROTO_TCP ? "tcp" : NULL;
}

const char *
nftset_set_of(const struct nftset_conf *c, int family)
{
	return family == AF_INET ? c->set4 : family == AF_INET6 ? c->set6 :
	    NULL;
}

void
nftset_fail(struct nftset_result *r, const char *fmt, ...)
{
	va_list ap;

	r->failed++;
	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
}

/* --- settings */

/* An nft identifier we accept: a letter, then letters, digits and '_'
 * (nothing that could end a command in the text given to libnftables). */
static int
identifier(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0' || strlen(s) > 63 ||
	    !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return 0;
	for (i = 1; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

static const char *
check_conf(const struct nftset_conf *c)
{
	static const char *const families[] = { "inet", "ip", "ip6",
		"bridge", "netdev" };
	size_t i;

	if (c->backend != NFTSET_NFT && c->backend != NFTSET_EXEC)
		return "unknown back end";
	if (c->timeout_s == 0 || c->timeout_s > 86400)
		return "timeout must be 1..86400 seconds";
	if (c->backend == NFTSET_NFT && c->set4 == NULL && c->set6 == NULL)
		return "neither an IPv4 nor an IPv6 set";
	if ((c->set4 != NULL && !identifier(c->set4)) ||
	    (c->set6 != NULL && !identifier(c->set6)))
		return "a set name is not a plain nft identifier";
	if (c->backend == NFTSET_EXEC)
		return c->program != NULL && c->program[0] == '/' ? NULL :
		    "the program must be an absolute path";
	if (!identifier(c->table))
		return "the table name is not a plain nft identifier";
	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		if (c->family != NULL && strcmp(c->family, families[i]) == 0)
			return NULL;
	return "unknown nft family";
}

static int
dup_opt(char **dst, const char **field, const char *src)
{
	*dst = NULL;
	if (src != NULL && (*dst = strdup(src)) == NULL)
		return -1;
	*field = *dst;
	return 0;
}

/* The settings, with copies of the strings. */
static int
copy_conf(struct nftset *s, const struct nftset_conf *c)
{
	s->c = *c;
	if (s->c.queue_max == 0)
		s->c.queue_max = DEFAULT_QUEUE;
	if (s->c.exec_timeout_ms == 0)
		s->c.exec_timeout_ms = DEFAULT_EXEC_TIMEOUT_MS;
	return dup_opt(&s->family, &s->c.family, c->family) ||
	    dup_opt(&s->table, &s->c.table, c->table) ||
	    dup_opt(&s->set4, &s->c.set4, c->set4) ||
	    dup_opt(&s->set6, &s->c.set6, c->set6) ||
	    dup_opt(&s->program, &s->c.program, c->program) ? -1 : 0;
}

/* --- the thread */

static void
apply(struct nftset *s, const struct nftset_change *ch, size_t n,
    struct nftset_result *r)
{
	if (s->c.backend == NFTSET_NFT)
		nftset_nft_apply(s->nft, &s->c, ch, n, r);
	else
		nftset_exec_apply(&s->c, ch, n, r);
}

static void
wake_loop(struct nftset *s)
{
	uint64_t one = 1;

	/* The counter only saturates after 2^64 - 2 rounds: cannot fail. */
	(void)!write(s->efd, &one, sizeof(one));
}

static void *
thread_main(void *arg)
{
	struct nftset *s = arg;
	struct nftset_change *tmp;
	struct nftset_result r;
	size_t n;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (s->nq == 0 && !s->stopping)
			pthread_cond_wait(&s->work, &s->mu);
		if (s->nq == 0)
			break; /* stopping, and everything applied */
		tmp = s->batch;
		s->batch = s->q;
		s->q = tmp;
		n = s->inflight = s->nq;
		s->nq = 0;
		pthread_mutex_unlock(&s->mu);

		memset(&r, 0, sizeof(r));
		apply(s, s->batch, n, &r);

		pthread_mutex_lock(&s->mu);
		s->inflight = 0;
		if (r.failed > 0) {
			s->failed += r.failed;
			memcpy(s->error, r.error, sizeof(s->error));
		}
		pthread_cond_broadcast(&s->idle);
		/* a system call: not under the lock the loop needs */
		pthread_mutex_unlock(&s->mu);
		wake_loop(s);
		pthread_mutex_lock(&s->mu);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* The thread with every signal blocked: they are the loop thread's. */
static int
start_thread(struct nftset *s)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&s->thread, NULL, thread_main, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return -1;
	s->started = 1;
	return 0;
}

/* --- the interface */

static struct nftset *
alloc_set(const struct nftset_conf *c)
{
	struct nftset *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->efd = -1;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->work, NULL);
	pthread_cond_init(&s->idle, NULL);
	if (copy_conf(s, c) != 0 ||
	    (s->q = calloc(s->c.queue_max, sizeof(*s->q))) == NULL ||
	    (s->batch = calloc(s->c.queue_max, sizeof(*s->batch))) == NULL ||
	    (s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		nftset_free(s);
		return NULL;
	}
	return s;
}

struct nftset *
nftset_new(const struct nftset_conf *c, char *err, size_t errsz)
{
	const char *why;
	struct nftset *s;

	if ((why = check_conf(c)) != NULL) {
		snprintf(err, errsz, "%s", why);
		return NULL;
	}
	if ((s = alloc_set(c)) == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	if (s->c.backend == NFTSET_NFT) {
		if ((s->nft = nftset_nft_open(&s->c, err, errsz)) == NULL)
			goto fail;
	} else if (nftset_exec_check(&s->c, err, errsz) != 0)
		goto fail;
	if (start_thread(s) != 0) {
		snprintf(err, errsz, "cannot start the back-end thread");
		goto fail;
	}
	return s;
fail:
	nftset_free(s);
	return NULL;
}

int
nftset_fd(const struct nftset *s)
{
	return s->efd;
}

static int
queue(struct nftset *s, enum nftset_op op, const struct pinhole_hole *h)
{
	int wake;

	pthread_mutex_lock(&s->mu);
	if (s->nq == s->c.queue_max || s->stopping) {
		pthread_mutex_unlock(&s->mu);
		return -1;
	}
	s->q[s->nq].op = op;
	s->q[s->nq].h = *h;
	wake = s->nq++ == 0;
	pthread_mutex_unlock(&s->mu);
	if (wake)
		pthread_cond_signal(&s->work);
	return 0;
}

int
nftset_add(struct nftset *s, const struct pinhole_hole *h)
{
	return queue(s, NFTSET_OP_ADD, h);
}

int
nftset_del(struct nftset *s, const struct pinhole_hole *h)
{
	return queue(s, NFTSET_OP_DEL, h);
}

int
nftset_refresh(struct nftset *s, const struct pinhole_hole *h)
{
	return queue(s, NFTSET_OP_REFRESH, h);
}

void
nftset_collect(struct nftset *s, unsigned *failed, const char **last_error)
{
	uint64_t v;

	(void)!read(s->efd, &v, sizeof(v)); /* EAGAIN: nothing to clear */
	pthread_mutex_lock(&s->mu);
	*failed = s->failed;
	memcpy(s->reported, s->error, sizeof(s->reported));
	s->failed = 0;
	s->error[0] = '\0';
	pthread_mutex_unlock(&s->mu);
	*last_error = *failed > 0 ? s->reported : NULL;
}

unsigned
nftset_pending(struct nftset *s)
{
	size_t n;

	pthread_mutex_lock(&s->mu);
	n = s->nq + s->inflight;
	pthread_mutex_unlock(&s->mu);
	return (unsigned)n;
}

void
nftset_flush(struct nftset *s)
{
	pthread_mutex_lock(&s->mu);
	while (s->started && s->nq + s->inflight > 0)
		pthread_cond_wait(&s->idle, &s->mu);
	pthread_mutex_unlock(&s->mu);
}

void
nftset_free(struct nftset *s)
{
	if (s == NULL)
		return;
	if (s->started) {
		pthread_mutex_lock(&s->mu);
		s->stopping = 1;
		pthread_mutex_unlock(&s->mu);
		pthread_cond_signal(&s->work);
		pthread_join(s->thread, NULL);
	}
	if (s->nft != NULL)
		nftset_nft_close(s->nft);
	if (s->efd >= 0)
		close(s->efd);
	pthread_cond_destroy(&s->idle);
	pthread_cond_destroy(&s->work);
	pthread_mutex_destroy(&s->mu);
	free(s->q);
	free(s->batch);
	free(s->family);
	free(s->table);
	free(s->set4);
	free(s->set6);
	free(s->program);
	free(s);
}
