/*
 * test_uatrust.c - may the UA disclose to the proxy behind a 496
 * (uatrust.c)? Each check of uatrust_challenge() and uatrust_learned() is
 * made to fail alone, on a genuine signed challenge (challenge_build()
 * with keys made at test time by the openssl command line tool, set
 * uatrust of pki_vectors.sh, which says what each one is): names
 * compared whole (not as prefixes), the signingTime skew both ways, the
 * signer naming the host, the encryption certificate's path, name and key
 * usage (and a NUL inside a dNSName), the allow-list. Written against the mutants of
 * docs/reliability.md ("Mutation testing"): each case names the weakening
 * it catches.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/cms.h"
#include "e2m/challenge.h"
#include "ua/uatrust.h"
#include "pki.h"
#include "t.h"

static struct cms_keys *anchors;
static time_t now0;
static char date[40];

struct der {
	unsigned char b[4096];
	size_t n;
};

static struct der d_a, d_uri, d_evil, d_b, d_signonly, d_rogue, d_nul,
    d_rsasign;

static int
load_der(const char *name, struct der *d)
{
	d->n = pki_read(name, "der", d->b, sizeof d->b);
	return d->n > 100 ? 0 : -1;
}

static struct cms_signing_key *
load_sk(const char *name)
{
	char err[256];

	return pki_signing_key(name, err, sizeof err);
}

static const char VIA[] =
    "SIP/2.0/TCP 127.0.0.1:5062;branch=z9hG4bKuatrust1;rport";
static const char FROM[] = "<sip:alice@example.com>;tag=ft1";
static const char TO[] = "<sip:bob@example.com>;tag=pt1";
static const char CALLID[] = "uatrust-1@example.com";
static const char CSEQ[] = "1 MESSAGE";

/* One challenge: signed by sk, handing out cert, Warning agent agent
 * (NULL: no Warning, the whole body wanted). */
struct chal {
	struct challenge_out o;
	char warn[160];
	const char *warns[1];
	int ok;
};

static void
chal_make(struct chal *c, const struct cms_signing_key *sk,
    const struct der *cert, const char *agent)
{
	struct challenge_text via = challenge_text(VIA), w;
	struct challenge_in in;
	const char *why;

	memset(c, 0, sizeof *c);
	memset(&in, 0, sizeof in);
	in.status = 496;
	in.reason = challenge_text("Proxy Undecipherable");
	in.via = &via;
	in.nvia = 1;
	in.from = challenge_text(FROM);
	in.to = challenge_text(TO);
	in.call_id = challenge_text(CALLID);
	in.cseq = challenge_text(CSEQ);
	in.date = challenge_text(date);
	if (agent != NULL) {
		snprintf(c->warn, sizeof c->warn, "380 %s \"Required to view "
		    "Content-Type 'text/plain'\"", agent);
		c->warns[0] = c->warn;
		w = challenge_text(c->warn);
		in.warning = &w;
		in.nwarning = 1;
	}
	in.cert_der = cert->b;
	in.cert_der_len = cert->n;
	in.sk = sk;
	c->ok = challenge_build(&in, &c->o, &why) == CHALLENGE_OK;
	if (!c->ok)
		printf("# challenge_build: %s\n", why ? why : "?");
}

/* uatrust_challenge() on c with the allow-list allow (n entries) at time
 * now; NULL (accepted) or the reason. The host taken goes into host. */
static const char *
judge(struct chal *c, const char *const *allow, size_t n, long long now,
    char *host, size_t hostsz)
{
	struct uatrust t = { anchors, allow, n, 380, 300 };
	struct uachal_request rq = { 0 };
	struct uachal_response rs = { 0 };
	struct uatrust_proxy p;
	const char *why;

	rq.call_id = CALLID;
	rq.cseq = CSEQ;
	rq.from_tag = "ft1";
	rq.branch = "z9hG4bKuatrust1";
	rq.sent_at = now - 1;
	rs.status = 496;
	rs.content_type = c->o.content_type;
	rs.body = c->o.body;
	rs.body_len = c->o.body_len;
	rs.to = TO;
	rs.date = date;
	rs.warnings = c->warns[0] != NULL ? c->warns : NULL;
	rs.nwarnings = c->warns[0] != NULL ? 1 : 0;
	why = uatrust_challenge(&t, &rq, &rs, now, &p);
	if (host != NULL)
		snprintf(host, hostsz, "%s", why == NULL ? p.host : "");
	if (why == NULL)
		uatrust_proxy_free(&p);
	return why;
}

#define ACCEPTED(why, name)                                                  \
	do {                                                                 \
		const char *w_ = (why);                                      \
		T_OK(w_ == NULL, name);                                      \
		if (w_ != NULL)                                              \
			printf("# refused: %s\n", w_);                       \
	} while (0)

/* Refused, for the reason that contains want. */
#define REFUSED(why, want, name)                                             \
	do {                                                                 \
		const char *w_ = (why);                                      \
		T_OK(w_ != NULL && strstr(w_, (want)) != NULL, name);        \
		if (!(w_ != NULL && strstr(w_, (want)) != NULL))             \
			printf("# got: %s, want: %s\n",                      \
			    w_ ? w_ : "accepted", (want));                   \
	} while (0)

static void
test_challenge(struct cms_signing_key *sk_a, struct cms_signing_key *sk_uri,
    struct cms_signing_key *sk_evil)
{
	static const char *const allow_a[] = { "a.test" };
	static const char *const allow_short[] = { "a.tes", "a" };
	static const char *const allow_long[] = { "a.test.evil", "xa.test" };
	static const char *const allow_pre[] = { "a.tes", "a.test" };
	static const char *const allow_both[] = { "a.test", "evil.test" };
	struct chal c;
	char host[UACHAL_AGENT_LEN];
	long long now = (long long)now0;

	/* The control: a genuine challenge, everything in order. */
	chal_make(&c, sk_a, &d_a, "a.test");
	T_OK(c.ok, "a genuine challenge of a.test built");
	ACCEPTED(judge(&c, allow_a, 1, now, host, sizeof host),
	    "genuine a.test challenge, a.test allowed: accepted");
	T_EQ_STR(host, "a.test", "  ... for host a.test");

	/* T3: the allow-list compares whole names. */
	REFUSED(judge(&c, allow_short, 2, now, NULL, 0), "allow-list",
	    "allow-list 'a.tes', 'a' (prefixes of a.test): refused");
	REFUSED(judge(&c, allow_long, 2, now, NULL, 0), "allow-list",
	    "allow-list 'a.test.evil', 'xa.test': refused");
	REFUSED(judge(&c, NULL, 0, now, NULL, 0), "allow-list",
	    "empty allow-list: refused");

	/* T4, T5: the signature's signingTime within the skew, both ways.
	 * The sipfrag Date moves with now (it is checked by uachal), the
	 * signingTime is when chal_make() ran: only it is out of skew. */
	challenge_out_free(&c.o);
	{
		struct tm tm;
		time_t later = now0 + 400, earlier = now0 - 400;

		strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT",
		    gmtime_r(&later, &tm));
		chal_make(&c, sk_a, &d_a, "a.test");
		REFUSED(judge(&c, allow_a, 1, now + 400, NULL, 0),
		    "signingTime", "signed 400 s before now (skew 300): "
		    "refused for its signingTime");
		challenge_out_free(&c.o);
		strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT",
		    gmtime_r(&earlier, &tm));
		chal_make(&c, sk_a, &d_a, "a.test");
		REFUSED(judge(&c, allow_a, 1, now - 400, NULL, 0),
		    "signingTime", "signed 400 s after now (skew 300): "
		    "refused for its signingTime");
		challenge_out_free(&c.o);
		strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT",
		    gmtime_r(&now0, &tm));
	}

	/* T1: the signer's dNSName is compared whole with the agent. */
	chal_make(&c, sk_a, &d_a, "a.tes");
	REFUSED(judge(&c, allow_pre, 2, now, NULL, 0), "name",
	    "agent 'a.tes', certificate names a.test: refused");
	challenge_out_free(&c.o);
	chal_make(&c, sk_a, &d_a, "a.test.evil");
	REFUSED(judge(&c, (const char *const[]){ "a.test.evil" }, 1, now,
	    NULL, 0), "name",
	    "agent 'a.test.evil', certificate names a.test: refused");
	challenge_out_free(&c.o);

	/* T2: a certificate naming the proxy by URI sip:a.test only. */
	chal_make(&c, sk_uri, &d_uri, "a.test");
	ACCEPTED(judge(&c, allow_a, 1, now, NULL, 0),
	    "URI:sip:a.test certificate, agent a.test: accepted");
	challenge_out_free(&c.o);
	chal_make(&c, sk_uri, &d_uri, "a.tes");
	REFUSED(judge(&c, allow_pre, 2, now, NULL, 0), "name",
	    "URI:sip:a.test certificate, agent 'a.tes': refused");
	challenge_out_free(&c.o);

	/* T6: signed by evil.test, speaking for a.test with a.test's
	 * encryption certificate, both allowed. */
	chal_make(&c, sk_evil, &d_a, "a.test");
	REFUSED(judge(&c, allow_both, 2, now, NULL, 0),
	    "signer does not name",
	    "signed by evil.test for a.test: refused (signer name)");
	challenge_out_free(&c.o);

	/* T10: a signature that does not verify: a byte of the signed
	 * sipfrag that uachal does not compare (the reason phrase) changed
	 * after signing. */
	chal_make(&c, sk_a, &d_a, "a.test");
	{
		unsigned char *p = c.o.body, *end = c.o.body + c.o.body_len;
		unsigned char *hit = NULL;

		for (; p + 14 < end; p++)
			if (memcmp(p, "Undecipherable", 14) == 0) {
				hit = p + 13;
				break;
			}
		T_OK(hit != NULL, "  ... the signed reason phrase found");
		if (hit != NULL)
			*hit = 'f';
		REFUSED(judge(&c, allow_a, 1, now, NULL, 0),
		    "signature does not verify",
		    "signed part changed after signing: refused");
	}
	challenge_out_free(&c.o);
}

static void
test_learned(void)
{
	static const char *const allow_a[] = { "a.test" };
	static const char *const allow_ab[] = { "a.test", "b.test" };
	struct uatrust t = { anchors, allow_a, 1, 380, 300 };

	ACCEPTED(uatrust_learned(&t, "a.test", d_a.b, d_a.n),
	    "learned: a.test's certificate for a.test");
	/* T7 */
	t.allow = allow_ab;
	t.nallow = 2;
	REFUSED(uatrust_learned(&t, "a.test", d_b.b, d_b.n), "another host",
	    "learned: b.test's certificate for a.test refused");
	/* T8 */
	t.allow = allow_a;
	t.nallow = 1;
	REFUSED(uatrust_learned(&t, "b.test", d_b.b, d_b.n), "allow-list",
	    "learned: b.test not allowed");
	/* T9: cms_cert_check's refusals that are not errors. */
	REFUSED(uatrust_learned(&t, "a.test", d_rogue.b, d_rogue.n), "path",
	    "learned: a.test certificate from another CA refused");
	/* C15: dNSName "a.test\0.x" (a NUL inside) does not name a.test. */
	REFUSED(uatrust_learned(&t, "a.test", d_nul.b, d_nul.n),
	    "another host", "learned: a dNSName 'a.test\\0.x' does not name "
	    "a.test");
	/* C16: an RSA certificate without keyEncipherment. */
	REFUSED(uatrust_learned(&t, "a.test", d_rsasign.b, d_rsasign.n),
	    "keyEncipherment", "learned: RSA a.test certificate for signing "
	    "only refused");
	REFUSED(uatrust_learned(&t, "a.test", d_signonly.b, d_signonly.n),
	    "keyAgreement", "learned: a.test certificate without "
	    "keyAgreement refused");
}

/* C11: every signer's path is validated, not only the first one's: a
 * SignedData signed by a.test and by a.test of another CA is refused. */
static void
test_two_signers(void)
{
	static const uint8_t data[] = "two signers";
	struct der two;
	const char *why = NULL;

	T_OK(load_der("two", &two) == 0, "two signers: SignedData made");
	T_EQ_INT(cms_verify(anchors, two.b, two.n, data, sizeof data - 1,
	    NULL, NULL, NULL, &why), CMS_UNTRUSTED,
	    "two signers, the second from another CA: refused");
	if (why != NULL)
		printf("# %s\n", why);
}

/* C3: a signer's cached path is trusted only until the certificate
 * expires. "short" expires seconds from now (made under faketime); one
 * verification caches its path, the next after the expiry must validate
 * again and fail. */
static void
test_cache_expiry(void)
{
	char err[256];
	struct cms_signing_key *sk;
	const uint8_t data[] = "signed while valid";
	uint8_t *der = NULL;
	size_t der_len = 0;
	struct cms_signer who;
	const char *why = NULL;
	time_t until;

	if ((sk = pki_signing_key("short", err, sizeof err)) == NULL) {
		printf("# %s\n", err);
		T_SKIP("cache expiry", "no faketime to make a short-lived "
		    "certificate");
		return;
	}
	T_EQ_INT(cms_sign(sk, data, sizeof data, true, &der, &der_len), CMS_OK,
	    "cache: signed with a certificate about to expire");
	T_EQ_INT(cms_verify(anchors, der, der_len, data, sizeof data, &who,
	    NULL, NULL, &why), CMS_OK, "cache: verifies while valid");
	/* Bounded wait for the expiry (notAfter is about 6 s away). */
	until = time(NULL) + 15;
	while (time(NULL) < until &&
	    cms_verify(anchors, der, der_len, data, sizeof data, &who, NULL,
	    NULL, &why) == CMS_OK) {
		struct timespec ts = { 0, 200000000 };
		nanosleep(&ts, NULL);
	}
	T_OK(time(NULL) < until && why != NULL && strstr(why, "expired"),
	    "cache: refused once the certificate expired (not from cache)");
	if (why != NULL)
		printf("# %s\n", why);
	free(der);
	cms_signing_key_free(sk);
}

int
main(void)
{
	char err[256];
	struct cms_signing_key *sk_a = NULL, *sk_uri = NULL, *sk_evil = NULL;
	struct tm tm;
	int rc;

	if (!pki_have_openssl()) {
		T_SKIP("uatrust", "no openssl command");
		return t_done();
	}
	if (pki_mkdir("uatrust") != 0)
		return 1;
	rc = pki_make("uatrust");
	T_OK(rc != PKI_NO_FIT, "the PKI script fits");
	T_EQ_INT(rc, 0, "openssl made the test PKI");
	anchors = pki_anchors(err, sizeof err);
	sk_a = load_sk("a");
	sk_uri = load_sk("uri");
	sk_evil = load_sk("evil");
	T_OK(anchors != NULL && sk_a != NULL && sk_uri != NULL &&
	    sk_evil != NULL && load_der("a", &d_a) == 0 &&
	    load_der("uri", &d_uri) == 0 && load_der("evil", &d_evil) == 0 &&
	    load_der("b", &d_b) == 0 && load_der("signonly", &d_signonly) == 0
	    && load_der("rogue", &d_rogue) == 0 && load_der("nul", &d_nul) == 0
	    && load_der("rsasign", &d_rsasign) == 0,
	    "keys and certificates loaded");
	now0 = time(NULL);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT",
	    gmtime_r(&now0, &tm));
	if (anchors != NULL && sk_a != NULL && sk_uri != NULL &&
	    sk_evil != NULL) {
		test_challenge(sk_a, sk_uri, sk_evil);
		test_learned();
		test_two_signers();
		test_cache_expiry();
	}
	cms_signing_key_free(sk_a);
	cms_signing_key_free(sk_uri);
	cms_signing_key_free(sk_evil);
	cms_keys_free(anchors);
	pki_cleanup();
	return t_done();
}
