/* sockfind.c - our sockets by type and port (see sockfind.h). */
#include "proxyd/sofia/sockfind.h"

#include <dirent.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>

static unsigned
port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return 0;
}

static int
matches(int fd, int type, unsigned port)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss), ol;
	int t, acc;

	ol = sizeof(t);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &t, &ol) == -1 || t != type)
		return 0;
	ol = sizeof(acc);
	if (type == SOCK_STREAM && (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN,
	    &acc, &ol) == -1 || !acc))
		return 0;
	return getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
	    port_of(&ss) == port;
}

int
sockfind(int type, unsigned port, int *fds, size_t max)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	size_t n = 0;
	int fd;

	if (d == NULL)
		return -1;
	while (n < max && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || (fd = atoi(de->d_name)) < 0 ||
		    fd == dirfd(d))
			continue;
		if (matches(fd, type, port))
			fds[n++] = fd;
	}
	closedir(d);
	return (int)n;
}
