/*
 * terminate.c - BYE both sides of a dialog the proxy sits in (see
 * terminate.h).
 */
#include "proxyd/terminate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/nta.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_util.h>
#include <sofia-sip/su_tagarg.h>

#include "proxyd/agent.h"
#include "common/log.h"
#include "common/txmap.h"

/* The BYE's own transaction needs nobody: forget it once it is over. */
static int
bye_answered(nta_outgoing_magic_t *magic, nta_outgoing_t *orq,
    const sip_t *sip)
{
	int status = sip != NULL ? sip->sip_status->st_status :
	    nta_outgoing_status(orq);

	(void)magic;
	if (status >= 200) {
		log_debug("dialog termination: BYE answered %d", status);
		nta_outgoing_destroy(orq);
	}
	return 0;
}

/*
 * Split the 2xx's Record-Route around our own entries (one, or two when
 * the transport changed): those above lead to the callee (nearest last),
 * those below to the caller (nearest first). Copies in home.
 */
static void
split_route(su_home_t *home, struct agent *ag, const sip_record_route_t *rr,
    sip_route_t **callee, sip_route_t **caller)
{
	const sip_record_route_t *r, *first_me = NULL, *last_me = NULL;
	sip_route_t *above = NULL, **tail = &above;

	*callee = *caller = NULL;
	for (r = rr; r != NULL; r = r->r_next)
		if (agent_is_me(ag, r->r_url)) {
			if (first_me == NULL)
				first_me = r;
			last_me = r;
		}
	if (first_me == NULL)
		return; /* not record-routed: straight to the Contacts */
	for (r = rr; r != first_me; r = r->r_next) {
		*tail = sip_route_create(home, r->r_url, NULL);
		if (*tail == NULL)
			break;
		tail = &(*tail)->r_next;
	}
	*callee = sip_route_reverse(home, above);
	if (last_me->r_next != NULL)
		*caller = sip_route_fixdup(home, (const sip_route_t *)
		    last_me->r_next);
}

/* from and to are header values: the same address, once as the caller's
 * From and once as the callee's, so no header object is reused. */
static int
send_bye(struct agent *ag, const url_t *target, sip_route_t *route,
    const char *from, const char *to, const sip_t *invite,
    const char *reason)
{
	nta_agent_t *nta = agent_nta(ag);
	msg_t *msg = nta_msg_create(nta, 0);
	sip_t *sip = sip_object(msg);
	su_home_t *home = msg_home(msg);
	nta_outgoing_t *orq;
	url_string_t const *next;

	if (msg == NULL || target == NULL)
		goto fail;
	if (sip_add_tl(msg, sip,
	    SIPTAG_REQUEST(sip_request_create(home, SIP_METHOD_BYE,
	    (url_string_t const *)target, NULL)),
	    SIPTAG_FROM_STR(from), SIPTAG_TO_STR(to),
	    SIPTAG_CALL_ID(invite->sip_call_id),
	    SIPTAG_CSEQ(sip_cseq_create(home, invite->sip_cseq->cs_seq + 1,
	    SIP_METHOD_BYE)),
	    SIPTAG_ROUTE(route), SIPTAG_MAX_FORWARDS_STR("70"),
	    SIPTAG_REASON_STR(reason), TAG_END()) < 0)
		goto fail;
	next = sip->sip_route != NULL ?
	    (url_string_t const *)sip->sip_route->r_url : NULL;
	orq = nta_outgoing_mcreate(nta, bye_answered, NULL, next, msg,
	    TAG_END());
	if (orq == NULL)
		goto fail;
	return 1;
fail:
	msg_destroy(msg);
	return 0;
}

int
terminate_dialog(struct agent *ag, const sip_t *invite, const sip_t *ok,
    unsigned reason_code, const char *reason_text)
{
	su_home_t home[1] = { SU_HOME_INIT(home) };
	sip_route_t *to_callee, *to_caller;
	char reason[128];
	const char *caller, *callee;
	int n = 0;

	if (invite->sip_call_id == NULL || invite->sip_cseq == NULL ||
	    invite->sip_from == NULL || ok->sip_to == NULL) {
		su_home_deinit(home);
		return 0;
	}
	snprintf(reason, sizeof(reason), "SIP;cause=%u;text=\"%s\"",
	    reason_code, reason_text);
	split_route(home, ag, ok->sip_record_route, &to_callee, &to_caller);
	caller = sip_header_as_string(home, (const sip_header_t *)
	    invite->sip_from);
	callee = sip_header_as_string(home, (const sip_header_t *)ok->sip_to);
	/* As the caller towards the callee, and as the callee back. */
	if (ok->sip_contact != NULL)
		n += send_bye(ag, ok->sip_contact->m_url, to_callee, caller,
		    callee, invite, reason);
	if (invite->sip_contact != NULL)
		n += send_bye(ag, invite->sip_contact->m_url, to_caller,
		    callee, caller, invite, reason);
	su_home_deinit(home);
	return n;
}

/*
 * The caller's side of dialogs a terminate rule covers, from their 2xx
 * until their ACK: an ACK carries the callee's route set (its Route
 * header) but nothing that reaches the caller, whose Contact is optional
 * there. Entries expire after linger_ms in arrival order (one FIFO, all
 * with the same lifetime), so the table holds at most rate x linger.
 */
struct caller {
	struct caller *next;   /* FIFO, oldest first */
	struct caller *prev;
	uint64_t key;
	uint64_t expires;      /* ms */
	char *id;              /* Call-ID NUL From-tag NUL To-tag NUL */
	size_t idlen;
	char *contact;         /* URI */
	char *route;           /* Route header value, or NULL */
};

struct dialogs {
	struct txmap *map;
	struct caller *head, *tail;
	unsigned linger_ms;
};

struct dialogs *
dialogs_new(unsigned linger_ms)
{
	struct dialogs *d = calloc(1, sizeof(*d));

	if (d == NULL || (d->map = txmap_new()) == NULL) {
		free(d);
		return NULL;
	}
	d->linger_ms = linger_ms;
	return d;
}

static void
caller_free(struct caller *c)
{
	free(c->id);
	free(c->contact);
	free(c->route);
	free(c);
}

/* Unlink c from the FIFO and the map, and free it. */
static void
drop(struct dialogs *d, struct caller *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		d->head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	else
		d->tail = c->prev;
	txmap_del(d->map, c->key, c);
	caller_free(c);
}

static void
expire(struct dialogs *d, uint64_t now)
{
	while (d->head != NULL && d->head->expires <= now)
		drop(d, d->head);
}

void
dialogs_free(struct dialogs *d)
{
	if (d == NULL)
		return;
	while (d->head != NULL)
		drop(d, d->head);
	txmap_free(d->map);
	free(d);
}

/* "Call-ID\0from-tag\0to-tag\0" in buf; its length, or 0 if incomplete. */
static size_t
dialog_id(const sip_t *sip, char *buf, size_t bufsz)
{
	const char *part[3];
	size_t i, len, n = 0;

	if (sip->sip_call_id == NULL || sip->sip_from == NULL ||
	    sip->sip_to == NULL || sip->sip_from->a_tag == NULL ||
	    sip->sip_to->a_tag == NULL)
		return 0;
	part[0] = sip->sip_call_id->i_id;
	part[1] = sip->sip_from->a_tag;
	part[2] = sip->sip_to->a_tag;
	/* Looked up for every in-dialog request: copied, not printed. */
	for (i = 0; i < 3; i++) {
		len = strlen(part[i]);
		if (len >= bufsz - n)
			return 0;
		memcpy(buf + n, part[i], len + 1);
		n += len + 1;
	}
	return n;
}

static uint64_t
id_key(const char *id, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)id[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

struct id_arg {
	const char *id;
	size_t len;
};

static int
same_id(const void *val, const void *arg)
{
	const struct caller *c = val;
	const struct id_arg *a = arg;

	return c->idlen == a->len && memcmp(c->id, a->id, a->len) == 0;
}

static struct caller *
lookup(struct dialogs *d, const sip_t *sip, uint64_t now)
{
	char id[1024];
	struct id_arg a = { id, 0 };

	expire(d, now);
	if ((a.len = dialog_id(sip, id, sizeof(id))) == 0)
		return NULL;
	return txmap_find(d->map, id_key(id, a.len), same_id, &a);
}

void
dialogs_remember(struct dialogs *d, struct agent *ag, const sip_t *invite,
    const sip_t *ok, uint64_t now)
{
	su_home_t home[1] = { SU_HOME_INIT(home) };
	sip_route_t *to_callee, *to_caller;
	struct caller *c;
	char id[1024];
	size_t len;

	if (d == NULL || invite->sip_contact == NULL ||
	    (len = dialog_id(ok, id, sizeof(id))) == 0 ||
	    lookup(d, ok, now) != NULL || (c = calloc(1, sizeof(*c))) == NULL)
		return;
	split_route(home, ag, ok->sip_record_route, &to_callee, &to_caller);
	c->key = id_key(id, len);
	c->expires = now + d->linger_ms;
	c->idlen = len;
	if ((c->id = malloc(len)) != NULL)
		memcpy(c->id, id, len);
	c->contact = url_as_string(home, invite->sip_contact->m_url);
	c->contact = c->contact != NULL ? strdup(c->contact) : NULL;
	if (to_caller != NULL && (c->route = sip_header_as_string(home,
	    (const sip_header_t *)to_caller)) != NULL)
		c->route = strdup(c->route);
	su_home_deinit(home);
	if (c->id == NULL || c->contact == NULL ||
	    txmap_put(d->map, c->key, c) != 0) {
		caller_free(c);
		return;
	}
	c->prev = d->tail;
	if (d->tail != NULL)
		d->tail->next = c;
	else
		d->head = c;
	d->tail = c;
}

void
dialogs_forget(struct dialogs *d, const sip_t *ack, uint64_t now)
{
	struct caller *c;

	if (d != NULL && (c = lookup(d, ack, now)) != NULL)
		drop(d, c);
}

size_t
dialogs_count(const struct dialogs *d)
{
	return d != NULL ? txmap_count(d->map) : 0;
}

int
terminate_from_ack(struct dialogs *d, struct agent *ag, const sip_t *fwd,
    unsigned reason_code, const char *reason_text, uint64_t now)
{
	su_home_t home[1] = { SU_HOME_INIT(home) };
	const char *caller, *callee;
	struct caller *c = d != NULL ? lookup(d, fwd, now) : NULL;
	const url_t *target = NULL;
	sip_route_t *route = NULL;
	char reason[128];
	int n = 0;

	if (fwd->sip_call_id == NULL || fwd->sip_cseq == NULL ||
	    fwd->sip_from == NULL || fwd->sip_to == NULL) {
		su_home_deinit(home);
		return 0;
	}
	snprintf(reason, sizeof(reason), "SIP;cause=%u;text=\"%s\"",
	    reason_code, reason_text);
	caller = sip_header_as_string(home, (const sip_header_t *)
	    fwd->sip_from);
	callee = sip_header_as_string(home, (const sip_header_t *)fwd->sip_to);
	n += send_bye(ag, fwd->sip_request->rq_url, sip_route_dup(home,
	    fwd->sip_route), caller, callee, fwd, reason);
	/* The caller: as its 2xx left it, else the ACK's own Contact. */
	if (c != NULL) {
		target = url_make(home, c->contact);
		route = c->route != NULL ? sip_route_make(home, c->route) :
		    NULL;
	} else if (fwd->sip_contact != NULL) {
		target = fwd->sip_contact->m_url;
	}
	if (target != NULL)
		n += send_bye(ag, target, route, callee, caller, fwd, reason);
	if (c != NULL)
		drop(d, c);
	su_home_deinit(home);
	return n;
}
