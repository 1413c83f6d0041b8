/*
 * inspect.h - the decrypt stage: find the body parts a user agent labelled
 * for this proxy, open them on worker threads, check signatures, and say
 * what became visible. No Sofia types: the proxy hands over header strings
 * and body bytes.
 */
#ifndef INSPECT_H
#define INSPECT_H

#include <stddef.h>

#include "crypto/cms.h"
#include "e2m/label.h"
#include "e2m/mime.h"

struct cms_keys;
struct inspector;
struct inspect;

/*
 * Where the crypto runs, off the caller's thread: submit(pool, work, done,
 * arg) runs work(arg) on another thread, then done(arg, ran) back on the
 * caller's (event loop) thread, exactly once (ran 0: the pool stopped
 * before work ran); or it returns -1 at once (queue full), and neither is
 * called. The daemon passes its worker pool (proxyd/workers.h); this
 * layer knows no threads or event loop.
 */
typedef void inspect_work_fn(void *arg);
typedef void inspect_job_done_fn(void *arg, int ran);
typedef int inspect_submit_fn(void *pool, inspect_work_fn *work,
    inspect_job_done_fn *done, void *arg);

struct inspector_conf {
	const struct cms_keys *keys; /* borrowed; NULL: nothing can be opened */
	inspect_submit_fn *submit;
	void *pool;                  /* borrowed, given to submit() */
	struct mime_limits limits;
	/* Describe each envelope opened (the key that opened it, whom it
	 * names: struct cms_envelope) for inspect_protection(). Only the IM
	 * archive records it, and it costs about a tenth of an EC opening
	 * (names printed through OpenSSL), so the proxy asks for it only
	 * with the archive on; otherwise the info is zeroed, key -1. */
	int describe;
	const char *const *own_names; /* borrowed: names meaning this proxy */
	size_t nown_names;
	/* Called once the inspector is freed and the last inspection made
	 * with it is gone: what keys and own_names point to may go then.
	 * NULL: nothing to do. */
	void (*release)(void *arg);
	void *release_arg;
};

/* The request's body and labels; everything borrowed for the call only. */
struct inspect_input {
	struct mime_headers top;     /* SIP-level Content-* header values */
	const void *body;
	size_t len;
	const struct label_field *labels; /* Proxy-Inspect-Body and
	                                   * Proxy-Required-Body values */
	size_t nlabels;
	/* Also open envelopes no label names when no labelled target was
	 * found (policy open_unlabelled, digest 5.1 step 4). */
	int open_unlabelled;
	/* Asked before each decryption (a private-key operation): 0 stops
	 * the inspection with INSPECT_RATE_LIMITED. NULL: always allowed. */
	int (*may_decrypt)(void *arg);
	void *may_decrypt_arg;
};

enum inspect_status {
	INSPECT_DONE,      /* finished now; done() is not called */
	INSPECT_PENDING,   /* crypto queued; done() comes on the loop thread */
	INSPECT_TOO_LARGE, /* body over the limit: 413, no crypto spent */
	INSPECT_MALFORMED, /* MIME syntax or limits: 400 */
	INSPECT_BUSY,      /* crypto queue full: 503 with Retry-After */
	INSPECT_RATE_LIMITED, /* may_decrypt() said no: 503, Retry-After */
	INSPECT_NOMEM      /* 500 */
};

enum inspect_target_state {
	TARGET_NOT_FOUND,     /* labelled, but no part has that Content-ID */
	TARGET_OPENED,        /* decrypted and grafted into the tree */
	TARGET_UNDECIPHERABLE, /* any failure to open, one outcome (R-spec) */
	TARGET_PLAIN          /* labelled part is not encrypted */
};

struct inspect_target {
	char cid[LABEL_CID_BUFSZ]; /* normalised */
	enum inspect_target_state state;
};

struct inspect_signature {
	int valid;            /* chain, key usage, algorithm and signature ok */
	int inside_envelope;  /* signed data came out of an envelope */
	int over_envelope;    /* what it signs holds encrypted data
	                       * (encrypt-then-sign) */
	int covers_whole;     /* signs the whole body, or the whole content
	                       * of an envelope */
	const char *reason;   /* static text when not valid */
	char signer[160];     /* signer's subject, escaped; empty if unknown */
	const struct mime_entity *entity; /* the multipart/signed or
	                       * signed-data entity */
};

/* An envelope the decrypt stage opened; its plaintext is grafted as
 * entity->children[0]. */
struct inspect_envelope {
	const struct mime_entity *entity;
	struct cms_envelope info; /* which key of ours, and whom it was for */
};

/* What protects one entity of the tree, from the outermost layer in: the
 * envelopes it came out of and the signatures over it. */
#define INSPECT_MAX_LAYERS 8
struct inspect_protection {
	const struct inspect_envelope *envelopes[INSPECT_MAX_LAYERS];
	size_t nenvelopes;
	const struct inspect_signature *signatures[INSPECT_MAX_LAYERS];
	size_t nsignatures;
};

typedef void inspect_done_fn(struct inspect *in, void *arg);

struct inspector *inspector_new(const struct inspector_conf *c);
/* NULL is fine. Inspections still alive keep it (and its keys) until
 * they are freed; release() then runs. */
void inspector_free(struct inspector *ins);

/*
 * Start inspecting. *out gets the inspection (also on errors, for the
 * log); the caller frees it with inspect_free(), which may be called while
 * crypto is pending (the work finishes unseen and done() is not called).
 */
enum inspect_status inspect_start(struct inspector *ins,
    const struct inspect_input *in, inspect_done_fn *done, void *arg,
    struct inspect **out);
void inspect_free(struct inspect *in); /* NULL is fine */

/* What the inspection found; valid once DONE or after done(). */
enum inspect_status inspect_result(const struct inspect *in);
const char *inspect_reason(const struct inspect *in); /* static; for 4xx */
size_t inspect_ntargets(const struct inspect *in);
const struct inspect_target *inspect_target(const struct inspect *in,
    size_t i);
/* Encrypted parts nobody labelled for us: left closed. */
size_t inspect_nclosed(const struct inspect *in);
/* Distinct type/subtype of every leaf visible in plaintext, in tree order. */
size_t inspect_nvisible(const struct inspect *in);
const char *inspect_visible(const struct inspect *in, size_t i);
int inspect_sees(const struct inspect *in, const char *type_subtype);
size_t inspect_nsignatures(const struct inspect *in);
const struct inspect_signature *inspect_signature(const struct inspect *in,
    size_t i);
/* The whole tree with plaintext grafted in, for services; NULL if none. */
const struct mime_entity *inspect_tree(const struct inspect *in);
/* A leaf of the tree readable in plaintext: not a shut envelope, not a
 * signature or a SignedData whose content was not taken out. */
int inspect_readable(const struct mime_entity *e);
/* The envelopes opened, in the order they were. */
size_t inspect_nenvelopes(const struct inspect *in);
const struct inspect_envelope *inspect_envelope(const struct inspect *in,
    size_t i);
/* The envelopes and signatures around e, an entity of inspect_tree(). */
void inspect_protection(const struct inspect *in, const struct mime_entity *e,
    struct inspect_protection *p);

/* One log line, no plaintext: targets, closed parts, visible types,
 * signatures. Returns buf. */
const char *inspect_summary(const struct inspect *in, char *buf,
    size_t bufsz);

#endif /* INSPECT_H */
