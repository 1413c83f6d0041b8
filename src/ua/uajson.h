/*
 * uajson.h - e2mua's output is one JSON object per line on stdout, for
 * scripts; this writes its strings.
 */
#ifndef UAJSON_H
#define UAJSON_H

#include <stddef.h>

/* s as a JSON string, quotes and escapes included. */
void uajson_string(const char *s);

/* ,"name":["a","b"] for n strings. */
void uajson_list(const char *name, const char *const *v, size_t n);

#endif /* UAJSON_H */
