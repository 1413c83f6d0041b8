/*
 * sigtemplate.h - detached CMS signatures from a template, for signed
 * challenges (digest 4.6): the SignedData OpenSSL's CMS_sign() makes for
 * one key differs between two signatures only in the messageDigest and
 * signingTime attribute values and in the signature. So one signature made
 * by OpenSSL at key load is taken apart once, and each challenge patches
 * the two values, signs the attributes' hash (one EVP_PKEY_sign) and puts the
 * DER back together: about a third of CMS_sign()'s cost, nearly all of it
 * the private-key operation itself. Internal to the crypto modules (takes
 * OpenSSL types). Threads may share one: it is read-only once built but
 * for the key's signing context, made once and used under a lock.
 */
#ifndef SIGTEMPLATE_H
#define SIGTEMPLATE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

struct sigtemplate;

/*
 * probe: DER of a detached SignedData by pkey with one SignerInfo whose
 * signed attributes hold messageDigest = probe_sha256 and a UTCTime
 * signingTime, and no unsigned attributes. NULL when the layout is
 * anything else (the caller then keeps using CMS_sign()) or pkey cannot
 * sign.
 */
struct sigtemplate *sigtemplate_new(const uint8_t *probe, size_t len,
    const uint8_t probe_sha256[32], EVP_PKEY *pkey);
void sigtemplate_free(struct sigtemplate *t); /* NULL is fine */

/* A detached SignedData over data by the template's key, signingTime
 * now. DER malloc()ed into *der. 0, or -1. */
int sigtemplate_sign(struct sigtemplate *t, const uint8_t *data, size_t len,
    uint8_t **der, size_t *der_len);

#endif /* SIGTEMPLATE_H */
