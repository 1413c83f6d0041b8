/*
 * cms.h - CMS (S/MIME) decryption, signature verification, encryption and
 * signing on OpenSSL 3 (digest sections 2.1-2.3, 5.1 step 5, 5.4, 7, 10.3,
 * 10.5). The interface of the crypto layer: OpenSSL is called only under
 * src/crypto/ (this module, in cms_*.c, and sigtemplate.c), and no OpenSSL
 * type appears here.
 *
 * Input is DER (or BER) bytes; the MIME side decides which body parts are
 * CMS and undoes any Content-Transfer-Encoding.
 *
 * Threads: a struct cms_keys and a struct cms_signing_key are read-only
 * once loaded and may be used by several threads at once. The only mutable
 * state, the validated-chain cache inside struct cms_keys, is behind a
 * mutex. Nothing here logs: functions return a status and, where useful, a
 * short static reason string that never contains message content.
 *
 * Ownership: pointers passed in are borrowed for the duration of the call.
 * Buffers returned through uint8_t ** are malloc()ed and belong to the
 * caller: plaintext and signed content go to cms_plain_free() (which wipes),
 * DER produced by cms_encrypt()/cms_sign() to free().
 */
#ifndef CMS_H
#define CMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Hard limits against hostile input (digest section 7, R11). */
#define CMS_MAX_DER         (256 * 1024) /* bytes of one CMS blob */
#define CMS_MAX_RECIPIENTS  64  /* RecipientInfos in one envelope */
#define CMS_MAX_SIGNERS     8   /* SignerInfos in one SignedData */
#define CMS_MAX_CERTS       16  /* certificates carried in one SignedData */
#define CMS_MAX_CHAIN_DEPTH 8   /* certificates between signer and anchor */
#define CMS_MAX_KEYS        16  /* decryption key pairs held at once */

/* Validated-chain cache: entries, and the longest an entry is trusted even
 * when the certificates and CRLs are valid for longer. */
#define CMS_CACHE_SIZE      256
#define CMS_CACHE_TTL       300 /* seconds */

enum cms_status {
	CMS_OK = 0,
	CMS_UNDECIPHERABLE,  /* any decryption failure, whatever the cause */
	CMS_BAD_SIGNATURE,   /* signature or message digest does not match */
	CMS_UNTRUSTED,       /* RFC 5280 path validation failed, revoked,
	                        signer not found, or key usage wrong */
	CMS_WEAK_ALGORITHM,  /* MD5/SHA-1 (or unknown) digest, weak key or
	                        weak certificate signature */
	CMS_MALFORMED,       /* not a usable CMS SignedData / over limits */
	CMS_ERROR            /* local failure (memory, unreadable file) */
};

/* A short static name for a status, for logs. */
const char *cms_status_str(enum cms_status st);

/* The proxy's decryption key pairs plus its trust anchors and CRLs. */
struct cms_keys;

/*
 * Load n certificate/private key pairs (PEM; key rollover: any number up to
 * CMS_MAX_KEYS, may be 0 for a verify-only set), nca trust anchor files and
 * ncrl CRL files (PEM; each file may hold several). When CRLs are given,
 * every certificate of a path must have a valid CRL from its issuer
 * (X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL). Each key must match
 * its certificate. On failure: NULL and a message in err (file names and
 * OpenSSL reasons only).
 */
struct cms_keys *cms_keys_load(const char *const *cert_files,
    const char *const *key_files, size_t n, const char *const *ca_files,
    size_t nca, const char *const *crl_files, size_t ncrl, char *err,
    size_t errsz);
void cms_keys_free(struct cms_keys *keys);

/*
 * Restrict cms_decrypt() to these content-encryption algorithms, named as
 * OpenSSL names them: "aes-128-cbc", "aes-192-cbc", "aes-256-cbc",
 * "aes-128-gcm", "aes-192-gcm", "aes-256-gcm" (n >= 1, duplicates
 * harmless). Until this is called all six are accepted. Call it before the
 * keys are shared between threads. Returns 0, or -1 with a message in err
 * (an unknown or unsupported name, or n == 0) and the set left as it was.
 */
int cms_keys_set_ciphers(struct cms_keys *keys, const char *const *names,
    size_t n, char *err, size_t errsz);

/*
 * Decrypt an EnvelopedData or AuthEnvelopedData blob (KeyTrans by
 * issuer+serial or subject key identifier, RSA PKCS#1 v1.5 or OAEP; KeyAgree
 * ECDH; AES-CBC or AES-GCM). Each of our certificates named by a
 * RecipientInfo is tried in turn, always with the certificate passed to
 * OpenSSL. The content-encryption algorithm (EncryptedContentInfo or
 * AuthEncryptedContentInfo) must be one of those allowed by
 * cms_keys_set_ciphers(); this is checked before any private-key
 * operation. Returns CMS_OK with a malloc()ed plaintext (free it with
 * cms_plain_free()), or CMS_UNDECIPHERABLE for every kind of failure
 * (including garbage input, a content-encryption algorithm not allowed,
 * more than CMS_MAX_RECIPIENTS recipients, or an internal error), with
 * *plain = NULL and *plain_len = 0.
 */
enum cms_status cms_decrypt(const struct cms_keys *keys, const uint8_t *der,
    size_t len, uint8_t **plain, size_t *plain_len);

/* What an opened envelope says about itself, for the IM archive: which
 * of our keys opened it and whom it was for. Names are RFC 2253 strings
 * with everything outside printable ASCII escaped. */
#define CMS_NAME_LEN 192          /* a name, NUL included; longer: cut */
#define CMS_DESCRIBED_RECIPIENTS 8 /* recipients described, at most */

struct cms_envelope {
	int key;                      /* index of the key that opened it
	                                 (cms_keys_load() order), or -1 */
	char opened_with[CMS_NAME_LEN]; /* that key's certificate subject */
	size_t nrecipients;           /* recipients it names, in all */
	size_t ndescribed;            /* the first ones, described: */
	char recipients[CMS_DESCRIBED_RECIPIENTS][CMS_NAME_LEN];
	/* ours: our certificate's subject; others "issuer=<DN> serial=<hex>"
	 * or "keyid=<hex>", as the RecipientInfo names them; "kek" and
	 * "password" for the kinds not tied to a certificate */
};

/* cms_decrypt(), and on CMS_OK the envelope described in *info (when not
 * NULL; zeroed, key -1, on failure). */
enum cms_status cms_decrypt_info(const struct cms_keys *keys,
    const uint8_t *der, size_t len, uint8_t **plain, size_t *plain_len,
    struct cms_envelope *info);

/* Wipe and free a buffer returned by cms_decrypt() or cms_verify(). */
void cms_plain_free(uint8_t *p, size_t len);

/* What cms_verify() reports about the (first) signer. Names that do not fit
 * their buffer, or contain a NUL, are left empty and names_truncated set. */
#define CMS_MAX_DNS_NAMES 4 /* dNSName SANs kept per certificate */

struct cms_signer {
	char cn[128];           /* subject commonName, "" if none */
	char dns[CMS_MAX_DNS_NAMES][256]; /* dNSName SANs, in order */
	size_t ndns;
	char email[256];        /* first rfc822Name SAN, "" if none */
	char uri[256];          /* first uniformResourceIdentifier SAN */
	uint8_t sha256[32];     /* SHA-256 of the certificate DER */
	time_t not_after;       /* certificate expiry */
	time_t signing_time;    /* signed attribute; 0: none (or a plain
	                           certificate, cms_cert_check()) */
	bool names_truncated;
	bool from_cache;        /* path validation skipped (cache hit) */
};

/*
 * Verify a SignedData. With detached_data (multipart/signed: exactly the
 * bytes of the first body part, MIME headers included) the blob must be a
 * detached signature; with detached_data == NULL it must carry its content
 * (smime-type=signed-data), which is returned in *content (malloc()ed; free
 * it with cms_plain_free()) when content != NULL.
 *
 * Checks, in order: size and structure limits (CMS_MALFORMED); every
 * SignerInfo's digest and signature algorithms against SHA-2/SHA-3
 * (CMS_WEAK_ALGORITHM); each signer certificate present in the blob
 * (CMS_UNTRUSTED); the signatures and message digests (CMS_BAD_SIGNATURE);
 * RFC 5280 path validation of each signer certificate against the trust
 * anchors, with CRLs when configured, for S/MIME signing (keyUsage
 * digitalSignature or nonRepudiation, extendedKeyUsage emailProtection when
 * present), at security level 2 (RSA >= 2048 bits, no SHA-1/MD5 certificate
 * signatures) (CMS_UNTRUSTED or CMS_WEAK_ALGORITHM). All signers must pass.
 * out (may be NULL) describes the first signer. reason (may be NULL) gets a
 * short static explanation.
 */
enum cms_status cms_verify(const struct cms_keys *keys,
    const uint8_t *sig_der, size_t len, const uint8_t *detached_data,
    size_t data_len, struct cms_signer *out, uint8_t **content,
    size_t *content_len, const char **reason);

/*
 * cms_verify() of a detached signature, with one more certificate (DER)
 * that came with the signed content: a signed 496 carries the proxy's
 * encryption certificate inside what is signed, and a proxy whose signing
 * certificate is that very certificate may leave it out of the SignedData
 * (challenge.certificate_once) to keep the 496 small. The certificate is
 * a candidate for the signer (matched by the SignerInfo's identifier) and
 * goes through the same path validation; it adds no trust. A certificate
 * that does not parse is CMS_MALFORMED.
 */
enum cms_status cms_verify_with(const struct cms_keys *keys,
    const uint8_t *sig_der, size_t len, const uint8_t *detached_data,
    size_t data_len, const uint8_t *cert_der, size_t cert_len,
    struct cms_signer *out, const char **reason);

/*
 * A certificate handed out for encryption (the one in a 495/496 challenge,
 * DER): RFC 5280 path to the trust anchors at the current time, with the
 * CRLs when loaded, and a key usage that allows encryption to it
 * (keyEncipherment for RSA, keyAgreement for EC) when the certificate
 * restricts it. No extended key usage is required (digest Q14). out (may
 * be NULL) describes it; reason is static text.
 */
enum cms_status cms_cert_check(const struct cms_keys *keys,
    const uint8_t *der, size_t len, struct cms_signer *out,
    const char **reason);

/* cms_cert_check() with the certificates a SignedData carries (sig_der,
 * sig_len: the challenge's signature) as intermediates: an encryption
 * certificate issued by the same intermediate as the signing one
 * validates with the chain the challenge sent. They add no trust. */
enum cms_status cms_cert_check_chain(const struct cms_keys *keys,
    const uint8_t *der, size_t len, const uint8_t *sig_der, size_t sig_len,
    struct cms_signer *out, const char **reason);

/* Validated-chain cache counters, for tests and statistics. */
void cms_cache_stats(const struct cms_keys *keys, size_t *entries,
    unsigned long *hits, unsigned long *misses);

/*
 * Encrypt plaintext to n recipient certificates (PEM files): RSA keys get
 * RSA-OAEP (SHA-256) key transport, EC P-256 keys ECDH key agreement with
 * the X9.63 KDF over SHA-256. gcm: AuthEnvelopedData with AES-128-GCM
 * (RFC 8591); otherwise EnvelopedData with AES-128-CBC. Output is DER
 * (malloc()ed, free()). err gets a message on failure.
 */
enum cms_status cms_encrypt(const char *const *recip_cert_files, size_t n,
    const uint8_t *plain, size_t plain_len, bool gcm, uint8_t **der,
    size_t *der_len, char *err, size_t errsz);

/* The first certificate of a PEM file as DER (malloc()ed, free()); for the
 * certificate a challenge hands out. 0, or -1 with err set. */
int cms_cert_der_load(const char *file, uint8_t **der, size_t *len,
    char *err, size_t errsz);

/* A PEM certificate and the PEM private key that must go with it (a TLS
 * listener's): 0, or -1 with err set (unreadable, or not a pair). */
int cms_pair_check(const char *cert_file, const char *key_file, char *err,
    size_t errsz);

/* Write one DER certificate as a PEM file (mode 0600 is the caller's
 * business), for code that takes certificate files. 0, or -1 with err. */
int cms_cert_write_pem(const uint8_t *der, size_t len, const char *path,
    char *err, size_t errsz);

/* One DER certificate as PEM text (malloc()ed, NUL-terminated, free()),
 * and the first certificate of PEM text as DER (malloc()ed, free()), for
 * certificates kept in files of other formats. 0, or -1. */
int cms_cert_to_pem(const uint8_t *der, size_t len, char **pem);
int cms_cert_from_pem(const char *pem, uint8_t **der, size_t *len);

/* n cryptographically random bytes from OpenSSL's DRBG (small requests
 * from a per-thread pool it fills); 0, or -1. Thread-safe. */
int cms_random(uint8_t *p, size_t n);

/* A signing certificate, its key and chain, parsed once. */
struct cms_signing_key;

/* The chain files (any order, several certificates each) must hold the
 * issuer of the signing certificate and of every chain certificate up to
 * one that issued itself or is not in the files: a UA checks a challenge
 * against its own anchors through them, so an unrelated certificate
 * there is a mistake and refused. NULL and err set on failure. */
struct cms_signing_key *cms_signing_key_load(const char *cert_file,
    const char *key_file, const char *const *chain_files, size_t nchain,
    char *err, size_t errsz);

/* cms_signing_key_load() with flags: CMS_SK_SIGNER_OUT leaves the signing
 * certificate out of every SignedData made with the key (the chain stays):
 * for a verifier that has it from elsewhere (cms_verify_with()). */
#define CMS_SK_SIGNER_OUT 1u
struct cms_signing_key *cms_signing_key_load_flags(const char *cert_file,
    const char *key_file, const char *const *chain_files, size_t nchain,
    unsigned flags, char *err, size_t errsz);
void cms_signing_key_free(struct cms_signing_key *sk);

/*
 * Sign data with SHA-256 (RSA or ECDSA P-256 key), the signer certificate
 * and chain included, signed attributes contentType, messageDigest,
 * signingTime and SMIMECapabilities, binary (no canonicalisation). detached:
 * for multipart/signed; otherwise the content is carried (signed-data).
 * Output is DER (malloc()ed, free()).
 */
enum cms_status cms_sign(const struct cms_signing_key *sk,
    const uint8_t *data, size_t len, bool detached, uint8_t **der,
    size_t *der_len);

#endif /* CMS_H */
