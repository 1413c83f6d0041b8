/*
 * archive.h - the IM archive's record format: one JSON object per line
 * (JSON Lines, UTF-8), made from plain structs; pure, no I/O.
 *
 * Two kinds of record. Members come in exactly this order; a member shown
 * in [brackets] is left out when its value is absent (a NULL pointer),
 * never written as null:
 *
 *   {"v":1,"kind":"message","time":"2026-12-06T16:10:00.123Z",
 *    "call_id":S,"cseq":N,"method":S,
 *    "from":{"uri":S[,"tag":S]},"to":{"uri":S[,"tag":S]},
 *    "source":{"address":S,"port":N,"transport":S},
 *    ["rule":S,]["content_type":S,]
 *    "parts":[PART,...]}
 *
 *   PART = {"type":S[,"charset":S],
 *           "protection":{["encrypted":{["opened_with":S,]
 *                                       "recipients":[S,...]}]
 *                         [,"signatures":[SIG,...]]},
 *           "text":S | "base64":S}
 *   SIG  = {["signer":S,]"valid":true|false,"inside_envelope":true|false
 *           [,"reason":S]}
 *
 *   {"v":1,"kind":"final","time":T,"call_id":S,"cseq":N,"method":S,
 *    "status":N}
 *
 * "v" is the format's version: readers skip records of a version they do
 * not know. Members may be added to version 1 (readers ignore members
 * they do not know); a change of meaning or of a member's type makes
 * version 2. "time" is UTC with milliseconds, always in this form.
 * "protection" is {} for a part sent in the clear and unsigned;
 * "encrypted" is there when the part came out of an envelope (with
 * "recipients" even when empty), "signatures" when it carried at least
 * one. "parts" is [] for a request without a body.
 *
 * A part's content is "text" when its type is text/... , its charset is
 * absent, utf-8 or us-ascii, and its bytes are valid UTF-8; otherwise it
 * is "base64" (RFC 4648, one line, padded), so that no byte is lost or
 * guessed at: the reader decodes it with "charset" when there is one.
 *
 * Strings are escaped as RFC 8259 says: '"' and '\' with a backslash;
 * \n, \r and \t in short form; every other control character (U+0000 to
 * U+001F, U+007F, U+0080 to U+009F), U+2028, U+2029 and the explicit
 * bidirectional formatting characters (U+202A to U+202E, U+2066 to
 * U+2069) as \uXXXX, so that a record is one line whatever it holds, and
 * a terminal or a JavaScript reader sees no raw control character and no
 * text reordered. Any other character is written as its UTF-8 bytes. Strings from the network (URIs, Call-ID, tags, method,
 * signer names, text) may be ill-formed UTF-8: each broken sequence is
 * written as U+FFFD, never passed on raw (text with such bytes goes as
 * base64 instead, untouched).
 */
#ifndef ARCHIVE_H
#define ARCHIVE_H

#include <stddef.h>

#include "common/buf.h"

#define ARCHIVE_VERSION 1

struct archive_signature {
	const char *signer;  /* the signer as the caller names it, or NULL */
	int valid;           /* the signature checked out */
	int inside_envelope; /* it was inside the envelope (signed, then
	                        encrypted), not over the ciphertext */
	const char *reason;  /* why it is not valid; NULL when valid */
};

struct archive_part {
	const char *type;            /* "text/plain" (lower-case), required */
	const char *charset;         /* or NULL */
	const unsigned char *data;   /* the decoded content */
	size_t len;
	int encrypted;               /* came out of an envelope */
	const char *opened_with;     /* our key that opened it (the subject
	                                of its certificate), or NULL */
	const char *const *recipients; /* whom the envelope was for, as the */
	size_t nrecipients;            /* caller describes them */
	const struct archive_signature *sigs; /* signatures over this part */
	size_t nsigs;
};

struct archive_message {
	long long time_ms;           /* UTC, milliseconds since the epoch */
	const char *call_id;         /* required */
	unsigned long cseq;          /* 0 .. 2^32 - 1 */
	const char *method;          /* required */
	const char *from_uri, *from_tag; /* uri required, tag or NULL */
	const char *to_uri, *to_tag;
	const char *source_address;  /* required */
	unsigned source_port;
	const char *transport;       /* "udp", "tcp", "tls"; required */
	const char *rule;            /* "file:line" of the policy rule, or NULL */
	const char *content_type;    /* the SIP body's Content-Type, or NULL */
	const struct archive_part *parts;
	size_t nparts;
};

struct archive_final {
	long long time_ms;
	const char *call_id;         /* required */
	unsigned long cseq;          /* 0 .. 2^32 - 1 */
	const char *method;          /* required */
	int status;                  /* the final response's code, 100..699 */
};

/*
 * Append one record, a single line ending in "\n", to b. 0, or -1 when a
 * required string is NULL, the CSeq is over 2^32 - 1, a status is not
 * 100..699, the time is outside the years 0000..9999 or memory ran out;
 * then b->len is back where it was (b->oom stays set after an allocation
 * failure, as buf.h says).
 */
int archive_format_message(struct buf *b, const struct archive_message *m);
int archive_format_final(struct buf *b, const struct archive_final *f);

#endif /* ARCHIVE_H */
