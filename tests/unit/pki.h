/*
 * pki.h - a unit test's own PKI, made at test time by pki_vectors.sh in a
 * fresh directory, and the few file helpers the tests use on it (paths,
 * reading a DER file, loading a signing key or the CA). Shared by
 * test_challenge, test_uachal, test_uatrust and test_cmspath, which once
 * each carried their own copy of the shell text and of these helpers.
 * Static inline: each test is its own program.
 *
 * The script is found as the tests find theirs: under $TOP_SRCDIR (make
 * check sets it, also out of tree and in distcheck), else next to this
 * file.
 */
#ifndef PKI_H
#define PKI_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/cms.h"

/* pki_make()'s answer when the command would not fit its buffer. */
#define PKI_NO_FIT (-2)

/* The directory of the PKI (pki_mkdir()). */
static char pki_dir[64];

/* 1 when the openssl command line tool is there. */
static inline int
pki_have_openssl(void)
{
	return system("openssl version >/dev/null 2>&1") == 0;
}

/* A fresh directory /tmp/test_TEST.XXXXXX in pki_dir: 0, or -1 (said). */
static inline int
pki_mkdir(const char *test)
{
	int n = snprintf(pki_dir, sizeof pki_dir, "/tmp/test_%s.XXXXXX",
	    test);

	if (n < 0 || (size_t)n >= sizeof pki_dir || mkdtemp(pki_dir) == NULL) {
		perror("mkdtemp");
		return -1;
	}
	return 0;
}

/* Make SET of pki_vectors.sh in pki_dir: 0, PKI_NO_FIT, or the shell's
 * status (its output, kept in pki_dir/pki.log, then shown as comments). */
static inline int
pki_make(const char *set)
{
	const char *top = getenv("TOP_SRCDIR"), *f = __FILE__,
	    *slash = strrchr(f, '/');
	char script[1024], cmd[2048];
	int n, rc;

	if (top != NULL && *top != '\0')
		n = snprintf(script, sizeof script,
		    "%s/tests/unit/pki_vectors.sh", top);
	else	/* source-relative: this file's directory */
		n = snprintf(script, sizeof script, "%.*spki_vectors.sh",
		    slash ? (int)(slash - f + 1) : 0, f);
	if (n < 0 || (size_t)n >= sizeof script)
		return PKI_NO_FIT;
	n = snprintf(cmd, sizeof cmd, "sh '%s' '%s' '%s' >'%s/pki.log' 2>&1",
	    script, pki_dir, set, pki_dir);
	if (n < 0 || (size_t)n >= sizeof cmd)
		return PKI_NO_FIT;
	if ((rc = system(cmd)) != 0) {
		snprintf(cmd, sizeof cmd, "sed 's/^/# /' '%s/pki.log'",
		    pki_dir);
		if (system(cmd) != 0)
			printf("# no log in %s\n", pki_dir);
	}
	return rc;
}

/* pki_dir/NAME.EXT; the last 16 answers stay valid. */
static inline const char *
pki_path(const char *name, const char *ext)
{
	static char buf[16][128];
	static int i;

	i = (i + 1) % 16;
	snprintf(buf[i], sizeof buf[i], "%s/%s.%s", pki_dir, name, ext);
	return buf[i];
}

/* Up to cap bytes of pki_dir/NAME.EXT into buf: how many (0: none). */
static inline size_t
pki_read(const char *name, const char *ext, void *buf, size_t cap)
{
	FILE *f = fopen(pki_path(name, ext), "rb");
	size_t n;

	if (f == NULL)
		return 0;
	n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

/* NAME.pem and NAME.key as a signing key (no chain); NULL, why in err. */
static inline struct cms_signing_key *
pki_signing_key(const char *name, char *err, size_t errlen)
{
	return cms_signing_key_load(pki_path(name, "pem"),
	    pki_path(name, "key"), NULL, 0, err, errlen);
}

/* ca.pem as the only trust anchor; NULL, why in err. */
static inline struct cms_keys *
pki_anchors(char *err, size_t errlen)
{
	const char *cas[] = { pki_path("ca", "pem") };

	return cms_keys_load(NULL, NULL, 0, cas, 1, NULL, 0, err, errlen);
}

/* Remove pki_dir and all in it. */
static inline void
pki_cleanup(void)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", pki_dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", pki_dir);
}

#endif /* PKI_H */
