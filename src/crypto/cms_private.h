/*
 * cms_private.h - what the files of the CMS module share: its structures
 * and a few helpers. Private to src/crypto/ (takes OpenSSL types); the
 * module's interface is cms.h.
 *
 * The module, one file per job:
 *   cms_keys.c     keys, trust anchors and CRLs; certificates in and out
 *   cms_decrypt.c  opening an EnvelopedData/AuthEnvelopedData
 *   cms_verify.c   checking a SignedData and its signers' paths (cached),
 *                  and a proxy's encryption certificate
 *   cms_make.c     what we produce: envelopes (the UA), signatures (the
 *                  proxy's challenges, via sigtemplate.c), random bytes
 *
 * OpenSSL 3.0 notes (design notes section 3, digest 5.4):
 * - CMS_decrypt() is always given the recipient certificate. With a NULL
 *   certificate OpenSSL tries every KeyTrans recipient and, on failure,
 *   decrypts with a random key: slower, and the result is garbage rather
 *   than an error.
 * - CMS_decrypt() keeps per-recipient state in the parsed structure, so
 *   each further key is tried on a freshly parsed copy.
 * - CMS_BINARY everywhere: SIP bodies are binary, no MIME canonicalisation.
 * - Signer certificates are path-validated here, not by CMS_verify(), so
 *   the result can be cached and the X509 error mapped to a status.
 * - CMS_verify() is never handed a memory BIO (cms_content_bio()).
 */
#ifndef CMS_PRIVATE_H
#define CMS_PRIVATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "crypto/cms.h"

struct cache_entry {
	uint8_t hash[32];
	time_t expires;  /* 0: slot empty */
};

/* Signer certificates whose path validated, until the earliest expiry
 * of the path or the CRLs (cms_verify.c). */
struct chain_cache {
	pthread_mutex_t lock;
	struct cache_entry e[CMS_CACHE_SIZE];
	size_t next;     /* round-robin replacement */
	unsigned long hits, misses;
};

struct cms_keys {
	unsigned ciphers;        /* allowed content encryption, by bit */
	size_t n;
	X509 *cert[CMS_MAX_KEYS];
	EVP_PKEY *pkey[CMS_MAX_KEYS];
	X509_STORE *store;
	bool have_crls;
	time_t crl_next_update;  /* earliest nextUpdate, 0 if none */
	struct chain_cache *cache;
};

struct cms_signing_key {
	X509 *cert;
	EVP_PKEY *pkey;
	STACK_OF(X509) *chain;
	struct sigtemplate *tpl; /* detached signatures, fast; NULL: CMS_sign */
	bool signer_out;         /* CMS_SK_SIGNER_OUT */
};

/* cms_keys.c */
void cms_set_err(char *err, size_t errsz, const char *what,
    const char *file);
time_t cms_asn1_time(const ASN1_TIME *t);
int cms_read_certs(const char *file, STACK_OF(X509) *sk);
X509 *cms_read_cert(const char *file);
EVP_PKEY *cms_read_key(const char *file);
/* The bit of cms_keys.ciphers for a content-encryption NID, 0 if none. */
unsigned cms_content_bit(int nid);

/* cms_decrypt.c */
CMS_ContentInfo *cms_parse(const uint8_t *der, size_t len);
bool cms_take_bio(BIO *out, uint8_t **buf, size_t *len);
void cms_wipe_bio(BIO *out); /* NULL is fine */

/* cms_verify.c */
BIO *cms_content_bio(const uint8_t *data, size_t len);

#endif /* CMS_PRIVATE_H */
