/*
 * srcguard.h - a per-source datagram budget on the UDP listening sockets,
 * applied before Sofia parses anything.
 *
 * A single address flooding the proxy (with requests it will only refuse,
 * 503 or 496) costs the loop tens of microseconds per request in Sofia's
 * parser and transaction layer, and every other caller waits behind it:
 * the per-source limits on challenges and decryptions bound the
 * private-key work, not that. nta offers no hook before parsing, so
 * recvmsg(2) is interposed (recvhook.c) and the registered sockets watched: a datagram
 * from a source over its token bucket (ratelimit.c) is read and dropped
 * (silently, as a loaded UDP server drops), and further queued datagrams
 * from over-budget sources are drained with cheap peeks, so that a flood
 * costs a few microseconds a datagram instead of a parse. A dropped UDP
 * request is retransmitted by an honest sender (RFC 3261 17.1.1.2).
 *
 * Only requests count: SIP responses (from the next hops the proxy sent
 * requests to) always pass. A busy peer sending requests (an SBC, a PBX
 * placing calls) must be exempted or the budget set above its rate. Off
 * (rate 0) unless configured, like Kamailio's pike.
 *
 * The same filter takes the datagrams of those sockets that are not SIP
 * at all: a first byte of 0 to 3 is STUN (RFC 7983), which RFC 5626 UAs
 * send as keep-alives on the flow they registered over. Within the budget
 * (a STUN flood costs a source what a SIP one does) such a datagram goes
 * to the handler srcguard_stun() names, which may answer it on the same
 * socket; then it is swallowed like a dropped one: Sofia never sees it
 * (its own STUN server answers RFC 3489 style only, and writes a line to
 * stderr per request). Watching sockets needs no budget: the filter is on
 * as soon as a socket is added.
 *
 * Responses cut short are discarded here as well (srcguard_on_cut()).
 *
 * Runs on the thread that calls recvmsg (the loop); not thread-safe.
 */
#ifndef SRCGUARD_H
#define SRCGUARD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct netaddr;

/* Datagrams per second and burst per source IP address (rate 0: off);
 * sources in the exempt networks are never limited. Copies exempt.
 * 0, or -1 out of memory (the guard stays off). */
int srcguard_init(unsigned rate, unsigned burst, size_t max_sources,
    const struct netaddr *exempt, size_t nexempt);

/* Watch datagrams read from this socket (at most SRCGUARD_MAX_FDS): the
 * budget when one is set, the STUN handler always. */
#define SRCGUARD_MAX_FDS 16
int srcguard_add_fd(int fd);

/* Called from the read that drops, at most every REPORT_MS while a
 * source is being dropped: the total so far and the last source as text
 * (for a log line). */
#define SRCGUARD_REPORT_MS 10000
void srcguard_report(void (*fn)(uint64_t dropped, const char *last));

/* A datagram that is not SIP (first byte 0-3), within its source's
 * budget, read from watched socket fd: p[0..n) from `from`. The datagram
 * is swallowed after the call. NULL: swallowed unanswered. */
typedef void srcguard_stun_fn(int fd, const void *p, size_t n,
    const struct sockaddr *from, socklen_t fromlen);
void srcguard_stun(srcguard_stun_fn *fn);

/*
 * Queue delay: how long a datagram read from a watched socket waited in
 * the kernel's receive queue (its SO_TIMESTAMPNS arrival stamp against
 * the clock when it was read). The first sign that the loop is behind,
 * before any sender retransmits (overload.h).
 * _us: the least any datagram read in this window and the one before
 * (SRCGUARD_DELAY_WINDOW_MS each) waited, the datagram read last (the
 * one Sofia is parsing now) included: a standing queue, not a burst
 * (CoDel's observation, RFC 8289). After a pause of the loop shorter than
 * a window, what queued meanwhile is read within milliseconds and the
 * datagrams read just before the pause had not waited: no overload. A
 * loop that stays behind makes every datagram wait.
 * _max_us: the longest over the last full second (for metrics).
 */
#define SRCGUARD_DELAY_WINDOW_MS 100
uint32_t srcguard_queue_delay_us(void);
uint32_t srcguard_queue_delay_max_us(void);

/*
 * The To tag of the proxy's overload 503s (sipoverload.c): a datagram
 * that is an ACK carrying it is dropped before Sofia parses it, so that
 * a refused call costs its INVITE's parse and one answer, not one more
 * parse for the ACK. Counted in srcguard_shed_acks().
 */
void srcguard_shed_tag(const char *tag);
uint64_t srcguard_shed_acks(void);

/* Datagrams dropped over budget so far. */
uint64_t srcguard_dropped(void);

/*
 * A SIP response datagram that is not one whole message (no empty line
 * after its header section, or a body shorter than its Content-Length:
 * sipdgram.h) is swallowed too: RFC 3261 18.3 has it discarded, and once
 * Sofia has parsed it nta matches it to its transaction and the proxy
 * would relay what is left. (Requests cut short reach the proxy, which
 * answers 400: incoming.c.) fn, if set, hears of each, with the source
 * and what was wrong.
 */
typedef void srcguard_cut_fn(const struct sockaddr *from, const char *why);
void srcguard_on_cut(srcguard_cut_fn *fn);

/* Response datagrams discarded as cut short so far. */
uint64_t srcguard_cut_short(void);

/* Turn the guard off, forget the sockets and the handler, free its
 * state. */
void srcguard_reset(void);

#endif /* SRCGUARD_H */
