/*
 * archwriter.h - the IM archive's durable writer: records are appended to
 * the archive file by a thread of its own, many per write() and
 * fdatasync() (group commit), and each record's completion comes back on
 * the caller's thread, through a descriptor its event loop watches.
 *
 * Why: the proxy forwards a MESSAGE only once its record is on disk, and
 * its event loop must never wait for the disk. Usage on the loop:
 *
 *   w = archwriter_new(&conf, err, sizeof(err));
 *   watch archwriter_fd(w) for reading; when readable: archwriter_collect(w)
 *   archwriter_submit(w, line, len, done, arg): 0, and done(arg, durable)
 *       comes later from archwriter_collect(); -1: refused at once (answer
 *       the request with an error: nothing was archived)
 *   on SIGUSR1 (logrotate): archwriter_reopen(w)
 *   archwriter_stop(w), then archwriter_free(w) at exit
 *
 * The file is opened O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, created
 * with mode 0600, never truncated: what it held stays. One writer per file:
 * two processes appending to one archive would break the rollback of a
 * failed batch (archwriter.c).
 */
#ifndef ARCHWRITER_H
#define ARCHWRITER_H

#include <stddef.h>

struct archwriter;

struct archwriter_conf {
	const char *path;       /* the archive file, absolute; ignored with
	                           use_syslog */
	int use_syslog;         /* records go to syslog(3) instead: NO
	                           durability (done says 1 once syslog()
	                           returned; the syslog daemon may drop or
	                           cut them: rsyslog's default limit is 8 KiB
	                           a message) */
	int syslog_facility;    /* LOG_LOCAL0 ..., with use_syslog */
	unsigned max_wait_ms;   /* a batch waits at most this long for more
	                           records, counted from its oldest record's
	                           submission; 0: 5 */
	unsigned max_batch;     /* records per write and fdatasync at most;
	                           0: 256 */
	unsigned queue_max;     /* records waiting at most, beyond them
	                           submit refuses; 0: 4096 */
	unsigned long long rotate_bytes; /* > 0: before a batch that would
	                           take the file past this size, path becomes
	                           path.1 (path.1 path.2 ...) and a new path is
	                           started; 0: no rotation here (logrotate) */
	unsigned rotate_keep;   /* rotated files kept, path.1 .. path.N; 0: 1 */
};

/*
 * durable 1: the record is in the file, written and fdatasync'd (with
 * use_syslog: handed to syslog()). 0: it is not in the file (the batch
 * failed: no space, I/O error, file not openable); no part of it is.
 */
typedef void archwriter_done_fn(void *arg, int durable);

/*
 * Opens (creates) the file at once, so that a path that cannot be
 * written is an error here: NULL with the reason in err ("cannot open
 * archive /x/y: Permission denied"). Starts the writer thread.
 */
struct archwriter *archwriter_new(const struct archwriter_conf *c, char *err,
    size_t errsz);
/* Readable while completions wait for archwriter_collect(). */
int archwriter_fd(const struct archwriter *w);
/*
 * Queue one record: len bytes, one line ending in "\n" and holding no
 * other "\n" (archive.c makes such lines). The bytes are copied. 0:
 * queued, done(arg, durable) will be called exactly once, from
 * archwriter_collect() or archwriter_free(). -1: refused (queue full,
 * writer stopping, not a single line, out of memory); done is not called.
 * Call from one thread (the loop's).
 */
int archwriter_submit(struct archwriter *w, const void *rec, size_t len,
    archwriter_done_fn *done, void *arg);
/* On the caller's thread: done() of every finished record, in submit
 * order. Never blocks. */
void archwriter_collect(struct archwriter *w);
/* Reopen the path before the next batch (after logrotate moved it). */
void archwriter_reopen(struct archwriter *w);

struct archwriter_stats {
	unsigned long long records;  /* written durably */
	unsigned long long batches;  /* written durably (fdatasync calls) */
	unsigned long long failures; /* records reported not durable */
	unsigned long long bytes;    /* written durably */
	unsigned queued;             /* waiting for the writer now */
	int healthy;                 /* 1: the last batch (or the opening)
	                                succeeded */
};
void archwriter_stats(const struct archwriter *w, struct archwriter_stats *s);
/*
 * Write what is queued (without waiting for more), stop the thread, then
 * call every done() still pending, on the caller's thread. Records
 * submitted after are written at once by archwriter_submit() itself (the
 * daemon's last moments, when the loop has stopped: the graceful stop's
 * final records), their done() from archwriter_free(). NULL is fine.
 */
void archwriter_stop(struct archwriter *w);
/* archwriter_stop(), then done() of what was written after it, close. */
void archwriter_free(struct archwriter *w);

#endif /* ARCHWRITER_H */
