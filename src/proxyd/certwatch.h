/*
 * certwatch.h - the certificates the configuration names, with when each
 * ends: logged at start, at reload and daily when one ends within
 * CERTWATCH_WARN_DAYS (or has ended), and shown by /status and /metrics.
 */
#ifndef CERTWATCH_H
#define CERTWATCH_H

#include <stddef.h>
#include <time.h>

#define CERTWATCH_WARN_DAYS 30

struct conf;
struct certwatch;

struct certwatch_cert {
	char role[64];     /* the setting: "inspect.keys[0].certificate" */
	char *path;
	int ok;            /* read; else err says why */
	char err[128];
	time_t not_after;  /* the earliest of the file's certificates */
	char subject[256];
};

/* Reads every certificate file c names. NULL only when out of memory. */
struct certwatch *certwatch_new(const struct conf *c);
void certwatch_free(struct certwatch *cw); /* NULL is fine */
size_t certwatch_count(const struct certwatch *cw);
const struct certwatch_cert *certwatch_get(const struct certwatch *cw,
    size_t i);
/* One warning per certificate ending within the window at now, an error
 * per one ended; each line starts with prefix ("reload: "). */
void certwatch_log(const struct certwatch *cw, time_t now, const char *prefix);

#endif /* CERTWATCH_H */
