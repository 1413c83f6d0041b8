/*
 * workers.h - a small pool of threads for work that must not run on the
 * event loop (private-key operations, signature checks). Jobs are queued
 * with a bound; each job's completion runs back on the loop thread.
 */
#ifndef WORKERS_H
#define WORKERS_H

#include "proxyd/loop.h"

struct workers;

/* Runs on a worker thread; must not touch Sofia or libevent. */
typedef void workers_work_fn(void *arg);
/* Runs on the loop thread after work: done 1, or 0 when the pool was
 * freed before the job ran (then work never ran). */
typedef void workers_done_fn(void *arg, int done);

/* nthreads >= 1; queue_max: jobs waiting (not running) at most. NULL on
 * failure. */
struct workers *workers_new(struct loop *l, unsigned nthreads,
    unsigned queue_max);
/*
 * Queue a job. 0: queued, done() will be called exactly once on the loop
 * thread. -1: the queue is full (or out of memory); nothing was queued and
 * neither function will be called: answer 503 Retry-After.
 */
int workers_submit(struct workers *w, workers_work_fn *work,
    workers_done_fn *done, void *arg);
/* Jobs waiting, for metrics and tests. */
unsigned workers_queued(struct workers *w);
/*
 * Stop: running jobs finish, waiting ones are not run; every done()
 * still pending is called (done = 1 or 0) before this returns. NULL is
 * fine. Call on the loop thread.
 */
void workers_free(struct workers *w);

#endif /* WORKERS_H */
