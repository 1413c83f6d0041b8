/*
 * svc_archive.h - the IM archive as the proxy feeds it (digest 6.3-6.4):
 * for each MESSAGE an active policy rule let through whose text the proxy
 * could read, one record (services/archive.h) made durable before the
 * MESSAGE is forwarded, and a short record with its final response. The
 * plaintext comes only from the inspection result and goes only to the
 * archive: no log line or counter carries any of it.
 */
#ifndef SVC_ARCHIVE_H
#define SVC_ARCHIVE_H

#include <stddef.h>

struct conf;
struct loop;
struct ptx;
struct svc_archive;

/* Checks that the archive can be opened (created, mode 0600); nothing is
 * started. NULL with err set. */
struct svc_archive *svc_archive_new(struct loop *l, const struct conf *c,
    char *err, size_t errsz);
/* The writer thread; after any fork. 0, or -1 with err set. */
int svc_archive_start(struct svc_archive *a, char *err, size_t errsz);
/* At exit, before the stop ends what is in flight: what was queued is
 * written and its callbacks run; what comes after is written at once.
 * NULL is fine. */
void svc_archive_stop(struct svc_archive *a);
/* svc_archive_stop(), then close. NULL is fine. */
void svc_archive_free(struct svc_archive *a);
/* SIGUSR1: reopen the file (logrotate moved it). */
void svc_archive_reopen(struct svc_archive *a);

/* Called with the request t and durable: 1 when its record is on disk, 0
 * when it could not be written (then the caller fails closed or open). */
typedef void svc_archive_done_fn(struct ptx *t, int durable);

/*
 * Archive t (a MESSAGE whose inspection is done) if it carries text the
 * proxy read: 1 when a record was queued (done() follows on the loop
 * thread), 0 when there is nothing to archive, -1 when the record could
 * not be queued (as a failed write).
 */
int svc_archive_message(struct svc_archive *a, struct ptx *t,
    svc_archive_done_fn *done);
/* The final response to an archived request; written in the background. */
void svc_archive_final(struct svc_archive *a, const struct ptx *t,
    int status);
/* Whether a failure forwards anyway (on_failure = "forward"). */
int svc_archive_fails_open(const struct svc_archive *a);
/* Records made durable and records that could not be written. */
void svc_archive_counts(const struct svc_archive *a, unsigned long long *written,
    unsigned long long *failed);

/* 1 when this MESSAGE (Call-ID, CSeq, From tag) was archived lately:
 * its second pass through the proxy in a spiral. */
int svc_archive_seen(const struct svc_archive *a, const struct ptx *t);

#endif /* SVC_ARCHIVE_H */
