/*
 * uaoutbound.c - RFC 5626 registration arithmetic and strings (see
 * uaoutbound.h).
 */
#include "ua/uaoutbound.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

void
uaob_uuid_urn(const unsigned char rnd[16], char out[UAOB_URN_SIZE])
{
	unsigned char b[16];
	size_t i, n;

	memcpy(b, rnd, sizeof(b));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	n = (size_t)snprintf(out, UAOB_URN_SIZE, "urn:uuid:");
	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[n++] = '-';
		n += (size_t)snprintf(out + n, UAOB_URN_SIZE - n, "%02x", b[i]);
	}
}

int
uaob_instance_ok(const char *s)
{
	const char *nid = s + 4, *colon;

	if (strncasecmp(s, "urn:", 4) != 0 || (colon = strchr(nid, ':')) ==
	    NULL || colon == nid || colon[1] == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= ' ' || *s == '"' || *s == '<' ||
		    *s == '>' || *s == '\\' || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

int
uaob_contact(char *out, size_t size, const char *uri, const char *instance,
    unsigned expires)
{
	int n;

	if ((strncasecmp(uri, "sip:", 4) != 0 && strncasecmp(uri, "sips:", 5)
	    != 0) || strpbrk(uri, "?<>\" ") != NULL ||
	    !uaob_instance_ok(instance))
		return -1;
	n = snprintf(out, size, "<%s;ob>;+sip.instance=\"<%s>\";reg-id=1;"
	    "expires=%u", uri, instance, expires);
	return n < 0 || (size_t)n >= size ? -1 : n;
}

/* The URN inside "<...>" (quotes and brackets optional); its length. */
static const char *
bare_urn(const char *s, size_t *len)
{
	size_t n = strlen(s);

	if (n >= 2 && s[0] == '"' && s[n - 1] == '"')
		s++, n -= 2;
	if (n >= 2 && s[0] == '<' && s[n - 1] == '>')
		s++, n -= 2;
	*len = n;
	return s;
}

int
uaob_same_instance(const char *a, const char *b)
{
	size_t na, nb;

	a = bare_urn(a, &na);
	b = bare_urn(b, &nb);
	return na == nb && na > 0 && strncasecmp(a, b, na) == 0;
}

unsigned
uaob_refresh_after(unsigned granted)
{
	return granted >= 2 ? granted / 2 : 1;
}

/* A point between lo and hi (inclusive) chosen by rnd. */
static unsigned
between(unsigned lo, unsigned hi, uint32_t rnd)
{
	return hi <= lo ? lo : lo + (unsigned)(rnd % (uint32_t)(hi - lo + 1));
}

unsigned
uaob_keepalive_ms(unsigned configured, unsigned flow_timer, uint32_t rnd)
{
	unsigned long ms;

	if (configured > 0)
		return configured * 1000U;
	if (flow_timer == 0)
		return between(95000, 120000, rnd);
	ms = (unsigned long)flow_timer * 1000UL;
	if (ms > 86400000UL)
		ms = 86400000UL;
	return between((unsigned)(ms * 8 / 10), (unsigned)ms, rnd);
}

unsigned
uaob_backoff(unsigned failures, uint32_t rnd)
{
	unsigned wait = 30;

	while (failures-- > 0 && wait < 1800)
		wait *= 2;
	if (wait > 1800)
		wait = 1800;
	return between((wait + 1) / 2, wait, rnd);
}
