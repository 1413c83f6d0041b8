/*
 * uachal.h - the UA side of a signed challenge (digest section 4.6): take a
 * 495/496 apart and check that it answers this very request.
 *
 * Covers UA verification steps 1 and 2 (structure of the multipart/signed
 * body only), the Warning part of step 4 (warn-agent and named content
 * types, digest 4.4) and step 5 (freshness: Call-ID, CSeq, From tag, the
 * bottom-most Via branch, Date skew). The signature, the certificate paths
 * and the names are NOT checked here: the caller hands signed_part,
 * signature and cert to cms.c. Until that succeeds nothing in the result is
 * authenticated, and a UACHAL_OK result means only "well formed and, if the
 * signature verifies, fresh".
 *
 * Pure: no I/O, no Sofia or OpenSSL types, no logging. The MIME tree is
 * parsed by mime.c; this module reads the sipfrag headers itself (they are
 * SIP headers, not MIME headers).
 *
 * Comparisons (all documented here, the reasons in uachal.c):
 *   Call-ID      byte for byte (RFC 3261 20.8)
 *   CSeq         number numerically, method byte for byte, any LWS
 *   From tag     byte for byte
 *   Via branch   of the LAST Via value of the sipfrag (the UA's own);
 *                the "z9hG4bK" cookie in any case, the rest byte for byte
 *   To, Date     the response's value equals the sipfrag's (trimmed)
 *   Warning      the response's warning-values equal the sipfrag's, in
 *                order (comma-separated values and several header fields
 *                are both split into values first)
 * Header values are trimmed of SP and HTAB at both ends before comparison.
 */
#ifndef UACHAL_H
#define UACHAL_H

#include <stddef.h>

/* Limits against hostile input; anything beyond is UACHAL_MALFORMED. */
#define UACHAL_MAX_BODY      65536 /* bytes of the response body */
#define UACHAL_MAX_HEADERS   64    /* header lines in the sipfrag */
#define UACHAL_MAX_VALUE     4096  /* bytes of one header line */
#define UACHAL_MAX_WARNINGS  16    /* warning-values on either side */
#define UACHAL_MAX_TYPES     16    /* content types named by Warnings */
#define UACHAL_TYPE_LEN      128   /* buffer for one type, NUL included */
#define UACHAL_AGENT_LEN     256   /* buffer for warn-agent, NUL included */

/* What the UA sent: header values as strings (no names). Borrowed. */
struct uachal_request {
	const char *call_id;
	const char *cseq;     /* "2 INVITE" */
	const char *from_tag;
	const char *branch;   /* the UA's own Via branch, "z9hG4bK..." */
	long long sent_at;    /* unix seconds when sent */
};

/* The 495/496 as received. Borrowed only during uachal_parse(). */
struct uachal_response {
	int status;
	const char *content_type;              /* NULL if none */
	const char *content_transfer_encoding; /* usually NULL */
	const unsigned char *body;
	size_t body_len;
	const char *const *warnings; /* Warning header field values */
	size_t nwarnings;
	const char *date;            /* Date value or NULL */
	const char *to;              /* To value (with the proxy's tag) */
};

enum uachal_status {
	UACHAL_OK = 0,
	UACHAL_UNSIGNED,  /* legacy: only a certificate; untrusted */
	UACHAL_MALFORMED, /* not the E2M-SIGNED-CHALLENGE layout, or bad input */
	UACHAL_STALE,     /* well formed but not for this request, or the
	                     Date is outside the allowed skew */
	UACHAL_MISMATCH,  /* the response's status, To, Date or Warning
	                     headers differ from the signed sipfrag */
	UACHAL_NOMEM
};

/* Results. Pointers point into a private copy of the body and live until
 * uachal_free(). Fields ending in '_' are private. */
struct uachal {
	/* Exact bytes the detached signature covers (RFC 1847: MIME headers
	 * and body of part 1); NULL for UACHAL_UNSIGNED. */
	const unsigned char *signed_part;
	size_t signed_part_len;
	/* DER of the detached CMS SignedData (decoded if base64). */
	const unsigned char *signature;
	size_t signature_len;
	/* DER of the proxy's encryption certificate. */
	const unsigned char *cert;
	size_t cert_len;
	/* host[:port] of the Warnings with the configured code that say
	 * "Required to view"; "" if none (then the whole body is wanted). */
	char warn_agent[UACHAL_AGENT_LEN];
	/* Content types those Warnings name, lower-cased, in order. */
	char types[UACHAL_MAX_TYPES][UACHAL_TYPE_LEN];
	size_t ntypes;
	long long frag_date; /* Date of the sipfrag, unix seconds, or -1 */

	void *tree_;         /* private: the MIME tree owning the bytes */
};

/* A short static name for a status, for messages. */
const char *uachal_status_str(enum uachal_status st);

/*
 * Parse the response resp to the request req. warn_code is the warn-code
 * meaning "Required to View Content-Type" (380 by default, digest 4.4);
 * now is the current unix time; max_skew the allowed Date skew in seconds.
 *
 * UACHAL_OK and UACHAL_UNSIGNED return a result in *out (free with
 * uachal_free()); for UACHAL_UNSIGNED only cert, warn_agent and types are
 * set, taken from the unsigned response: treat the challenge as untrusted
 * (digest 4.6: ask the user or refuse). Any other status leaves *out NULL.
 * *why (if why is not NULL) always gets a short static reason, never any
 * content of the message.
 */
enum uachal_status uachal_parse(const struct uachal_request *req,
    const struct uachal_response *resp, unsigned warn_code, long long now,
    unsigned max_skew, struct uachal **out, const char **why);

void uachal_free(struct uachal *c); /* NULL is fine */

/* Strict RFC 1123 date as SIP uses it (RFC 3261 25.1 SIP-date):
 * "Fri, 27 Nov 2026 11:54:01 GMT", len bytes (no NUL needed). 0 and *t in
 * unix seconds, or -1. The weekday must match the date. No locale. */
int uachal_date_parse(const char *s, size_t len, long long *t);

#endif /* UACHAL_H */
