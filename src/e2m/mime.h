/*
 * mime.h - the MIME body tree of a SIP message (RFC 2045, RFC 2046,
 * RFC 3261 section 7.4 and 23), with size, depth and part-count limits.
 * Pure: no I/O, no Sofia or OpenSSL types, no logging; unit-tested alone.
 *
 * Ownership: a tree returned by mime_parse() owns everything it points to,
 * including a private copy of the body, so the caller's buffers may be
 * freed as soon as mime_parse() returns. mime_graft() copies the bytes it
 * is given. mime_free() releases the tree and zeroes every byte buffer it
 * owned (decrypted plaintext is grafted into it). All pointers in a
 * struct mime_entity are read-only to the caller and live until mime_free()
 * of the tree's root.
 *
 * The body is untrusted: it is handled as length-delimited bytes (NUL
 * bytes are allowed in bodies; they make a MIME header malformed), nesting
 * is bounded by max_depth, and the work is linear in the body size times
 * the nesting depth.
 */
#ifndef MIME_H
#define MIME_H

#include <stddef.h>

enum mime_status {
	MIME_OK = 0,
	MIME_TOO_LARGE,  /* body (or grafted entity) over max_body: 413 */
	MIME_MALFORMED,  /* syntax error: 400 */
	MIME_LIMIT,      /* over max_depth or max_parts: 400 */
	MIME_NOMEM       /* out of memory: 500 */
};

/* Content-Transfer-Encoding. Entities with QUOTED_PRINTABLE or OTHER are
 * kept in the tree but not decoded (data == NULL), per RFC 2045 section
 * 6.4 treat them as opaque application/octet-stream. */
enum mime_cte {
	MIME_CTE_NONE = 0, /* no header: 7bit */
	MIME_CTE_7BIT,
	MIME_CTE_8BIT,
	MIME_CTE_BINARY,
	MIME_CTE_BASE64,
	MIME_CTE_QUOTED_PRINTABLE,
	MIME_CTE_OTHER
};

#define MIME_DEFAULT_MAX_BODY  65536
#define MIME_DEFAULT_MAX_DEPTH 8
#define MIME_DEFAULT_MAX_PARTS 32
/* max_depth above this is treated as this (bounds the recursion). */
#define MIME_DEPTH_CAP         64

struct mime_limits {
	size_t max_body;  /* bytes of the SIP body; also of one grafted entity */
	size_t max_depth; /* nesting levels; the top-level entity is level 1 */
	size_t max_parts; /* entities in the tree other than the top-level one
	                   * (body parts at any level, grafted ones included) */
};

/* The SIP-level headers of the top-level entity, as NUL-terminated header
 * values (no header name, no CRLF); any may be NULL (absent). Borrowed
 * only during mime_parse(). */
struct mime_headers {
	const char *content_type;
	const char *content_id;
	const char *content_disposition;
	const char *content_transfer_encoding;
};

struct mime_param {
	char *name;  /* lower-cased */
	char *value; /* quoted-string unquoted, backslash escapes removed */
};

/* One MIME entity. Read-only for the caller; fields ending in '_' are
 * private. */
struct mime_entity {
	char *type;       /* lower-cased, e.g. "multipart" */
	char *subtype;    /* lower-cased, e.g. "signed" */
	int type_default; /* no Content-Type: RFC 2046 default applied */
	struct mime_param *params; /* Content-Type parameters */
	size_t nparams;

	char *content_id; /* raw header value, unfolded and trimmed; or NULL */

	char *disposition; /* lower-cased disposition type, or NULL */
	char *handling;    /* lower-cased "handling" parameter, or NULL */
	struct mime_param *disp_params;
	size_t ndisp_params;

	enum mime_cte cte;

	/* The whole entity as it was in the message: MIME headers, blank
	 * line and body. For a body part this is exactly the octets between
	 * the CRLF that ends one boundary line and the CRLF that precedes
	 * the next one (what RFC 1847 signs). For the top-level entity it is
	 * the SIP body (its headers are SIP headers). For a grafted entity
	 * it is the whole decrypted plaintext. */
	const unsigned char *raw;
	size_t raw_len;
	/* The body as transmitted (after the blank line, still encoded). */
	const unsigned char *body;
	size_t body_len;
	/* The body after Content-Transfer-Encoding decoding; NULL when the
	 * encoding is not decoded (quoted-printable, unknown). For a
	 * multipart entity this is the undecoded multipart body. */
	const unsigned char *data;
	size_t data_len;

	struct mime_entity **children; /* body parts, or the grafted entity */
	size_t nchildren;
	struct mime_entity *parent;    /* NULL for the top-level entity */
	size_t index;  /* position in parent->children */
	size_t depth;  /* 1 for the top-level entity */
	int grafted;   /* the root of decrypted content added by mime_graft */

	unsigned char *own_;     /* private: owned copy of raw bytes */
	size_t own_len_;
	unsigned char *decoded_; /* private: owned base64 output */
	size_t decoded_len_;
	size_t children_cap_;    /* private */
	size_t nparts_;          /* private: entities below the top (root) */
};

/* Fill *l with the defaults (64 KiB, 8, 32). */
void mime_limits_default(struct mime_limits *l);

/* Parse a SIP body into a tree. limits NULL: defaults. On MIME_OK *tree is
 * the new tree, or NULL when len is 0 (no body: nothing to parse, whatever
 * the headers say). On any other status *tree is NULL and *err (if err is
 * not NULL) points at a short static reason. A non-empty body without a
 * Content-Type is MIME_MALFORMED (RFC 3261 section 20.15). The size limit
 * is checked before anything else is looked at. */
enum mime_status mime_parse(const struct mime_headers *top,
    const void *body, size_t len, const struct mime_limits *limits,
    struct mime_entity **tree, const char **err);

/* Parse bytes (a full MIME entity with its own headers, e.g. decrypted
 * S/MIME content; no Content-Type means text/plain per RFC 2045) and attach
 * it as the single child of e, which must be a non-multipart leaf without
 * children. The new entities count toward the depth and part limits of
 * the whole tree; len over max_body is MIME_TOO_LARGE. The bytes are
 * copied. On failure e is unchanged. */
enum mime_status mime_graft(struct mime_entity *e, const void *bytes,
    size_t len, const struct mime_limits *limits, const char **err);

/* Free a tree (e must be the top-level entity), zeroing owned buffers.
 * NULL is fine. */
void mime_free(struct mime_entity *e);

/* 1 if e's Content-Type is type/subtype (both given lower-case). */
int mime_is(const struct mime_entity *e, const char *type, const char *sub);

/* Content-Type / Content-Disposition parameter by case-insensitive name;
 * NULL if absent. */
const char *mime_param(const struct mime_entity *e, const char *name);
const char *mime_disp_param(const struct mime_entity *e, const char *name);

/* Depth-first, pre-order successor of e within the subtree of root
 * (root itself comes first: start with e = root); NULL at the end. */
const struct mime_entity *mime_next(const struct mime_entity *root,
    const struct mime_entity *e);

/* Call fn on every entity of the subtree of root, pre-order. A non-zero
 * return from fn stops the walk and is returned; otherwise 0. */
int mime_walk(const struct mime_entity *root,
    int (*fn)(const struct mime_entity *e, void *arg), void *arg);

/* Comparison callback for mime_find_cid: non-zero when the entity's raw
 * Content-ID value names the wanted cid. */
typedef int (*mime_cid_eq_fn)(const char *entity_cid, const char *wanted,
    void *arg);

/* First entity (pre-order) in the subtree of root whose Content-ID matches
 * wanted according to eq (NULL eq: exact byte comparison); NULL if none. */
const struct mime_entity *mime_find_cid(const struct mime_entity *root,
    const char *wanted, mime_cid_eq_fn eq, void *arg);

/* The SIP response code for a status: 0 (OK), 413, 400 or 500. */
int mime_status_code(enum mime_status st);

#endif /* MIME_H */
