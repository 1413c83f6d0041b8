/* pidfile.c - a pid file held by flock() (pidfile.h). */
#include "proxyd/pidfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

struct pidfile {
	int fd;
	char *path;
};

struct pidfile *
pidfile_open(const char *path, char *err, size_t errsz)
{
	struct pidfile *pf;
	char buf[32];
	ssize_t n;
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd == -1) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK) {
			snprintf(err, errsz, "%s: %s", path, strerror(errno));
			close(fd);
			return NULL;
		}
		n = read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		snprintf(err, errsz, "%s: held by a running e2mproxyd%s%s",
		    path, buf[0] != '\0' ? ", pid " : "", buf);
		close(fd);
		return NULL;
	}
	if ((pf = calloc(1, sizeof(*pf))) == NULL ||
	    (pf->path = strdup(path)) == NULL) {
		free(pf);
		close(fd);
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	pf->fd = fd;
	return pf;
}

int
pidfile_write(struct pidfile *pf, pid_t pid, char *err, size_t errsz)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)pid);

	if (ftruncate(pf->fd, 0) == -1 ||
	    pwrite(pf->fd, buf, (size_t)n, 0) != n) {
		snprintf(err, errsz, "%s: %s", pf->path, strerror(errno));
		return -1;
	}
	return 0;
}

void
pidfile_close(struct pidfile *pf)
{
	if (pf == NULL)
		return;
	/* After a privilege drop the directory may not be ours: the lock
	 * goes with the descriptor, a stale file says nothing. */
	(void)unlink(pf->path);
	close(pf->fd);
	free(pf->path);
	free(pf);
}
