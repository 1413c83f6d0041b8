/*
 * uamsg.c - the user agent's request body: sign, encrypt, label (see
 * uamsg.h). Each step wraps the entity made so far (its MIME headers and
 * body) into a new one, so the layers nest the way digest 2.5 draws them.
 */
#include "ua/uamsg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "crypto/cms.h"

#define CMS_BINARY_CTE "Content-Transfer-Encoding: binary\r\n"

/* A MIME entity being built: header lines (each CRLF-ended) and body. */
struct ent {
	struct buf hdrs;
	struct buf body;
	char *content_id;  /* value with <>, NULL if none */
	char *disposition; /* value, NULL if none */
	char *type;        /* Content-Type value */
};

static void
ent_free(struct ent *e)
{
	buf_free(&e->hdrs);
	buf_free(&e->body);
	free(e->content_id);
	free(e->disposition);
	free(e->type);
	memset(e, 0, sizeof(*e));
}

static int
fail(char *err, size_t errsz, const char *msg)
{
	snprintf(err, errsz, "%s", msg);
	return -1;
}

/* 32 random hex digits and a suffix (boundaries, Content-IDs). */
static int
random_token(char *out, size_t outsz, const char *prefix, const char *suffix)
{
	uint8_t r[16];
	size_t i, o;

	if (cms_random(r, sizeof(r)) != 0)
		return -1;
	o = (size_t)snprintf(out, outsz, "%s", prefix);
	for (i = 0; i < sizeof(r) && o + 2 < outsz; i++, o += 2)
		snprintf(out + o, outsz - o, "%02x", r[i]);
	snprintf(out + o, outsz - o, "%s", suffix);
	return 0;
}

/* Content-Type, then any further header lines; the entity owns copies. */
static int
ent_set(struct ent *e, const char *type, const char *more)
{
	if ((e->type = strdup(type)) == NULL)
		return -1;
	buf_str(&e->hdrs, "Content-Type: ");
	buf_str(&e->hdrs, type);
	buf_str(&e->hdrs, "\r\n");
	if (more != NULL)
		buf_str(&e->hdrs, more);
	return e->hdrs.oom ? -1 : 0;
}

/* The entity as one MIME part: headers, blank line, body. */
static void
ent_bytes(const struct ent *e, struct buf *to)
{
	buf_add(to, e->hdrs.p, e->hdrs.len);
	buf_str(to, "\r\n");
	buf_add(to, e->body.p, e->body.len);
}

/* One more header line on e (Content-ID, Content-Disposition). */
static int
ent_header(struct ent *e, const char *name, const char *value, char **keep)
{
	if ((*keep = strdup(value)) == NULL)
		return -1;
	buf_str(&e->hdrs, name);
	buf_str(&e->hdrs, ": ");
	buf_str(&e->hdrs, value);
	buf_str(&e->hdrs, "\r\n");
	return e->hdrs.oom ? -1 : 0;
}

/* multipart/signed over the whole of *e (RFC 1847, RFC 8551). */
static int
sign_detached(const struct uamsg_in *in, struct ent *e, char *err,
    size_t errsz)
{
	struct buf part = { 0 };
	struct ent s = { 0 };
	char b[64], type[160];
	uint8_t *der = NULL;
	size_t der_len = 0;
	int r = -1;

	ent_bytes(e, &part);
	if (part.oom || random_token(b, sizeof(b), "e2mua-sig-", "") != 0 ||
	    cms_sign(in->sk, part.p, part.len, true, &der, &der_len) !=
	    CMS_OK) {
		fail(err, errsz, "cannot sign the body");
		goto out;
	}
	snprintf(type, sizeof(type), "multipart/signed; protocol=\""
	    "application/pkcs7-signature\"; micalg=sha-256; boundary=%s", b);
	if (ent_set(&s, type, NULL) != 0)
		goto out;
	buf_str(&s.body, "--");
	buf_str(&s.body, b);
	buf_str(&s.body, "\r\n");
	buf_add(&s.body, part.p, part.len);
	buf_str(&s.body, "\r\n--");
	buf_str(&s.body, b);
	buf_str(&s.body, "\r\nContent-Type: application/pkcs7-signature; "
	    "name=smime.p7s\r\n" CMS_BINARY_CTE "Content-Disposition: "
	    "attachment; filename=smime.p7s; handling=required\r\n\r\n");
	buf_add(&s.body, der, der_len);
	buf_str(&s.body, "\r\n--");
	buf_str(&s.body, b);
	buf_str(&s.body, "--\r\n");
	if (s.body.oom)
		goto out;
	ent_free(e);
	*e = s;
	memset(&s, 0, sizeof(s));
	r = 0;
out:
	if (r != 0 && err[0] == '\0')
		fail(err, errsz, "out of memory");
	ent_free(&s);
	buf_free(&part);
	free(der);
	return r;
}

/* application/pkcs7-mime signed-data carrying *e. */
static int
sign_carried(const struct uamsg_in *in, struct ent *e, char *err,
    size_t errsz)
{
	struct buf part = { 0 };
	struct ent s = { 0 };
	uint8_t *der = NULL;
	size_t der_len = 0;
	int r = -1;

	ent_bytes(e, &part);
	if (part.oom || cms_sign(in->sk, part.p, part.len, false, &der,
	    &der_len) != CMS_OK) {
		fail(err, errsz, "cannot sign the body");
		goto out;
	}
	if (ent_set(&s, "application/pkcs7-mime; smime-type=signed-data; "
	    "name=smime.p7m", CMS_BINARY_CTE) != 0)
		goto out;
	buf_add(&s.body, der, der_len);
	if (s.body.oom)
		goto out;
	ent_free(e);
	*e = s;
	memset(&s, 0, sizeof(s));
	r = 0;
out:
	if (r != 0 && err[0] == '\0')
		fail(err, errsz, "out of memory");
	ent_free(&s);
	buf_free(&part);
	free(der);
	return r;
}

/* An envelope around *e for these certificates, optionally with a
 * Content-ID a label can name. */
static int
envelope(const struct uamsg_in *in, const struct ent *e,
    const char *const *certs, size_t n, const char *handling, int with_cid,
    struct ent *out, char *err, size_t errsz)
{
	struct buf plain = { 0 };
	uint8_t *der = NULL;
	size_t der_len = 0;
	char cid[96], disp[128];
	int r = -1;

	memset(out, 0, sizeof(*out));
	ent_bytes(e, &plain);
	if (plain.oom || cms_encrypt(certs, n, plain.p, plain.len, !in->cbc,
	    &der, &der_len, err, errsz) != CMS_OK)
		goto out;
	snprintf(disp, sizeof(disp), "attachment; handling=%s; "
	    "filename=smime.p7m", handling);
	if (ent_set(out, in->cbc ? "application/pkcs7-mime; smime-type="
	    "enveloped-data; name=smime.p7m" : "application/pkcs7-mime; "
	    "smime-type=authEnveloped-data; name=smime.p7m", NULL) != 0 ||
	    ent_header(out, "Content-Disposition", disp,
	    &out->disposition) != 0)
		goto out;
	if (with_cid && (random_token(cid, sizeof(cid), "<", "@e2mua>") != 0 ||
	    ent_header(out, "Content-ID", cid, &out->content_id) != 0))
		goto out;
	buf_add(&out->body, der, der_len);
	r = out->body.oom ? -1 : 0;
out:
	if (r != 0 && err[0] == '\0')
		fail(err, errsz, "out of memory");
	if (r != 0)
		ent_free(out);
	/* The plaintext went into the envelope; do not leave it around. */
	if (plain.p != NULL)
		memset(plain.p, 0, plain.cap);
	buf_free(&plain);
	free(der);
	return r;
}

/* A part inside multipart/mixed also says how its body is encoded. */
static void
add_part(struct buf *to, const char *boundary, const struct ent *e)
{
	buf_str(to, "--");
	buf_str(to, boundary);
	buf_str(to, "\r\n");
	buf_add(to, e->hdrs.p, e->hdrs.len);
	buf_str(to, CMS_BINARY_CTE "\r\n");
	buf_add(to, e->body.p, e->body.len);
	buf_str(to, "\r\n");
}

static int
label(struct uamsg_out *out, const struct uamsg_in *in, const char *cid)
{
	size_t i, n = strlen(cid);
	char v[512];

	/* The label names the cid without its angle brackets. */
	for (i = 0; i < in->nproxies; i++) {
		snprintf(v, sizeof(v), "%s;cid=\"%.*s\"", in->proxies[i].host,
		    (int)(n - 2), cid + 1);
		if ((out->labels[out->nlabels] = strdup(v)) == NULL)
			return -1;
		out->nlabels++;
	}
	return 0;
}

static int
collect_certs(const struct uamsg_in *in, const char **all, size_t *n,
    int with_peer, int with_proxies)
{
	size_t i;

	*n = 0;
	if (with_peer)
		for (i = 0; i < in->npeer_certs; i++)
			all[(*n)++] = in->peer_certs[i];
	if (with_proxies)
		for (i = 0; i < in->nproxies; i++)
			all[(*n)++] = in->proxies[i].cert_file;
	return *n > 0 ? 0 : -1;
}

/* One envelope for the peer and the proxies alike. */
static int
encrypt_shared(const struct uamsg_in *in, struct ent *e,
    struct uamsg_out *out, char *err, size_t errsz)
{
	const char *all[64 + UAMSG_MAX_PROXIES];
	size_t n;
	struct ent env;

	collect_certs(in, all, &n, 1, 1);
	if (envelope(in, e, all, n, "required", in->nproxies > 0, &env, err,
	    errsz) != 0)
		return -1;
	ent_free(e);
	*e = env;
	return e->content_id != NULL ? label(out, in, e->content_id) : 0;
}

/* The peer's envelope and the proxies' own, side by side. */
static int
encrypt_separate(const struct uamsg_in *in, struct ent *e,
    struct uamsg_out *out, char *err, size_t errsz)
{
	const char *certs[64 + UAMSG_MAX_PROXIES];
	size_t n;
	struct ent peer = { 0 }, px = { 0 }, mixed = { 0 };
	char b[64], type[96];
	int r = -1;

	collect_certs(in, certs, &n, 1, 0);
	if (envelope(in, e, certs, n, "required", 0, &peer, err, errsz) != 0)
		goto out;
	collect_certs(in, certs, &n, 0, 1);
	if (envelope(in, e, certs, n, "optional", 1, &px, err, errsz) != 0)
		goto out;
	if (random_token(b, sizeof(b), "e2mua-mix-", "") != 0)
		goto out;
	snprintf(type, sizeof(type), "multipart/mixed; boundary=%s", b);
	if (ent_set(&mixed, type, NULL) != 0)
		goto out;
	add_part(&mixed.body, b, &peer);
	add_part(&mixed.body, b, &px);
	buf_str(&mixed.body, "--");
	buf_str(&mixed.body, b);
	buf_str(&mixed.body, "--\r\n");
	if (mixed.body.oom || label(out, in, px.content_id) != 0)
		goto out;
	ent_free(e);
	*e = mixed;
	memset(&mixed, 0, sizeof(mixed));
	r = 0;
out:
	if (r != 0 && err[0] == '\0')
		fail(err, errsz, "out of memory");
	ent_free(&peer);
	ent_free(&px);
	ent_free(&mixed);
	return r;
}

static int
check_input(const struct uamsg_in *in, char *err, size_t errsz)
{
	size_t i;

	if (in->type == NULL || strchr(in->type, '/') == NULL ||
	    strpbrk(in->type, "\r\n") != NULL)
		return fail(err, errsz, "a content type type/subtype is needed");
	if (in->content == NULL && in->len > 0)
		return fail(err, errsz, "no content");
	if (in->nproxies > UAMSG_MAX_PROXIES || in->npeer_certs > 64)
		return fail(err, errsz, "too many recipients");
	if (in->nproxies > 0 && in->npeer_certs == 0)
		return fail(err, errsz, "disclosing to a proxy needs an "
		    "encrypted body: no peer certificate given");
	for (i = 0; i < in->nproxies; i++)
		if (in->proxies[i].host == NULL || in->proxies[i].host[0] ==
		    '\0' || strpbrk(in->proxies[i].host, " \t\r\n;,\"") !=
		    NULL || in->proxies[i].cert_file == NULL)
			return fail(err, errsz, "a proxy needs a host name and "
			    "a certificate");
	return 0;
}

/* The finished top-level entity: its headers go into the SIP request. */
static int
finish(struct ent *e, struct uamsg_out *out)
{
	out->content_type = e->type;
	out->content_id = e->content_id;
	out->disposition = e->disposition;
	e->type = e->content_id = e->disposition = NULL;
	out->body = e->body.p;
	out->len = e->body.len;
	e->body.p = NULL;
	e->body.len = e->body.cap = 0;
	return 0;
}

int
uamsg_build(const struct uamsg_in *in, struct uamsg_out *out, char *err,
    size_t errsz)
{
	struct ent e = { 0 };
	int r = -1;

	memset(out, 0, sizeof(*out));
	if (errsz > 0)
		err[0] = '\0';
	if (check_input(in, err, errsz) != 0)
		return -1;
	if (ent_set(&e, in->type, NULL) != 0)
		goto out;
	buf_add(&e.body, in->content, in->len);
	if (e.body.oom)
		goto out;
	if (in->sk != NULL && (in->signed_data ? sign_carried(in, &e, err,
	    errsz) : sign_detached(in, &e, err, errsz)) != 0)
		goto out;
	if (in->npeer_certs > 0 && (in->separate && in->nproxies > 0 ?
	    encrypt_separate(in, &e, out, err, errsz) :
	    encrypt_shared(in, &e, out, err, errsz)) != 0)
		goto out;
	r = finish(&e, out);
out:
	if (r != 0 && err[0] == '\0')
		fail(err, errsz, "out of memory");
	ent_free(&e);
	return r;
}

void
uamsg_out_free(struct uamsg_out *out)
{
	size_t i;

	if (out == NULL)
		return;
	free(out->content_type);
	free(out->content_id);
	free(out->disposition);
	free(out->body);
	for (i = 0; i < out->nlabels; i++)
		free(out->labels[i]);
	memset(out, 0, sizeof(*out));
}
