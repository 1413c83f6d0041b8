/*
 * test_cmspath.c - the verification parameters cms_keys_load() sets on
 * its store (cms_keys.c): RFC 5280 conformance (X509_V_FLAG_X509_STRICT)
 * and the limit on intermediate CAs (CMS_MAX_CHAIN_DEPTH). Certificates
 * are made at test time with the openssl command line tool; each case is
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
#include "t.h"

static char dir[64];

/* A root CA; "good": a conforming signer; "noakid": the same without an
 * authorityKeyIdentifier (RFC 5280 4.2.1.1: a conforming CA includes
 * it); "kcs": an end entity asserting keyCertSign (4.2.1.3: only a CA
 * may); intermediates i1..i9 in a line under the root; "deep8" issued by
 * i8 (8 intermediates: the limit), "deep9" by i9 (one too many). */
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
    "[ good ]\n"
    "basicConstraints = CA:FALSE\n"
    "keyUsage = critical,digitalSignature,keyAgreement\n"
    "subjectAltName = DNS:a.test\n"
    "[ noakid ]\n"
    "basicConstraints = CA:FALSE\n"
    "keyUsage = critical,digitalSignature,keyAgreement\n"
    "subjectAltName = DNS:a.test\n"
    "authorityKeyIdentifier = none\n"
    "[ kcs ]\n"
    "basicConstraints = CA:FALSE\n"
    "keyUsage = critical,digitalSignature,keyAgreement,keyCertSign\n"
    "subjectAltName = DNS:a.test\n"
    "CNF\n"
    "ec() { $O genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256"
    " -out $1.key 2>/dev/null; }\n"
    "ec ca; $O req -new -x509 -config ext.cnf -extensions ca -key ca.key"
    " -subj '/CN=cmspath Test CA' -days 2 -sha256 -out ca.pem\n"
    /* cert NAME ISSUER SERIAL SECTION */
    "cert() { ec $1; $O req -new -config ext.cnf -key $1.key -subj /CN=$1"
    " -out $1.csr; $O x509 -req -in $1.csr -CA $2.pem -CAkey $2.key"
    " -set_serial $3 -days 2 -sha256 -extfile ext.cnf -extensions $4"
    " -out $1.pem 2>/dev/null; $O x509 -in $1.pem -outform DER"
    " -out $1.der; }\n"
    "cert good ca 11 good\n"
    "cert noakid ca 12 noakid\n"
    "cert kcs ca 13 kcs\n"
    "p=ca; for i in 1 2 3 4 5 6 7 8 9; do cert i$i $p 2$i ca; p=i$i; done\n"
    "cert deep8 i8 31 good\n"
    "cert deep9 i9 32 good\n";

static struct cms_keys *anchors;

static const char *
path(const char *name, const char *ext)
{
	static char buf[16][128];
	static int i;

	i = (i + 1) % 16;
	snprintf(buf[i], sizeof buf[i], "%s/%s.%s", dir, name, ext);
	return buf[i];
}

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
		chain[i] = path(iname, "pem");
	}
	sk = cms_signing_key_load(path(name, "pem"), path(name, "key"), chain,
	    nchain, err, sizeof err);
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
	size_t n;
	FILE *f = fopen(path(name, "der"), "rb");
	const char *why = NULL;
	enum cms_status st;

	if (f == NULL)
		return CMS_ERROR;
	n = fread(buf, 1, sizeof buf, f);
	fclose(f);
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
	char cmd[8192], ca[128], err[256];
	size_t tn = (size_t)snprintf(dir, sizeof dir, "/tmp/test_cmspath.");

	if (system("openssl version >/dev/null 2>&1") != 0) {
		T_SKIP("cmspath", "no openssl command");
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
	T_OK(anchors != NULL, "trust anchors loaded");
	if (anchors != NULL) {
		test_strict();
		test_depth();
	}
	cms_keys_free(anchors);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return t_done();
}
