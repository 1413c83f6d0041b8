/*
 * uatrust.h - whether a user agent may disclose to the proxy behind a 496
 * (digest 4.6, UA verification steps 1-5; R2-R7): the challenge is the
 * signed layout and fresh for this very request (uachal.c), its signature
 * verifies to the UA's trust anchors with revocation when CRLs are loaded,
 * signed recently, the signer and the encryption certificate both name the
 * challenging host, and that host is on the UA's allow-list. The same
 * checks, minus the challenge, for a certificate learned earlier.
 *
 * No Sofia types; OpenSSL only through cms.c.
 */
#ifndef UATRUST_H
#define UATRUST_H

#include <stddef.h>
#include <stdint.h>

#include "ua/uachal.h"

struct cms_keys;

struct uatrust {
	const struct cms_keys *anchors;  /* trust anchors and CRLs */
	const char *const *allow;        /* legitimate inspecting proxies */
	size_t nallow;
	unsigned warn_code;              /* 380 */
	unsigned max_skew;               /* seconds */
};

/* A proxy found fit to disclose to. */
struct uatrust_proxy {
	char host[UACHAL_AGENT_LEN];     /* without a port */
	uint8_t *cert;                   /* DER, malloc()ed */
	size_t cert_len;
	const char *types[UACHAL_MAX_TYPES]; /* into types_ */
	size_t ntypes;                   /* 0: it wants the whole body */
	char types_[UACHAL_MAX_TYPES][UACHAL_TYPE_LEN];
};

/* NULL and *out filled, or a short static reason to refuse. */
const char *uatrust_challenge(const struct uatrust *t,
    const struct uachal_request *req, const struct uachal_response *resp,
    long long now, struct uatrust_proxy *out);

/* A certificate learned for host before: still valid, still naming the
 * host, the host still allowed. NULL, or the reason not to use it. */
const char *uatrust_learned(const struct uatrust *t, const char *host,
    const uint8_t *der, size_t len);

void uatrust_proxy_free(struct uatrust_proxy *p);

#endif /* UATRUST_H */
