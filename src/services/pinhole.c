/* pinhole.c - which firewall pinholes each dialog's media needs. */
#include "services/pinhole.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>

/* A hash table entry: first member of a hole and of a dialog. Chained, so
 * that once an entry is allocated, inserting it cannot fail. */
struct hnode {
	struct hnode *next;
	uint64_t hash;
};

struct htab {
	struct hnode **b;
	size_t nb; /* a power of 2 */
	size_t n;
};

struct hole {
	struct hnode hn;
	TAILQ_ENTRY(hole) due; /* by next refresh, earliest first */
	uint64_t next_ms;
	unsigned refs;
	struct pinhole_hole h;
};

struct dialog {
	struct hnode hn;
	TAILQ_ENTRY(dialog) age; /* by first report, oldest first */
	TAILQ_ENTRY(dialog) timed; /* in sessq while session_ms is set */
	uint64_t born_ms;
	uint64_t session_ms; /* RFC 4028 session expiry; 0: none */
	struct sdp_media *media[2];
	size_t nmedia[2];
	struct hole **holes;
	size_t nholes;
	size_t keylen;
	char key[];
};

TAILQ_HEAD(holeq, hole);
TAILQ_HEAD(dialogq, dialog);

/* A hole a dialog needs, and the stream that asked first. */
struct want {
	struct pinhole_hole h;
	enum pinhole_side side;
	unsigned media;
};

struct pinhole_table {
	struct pinhole_conf c;
	struct netaddr *nets;
	struct pinhole_range *ranges;
	struct htab holes, dialogs;
	struct holeq dueq;
	struct dialogq ageq;
	struct dialogq sessq; /* dialogs with a session expiry, unordered */
	unsigned long refused[PINHOLE_R_COUNT];
	/* scratch of pinhole_set_media, kept between calls */
	struct want *want;
};

/* --- SipHash-2-4: dialog keys and media addresses come from the network,
 * a keyed hash keeps a sender from filling one chain. */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                             \
	do {                                                                 \
		v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);   \
		v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                       \
		v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                       \
		v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);   \
	} while (0)

static uint64_t
le64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t
siphash(const unsigned char key[16], const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t k0 = le64(key), k1 = le64(key + 8), m;
	uint64_t b = (uint64_t)len << 56;
	uint64_t v0 = k0 ^ 0x736f6d6570736575ULL;
	uint64_t v1 = k1 ^ 0x646f72616e646f6dULL;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ULL;
	uint64_t v3 = k1 ^ 0x7465646279746573ULL;
	unsigned char last[8];
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		m = le64(p + i);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	memset(last, 0, sizeof(last));
	memcpy(last, p + i, len - i);
	b |= le64(last);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* --- hash tables */

static int
htab_init(struct htab *h)
{
	h->nb = 64;
	h->n = 0;
	h->b = calloc(h->nb, sizeof(*h->b));
	return h->b != NULL ? 0 : -1;
}

/* Twice the buckets when full; if that fails the chains just get longer. */
static void
htab_grow(struct htab *h)
{
	struct hnode **nb, *e, *next;
	size_t i, n = h->nb * 2;

	if (h->n < h->nb || (nb = calloc(n, sizeof(*nb))) == NULL)
		return;
	for (i = 0; i < h->nb; i++) {
		for (e = h->b[i]; e != NULL; e = next) {
			next = e->next;
			e->next = nb[e->hash & (n - 1)];
			nb[e->hash & (n - 1)] = e;
		}
	}
	free(h->b);
	h->b = nb;
	h->nb = n;
}

static void
htab_insert(struct htab *h, struct hnode *e)
{
	struct hnode **slot = &h->b[e->hash & (h->nb - 1)];

	e->next = *slot;
	*slot = e;
	h->n++;
	htab_grow(h);
}

static void
htab_remove(struct htab *h, struct hnode *e)
{
	struct hnode **pp = &h->b[e->hash & (h->nb - 1)];

	while (*pp != NULL && *pp != e)
		pp = &(*pp)->next;
	if (*pp == e) {
		*pp = e->next;
		h->n--;
	}
}

/* --- holes and dialogs by key */

static int
same_hole(const struct pinhole_hole *a, const struct pinhole_hole *b)
{
	return a->family == b->family && a->proto == b->proto &&
	    a->port == b->port && memcmp(a->addr, b->addr, 16) == 0;
}

static uint64_t
hole_hash(const struct pinhole_table *t, const struct pinhole_hole *h)
{
	unsigned char k[20];

	k[0] = (unsigned char)h->family;
	k[1] = (unsigned char)h->proto;
	k[2] = (unsigned char)(h->port >> 8);
	k[3] = (unsigned char)h->port;
	memcpy(k + 4, h->addr, 16);
	return siphash(t->c.seed, k, sizeof(k));
}

static struct hole *
hole_find(const struct pinhole_table *t, const struct pinhole_hole *h)
{
	uint64_t hash = hole_hash(t, h);
	struct hnode *e;

	for (e = t->holes.b[hash & (t->holes.nb - 1)]; e != NULL; e = e->next)
		if (e->hash == hash && same_hole(&((struct hole *)e)->h, h))
			return (struct hole *)e;
	return NULL;
}

static struct dialog *
dialog_find(const struct pinhole_table *t, const char *key, size_t len)
{
	uint64_t hash = siphash(t->c.seed, key, len);
	struct hnode *e;
	struct dialog *d;

	for (e = t->dialogs.b[hash & (t->dialogs.nb - 1)]; e != NULL;
	    e = e->next) {
		d = (struct dialog *)e;
		if (e->hash == hash && d->keylen == len &&
		    memcmp(d->key, key, len) == 0)
			return d;
	}
	return NULL;
}

/* --- change lists */

static int
reserve(void *arrp, size_t *cap, size_t n, size_t more, size_t elsz)
{
	void **arr = arrp, *p;
	size_t want = n + more, c = *cap ? *cap : 16;

	if (want <= *cap)
		return 0;
	while (c < want)
		c *= 2;
	if ((p = realloc(*arr, c * elsz)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	*arr = p;
	*cap = c;
	return 0;
}

void
pinhole_changes_init(struct pinhole_changes *ch)
{
	memset(ch, 0, sizeof(*ch));
}

void
pinhole_changes_clear(struct pinhole_changes *ch)
{
	ch->nadd = ch->ndel = ch->nrefresh = ch->nrefused = 0;
}

void
pinhole_changes_free(struct pinhole_changes *ch)
{
	free(ch->add);
	free(ch->del);
	free(ch->refresh);
	free(ch->refused);
	pinhole_changes_init(ch);
}

/* --- the table */

static const char *
check_conf(const struct pinhole_conf *c)
{
	size_t i;

	if (c->nets == NULL || c->nnets == 0)
		return "no media networks";
	if (c->ranges == NULL || c->nranges == 0)
		return "no media port ranges";
	for (i = 0; i < c->nranges; i++)
		if (c->ranges[i].lo == 0 || c->ranges[i].lo > c->ranges[i].hi ||
		    c->ranges[i].hi > 65535)
			return "bad media port range";
	if (c->max_nports == 0 || c->max_nports > PINHOLE_MAX_NPORTS)
		return "max_nports out of range";
	if (c->max_per_dialog == 0 ||
	    c->max_per_dialog > PINHOLE_MAX_PER_DIALOG)
		return "max_per_dialog out of range";
	if (c->max_total == 0 || c->max_dialogs == 0)
		return "max_total and max_dialogs must be positive";
	if (c->max_duration_ms == 0 || c->refresh_ms == 0)
		return "max_duration_ms and refresh_ms must be positive";
	return NULL;
}

struct pinhole_table *
pinhole_new(const struct pinhole_conf *c, const char **why)
{
	struct pinhole_table *t;

	if ((*why = check_conf(c)) != NULL)
		return NULL;
	*why = "out of memory";
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->c = *c;
	t->nets = calloc(c->nnets, sizeof(*t->nets));
	t->ranges = calloc(c->nranges, sizeof(*t->ranges));
	t->want = calloc(c->max_per_dialog, sizeof(*t->want));
	if (t->nets == NULL || t->ranges == NULL || t->want == NULL ||
	    htab_init(&t->holes) != 0 || htab_init(&t->dialogs) != 0) {
		pinhole_free(t);
		return NULL;
	}
	memcpy(t->nets, c->nets, c->nnets * sizeof(*t->nets));
	memcpy(t->ranges, c->ranges, c->nranges * sizeof(*t->ranges));
	t->c.nets = t->nets;
	t->c.ranges = t->ranges;
	TAILQ_INIT(&t->dueq);
	TAILQ_INIT(&t->ageq);
	TAILQ_INIT(&t->sessq);
	*why = "ok";
	return t;
}

static void
dialog_free(struct dialog *d)
{
	free(d->media[0]);
	free(d->media[1]);
	free(d->holes);
	free(d);
}

void
pinhole_free(struct pinhole_table *t)
{
	struct dialog *d;
	struct hole *h;

	if (t == NULL)
		return;
	while ((d = TAILQ_FIRST(&t->ageq)) != NULL) {
		TAILQ_REMOVE(&t->ageq, d, age);
		dialog_free(d);
	}
	while ((h = TAILQ_FIRST(&t->dueq)) != NULL) {
		TAILQ_REMOVE(&t->dueq, h, due);
		free(h);
	}
	free(t->holes.b);
	free(t->dialogs.b);
	free(t->nets);
	free(t->ranges);
	free(t->want);
	free(t);
}

/* --- policy: may this endpoint have a hole? */

static int
in_networks(const struct pinhole_table *t, const struct sdp_endpoint *ep)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	size_t i;

	memset(&ss, 0, sizeof(ss));
	ss.ss_family = (sa_family_t)ep->family;
	if (ep->family == AF_INET)
		memcpy(&sin->sin_addr, ep->addr, 4);
	else
		memcpy(&sin6->sin6_addr, ep->addr, 16);
	for (i = 0; i < t->c.nnets; i++)
		if (netaddr_match(&t->nets[i], (struct sockaddr *)&ss))
			return 1;
	return 0;
}

/* The reason an endpoint's address and transport get no hole, or -1. */
static int
endpoint_refusal(const struct pinhole_table *t, const struct sdp_endpoint *ep)
{
	static const unsigned char zero[16], mapped[12] = { [10] = 0xff,
		[11] = 0xff };

	switch (ep->conn) {
	case SDP_CONN_IP:
		break;
	case SDP_CONN_HOSTNAME:
		return PINHOLE_R_HOSTNAME;
	case SDP_CONN_MULTICAST:
		return PINHOLE_R_MULTICAST;
	default:
		return PINHOLE_R_NOADDR;
	}
	if (ep->family != AF_INET && ep->family != AF_INET6)
		return PINHOLE_R_NOADDR;
	if (memcmp(ep->addr, zero, ep->family == AF_INET ? 4 : 16) == 0 ||
	    (ep->family == AF_INET6 && memcmp(ep->addr, mapped, 12) == 0))
		return PINHOLE_R_UNSPEC;
	if (!in_networks(t, ep))
		return PINHOLE_R_NETWORK;
	if (ep->proto != IPPROTO_UDP &&
	    !(ep->proto == IPPROTO_TCP && t->c.allow_tcp))
		return PINHOLE_R_TRANSPORT;
	return -1;
}

static int
port_allowed(const struct pinhole_table *t, unsigned port)
{
	size_t i;

	for (i = 0; i < t->c.nranges; i++)
		if (port >= t->ranges[i].lo && port <= t->ranges[i].hi)
			return 1;
	return 0;
}

/* The wanted holes of one call of pinhole_set_media being computed. */
struct wanted {
	struct pinhole_table *t;
	struct pinhole_changes *ch;
	size_t n;
};

/* The hole an endpoint would have at port; family AF_UNSPEC without an
 * address. */
static void
ep_hole(const struct sdp_endpoint *ep, unsigned port, struct pinhole_hole *h)
{
	memset(h, 0, sizeof(*h));
	h->family = ep->conn == SDP_CONN_IP || ep->conn == SDP_CONN_MULTICAST ?
	    ep->family : AF_UNSPEC;
	if (h->family == AF_INET || h->family == AF_INET6)
		memcpy(h->addr, ep->addr, h->family == AF_INET ? 4 : 16);
	else
		h->family = AF_UNSPEC;
	h->port = port;
	h->proto = ep->proto;
}

static int
refuse(struct pinhole_changes *ch, enum pinhole_side side, unsigned media,
    enum pinhole_reason r, const struct pinhole_hole *h)
{
	struct pinhole_refusal *rf;

	if (reserve(&ch->refused, &ch->refused_cap, ch->nrefused, 1,
	    sizeof(*ch->refused)) != 0)
		return -1;
	rf = &ch->refused[ch->nrefused++];
	rf->side = side;
	rf->media = media;
	rf->reason = r;
	rf->hole = *h;
	return 0;
}

/* One endpoint (at port) of a stream: wanted, or refused. */
static int
consider(struct wanted *w, enum pinhole_side side, unsigned media,
    const struct sdp_endpoint *ep, unsigned port)
{
	struct pinhole_table *t = w->t;
	struct pinhole_hole h;
	int r;
	size_t i;

	ep_hole(ep, port, &h);
	if ((r = endpoint_refusal(t, ep)) < 0 && !port_allowed(t, port))
		r = PINHOLE_R_PORT;
	if (r >= 0)
		return refuse(w->ch, side, media, (enum pinhole_reason)r, &h);
	for (i = 0; i < w->n; i++)
		if (same_hole(&t->want[i].h, &h))
			return 0;
	if (w->n == t->c.max_per_dialog)
		return refuse(w->ch, side, media, PINHOLE_R_DIALOG_CAP, &h);
	t->want[w->n].h = h;
	t->want[w->n].side = side;
	t->want[w->n].media = media;
	w->n++;
	return 0;
}

/* The holes stream i of one side needs, given the other side's stream i
 * (NULL: not reported yet). */
static int
stream(struct wanted *w, enum pinhole_side side, unsigned i,
    const struct sdp_media *m, const struct sdp_media *o)
{
	struct sdp_endpoint rtcp;
	struct pinhole_hole h;
	unsigned k, step = m->rtp ? 2 : 1;
	int mux;

	if (m->rejected || (o != NULL && o->rejected) || m->inactive)
		return 0;
	if (m->nports > w->t->c.max_nports) {
		ep_hole(&m->rtp_ep, m->rtp_ep.port, &h);
		return refuse(w->ch, side, i, PINHOLE_R_NPORTS, &h);
	}
	mux = m->rtcp_mux && (o == NULL || o->rtcp_mux);
	for (k = 0; k < m->nports; k++) {
		if (consider(w, side, i, &m->rtp_ep, m->rtp_ep.port + step * k))
			return -1;
		if (!m->has_rtcp || mux)
			continue;
		/* a=rtcp names the first pair's RTCP only (RFC 3605) */
		rtcp = k == 0 ? m->rtcp : m->rtp_ep;
		if (consider(w, side, i, &rtcp,
		    k == 0 ? m->rtcp.port : m->rtp_ep.port + step * k + 1))
			return -1;
	}
	return 0;
}

/* Every hole the dialog needs with media[side] replaced by m[0..n-1]:
 * into t->want[0..w->n-1], refusals appended to ch. */
static int
compute(struct wanted *w, const struct dialog *d, enum pinhole_side side,
    const struct sdp_media *m, size_t n)
{
	const struct sdp_media *sm[2];
	size_t sn[2], i;
	int s;

	sm[0] = d != NULL ? d->media[0] : NULL;
	sm[1] = d != NULL ? d->media[1] : NULL;
	sn[0] = d != NULL ? d->nmedia[0] : 0;
	sn[1] = d != NULL ? d->nmedia[1] : 0;
	sm[side] = m;
	sn[side] = n;
	for (s = 0; s < 2; s++)
		for (i = 0; i < sn[s]; i++)
			if (stream(w, (enum pinhole_side)s, (unsigned)i,
			    &sm[s][i], i < sn[!s] ? &sm[!s][i] : NULL) != 0)
				return -1;
	return 0;
}

/* --- changes */

/* One reference less; the last one removes the hole (ch->del reserved). */
static void
hole_unref(struct pinhole_table *t, struct hole *h, struct pinhole_changes *ch)
{
	if (--h->refs > 0)
		return;
	ch->del[ch->ndel++] = h->h;
	htab_remove(&t->holes, &h->hn);
	TAILQ_REMOVE(&t->dueq, h, due);
	free(h);
}

/* Let go of the holes of d that are not wanted any more; those that are
 * stay in d->holes, the others become NULL. */
static void
drop_unwanted(struct pinhole_table *t, struct dialog *d, size_t nw,
    struct pinhole_changes *ch)
{
	size_t i, j;

	for (j = 0; j < d->nholes; j++) {
		for (i = 0; i < nw; i++)
			if (same_hole(&t->want[i].h, &d->holes[j]->h))
				break;
		if (i == nw) {
			hole_unref(t, d->holes[j], ch);
			d->holes[j] = NULL;
		}
	}
}

static int
held(const struct dialog *d, const struct hole *h)
{
	size_t j;

	for (j = 0; j < d->nholes; j++)
		if (d->holes[j] == h)
			return 1;
	return 0;
}

/* The wanted holes into held[]: a reference more on those d did not hold,
 * a new hole (from fresh[]) when there was none, unless the table is full.
 * Cannot fail: ch was reserved and fresh[] allocated. */
static size_t
take_wanted(struct pinhole_table *t, struct dialog *d, size_t nw,
    struct hole **fresh, struct hole **keep, uint64_t now_ms,
    struct pinhole_changes *ch)
{
	struct hole *h;
	size_t i, n = 0;

	for (i = 0; i < nw; i++) {
		if ((h = hole_find(t, &t->want[i].h)) != NULL) {
			if (!held(d, h))
				h->refs++;
		} else if (t->holes.n >= t->c.max_total) {
			(void)refuse(ch, t->want[i].side, t->want[i].media,
			    PINHOLE_R_TOTAL_CAP, &t->want[i].h);
			continue;
		} else {
			h = fresh[i];
			fresh[i] = NULL;
			h->h = t->want[i].h;
			h->refs = 1;
			h->hn.hash = hole_hash(t, &h->h);
			h->next_ms = now_ms + t->c.refresh_ms;
			htab_insert(&t->holes, &h->hn);
			TAILQ_INSERT_TAIL(&t->dueq, h, due);
			ch->add[ch->nadd++] = h->h;
		}
		keep[n++] = h;
	}
	return n;
}

/* Everything set_media may need, allocated before the table changes. */
struct prep {
	struct dialog *nd;
	struct sdp_media *copy;
	struct hole **keep, **fresh;
};

static void
prep_free(struct prep *p, size_t nw)
{
	size_t i;

	if (p->fresh != NULL)
		for (i = 0; i < nw; i++)
			free(p->fresh[i]);
	free(p->fresh);
	free(p->keep);
	free(p->copy);
	free(p->nd);
}

static int
prepare(struct pinhole_table *t, const struct dialog *d, const char *key,
    size_t keylen, const struct sdp_media *m, size_t n, size_t nw,
    struct pinhole_changes *ch, struct prep *p)
{
	size_t i;

	memset(p, 0, sizeof(*p));
	if (d == NULL && (p->nd = calloc(1, sizeof(*p->nd) + keylen + 1)) ==
	    NULL)
		return -1;
	if (n > 0 && (p->copy = calloc(n, sizeof(*m))) == NULL)
		return -1;
	if (n > 0)
		memcpy(p->copy, m, n * sizeof(*m));
	if ((p->keep = calloc(nw + 1, sizeof(*p->keep))) == NULL ||
	    (p->fresh = calloc(nw + 1, sizeof(*p->fresh))) == NULL)
		return -1;
	for (i = 0; i < nw; i++)
		if (hole_find(t, &t->want[i].h) == NULL &&
		    (p->fresh[i] = calloc(1, sizeof(struct hole))) == NULL)
			return -1;
	if (p->nd != NULL)
		memcpy(p->nd->key, key, keylen);
	return reserve(&ch->add, &ch->add_cap, ch->nadd, nw,
		   sizeof(*ch->add)) ||
	    reserve(&ch->del, &ch->del_cap, ch->ndel, d ? d->nholes : 0,
		sizeof(*ch->del)) ||
	    reserve(&ch->refused, &ch->refused_cap, ch->nrefused, nw,
		sizeof(*ch->refused)) ? -1 : 0;
}

static void
count_refusals(struct pinhole_table *t, const struct pinhole_changes *ch,
    size_t from)
{
	size_t i;

	for (i = from; i < ch->nrefused; i++)
		t->refused[ch->refused[i].reason]++;
}

int
pinhole_set_media(struct pinhole_table *t, const char *key,
    enum pinhole_side side, const struct sdp_media *m, size_t n,
    uint64_t now_ms, struct pinhole_changes *ch)
{
	struct wanted w = { t, ch, 0 };
	size_t keylen, from = ch->nrefused;
	struct dialog *d;
	struct prep p;

	if (key == NULL || (keylen = strlen(key)) > PINHOLE_MAX_KEY ||
	    n > SDP_MAX_MEDIA || (n > 0 && m == NULL) ||
	    (side != PINHOLE_CALLER && side != PINHOLE_CALLEE)) {
		errno = EINVAL;
		return -1;
	}
	d = dialog_find(t, key, keylen);
	if (d == NULL && t->dialogs.n >= t->c.max_dialogs) {
		errno = ENOSPC;
		return -1;
	}
	if (compute(&w, d, side, m, n) != 0 ||
	    prepare(t, d, key, keylen, m, n, w.n, ch, &p) != 0) {
		prep_free(&p, w.n);
		ch->nrefused = from;
		errno = ENOMEM;
		return -1;
	}
	if (d == NULL) {
		d = p.nd;
		p.nd = NULL;
		d->keylen = keylen;
		d->born_ms = now_ms;
		d->hn.hash = siphash(t->c.seed, key, keylen);
		htab_insert(&t->dialogs, &d->hn);
		TAILQ_INSERT_TAIL(&t->ageq, d, age);
	}
	free(d->media[side]);
	d->media[side] = p.copy;
	d->nmedia[side] = n;
	p.copy = NULL;
	drop_unwanted(t, d, w.n, ch);
	n = take_wanted(t, d, w.n, p.fresh, p.keep, now_ms, ch);
	free(d->holes);
	d->holes = p.keep;
	d->nholes = n;
	p.keep = NULL;
	prep_free(&p, w.n);
	count_refusals(t, ch, from);
	return 0;
}

/* Every hole of d let go, d forgotten (ch->del reserved). */
static void
dialog_drop(struct pinhole_table *t, struct dialog *d,
    struct pinhole_changes *ch)
{
	size_t j;

	for (j = 0; j < d->nholes; j++)
		hole_unref(t, d->holes[j], ch);
	htab_remove(&t->dialogs, &d->hn);
	TAILQ_REMOVE(&t->ageq, d, age);
	if (d->session_ms != 0)
		TAILQ_REMOVE(&t->sessq, d, timed);
	dialog_free(d);
}

int
pinhole_close(struct pinhole_table *t, const char *key,
    struct pinhole_changes *ch)
{
	struct dialog *d;
	size_t keylen;

	if (key == NULL || (keylen = strlen(key)) > PINHOLE_MAX_KEY ||
	    (d = dialog_find(t, key, keylen)) == NULL)
		return 0;
	if (reserve(&ch->del, &ch->del_cap, ch->ndel, d->nholes,
	    sizeof(*ch->del)) != 0)
		return -1;
	dialog_drop(t, d, ch);
	return 0;
}

int
pinhole_session(struct pinhole_table *t, const char *key, uint64_t until_ms)
{
	struct dialog *d;
	size_t keylen;

	if (key == NULL || (keylen = strlen(key)) > PINHOLE_MAX_KEY ||
	    (d = dialog_find(t, key, keylen)) == NULL) {
		errno = ENOENT;
		return -1;
	}
	if (d->session_ms != 0 && until_ms == 0)
		TAILQ_REMOVE(&t->sessq, d, timed);
	else if (d->session_ms == 0 && until_ms != 0)
		TAILQ_INSERT_TAIL(&t->sessq, d, timed);
	d->session_ms = until_ms;
	return 0;
}

long
pinhole_expire(struct pinhole_table *t, uint64_t now_ms,
    struct pinhole_changes *ch)
{
	struct dialog *d, *next;
	long n = 0;

	while ((d = TAILQ_FIRST(&t->ageq)) != NULL && now_ms >= d->born_ms &&
	    now_ms - d->born_ms >= t->c.max_duration_ms) {
		if (reserve(&ch->del, &ch->del_cap, ch->ndel, d->nholes,
		    sizeof(*ch->del)) != 0)
			return -1;
		dialog_drop(t, d, ch);
		n++;
	}
	/* Few dialogs run session timers and a tick is a second: a scan is
	 * cheaper to keep right than a second ordered queue. */
	for (d = TAILQ_FIRST(&t->sessq); d != NULL; d = next) {
		next = TAILQ_NEXT(d, timed);
		if (now_ms < d->session_ms)
			continue;
		if (reserve(&ch->del, &ch->del_cap, ch->ndel, d->nholes,
		    sizeof(*ch->del)) != 0)
			return -1;
		dialog_drop(t, d, ch);
		n++;
	}
	return n;
}

long
pinhole_due(struct pinhole_table *t, uint64_t now_ms,
    struct pinhole_changes *ch)
{
	struct hole *h;
	long n = 0;

	/* A refreshed hole goes to the tail with a time after now_ms: each
	 * is refreshed at most once per call. */
	while ((h = TAILQ_FIRST(&t->dueq)) != NULL && h->next_ms <= now_ms) {
		if (reserve(&ch->refresh, &ch->refresh_cap, ch->nrefresh, 1,
		    sizeof(*ch->refresh)) != 0)
			return -1;
		ch->refresh[ch->nrefresh++] = h->h;
		h->next_ms = now_ms + t->c.refresh_ms;
		TAILQ_REMOVE(&t->dueq, h, due);
		TAILQ_INSERT_TAIL(&t->dueq, h, due);
		n++;
	}
	return n;
}

size_t
pinhole_dialog_holes(const struct pinhole_table *t, const char *key,
    struct pinhole_hole *out, size_t max)
{
	const struct dialog *d;
	size_t j;

	if (key == NULL || strlen(key) > PINHOLE_MAX_KEY ||
	    (d = dialog_find(t, key, strlen(key))) == NULL)
		return 0;
	for (j = 0; j < d->nholes && j < max; j++)
		out[j] = d->holes[j]->h;
	return d->nholes;
}

int
pinhole_exists(const struct pinhole_table *t, const char *key)
{
	return key != NULL && strlen(key) <= PINHOLE_MAX_KEY &&
	    dialog_find(t, key, strlen(key)) != NULL;
}

void
pinhole_stats(const struct pinhole_table *t, struct pinhole_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->dialogs = t->dialogs.n;
	st->holes = t->holes.n;
	memcpy(st->refused, t->refused, sizeof(st->refused));
}

const char *
pinhole_reason_str(enum pinhole_reason r)
{
	static const char *const s[PINHOLE_R_COUNT] = {
		[PINHOLE_R_NOADDR] = "no usable address",
		[PINHOLE_R_HOSTNAME] = "host name instead of an address",
		[PINHOLE_R_MULTICAST] = "multicast address",
		[PINHOLE_R_UNSPEC] = "unspecified or v4-mapped address",
		[PINHOLE_R_NETWORK] = "address outside the media networks",
		[PINHOLE_R_PORT] = "port outside the media port ranges",
		[PINHOLE_R_TRANSPORT] = "transport not allowed",
		[PINHOLE_R_NPORTS] = "too many ports in one m= line",
		[PINHOLE_R_DIALOG_CAP] = "too many pinholes for one dialog",
		[PINHOLE_R_TOTAL_CAP] = "too many pinholes in all",
	};

	return (unsigned)r < PINHOLE_R_COUNT ? s[r] : "?";
}

const char *
pinhole_hole_str(const struct pinhole_hole *h, char *buf, size_t bufsz)
{
	char a[INET6_ADDRSTRLEN];

	if ((h->family != AF_INET && h->family != AF_INET6) ||
	    inet_ntop(h->family, h->addr, a, sizeof(a)) == NULL)
		snprintf(a, sizeof(a), "-");
	snprintf(buf, bufsz, "%s %s %u",
	    h->proto == IPPROTO_UDP ? "udp" :
	    h->proto == IPPROTO_TCP ? "tcp" : "?", a, h->port);
	return buf;
}
