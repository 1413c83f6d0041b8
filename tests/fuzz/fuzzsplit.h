/*
 * fuzzsplit.h - where the stream harnesses (fuzz_sipframe.c,
 * fuzz_sipstream.c) cut their input to feed it in pieces. One definition,
 * so that the two cut alike and a change to the cut is made once. Static
 * inline in a header: each harness is its own program (fuzz_NAME, and
 * replay_NAME for make check), with no library of test code to link.
 */
#ifndef FUZZSPLIT_H
#define FUZZSPLIT_H

#include <stddef.h>
#include <stdint.h>

/* Where to split p[0..n): any of the n + 1 places, the same for the same
 * input and salt (FNV-1a of the bytes, the salt folded into the offset
 * basis): a fuzzer's input decides the cut, no randomness does. */
static inline size_t
split_at(const uint8_t *p, size_t n, uint32_t salt)
{
	uint32_t h = 2166136261u ^ salt;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return n > 0 ? h % (n + 1) : 0;
}

#endif /* FUZZSPLIT_H */
