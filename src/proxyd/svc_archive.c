/*
 * svc_archive.c - the IM archive as the proxy feeds it (svc_archive.h):
 * a record made from the request and its inspection, handed to the
 * archive writer's thread, the request resumed when the record is durable.
 */
#include "proxyd/svc_archive.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/sip_header.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/monoclock.h"
#include "e2m/inspect.h"
#include "proxyd/conf.h"
#include "proxyd/facts.h"
#include "proxyd/loop.h"
#include "proxyd/ptx.h"
#include "services/archive.h"
#include "services/archwriter.h"

/* Parts of one MESSAGE put in a record, at most. */
#define MAX_PARTS 32
/* Failures are logged at most this often (with how many since). */
#define FAIL_LOG_MS 10000

/* A MESSAGE that spirals (an edge proxy: phone -> us -> registrar -> us
 * -> phone) passes twice; its record was made, durable, at the first
 * pass. The last RECENT archived MESSAGEs are remembered by key. */
#define RECENT 1024

struct svc_archive {
	const struct conf *conf;
	struct loop *loop;
	struct archwriter *w;
	struct event *ev;            /* the writer's wakeup fd */
	unsigned long long records, failures, unlogged;
	uint64_t last_fail_log;
	/* MESSAGEs archived lately, by key (spirals, below). */
	uint64_t recent[RECENT];
	size_t recent_next;
};

/* One record on its way to the disk. */
struct pending {
	struct svc_archive *a;
	struct ptx *t;               /* NULL: a final record, nobody waits */
	uint64_t key;                /* the MESSAGE's, for spirals; 0: none */
	svc_archive_done_fn *done;
};

/* The writer's thread must not start before daemon()'s fork; the file
 * must be openable before it, so that a bad path stops the start. */
struct svc_archive *
svc_archive_new(struct loop *l, const struct conf *c, char *err,
    size_t errsz)
{
	struct svc_archive *a;
	int fd;

	if (!c->archive_syslog) {
		fd = open(c->archive_path, O_WRONLY | O_APPEND | O_CREAT |
		    O_CLOEXEC | O_NOCTTY, 0600);
		if (fd < 0) {
			snprintf(err, errsz, "cannot open %s: %s",
			    c->archive_path, strerror(errno));
			return NULL;
		}
		close(fd);
	}
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	a->conf = c;
	a->loop = l;
	return a;
}

static void
collect(evutil_socket_t fd, short what, void *arg)
{
	struct svc_archive *a = arg;

	(void)fd;
	(void)what;
	archwriter_collect(a->w);
	/* The callbacks forwarded requests through Sofia. */
	loop_kick(a->loop);
}

int
svc_archive_start(struct svc_archive *a, char *err, size_t errsz)
{
	const struct conf *c = a->conf;
	struct archwriter_conf wc;

	memset(&wc, 0, sizeof(wc));
	wc.path = c->archive_path;
	wc.use_syslog = c->archive_syslog;
	wc.syslog_facility = c->archive_facility;
	wc.max_wait_ms = c->archive_max_wait_ms;
	wc.max_batch = c->archive_max_batch;
	wc.queue_max = c->archive_queue;
	wc.rotate_bytes = c->archive_rotate_bytes;
	wc.rotate_keep = c->archive_rotate_keep;
	if ((a->w = archwriter_new(&wc, err, errsz)) == NULL)
		return -1;
	a->ev = event_new(loop_base(a->loop), archwriter_fd(a->w),
	    EV_READ | EV_PERSIST, collect, a);
	if (a->ev == NULL || event_add(a->ev, NULL) != 0) {
		snprintf(err, errsz, "cannot watch the archive writer");
		return -1;
	}
	log_info("archive: %s%s, group commit %u ms, on failure %s",
	    c->archive_syslog ? "syslog" : "file ",
	    c->archive_syslog ? "" : c->archive_path, c->archive_max_wait_ms,
	    c->archive_fail_open ? "forward" : "reject");
	return 0;
}

void
svc_archive_stop(struct svc_archive *a)
{
	/* Runs the callbacks of what was still queued (they may forward
	 * the requests they held); later records are written at once. */
	if (a != NULL)
		archwriter_stop(a->w);
}

void
svc_archive_free(struct svc_archive *a)
{
	if (a == NULL)
		return;
	if (a->ev != NULL)
		event_free(a->ev);
	/* Runs the callbacks of what was still queued. */
	archwriter_free(a->w);
	free(a);
}

void
svc_archive_reopen(struct svc_archive *a)
{
	if (a != NULL && a->w != NULL) {
		archwriter_reopen(a->w);
		log_info("archive: reopening %s", a->conf->archive_syslog ?
		    "(syslog)" : a->conf->archive_path);
	}
}

int
svc_archive_fails_open(const struct svc_archive *a)
{
	return a->conf->archive_fail_open;
}

void
svc_archive_counts(const struct svc_archive *a, unsigned long long *written,
    unsigned long long *failed)
{
	*written = a->records;
	*failed = a->failures;
}

/* Counted always; logged at most every FAIL_LOG_MS, never with content. */
static void
note_failure(struct svc_archive *a)
{
	uint64_t now = monoclock_ms();

	a->failures++;
	a->unlogged++;
	if (a->last_fail_log != 0 && now - a->last_fail_log < FAIL_LOG_MS)
		return;
	log_error("archive: %llu record(s) could not be written (%llu in "
	    "all); %s", a->unlogged, a->failures, a->conf->archive_fail_open ?
	    "forwarding anyway (on_failure = forward)" :
	    "refusing them with 500 (on_failure = reject)");
	a->unlogged = 0;
	a->last_fail_log = now;
}

static void
written(void *arg, int durable)
{
	struct pending *p = arg;

	if (durable) {
		p->a->records++;
		if (p->key != 0) {
			p->a->recent[p->a->recent_next] = p->key;
			p->a->recent_next = (p->a->recent_next + 1) % RECENT;
		}
	} else {
		note_failure(p->a);
	}
	if (p->done != NULL)
		p->done(p->t, durable);
	free(p);
}

/* Call-ID, CSeq and From tag: what a spiral keeps. Never 0. */
static uint64_t
message_key(const struct ptx *t)
{
	const sip_t *sip = t->sip;
	uint64_t h = 0xcbf29ce484222325ULL;
	char cseq[16];

	h = ptx_hash_str(h, sip->sip_call_id != NULL ?
	    sip->sip_call_id->i_id : "");
	snprintf(cseq, sizeof(cseq), "%u", sip->sip_cseq != NULL ?
	    (unsigned)sip->sip_cseq->cs_seq : 0u);
	h = ptx_hash_str(h, cseq);
	h = ptx_hash_str(h, sip->sip_from != NULL && sip->sip_from->a_tag ?
	    sip->sip_from->a_tag : "");
	return h != 0 ? h : 1;
}

int
svc_archive_seen(const struct svc_archive *a, const struct ptx *t)
{
	uint64_t k = message_key(t);
	size_t i;

	for (i = 0; i < RECENT; i++)
		if (a->recent[i] == k)
			return 1;
	return 0;
}

static long long
now_utc_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Queue one formatted record; -1 when the writer would not take it. */
static int
submit(struct svc_archive *a, struct ptx *t, struct buf *b,
    svc_archive_done_fn *done)
{
	struct pending *p;

	if (b->oom || (p = calloc(1, sizeof(*p))) == NULL)
		return -1;
	p->a = a;
	p->t = t;
	p->done = done;
	p->key = t != NULL ? message_key(t) : 0;
	if (archwriter_submit(a->w, b->p, b->len, written, p) != 0) {
		free(p);
		return -1;
	}
	return 0;
}

/* The request's own facts, as strings in the message's home. */
struct facts_str {
	char from[512], to[512], address[INET6_ADDRSTRLEN], rule[300];
	char transport[8];
	const char *content_type;
	unsigned port;
};

static void
uri_string(const sip_addr_t *a, char *buf, size_t bufsz)
{
	buf[0] = '\0';
	if (a != NULL && url_e(buf, (isize_t)bufsz,
	    a->a_url) < 0)
		buf[0] = '\0';
	buf[bufsz - 1] = '\0';
}

static void
source_of(const struct ptx *t, struct facts_str *f)
{
	struct facts_source src;

	facts_source(t->req, t->sip, &src);
	memcpy(f->address, src.address, sizeof(f->address));
	f->port = src.port;
	memcpy(f->transport, src.transport, sizeof(f->transport));
}

static void
facts_of(const struct svc_archive *a, const struct ptx *t,
    struct facts_str *f)
{
	const sip_t *sip = t->sip;

	uri_string(sip->sip_from, f->from, sizeof(f->from));
	uri_string(sip->sip_to, f->to, sizeof(f->to));
	source_of(t, f);
	snprintf(f->rule, sizeof(f->rule), "%s:%u", a->conf->path,
	    t->rule != NULL ? t->rule->line : 0);
	f->content_type = sip->sip_content_type != NULL ?
	    sip_header_as_string(msg_home(t->req),
	    (const sip_header_t *)sip->sip_content_type) : NULL;
}

/* What one readable part says about itself and its protection. */
struct part_str {
	char type[160];
	struct archive_signature sigs[INSPECT_MAX_LAYERS];
	const char *recipients[CMS_DESCRIBED_RECIPIENTS];
};

static void
describe_part(const struct inspect *in, const struct mime_entity *e,
    struct archive_part *p, struct part_str *ps)
{
	struct inspect_protection prot;
	const struct inspect_envelope *env;
	const struct inspect_signature *s;
	size_t i;

	memset(p, 0, sizeof(*p));
	snprintf(ps->type, sizeof(ps->type), "%s/%s", e->type, e->subtype);
	p->type = ps->type;
	p->charset = mime_param(e, "charset");
	p->data = e->data != NULL ? e->data : e->body;
	p->len = e->data != NULL ? e->data_len : e->body_len;
	inspect_protection(in, e, &prot);
	if (prot.nenvelopes > 0) {
		/* The innermost envelope is the one that held this part. */
		env = prot.envelopes[prot.nenvelopes - 1];
		p->encrypted = 1;
		/* Undescribed (key -1): inspected under a configuration
		 * without the archive, archived after a reload turned it on. */
		p->opened_with = env->info.key >= 0 ?
		    env->info.opened_with : NULL;
		for (i = 0; i < env->info.ndescribed; i++)
			ps->recipients[i] = env->info.recipients[i];
		p->recipients = ps->recipients;
		p->nrecipients = env->info.ndescribed;
	}
	for (i = 0; i < prot.nsignatures; i++) {
		s = prot.signatures[i];
		ps->sigs[i].signer = s->signer;
		ps->sigs[i].valid = s->valid;
		ps->sigs[i].inside_envelope = s->inside_envelope;
		ps->sigs[i].reason = s->valid ? NULL : s->reason;
	}
	p->sigs = ps->sigs;
	p->nsigs = prot.nsignatures;
}

/* Readable leaves of the tree; *text set when one of them is text. */
static size_t
gather(const struct inspect *in, struct archive_part *parts,
    struct part_str *ps, int *text)
{
	const struct mime_entity *root = inspect_tree(in), *e;
	size_t n = 0;

	*text = 0;
	for (e = root; e != NULL && n < MAX_PARTS; e = mime_next(root, e)) {
		if (!inspect_readable(e))
			continue;
		describe_part(in, e, &parts[n], &ps[n]);
		if (strcasecmp(e->type, "text") == 0)
			*text = 1;
		n++;
	}
	return n;
}

int
svc_archive_message(struct svc_archive *a, struct ptx *t,
    svc_archive_done_fn *done)
{
	struct archive_part parts[MAX_PARTS];
	struct part_str *ps;
	struct archive_message m;
	struct facts_str f;
	struct buf b = { 0 };
	size_t n;
	int text, rc;

	if (t->insp == NULL || inspect_result(t->insp) != INSPECT_DONE ||
	    inspect_tree(t->insp) == NULL)
		return 0;
	if ((ps = calloc(MAX_PARTS, sizeof(*ps))) == NULL)
		return -1;
	n = gather(t->insp, parts, ps, &text);
	if (!text) {
		free(ps);
		return 0;
	}
	facts_of(a, t, &f);
	memset(&m, 0, sizeof(m));
	m.time_ms = now_utc_ms();
	m.call_id = t->sip->sip_call_id->i_id;
	m.cseq = t->sip->sip_cseq != NULL ? t->sip->sip_cseq->cs_seq : 0;
	m.method = method_name(t->sip);
	m.from_uri = f.from;
	m.from_tag = t->sip->sip_from != NULL ? t->sip->sip_from->a_tag : NULL;
	m.to_uri = f.to;
	m.to_tag = t->sip->sip_to != NULL ? t->sip->sip_to->a_tag : NULL;
	m.source_address = f.address;
	m.source_port = f.port;
	m.transport = f.transport;
	m.rule = f.rule;
	m.content_type = f.content_type;
	m.parts = parts;
	m.nparts = n;
	rc = archive_format_message(&b, &m) == 0 ? submit(a, t, &b, done) :
	    -1;
	buf_free(&b);
	free(ps);
	if (rc != 0) {
		note_failure(a);
		return -1;
	}
	return 1;
}

void
svc_archive_final(struct svc_archive *a, const struct ptx *t, int status)
{
	struct archive_final fin;
	struct buf b = { 0 };

	memset(&fin, 0, sizeof(fin));
	fin.time_ms = now_utc_ms();
	fin.call_id = t->sip->sip_call_id->i_id;
	fin.cseq = t->sip->sip_cseq != NULL ? t->sip->sip_cseq->cs_seq : 0;
	fin.method = method_name(t->sip);
	fin.status = status;
	if (status < 100)
		return; /* never answered: nothing to say */
	if (archive_format_final(&b, &fin) != 0 ||
	    submit(a, NULL, &b, NULL) != 0)
		note_failure(a);
	buf_free(&b);
}
