/*
 * certinfo.h - what an operator needs to know about a certificate file
 * the daemon uses: when the first of its certificates ends, and whose it
 * is. Read at start and reload, for expiry warnings, metrics and status.
 */
#ifndef CERTINFO_H
#define CERTINFO_H

#include <stddef.h>
#include <time.h>

struct certinfo {
	time_t not_after;   /* the earliest notAfter in the file (UTC) */
	char subject[256];  /* that certificate's subject, one line */
	unsigned count;     /* certificates in the file */
};

/* Reads every PEM certificate of path. 0, or -1 with err set (no
 * certificate, unreadable, a date OpenSSL cannot convert). */
int certinfo_read(const char *path, struct certinfo *ci, char *err,
    size_t errsz);

#endif /* CERTINFO_H */
