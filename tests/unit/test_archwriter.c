/*
 * test_archwriter.c - the archive writer with real files and threads:
 * order, whole lines, mode, old content kept, durability before done(),
 * group commit, the queue bound, reopen, rotation, failed batches rolled
 * back (injected, and a really full tmpfs in a user + mount namespace),
 * paths that cannot be written, syslog mode, free() with records queued.
 *
 * fdatasync(), fsync(), writev(), ftruncate() and syslog() are
 * interposed here (the executable's definitions come before libc's):
 * they count, remember what was synced, and fail when told to.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "services/archwriter.h"
#include "t.h"

#define MAXREC 20000

/* ---- interposed system calls ---- */

static atomic_int syncs, dirsyncs, fail_syncs, fail_truncates, cuts;
static atomic_llong synced_size;
static atomic_long write_budget = -1; /* bytes writev may write; -1: all */
static char syslog_got[4096];
static int syslog_pri, syslog_n;

int
fdatasync(int fd)
{
	struct stat st;

	if (atomic_load(&fail_syncs) > 0) {
		atomic_fetch_sub(&fail_syncs, 1);
		errno = EIO;
		return -1;
	}
	if (syscall(SYS_fdatasync, fd) == -1)
		return -1;
	if (fstat(fd, &st) == 0)
		atomic_store(&synced_size, (long long)st.st_size);
	atomic_fetch_add(&syncs, 1);
	return 0;
}

int
fsync(int fd)
{
	atomic_fetch_add(&dirsyncs, 1);
	return (int)syscall(SYS_fsync, fd);
}

/* Counts the cuts that really removed bytes. */
int
ftruncate(int fd, off_t len)
{
	struct stat st;

	if (atomic_load(&fail_truncates) > 0) {
		atomic_fetch_sub(&fail_truncates, 1);
		errno = EIO;
		return -1;
	}
	if (fstat(fd, &st) == 0 && st.st_size > len)
		atomic_fetch_add(&cuts, 1);
	return (int)syscall(SYS_ftruncate, fd, len);
}

/* With a budget: as a full disk does, a short write, then ENOSPC. */
ssize_t
writev(int fd, const struct iovec *iov, int n)
{
	long budget = atomic_load(&write_budget);
	ssize_t done = 0, k;
	int i;

	if (budget < 0)
		return syscall(SYS_writev, fd, iov, n);
	if (budget == 0) {
		errno = ENOSPC;
		return -1;
	}
	for (i = 0; i < n && budget > 0; i++) {
		size_t len = iov[i].iov_len < (size_t)budget ? iov[i].iov_len :
		    (size_t)budget;

		if ((k = write(fd, iov[i].iov_base, len)) <= 0)
			break;
		done += k;
		budget -= k;
	}
	atomic_store(&write_budget, budget);
	return done;
}

void
syslog(int pri, const char *fmt, ...)
{
	size_t used = strlen(syslog_got);
	va_list ap;

	syslog_pri = pri;
	syslog_n++;
	va_start(ap, fmt);
	vsnprintf(syslog_got + used, sizeof(syslog_got) - used, fmt, ap);
	va_end(ap);
	strncat(syslog_got, "|", sizeof(syslog_got) - strlen(syslog_got) - 1);
}

/* ---- records and their completions ---- */

static pthread_t main_thread;
static char dir[] = "/tmp/test_archwriter.XXXXXX";

static struct {
	int n, durable, next, out_of_order, off_thread, early;
	int state[MAXREC];        /* -1 pending, 0 or 1: what done() said */
	long long end[MAXREC];    /* where the record ends in the file */
} tk;

static void
track_reset(void)
{
	memset(&tk, 0, sizeof(tk));
	memset(tk.state, 0xff, sizeof(tk.state));
}

static void
done_fn(void *arg, int durable)
{
	int i = (int)(intptr_t)arg;

	if (i != tk.next)
		tk.out_of_order++;
	tk.next = i + 1;
	if (!pthread_equal(pthread_self(), main_thread))
		tk.off_thread++;
	if (durable && tk.end[i] > atomic_load(&synced_size))
		tk.early++;
	tk.state[i] = durable;
	tk.n++;
	tk.durable += durable;
}

/* Record i: a line of exactly size bytes (size >= 16). */
static size_t
rec(char *out, int i, size_t size)
{
	int k = snprintf(out, size, "{\"i\":%06d,\"p\":\"", i);

	memset(out + k, 'a' + i % 26, size - (size_t)k - 3);
	memcpy(out + size - 3, "\"}\n", 3);
	return size;
}

static int
submit(struct archwriter *w, int i, size_t size)
{
	char line[4096];

	rec(line, i, size);
	return archwriter_submit(w, line, size, done_fn, (void *)(intptr_t)i);
}

/* Collect until want done() calls in all; 0 when they came. The 5 s are
 * only there so that a writer that hangs fails the test, not the run. */
static int
drain(struct archwriter *w, int want)
{
	struct pollfd p = { archwriter_fd(w), POLLIN, 0 };

	while (tk.n < want) {
		if (poll(&p, 1, 5000) != 1)
			return -1;
		archwriter_collect(w);
	}
	return 0;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *s = NULL;
	long n;

	*len = 0;
	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	s = calloc(1, (size_t)n + 1);
	*len = fread(s, 1, (size_t)n, f);
	fclose(f);
	return s;
}

/* Does path hold exactly prefix and then records [from, to) of size? */
static int
holds(const char *path, const char *prefix, int from, int to, size_t size)
{
	size_t len, off = strlen(prefix);
	char *s = slurp(path, &len), line[4096];
	int i, ok = s != NULL && len == off + (size_t)(to - from) * size &&
	    memcmp(s, prefix, off) == 0;

	for (i = from; ok && i < to; i++, off += size)
		ok = memcmp(s + off, line, rec(line, i, size)) == 0;
	if (!ok)
		printf("# %s: %zu bytes, want %zu\n", path, len,
		    strlen(prefix) + (size_t)(to - from) * size);
	free(s);
	return ok;
}

static void
path_of(char *out, size_t outsz, const char *name)
{
	snprintf(out, outsz, "%s/%s", dir, name);
}

static struct archwriter *
writer(const char *path, unsigned wait, unsigned batch, unsigned queue)
{
	struct archwriter_conf c = { .path = path, .max_wait_ms = wait,
		.max_batch = batch, .queue_max = queue };
	char err[256];
	struct archwriter *w = archwriter_new(&c, err, sizeof(err));

	if (w == NULL)
		printf("# archwriter_new: %s\n", err);
	return w;
}

/* ---- the tests ---- */

static void
test_basic(void)
{
	char path[256], fresh[256];
	struct archwriter_stats st;
	struct archwriter *w;
	struct stat sb;
	int i, bad = 0, s0, d0;
	long long off = 14;
	FILE *f;

	path_of(path, sizeof(path), "basic");
	f = fopen(path, "w");
	fputs("existing line\n", f);
	fclose(f);
	track_reset();
	s0 = atomic_load(&syncs);
	d0 = atomic_load(&dirsyncs);
	w = writer(path, 0, 0, 0);
	T_OK(w != NULL, "writer on an existing file");
	if (w == NULL)
		return;
	for (i = 0; i < 100; i++) {
		tk.end[i] = off += 64 + i;
		bad += submit(w, i, 64 + (size_t)i) != 0;
	}
	T_EQ_INT(bad, 0, "100 records queued");
	T_EQ_INT(drain(w, 100), 0, "100 completions");
	T_EQ_INT(tk.durable, 100, "all durable");
	T_EQ_INT(tk.out_of_order, 0, "completions in submit order");
	T_EQ_INT(tk.off_thread, 0, "done() on the caller's thread only");
	T_EQ_INT(tk.early, 0, "no done(1) before the fdatasync covering it");
	archwriter_stats(w, &st);
	T_OK(st.records == 100 && st.failures == 0 && st.healthy &&
	    st.queued == 0 && st.bytes == (unsigned long long)(off - 14),
	    "stats: records, bytes, no failures, healthy");
	T_EQ_INT(atomic_load(&syncs) - s0, st.batches,
	    "one fdatasync per batch");
	T_OK(atomic_load(&dirsyncs) > d0, "the directory synced at opening");
	archwriter_free(w);
	f = fopen(path, "r");
	for (i = 0, bad = 0; f != NULL && i < 100; i++) {
		char want[256], got[256];

		if (i == 0 && (fgets(got, sizeof(got), f) == NULL ||
		    strcmp(got, "existing line\n") != 0))
			bad++;
		rec(want, i, 64 + (size_t)i);
		if (fgets(got, sizeof(got), f) == NULL || strlen(got) !=
		    64 + (size_t)i || memcmp(got, want, 64 + (size_t)i) != 0)
			bad++;
	}
	T_OK(f != NULL && bad == 0 && fgetc(f) == EOF,
	    "file: old content, then whole lines in submit order, nothing else");
	if (f != NULL)
		fclose(f);

	/* umask 0: the 0600 must be ours, not the umask's. */
	umask(0);
	path_of(fresh, sizeof(fresh), "fresh");
	w = writer(fresh, 0, 0, 0);
	T_OK(w != NULL && stat(fresh, &sb) == 0 && (sb.st_mode & 07777) == 0600,
	    "a new archive is created with mode 0600 (umask 0)");
	archwriter_free(w);
	umask(022);
}

static void
test_partial_tail(void)
{
	char path[256];
	struct archwriter *w;
	FILE *f;

	path_of(path, sizeof(path), "partial");
	f = fopen(path, "w");
	fputs("{\"cut\":", f);
	fclose(f);
	track_reset();
	w = writer(path, 0, 0, 0);
	submit(w, 0, 40);
	drain(w, 1);
	archwriter_free(w);
	T_OK(holds(path, "{\"cut\":\n", 0, 1, 40),
	    "a file ending in a partial line: ended first, old bytes kept");
}

static void
test_group_commit(void)
{
	char path[256];
	struct archwriter_stats st;
	struct archwriter *w;
	int i, bad = 0, s0;

	/* Deterministic: no deadline in reach, so batches close full. */
	path_of(path, sizeof(path), "group");
	track_reset();
	s0 = atomic_load(&syncs);
	w = writer(path, 60000, 100, MAXREC);
	for (i = 0; i < 10000; i++)
		bad += submit(w, i, 100) != 0;
	T_EQ_INT(bad, 0, "10000 records queued");
	T_EQ_INT(drain(w, 10000), 0, "10000 completions");
	archwriter_stats(w, &st);
	printf("# max_batch 100: %llu records in %llu batches, %d fdatasync\n",
	    st.records, st.batches, atomic_load(&syncs) - s0);
	T_EQ_INT(st.batches, 100, "max_batch 100: 100 batches of 100");
	T_EQ_INT(atomic_load(&syncs) - s0, 100, "and 100 fdatasync calls");
	T_OK(tk.durable == 10000 && tk.out_of_order == 0 && tk.early == 0,
	    "all durable, in order, none before its fdatasync");
	archwriter_free(w);
	T_OK(holds(path, "", 0, 10000, 100), "the file holds the 10000 lines");

	/* The defaults, as fast as records come: figures only (timing). */
	path_of(path, sizeof(path), "group2");
	track_reset();
	w = writer(path, 0, 0, MAXREC);
	for (i = 0; i < 10000; i++)
		submit(w, i, 300);
	drain(w, 10000);
	archwriter_stats(w, &st);
	printf("# defaults (5 ms, 256): %llu records in %llu batches\n",
	    st.records, st.batches);
	T_EQ_INT(tk.durable, 10000, "defaults: 10000 durable");
	archwriter_free(w);
}

static void
test_queue_and_free(void)
{
	char path[256];
	struct archwriter_stats st;
	struct archwriter *w;
	int i, bad = 0;

	/* The writer waits 60 s for a batch of 1000: the four stay queued. */
	path_of(path, sizeof(path), "queue");
	track_reset();
	w = writer(path, 60000, 1000, 4);
	for (i = 0; i < 4; i++)
		bad += submit(w, i, 50) != 0;
	T_EQ_INT(bad, 0, "queue_max 4: four queued");
	T_EQ_INT(submit(w, 4, 50), -1, "the fifth refused at once");
	archwriter_stats(w, &st);
	T_EQ_INT(st.queued, 4, "stats: 4 queued");
	T_EQ_INT(tk.n, 0, "nothing completed yet");
	T_EQ_INT(archwriter_submit(w, "no newline", 10, done_fn, NULL), -1,
	    "a record without its newline refused");
	T_EQ_INT(archwriter_submit(w, "two\nlines\n", 10, done_fn, NULL), -1,
	    "a record of two lines refused");
	T_EQ_INT(archwriter_submit(w, "", 0, done_fn, NULL), -1,
	    "an empty record refused");
	archwriter_free(w);
	T_OK(tk.n == 4 && tk.durable == 4 && tk.out_of_order == 0,
	    "free(): the queued records written, every done() called once");
	T_OK(holds(path, "", 0, 4, 50), "and they are in the file");
	archwriter_free(NULL);

	/* A lone record is not held beyond max_wait_ms. */
	track_reset();
	w = writer(path, 20, 1000, 0);
	submit(w, 0, 50);
	T_EQ_INT(drain(w, 1), 0, "a lone record is written after max_wait_ms");
	archwriter_free(w);
}

static void
test_reopen(void)
{
	char path[256], old[256];
	struct archwriter *w;
	struct stat sb;
	int i;

	path_of(path, sizeof(path), "reopen");
	path_of(old, sizeof(old), "reopen.old");
	track_reset();
	w = writer(path, 1, 0, 0);
	for (i = 0; i < 3; i++)
		submit(w, i, 60);
	drain(w, 3);
	rename(path, old);
	submit(w, 3, 60);
	drain(w, 4);
	T_OK(holds(old, "", 0, 4, 60) && stat(path, &sb) == -1,
	    "renamed without reopen: writing goes on in the renamed file");
	archwriter_reopen(w);
	for (i = 4; i < 6; i++)
		submit(w, i, 60);
	drain(w, 6);
	T_OK(holds(path, "", 4, 6, 60) && holds(old, "", 0, 4, 60),
	    "after reopen: a new file at the old path");
	T_OK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600,
	    "the new file has mode 0600");
	T_EQ_INT(tk.durable, 6, "all durable");
	archwriter_free(w);
}

static void
test_rotation(void)
{
	struct archwriter_conf c = { .max_wait_ms = 1, .rotate_bytes = 1000,
		.rotate_keep = 2 };
	char path[200], p1[216], p2[216], p3[216], err[256];
	struct archwriter *w;
	struct stat sb;
	int i;

	path_of(path, sizeof(path), "rot");
	snprintf(p1, sizeof(p1), "%s.1", path);
	snprintf(p2, sizeof(p2), "%s.2", path);
	snprintf(p3, sizeof(p3), "%s.3", path);
	c.path = path;
	track_reset();
	w = archwriter_new(&c, err, sizeof(err));
	/* One record a batch: ten 100-byte records fill a 1000-byte file. */
	for (i = 0; w != NULL && i < 35; i++) {
		submit(w, i, 100);
		drain(w, i + 1);
	}
	archwriter_free(w);
	T_EQ_INT(tk.durable, 35, "35 records written with rotation");
	T_OK(holds(path, "", 30, 35, 100), "path: the newest 5");
	T_OK(holds(p1, "", 20, 30, 100), "path.1: the 10 before");
	T_OK(holds(p2, "", 10, 20, 100), "path.2: the 10 before those");
	T_OK(stat(p3, &sb) == -1, "rotate_keep 2: no path.3");
}

static void
test_injected_failures(void)
{
	char path[256];
	struct archwriter_stats st;
	struct archwriter *w;
	int i;

	path_of(path, sizeof(path), "inject");
	track_reset();
	/* Batches of exactly 5: max_batch 5, no deadline in reach. */
	w = writer(path, 60000, 5, 0);
	for (i = 0; i < 5; i++)
		submit(w, i, 80);
	drain(w, 5);
	atomic_store(&fail_syncs, 1);
	for (i = 5; i < 10; i++)
		submit(w, i, 80);
	drain(w, 10);
	T_OK(tk.durable == 5 && tk.state[5] == 0 && tk.state[9] == 0,
	    "fdatasync EIO: the whole batch reported not durable");
	T_OK(holds(path, "", 0, 5, 80), "and cut from the file");
	archwriter_stats(w, &st);
	T_OK(st.failures == 5 && !st.healthy, "stats: 5 failures, unhealthy");

	atomic_store(&write_budget, 150);
	for (i = 10; i < 15; i++)
		submit(w, i, 80);
	drain(w, 15);
	T_OK(tk.durable == 5 && holds(path, "", 0, 5, 80),
	    "a short write then ENOSPC: no partial record left");

	atomic_store(&write_budget, -1);
	for (i = 15; i < 20; i++)
		submit(w, i, 80);
	drain(w, 20);
	archwriter_stats(w, &st);
	T_OK(tk.durable == 10 && st.healthy && st.failures == 10,
	    "the next batch is written again");

	/* The cut fails too: the reopen ends the partial line. */
	atomic_store(&write_budget, 120);
	atomic_store(&fail_truncates, 1);
	for (i = 20; i < 25; i++)
		submit(w, i, 80);
	drain(w, 25);
	atomic_store(&write_budget, -1);
	for (i = 25; i < 30; i++)
		submit(w, i, 80);
	drain(w, 30);
	T_EQ_INT(tk.out_of_order, 0, "completions in order through failures");
	archwriter_free(w);
	{
		static const int good[] = { 0, 1, 2, 3, 4, 15, 16, 17, 18, 19 };
		char want[2048], line[128], *s;
		size_t len, n = 0, k;

		for (k = 0; k < 10; k++)
			n += rec(want + n, good[k], 80);
		n += rec(want + n, 20, 80);
		rec(line, 21, 80);
		memcpy(want + n, line, 40); /* the 120 bytes that went in */
		n += 40;
		want[n++] = '\n';
		for (k = 25; k < 30; k++)
			n += rec(want + n, (int)k, 80);
		s = slurp(path, &len);
		T_OK(s != NULL && len == n && memcmp(s, want, n) == 0 &&
		    tk.durable == 15, "a failed cut: the partial line ended "
		    "with a newline before the next records");
		free(s);
	}
}

static void
test_bad_paths(void)
{
	struct archwriter_conf c = { 0 };
	char path[256], err[256];
	struct archwriter *w;
	FILE *f;

	path_of(path, sizeof(path), "afile");
	f = fopen(path, "w");
	fclose(f);
	path_of(path, sizeof(path), "afile/archive");
	c.path = path;
	err[0] = '\0';
	w = archwriter_new(&c, err, sizeof(err));
	printf("# %s\n", err);
	T_OK(w == NULL && strstr(err, "cannot open archive") != NULL &&
	    strstr(err, path) != NULL && strstr(err, "Not a directory") != NULL,
	    "a path under a file: refused at creation, with the reason");
	c.path = "relative/archive";
	T_OK(archwriter_new(&c, err, sizeof(err)) == NULL &&
	    strstr(err, "absolute") != NULL, "a relative path refused");
	c.path = dir;
	T_OK(archwriter_new(&c, err, sizeof(err)) == NULL &&
	    strstr(err, "Is a directory") != NULL, "a directory refused");
	c.path = "/dev/null";
	T_OK(archwriter_new(&c, err, sizeof(err)) == NULL &&
	    strstr(err, "not a regular file") != NULL, "/dev/null refused");
}

static void
test_syslog(void)
{
	struct archwriter_conf c = { .use_syslog = 1,
		.syslog_facility = LOG_LOCAL3, .max_wait_ms = 1 };
	char err[256];
	struct archwriter *w = archwriter_new(&c, err, sizeof(err));

	track_reset();
	syslog_got[0] = '\0';
	syslog_n = 0;
	archwriter_submit(w, "{\"a\":1}\n", 8, done_fn, (void *)0);
	archwriter_submit(w, "{\"b\":2}\n", 8, done_fn, (void *)1);
	T_EQ_INT(drain(w, 2), 0, "syslog mode: completions");
	T_EQ_INT(tk.durable, 2, "done(1) after syslog()");
	archwriter_free(w);
	T_EQ_STR(syslog_got, "{\"a\":1}|{\"b\":2}|",
	    "one syslog() per record, without the newline");
	T_EQ_INT(syslog_pri, LOG_LOCAL3 | LOG_INFO, "at facility | LOG_INFO");
}

/* ---- a really full disk: a 64 KiB tmpfs in a namespace of our own ---- */

#define BURST 8
#define BURST_REC 200

static int report_fd;

static void
report(int ok, const char *name)
{
	dprintf(report_fd, "%d %s\n", ok ? 1 : 0, name);
}

static int
write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ok;

	if (fd == -1)
		return -1;
	ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	close(fd);
	return ok ? 0 : -1;
}

/* A user namespace (root in it, so that mounting is allowed, as
 * "unshare -rm" does) and a mount namespace, then a tmpfs at mnt. */
static const char *
enter_namespace(const char *mnt)
{
	/* Our ids outside, read before unshare(): after it, unmapped, they
	 * read as the overflow id 65534. */
	unsigned uid = (unsigned)getuid(), gid = (unsigned)getgid();
	char map[64];

	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) == -1)
		return "unshare(CLONE_NEWUSER | CLONE_NEWNS) failed";
	snprintf(map, sizeof(map), "0 %u 1", uid);
	if (write_file("/proc/self/setgroups", "deny") == -1 ||
	    write_file("/proc/self/uid_map", map) == -1)
		return "cannot write the uid map";
	snprintf(map, sizeof(map), "0 %u 1", gid);
	if (write_file("/proc/self/gid_map", map) == -1)
		return "cannot write the gid map";
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1)
		return "cannot make the mounts private";
	if (mount("none", mnt, "tmpfs", 0, "size=64k") == -1)
		return "cannot mount a tmpfs";
	return NULL;
}

/* Fill the file system with path until it refuses (or max bytes). */
static void
fill(const char *path, size_t max)
{
	static const char block[1024];
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	size_t n = 0;

	while (fd >= 0 && n < max && write(fd, block, sizeof(block)) > 0)
		n += sizeof(block);
	if (fd >= 0)
		close(fd);
}

/* One batch of BURST records from *next on; how many were durable. */
static int
burst(struct archwriter *w, int *next)
{
	int i, before = tk.durable;

	for (i = 0; i < BURST; i++, (*next)++)
		submit(w, *next, BURST_REC);
	drain(w, *next);
	return tk.durable - before;
}

/* Does path hold exactly the records that done() called durable? */
static int
holds_durable(const char *path, int upto)
{
	char want[65536], line[BURST_REC], *s;
	size_t n = 0, len;
	int i, ok;

	for (i = 0; i < upto; i++) {
		if (tk.state[i] != 1)
			continue;
		rec(line, i, BURST_REC);
		if (n + BURST_REC > sizeof(want))
			return 0;
		memcpy(want + n, line, BURST_REC);
		n += BURST_REC;
	}
	s = slurp(path, &len);
	ok = s != NULL && len == n && memcmp(s, want, n) == 0;
	if (!ok)
		dprintf(report_fd, "# %s: %zu bytes, want %zu\n", path, len, n);
	free(s);
	return ok;
}

static void
full_fs_scenario(const char mnt[200])
{
	char path[216], filler[216], err[256];
	int next = 0, failed = 0, later_ok = 0, first_fail = -1, k, ok;
	struct archwriter *w;

	snprintf(path, sizeof(path), "%s/archive", mnt);
	snprintf(filler, sizeof(filler), "%s/filler", mnt);
	fill(filler, 32 * 1024);
	track_reset();
	/* Batches close full (no deadline in reach): BURST each. */
	w = writer(path, 60000, BURST, 0);
	report(w != NULL, "full disk: writer on a 64 KiB tmpfs");
	if (w == NULL)
		return;
	while (failed < 3 && next < 100 * BURST) {
		k = burst(w, &next);
		if (k == 0 && first_fail < 0)
			first_fail = next - BURST;
		if (k == 0)
			failed++;
		else if (failed > 0)
			later_ok++;
		else if (k != BURST)
			later_ok++; /* a batch half written: must not be */
	}
	report(first_fail > 0 && failed == 3,
	    "full disk: the batches after the disk filled got done(0)");
	report(later_ok == 0, "full disk: no batch half durable, none "
	    "durable while the disk stayed full");
	report(holds_durable(path, next),
	    "full disk: the file holds exactly the durable records, whole");
	report(atomic_load(&cuts) > 0, "full disk: a batch the disk cut "
	    "short was there, and was cut back");

	unlink(filler);
	for (k = 0, ok = 1; k < 3; k++)
		ok &= burst(w, &next) == BURST;
	report(ok && holds_durable(path, next),
	    "space freed: writing resumes, after the last durable record");

	/* A failure closes the file; it is made again if it vanished. */
	fill(filler, 1 << 20);
	ok = burst(w, &next) == 0;
	ok &= mount(NULL, mnt, NULL, MS_REMOUNT | MS_RDONLY, "size=64k") == 0;
	ok &= burst(w, &next) == 0;
	report(ok, "disk full, then read-only: the reopen fails, done(0)");
	ok = mount(NULL, mnt, NULL, MS_REMOUNT, "size=64k") == 0;
	unlink(filler);
	unlink(path);
	k = next;
	ok &= burst(w, &next) == BURST;
	report(ok && holds(path, "", k, next, BURST_REC),
	    "writable again, archive deleted: a new file with the new records");
	archwriter_free(w);

	if (mount(NULL, mnt, NULL, MS_REMOUNT | MS_RDONLY, "size=64k") == -1)
		report(0, "remount read-only");
	snprintf(path, sizeof(path), "%s/other", mnt);
	{
		struct archwriter_conf c = { .path = path };

		w = archwriter_new(&c, err, sizeof(err));
		dprintf(report_fd, "# %s\n", err);
		report(w == NULL && strstr(err, "Read-only file system") != NULL,
		    "a read-only file system: refused at creation, with the "
		    "reason");
		archwriter_free(w);
	}
}

static void
test_full_fs(void)
{
	char mnt[200], line[512];
	const char *why;
	int p[2], status, got = 0;
	pid_t pid;
	FILE *f;

	path_of(mnt, sizeof(mnt), "full");
	if (mkdir(mnt, 0700) == -1 || pipe(p) == -1) {
		T_OK(0, "full disk: set-up");
		return;
	}
	fflush(stdout);
	if ((pid = fork()) == 0) {
		close(p[0]);
		report_fd = p[1];
		if ((why = enter_namespace(mnt)) != NULL)
			dprintf(p[1], "S %s: %s\n", why, strerror(errno));
		else
			full_fs_scenario(mnt);
		_exit(0);
	}
	close(p[1]);
	f = fdopen(p[0], "r");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == 'S')
			printf("ok %d # SKIP %s\n", ++t_count, line + 2);
		else if (line[0] == '#')
			printf("%s\n", line);
		else
			T_OK(line[0] == '1', line + 2);
		got++;
	}
	if (f != NULL)
		fclose(f);
	T_OK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0 && got > 0,
	    "full disk: the namespace child ran to its end");
}

/* After archwriter_stop(): what was queued is written and its done()
 * ran; a record submitted after (the graceful stop's final records) is on
 * disk when submit returns, its done() from archwriter_free(). */
static void
test_stop(void)
{
	char path[256];
	struct archwriter *w;

	path_of(path, sizeof(path), "stop");
	track_reset();
	w = writer(path, 50, 0, 0);
	T_OK(w != NULL, "stop: a writer");
	if (w == NULL)
		return;
	submit(w, 0, 40);
	submit(w, 1, 40);
	archwriter_stop(w);
	T_EQ_INT(tk.n, 2, "stop: the queued records' done() ran");
	T_EQ_INT(tk.durable, 2, "  durable");
	T_EQ_INT(submit(w, 2, 40), 0, "a record submitted after the stop is taken");
	T_OK(holds(path, "", 0, 3, 40), "  and is on disk when submit returns");
	T_EQ_INT(tk.n, 2, "  its done() not from submit");
	archwriter_stop(w);
	T_EQ_INT(tk.n, 2, "a second stop changes nothing");
	archwriter_free(w);
	T_EQ_INT(tk.n, 3, "free: its done() ran");
	T_EQ_INT(tk.durable, 3, "  durable");
	T_EQ_INT(tk.off_thread, 0, "  on the caller's thread");
	archwriter_stop(NULL);
}

int
main(void)
{
	main_thread = pthread_self();
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_basic();
	test_partial_tail();
	test_stop();
	test_group_commit();
	test_queue_and_free();
	test_reopen();
	test_rotation();
	test_injected_failures();
	test_bad_paths();
	test_syslog();
	test_full_fs();
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
	}
	return t_done();
}
