/*
 * ptx.h - one request through the proxy (struct ptx), and the proxy it
 * belongs to: private to the files that make up the proxy core.
 *
 * A request enters (incoming.c), passes the stages (stages.c: check, loop,
 * select a rule, inspect, decide) and is forwarded (forward.c) as one client
 * transaction, or answered by the proxy itself (answer.c). Its responses
 * go upstream in order, each inspected first when a rule asks
 * (responses.c). An INVITE has more: CANCEL, and once it is proceeding
 * the proxy takes its client transaction over from nta, with Timer C
 * (invite.c). proxy.c makes and frees the proxy. Everything runs on the
 * loop thread.
 */
#ifndef PTX_H
#define PTX_H

#define NTA_INCOMING_MAGIC_T struct ptx
#define NTA_OUTGOING_MAGIC_T struct ptx
#define NTA_AGENT_MAGIC_T struct proxy

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/util.h>
#include <sofia-sip/nta.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/tport.h>

#include "common/log.h"
#include "e2m/inspect.h"
#include "e2m/policy.h"
#include "proxyd/edge.h"
#include "proxyd/overload.h"
#include "proxyd/proxy.h"
#include "proxyd/sipchallenge.h"
#include "proxyd/state.h"

struct conf;
struct loop;
struct agent;
struct cms_keys;
struct workers;
struct sipchallenge;
struct ratelimit;
struct txmap;
struct dialogs;
struct owntx_table;
struct owntx;
struct event;
struct svc_archive;
struct svc_pinhole;
struct state;

/* Our branches are MAGIC + unique hash + "." + loop hash (RFC 3261 16.6). */
#define BRANCH_MAGIC "z9hG4bKe2m"
#define HEXHASH_LEN 16
/* RFC 3261 16.6 step 11: Timer C, more than three minutes. */
#define TIMER_C_SECONDS 185
/* Responses of one transaction waiting while an earlier one is inspected;
 * more than this many in that time is not a real UAS. */
#define RESP_QUEUE 16
/* Completed transactions of our own expire in batches this far apart. */
#define OWN_BATCH_MS 250
/* Sources tracked by each rate limiter (about 64 bytes each). */
#define RATELIMIT_SOURCES 65536
/* Label header fields looked at in one message. */
#define MAX_LABEL_FIELDS 16

struct proxy {
	const struct conf *conf;  /* as started: listeners, threads, services */
	struct state *st;         /* the current state (state.h): new requests */
	struct loop *loop;
	struct agent *agent;
	struct workers *workers;
	struct ratelimit *ch_rl;  /* challenges per source */
	struct ratelimit *dec_rl; /* decryptions per source */
	struct txmap *detached;   /* client transactions nta does not keep
	                           * (INVITEs taken over, ownclient.c), by branch */
	struct dialogs *dialogs;  /* callers a terminating ACK must reach */
	struct owntx_table *own;  /* UDP non-INVITE server transactions */
	struct event *own_timer;  /* the oldest completed one expires */
	struct svc_archive *archive; /* NULL: no IM archive */
	struct svc_pinhole *pinholes; /* NULL: no media pinholes */
	struct edge *edge;        /* NULL: not an edge proxy (edge.path) */
	struct ptx *live;         /* every ptx not yet freed (stop.c) */
	struct proxy_stop *stop;  /* NULL: running; else stopping (stop.c) */
	unsigned long long next_id;
	struct proxy_stats stats;
	/* Overload control (sipoverload.c). */
	struct overload overload;
	char shed_tag[24];        /* the To tag of our 503s */
	struct event *shed_timer; /* ends an episode */
	uint64_t shed_acks;       /* ACKs to them, dropped */
};

/* A response goes upstream (counted by class). */
static inline void
ptx_count_response(struct proxy *px, int status)
{
	if (status >= 100 && status < 700)
		px->stats.responses[status / 100 - 1]++;
}

/* An INVITE whose client transaction the proxy took over (invite.c). */
struct ptx_detached {
	int on;                    /* nta's orq let go of */
	int tried;                 /* taking it over was tried */
	msg_t *sent;               /* the INVITE as sent */
	uint64_t bkey;             /* key in px->detached */
	struct event *timer_c;     /* no final response in time */
};

/* A non-INVITE request over UDP whose client transaction the proxy keeps
 * itself (ownclient.c). */
struct ptx_ownclient {
	int on;                    /* filed in px->detached by branch */
	int proceeding;            /* a provisional came: Timer E is T2 */
	int reliable;              /* not sent over UDP after all: no Timer E */
	msg_t *sent;               /* the request as sent */
	tport_t *tp;               /* the UDP socket it left by */
	int pend;                  /* tport_pend() id (ICMP errors), or 0 */
	unsigned interval_ms;      /* the next Timer E */
	uint64_t deadline_ms;      /* Timer F */
	struct event *timer;       /* E and F */
	char host[48], port[8];    /* where it goes (an IP address) */
};

/* Responses waiting to go upstream, oldest first (responses.c). */
struct ptx_responses {
	struct inspect *insp;      /* the oldest one's inspection */
	int busy;                  /* insp has crypto running */
	msg_t *q[RESP_QUEUE];
	size_t first, n;
};

struct ptx {
	struct proxy *px;
	struct ptx *live_prev, *live_next; /* px->live */
	struct state *st;          /* the state it started under, referenced */
	unsigned long long id;
	/* The request and the server transaction it came in. */
	msg_t *req;                /* our reference to the received request */
	sip_t *sip;                /* parsed req */
	nta_incoming_t *irq;       /* nta's server transaction, or NULL: */
	struct owntx *stx;         /* our own (UDP non-INVITE), or NULL */
	tport_t *tport;            /* stx: the socket the request came in on */
	/* The stages. */
	size_t stage;              /* next stage to run */
	const struct policy_rule *rule; /* NULL: no rule, not inspected */
	struct inspect *insp;      /* the decrypt stage's findings */
	int is_ack;                /* an ACK with a body, inspected */
	const char *terminate;     /* ACK: why to end the dialog, or NULL */
	/* Forwarding. */
	nta_outgoing_t *orq;
	msg_t *fwd;                /* request being built; owned until sent */
	const char *route_url;     /* next hop chosen by rules; borrowed */
	int rule_line;
	int canceled;
	int trying_sent;           /* INVITE: our 100 went upstream */
	char loophash[HEXHASH_LEN + 1];
	char branch[sizeof(BRANCH_MAGIC) + 2 * HEXHASH_LEN + 2];
	struct ptx_detached det;
	struct ptx_ownclient own;
	struct ptx_responses resp;
	/* The edge proxy: flows in and out, Path (edge.c). */
	struct edge_req edge;
	/* The IM archive (svc_archive.c). */
	int archived;              /* its record is durable: a final follows */
	int final_status;          /* the final response sent upstream, or 0 */
};

/* NEXT: go on (after forward: in flight); DONE: answered locally;
 * WAIT: crypto is running, the stages resume when it is done. */
enum step { STEP_NEXT, STEP_DONE, STEP_WAIT };

static inline const char *
method_name(const sip_t *sip)
{
	return sip->sip_request->rq_method_name;
}

/* incoming.c */
struct ptx *ptx_new(struct proxy *px, msg_t *req);
void ptx_free(struct ptx *t);
int incoming_stray(struct proxy *px, nta_agent_t *nta, msg_t *msg,
    sip_t *sip);

/* stop.c */
int stop_refuses(struct proxy *px, const sip_t *sip);
void stop_free_live(struct proxy *px);

/* stages.c */
void stages_start(struct ptx *t);
void stages_send_trying(struct ptx *t);
int stages_to_inspect(const struct ptx *t, const sip_t *sip);
void stages_count_inspection(struct proxy *px, const struct inspect *in);
void stages_inspect_input(struct ptx *t, msg_t *msg,
    struct inspect_input *in, struct label_field *labels);
uint64_t ptx_hash_str(uint64_t h, const char *s);
int ptx_via_is_me(const struct proxy *px, const sip_via_t *v);
/* A log line about t's request: it carries the transaction number,
 * method, CSeq, Call-ID, source address and transport (common/log.h). */
void ptx_logf(const struct ptx *t, int prio, const char *fmt, ...)
    LOG_PRINTF(3, 4);
void ptx_vlogf(const struct ptx *t, int prio, const char *fmt, va_list ap)
    LOG_PRINTF(3, 0);
/* The same about a request that has no ptx (tx 0: none). */
void msg_logf(msg_t *req, const sip_t *sip, int prio, const char *fmt, ...)
    LOG_PRINTF(4, 5);
void msg_vlogf(msg_t *req, const sip_t *sip, unsigned long long tx,
    int prio, const char *fmt, va_list ap) LOG_PRINTF(5, 0);
/* Debug: what happened to the request, and its Request-URI. */
void ptx_log(const struct ptx *t, const char *what);

/* forward.c */
enum step forward_request(struct ptx *t);
void forward_ack(struct ptx *t);
/* Where a next hop URI sends to when that is an IP address: its maddr,
 * else its host, written to out without brackets (tport_by_name() tells
 * an IPv6 address's family only so). AF_INET or AF_INET6; 0 for a host
 * name (or one too long for out). */
int ptx_hop_address(const url_t *next, char *out, size_t size);

/* edge.c */
enum step edge_stage(struct ptx *t);
int edge_ack(struct ptx *t);
void edge_add_path(struct ptx *t, sip_t *fsip, const url_t *rr);
const url_t *edge_rr_url(struct ptx *t, const url_t *rr, int inbound);
int edge_next_hop(struct ptx *t, char *url, size_t urlsz, tport_t **conn);
enum step edge_flow_failed(struct ptx *t);
void edge_register_response(struct ptx *t, msg_t *resp);
void edge_ptx_free(struct ptx *t);
void edge_log_forward(const struct ptx *t);

/* answer.c */
void answer_status(struct ptx *t, int status, const char *phrase,
    tag_type_t tag, tag_value_t value, ...);
enum step answer_reply(struct ptx *t, int status, const char *phrase);
int answer_own_send(struct ptx *t, msg_t *resp);
int answer_own_challenge(struct ptx *t, enum sipchallenge_kind kind,
    const char *const *missing, size_t nmissing, const char **why);
void answer_own_close(struct ptx *t);
void answer_own_expire(evutil_socket_t fd, short what, void *arg);

/* responses.c */
int responses_on_response(struct ptx *t, nta_outgoing_t *orq,
    const sip_t *sip);
void responses_queue(struct ptx *t, msg_t *resp, int status);
void responses_local_failure(struct ptx *t, int status);

/* invite.c */
int invite_on_cancel(struct ptx *t, nta_incoming_t *irq, const sip_t *sip);
void invite_cancel_downstream(struct ptx *t);
void invite_detach(struct ptx *t);
struct ptx *invite_find_detached(struct proxy *px, const char *branch);
/* The key in px->detached of a client transaction with our branch. */
uint64_t ptx_branch_key(const char *branch);
/* The request as sent went over UDP (its top Via says so). */
int ptx_sent_over_udp(const sip_t *sent);
void invite_detached_response(struct ptx *t, msg_t *msg, const sip_t *sip);

/* ownclient.c */
int ownclient_send(struct ptx *t, const url_t *next, url_string_t const *route,
    tport_t *conn);
void ownclient_response(struct ptx *t, msg_t *msg, const sip_t *sip);
void ownclient_end(struct ptx *t);

#endif /* PTX_H */
