/*
 * archwriter.c - the archive's writer thread: batches of records, one
 * writev() and one fdatasync() each, completions back through an eventfd
 * (see archwriter.h).
 */
#include "services/archwriter.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

#define DEFAULT_WAIT_MS 5
#define DEFAULT_BATCH 256
#define DEFAULT_QUEUE 4096

struct rec {
	struct rec *next;
	archwriter_done_fn *done;
	void *arg;
	uint64_t submitted;  /* monotonic ns: the batch's deadline */
	int durable;
	size_t len;
	char data[];
};

struct recq {
	struct rec *head, *tail;
	unsigned len;
};

struct archwriter {
	/* Fixed at creation. */
	char *path;
	int use_syslog, facility;
	unsigned max_wait_ms, max_batch, queue_max;
	unsigned long long rotate_bytes;
	unsigned rotate_keep;
	int efd;
	pthread_t thread;
	int started;
	int sync;               /* stopped: records written by submit itself */

	/* Shared, under mu. */
	pthread_mutex_t mu;
	pthread_cond_t cv;      /* the writer waits here for records */
	struct recq waiting;    /* submitted, not yet taken by the writer */
	struct recq finished;   /* written or failed, waiting for collect */
	int stopping, reopen;
	struct archwriter_stats st;

	/* The writer thread's own (and the creator's before it starts). */
	int fd;
	struct iovec *iov;      /* one a record of a batch */
	int rotate_failing;     /* rotation refused: logged once */
	char why[256];          /* what the last failure was */
};

static void
q_push(struct recq *q, struct rec *r)
{
	r->next = NULL;
	if (q->tail != NULL)
		q->tail->next = r;
	else
		q->head = r;
	q->tail = r;
	q->len++;
}

/* Append the whole of list b to list a. */
static void
q_join(struct recq *a, struct recq *b)
{
	if (b->head == NULL)
		return;
	if (a->tail != NULL)
		a->tail->next = b->head;
	else
		a->head = b->head;
	a->tail = b->tail;
	a->len += b->len;
	b->head = b->tail = NULL;
	b->len = 0;
}

/* The first n records of q, as a list of their own. */
static struct recq
q_take(struct recq *q, unsigned n)
{
	struct recq out = { q->head, q->head, 0 };

	if (q->head == NULL || n == 0)
		return (struct recq){ NULL, NULL, 0 };
	while (out.len + 1 < n && out.tail->next != NULL) {
		out.tail = out.tail->next;
		out.len++;
	}
	out.len++;
	q->head = out.tail->next;
	out.tail->next = NULL;
	if (q->head == NULL)
		q->tail = NULL;
	q->len -= out.len;
	return out;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * A new file's name is durable only once its directory is: fdatasync()
 * of the file does not cover the entry that names it (nor a rename).
 */
static int
sync_dir(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n = slash != NULL && slash != path ? (size_t)(slash - path) : 1;
	int fd, rc;

	if (n >= sizeof(dir))
		return -1;
	memcpy(dir, path, n);
	dir[n] = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* 1 when the file at path does not end in "\n" (a line left unfinished,
 * by a crash or by another program), 0 when it does or is empty. */
static int
partial_tail(const char *path, off_t size)
{
	char c = '\n';
	int fd;

	if (size == 0 || (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	if (pread(fd, &c, 1, size - 1) != 1)
		c = '\n';
	close(fd);
	return c != '\n';
}

static void
fail_why(struct archwriter *w, const char *what)
{
	snprintf(w->why, sizeof(w->why), "%s %s: %s", what, w->path,
	    strerror(errno));
}

/*
 * Open (create) the archive. A file left ending in a partial line gets a
 * "\n" first, so that our first record starts a line of its own (the
 * partial one stays, a line readers skip as malformed). -1 with w->why.
 */
static int
open_file(struct archwriter *w)
{
	struct stat st;
	int fd;

	fd = open(w->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd == -1) {
		fail_why(w, "cannot open archive");
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		fail_why(w, "cannot stat archive");
		close(fd);
		return -1;
	}
	/* ftruncate() and fdatasync() are what make a batch all or nothing:
	 * a FIFO or a device has neither. */
	if (!S_ISREG(st.st_mode)) {
		snprintf(w->why, sizeof(w->why),
		    "archive %s is not a regular file", w->path);
		close(fd);
		return -1;
	}
	if (sync_dir(w->path) == -1) {
		fail_why(w, "cannot sync the directory of archive");
		close(fd);
		return -1;
	}
	if (partial_tail(w->path, st.st_size) &&
	    (write(fd, "\n", 1) != 1 || fdatasync(fd) == -1)) {
		fail_why(w, "cannot end the last line of archive");
		close(fd);
		return -1;
	}
	w->fd = fd;
	return 0;
}

static void
close_file(struct archwriter *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
}

/* path.N for N > 0, path itself for 0. */
static void
rotated_name(char *out, size_t outsz, const char *path, unsigned n)
{
	if (n == 0)
		snprintf(out, outsz, "%s", path);
	else
		snprintf(out, outsz, "%s.%u", path, n);
}

/*
 * path.(N-1) -> path.N ... path -> path.1, then a new path. A rename that
 * fails (but for a missing older file) leaves the chain alone: writing
 * goes on in the current file, too big rather than lost.
 */
static void
rotate(struct archwriter *w)
{
	char from[PATH_MAX], to[PATH_MAX];
	unsigned i;

	for (i = w->rotate_keep; i > 0; i--) {
		rotated_name(from, sizeof(from), w->path, i - 1);
		rotated_name(to, sizeof(to), w->path, i);
		if (rename(from, to) == 0 || errno == ENOENT)
			continue;
		if (!w->rotate_failing)
			log_warn("archive: cannot rotate %s to %s", from, to);
		w->rotate_failing = 1;
		return;
	}
	w->rotate_failing = 0;
	close_file(w); /* the next open makes a new path */
}

/* Every byte of iov[0..n), going on after short writes. */
static int
write_all(int fd, struct iovec *iov, size_t n)
{
	ssize_t k;

	while (n > 0) {
		k = writev(fd, iov, n < IOV_MAX ? (int)n : IOV_MAX);
		if (k == -1 && errno == EINTR)
			continue;
		if (k <= 0) {
			if (k == 0)
				errno = EIO;
			return -1;
		}
		while (n > 0 && (size_t)k >= iov->iov_len) {
			k -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + k;
			iov->iov_len -= (size_t)k;
		}
	}
	return 0;
}

static int
sync_file(int fd)
{
	int rc;

	while ((rc = fdatasync(fd)) == -1 && errno == EINTR)
		;
	return rc;
}

/*
 * A batch that failed leaves no part of itself before the records that
 * follow: the file is cut back to the size it had before the batch. With
 * O_APPEND and one writer the bytes past that size are ours, a record cut
 * short by ENOSPC or written but not synced; so we only ever cut our own
 * bytes, and never grow a file someone else shortened (copytruncate).
 * If the cut fails, the reopen before the next batch sees the partial
 * line and ends it with "\n" (open_file). Either way the descriptor is
 * dropped: a fresh one does not carry the failed writeback's error, and
 * a file that vanished is made again.
 */
static void
roll_back(struct archwriter *w, off_t before)
{
	struct stat st;
	int saved = errno;

	/* A failed cut is handled at the reopen (above). */
	if (fstat(w->fd, &st) == 0 && st.st_size > before &&
	    ftruncate(w->fd, before) == -1)
		errno = saved;
	close_file(w);
	errno = saved;
}

/* One batch into the file: 0, or -1 with w->why. */
static int
write_batch(struct archwriter *w, struct recq *b, size_t bytes, int reopen)
{
	struct stat st;
	struct rec *r;
	size_t n = 0;

	if (reopen)
		close_file(w);
	if (w->fd < 0 && open_file(w) == -1)
		return -1;
	if (fstat(w->fd, &st) == -1) {
		fail_why(w, "cannot stat archive");
		close_file(w);
		return -1;
	}
	if (w->rotate_bytes > 0 && st.st_size > 0 &&
	    (unsigned long long)st.st_size + bytes > w->rotate_bytes) {
		rotate(w);
		if (w->fd < 0 && open_file(w) == -1)
			return -1;
		if (fstat(w->fd, &st) == -1) {
			fail_why(w, "cannot stat archive");
			close_file(w);
			return -1;
		}
	}
	for (r = b->head; r != NULL; r = r->next) {
		w->iov[n].iov_base = r->data;
		w->iov[n++].iov_len = r->len;
	}
	if (write_all(w->fd, w->iov, n) == -1) {
		fail_why(w, "cannot write archive");
		roll_back(w, st.st_size);
		return -1;
	}
	if (sync_file(w->fd) == -1) {
		fail_why(w, "cannot fdatasync archive");
		roll_back(w, st.st_size);
		return -1;
	}
	return 0;
}

/* syslog(3) mode: a line each, without its "\n". Never fails. */
static void
syslog_batch(struct archwriter *w, struct recq *b)
{
	struct rec *r;

	for (r = b->head; r != NULL; r = r->next)
		syslog(w->facility | LOG_INFO, "%.*s", (int)(r->len - 1),
		    r->data);
}

/* Wait for more records until the batch is full or its oldest record has
 * waited max_wait_ms (it may have waited already, behind the last batch). */
static void
gather(struct archwriter *w)
{
	uint64_t deadline = w->waiting.head->submitted +
	    (uint64_t)w->max_wait_ms * 1000000u;
	struct timespec ts = { (time_t)(deadline / 1000000000u),
		(long)(deadline % 1000000000u) };

	while (!w->stopping && w->waiting.len < w->max_batch &&
	    now_ns() < deadline)
		pthread_cond_timedwait(&w->cv, &w->mu, &ts);
}

static void
finish_batch(struct archwriter *w, struct recq *b, size_t bytes, int ok)
{
	struct rec *r;
	int wake, changed;

	for (r = b->head; r != NULL; r = r->next)
		r->durable = ok;
	pthread_mutex_lock(&w->mu);
	changed = ok != w->st.healthy;
	w->st.healthy = ok;
	if (ok) {
		w->st.records += b->len;
		w->st.batches++;
		w->st.bytes += bytes;
	} else
		w->st.failures += b->len;
	/* One wakeup drains the whole list: only the first record needs
	 * to make the descriptor readable. */
	wake = w->finished.head == NULL;
	q_join(&w->finished, b);
	pthread_mutex_unlock(&w->mu);
	if (wake)
		(void)eventfd_write(w->efd, 1);
	/* The changes only (a full disk would log every batch), and not
	 * under the lock submit takes. */
	if (changed && ok)
		log_notice("archive %s: writing again", w->path);
	else if (changed)
		log_error("archive: %s; records are reported not archived "
		    "until a batch succeeds", w->why);
}

/* Write one batch taken off the queue, then hand it to finished. */
static void
run_batch(struct archwriter *w, struct recq *b, int reopen)
{
	struct rec *r;
	size_t bytes;
	int ok = 1;

	for (bytes = 0, r = b->head; r != NULL; r = r->next)
		bytes += r->len;
	if (w->use_syslog)
		syslog_batch(w, b);
	else
		ok = write_batch(w, b, bytes, reopen) == 0;
	finish_batch(w, b, bytes, ok);
}

static void *
writer_main(void *arg)
{
	struct archwriter *w = arg;
	struct recq b;
	int reopen;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (w->waiting.head == NULL && !w->stopping)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->waiting.head == NULL)
			break; /* stopping, and everything written */
		gather(w);
		b = q_take(&w->waiting, w->max_batch);
		reopen = w->reopen;
		w->reopen = 0;
		pthread_mutex_unlock(&w->mu);
		run_batch(w, &b, reopen);
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static int
start_thread(struct archwriter *w)
{
	sigset_t all, old;
	int rc;

	/* Signals are the event loop's business: none is delivered here. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&w->thread, NULL, writer_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	w->started = rc == 0;
	return rc == 0 ? 0 : -1;
}

static int
init_sync(struct archwriter *w)
{
	pthread_condattr_t ca;

	/* Batch deadlines on the monotonic clock: a clock step must not
	 * hold records back. */
	if (pthread_condattr_init(&ca) != 0)
		return -1;
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&w->mu, NULL);
	return 0;
}

static void
configure(struct archwriter *w, const struct archwriter_conf *c)
{
	w->use_syslog = c->use_syslog;
	w->facility = c->syslog_facility;
	w->max_wait_ms = c->max_wait_ms ? c->max_wait_ms : DEFAULT_WAIT_MS;
	w->max_batch = c->max_batch ? c->max_batch : DEFAULT_BATCH;
	w->queue_max = c->queue_max ? c->queue_max : DEFAULT_QUEUE;
	w->rotate_bytes = c->rotate_bytes;
	w->rotate_keep = c->rotate_keep ? c->rotate_keep : 1;
	w->fd = -1;
	w->efd = -1;
}

struct archwriter *
archwriter_new(const struct archwriter_conf *c, char *err, size_t errsz)
{
	struct archwriter *w;
	const char *why = NULL;

	if (!c->use_syslog && (c->path == NULL || c->path[0] != '/')) {
		snprintf(err, errsz, "archive path must be absolute: %s",
		    c->path != NULL ? c->path : "(none)");
		return NULL;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (w->path = strdup(c->use_syslog ? "syslog" : c->path)) == NULL) {
		free(w);
		snprintf(err, errsz, "archive: out of memory");
		return NULL;
	}
	configure(w, c);
	if (init_sync(w) == -1 || (w->iov = calloc(w->max_batch,
	    sizeof(*w->iov))) == NULL)
		why = "out of memory";
	else if ((w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		why = "cannot make an eventfd";
	else if (!w->use_syslog && open_file(w) == -1)
		why = w->why;
	else {
		w->st.healthy = 1; /* before the thread may read it */
		if (start_thread(w) == -1)
			why = "cannot start the writer thread";
	}
	if (why != NULL) {
		snprintf(err, errsz, "%s", why);
		archwriter_free(w);
		return NULL;
	}
	return w;
}

int
archwriter_fd(const struct archwriter *w)
{
	return w->efd;
}

int
archwriter_submit(struct archwriter *w, const void *rec, size_t len,
    archwriter_done_fn *done, void *arg)
{
	const char *nl;
	struct rec *r;

	/* One line, ended: a failed batch is cut back by whole lines. */
	if (len == 0 || (nl = memchr(rec, '\n', len)) == NULL ||
	    (size_t)(nl - (const char *)rec) != len - 1 ||
	    (r = malloc(sizeof(*r) + len)) == NULL)
		return -1;
	memcpy(r->data, rec, len);
	r->len = len;
	r->done = done;
	r->arg = arg;
	r->durable = 0;
	r->submitted = now_ns();
	if (w->sync) {
		/* No thread any more: written now, done() from free(). */
		struct recq b = { NULL, NULL, 0 };

		q_push(&b, r);
		run_batch(w, &b, 0);
		return 0;
	}
	pthread_mutex_lock(&w->mu);
	if (w->stopping || w->waiting.len >= w->queue_max) {
		pthread_mutex_unlock(&w->mu);
		free(r);
		return -1;
	}
	q_push(&w->waiting, r);
	/* The writer sleeps until the first record, then until the batch
	 * is full (or its deadline): only those two need a signal. */
	if (w->waiting.len == 1 || w->waiting.len == w->max_batch)
		pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return 0;
}

static void
run_done(struct recq *q)
{
	struct rec *r, *next;

	for (r = q->head; r != NULL; r = next) {
		next = r->next;
		r->done(r->arg, r->durable);
		free(r);
	}
	q->head = q->tail = NULL;
	q->len = 0;
}

void
archwriter_collect(struct archwriter *w)
{
	struct recq b = { NULL, NULL, 0 };
	eventfd_t v;

	/* Reset the descriptor first: a batch finishing after we took the
	 * list makes it readable again. */
	(void)eventfd_read(w->efd, &v);
	pthread_mutex_lock(&w->mu);
	q_join(&b, &w->finished);
	pthread_mutex_unlock(&w->mu);
	run_done(&b);
}

void
archwriter_reopen(struct archwriter *w)
{
	pthread_mutex_lock(&w->mu);
	w->reopen = 1;
	pthread_mutex_unlock(&w->mu);
}

void
archwriter_stats(const struct archwriter *w, struct archwriter_stats *s)
{
	/* The lock is not part of the writer's value: stats take a const. */
	pthread_mutex_t *mu = (pthread_mutex_t *)&w->mu;

	pthread_mutex_lock(mu);
	*s = w->st;
	s->queued = w->waiting.len;
	pthread_mutex_unlock(mu);
}

void
archwriter_stop(struct archwriter *w)
{
	if (w == NULL || w->sync)
		return;
	if (w->started) {
		pthread_mutex_lock(&w->mu);
		w->stopping = 1;
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->thread, NULL);
		w->started = 0;
	}
	/* No thread now: what finished, then anything never taken. */
	run_done(&w->finished);
	run_done(&w->waiting);
	w->stopping = 0;
	w->sync = 1;
}

void
archwriter_free(struct archwriter *w)
{
	if (w == NULL)
		return;
	archwriter_stop(w);
	/* What was written after the stop. */
	run_done(&w->finished);
	close_file(w);
	if (w->efd >= 0)
		close(w->efd);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w->iov);
	free(w->path);
	free(w);
}
