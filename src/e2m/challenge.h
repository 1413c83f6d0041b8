/*
 * challenge.h - the body of a signed 495/496 challenge, design
 * "E2M-SIGNED-CHALLENGE" of digest section 4.6. Built here (no Sofia);
 * proxyd/sipchallenge.c puts it on a SIP response, and the user agent
 * takes it apart in ua/uachal.c. The body:
 *
 *   multipart/signed; protocol="application/pkcs7-signature";
 *                     micalg=sha-256; boundary=e2m-sig-<random>
 *     1. multipart/mixed; boundary=e2m-mix-<random>
 *          a. message/sipfrag: the status line and the Via (every value,
 *             in order), From, To, Call-ID, CSeq, Date and Warning headers
 *             of the response the proxy is about to send
 *          b. application/pkix-cert: the proxy's encryption certificate
 *     2. application/pkcs7-signature: detached CMS SignedData (cms_sign())
 *        over exactly the bytes of part 1, MIME headers included (RFC 1847)
 *
 * Pure apart from the randomness of the boundaries and the private-key
 * operation inside cms_sign(): no Sofia types, no logging. The caller passes
 * the header values of its response as plain byte strings.
 *
 * Signing-oracle hygiene (digest section 4.6): most header values are
 * chosen by whoever sent the request. A value containing CR, LF, NUL or any
 * other control character but HTAB is refused, so nothing can add a line to
 * the sipfrag or a MIME header; the signed object always starts with the
 * proxy's own status line inside this fixed layout. Boundaries are 128-bit
 * random and are checked not to occur anywhere in the content.
 *
 * Line ends are CRLF throughout. The body is canonical as sent: it is
 * signed and transmitted byte for byte, never re-encoded.
 */
#ifndef CHALLENGE_H
#define CHALLENGE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct cms_signing_key;

/* A header value as length-delimited bytes (a value from the network may
 * contain NUL, which is refused). No header name, no CRLF. */
struct challenge_text {
	const char *s;
	size_t len;
};

/* A challenge_text for a C string; NULL gives {NULL, 0} (absent). */
static inline struct challenge_text
challenge_text(const char *s)
{
	struct challenge_text t = { s, s != NULL ? strlen(s) : 0 };
	return t;
}

/* Content-Transfer-Encoding of the certificate and the signature parts. */
enum challenge_encoding {
	/* Digest section 4.6 as written: raw DER, "Content-Transfer-Encoding:
	 * binary" (SIP carries binary bodies, RFC 3261 section 7.4). */
	CHALLENGE_ENC_BINARY = 0,
	/* Base64 (76-character lines): the whole body is 7-bit text, readable
	 * by mail-style S/MIME parsers such as OpenSSL's SMIME_read_CMS(),
	 * which always base64-decodes the signature part. */
	CHALLENGE_ENC_BASE64
};

struct challenge_in {
	int status;                       /* 100..699, e.g. 495 or 496 */
	struct challenge_text reason;     /* reason phrase, may be empty */
	const struct challenge_text *via; /* every Via value, in order */
	size_t nvia;                      /* >= 1 */
	struct challenge_text from;       /* with the From tag */
	struct challenge_text to;         /* with the proxy's To tag */
	struct challenge_text call_id;
	struct challenge_text cseq;
	struct challenge_text date;       /* RFC 1123 date of the response */
	const struct challenge_text *warning; /* zero or more values */
	size_t nwarning;
	const uint8_t *cert_der;          /* encryption certificate, DER */
	size_t cert_der_len;
	const struct cms_signing_key *sk; /* the proxy's challenge key */
	enum challenge_encoding encoding;
};

struct challenge_out {
	uint8_t *body;      /* malloc()ed, body_len bytes, not NUL-terminated */
	size_t body_len;
	char *content_type; /* malloc()ed Content-Type header value */
};

enum challenge_status {
	CHALLENGE_OK = 0,
	CHALLENGE_INVALID, /* bad input: a control character in a value, a
	                      missing or empty required value, bad status */
	CHALLENGE_SIGN,    /* cms_sign() failed */
	CHALLENGE_RANDOM,  /* no randomness for the boundaries */
	CHALLENGE_NOMEM
};

/* A short static name for a status, for logs. */
const char *challenge_status_str(enum challenge_status st);

/*
 * Build the challenge body. From, To, Call-ID, CSeq and Date and every Via
 * value must be non-empty; Warning values too. On CHALLENGE_OK *out holds
 * the body and its Content-Type value (free with challenge_out_free()). On
 * any other status *out is zeroed and *why (if why is not NULL) points at a
 * short static reason naming the offending field, never its content.
 */
enum challenge_status challenge_build(const struct challenge_in *in,
    struct challenge_out *out, const char **why);

/* Free what challenge_build() returned and zero *out. NULL is fine. */
void challenge_out_free(struct challenge_out *out);

#endif /* CHALLENGE_H */
