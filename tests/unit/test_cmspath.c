/*
 * test_cmspath.c - the verification parameters cms_keys_load() sets on
 * its store (cms_keys.c): RFC 5280 conformance (X509_V_FLAG_X509_STRICT)
 * and the limit on intermediate CAs (CMS_MAX_CHAIN_DEPTH). Certificates
 * are made at test time with the openssl command line tool (set cmspath
 * of pki_vectors.sh, which says what each one is); each case is
 * one signature checked by cms_verify() (a proxy's challenge, a body's
 * signature) or one certificate by cms_cert_check() (the one a challenge
 * hands out), with a control that differs only in what is tested.
 * Written against mutants K4 and K5 of docs/reliability.md ("Mutation
 * testing"): with either setting gone, every case here still verifies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/cms.h"
#include "pki.h"
#include "t.h"

static struct cms_keys *anchors;

/* Sign with NAME (its chain: intermediates i1..i<nchain>) and verify
 * against the root alone; the status, the reason in *why. */
static enum cms_status
sign_verify(const char *name, size_t nchain, const char **why)
{
	static const uint8_t data[] = "signed for cmspath";
	const char *chain[9];
	char err[256], iname[8];
	struct cms_signing_key *sk;
	uint8_t *der = NULL;
	size_t der_len = 0, i;
	enum cms_status st;

	*why = NULL;
	for (i = 0; i < nchain && i < 9; i++) {
		snprintf(iname, sizeof iname, "i%zu", i + 1);
		chain[i] = pki_path(iname, "pem");
	}
	sk = cms_signing_key_load(pki_path(name, "pem"), pki_path(name, "key"),
	    chain, nchain, err, sizeof err);
	if (sk == NULL) {
		printf("# %s: %s\n", name, err);
		return CMS_ERROR;
	}
	if (cms_sign(sk, data, sizeof data, true, &der, &der_len) != CMS_OK) {
		cms_signing_key_free(sk);
		return CMS_ERROR;
	}
	st = cms_verify(anchors, der, der_len, data, sizeof data, NULL, NULL,
	    NULL, why);
	if (st != CMS_OK && *why != NULL)
		printf("# %s: %s\n", name, *why);
	free(der);
	cms_signing_key_free(sk);
	return st;
}

/* cms_cert_check() of NAME's certificate (DER) against the root. */
static enum cms_status
cert_check(const char *name)
{
	uint8_t buf[4096];
	size_t n = pki_read(name, "der", buf, sizeof buf);
	const char *why = NULL;
	enum cms_status st;

	if (n == 0)
		return CMS_ERROR;
	st = cms_cert_check(anchors, buf, n, NULL, &why);
	if (st != CMS_OK && why != NULL)
		printf("# %s: %s\n", name, why);
	return st;
}

/* K4: X509_STRICT. Without it OpenSSL accepts both certificates below
 * (openssl verify does, without -x509_strict). */
static void
test_strict(void)
{
	const char *why;

	T_EQ_INT(sign_verify("good", 0, &why), CMS_OK,
	    "control: a conforming signer verifies");
	T_EQ_INT(cert_check("good"), CMS_OK,
	    "control: a conforming certificate passes cms_cert_check");
	T_EQ_INT(sign_verify("noakid", 0, &why), CMS_UNTRUSTED,
	    "strict: a signer without authorityKeyIdentifier is refused");
	T_OK(why != NULL && strstr(why, "path validation") != NULL,
	    "  ... as a path validation failure");
	T_EQ_INT(cert_check("noakid"), CMS_UNTRUSTED,
	    "strict: cms_cert_check refuses it too");
	T_EQ_INT(sign_verify("kcs", 0, &why), CMS_UNTRUSTED,
	    "strict: an end entity asserting keyCertSign is refused");
	T_EQ_INT(cert_check("kcs"), CMS_UNTRUSTED,
	    "strict: cms_cert_check refuses it too");
}

/* K5: at most CMS_MAX_CHAIN_DEPTH intermediates (OpenSSL's default is
 * 100). */
static void
test_depth(void)
{
	const char *why;

	T_EQ_INT(CMS_MAX_CHAIN_DEPTH, 8, "the limit these certificates "
	    "are made for");
	T_EQ_INT(sign_verify("deep8", 8, &why), CMS_OK,
	    "depth: 8 intermediates (the limit) verify");
	T_EQ_INT(sign_verify("deep9", 9, &why), CMS_UNTRUSTED,
	    "depth: 9 intermediates are refused");
	T_OK(why != NULL && strstr(why, "path validation") != NULL,
	    "  ... as a path validation failure");
}

int
main(void)
{
	char err[256];
	int rc;

	if (!pki_have_openssl()) {
		T_SKIP("cmspath", "no openssl command");
		return t_done();
	}
	if (pki_mkdir("cmspath") != 0)
		return 1;
	rc = pki_make("cmspath");
	T_OK(rc != PKI_NO_FIT, "the PKI script fits");
	T_EQ_INT(rc, 0, "openssl made the test PKI");
	anchors = pki_anchors(err, sizeof err);
	T_OK(anchors != NULL, "trust anchors loaded");
	if (anchors != NULL) {
		test_strict();
		test_depth();
	}
	cms_keys_free(anchors);
	pki_cleanup();
	return t_done();
}
