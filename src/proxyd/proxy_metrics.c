/*
 * proxy_metrics.c - what the proxy core counts, as /metrics families
 * (metrics.h): requests, responses, transactions, the decrypt stage,
 * challenges, limits, the worker queue and the two services.
 */
#include "proxyd/ptx.h"
#include "proxyd/proxy.h"

#include <string.h>

#include "crypto/tlsping.h"
#include "proxyd/keepalive.h"
#include "proxyd/metrics.h"
#include "proxyd/sipoverload.h"
#include "proxyd/svc_archive.h"
#include "proxyd/svc_pinhole.h"
#include "proxyd/sofia/srcguard.h"
#include "proxyd/sofia/connlimit.h"
#include "proxyd/sofia/fdreserve.h"
#include "proxyd/sofia/streamguard.h"
#include "proxyd/workers.h"

/* The last one stands for every other method. */
static const char *const methods[PROXY_STATS_METHODS] = {
	"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "MESSAGE",
	"SUBSCRIBE", "NOTIFY", "REFER", "INFO", "UPDATE", "PRACK", "PUBLISH",
	"other",
};

unsigned
proxy_stats_method(const char *name)
{
	unsigned i;

	for (i = 0; i + 1 < PROXY_STATS_METHODS; i++)
		if (strcmp(name, methods[i]) == 0)
			return i;
	return PROXY_STATS_METHODS - 1;
}

const char *
proxy_stats_method_name(unsigned i)
{
	return i < PROXY_STATS_METHODS ? methods[i] : "other";
}

/* One counter with a single label taking each of n values. */
static void
labelled(struct metrics_out *o, const char *label, const char *const *values,
    const uint64_t *v, size_t n)
{
	char l[128];
	size_t i;

	for (i = 0; i < n; i++) {
		l[0] = '\0';
		mo_u64(o, mo_label(l, sizeof(l), label, values[i]), v[i]);
	}
}

static void
traffic(const struct proxy *px, struct metrics_out *o)
{
	static const char *const classes[6] = {
		"1xx", "2xx", "3xx", "4xx", "5xx", "6xx"
	};
	const struct proxy_stats *s = &px->stats;

	mo_family(o, "e2mproxy_requests_total", "counter",
	    "SIP requests received, by method");
	labelled(o, "method", methods, s->requests, PROXY_STATS_METHODS);
	mo_family(o, "e2mproxy_responses_total", "counter",
	    "SIP responses sent upstream (relayed or the proxy's own), by class");
	labelled(o, "class", classes, s->responses, 6);
	mo_family(o, "e2mproxy_transactions_in_flight", "gauge",
	    "requests being handled now");
	mo_u64(o, NULL, s->in_flight);
	mo_family(o, "e2mproxy_stray_responses_dropped_total", "counter",
	    "responses that matched no transaction and were dropped");
	mo_u64(o, NULL, s->stray_dropped);
	mo_family(o, "e2mproxy_truncated_responses_dropped_total", "counter",
	    "UDP responses cut short (no empty line after the header, or a "
	    "body shorter than Content-Length), discarded before parsing");
	mo_u64(o, NULL, srcguard_cut_short());
}

/* RFC 5626 keep-alives: STUN on the UDP listeners (keepalive.c), CRLF
 * pongs on TLS (crypto/tlsping.c). */
static void
keepalives(struct metrics_out *o)
{
	static const char *const res[3] = {
		"answered", "unknown_attribute", "dropped"
	};
	const struct keepalive_stats *k = keepalive_stats();
	uint64_t v[3];

	mo_family(o, "e2mproxy_stun_requests_total", "counter",
	    "STUN messages on the UDP SIP ports (RFC 5626 keep-alives), by "
	    "outcome: a Binding request answered with its mapped address, "
	    "answered 420 (unknown comprehension-required attribute), or "
	    "dropped (malformed, not a Binding request, no magic cookie); "
	    "those over a source's budget count as rate limited instead");
	v[0] = k->stun_answered;
	v[1] = k->stun_unknown;
	v[2] = k->stun_dropped;
	labelled(o, "result", res, v, 3);
	mo_family(o, "e2mproxy_tls_pongs_total", "counter",
	    "CRLF pongs sent to double-CRLF keep-alive pings on TLS "
	    "connections (RFC 5626 4.4.1; those on TCP are Sofia's, not "
	    "counted)");
	mo_u64(o, NULL, tlsping_pongs());
}

static void
inspection(const struct proxy *px, struct metrics_out *o)
{
	static const char *const dec[2] = { "opened", "undecipherable" };
	static const char *const sig[2] = { "valid", "invalid" };
	static const char *const ch[2] = { "495", "496" };
	const struct proxy_stats *s = &px->stats;
	uint64_t v[2];

	mo_family(o, "e2mproxy_decrypts_total", "counter",
	    "body parts labelled for the proxy, by outcome");
	v[0] = s->decrypt_opened;
	v[1] = s->decrypt_failed;
	labelled(o, "result", dec, v, 2);
	mo_family(o, "e2mproxy_signatures_total", "counter",
	    "CMS signatures checked, by outcome");
	v[0] = s->sig_valid;
	v[1] = s->sig_invalid;
	labelled(o, "result", sig, v, 2);
	mo_family(o, "e2mproxy_challenges_total", "counter",
	    "signed challenges sent (495: signature needed, 496: body "
	    "undecipherable; whatever code the configuration gives them)");
	labelled(o, "kind", ch, s->challenges, 2);
}

static void
limits(const struct proxy *px, struct metrics_out *o)
{
	static const char *const which[3] = { "source", "challenge", "decrypt" };
	static const char *const stream_why[4] = { "not_sip", "timeout",
	    "no_descriptors", "source_limit" };
	const struct proxy_stats *s = &px->stats;
	uint64_t v[3], closed[4];

	closed[0] = streamguard_closed(STREAMGUARD_GARBAGE);
	closed[1] = streamguard_closed(STREAMGUARD_TIMEOUT);
	closed[2] = fdreserve_shed_total();
	closed[3] = connlimit_refused();

	mo_family(o, "e2mproxy_rate_limited_total", "counter",
	    "requests refused by a rate limit: UDP datagrams over a source's "
	    "budget (dropped unread), challenges and decryptions over theirs "
	    "(503)");
	v[0] = srcguard_dropped();
	v[1] = s->limited_challenge;
	v[2] = s->limited_decrypt;
	labelled(o, "limit", which, v, 3);
	mo_family(o, "e2mproxy_stream_connections_closed_total", "counter",
	    "TCP/TLS connections the proxy closed: bytes that cannot be SIP "
	    "(not_sip), no whole message within sip.message_timeout "
	    "(timeout); or at accept: no file descriptor left "
	    "(no_descriptors), its address at "
	    "sip.max_connections_per_source (source_limit)");
	labelled(o, "reason", stream_why, closed, 4);
	mo_family(o, "e2mproxy_busy_total", "counter",
	    "requests answered 503 because the crypto queue was full");
	mo_u64(o, NULL, s->busy);
	mo_family(o, "e2mproxy_worker_queue_depth", "gauge",
	    "crypto jobs waiting for a worker thread");
	mo_u64(o, NULL, px->workers != NULL ? workers_queued(px->workers) : 0);
}

static void
services(const struct proxy *px, struct metrics_out *o)
{
	static const char *const res[2] = { "written", "failed" };
	struct pinhole_stats ps;
	unsigned long long w = 0, f = 0;
	unsigned long failed = 0;
	uint64_t v[2];
	char l[128];
	size_t i;

	if (px->archive != NULL) {
		svc_archive_counts(px->archive, &w, &f);
		mo_family(o, "e2mproxy_archive_records_total", "counter",
		    "IM archive records, by outcome (written: on disk)");
		v[0] = w;
		v[1] = f;
		labelled(o, "result", res, v, 2);
	}
	if (px->pinholes == NULL)
		return;
	svc_pinhole_counts(px->pinholes, &ps, &failed);
	mo_family(o, "e2mproxy_pinholes_open", "gauge",
	    "media pinholes open in the firewall sets");
	mo_u64(o, NULL, ps.holes);
	mo_family(o, "e2mproxy_pinhole_dialogs", "gauge",
	    "dialogs with media the pinhole table follows");
	mo_u64(o, NULL, ps.dialogs);
	mo_family(o, "e2mproxy_pinholes_refused_total", "counter",
	    "media streams no pinhole was opened for, by reason");
	for (i = 0; i < PINHOLE_R_COUNT; i++) {
		l[0] = '\0';
		mo_u64(o, mo_label(l, sizeof(l), "reason",
		    pinhole_reason_str((enum pinhole_reason)i)), ps.refused[i]);
	}
	mo_family(o, "e2mproxy_pinhole_changes_failed_total", "counter",
	    "firewall changes the back end could not make");
	mo_u64(o, NULL, failed);
}

/* The edge proxy (edge.path): only when it is one. */
static void
edge(const struct proxy *px, struct metrics_out *o)
{
	static const char *const why[2] = { "flow_failed", "forged_token" };
	struct edge_counters c;
	uint64_t v[2];

	if (px->edge == NULL)
		return;
	edge_counters(px->edge, &c);
	mo_family(o, "e2mproxy_edge_flows", "gauge",
	    "phones' flows (UDP addresses, TCP/TLS connections) kept for "
	    "their registrations");
	mo_u64(o, NULL, c.flows);
	mo_family(o, "e2mproxy_edge_routed_total", "counter",
	    "requests sent to a phone over the flow their token names");
	mo_u64(o, NULL, c.routed);
	mo_family(o, "e2mproxy_edge_refused_total", "counter",
	    "requests for phones refused: 430 (the flow is gone), 403 (a "
	    "token this proxy did not make)");
	v[0] = c.failed_430;
	v[1] = c.forged_403;
	labelled(o, "reason", why, v, 2);
	mo_family(o, "e2mproxy_edge_flows_refused_total", "counter",
	    "REGISTERs answered 503: edge.max_flows or max_flows_per_source");
	mo_u64(o, NULL, c.refused);
	mo_family(o, "e2mproxy_edge_flows_ended_total", "counter",
	    "flows ended: registration expired or connection closed");
	mo_u64(o, NULL, c.expired);
}

void
proxy_metrics(const struct proxy *px, struct metrics_out *o)
{
	traffic(px, o);
	keepalives(o);
	inspection(px, o);
	limits(px, o);
	services(px, o);
	edge(px, o);
	sipoverload_metrics(px, o);
}
