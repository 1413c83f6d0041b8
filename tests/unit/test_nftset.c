/*
 * test_nftset.c - the firewall back end's settings, queue, thread and
 * completion descriptor, through the program back end (a shell script
 * that logs what it is given). The nftables back end needs a network
 * namespace: tests/integration/t_nftset.sh.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "services/nftset.h"
#include "t.h"

#define PATH_LINE \
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \n"

static char dir[64], script[128], logpath[128], fifo[128];

static struct pinhole_hole
hole(const char *addr, int proto, unsigned port)
{
	struct pinhole_hole h;

	memset(&h, 0, sizeof(h));
	h.family = strchr(addr, ':') != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(h.family, addr, h.addr) != 1)
		printf("# bad test address %s\n", addr);
	h.proto = proto;
	h.port = port;
	return h;
}

static struct nftset_conf
exec_conf(void)
{
	struct nftset_conf c;

	memset(&c, 0, sizeof(c));
	c.backend = NFTSET_EXEC;
	c.family = "inet";
	c.table = "e2mproxy";
	c.set4 = "media4";
	c.set6 = "media6";
	c.timeout_s = 30;
	c.program = script;
	/* A bound no run of the script comes near, even on a loaded
	 * machine (a few forks: milliseconds); the hanging case below
	 * waits for its own. */
	c.exec_timeout_ms = 10000;
	return c;
}

/* The program: logs its arguments and environment, or misbehaves as the
 * port asks. */
static void
write_script(void)
{
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/test_nftset.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL)
		exit(1);
	snprintf(script, sizeof(script), "%s/pinhole.sh", dir);
	snprintf(logpath, sizeof(logpath), "%s/log", dir);
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	if (mkfifo(fifo, 0600) != 0 || (f = fopen(script, "w")) == NULL)
		exit(1);
	fprintf(f, "#!/bin/sh\n"
		   "log=%s\n"
		   "case $5 in\n"
		   "666) echo 'no such set'; echo 'line 2' >&2; exit 3 ;;\n"
		   "777) sleep 30 & echo \"sleep $!\" >> $log; wait ;;\n"
		   "888) echo started >> $log; read x < %s ;;\n"
		   "999) kill -9 $$ ;;\n"
		   "esac\n"
		   "echo \"argv $*\" >> $log\n"
		   "env | grep -v '^PWD=' | sort | tr '\\n' ' ' >> $log\n"
		   "echo >> $log\n",
	    logpath, fifo);
	fclose(f);
	chmod(script, 0700);
}

static void
empty_log(void)
{
	FILE *f = fopen(logpath, "w");

	if (f != NULL)
		fclose(f);
}

/* The log so far, "" if none. */
static const char *
slurp(void)
{
	static char buf[8192];
	FILE *f = fopen(logpath, "r");
	size_t n = 0;

	buf[0] = '\0';
	if (f != NULL) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		buf[n] = '\0';
		fclose(f);
	}
	return buf;
}

/* Wait (up to 10 s: a bound, not a measure) for rounds to finish and
 * collect: what the loop of the daemon does. */
static unsigned
settle(struct nftset *s, const char **err)
{
	struct pollfd p = { .fd = nftset_fd(s), .events = POLLIN };
	unsigned failed = 0, f;
	int i;

	*err = NULL;
	for (i = 0; i < 100 && nftset_pending(s) > 0; i++)
		if (poll(&p, 1, 100) == 1) {
			nftset_collect(s, &f, err);
			failed += f;
		}
	if (poll(&p, 1, 0) == 1) {
		nftset_collect(s, &f, err);
		failed += f;
	}
	return failed;
}

static void
test_conf(void)
{
	struct nftset_conf c;
	char err[256];

	c = exec_conf();
	c.timeout_s = 0;
	T_OK(nftset_new(&c, err, sizeof(err)) == NULL &&
	    strstr(err, "timeout") != NULL, "conf: timeout 0 is refused");
	c = exec_conf();
	c.set4 = "media4; flush ruleset";
	T_OK(nftset_new(&c, err, sizeof(err)) == NULL &&
	    strstr(err, "identifier") != NULL,
	    "conf: a set name that is not an identifier is refused");
	c = exec_conf();
	c.program = "pinhole.sh";
	T_OK(nftset_new(&c, err, sizeof(err)) == NULL &&
	    strstr(err, "absolute") != NULL, "conf: a relative program");
	c = exec_conf();
	c.program = "/nonexistent/pinhole";
	T_OK(nftset_new(&c, err, sizeof(err)) == NULL &&
	    strstr(err, "No such file") != NULL,
	    "conf: a missing program is found at start");
	c = exec_conf();
	c.backend = NFTSET_NFT;
	c.family = "inet6";
	T_OK(nftset_new(&c, err, sizeof(err)) == NULL &&
	    strcmp(err, "unknown nft family") == 0, "conf: an unknown family");
	c.family = "inet";
	c.table = "e2m proxy";
	T_OK(nftset_new(&c, err, sizeof(err)) == NULL &&
	    strstr(err, "table") != NULL, "conf: a bad table name");
	c.table = "e2mproxy";
	c.set4 = c.set6 = NULL;
	T_OK(nftset_new(&c, err, sizeof(err)) == NULL &&
	    strstr(err, "neither") != NULL, "conf: nft without sets");
	nftset_free(NULL);
}

static void
test_exec(void)
{
	struct nftset_conf c = exec_conf();
	struct pinhole_hole h;
	struct nftset *s;
	const char *err;
	char e[256];

	s = nftset_new(&c, e, sizeof(e));
	T_OK(s != NULL, "exec: starts");
	if (s == NULL) {
		printf("# %s\n", e);
		return;
	}
	T_OK(nftset_fd(s) >= 0, "exec: has a descriptor");
	h = hole("192.0.2.1", IPPROTO_UDP, 49170);
	T_EQ_INT(nftset_add(s, &h), 0, "exec: add queued");
	h = hole("2001:db8::7", IPPROTO_TCP, 5004);
	T_EQ_INT(nftset_refresh(s, &h), 0, "exec: refresh queued");
	T_EQ_INT(nftset_del(s, &h), 0, "exec: del queued");
	T_EQ_INT(settle(s, &err), 0, "exec: no failure");
	T_OK(err == NULL, "exec: no failure, no reason");
	T_EQ_INT(nftset_pending(s), 0, "exec: nothing pending");
	T_EQ_STR(slurp(),
	    "argv add ipv4 192.0.2.1 udp 49170 30\n"
	    "E2M_PINHOLE_ADDR=192.0.2.1 E2M_PINHOLE_FAMILY=ipv4 "
	    "E2M_PINHOLE_NFT_FAMILY=inet E2M_PINHOLE_OP=add "
	    "E2M_PINHOLE_PORT=49170 E2M_PINHOLE_PROTO=udp "
	    "E2M_PINHOLE_SET=media4 E2M_PINHOLE_TABLE=e2mproxy "
	    "E2M_PINHOLE_TIMEOUT=30 "
	    PATH_LINE
	    "argv refresh ipv6 2001:db8::7 tcp 5004 30\n"
	    "E2M_PINHOLE_ADDR=2001:db8::7 E2M_PINHOLE_FAMILY=ipv6 "
	    "E2M_PINHOLE_NFT_FAMILY=inet E2M_PINHOLE_OP=refresh "
	    "E2M_PINHOLE_PORT=5004 E2M_PINHOLE_PROTO=tcp "
	    "E2M_PINHOLE_SET=media6 E2M_PINHOLE_TABLE=e2mproxy "
	    "E2M_PINHOLE_TIMEOUT=30 "
	    PATH_LINE
	    "argv del ipv6 2001:db8::7 tcp 5004 30\n"
	    "E2M_PINHOLE_ADDR=2001:db8::7 E2M_PINHOLE_FAMILY=ipv6 "
	    "E2M_PINHOLE_NFT_FAMILY=inet E2M_PINHOLE_OP=del "
	    "E2M_PINHOLE_PORT=5004 E2M_PINHOLE_PROTO=tcp "
	    "E2M_PINHOLE_SET=media6 E2M_PINHOLE_TABLE=e2mproxy "
	    "E2M_PINHOLE_TIMEOUT=30 "
	    PATH_LINE,
	    "exec: argv and only our environment, in order (no HOME, no "
	    "E2M_TEST_SECRET)");
	nftset_free(s);
}

/* state of a process: its /proc stat letter, 0 if it is gone */
static char
proc_state(long pid)
{
	char path[64], buf[256], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p != NULL && p[1] == ' ' ? p[2] : '?';
}

static void
test_exec_failures(void)
{
	struct nftset_conf c = exec_conf();
	struct pinhole_hole h;
	struct nftset *s;
	const char *err, *p;
	char e[256], st = 'R';
	long pid = 0;
	int i;

	/* Long enough for the good runs around it (see exec_conf()), short
	 * enough for the test. */
	c.exec_timeout_ms = 3000;
	empty_log();
	s = nftset_new(&c, e, sizeof(e));
	if (s == NULL) {
		T_OK(0, "exec failures: starts");
		return;
	}
	h = hole("192.0.2.1", IPPROTO_UDP, 666);
	nftset_add(s, &h);
	T_EQ_INT(settle(s, &err), 1, "exit 3: one failure");
	T_EQ_STR(err, "add udp 192.0.2.1 666: exit 3: no such set",
	    "exit 3: the first line of its output");
	h.port = 999;
	nftset_del(s, &h);
	T_EQ_INT(settle(s, &err), 1, "signal: one failure");
	T_EQ_STR(err, "del udp 192.0.2.1 999: killed by signal 9",
	    "signal: said so");
	h.port = 777;
	nftset_refresh(s, &h);
	T_EQ_INT(settle(s, &err), 1, "hanging program: one failure");
	T_EQ_STR(err, "refresh udp 192.0.2.1 777: killed after 3000 ms",
	    "hanging program: killed after exec_timeout_ms");
	if ((p = strstr(slurp(), "sleep ")) != NULL)
		pid = strtol(p + 6, NULL, 10);
	/* SIGKILL went to its process group: its child goes too (a bound,
	 * not a measure: 5 s) */
	for (i = 0; i < 50 && pid > 0 && (st = proc_state(pid)) != 0 &&
	    st != 'Z'; i++)
		usleep(100000);
	T_OK(pid > 0 && (st == 0 || st == 'Z'),
	    "hanging program: its child was killed with it");
	h.proto = 0;
	nftset_add(s, &h);
	T_EQ_INT(settle(s, &err), 1, "no protocol: one failure");
	T_EQ_STR(err, "add: not a valid pinhole", "no protocol: said so");
	h = hole("192.0.2.1", IPPROTO_UDP, 1);
	nftset_add(s, &h);
	T_EQ_INT(settle(s, &err), 0, "a good one after: no failure");
	T_OK(err == NULL, "a good one after: no reason");
	nftset_free(s);
}

static void
test_queue(void)
{
	struct nftset_conf c = exec_conf();
	struct pinhole_hole h = hole("192.0.2.1", IPPROTO_UDP, 888);
	struct nftset *s;
	const char *err;
	char e[256];
	int i, fd;

	empty_log();
	c.queue_max = 2;
	c.exec_timeout_ms = 20000;
	if ((s = nftset_new(&c, e, sizeof(e))) == NULL) {
		T_OK(0, "queue: starts");
		return;
	}
	/* the thread runs 888, which waits for the fifo */
	nftset_add(s, &h);
	for (i = 0; i < 100 && strstr(slurp(), "started") == NULL; i++)
		usleep(100000);
	T_OK(strstr(slurp(), "started") != NULL, "queue: the thread is busy");
	h.port = 1000;
	T_EQ_INT(nftset_add(s, &h), 0, "queue: 1st of 2 queued");
	h.port = 1001;
	T_EQ_INT(nftset_add(s, &h), 0, "queue: 2nd of 2 queued");
	h.port = 1002;
	T_EQ_INT(nftset_add(s, &h), -1, "queue: a 3rd is refused");
	T_EQ_INT(nftset_pending(s), 3, "queue: 3 pending (1 running)");
	/* not blocking: if nothing reads, the test fails instead of hanging */
	if ((fd = open(fifo, O_WRONLY | O_NONBLOCK)) >= 0) {
		(void)!write(fd, "go\n", 3);
		close(fd);
	}
	T_EQ_INT(settle(s, &err), 0, "queue: all done, no failure");
	T_OK(strstr(slurp(), "argv add ipv4 192.0.2.1 udp 888 ") != NULL &&
	    strstr(slurp(), "argv add ipv4 192.0.2.1 udp 1001 ") != NULL &&
	    strstr(slurp(), " 1002 ") == NULL, "queue: the queued ones ran");

	/* nftset_free applies what is still queued */
	empty_log();
	h.port = 2000;
	nftset_add(s, &h);
	h.port = 2001;
	nftset_del(s, &h);
	nftset_free(s);
	T_OK(strstr(slurp(), "argv add ipv4 192.0.2.1 udp 2000 ") != NULL &&
	    strstr(slurp(), "argv del ipv4 192.0.2.1 udp 2001 ") != NULL,
	    "free: what was queued is applied first");
}

int
main(void)
{
	/* the program must not see the daemon's environment */
	setenv("E2M_TEST_SECRET", "1", 1);
	write_script();
	test_conf();
	test_exec();
	test_exec_failures();
	test_queue();
	unlink(script);
	unlink(logpath);
	unlink(fifo);
	rmdir(dir);
	return t_done();
}
