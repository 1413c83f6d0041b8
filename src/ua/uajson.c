/*
 * uajson.c - JSON strings for e2mua's result lines.
 */
#include "ua/uajson.h"

#include <stdio.h>

void
uajson_string(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", (unsigned char)*s);
		else
			putchar(*s);
	}
	putchar('"');
}

void
uajson_list(const char *name, const char *const *v, size_t n)
{
	size_t i;

	printf(",\"%s\":[", name);
	for (i = 0; i < n; i++) {
		if (i > 0)
			putchar(',');
		uajson_string(v[i]);
	}
	putchar(']');
}
