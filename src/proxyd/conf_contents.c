/*
 * conf_contents.c - what only the files a configuration names can tell:
 * each decryption key against its certificate, trust anchors and CRLs
 * that parse, the challenge's certificates, key and chain, a TLS
 * listener's key against its certificate, an archive the daemon can
 * write. A start stops on any of these; "e2mproxyd -c" must say so first,
 * each at the line that names the file. Runs once the configuration
 * itself is valid (every file named exists and is readable).
 */
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/cms.h"
#include "proxyd/conf.h"
#include "proxyd/confload.h"

#define ERRSZ 512

/* Element i of the list or array at path, else the setting, else NULL
 * (the whole file). */
static const config_setting_t *
elem_at(const config_t *cfg, const char *path, size_t i)
{
	const config_setting_t *s = config_lookup(cfg, path), *e;

	if (s != NULL && (e = config_setting_get_elem(s, (unsigned)i)) != NULL)
		return e;
	return s;
}

static void
check_keypairs(struct loader *l, const config_t *cfg)
{
	const struct conf *c = l->c;
	const config_setting_t *e, *at;
	struct cms_keys *k;
	char err[ERRSZ];
	size_t i;

	for (i = 0; i < c->ninspect_keys; i++) {
		k = cms_keys_load((const char *const *)&c->inspect_keys[i]
		    .certificate, (const char *const *)&c->inspect_keys[i].key,
		    1, NULL, 0, NULL, 0, err, sizeof(err));
		if (k != NULL) {
			cms_keys_free(k);
			continue;
		}
		e = elem_at(cfg, "inspect.keys", i);
		at = e != NULL && config_setting_is_group(e) ?
		    config_setting_get_member(e, "key") : NULL;
		cl_err(l, at != NULL ? at : e, "inspect.keys[%zu]: %s", i, err);
	}
}

/* Each file of an anchor or CRL list on its own, so the error has a line. */
static void
check_store_files(struct loader *l, const config_t *cfg)
{
	const struct conf *c = l->c;
	struct cms_keys *k;
	char err[ERRSZ];
	size_t i;

	for (i = 0; i < c->ntrust_anchors; i++) {
		k = cms_keys_load(NULL, NULL, 0,
		    (const char *const *)&c->trust_anchors[i], 1, NULL, 0, err,
		    sizeof(err));
		if (k == NULL)
			cl_err(l, elem_at(cfg, "inspect.trust_anchors", i),
			    "inspect.trust_anchors[%zu]: %s", i, err);
		cms_keys_free(k);
	}
	for (i = 0; i < c->ncrl_files; i++) {
		k = cms_keys_load(NULL, NULL, 0, NULL, 0,
		    (const char *const *)&c->crl_files[i], 1, err, sizeof(err));
		if (k == NULL)
			cl_err(l, elem_at(cfg, "inspect.crl_files", i),
			    "inspect.crl_files[%zu]: %s", i, err);
		cms_keys_free(k);
	}
}

static void
check_challenge(struct loader *l, const config_t *cfg)
{
	const struct conf *c = l->c;
	const config_setting_t *at;
	struct cms_signing_key *sk;
	uint8_t *der;
	size_t len;
	char err[ERRSZ];

	/* Unset, it is inspect.keys[0]'s certificate, checked above. */
	if ((at = config_lookup(cfg, "challenge.encryption_certificate")) !=
	    NULL && c->ch_encryption_certificate != NULL) {
		if (cms_cert_der_load(c->ch_encryption_certificate, &der, &len,
		    err, sizeof(err)) == -1)
			cl_err(l, at, "challenge.encryption_certificate: %s",
			    err);
		else
			free(der);
	}
	if (c->ch_signing_certificate == NULL || c->ch_signing_key == NULL)
		return;
	sk = cms_signing_key_load(c->ch_signing_certificate,
	    c->ch_signing_key, (const char *const *)c->ch_signing_chain,
	    c->nch_signing_chain, err, sizeof(err));
	if (sk == NULL) {
		at = config_lookup(cfg, strstr(err, "chain") != NULL &&
		    c->nch_signing_chain > 0 ? "challenge.signing_chain" :
		    "challenge.signing_key");
		cl_err(l, at, "challenge: %s", err);
	}
	cms_signing_key_free(sk);
}

static void
check_tls_pair(struct loader *l, const config_t *cfg)
{
	const struct conf *c = l->c;
	struct cms_keys *k;
	char err[ERRSZ];

	if (c->tls_ca_file != NULL) {
		k = cms_keys_load(NULL, NULL, 0,
		    (const char *const *)&c->tls_ca_file, 1, NULL, 0, err,
		    sizeof(err));
		if (k == NULL)
			cl_err(l, config_lookup(cfg, "tls.ca_file"),
			    "tls.ca_file: %s", err);
		cms_keys_free(k);
	}
	if (c->tls_certificate == NULL || c->tls_key == NULL)
		return;
	if (cms_pair_check(c->tls_certificate, c->tls_key, err,
	    sizeof(err)) == -1)
		cl_err(l, config_lookup(cfg, "tls.key"), "tls: %s", err);
}

/* The archive is opened for appending (and created) at start. */
static void
check_archive(struct loader *l, const config_t *cfg)
{
	const struct conf *c = l->c;
	char dir[4096], *slash;

	if (!c->archive_enabled || c->archive_syslog ||
	    c->archive_path == NULL)
		return;
	if (access(c->archive_path, F_OK) == 0) {
		if (access(c->archive_path, W_OK) != 0)
			cl_err(l, config_lookup(cfg, "archive.path"),
			    "archive.path: \"%s\" is not writable by this user",
			    c->archive_path);
		return;
	}
	snprintf(dir, sizeof(dir), "%s", c->archive_path);
	if ((slash = strrchr(dir, '/')) != NULL)
		*(slash == dir ? slash + 1 : slash) = '\0';
	if (access(dir, W_OK | X_OK) != 0)
		cl_err(l, config_lookup(cfg, "archive.path"),
		    "archive.path: cannot create a file in \"%s\" as this "
		    "user", dir);
}

void
conf_check_contents(struct loader *l, const config_t *cfg)
{
	check_keypairs(l, cfg);
	check_store_files(l, cfg);
	check_challenge(l, cfg);
	check_tls_pair(l, cfg);
	check_archive(l, cfg);
	conf_check_edge_key(l, cfg);
}
