/* nftset_exec.c - the program back end: one run per change, no shell. */
#include "services/nftset_private.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/monoclock.h"

#define NENV 10
#define ENVSZ 128

/* The argument vector and the environment of one run. */
struct run_args {
	char addr[INET6_ADDRSTRLEN], port[8], timeout[16];
	char env[NENV][ENVSZ];
	char *argv[8];
	char *envp[NENV + 1];
	char what[96]; /* "add udp 192.0.2.1 49170", for messages */
};

int
nftset_exec_check(const struct nftset_conf *c, char *err, size_t errsz)
{
	if (access(c->program, X_OK) != 0) {
		snprintf(err, errsz, "%s: %s", c->program, strerror(errno));
		return -1;
	}
	return 0;
}

static void
env_add(struct run_args *a, size_t *n, const char *name, const char *value)
{
	size_t ln = strlen(name), lv;

	if (value == NULL || *n == NENV)
		return;
	/* NAME=value, value cut to fit (the names are ours and short) */
	lv = strnlen(value, ENVSZ - ln - 2);
	memcpy(a->env[*n], name, ln);
	a->env[*n][ln] = '=';
	memcpy(a->env[*n] + ln + 1, value, lv);
	a->env[*n][ln + 1 + lv] = '\0';
	a->envp[*n] = a->env[*n];
	(*n)++;
	a->envp[*n] = NULL;
}

static int
make_args(const struct nftset_conf *c, const struct nftset_change *ch,
    struct run_args *a)
{
	const char *op = nftset_op_name(ch->op);
	const char *proto = nftset_proto_name(ch->h.proto);
	const char *fam = ch->h.family == AF_INET ? "ipv4" : "ipv6";
	size_t n = 0;

	if (proto == NULL || ch->h.port == 0 || ch->h.port > 65535 ||
	    (ch->h.family != AF_INET && ch->h.family != AF_INET6) ||
	    inet_ntop(ch->h.family, ch->h.addr, a->addr, sizeof(a->addr)) ==
	    NULL)
		return -1;
	snprintf(a->port, sizeof(a->port), "%u", ch->h.port);
	snprintf(a->timeout, sizeof(a->timeout), "%u", c->timeout_s);
	snprintf(a->what, sizeof(a->what), "%s %s %s %s", op, proto, a->addr,
	    a->port);
	a->argv[0] = (char *)c->program;
	a->argv[1] = (char *)op;
	a->argv[2] = (char *)fam;
	a->argv[3] = a->addr;
	a->argv[4] = (char *)proto;
	a->argv[5] = a->port;
	a->argv[6] = a->timeout;
	a->argv[7] = NULL;
	a->envp[0] = NULL;
	env_add(a, &n, "PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:"
	    "/usr/bin:/sbin:/bin");
	env_add(a, &n, "E2M_PINHOLE_OP", op);
	env_add(a, &n, "E2M_PINHOLE_FAMILY", fam);
	env_add(a, &n, "E2M_PINHOLE_ADDR", a->addr);
	env_add(a, &n, "E2M_PINHOLE_PROTO", proto);
	env_add(a, &n, "E2M_PINHOLE_PORT", a->port);
	env_add(a, &n, "E2M_PINHOLE_TIMEOUT", a->timeout);
	env_add(a, &n, "E2M_PINHOLE_NFT_FAMILY", c->family);
	env_add(a, &n, "E2M_PINHOLE_TABLE", c->table);
	env_add(a, &n, "E2M_PINHOLE_SET", nftset_set_of(c, ch->h.family));
	return 0;
}

/*
 * Start the program with stdin /dev/null and stdout and stderr on outfd,
 * no other descriptor, default signal handling, nothing blocked, in a
 * process group of its own (a timeout kills the group). posix_spawn()
 * rather than fork(): no copy of a large process, nothing but exec in the
 * child of a threaded one. The pid, or -1 and errno.
 */
static pid_t
spawn(const struct nftset_conf *c, struct run_args *a, int outfd)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	pid_t pid;
	int rc;

	sigemptyset(&none);
	sigfillset(&all);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, outfd, 1);
	posix_spawn_file_actions_adddup2(&fa, outfd, 2);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
	rc = posix_spawn(&pid, c->program, &fa, &at, a->argv, a->envp);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		errno = rc;
		return -1;
	}
	return pid;
}

/* What the child wrote: the first outsz - 1 bytes kept, the rest read and
 * dropped (so that it never blocks on a full pipe). -1 at its end. */
static int
take_output(int fd, char *out, size_t outsz, size_t *used)
{
	char buf[512];
	ssize_t n = read(fd, buf, sizeof(buf));
	size_t k;

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (n == 0)
		return -1;
	k = (size_t)n;
	if (k > outsz - 1 - *used)
		k = outsz - 1 - *used;
	memcpy(out + *used, buf, k);
	*used += k;
	out[*used] = '\0';
	return 0;
}

/*
 * Reap pid, reading its output from rfd meanwhile, killing its group
 * after timeout_ms. Waits on a pidfd (Linux 5.3); without one, polls
 * every 10 ms. 0 with *status, -1 timed out (killed and reaped), -2
 * cannot wait (SIGCHLD ignored by the process?).
 */
static int
reap(pid_t pid, int rfd, unsigned timeout_ms, char *out, size_t outsz,
    int *status)
{
	uint64_t now, deadline = monoclock_ms() + timeout_ms;
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0), rc, np, ms, i;
	int reading = 1;
	struct pollfd p[2];
	size_t used = 0;
	pid_t r;

	out[0] = '\0';
	for (;;) {
		if ((r = waitpid(pid, status, WNOHANG)) == pid) {
			rc = 0;
			break;
		}
		if (r < 0 && errno != EINTR) {
			rc = -2;
			break;
		}
		if ((now = monoclock_ms()) >= deadline) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			while (waitpid(pid, status, 0) < 0 && errno == EINTR)
				;
			rc = -1;
			break;
		}
		ms = (int)(deadline - now);
		if (pfd < 0 && ms > 10)
			ms = 10;
		np = 0;
		memset(p, 0, sizeof(p));
		if (reading) {
			p[np].fd = rfd;
			p[np++].events = POLLIN;
		}
		if (pfd >= 0) {
			p[np].fd = pfd;
			p[np++].events = POLLIN;
		}
		if (poll(p, (nfds_t)np, ms) > 0 && reading && p[0].revents &&
		    take_output(rfd, out, outsz, &used) != 0)
			reading = 0;
	}
	/* What it wrote just before it ended; a few reads at most, in case
	 * something it started goes on writing. */
	for (i = 0; reading && i < 8; i++)
		if (take_output(rfd, out, outsz, &used) != 0)
			reading = 0;
	if (pfd >= 0)
		close(pfd);
	return rc;
}

/* A pipe whose ends are above 0..2 (the child's) and close on exec; the
 * read end does not block. */
static int
out_pipe(int fds[2])
{
	int i, fd;

	if (pipe2(fds, O_CLOEXEC) != 0)
		return -1;
	for (i = 0; i < 2; i++) {
		if (fds[i] > 2)
			continue;
		fd = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
		close(fds[i]);
		fds[i] = fd;
	}
	if (fds[0] < 0 || fds[1] < 0 ||
	    fcntl(fds[0], F_SETFL, O_NONBLOCK) != 0) {
		if (fds[0] >= 0)
			close(fds[0]);
		if (fds[1] >= 0)
			close(fds[1]);
		return -1;
	}
	return 0;
}

static void
run_one(const struct nftset_conf *c, const struct nftset_change *ch,
    struct nftset_result *r)
{
	struct run_args a;
	char out[160];
	int fds[2], status = 0, rc;
	pid_t pid;

	if (make_args(c, ch, &a) != 0) {
		nftset_fail(r, "%s: not a valid pinhole",
		    nftset_op_name(ch->op));
		return;
	}
	if (out_pipe(fds) != 0) {
		nftset_fail(r, "%s: pipe: %s", a.what, strerror(errno));
		return;
	}
	pid = spawn(c, &a, fds[1]);
	close(fds[1]);
	if (pid < 0) {
		nftset_fail(r, "%s: cannot run %s: %s", a.what, c->program,
		    strerror(errno));
		close(fds[0]);
		return;
	}
	rc = reap(pid, fds[0], c->exec_timeout_ms, out, sizeof(out), &status);
	close(fds[0]);
	out[strcspn(out, "\n")] = '\0';
	if (rc == -1)
		nftset_fail(r, "%s: killed after %u ms", a.what,
		    c->exec_timeout_ms);
	else if (rc == -2)
		nftset_fail(r, "%s: cannot wait for the program", a.what);
	else if (WIFSIGNALED(status))
		nftset_fail(r, "%s: killed by signal %d", a.what,
		    WTERMSIG(status));
	else if (WEXITSTATUS(status) != 0)
		nftset_fail(r, "%s: exit %d: %s", a.what, WEXITSTATUS(status),
		    out[0] != '\0' ? out : "(no output)");
}

void
nftset_exec_apply(const struct nftset_conf *c, const struct nftset_change *ch,
    size_t n, struct nftset_result *r)
{
	size_t i;

	for (i = 0; i < n; i++)
		run_one(c, &ch[i], r);
}
