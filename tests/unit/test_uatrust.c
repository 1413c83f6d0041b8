/*
 * test_uatrust.c - may the UA disclose to the proxy behind a 496
 * (uatrust.c)? Each check of uatrust_challenge() and uatrust_learned() is
 * made to fail alone, on a genuine signed challenge (challenge_build()
 * with keys made at test time by the openssl command line tool): names
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
#include "t.h"

static char dir[64];

/* CA; "short": a.test, expiring seconds from now (made under faketime);
 * "nul": dNSName "a.test\0.x" (DER written out); "a": a.test (signs and encrypts, EC: digitalSignature and
 * keyAgreement); "uri": only URI:sip:a.test; "evil": evil.test; "b":
 * b.test; "signonly": a.test without keyAgreement; "rogue": a.test from
 * another CA. */
static const char *const GEN =
    "set -e; cd '%s'; O=openssl\n"
    "cat > ext.cnf <<'CNF'\n"
    "[ req ]\n"
    "distinguished_name = dn\n"
    "[ dn ]\n"
    "[ ca ]\n"
    "basicConstraints = critical,CA:TRUE\n"
    "keyUsage = critical,keyCertSign,cRLSign\n"
    "subjectKeyIdentifier = hash\n"
    "[ a ]\n"
    "basicConstraints = CA:FALSE\n"
    "keyUsage = critical,digitalSignature,keyAgreement\n"
    "subjectAltName = DNS:a.test\n"
    "[ uri ]\n"
    "basicConstraints = CA:FALSE\n"
    "keyUsage = critical,digitalSignature,keyAgreement\n"
    "subjectAltName = URI:sip:a.test\n"
    "[ evil ]\n"
    "basicConstraints = CA:FALSE\n"
    "keyUsage = critical,digitalSignature,keyAgreement\n"
    "subjectAltName = DNS:evil.test\n"
    "[ b ]\n"
    "basicConstraints = CA:FALSE\n"
    "keyUsage = critical,digitalSignature,keyAgreement\n"
    "subjectAltName = DNS:b.test\n"
    "[ nul ]\n"
    "basicConstraints = CA:FALSE\n"
    "keyUsage = critical,digitalSignature,keyAgreement\n"
    "subjectAltName = DER:300b8209612e74657374002e78\n"
    "[ rsasign ]\n"
    "basicConstraints = CA:FALSE\n"
    "keyUsage = critical,digitalSignature\n"
    "subjectAltName = DNS:a.test\n"
    "[ signonly ]\n"
    "basicConstraints = CA:FALSE\n"
    "keyUsage = critical,digitalSignature\n"
    "subjectAltName = DNS:a.test\n"
    "CNF\n"
    "ec() { $O genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256"
    " -out $1.key 2>/dev/null; }\n"
    "ec ca; $O req -new -x509 -config ext.cnf -extensions ca -key ca.key"
    " -subj '/CN=uatrust Test CA' -days 2 -sha256 -out ca.pem\n"
    "ec rca; $O req -new -x509 -config ext.cnf -extensions ca -key rca.key"
    " -subj '/CN=uatrust Test CA' -days 2 -sha256 -out rca.pem\n"
    "cert() { ec $1; $O req -new -config ext.cnf -key $1.key -subj /CN=$3"
    " -out $1.csr; $O x509 -req -in $1.csr -CA $2.pem -CAkey $2.key"
    " -set_serial $4 -days 2 -sha256 -extfile ext.cnf -extensions $5"
    " -out $1.pem 2>/dev/null; $O x509 -in $1.pem -outform DER"
    " -out $1.der; }\n"
    "cert a ca a.test 11 a\n"
    "cert uri ca a.test 12 uri\n"
    "cert evil ca evil.test 13 evil\n"
    "cert b ca b.test 14 b\n"
    "cert signonly ca a.test 15 signonly\n"
    "cert nul ca a.test 17 nul\n"
    "cert rogue rca a.test 16 a\n"
    "$O genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsasign.key"
    " 2>/dev/null; $O req -new -config ext.cnf -key rsasign.key"
    " -subj /CN=a.test -out rsasign.csr; $O x509 -req -in rsasign.csr"
    " -CA ca.pem -CAkey ca.key -set_serial 19 -days 2 -sha256"
    " -extfile ext.cnf -extensions rsasign -out rsasign.pem 2>/dev/null;"
    " $O x509 -in rsasign.pem -outform DER -out rsasign.der\n"
    "printf 'two signers' > two.txt\n"
    "$O cms -sign -binary -in two.txt -md sha256 -signer a.pem -inkey a.key"
    " -signer rogue.pem -inkey rogue.key -outform DER -out two.der\n"
    "if command -v faketime >/dev/null; then\n"
    "  ec short; $O req -new -config ext.cnf -key short.key -subj /CN=a.test"
    " -out short.csr\n"
    "  faketime -f -172794s $O x509 -req -in short.csr -CA ca.pem"
    " -CAkey ca.key -set_serial 18 -days 2 -sha256 -extfile ext.cnf"
    " -extensions a -out short.pem 2>/dev/null\n"
    "fi\n";

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
	char p[128];
	FILE *f;

	snprintf(p, sizeof p, "%s/%s.der", dir, name);
	if ((f = fopen(p, "rb")) == NULL)
		return -1;
	d->n = fread(d->b, 1, sizeof d->b, f);
	fclose(f);
	return d->n > 100 ? 0 : -1;
}

static struct cms_signing_key *
load_sk(const char *name)
{
	char c[128], k[128], err[256];

	snprintf(c, sizeof c, "%s/%s.pem", dir, name);
	snprintf(k, sizeof k, "%s/%s.key", dir, name);
	return cms_signing_key_load(c, k, NULL, 0, err, sizeof err);
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
	char c[128], k[128], err[256];
	struct cms_signing_key *sk;
	const uint8_t data[] = "signed while valid";
	uint8_t *der = NULL;
	size_t der_len = 0;
	struct cms_signer who;
	const char *why = NULL;
	time_t until;

	snprintf(c, sizeof c, "%s/short.pem", dir);
	snprintf(k, sizeof k, "%s/short.key", dir);
	if ((sk = cms_signing_key_load(c, k, NULL, 0, err, sizeof err)) ==
	    NULL) {
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
	char cmd[8192], ca[128], err[256];
	struct cms_signing_key *sk_a = NULL, *sk_uri = NULL, *sk_evil = NULL;
	struct tm tm;
	size_t tn = (size_t)snprintf(dir, sizeof dir, "/tmp/test_uatrust.");

	if (system("openssl version >/dev/null 2>&1") != 0) {
		T_SKIP("uatrust", "no openssl command");
		return t_done();
	}
	memset(dir + tn, 'X', 6);
	dir[tn + 6] = '\0';
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	T_OK((size_t)snprintf(cmd, sizeof cmd, GEN, dir) < sizeof cmd,
	    "the PKI script fits");
	T_EQ_INT(system(cmd), 0, "openssl made the test PKI");
	snprintf(ca, sizeof ca, "%s/ca.pem", dir);
	const char *cas[] = { ca };
	anchors = cms_keys_load(NULL, NULL, 0, cas, 1, NULL, 0, err,
	    sizeof err);
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
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return t_done();
}
