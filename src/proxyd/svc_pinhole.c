/*
 * svc_pinhole.c - media pinholes as the proxy feeds them (svc_pinhole.h):
 * which side of which dialog a SIP message speaks for, the SDP the
 * inspection opened, and the table's changes handed to the firewall back
 * end's thread; a timer closes old dialogs and refreshes live holes.
 */
#include "proxyd/svc_pinhole.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include <event2/event.h>
#include <sofia-sip/sip_header.h>

#include "common/log.h"
#include "common/monoclock.h"
#include "e2m/inspect.h"
#include "proxyd/conf.h"
#include "proxyd/loop.h"
#include "proxyd/ptx.h"
#include "services/nftset.h"
#include "services/pinhole.h"
#include "services/sdp.h"

/* Streams of one SDP looked at, at most. */
#define MAX_MEDIA 16
/* Ports of one m= line ("m=audio 49170/2"), at most. */
#define MAX_NPORTS 4
/* A Session-Expires beyond this is read as this (max_duration caps it). */
#define MAX_SESSION_S (7UL * 24 * 3600)
/* How often old dialogs are closed and live holes refreshed. */
#define TICK_MS 1000
/* Back-end failures are logged at most this often. */
#define FAIL_LOG_MS 10000

struct svc_pinhole {
	const struct conf *conf;
	struct loop *loop;
	struct pinhole_table *table;
	struct nftset *set;
	struct event *ev_set;        /* the back end's wakeup fd */
	struct event *tick;
	struct pinhole_changes ch;
	unsigned long failures, unlogged;
	uint64_t last_fail_log;
};

static int
ranges_of(const struct conf *c, struct pinhole_range **out)
{
	size_t i;

	if ((*out = calloc(c->npinholes_ports, sizeof(**out))) == NULL)
		return -1;
	for (i = 0; i < c->npinholes_ports; i++) {
		(*out)[i].lo = c->pinholes_ports[i].lo;
		(*out)[i].hi = c->pinholes_ports[i].hi;
	}
	return 0;
}

struct svc_pinhole *
svc_pinhole_new(struct loop *l, const struct conf *c, char *err,
    size_t errsz)
{
	struct svc_pinhole *p;
	struct pinhole_conf pc;
	struct pinhole_range *ranges = NULL;
	const char *why = "out of memory";

	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    ranges_of(c, &ranges) != 0)
		goto fail;
	p->conf = c;
	p->loop = l;
	memset(&pc, 0, sizeof(pc));
	pc.nets = c->pinholes_networks;
	pc.nnets = c->npinholes_networks;
	pc.ranges = ranges;
	pc.nranges = c->npinholes_ports;
	pc.allow_tcp = c->pinholes_allow_tcp;
	pc.max_nports = MAX_NPORTS;
	pc.max_per_dialog = c->pinholes_max_per_dialog;
	pc.max_total = c->pinholes_max_total;
	pc.max_dialogs = c->pinholes_max_total;
	pc.max_duration_ms = (uint64_t)c->pinholes_max_duration_s * 1000;
	/* Two refreshes may be lost before an element times out. */
	pc.refresh_ms = (uint64_t)c->pinholes_timeout_s * 1000 / 3;
	/* The table's hash key: dialog keys come from the network. */
	if (getrandom(pc.seed, sizeof(pc.seed), 0) != sizeof(pc.seed)) {
		why = "no random bytes for the table";
		goto fail;
	}
	if ((p->table = pinhole_new(&pc, &why)) == NULL)
		goto fail;
	pinhole_changes_init(&p->ch);
	free(ranges);
	return p;
fail:
	snprintf(err, errsz, "%s", why);
	free(ranges);
	svc_pinhole_free(p);
	return NULL;
}

void
svc_pinhole_counts(const struct svc_pinhole *p, struct pinhole_stats *st,
    unsigned long *failed)
{
	pinhole_stats(p->table, st);
	*failed = p->failures;
}

/* Counted always, logged at most every FAIL_LOG_MS. */
static void
note_failures(struct svc_pinhole *p, unsigned n, const char *why)
{
	uint64_t now = monoclock_ms();

	p->failures += n;
	p->unlogged += n;
	if (p->last_fail_log != 0 && now - p->last_fail_log < FAIL_LOG_MS)
		return;
	log_error("pinholes: %lu firewall change(s) failed (%lu in all): %s",
	    p->unlogged, p->failures, why != NULL ? why : "queue full");
	p->unlogged = 0;
	p->last_fail_log = now;
}

static void
collect(evutil_socket_t fd, short what, void *arg)
{
	struct svc_pinhole *p = arg;
	const char *why = NULL;
	unsigned failed = 0;

	(void)fd;
	(void)what;
	nftset_collect(p->set, &failed, &why);
	if (failed > 0)
		note_failures(p, failed, why);
}

/* A line about t's request, or about the service when t is NULL. */
static void
say(const struct ptx *t, const char *fmt, ...) LOG_PRINTF(2, 3);

static void
say(const struct ptx *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (t != NULL)
		ptx_vlogf(t, LOG_INFO, fmt, ap);
	else
		log_vmsg(LOG_INFO, fmt, ap);
	va_end(ap);
}

/* Hand the table's changes to the back end; say what was refused. t: the
 * request that caused them, NULL for the timer. */
static void
apply(struct svc_pinhole *p, const struct ptx *t, const char *what)
{
	struct pinhole_changes *ch = &p->ch;
	char hs[PINHOLE_STRLEN];
	unsigned lost = 0;
	size_t i;

	for (i = 0; i < ch->ndel; i++) {
		lost += nftset_del(p->set, &ch->del[i]) != 0;
		say(t, "pinholes: %s: close %s", what,
		    pinhole_hole_str(&ch->del[i], hs, sizeof(hs)));
	}
	for (i = 0; i < ch->nadd; i++) {
		lost += nftset_add(p->set, &ch->add[i]) != 0;
		say(t, "pinholes: %s: open %s", what,
		    pinhole_hole_str(&ch->add[i], hs, sizeof(hs)));
	}
	for (i = 0; i < ch->nrefresh; i++)
		lost += nftset_refresh(p->set, &ch->refresh[i]) != 0;
	for (i = 0; i < ch->nrefused; i++)
		say(t, "pinholes: %s: refused %s stream %u: %s", what,
		    ch->refused[i].side == PINHOLE_CALLER ? "caller's" :
		    "callee's", ch->refused[i].media,
		    pinhole_reason_str(ch->refused[i].reason));
	if (lost > 0)
		note_failures(p, lost, NULL);
	pinhole_changes_clear(ch);
}

static void
tick(evutil_socket_t fd, short what, void *arg)
{
	struct svc_pinhole *p = arg;
	uint64_t now = monoclock_ms();
	long n;

	(void)fd;
	(void)what;
	if ((n = pinhole_expire(p->table, now, &p->ch)) > 0)
		log_info("pinholes: %ld dialog(s) past max_duration or their "
		    "session expiry closed", n);
	(void)pinhole_due(p->table, now, &p->ch);
	apply(p, NULL, "timer");
}

int
svc_pinhole_start(struct svc_pinhole *p, char *err, size_t errsz)
{
	const struct conf *c = p->conf;
	struct nftset_conf nc;
	struct timeval tv = { TICK_MS / 1000, (TICK_MS % 1000) * 1000 };

	memset(&nc, 0, sizeof(nc));
	nc.backend = c->pinholes_exec ? NFTSET_EXEC : NFTSET_NFT;
	nc.family = c->pinholes_family;
	nc.table = c->pinholes_table;
	nc.set4 = c->pinholes_set4;
	nc.set6 = c->pinholes_set6;
	nc.create = c->pinholes_create;
	nc.timeout_s = c->pinholes_timeout_s;
	nc.program = c->pinholes_program;
	if ((p->set = nftset_new(&nc, err, errsz)) == NULL)
		return -1;
	p->ev_set = event_new(loop_base(p->loop), nftset_fd(p->set),
	    EV_READ | EV_PERSIST, collect, p);
	p->tick = event_new(loop_base(p->loop), -1, EV_PERSIST, tick, p);
	if (p->ev_set == NULL || p->tick == NULL ||
	    event_add(p->ev_set, NULL) != 0 || event_add(p->tick, &tv) != 0) {
		snprintf(err, errsz, "cannot set up the pinhole events");
		return -1;
	}
	log_info("pinholes: %s %s %s/%s/%s, element timeout %u s, "
	    "dialogs at most %u s", c->pinholes_exec ? "program" : "nftables",
	    c->pinholes_exec ? c->pinholes_program : c->pinholes_family,
	    c->pinholes_table, c->pinholes_set4, c->pinholes_set6,
	    c->pinholes_timeout_s, c->pinholes_max_duration_s);
	return 0;
}

void
svc_pinhole_free(struct svc_pinhole *p)
{
	if (p == NULL)
		return;
	if (p->tick != NULL)
		event_free(p->tick);
	if (p->ev_set != NULL)
		event_free(p->ev_set);
	nftset_free(p->set);
	pinhole_changes_free(&p->ch);
	pinhole_free(p->table);
	free(p);
}

/* "Call-ID\ncaller's tag"; 0 when it does not fit (no pinholes then). */
static int
key_of(const sip_t *sip, const char *tag, char *key)
{
	int n;

	if (sip->sip_call_id == NULL || tag == NULL)
		return 0;
	n = snprintf(key, PINHOLE_MAX_KEY, "%s\n%s", sip->sip_call_id->i_id,
	    tag);
	return n > 0 && n < PINHOLE_MAX_KEY;
}

/* The first SDP readable in plaintext, parsed; 0 when there is none. */
static int
sdp_of(const struct inspect *in, struct sdp_media *m, size_t *n,
    const char **why)
{
	const struct mime_entity *root, *e;

	*why = "no SDP readable";
	if (in == NULL || inspect_result(in) != INSPECT_DONE ||
	    (root = inspect_tree(in)) == NULL)
		return 0;
	for (e = root; e != NULL; e = mime_next(root, e))
		if (inspect_readable(e) && e->data != NULL &&
		    mime_is(e, "application", "sdp"))
			return sdp_parse((const char *)e->data, e->data_len, m,
			    MAX_MEDIA, n, why) == SDP_OK;
	return 0;
}

/* A closed envelope where an SDP should be: no pinholes for that side,
 * and the operator is told why. */
static int
sdp_closed(const struct inspect *in)
{
	return in != NULL && inspect_result(in) == INSPECT_DONE &&
	    inspect_nclosed(in) > 0 && !inspect_sees(in, "application/sdp");
}

static void
set_side(struct svc_pinhole *p, const struct ptx *t, const char *key,
    enum pinhole_side side, const struct inspect *in, const char *what)
{
	struct sdp_media m[MAX_MEDIA];
	const char *why;
	size_t n = 0;

	if (!sdp_of(in, m, &n, &why)) {
		if (sdp_closed(in))
			ptx_logf(t, LOG_INFO, "pinholes: %s: the %s's SDP is "
			    "encrypted to others only: no pinholes for its "
			    "media (it must be disclosed to this proxy)", what,
			    side == PINHOLE_CALLER ? "caller" : "callee");
		else if (in != NULL && inspect_sees(in, "application/sdp"))
			ptx_logf(t, LOG_INFO, "pinholes: %s: SDP not used: %s",
			    what, why);
		return;
	}
	if (pinhole_set_media(p->table, key, side, m, n, monoclock_ms(),
	    &p->ch) != 0)
		ptx_logf(t, LOG_INFO, "pinholes: %s: not opened: %s", what,
		    errno == ENOSPC ? "too many dialogs" : "out of memory");
	apply(p, t, what);
}

static void
close_dialog(struct svc_pinhole *p, const struct ptx *t, const char *key,
    const char *what)
{
	char label[64];

	snprintf(label, sizeof(label), "tx %llu %s", t->id, what);
	(void)pinhole_close(p->table, key, &p->ch);
	apply(p, t, what);
}

/*
 * Who sent an in-dialog message: the dialog is known by the caller's tag,
 * which is the From tag of what the caller sends and the To tag of what
 * the callee sends. 1 and key set when one of them names a dialog.
 */
static int
sender_side(struct svc_pinhole *p, const sip_t *sip, char *key,
    enum pinhole_side *side)
{
	if (key_of(sip, sip->sip_from != NULL ? sip->sip_from->a_tag : NULL,
	    key) && pinhole_exists(p->table, key)) {
		*side = PINHOLE_CALLER;
		return 1;
	}
	if (key_of(sip, sip->sip_to != NULL ? sip->sip_to->a_tag : NULL,
	    key) && pinhole_exists(p->table, key)) {
		*side = PINHOLE_CALLEE;
		return 1;
	}
	return 0;
}

/*
 * RFC 4028 7.2/9: a 2xx to INVITE or UPDATE starts or refreshes the
 * session timer with its Session-Expires, or turns it off without one.
 * Past the expiry the session is over (the refresher refreshes at half
 * the interval, the other side sends BYE before it), so its holes close
 * then instead of at max_duration.
 */
static void
session_timer(struct svc_pinhole *p, const struct ptx *t, const char *key,
    const sip_t *rsip, const char *what)
{
	const sip_session_expires_t *x = rsip->sip_session_expires;
	uint64_t until = 0;

	if (x != NULL && x->x_delta > 0) {
		until = monoclock_ms() + (uint64_t)(x->x_delta >
		    MAX_SESSION_S ? MAX_SESSION_S : x->x_delta) * 1000;
	}
	if (pinhole_session(p->table, key, until) == 0 && until != 0)
		ptx_logf(t, LOG_DEBUG, "pinholes: %s: session expires in %lu s",
		    what, x->x_delta);
}

static int
carries_sdp(sip_method_t m)
{
	return m == sip_method_invite || m == sip_method_update ||
	    m == sip_method_ack || m == sip_method_prack;
}

void
svc_pinhole_request(struct svc_pinhole *p, const struct ptx *t)
{
	const sip_t *sip = t->sip;
	sip_method_t m = sip->sip_request->rq_method;
	enum pinhole_side side;
	char key[PINHOLE_MAX_KEY];

	if (p == NULL)
		return;
	if (m == sip_method_bye) {
		if (sender_side(p, sip, key, &side))
			close_dialog(p, t, key, "BYE");
		return;
	}
	if (!carries_sdp(m) || t->insp == NULL)
		return;
	if (!sender_side(p, sip, key, &side)) {
		/* A new dialog (or one the proxy did not see start): the
		 * sender is the caller. */
		if (!key_of(sip, sip->sip_from != NULL ?
		    sip->sip_from->a_tag : NULL, key))
			return;
		side = PINHOLE_CALLER;
	}
	set_side(p, t, key, side, t->insp, method_name(sip));
}

void
svc_pinhole_response(struct svc_pinhole *p, const struct ptx *t,
    const sip_t *rsip, const struct inspect *rinsp)
{
	const sip_t *sip = t->sip;
	sip_method_t m = sip->sip_request->rq_method;
	int status = rsip->sip_status->st_status;
	enum pinhole_side side;
	char key[PINHOLE_MAX_KEY], what[32];

	if (p == NULL || !carries_sdp(m) || m == sip_method_ack)
		return;
	if (!sender_side(p, sip, key, &side)) {
		if (!key_of(sip, sip->sip_from != NULL ?
		    sip->sip_from->a_tag : NULL, key))
			return;
		side = PINHOLE_CALLER;
	}
	snprintf(what, sizeof(what), "%d to %s", status, method_name(sip));
	/* A failed or canceled call: nothing of it stays open. */
	if (status >= 300 && m == sip_method_invite &&
	    (sip->sip_to == NULL || sip->sip_to->a_tag == NULL)) {
		close_dialog(p, t, key, what);
		return;
	}
	if (status >= 300 || status < 101)
		return;
	/* The answer speaks for the other side than the request's. */
	set_side(p, t, key, side == PINHOLE_CALLER ? PINHOLE_CALLEE :
	    PINHOLE_CALLER, rinsp, what);
	if (status >= 200 && m != sip_method_prack)
		session_timer(p, t, key, rsip, what);
}
