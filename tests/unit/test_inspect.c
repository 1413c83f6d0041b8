/*
 * test_inspect.c - the decrypt stage (inspect.c) on its own: CMS bodies
 * made by the openssl command line (cms_vectors.sh), opened with a
 * "pool" that queues the crypto and runs it when the test says, as the
 * daemon's workers do on other threads. Checks what services are told:
 * the plaintext in the tree and what protected it (inspect_protection).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/cms.h"
#include "e2m/inspect.h"
#include "t.h"

static char dir[512];

static const char *
path(const char *name)
{
	static char buf[8][700];
	static int i;

	i = (i + 1) % 8;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

static uint8_t *
slurp(const char *name, size_t *len)
{
	FILE *f = fopen(path(name), "rb");
	uint8_t *buf = NULL;
	long n;

	*len = 0;
	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) != NULL &&
	    fread(buf, 1, (size_t)n, f) == (size_t)n)
		*len = (size_t)n;
	fclose(f);
	return buf;
}

/* The test's pool: one job at a time is all inspect.c ever queues. */
static struct {
	inspect_work_fn *work;
	inspect_job_done_fn *done;
	void *arg;
	int queued, submitted;
} pool;

static int
submit(void *p, inspect_work_fn *work, inspect_job_done_fn *done, void *arg)
{
	(void)p;
	if (pool.queued)
		return -1;
	pool.work = work;
	pool.done = done;
	pool.arg = arg;
	pool.queued = 1;
	pool.submitted++;
	return 0;
}

static int finished;

static void
on_done(struct inspect *in, void *arg)
{
	(void)in;
	(void)arg;
	finished = 1;
}

/* Inspect body as one labelled part; run the queued crypto to the end. */
static struct inspect *
run(struct inspector *ins, const char *ctype, const uint8_t *body,
    size_t len, const char *label)
{
	struct inspect_input ip;
	struct label_field lf;
	struct inspect *in = NULL;
	enum inspect_status st;

	memset(&ip, 0, sizeof(ip));
	ip.top.content_type = ctype;
	ip.top.content_id = "<m1@example.com>";
	ip.body = body;
	ip.len = len;
	if (label != NULL) {
		lf.value = label;
		lf.len = strlen(label);
		ip.labels = &lf;
		ip.nlabels = 1;
	}
	finished = 0;
	st = inspect_start(ins, &ip, on_done, NULL, &in);
	while (st == INSPECT_PENDING && pool.queued) {
		pool.queued = 0;
		pool.work(pool.arg);
		pool.done(pool.arg, 1);
		if (finished)
			break;
	}
	return in;
}

/* The first leaf of the tree whose type is type/subtype. */
static const struct mime_entity *
leaf(const struct inspect *in, const char *type, const char *subtype)
{
	const struct mime_entity *t = inspect_tree(in), *e;

	for (e = t; e != NULL; e = mime_next(t, e))
		if (e->nchildren == 0 && e->type != NULL &&
		    strcmp(e->type, type) == 0 &&
		    strcmp(e->subtype, subtype) == 0)
			return e;
	return NULL;
}

static const char P7M[] =
    "application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m";
static const char LABEL[] = "proxy.example.com;cid=\"m1@example.com\"";

static int released;

static void
on_release(void *arg)
{
	(void)arg;
	released++;
}

/*
 * A reload frees the old state's inspector while a request that gave up
 * (inspect_free() while pending) still has its crypto on a worker: the
 * inspector, and the keys release() frees, must last until that job is
 * done. Under ASan a use after free here fails the run.
 */
static void
test_outlives(const struct inspector_conf *base, struct cms_keys *k)
{
	struct inspector_conf ic = *base;
	struct inspector *ins;
	struct inspect_input ip;
	struct label_field lf;
	struct inspect *in = NULL, *idle = NULL;
	uint8_t *der;
	size_t len;

	ic.keys = k;
	ic.submit = submit;
	ic.release = on_release;
	released = 0;
	der = slurp("env_multi.der", &len);
	ins = inspector_new(&ic);
	T_OK(ins != NULL && der != NULL, "outlives: an inspector and a body");
	if (ins == NULL || der == NULL) {
		inspector_free(ins);
		free(der);
		return;
	}
	memset(&ip, 0, sizeof(ip));
	ip.top.content_type = P7M;
	ip.top.content_id = "<m1@example.com>";
	ip.body = der;
	ip.len = len;
	lf.value = LABEL;
	lf.len = strlen(LABEL);
	ip.labels = &lf;
	ip.nlabels = 1;
	T_EQ_INT(inspect_start(ins, &ip, on_done, NULL, &in), INSPECT_PENDING,
	    "  its crypto is queued");
	ip.nlabels = 0;
	ip.body = "x";
	ip.len = 1;
	ip.top.content_type = "text/plain";
	(void)inspect_start(ins, &ip, on_done, NULL, &idle);
	inspect_free(in);   /* the request gave up */
	inspector_free(ins); /* the reload dropped the old state */
	T_EQ_INT(released, 0, "  two inspections alive: not released");
	inspect_free(idle);
	T_EQ_INT(released, 0, "  one still running: not released");
	finished = 0;
	pool.queued = 0;
	pool.work(pool.arg);  /* the worker finishes with the keys */
	pool.done(pool.arg, 1);
	T_EQ_INT(released, 1, "  released once the last one is done");
	T_EQ_INT(finished, 0, "  the abandoned one's done() is not called");
	free(der);
}

/* The same envelope opens the same either way; described (the archive
 * on), it names the key that opened it and its recipients; undescribed,
 * its info is left zeroed, no key. */
static void
test_enveloped(struct inspector *ins, int described)
{
	struct inspect_protection p;
	const struct mime_entity *sdp;
	struct inspect *in;
	uint8_t *der;
	size_t len;

	der = slurp("env_multi.der", &len);
	in = run(ins, P7M, der, len, LABEL);
	T_EQ_INT(inspect_result(in), INSPECT_DONE, described ?
	    "envelope: inspected" : "envelope, undescribed: inspected");
	T_EQ_INT(inspect_nenvelopes(in), 1, "  one envelope opened");
	sdp = leaf(in, "application", "sdp");
	T_OK(sdp != NULL, "  its SDP is in the tree");
	inspect_protection(in, sdp, &p);
	T_EQ_INT(p.nenvelopes, 1, "  the SDP came out of one envelope");
	T_EQ_INT(p.nsignatures, 0, "  no signature over it");
	T_OK(p.nenvelopes == 1 && p.envelopes[0] == inspect_envelope(in, 0),
	    "  the envelope recorded");
	if (p.nenvelopes == 1 && described) {
		T_EQ_STR(p.envelopes[0]->info.opened_with, "CN=proxy_rsa",
		    "  opened with our RSA key");
		T_EQ_INT(p.envelopes[0]->info.nrecipients, 3,
		    "  three recipients described");
	} else if (p.nenvelopes == 1) {
		T_EQ_INT(p.envelopes[0]->info.key, -1, "  no key named");
		T_EQ_STR(p.envelopes[0]->info.opened_with, "",
		    "  no subject printed");
		T_EQ_INT(p.envelopes[0]->info.nrecipients, 0,
		    "  no recipient described");
	}
	inspect_protection(in, inspect_tree(in), &p);
	T_OK(p.nenvelopes == 0 && p.nsignatures == 0,
	    "  nothing around the top-level entity");
	inspect_free(in);
	free(der);
}

/* An envelope that opens (the key fits, the padding is right) to bytes
 * that are no MIME entity, as a wrong key can give: undecipherable, the
 * same outcome as any failure to open, not a 400 (an oracle). */
static void
test_plaintext_not_mime(struct inspector *ins)
{
	struct inspect *in;
	const struct mime_entity *e;
	uint8_t *der;
	size_t len;
	int shut = 0;

	der = slurp("env_garbage.der", &len);
	in = run(ins, P7M, der, len, LABEL);
	T_EQ_INT(inspect_result(in), INSPECT_DONE,
	    "plaintext not MIME: inspected, not malformed");
	T_EQ_INT(inspect_ntargets(in), 1, "  one labelled target");
	if (inspect_ntargets(in) == 1)
		T_EQ_INT(inspect_target(in, 0)->state, TARGET_UNDECIPHERABLE,
		    "  undecipherable, as any other failure to open");
	T_EQ_INT(inspect_nenvelopes(in), 0, "  no envelope counted opened");
	for (e = inspect_tree(in); e != NULL; e = mime_next(inspect_tree(in), e))
		shut += e->nchildren == 0 && strcmp(e->subtype, "pkcs7-mime") == 0;
	T_EQ_INT(shut, 1, "  the envelope stays shut in the tree");
	inspect_free(in);
	free(der);
}

static void
test_signed_inside(struct inspector *ins)
{
	struct inspect_protection p;
	const struct mime_entity *sdp;
	struct inspect *in;
	uint8_t *der;
	size_t len;

	der = slurp("env_signed.der", &len);
	in = run(ins, P7M, der, len, LABEL);
	T_EQ_INT(inspect_result(in), INSPECT_DONE,
	    "sign-then-encrypt: inspected");
	sdp = leaf(in, "application", "sdp");
	T_OK(sdp != NULL, "  the SDP is in the tree");
	inspect_protection(in, sdp, &p);
	T_EQ_INT(p.nenvelopes, 1, "  one envelope around it");
	T_EQ_INT(p.nsignatures, 1, "  one signature over it");
	if (p.nsignatures == 1) {
		T_OK(p.signatures[0]->valid, "  valid");
		T_OK(p.signatures[0]->inside_envelope, "  inside the envelope");
		T_OK(strstr(p.signatures[0]->signer, "signer") != NULL,
		    "  by the signer");
	}
	if (p.nenvelopes == 1)
		T_EQ_STR(p.envelopes[0]->info.opened_with, "CN=proxy_ec",
		    "  opened with our EC key");
	inspect_free(in);
	free(der);
}

static void
test_clear_signed(struct inspector *ins)
{
	struct inspect_protection p;
	const struct mime_entity *sdp;
	struct inspect *in;
	uint8_t *mime;
	size_t len;
	char *ct, *body;

	/* openssl cms -sign's S/MIME output: headers, then the body. */
	mime = slurp("clear_signed.mime", &len);
	T_OK(mime != NULL, "clear multipart/signed made");
	if (mime == NULL)
		return;
	mime[len] = '\0';
	ct = strstr((char *)mime, "Content-Type: ");
	body = strstr((char *)mime, "\r\n\r\n");
	T_OK(ct != NULL && body != NULL, "  it has headers and a body");
	if (ct == NULL || body == NULL) {
		free(mime);
		return;
	}
	ct += strlen("Content-Type: ");
	ct[strcspn(ct, "\r")] = '\0';
	body += 4;
	in = run(ins, ct, (uint8_t *)body, len - (size_t)(body - (char *)mime),
	    NULL);
	T_EQ_INT(inspect_result(in), INSPECT_DONE, "clear signed: inspected");
	sdp = leaf(in, "application", "sdp");
	inspect_protection(in, sdp, &p);
	T_EQ_INT(p.nenvelopes, 0, "  no envelope");
	T_EQ_INT(p.nsignatures, 1, "  one signature over the SDP");
	if (p.nsignatures == 1)
		T_OK(p.signatures[0]->valid &&
		    !p.signatures[0]->inside_envelope,
		    "  valid, outside any envelope");
	inspect_free(in);
	free(mime);
}

/* message/cpim: the wrapped entity is opened, in the clear and inside an
 * envelope; a broken one stays a message/cpim leaf. */
static void
test_cpim(struct inspector *ins)
{
	static const char cpim[] =
	    "From: <im:alice@example.com>\r\nTo: <im:bob@example.com>\r\n"
	    "DateTime: 2026-12-06T10:00:00Z\r\n\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n\r\nhello in CPIM";
	struct inspect_protection p;
	const struct mime_entity *text;
	struct inspect *in;
	uint8_t *der;
	size_t len;

	in = run(ins, "message/cpim", (const uint8_t *)cpim, sizeof(cpim) - 1,
	    NULL);
	T_EQ_INT(inspect_result(in), INSPECT_DONE, "CPIM: inspected");
	T_OK(inspect_sees(in, "text/plain") && inspect_sees(in, "message/cpim"),
	    "  text/plain and message/cpim visible");
	text = leaf(in, "text", "plain");
	T_OK(text != NULL && text->data_len == 13 &&
	    memcmp(text->data, "hello in CPIM", 13) == 0,
	    "  the wrapped text is a leaf of the tree");
	inspect_free(in);

	in = run(ins, "message/cpim", (const uint8_t *)"no blank line", 13,
	    NULL);
	T_OK(inspect_result(in) == INSPECT_DONE &&
	    inspect_sees(in, "message/cpim") && !inspect_sees(in, "text/plain"),
	    "CPIM without its blank line: stays message/cpim");
	inspect_free(in);

	der = slurp("env_cpim.der", &len);
	in = run(ins, P7M, der, len, LABEL);
	T_EQ_INT(inspect_result(in), INSPECT_DONE,
	    "CPIM in an envelope: inspected");
	text = leaf(in, "text", "plain");
	T_OK(text != NULL, "  the wrapped text is in the tree");
	inspect_protection(in, text, &p);
	T_EQ_INT(p.nenvelopes, 1, "  it came out of the envelope");
	inspect_free(in);
	free(der);
}

int
main(void)
{
	const char *top = getenv("TOP_SRCDIR");
	char cmd[4096];
	const char *c[2], *kf[2], *ca[1];
	struct inspector_conf ic;
	struct inspector *ins;
	struct cms_keys *k;
	char err[256];

	if (top == NULL || *top == '\0')
		top = ".";
	snprintf(dir, sizeof(dir), "/tmp/test_inspect.%ld", (long)getpid());
	snprintf(cmd, sizeof(cmd), "sh '%s/tests/unit/cms_vectors.sh' '%s' "
	    ">'%s.log' 2>&1 && cd '%s' && openssl cms -sign -in inner.txt "
	    "-signer signer.crt -inkey signer.key -crlfeol "
	    "-out clear_signed.mime 2>>'%s.log' && "
	    "printf 'Content-Type: message/cpim\\r\\n\\r\\nFrom: <im:a@b>\\r\\n"
	    "\\r\\nContent-Type: text/plain\\r\\n\\r\\nsecret' > cpim.txt && "
	    "openssl cms -encrypt -binary -aes-128-gcm -in cpim.txt "
	    "-outform DER -out env_cpim.der -recip proxy_ec.crt && "
	    "printf 'no header line here\r\n' > garbage.txt && "
	    "openssl cms -encrypt -binary -aes-128-cbc -in garbage.txt "
	    "-outform DER -out env_garbage.der -recip proxy_rsa.crt", top, dir,
	    dir, dir, dir);
	T_EQ_INT(system(cmd), 0, "vectors made with the openssl command line");
	c[0] = path("proxy_rsa.crt");
	kf[0] = path("proxy_rsa.key");
	c[1] = path("proxy_ec.crt");
	kf[1] = path("proxy_ec.key");
	ca[0] = path("ca.crt");
	k = cms_keys_load(c, kf, 2, ca, 1, NULL, 0, err, sizeof(err));
	T_OK(k != NULL, "keys loaded");
	if (k == NULL) {
		printf("# %s\n", err);
		return t_done();
	}
	memset(&ic, 0, sizeof(ic));
	ic.keys = k;
	ic.submit = submit;
	ic.pool = &pool;
	mime_limits_default(&ic.limits);
	ic.own_names = (const char *const[]){ "proxy.example.com" };
	ic.nown_names = 1;
	ic.describe = 1;
	ins = inspector_new(&ic);
	T_OK(ins != NULL, "inspector made");
	ic.submit = NULL;
	T_OK(inspector_new(&ic) == NULL,
	    "an inspector needs somewhere to run crypto");
	if (ins != NULL) {
		test_enveloped(ins, 1);
		test_plaintext_not_mime(ins);
		test_signed_inside(ins);
		test_clear_signed(ins);
		test_cpim(ins);
		T_OK(pool.submitted >= 4, "crypto ran through the pool");
	}
	inspector_free(ins);
	ic.submit = submit;
	ic.describe = 0;
	ins = inspector_new(&ic);
	T_OK(ins != NULL, "an inspector that does not describe envelopes");
	if (ins != NULL)
		test_enveloped(ins, 0);
	inspector_free(ins);
	test_outlives(&ic, k);
	cms_keys_free(k);
	if (t_failed == 0) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s.log'", dir, dir);
		(void)system(cmd);
	}
	return t_done();
}
