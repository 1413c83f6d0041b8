/*
 * benchutil.h - what the C benchmarks share (cms_speed.c,
 * challenge_speed.c, decrypt_timing.c): clocks, dying with OpenSSL's
 * error queue, the files of the throwaway PKI directory, sorting doubles.
 * Each benchmark is one file built on its own (bench/lib.sh bench_cc),
 * so everything here is static; main() sets prog and dir.
 */
#ifndef BENCHUTIL_H
#define BENCHUTIL_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>

static const char *prog = "bench"; /* the program, in messages */
static const char *dir = ".";      /* where path() finds files */

static inline double
clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline double
now(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

static inline void
die(const char *what)
{
	fprintf(stderr, "%s: %s\n", prog, what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

/* DIR/name; a new string each call (a handful, never freed). */
static inline const char *
path(const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		die("out of memory");
	return p;
}

/* The whole file, with a spare byte after it; exits when unreadable. */
static inline uint8_t *
slurp(const char *file, size_t *len)
{
	FILE *f = fopen(file, "rb");
	uint8_t *b;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0 || (b = malloc((size_t)n + 1)) == NULL ||
	    fread(b, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "%s: cannot read %s: %s\n", prog, file,
		    strerror(errno));
		exit(1);
	}
	fclose(f);
	*len = (size_t)n;
	return b;
}

static inline int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

#endif /* BENCHUTIL_H */
