/* certwatch.c - the configuration's certificates and their ends. */
#include "proxyd/certwatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "crypto/certinfo.h"
#include "proxyd/conf.h"

struct certwatch {
	struct certwatch_cert *v;
	size_t n, cap;
};

static void
add(struct certwatch *cw, const char *path, const char *fmt, size_t i)
{
	struct certwatch_cert *e, *nv;
	struct certinfo ci;

	if (path == NULL || *path == '\0')
		return;
	if (cw->n == cw->cap) {
		cw->cap = cw->cap ? 2 * cw->cap : 8;
		if ((nv = realloc(cw->v, cw->cap * sizeof(*nv))) == NULL) {
			cw->cap = cw->n;
			return; /* the list is shorter; nothing else depends on it */
		}
		cw->v = nv;
	}
	e = &cw->v[cw->n];
	memset(e, 0, sizeof(*e));
	if ((e->path = strdup(path)) == NULL)
		return;
	cw->n++;
	snprintf(e->role, sizeof(e->role), fmt, i);
	if (certinfo_read(path, &ci, e->err, sizeof(e->err)) == 0) {
		e->ok = 1;
		e->not_after = ci.not_after;
		snprintf(e->subject, sizeof(e->subject), "%s", ci.subject);
	}
}

struct certwatch *
certwatch_new(const struct conf *c)
{
	struct certwatch *cw = calloc(1, sizeof(*cw));
	size_t i;

	if (cw == NULL)
		return NULL;
	for (i = 0; i < c->ninspect_keys; i++)
		add(cw, c->inspect_keys[i].certificate,
		    "inspect.keys[%zu].certificate", i);
	for (i = 0; i < c->ntrust_anchors; i++)
		add(cw, c->trust_anchors[i], "inspect.trust_anchors[%zu]", i);
	add(cw, c->ch_signing_certificate, "challenge.signing_certificate", 0);
	for (i = 0; i < c->nch_signing_chain; i++)
		add(cw, c->ch_signing_chain[i], "challenge.signing_chain[%zu]", i);
	add(cw, c->ch_encryption_certificate, "challenge.encryption_certificate",
	    0);
	add(cw, c->tls_certificate, "tls.certificate", 0);
	add(cw, c->tls_ca_file, "tls.ca_file", 0);
	return cw;
}

void
certwatch_free(struct certwatch *cw)
{
	size_t i;

	if (cw == NULL)
		return;
	for (i = 0; i < cw->n; i++)
		free(cw->v[i].path);
	free(cw->v);
	free(cw);
}

size_t
certwatch_count(const struct certwatch *cw)
{
	return cw != NULL ? cw->n : 0;
}

const struct certwatch_cert *
certwatch_get(const struct certwatch *cw, size_t i)
{
	return cw != NULL && i < cw->n ? &cw->v[i] : NULL;
}

void
certwatch_log(const struct certwatch *cw, time_t now, const char *prefix)
{
	const struct certwatch_cert *e;
	char when[32];
	struct tm tm;
	size_t i;

	for (i = 0; i < certwatch_count(cw); i++) {
		e = &cw->v[i];
		if (!e->ok || e->not_after - now >
		    (time_t)CERTWATCH_WARN_DAYS * 86400)
			continue;
		gmtime_r(&e->not_after, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
		if (e->not_after <= now)
			log_error("%scertificate %s has expired: %s (%s, not "
			    "after %s)", prefix, e->role, e->path, e->subject,
			    when);
		else
			log_warnx("%scertificate %s expires in %ld days: %s (%s, "
			    "not after %s)", prefix, e->role,
			    (long)((e->not_after - now) / 86400), e->path,
			    e->subject, when);
	}
}
