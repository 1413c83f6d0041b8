/* tporterr.c - connection errors logged (tporterr.h). */
#include "proxyd/sofia/tporterr.h"

#include <stddef.h>
#include <string.h>

#include <sofia-sip/su.h>
#include <sofia-sip/tport.h>

#include "common/log.h"
#include "common/monoclock.h"
#include "common/nextsym.h"
#include "common/ratelimit.h"

/* At most BURST lines, then RATE a second. */
#define RATE 5
#define BURST 10

static struct ratelimit *rl; /* one bucket (no source): the log's */
static unsigned long long unlogged;

void
tporterr_enable(void)
{
	if (rl == NULL)
		rl = ratelimit_new(RATE, BURST, 1);
}

void
tporterr_reset(void)
{
	ratelimit_free(rl);
	rl = NULL;
	unlogged = 0;
}

static int
may_log(void)
{
	if (ratelimit_take(rl, NULL, monoclock_coarse_ms()))
		return 1;
	unlogged++;
	return 0;
}

static void
note(tport_t *tp, int errcode)
{
	const tp_name_t *n = tport_name(tp);

	if (n == NULL || !may_log())
		return;
	if (unlogged > 0)
		log_info("%llu more connection errors not logged",
		    unlogged);
	unlogged = 0;
	log_info("%s connection %s %s:%s: %s", n->tpn_proto,
	    tport_is_secondary(tp) ? "with" : "on",
	    n->tpn_host != NULL ? n->tpn_host : "?",
	    n->tpn_port != NULL ? n->tpn_port : "?", strerror(errcode));
}

typedef void report_fn(tport_t *, int, su_sockaddr_t const *);

/* Sofia's, exported but not in its public headers. */
void tport_error_report(tport_t *, int, su_sockaddr_t const *);

void
tport_error_report(tport_t *self, int errcode, su_sockaddr_t const *addr)
{
	static nextsym_cache next;
	report_fn *real;

	real = (report_fn *)nextsym(&next, "tport_error_report");
	if (rl != NULL && self != NULL && errcode != 0 &&
	    tport_is_stream(self))
		note(self, errcode);
	if (real != NULL)
		real(self, errcode, addr);
}
