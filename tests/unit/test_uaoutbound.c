/* test_uaoutbound.c - the pure pieces of e2mua's RFC 5626 registration. */
#include <stdio.h>
#include <string.h>

#include "t.h"
#include "ua/uaoutbound.h"

static void
uuid(void)
{
	unsigned char zero[16] = { 0 }, ones[16];
	char urn[UAOB_URN_SIZE];

	memset(ones, 0xff, sizeof(ones));
	uaob_uuid_urn(zero, urn);
	T_EQ_STR(urn, "urn:uuid:00000000-0000-4000-8000-000000000000",
	    "version 4 and the RFC 4122 variant set on zeros");
	uaob_uuid_urn(ones, urn);
	T_EQ_STR(urn, "urn:uuid:ffffffff-ffff-4fff-bfff-ffffffffffff",
	    "and kept within their bits on ones");
	T_EQ_INT(strlen(urn), UAOB_URN_SIZE - 1, "fills the buffer exactly");
	T_OK(uaob_instance_ok(urn), "a made URN is a valid instance");
}

static void
instance(void)
{
	T_OK(uaob_instance_ok("urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"),
	    "urn:uuid");
	T_OK(uaob_instance_ok("URN:gsma:imei:35209900-176148-1"),
	    "another namespace, any case");
	T_OK(!uaob_instance_ok("uuid:f81d4fae"), "not a URN");
	T_OK(!uaob_instance_ok("urn:uuid"), "no namespace-specific part");
	T_OK(!uaob_instance_ok("urn::x"), "no namespace");
	T_OK(!uaob_instance_ok("urn:uuid:a\"b"), "a quote would end the value");
	T_OK(!uaob_instance_ok("urn:uuid:a>b"), "a bracket would end the URN");
	T_OK(!uaob_instance_ok("urn:uuid:a b"), "no spaces");
	T_OK(uaob_same_instance("\"<urn:uuid:AB-cd>\"", "urn:uuid:ab-CD"),
	    "same instance: quotes, brackets and case aside");
	T_OK(uaob_same_instance("<urn:uuid:ab>", "\"<urn:uuid:ab>\""),
	    "brackets without quotes");
	T_OK(!uaob_same_instance("\"<urn:uuid:ab>\"", "urn:uuid:abc"),
	    "a longer URN is another instance");
	T_OK(!uaob_same_instance("\"\"", ""), "empty values match nothing");
}

static void
contact(void)
{
	char out[256];
	const char *inst = "urn:uuid:00000000-0000-4000-8000-000000000000";

	T_EQ_INT(uaob_contact(out, sizeof(out),
	    "sip:127.0.0.1:5070;transport=tcp", inst, 600), (int)strlen(out),
	    "the length");
	T_EQ_STR(out, "<sip:127.0.0.1:5070;transport=tcp;ob>;+sip.instance=\""
	    "<urn:uuid:00000000-0000-4000-8000-000000000000>\";reg-id=1;"
	    "expires=600", "ob in the URI, instance, reg-id, expiry");
	uaob_contact(out, sizeof(out), "sip:[::1]:5070", inst, 0);
	T_EQ_STR(out, "<sip:[::1]:5070;ob>;+sip.instance=\"<urn:uuid:00000000-"
	    "0000-4000-8000-000000000000>\";reg-id=1;expires=0",
	    "IPv6, and the unregistration's expires=0");
	T_EQ_INT(uaob_contact(out, sizeof(out), "sips:h", inst, 1) > 0, 1,
	    "sips");
	T_EQ_INT(uaob_contact(out, sizeof(out), "tel:+1555", inst, 1), -1,
	    "not a SIP URI");
	T_EQ_INT(uaob_contact(out, sizeof(out), "sip:h?x=y", inst, 1), -1,
	    "headers in the URI: ;ob cannot just be appended");
	T_EQ_INT(uaob_contact(out, sizeof(out), "<sip:h>", inst, 1), -1,
	    "brackets already");
	T_EQ_INT(uaob_contact(out, sizeof(out), "sip:h", "x", 1), -1,
	    "a bad instance");
	T_EQ_INT(uaob_contact(out, 40, "sip:h", inst, 1), -1, "too small");
}

static void
timing(void)
{
	unsigned lo = ~0U, hi = 0, v;
	uint32_t r;

	T_EQ_INT(uaob_refresh_after(600), 300, "refresh at half");
	T_EQ_INT(uaob_refresh_after(4), 2, "short expiry: half");
	T_EQ_INT(uaob_refresh_after(1), 1, "at least a second");
	T_EQ_INT(uaob_refresh_after(0), 1, "even for nothing granted");
	T_EQ_INT(uaob_keepalive_ms(2, 30, 12345), 2000,
	    "a configured interval wins, exactly");
	for (r = 0; r < 100000; r += 7) {
		v = uaob_keepalive_ms(0, 30, r * 2654435761U);
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
	}
	T_OK(lo >= 24000 && hi <= 30000 && hi - lo > 5000,
	    "Flow-Timer 30: between 80% and 100% of it");
	lo = ~0U;
	hi = 0;
	for (r = 0; r < 100000; r += 7) {
		v = uaob_keepalive_ms(0, 0, r * 2654435761U);
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
	}
	T_OK(lo >= 95000 && hi <= 120000 && hi - lo > 20000,
	    "no Flow-Timer: between 95 and 120 s");
	T_EQ_INT(uaob_keepalive_ms(0, 1, 0), 800, "Flow-Timer 1: 800 ms low");
	T_EQ_INT(uaob_keepalive_ms(0, 1, 200), 1000, "1000 ms high");
	T_EQ_INT(uaob_backoff(1, 0), 30, "one failure: 60 s, half of it low");
	T_EQ_INT(uaob_backoff(1, 30), 60, "60 s high");
	T_EQ_INT(uaob_backoff(2, 60), 120, "two: 120 s");
	T_EQ_INT(uaob_backoff(6, 0), 900, "six: capped at 1800 (half low)");
	T_EQ_INT(uaob_backoff(60, 900), 1800, "sixty: 1800 at most");
	T_EQ_INT(uaob_backoff(0, 0), 15, "no failure: the base, 30 s");
}

int
main(void)
{
	uuid();
	instance();
	contact();
	timing();
	return t_done();
}
