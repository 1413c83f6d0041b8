/*
 * inspect.c - the decrypt stage.
 *
 * The body is parsed into a MIME tree at once (bounded, cheap: a body over
 * the limit costs no crypto). Then, one at a time, each Content-ID
 * labelled for this proxy (outer first) is looked up in the tree and, when
 * it is an envelope, opened on a worker thread; its plaintext is grafted
 * into the tree, so a later label can name a part inside it. Then every
 * signed entity in the tree is checked, again on a worker. One job at a
 * time per request keeps the tree single-writer: the loop thread mutates
 * it only between jobs, the worker only reads the bytes it was given.
 */
#include "e2m/inspect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto/cms.h"
#include "common/log.h"

#define MAX_VISIBLE 32
#define MAX_SIGNATURES 16

struct inspector {
	struct inspector_conf c;
	size_t ninspects; /* made with it and not yet freed */
	int freed;        /* inspector_free() came */
};

enum job_kind { JOB_DECRYPT, JOB_VERIFY };

/* What one worker job reads and writes; the worker touches nothing else. */
struct job {
	enum job_kind kind;
	const unsigned char *in;   /* envelope or signature DER */
	size_t in_len;
	const unsigned char *data; /* detached signed bytes, or NULL */
	size_t data_len;
	struct mime_entity *e;     /* where the result goes (loop thread) */
	int inside_envelope;
	enum cms_status st;
	const char *why;           /* static reason from cms_verify() */
	unsigned char *out;        /* plaintext or signed-data content */
	size_t out_len;
	struct cms_signer signer;
	struct cms_envelope env;   /* decrypt: what opened it, for whom */
};

struct inspect {
	struct inspector *ins;
	enum inspect_status result;
	const char *reason;
	struct mime_entity *tree;
	struct label_set *labels;
	/* Sized to the labels found: a request has one or two, and the
	 * whole allowance would cost every request 70 KB to clear. */
	const char **cids;
	struct inspect_target *targets;
	size_t ntargets, next_target;
	const struct mime_entity *sig_cursor; /* last entity looked at */
	int sig_started;
	const struct mime_entity *env_cursor; /* unlabelled envelopes */
	int env_started;
	int open_unlabelled;
	int (*may_decrypt)(void *);
	void *may_decrypt_arg;
	struct inspect_signature sigs[MAX_SIGNATURES];
	size_t nsigs;
	struct inspect_envelope *envs; /* opened, grown as needed */
	size_t nenvs;
	size_t nclosed;
	char visible[MAX_VISIBLE][64];
	size_t nvisible;
	struct job job;
	int pending;   /* a job is queued or running */
	int abandoned; /* inspect_free() came while pending */
	inspect_done_fn *done;
	void *arg;
};

static enum inspect_status advance(struct inspect *in);

struct inspector *
inspector_new(const struct inspector_conf *c)
{
	struct inspector *ins;

	if (c->submit == NULL || (ins = calloc(1, sizeof(*ins))) == NULL)
		return NULL;
	ins->c = *c;
	return ins;
}

static void
inspector_release(struct inspector *ins)
{
	if (ins->c.release != NULL)
		ins->c.release(ins->c.release_arg);
	free(ins);
}

/*
 * A reload frees the inspector of the old state while inspections made
 * with it may still run on a worker (abandoned by a request that gave
 * up): the keys must outlive them.
 */
void
inspector_free(struct inspector *ins)
{
	if (ins == NULL)
		return;
	ins->freed = 1;
	if (ins->ninspects == 0)
		inspector_release(ins);
}

static int
is_pkcs7_mime(const struct mime_entity *e)
{
	return mime_is(e, "application", "pkcs7-mime") ||
	    mime_is(e, "application", "x-pkcs7-mime");
}

static int
has_p7m_name(const struct mime_entity *e)
{
	const char *name = mime_param(e, "name");
	size_t n = name ? strlen(name) : 0;

	return n > 4 && strcasecmp(name + n - 4, ".p7m") == 0;
}

/* enveloped-data, authEnveloped-data, or the legacy name=*.p7m form;
 * opened or not. */
static int
is_envelope_type(const struct mime_entity *e)
{
	const char *st;

	if (!is_pkcs7_mime(e))
		return 0;
	st = mime_param(e, "smime-type");
	if (st == NULL)
		return has_p7m_name(e);
	return strcasecmp(st, "enveloped-data") == 0 ||
	    strcasecmp(st, "authenveloped-data") == 0;
}

/* An envelope still shut, with its DER at hand. */
static int
is_envelope(const struct mime_entity *e)
{
	return is_envelope_type(e) && e->data != NULL && e->nchildren == 0;
}

static int
is_signed_data(const struct mime_entity *e)
{
	const char *st = mime_param(e, "smime-type");

	return is_pkcs7_mime(e) && e->data != NULL && e->nchildren == 0 &&
	    st != NULL && strcasecmp(st, "signed-data") == 0;
}

static int
is_signature(const struct mime_entity *e)
{
	return mime_is(e, "application", "pkcs7-signature") ||
	    mime_is(e, "application", "x-pkcs7-signature");
}

/* multipart/signed with a detached CMS signature as its second part. */
static int
is_multipart_signed(const struct mime_entity *e)
{
	return mime_is(e, "multipart", "signed") && e->nchildren == 2 &&
	    is_signature(e->children[1]) && e->children[1]->data != NULL;
}

static int
under_envelope(const struct mime_entity *e)
{
	for (; e != NULL; e = e->parent)
		if (e->grafted && e->parent != NULL &&
		    is_envelope_type(e->parent))
			return 1;
	return 0;
}

static int
cid_eq(const char *entity_cid, const char *wanted, void *arg)
{
	(void)arg;
	return label_cid_equal(entity_cid, strlen(entity_cid), wanted,
	    strlen(wanted));
}

static enum inspect_status
from_mime(struct inspect *in, enum mime_status st, const char *err)
{
	in->reason = err;
	switch (st) {
	case MIME_OK:
		return INSPECT_DONE;
	case MIME_TOO_LARGE:
		return INSPECT_TOO_LARGE;
	case MIME_NOMEM:
		return INSPECT_NOMEM;
	default:
		return INSPECT_MALFORMED;
	}
}

/* Runs on a worker: crypto only, on bytes the job holds. */
static void
job_work(void *arg)
{
	struct inspect *in = arg;
	struct job *j = &in->job;
	const struct inspector_conf *c = &in->ins->c;

	j->out = NULL;
	j->out_len = 0;
	if (j->kind == JOB_DECRYPT) {
		/* cms_decrypt_info() fills the description only when asked;
		 * undescribed is zeroed here, with no key. */
		if (!c->describe) {
			memset(&j->env, 0, sizeof(j->env));
			j->env.key = -1;
		}
		j->st = cms_decrypt_info(c->keys, j->in, j->in_len, &j->out,
		    &j->out_len, c->describe ? &j->env : NULL);
	} else
		j->st = cms_verify(c->keys, j->in, j->in_len, j->data,
		    j->data_len, &j->signer,
		    j->data == NULL ? &j->out : NULL,
		    j->data == NULL ? &j->out_len : NULL, &j->why);
}

static void
finish(struct inspect *in, enum inspect_status st)
{
	in->result = st;
	if (in->done != NULL)
		in->done(in, in->arg);
}

static void
graft(struct inspect *in, struct job *j)
{
	const char *err = NULL;
	enum mime_status st;

	st = mime_graft(j->e, j->out, j->out_len, &in->ins->c.limits, &err);
	if (st != MIME_OK)
		in->result = from_mime(in, st, err);
}

/*
 * The plaintext of an envelope grafted: 1. A plaintext that is no MIME
 * entity (or one past the limits) is what a wrong key gives (RSA v1.5's
 * implicit rejection hands out a random key, CBC has no integrity), so it
 * is one more failure to open, the same outcome as any other (0: the
 * envelope stays shut): were it a 400, the answer would tell a padding
 * error from a parse error, an oracle on the key. Only memory running
 * out stops the inspection.
 */
static int
graft_opened(struct inspect *in, struct job *j)
{
	const char *err = NULL;
	enum mime_status st;

	st = mime_graft(j->e, j->out, j->out_len, &in->ins->c.limits, &err);
	if (st == MIME_NOMEM)
		in->result = from_mime(in, st, err);
	return st == MIME_OK;
}

/* Kept for inspect_protection(); losing it (no memory) loses only the
 * description, not the plaintext. */
static void
remember_envelope(struct inspect *in, struct job *j)
{
	struct inspect_envelope *more;

	more = realloc(in->envs, (in->nenvs + 1) * sizeof(*in->envs));
	if (more == NULL)
		return;
	in->envs = more;
	in->envs[in->nenvs].entity = j->e;
	in->envs[in->nenvs].info = j->env;
	in->nenvs++;
}

/* An unlabelled envelope that stays shut is counted by survey(). */
static void
record_decrypt(struct inspect *in, struct job *j)
{
	struct inspect_target *t = NULL;

	if (in->next_target < in->ntargets)
		t = &in->targets[in->next_target++];
	if (j->st != CMS_OK) {
		if (t != NULL)
			t->state = TARGET_UNDECIPHERABLE;
		return;
	}
	if (!graft_opened(in, j)) {
		if (t != NULL)
			t->state = TARGET_UNDECIPHERABLE;
		return;
	}
	if (t != NULL)
		t->state = TARGET_OPENED;
	remember_envelope(in, j);
}

/* Some envelope below e (not e itself). */
static int
holds_envelope(const struct mime_entity *e)
{
	const struct mime_entity *d;

	for (d = mime_next(e, e); d != NULL; d = mime_next(e, d))
		if (is_envelope_type(d))
			return 1;
	return 0;
}

static void
record_verify(struct inspect *in, struct job *j)
{
	struct inspect_signature *s = &in->sigs[in->nsigs++];

	char who[sizeof(j->signer.cn) + sizeof(j->signer.email) + 4];

	s->entity = j->e;
	s->valid = j->st == CMS_OK;
	s->reason = s->valid ? NULL : j->why != NULL ? j->why :
	    cms_status_str(j->st);
	s->inside_envelope = j->inside_envelope;
	s->covers_whole = j->e->parent == NULL || (j->e->grafted &&
	    is_envelope_type(j->e->parent));
	snprintf(who, sizeof(who), "%s%s%s%s", j->signer.cn,
	    j->signer.email[0] ? " <" : "", j->signer.email,
	    j->signer.email[0] ? ">" : "");
	log_safe(s->signer, sizeof(s->signer), who, strlen(who));
	if (s->valid && j->out != NULL)
		graft(in, j);
	s->over_envelope = holds_envelope(j->e);
}

/* Loop thread: a job finished (or the pool stopped before it ran). */
static void
job_done(void *arg, int ran)
{
	struct inspect *in = arg;
	struct job *j = &in->job;
	enum inspect_status st;

	in->pending = 0;
	if (!ran)
		j->st = CMS_UNDECIPHERABLE;
	if (!in->abandoned) {
		in->result = INSPECT_DONE;
		if (j->kind == JOB_DECRYPT) {
			record_decrypt(in, j);
		} else {
			record_verify(in, j);
		}
	}
	cms_plain_free(j->out, j->out_len);
	j->out = NULL;
	if (in->abandoned) {
		inspect_free(in);
		return;
	}
	if (in->result != INSPECT_DONE || !ran) {
		finish(in, ran ? in->result : INSPECT_BUSY);
		return;
	}
	if ((st = advance(in)) != INSPECT_PENDING)
		finish(in, st);
}

static enum inspect_status
submit(struct inspect *in)
{
	if (in->ins->c.submit(in->ins->c.pool, job_work, job_done, in) != 0) {
		in->reason = "crypto queue full";
		return INSPECT_BUSY;
	}
	in->pending = 1;
	return INSPECT_PENDING;
}

static enum inspect_status
submit_decrypt(struct inspect *in, const struct mime_entity *e)
{
	if (in->may_decrypt != NULL && !in->may_decrypt(in->may_decrypt_arg)) {
		in->reason = "decryption rate limit";
		return INSPECT_RATE_LIMITED;
	}
	memset(&in->job, 0, sizeof(in->job));
	in->job.kind = JOB_DECRYPT;
	in->job.in = e->data;
	in->job.in_len = e->data_len;
	in->job.e = (struct mime_entity *)e;
	return submit(in);
}

/* The next labelled target: look it up and queue its decryption. */
static enum inspect_status
next_target(struct inspect *in)
{
	struct inspect_target *t;
	const struct mime_entity *e;

	while (in->next_target < in->ntargets) {
		t = &in->targets[in->next_target];
		e = mime_find_cid(in->tree, in->cids[in->next_target], cid_eq,
		    NULL);
		if (e == NULL || !is_envelope(e)) {
			t->state = e == NULL ? TARGET_NOT_FOUND : TARGET_PLAIN;
			in->next_target++;
			continue;
		}
		if (in->ins->c.keys == NULL) {
			t->state = TARGET_UNDECIPHERABLE;
			in->next_target++;
			continue;
		}
		return submit_decrypt(in, e);
	}
	return INSPECT_DONE;
}

static int
found_a_target(const struct inspect *in)
{
	size_t i;

	for (i = 0; i < in->ntargets; i++)
		if (in->targets[i].state != TARGET_NOT_FOUND)
			return 1;
	return 0;
}

/* No label led anywhere: policy may let us open what we find (digest
 * 5.1 step 4), in tree order, plaintext of one included. */
static enum inspect_status
next_unlabelled(struct inspect *in)
{
	const struct mime_entity *e;

	if (!in->open_unlabelled || in->ins->c.keys == NULL ||
	    found_a_target(in))
		return INSPECT_DONE;
	e = in->env_started ? mime_next(in->tree, in->env_cursor) : in->tree;
	in->env_started = 1;
	for (; e != NULL; e = mime_next(in->tree, e)) {
		in->env_cursor = e;
		if (is_envelope(e))
			return submit_decrypt(in, e);
	}
	return INSPECT_DONE;
}

/* The next signed entity after the cursor: queue its check. */
static enum inspect_status
next_signature(struct inspect *in)
{
	const struct mime_entity *e;

	e = in->sig_started ? mime_next(in->tree, in->sig_cursor) : in->tree;
	in->sig_started = 1;
	for (; e != NULL; e = mime_next(in->tree, e)) {
		in->sig_cursor = e;
		if (in->nsigs == MAX_SIGNATURES || in->ins->c.keys == NULL)
			return INSPECT_DONE;
		memset(&in->job, 0, sizeof(in->job));
		in->job.kind = JOB_VERIFY;
		in->job.e = (struct mime_entity *)e;
		in->job.inside_envelope = under_envelope(e);
		if (is_multipart_signed(e)) {
			in->job.in = e->children[1]->data;
			in->job.in_len = e->children[1]->data_len;
			in->job.data = e->children[0]->raw;
			in->job.data_len = e->children[0]->raw_len;
			return submit(in);
		}
		if (is_signed_data(e)) {
			in->job.in = e->data;
			in->job.in_len = e->data_len;
			return submit(in);
		}
	}
	return INSPECT_DONE;
}

static void
add_visible(struct inspect *in, const struct mime_entity *e)
{
	char name[64];
	size_t i;

	snprintf(name, sizeof(name), "%s/%s", e->type, e->subtype);
	for (i = 0; i < in->nvisible; i++)
		if (strcmp(in->visible[i], name) == 0)
			return;
	if (in->nvisible < MAX_VISIBLE)
		memcpy(in->visible[in->nvisible++], name, sizeof(name));
}

int
inspect_readable(const struct mime_entity *e)
{
	return e->nchildren == 0 && e->type != NULL && !is_envelope(e) &&
	    !is_signature(e) && !is_signed_data(e);
}

/*
 * message/cpim (RFC 3862, the wrapper RFC 8591 puts inside S/MIME): CPIM
 * headers, a blank line, then a MIME entity with headers of its own, which
 * holds what the user wrote. It is grafted under the CPIM part, so policy
 * sees its type (text/plain, say) and services its content. One that does
 * not parse stays a leaf of type message/cpim.
 */
static void
open_cpim(struct inspect *in)
{
	struct mime_entity *e;
	const unsigned char *d, *end;
	const char *err;
	size_t skip;

	for (e = in->tree; e != NULL; e = (struct mime_entity *)mime_next(
	    in->tree, e)) {
		if (e->nchildren != 0 || !mime_is(e, "message", "cpim") ||
		    (d = e->data) == NULL)
			continue;
		skip = 4;
		if ((end = memmem(d, e->data_len, "\r\n\r\n", 4)) == NULL) {
			end = memmem(d, e->data_len, "\n\n", 2);
			skip = 2;
		}
		if (end != NULL)
			(void)mime_graft(e, end + skip, e->data_len -
			    (size_t)(end + skip - d), &in->ins->c.limits, &err);
	}
}

/* Leaves readable in plaintext, and envelopes that stayed shut. */
static void
survey(struct inspect *in)
{
	const struct mime_entity *e;

	for (e = in->tree; e != NULL; e = mime_next(in->tree, e)) {
		/* A CPIM wrapper opened: its type is visible too. */
		if (e->nchildren == 1 && mime_is(e, "message", "cpim"))
			add_visible(in, e);
		if (e->nchildren != 0 || e->type == NULL)
			continue;
		if (is_envelope(e))
			in->nclosed++;
		else if (inspect_readable(e))
			add_visible(in, e);
	}
	for (size_t i = 0; i < in->ntargets; i++)
		if (in->targets[i].state == TARGET_UNDECIPHERABLE)
			in->nclosed--;
}

static enum inspect_status
advance(struct inspect *in)
{
	enum inspect_status st;

	if ((st = next_target(in)) != INSPECT_DONE)
		return st;
	if ((st = next_unlabelled(in)) != INSPECT_DONE)
		return st;
	if ((st = next_signature(in)) != INSPECT_DONE)
		return st;
	open_cpim(in);
	survey(in);
	return INSPECT_DONE;
}

static enum inspect_status
parse(struct inspect *in, const struct inspect_input *ip)
{
	const struct inspector_conf *c = &in->ins->c;
	const char *err = NULL, *cids[LABEL_MAX_OWN_CIDS];
	enum mime_status mst;
	size_t i, n;

	if (ip->len == 0)
		return INSPECT_DONE;
	/* Two statements: err is only set once mime_parse() has run. */
	mst = mime_parse(&ip->top, ip->body, ip->len, &c->limits, &in->tree,
	    &err);
	in->result = from_mime(in, mst, err);
	if (in->result != INSPECT_DONE)
		return in->result;
	if (ip->nlabels == 0)
		return INSPECT_DONE;
	if ((in->labels = label_parse(ip->labels, ip->nlabels)) == NULL)
		return INSPECT_NOMEM;
	n = label_own_cids(in->labels, c->own_names, c->nown_names, cids,
	    LABEL_MAX_OWN_CIDS);
	if (n == 0)
		return INSPECT_DONE;
	if ((in->cids = malloc(n * sizeof(*in->cids))) == NULL ||
	    (in->targets = calloc(n, sizeof(*in->targets))) == NULL)
		return INSPECT_NOMEM;
	memcpy(in->cids, cids, n * sizeof(*cids));
	in->ntargets = n;
	for (i = 0; i < in->ntargets; i++)
		snprintf(in->targets[i].cid, sizeof(in->targets[i].cid), "%s",
		    in->cids[i]);
	return INSPECT_DONE;
}

enum inspect_status
inspect_start(struct inspector *ins, const struct inspect_input *ip,
    inspect_done_fn *done, void *arg, struct inspect **out)
{
	struct inspect *in;
	enum inspect_status st;

	if ((*out = in = calloc(1, sizeof(*in))) == NULL)
		return INSPECT_NOMEM;
	in->ins = ins;
	ins->ninspects++;
	in->done = done;
	in->arg = arg;
	in->open_unlabelled = ip->open_unlabelled;
	in->may_decrypt = ip->may_decrypt;
	in->may_decrypt_arg = ip->may_decrypt_arg;
	st = parse(in, ip);
	if (st == INSPECT_DONE && in->tree != NULL)
		st = advance(in);
	if (st != INSPECT_PENDING)
		in->result = st;
	return st;
}

void
inspect_free(struct inspect *in)
{
	if (in == NULL)
		return;
	if (in->pending) {
		/* The worker still reads the tree: free when it is done. */
		in->abandoned = 1;
		return;
	}
	mime_free(in->tree);
	label_free(in->labels);
	free(in->cids);
	free(in->targets);
	free(in->envs);
	if (--in->ins->ninspects == 0 && in->ins->freed)
		inspector_release(in->ins);
	free(in);
}

enum inspect_status
inspect_result(const struct inspect *in)
{
	return in->result;
}

const char *
inspect_reason(const struct inspect *in)
{
	return in->reason != NULL ? in->reason : "";
}

size_t
inspect_ntargets(const struct inspect *in)
{
	return in->ntargets;
}

const struct inspect_target *
inspect_target(const struct inspect *in, size_t i)
{
	return i < in->ntargets ? &in->targets[i] : NULL;
}

size_t
inspect_nclosed(const struct inspect *in)
{
	return in->nclosed;
}

size_t
inspect_nvisible(const struct inspect *in)
{
	return in->nvisible;
}

const char *
inspect_visible(const struct inspect *in, size_t i)
{
	return i < in->nvisible ? in->visible[i] : NULL;
}

int
inspect_sees(const struct inspect *in, const char *type_subtype)
{
	size_t i;

	for (i = 0; i < in->nvisible; i++)
		if (strcasecmp(in->visible[i], type_subtype) == 0)
			return 1;
	return 0;
}

size_t
inspect_nsignatures(const struct inspect *in)
{
	return in->nsigs;
}

const struct inspect_signature *
inspect_signature(const struct inspect *in, size_t i)
{
	return i < in->nsigs ? &in->sigs[i] : NULL;
}

const struct mime_entity *
inspect_tree(const struct inspect *in)
{
	return in->tree;
}

size_t
inspect_nenvelopes(const struct inspect *in)
{
	return in->nenvs;
}

const struct inspect_envelope *
inspect_envelope(const struct inspect *in, size_t i)
{
	return i < in->nenvs ? &in->envs[i] : NULL;
}

static const struct inspect_envelope *
envelope_of(const struct inspect *in, const struct mime_entity *e)
{
	size_t i;

	for (i = 0; i < in->nenvs; i++)
		if (in->envs[i].entity == e)
			return &in->envs[i];
	return NULL;
}

/* Walks up from e: e or an ancestor that is grafted plaintext came out of
 * the envelope above it; an ancestor that was verified signs what is
 * below it. Collected innermost first, then turned around. */
void
inspect_protection(const struct inspect *in, const struct mime_entity *e,
    struct inspect_protection *p)
{
	const struct inspect_envelope *env, *tmp_e;
	const struct inspect_signature *tmp_s;
	const struct mime_entity *a;
	size_t i;

	memset(p, 0, sizeof(*p));
	for (a = e; a != NULL; a = a->parent) {
		for (i = 0; i < in->nsigs && a != e; i++)
			if (in->sigs[i].entity == a &&
			    p->nsignatures < INSPECT_MAX_LAYERS)
				p->signatures[p->nsignatures++] = &in->sigs[i];
		if (a->parent != NULL && a->grafted &&
		    (env = envelope_of(in, a->parent)) != NULL &&
		    p->nenvelopes < INSPECT_MAX_LAYERS)
			p->envelopes[p->nenvelopes++] = env;
	}
	for (i = 0; i < p->nenvelopes / 2; i++) {
		tmp_e = p->envelopes[i];
		p->envelopes[i] = p->envelopes[p->nenvelopes - 1 - i];
		p->envelopes[p->nenvelopes - 1 - i] = tmp_e;
	}
	for (i = 0; i < p->nsignatures / 2; i++) {
		tmp_s = p->signatures[i];
		p->signatures[i] = p->signatures[p->nsignatures - 1 - i];
		p->signatures[p->nsignatures - 1 - i] = tmp_s;
	}
}

static const char *
target_state_name(enum inspect_target_state s)
{
	static const char *const names[] = {
		[TARGET_NOT_FOUND] = "not-found",
		[TARGET_OPENED] = "opened",
		[TARGET_UNDECIPHERABLE] = "undecipherable",
		[TARGET_PLAIN] = "plain",
	};

	return names[s];
}

/* Append to buf at *o, never past bufsz; truncation is fine for a log. */
static void
put(char *buf, size_t bufsz, size_t *o, const char *fmt, const char *a,
    const char *b)
{
	int n;

	if (*o >= bufsz)
		return;
	n = snprintf(buf + *o, bufsz - *o, fmt, a, b);
	if (n > 0)
		*o += (size_t)n;
}

const char *
inspect_summary(const struct inspect *in, char *buf, size_t bufsz)
{
	char cid[LABEL_CID_BUFSZ * 4], num[32];
	size_t i, o = 0;

	if (bufsz == 0)
		return buf;
	buf[0] = '\0';
	snprintf(num, sizeof(num), "%zu", in->ntargets);
	put(buf, bufsz, &o, "targets %s%s", num, in->ntargets ? " (" : "");
	for (i = 0; i < in->ntargets; i++) {
		log_safe(cid, sizeof(cid), in->targets[i].cid,
		    strlen(in->targets[i].cid));
		put(buf, bufsz, &o, "%s %s", cid,
		    target_state_name(in->targets[i].state));
		put(buf, bufsz, &o, "%s%s", i + 1 < in->ntargets ? ", " : ")",
		    "");
	}
	snprintf(num, sizeof(num), "%zu", in->nclosed);
	put(buf, bufsz, &o, "; closed %s%s; visible", num, "");
	for (i = 0; i < in->nvisible; i++)
		put(buf, bufsz, &o, "%s%s", i ? "," : " ", in->visible[i]);
	if (in->nvisible == 0)
		put(buf, bufsz, &o, " %s%s", "none", "");
	snprintf(num, sizeof(num), "%zu", in->nsigs);
	put(buf, bufsz, &o, "; signatures %s%s", num, "");
	for (i = 0; i < in->nsigs; i++) {
		const struct inspect_signature *s = &in->sigs[i];

		put(buf, bufsz, &o, " [%s %s", s->valid ? "valid" : "invalid",
		    s->inside_envelope ? "inside" : "outside");
		put(buf, bufsz, &o, " %s%s]", s->valid ? s->signer :
		    s->reason, "");
	}
	return buf;
}
