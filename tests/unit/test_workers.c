/* test_workers.c - the worker pool: jobs off the loop, completions on it,
 * the queue bound, and stopping with jobs pending. */
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "proxyd/loop.h"
#include "t.h"
#include "proxyd/workers.h"

static pthread_t loop_thread;
static struct loop *L;
static atomic_int worked, off_loop;
static int done_count, done_on_loop, done_ran, want, first_done_saw;
static sem_t gate;

static void
work_count(void *arg)
{
	(void)arg;
	atomic_fetch_add(&worked, 1);
	if (!pthread_equal(pthread_self(), loop_thread))
		atomic_fetch_add(&off_loop, 1);
}

static void
work_block(void *arg)
{
	(void)arg;
	sem_wait(&gate);
}

/* A job of 1 ms: long enough for the loop to wake between two of them. */
static void
work_slow(void *arg)
{
	struct timespec ms = { 0, 1000000 };

	nanosleep(&ms, NULL);
	work_count(arg);
}

static void
done_count_fn(void *arg, int ran)
{
	(void)arg;
	if (done_count == 0)
		first_done_saw = atomic_load(&worked);
	done_count++;
	done_ran += ran;
	if (pthread_equal(pthread_self(), loop_thread))
		done_on_loop++;
	if (done_count == want)
		loop_break(L);
}

static void
reset(int n)
{
	atomic_store(&worked, 0);
	atomic_store(&off_loop, 0);
	done_count = done_on_loop = done_ran = 0;
	want = n;
}

int
main(void)
{
	struct workers *w;
	int i, rc, refused;

	log_init("test_workers");
	log_set_level(LOG_WARNING);
	loop_thread = pthread_self();
	sem_init(&gate, 0, 0);
	L = loop_new();
	T_OK(L != NULL, "loop created");

	w = workers_new(L, 2, 1000);
	T_OK(w != NULL, "pool of 2 threads");
	reset(200);
	for (i = 0, rc = 0; i < 200; i++)
		rc |= workers_submit(w, work_count, done_count_fn, NULL);
	T_EQ_INT(rc, 0, "200 jobs queued");
	loop_run(L);
	T_EQ_INT(atomic_load(&worked), 200, "every job ran");
	T_EQ_INT(atomic_load(&off_loop), 200, "every job ran off the loop thread");
	T_EQ_INT(done_count, 200, "every completion ran once");
	T_EQ_INT(done_on_loop, 200, "every completion ran on the loop thread");
	workers_free(w);

	/* One thread held by a blocking job: two may wait, the third is
	 * refused at once (the caller answers 503). */
	w = workers_new(L, 1, 2);
	reset(3);
	T_EQ_INT(workers_submit(w, work_block, done_count_fn, NULL), 0, "blocking job queued");
	while (workers_queued(w) != 0)
		sched_yield();
	T_EQ_INT(workers_submit(w, work_count, done_count_fn, NULL), 0, "first waiting job queued");
	T_EQ_INT(workers_submit(w, work_count, done_count_fn, NULL), 0, "second waiting job queued");
	refused = workers_submit(w, work_count, done_count_fn, NULL);
	T_EQ_INT(refused, -1, "a full queue refuses the job");
	T_EQ_INT(workers_queued(w), 2, "two jobs wait");
	sem_post(&gate);
	loop_run(L);
	T_EQ_INT(done_count, 3, "the refused job never completes; the others do");
	T_EQ_INT(done_ran, 3, "all three ran");
	workers_free(w);

	/* Saturated (jobs waiting for the thread), completions reach the
	 * loop in batches of 8, not one wake-up each; the last, short batch
	 * is delivered when the queue runs dry. */
	w = workers_new(L, 1, 100);
	reset(21);
	workers_submit(w, work_block, done_count_fn, NULL);
	while (workers_queued(w) != 0)
		sched_yield();
	for (i = 0; i < 20; i++)
		workers_submit(w, work_slow, done_count_fn, NULL);
	sem_post(&gate);
	loop_run(L);
	T_OK(first_done_saw >= 7, "saturated: the first completion waited "
	    "for a batch of 8 (the blocking job and 7 more)");
	T_EQ_INT(done_count, 21, "every completion ran, the last batch too");
	workers_free(w);

	/* Stopping with jobs waiting: each completion still runs once, and
	 * says whether its job ran. */
	w = workers_new(L, 1, 10);
	reset(-1);
	workers_submit(w, work_block, done_count_fn, NULL);
	while (workers_queued(w) != 0)
		sched_yield();
	for (i = 0; i < 3; i++)
		workers_submit(w, work_count, done_count_fn, NULL);
	sem_post(&gate);
	workers_free(w);
	T_EQ_INT(done_count, 4, "stopping: every completion ran once");
	T_EQ_INT(atomic_load(&worked) + 1, done_ran, "done() reports exactly the jobs that ran");
	T_OK(done_ran >= 1, "the running job finished");

	T_OK(workers_new(L, 0, 10) == NULL, "zero threads is refused");
	loop_free(L);
	sem_destroy(&gate);
	return t_done();
}
