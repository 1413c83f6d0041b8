/*
 * label.h - the Proxy-Inspect-Body label header (digest section 3) and
 * Content-ID comparison (digest section 2.4).
 *
 * Pure: no I/O, no Sofia or OpenSSL types, no logging. Problems found while
 * parsing are kept in the label set as notes (static reason strings plus
 * where they were found); the caller logs them. A label is only a hint
 * (digest 3.7), so nothing here ever makes the caller reject a request: a
 * malformed value is left out of the set and noted, the rest is kept.
 *
 * Accepted input, per digest 3.4 (header names Proxy-Inspect-Body and
 * Proxy-Required-Body; the caller collects the fields of both names, in
 * message order):
 *
 *   value  = host [":" port] ";" param *(";" param)
 *   param  = "cid" "=" cid *("," "cid" "=" cid) / token ["=" gen-value]
 *   cid    = DQUOTE cid-text DQUOTE / "<" cid-text ">" / cid-text
 *   field  = value *("," value)
 *
 * After a comma, "cid" followed by "=" continues the current value; anything
 * else starts a new value (the look-ahead rule of digest 3.4). Unknown
 * parameters are ignored. A port is ignored for matching (digest 3.4) and
 * noted. A value with no cid at all carries nothing and counts as malformed.
 *
 * Ownership: every pointer passed in is borrowed for the duration of the
 * call only. Strings returned by accessors are owned by the label set and
 * live until label_free(). Reason strings are static.
 */
#ifndef LABEL_H
#define LABEL_H

#include <stdbool.h>
#include <stddef.h>

/* Limits against hostile input. Anything beyond them is treated exactly
 * like a malformed value: left out and noted. */
#define LABEL_MAX_FIELD_LEN 16384 /* bytes in one header field value */
#define LABEL_MAX_ENTRIES   16    /* label values kept per message */
#define LABEL_MAX_CIDS      16    /* cids in one value (nesting is <= 8 deep) */
#define LABEL_MAX_HOST_LEN  255   /* bytes of an inspecting host */
#define LABEL_MAX_CID_LEN   255   /* bytes of a cid, without delimiters */
#define LABEL_MAX_NOTES     16    /* notes kept; later ones are only counted */

/* Room for a normalised cid and its NUL; see label_cid_normalise(). */
#define LABEL_CID_BUFSZ (LABEL_MAX_CID_LEN + 1)
/* Enough room for label_own_cids() never to truncate. */
#define LABEL_MAX_OWN_CIDS (LABEL_MAX_ENTRIES * LABEL_MAX_CIDS)

/* One header field value as it appears after the colon. Length-delimited:
 * it need not be NUL-terminated and may contain NUL bytes (which make the
 * value they are in malformed). Borrowed. */
struct label_field {
	const char *value;
	size_t len;
};

struct label_set; /* opaque */

/*
 * Parse the fields, in message order, into a new label set owned by the
 * caller (free with label_free()). Never fails because of the input; NULL
 * only when memory runs out. fields may be NULL when nfields is 0.
 */
struct label_set *label_parse(const struct label_field *fields,
    size_t nfields);

void label_free(struct label_set *set); /* NULL is fine */

/* Label values kept, in message order. */
size_t label_count(const struct label_set *set);

/* Inspecting host of value i: lower-case, trailing dot removed, IPv6 in
 * canonical text form without brackets. Owned by the set. */
const char *label_host(const struct label_set *set, size_t i);

/* Port written after the host of value i, or -1. Never used for matching. */
int label_port(const struct label_set *set, size_t i);

/* Cids of value i, outer first; each normalised as label_cid_normalise()
 * does. Owned by the set. */
size_t label_ncids(const struct label_set *set, size_t i);
const char *label_cid(const struct label_set *set, size_t i, size_t j);

/* Values left out (malformed or over a limit). */
size_t label_nignored(const struct label_set *set);

/* Notes, in the order found: at most LABEL_MAX_NOTES are kept. Returns the
 * static reason and sets *field (index into the parsed fields) and *offset
 * (byte offset in that field) when they are not NULL. */
size_t label_nnotes(const struct label_set *set);
const char *label_note(const struct label_set *set, size_t k, size_t *field,
    size_t *offset);

/*
 * Is host (as returned by label_host()) one of the proxy's own names?
 * own_names are the names of this proxy (sip.own_names plus the listener
 * addresses: FQDNs, IPv4 literals, IPv6 with or without brackets; no
 * ports), NUL-terminated and borrowed; they are compared after
 * the same normalisation, so case and a trailing dot do not matter (digest
 * 5.1 step 2, Q6). Own names that are not valid hosts never match.
 */
bool label_host_is_own(const char *host, const char *const *own_names,
    size_t n_own);

/*
 * The cids addressed to this proxy: the cids of every value whose host is
 * one of own_names, in message order, outer first within a value, each cid
 * once (first occurrence kept). Writes at most cap pointers (owned by the
 * set) to out and returns how many it wrote; a cap of LABEL_MAX_OWN_CIDS
 * never truncates.
 */
size_t label_own_cids(const struct label_set *set,
    const char *const *own_names, size_t n_own, const char **out, size_t cap);

/*
 * Normalise a cid or a Content-ID header value (digest 2.4): surrounding
 * whitespace and RFC 5322 comments are dropped, then one pair of angle
 * brackets and/or double quotes; what remains must be left@right (exactly
 * one "@", both sides non-empty, printable ASCII without space and without
 * any of  " ( ) , ; < > \ ). The left part is kept as is (case-sensitive),
 * the right part is lower-cased (case-insensitive). No percent-decoding:
 * "%" is an ordinary atom character in the label grammar (digest 3.2).
 * s is borrowed and length-delimited, and must not overlap out. On success writes the NUL-terminated
 * result to out and returns NULL; otherwise returns a static reason and
 * leaves out as an empty string. The result normalises to itself.
 */
const char *label_cid_normalise(const char *s, size_t len,
    char out[LABEL_CID_BUFSZ]);

/* Same Content-ID after normalisation; false when either is malformed. */
bool label_cid_equal(const char *a, size_t alen, const char *b, size_t blen);

#endif /* LABEL_H */
