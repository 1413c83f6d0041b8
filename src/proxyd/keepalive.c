/* keepalive.c - STUN keep-alives answered on the UDP listeners
 * (keepalive.h). */
#include "proxyd/keepalive.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>

#include "common/log.h"
#include "common/stun.h"
#include "proxyd/sofia/srcguard.h"

static struct keepalive_stats stats;

/* The source as text for a debug line. */
static void
source_text(const struct sockaddr *sa, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		port = ntohs(sin->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		port = ntohs(sin6->sin6_port);
	}
	snprintf(buf, size, "%s:%u", host, port);
}

static void
stun_datagram(int fd, const void *p, size_t n, const struct sockaddr *from,
    socklen_t fromlen)
{
	struct stun_request r;
	uint8_t out[STUN_MAX_RESPONSE];
	enum stun_verdict v = stun_parse(p, n, &r);
	char src[INET6_ADDRSTRLEN + 8];
	size_t len;

	if (log_get_level() >= LOG_DEBUG)
		source_text(from, src, sizeof(src));
	if (v == STUN_DROP || (len = stun_response(&r, from, out,
	    sizeof(out))) == 0) {
		stats.stun_dropped++;
		if (log_get_level() >= LOG_DEBUG)
			log_debug("STUN: dropped %zu bytes from %s (not a "
			    "Binding request)", n, src);
		return;
	}
	if (v == STUN_UNKNOWN)
		stats.stun_unknown++;
	else
		stats.stun_answered++;
	/* The socket is non-blocking: a full send buffer loses the answer,
	 * and the UA retransmits (RFC 5389 7.2.1). */
	if (sendto(fd, out, len, MSG_DONTWAIT, from, fromlen) < 0)
		stats.stun_send_failed++;
	if (log_get_level() >= LOG_DEBUG)
		log_debug("STUN: Binding request from %s answered %s", src,
		    v == STUN_UNKNOWN ? "420 Unknown Attribute" :
		    "with its mapped address");
}

void
keepalive_start(void)
{
	srcguard_stun(stun_datagram);
}

const struct keepalive_stats *
keepalive_stats(void)
{
	return &stats;
}
