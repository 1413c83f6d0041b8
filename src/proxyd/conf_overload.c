/*
 * conf_overload.c - the overload section: when new requests are refused
 * with 503 because the proxy is behind (overload.h). On by default, with
 * thresholds a proxy that keeps up never reaches: the queue delay stays
 * at a few milliseconds then, and the upper threshold is under half of
 * T1 (500 ms), so a request and its answer are both through before any
 * sender retransmits.
 */
#include <libconfig.h>

#include "proxyd/conf.h"
#include "proxyd/confload.h"

const struct option conf_overload_opts[] = {
	O_BOOL("enabled", overload_enabled),
	O_UINT("queue_delay_low", 1, 10000, overload_delay_low),
	O_UINT("queue_delay_high", 1, 10000, overload_delay_high),
	O_UINT("max_in_flight", 0, 100000000, overload_max_in_flight),
	O_UINT("retry_after", 1, 3600, overload_retry_after),
	O_BOOL("loop_busy", overload_loop_busy),
	O_BOOL("stream_backlog", overload_stream_backlog),
	O_UINT("stream_backlog_low", 1, 60000, overload_stream_low),
	O_UINT("stream_backlog_high", 1, 60000, overload_stream_high),
	O_END
};

void
conf_overload_defaults(struct conf *c)
{
	c->overload_enabled = 1;
	c->overload_delay_low = 100;
	c->overload_delay_high = 250;
	c->overload_max_in_flight = 50000;
	c->overload_retry_after = 2;
	/* Off: a loop that never idles is not always one that is behind
	 * (sipoverload.c, delay_of()); TCP and TLS are then bounded by
	 * max_in_flight alone. */
	c->overload_loop_busy = 0;
	/* On: a TCP or TLS connection backed up (streamlag.h) is input
	 * waiting, as a UDP datagram's queue delay is. */
	c->overload_stream_backlog = 1;
	/* TCP does not retransmit: a second of waiting, not 100 ms, is
	 * where a stream is behind (sipoverload.c, delay_of()) */
	c->overload_stream_low = 1000;
	c->overload_stream_high = 2000;
}

void
conf_check_overload(struct loader *l, const config_t *cfg)
{
	if (l->c->overload_delay_low > l->c->overload_delay_high)
		cl_err(l, config_lookup(cfg, "overload.queue_delay_low"),
		    "overload.queue_delay_low: above queue_delay_high");
	if (l->c->overload_stream_low > l->c->overload_stream_high)
		cl_err(l, config_lookup(cfg, "overload.stream_backlog_low"),
		    "overload.stream_backlog_low: above stream_backlog_high");
}
