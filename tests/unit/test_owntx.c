/* test_owntx.c - compact non-INVITE server transactions. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxyd/owntx.h"
#include "t.h"

#define LINGER 32000
#define N 5000

static const char OK200[] = "SIP/2.0 200 OK\r\nTo: <sip:b@x>;tag=9\r\n\r\n";
static const char TRYING[] = "SIP/2.0 100 Trying\r\n\r\n";

static void
matching(struct owntx_table *tb)
{
	int owner;
	struct owntx *x = owntx_open(tb, "z9hG4bK-abc", "10.0.0.1", "5070",
	    "BYE", &owner);

	T_OK(x != NULL, "opened");
	T_OK(owntx_owner(x) == &owner, "owner kept");
	T_OK(owntx_find(tb, "z9hG4bK-abc", "10.0.0.1", "5070", "BYE") == x,
	    "same key found");
	T_OK(owntx_find(tb, "Z9HG4BK-ABC", "10.0.0.1", "5070", "BYE") == x,
	    "branch without case");
	T_OK(owntx_find(tb, "z9hG4bK-abc", "10.0.0.1", "5070", NULL) == x,
	    "any method (CANCEL)");
	T_OK(owntx_find(tb, "z9hG4bK-abc", "10.0.0.1", "5070", "INFO") == NULL,
	    "other method: not it");
	T_OK(owntx_find(tb, "z9hG4bK-abc", "10.0.0.1", NULL, "BYE") == NULL,
	    "other port: not it");
	T_OK(owntx_find(tb, "z9hG4bK-abd", "10.0.0.1", "5070", "BYE") == NULL,
	    "other branch: not it");
	T_OK(owntx_find(tb, "z9hG4bK-abc", "10.0.0.2", "5070", "BYE") == NULL,
	    "other host: not it");
	owntx_drop(tb, x);
	T_OK(owntx_find(tb, "z9hG4bK-abc", "10.0.0.1", "5070", "BYE") == NULL,
	    "dropped: gone");
	T_EQ_INT(owntx_count(tb), 0, "count 0 after drop");
}

static void
lifecycle(struct owntx_table *tb)
{
	int owner;
	uint64_t when = 0;
	size_t len = 1;
	struct owntx *x = owntx_open(tb, "z9hG4bK-1", "h", NULL, "MESSAGE",
	    &owner);
	const char *r;

	T_OK(owntx_response(x, &len) == NULL && len == 0,
	    "Trying: nothing to resend (absorb)");
	T_OK(!owntx_next_expiry(tb, &when), "nothing completed yet");
	T_EQ_INT(owntx_respond(tb, x, TRYING, strlen(TRYING), 0, 100), 0,
	    "provisional kept");
	r = owntx_response(x, &len);
	T_OK(r != NULL && len == strlen(TRYING) && memcmp(r, TRYING, len) == 0,
	    "Proceeding: the provisional is resent");
	T_OK(!owntx_completed(x) && owntx_owner(x) == &owner,
	    "still open after a provisional");
	T_EQ_INT(owntx_respond(tb, x, OK200, strlen(OK200), 1, 1000), 0,
	    "final kept");
	r = owntx_response(x, &len);
	T_OK(r != NULL && len == strlen(OK200) && memcmp(r, OK200, len) == 0,
	    "Completed: the final is resent");
	T_OK(owntx_completed(x) && owntx_owner(x) == NULL,
	    "completed, owner forgotten");
	T_EQ_INT(owntx_respond(tb, x, TRYING, strlen(TRYING), 1, 2000), 0,
	    "a second final is ignored");
	r = owntx_response(x, &len);
	T_OK(len == strlen(OK200), "first final stays");
	owntx_drop(tb, x); /* completed: only expiry removes it */
	T_OK(owntx_find(tb, "z9hG4bK-1", "h", NULL, "MESSAGE") == x,
	    "drop does not remove a completed one");
	T_OK(owntx_next_expiry(tb, &when) && when == 1000 + LINGER,
	    "expires linger after completion");
	T_EQ_INT(owntx_expire(tb, 1000 + LINGER - 1), 0, "not before");
	T_EQ_INT(owntx_expire(tb, 1000 + LINGER), 1, "then expired");
	T_OK(owntx_find(tb, "z9hG4bK-1", "h", NULL, "MESSAGE") == NULL,
	    "gone after expiry");
	T_EQ_INT(owntx_count(tb), 0, "count 0 after expiry");
}

/* Many, completed in time order, expire in that order. */
static void
many(struct owntx_table *tb)
{
	static int owners[N];
	char br[32];
	struct owntx *x;
	uint64_t when;
	int i, bad = 0;

	for (i = 0; i < N; i++) {
		snprintf(br, sizeof(br), "z9hG4bK-%d", i);
		if ((x = owntx_open(tb, br, "h", "1", "BYE", &owners[i])) ==
		    NULL || owntx_respond(tb, x, OK200, strlen(OK200), 1,
		    (uint64_t)i) != 0)
			bad++;
	}
	T_EQ_INT(bad, 0, "5000 opened and completed");
	T_EQ_INT(owntx_count(tb), N, "5000 counted");
	T_EQ_INT(owntx_expire(tb, LINGER + N / 2 - 1), N / 2, "half expired");
	T_OK(owntx_next_expiry(tb, &when) && when == LINGER + N / 2,
	    "next is the oldest left");
	for (bad = 0, i = 0; i < N; i++) {
		snprintf(br, sizeof(br), "z9hG4bK-%d", i);
		if ((owntx_find(tb, br, "h", "1", "BYE") != NULL) != (i >= N / 2))
			bad++;
	}
	T_EQ_INT(bad, 0, "exactly the younger half left");
	T_EQ_INT(owntx_expire(tb, UINT64_MAX), N / 2, "rest expired");
	T_OK(!owntx_next_expiry(tb, &when), "list empty");
}

int
main(void)
{
	struct owntx_table *tb = owntx_new(LINGER);
	int owner;

	T_OK(tb != NULL, "table made");
	if (tb == NULL)
		return t_done();
	matching(tb);
	lifecycle(tb);
	many(tb);
	/* Completed ones left over are freed with the table (ASan). */
	owntx_respond(tb, owntx_open(tb, "b", "h", "1", "BYE", &owner),
	    OK200, strlen(OK200), 1, 0);
	owntx_free(tb);
	owntx_free(NULL);
	return t_done();
}
