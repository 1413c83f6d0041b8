/*
 * uamsg.h - the body a user agent sends (digest section 2): plain, signed
 * (multipart/signed or signed-data), encrypted to the peer, encrypted to the
 * peer and named proxies in one envelope ("shared"), or a multipart/mixed
 * with one envelope for the peer and one for the proxies ("separate", proxy
 * part handling=optional, digest Q7). When signing and encrypting, the
 * signature goes inside (sign-then-encrypt, R8). Every envelope a proxy may
 * open is labelled: one Proxy-Inspect-Body value per proxy, canonical form
 * host;cid="..." (digest 3.4). No Sofia types: the UA puts the results into
 * its request.
 */
#ifndef UAMSG_H
#define UAMSG_H

#include <stddef.h>
#include <stdint.h>

struct cms_signing_key;

struct uamsg_proxy {
	const char *host;      /* the name the proxy answers to in labels */
	const char *cert_file; /* its encryption certificate (PEM) */
};

struct uamsg_in {
	const char *type;          /* "text/plain", "application/sdp" */
	const uint8_t *content;
	size_t len;
	const struct cms_signing_key *sk; /* sign when not NULL */
	int signed_data;           /* pkcs7-mime signed-data, not
	                              multipart/signed */
	const char *const *peer_certs; /* encrypt to these when n > 0 */
	size_t npeer_certs;
	const struct uamsg_proxy *proxies; /* also disclosed to these */
	size_t nproxies;
	int separate;              /* proxies get their own envelope */
	int cbc;                   /* EnvelopedData AES-128-CBC instead of
	                              AuthEnvelopedData AES-128-GCM */
};

#define UAMSG_MAX_PROXIES 8

struct uamsg_out {
	char *content_type;   /* SIP Content-Type value */
	char *content_id;     /* SIP Content-ID value, or NULL */
	char *disposition;    /* SIP Content-Disposition value, or NULL */
	uint8_t *body;
	size_t len;
	char *labels[UAMSG_MAX_PROXIES]; /* Proxy-Inspect-Body values */
	size_t nlabels;
};

/* 0, or -1 with err set (bad input, a certificate that cannot be read, a
 * crypto failure). Free *out with uamsg_out_free() either way. */
int uamsg_build(const struct uamsg_in *in, struct uamsg_out *out, char *err,
    size_t errsz);
void uamsg_out_free(struct uamsg_out *out);

#endif /* UAMSG_H */
