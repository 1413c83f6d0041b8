/* utf8.h - strict UTF-8 decoding, one code point at a time. */
#ifndef UTF8_H
#define UTF8_H

#include <stddef.h>
#include <stdint.h>

#define UTF8_REPLACEMENT 0xfffdu /* U+FFFD, what a broken sequence shows as */
#define UTF8_BAD 0xffffffffu      /* no code point: a broken sequence */

/*
 * Decode the code point at p (n > 0 bytes). Returns how many bytes it
 * takes (1..4) and sets *cp. An ill-formed sequence (a stray continuation
 * byte, an overlong form, a surrogate, beyond U+10FFFF, cut short) gives
 * *cp = UTF8_BAD and the length of its maximal subpart (Unicode 15, 3.9
 * "U+FFFD substitution of maximal subparts"): one U+FFFD per broken
 * sequence, and the byte after it is decoded afresh.
 */
size_t utf8_decode(const uint8_t *p, size_t n, uint32_t *cp);
/* 1 if all n bytes are well-formed UTF-8. */
int utf8_valid(const uint8_t *p, size_t n);
/* Append cp (<= 0x10ffff, not a surrogate) as UTF-8 to out; its length. */
size_t utf8_encode(uint32_t cp, uint8_t out[4]);

#endif /* UTF8_H */
