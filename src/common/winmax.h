/*
 * winmax.h - the largest value seen over the last full second and this
 * one: what a gauge shows of something that comes and goes between
 * scrapes (the loop's busy stretch, a backed-up connection). Pure.
 */
#ifndef WINMAX_H
#define WINMAX_H

#include <stdint.h>

struct winmax {
	uint64_t start_ms;	/* the current 1 s window's start */
	uint64_t cur;		/* largest in it */
	uint64_t prev;		/* and in the one before */
};

/* v seen at now_ms (a later or equal time than before). */
void winmax_note(struct winmax *w, uint64_t now_ms, uint64_t v);
/* The largest over the last full second and this one; at least now_v,
 * the value now. */
uint64_t winmax_get(const struct winmax *w, uint64_t now_ms, uint64_t now_v);

#endif /* WINMAX_H */
