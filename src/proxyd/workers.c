/*
 * workers.c - thread pool with a bounded queue; completions go back to the
 * loop through one libevent event made active from the worker thread (the
 * loop runs with evthread_use_pthreads()).
 */
#include "proxyd/workers.h"

#include <pthread.h>
#include <stdlib.h>

#include <event2/event.h>

#include "common/log.h"

/*
 * One activation drains the whole done list. With jobs still waiting for a
 * thread the pool is saturated, and waking the loop per completion (a
 * system call here, an interrupt to another CPU, the loop's own wake-up)
 * cost the decrypt stage ~7 % of its throughput and half the loop's time
 * per completion (bench/cms_speed.sh). So while jobs wait, the loop is
 * woken once per WAKE_BATCH completions, or when the queue runs dry: a
 * finished job waits at most for WAKE_BATCH - 1 others, and only under
 * saturation, where the queue delays it more anyway.
 */
#define WAKE_BATCH 8

struct job {
	struct job *next;
	workers_work_fn *work;
	workers_done_fn *done;
	void *arg;
	int ran;
};

struct jobq {
	struct job *head, *tail;
	unsigned len;
};

struct workers {
	struct loop *loop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct jobq waiting;   /* waiting for a thread */
	struct jobq done;   /* finished, waiting for the loop */
	int woken;          /* the loop is woken for done, not yet drained */
	unsigned queue_max;
	int stopping;
	pthread_t *threads;
	unsigned nthreads;
	struct event *ev_done;
};

static void
q_push(struct jobq *q, struct job *j)
{
	j->next = NULL;
	if (q->tail != NULL)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
	q->len++;
}

static struct job *
q_pop(struct jobq *q)
{
	struct job *j = q->head;

	if (j == NULL)
		return NULL;
	q->head = j->next;
	if (q->head == NULL)
		q->tail = NULL;
	q->len--;
	return j;
}

static void *
worker_main(void *arg)
{
	struct workers *w = arg;
	struct job *j;
	int wake;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (w->waiting.head == NULL && !w->stopping)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->stopping)
			break;
		j = q_pop(&w->waiting);
		pthread_mutex_unlock(&w->mu);
		j->work(j->arg);
		j->ran = 1;
		pthread_mutex_lock(&w->mu);
		q_push(&w->done, j);
		wake = !w->woken && (w->waiting.head == NULL ||
		    w->done.len >= WAKE_BATCH);
		if (wake) {
			w->woken = 1;
			/* Waking the loop is a system call: not under the
			 * lock the loop needs to take the batch. */
			pthread_mutex_unlock(&w->mu);
			event_active(w->ev_done, EV_READ, 0);
			pthread_mutex_lock(&w->mu);
		}
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static void
run_done(struct jobq *q)
{
	struct job *j;

	while ((j = q_pop(q)) != NULL) {
		j->done(j->arg, j->ran);
		free(j);
	}
}

static void
done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct workers *w = arg;
	struct jobq batch;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&w->mu);
	batch = w->done;
	w->done.head = w->done.tail = NULL;
	w->done.len = 0;
	w->woken = 0;
	pthread_mutex_unlock(&w->mu);
	run_done(&batch);
	/* Completions usually answer or forward through Sofia. */
	loop_kick(w->loop);
}

struct workers *
workers_new(struct loop *l, unsigned nthreads, unsigned queue_max)
{
	struct workers *w;

	if (nthreads == 0 || (w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->loop = l;
	w->queue_max = queue_max;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	w->ev_done = event_new(loop_base(l), -1, 0, done_cb, w);
	w->threads = calloc(nthreads, sizeof(*w->threads));
	if (w->ev_done == NULL || w->threads == NULL)
		goto fail;
	for (; w->nthreads < nthreads; w->nthreads++) {
		if (pthread_create(&w->threads[w->nthreads], NULL, worker_main,
		    w) != 0) {
			log_warnx("cannot start crypto worker thread %u",
			    w->nthreads);
			goto fail;
		}
	}
	return w;
fail:
	workers_free(w);
	return NULL;
}

int
workers_submit(struct workers *w, workers_work_fn *work,
    workers_done_fn *done, void *arg)
{
	struct job *j;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		return -1;
	j->work = work;
	j->done = done;
	j->arg = arg;
	pthread_mutex_lock(&w->mu);
	if (w->waiting.len >= w->queue_max || w->stopping) {
		pthread_mutex_unlock(&w->mu);
		free(j);
		return -1;
	}
	q_push(&w->waiting, j);
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return 0;
}

unsigned
workers_queued(struct workers *w)
{
	unsigned n;

	pthread_mutex_lock(&w->mu);
	n = w->waiting.len;
	pthread_mutex_unlock(&w->mu);
	return n;
}

void
workers_free(struct workers *w)
{
	unsigned i;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stopping = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	for (i = 0; i < w->nthreads; i++)
		pthread_join(w->threads[i], NULL);
	/* No thread runs now: finish what finished, cancel what waited. */
	run_done(&w->done);
	run_done(&w->waiting);
	if (w->ev_done != NULL)
		event_free(w->ev_done);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w->threads);
	free(w);
}
