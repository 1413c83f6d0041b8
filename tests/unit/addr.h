/* addr.h - socket addresses for unit tests (one static buffer, reused). */
#ifndef ADDR_H
#define ADDR_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static struct sockaddr_storage addr_ss;

static inline const struct sockaddr *
v4(const char *text)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&addr_ss;

	memset(&addr_ss, 0, sizeof(addr_ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(5060);
	if (inet_pton(AF_INET, text, &sin->sin_addr) != 1)
		printf("# bad test address %s\n", text);
	return (const struct sockaddr *)&addr_ss;
}

static inline const struct sockaddr *
v6(const char *text)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&addr_ss;

	memset(&addr_ss, 0, sizeof(addr_ss));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(5060);
	if (inet_pton(AF_INET6, text, &sin6->sin6_addr) != 1)
		printf("# bad test address %s\n", text);
	return (const struct sockaddr *)&addr_ss;
}

#endif /* ADDR_H */
