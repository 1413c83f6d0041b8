/*
 * archread.h - reading IM archive records back (the format of archive.h):
 * one line -> the members a search needs, with a strict JSON parser that
 * says why a line is malformed; times, user matching and a summary line
 * safe for a terminal. For e2mlog; pure, no I/O.
 */
#ifndef ARCHREAD_H
#define ARCHREAD_H

#include <stddef.h>

#include "common/buf.h"

enum archread_kind {
	ARCHREAD_OTHER,   /* a version 1 record of a kind not known here */
	ARCHREAD_MESSAGE,
	ARCHREAD_FINAL,
};

/*
 * A record's members, decoded: UTF-8 as in the line (a \u0000 and a lone
 * surrogate become U+FFFD, so that every string is a C string). Members
 * that kind does not have are NULL or 0.
 */
struct archread_rec {
	enum archread_kind kind;
	long long time_ms;
	char *call_id;
	unsigned long cseq;
	char *method;
	/* message */
	char *from_uri, *from_tag, *to_uri, *to_tag;
	char *source_address, *transport;
	unsigned source_port;
	size_t nparts;
	char *text;       /* the first part written as "text", or NULL */
	/* final */
	int status;
};

/*
 * Parse one line (without its "\n"; a "\r" before it is allowed). 0, or
 * -1 with *why a short static reason ("not JSON: ...", "no call_id",
 * "version 2 not supported"). r is cleared first; archread_clear() it
 * either way.
 */
int archread_parse(struct archread_rec *r, const char *line, size_t len,
    const char **why);
void archread_clear(struct archread_rec *r);

/*
 * ISO 8601 in UTC -> milliseconds since the epoch: "2026-12-06",
 * "2026-12-06T16:10", "2026-12-06T16:10:00", "...:00.123", with an
 * optional "Z" (or "+00:00"); a space may stand for the "T". -1 for
 * anything else, another offset included.
 */
int archread_time(const char *s, long long *ms);

/*
 * Does a SIP URI name this user? A bare user ("alice") is compared with
 * the URI's user part (case-sensitive, as RFC 3261 says); "alice@host"
 * with user@host, "sip:alice@host" with the whole URI, both without the
 * URI's parameters and headers, the host case-insensitively.
 */
int archread_user_match(const char *uri, const char *user);

/*
 * Append s for a terminal: control characters (C0, DEL, C1), U+2028/9 and
 * the bidirectional overrides and isolates (U+202A..E, U+2066..9) as
 * \uXXXX, ill-formed UTF-8 as \xNN; with maxchars > 0, cut to that many
 * characters with "..." after. With flatten, line breaks and tabs become
 * one space (for message text).
 */
void archread_safe(struct buf *b, const char *s, size_t maxchars,
    int flatten);

/*
 * A message's summary line, "\n" included: time, from -> to, the final
 * status (status < 0: "-", no final record found), Call-ID and the
 * first text part cut to 60 characters (or "(N parts, no text)", or
 * "(no body)").
 */
void archread_summary(struct buf *b, const struct archread_rec *m,
    int status);
/* A final record's line: time, "final", status, Call-ID, CSeq method. */
void archread_summary_final(struct buf *b, const struct archread_rec *f);

#endif /* ARCHREAD_H */
