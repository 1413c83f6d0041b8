/* t.h - a tiny TAP producer for unit tests: one "ok N - name" per check. */
#ifndef T_H
#define T_H

#include <stdio.h>
#include <string.h>

static int t_count, t_failed;

#define T_OK(expr, name)                                                     \
	do {                                                                 \
		int t_ok_ = (expr) ? 1 : 0;                                  \
		t_count++;                                                   \
		if (!t_ok_)                                                  \
			t_failed++;                                          \
		printf("%sok %d - %s\n", t_ok_ ? "" : "not ", t_count,      \
		    (name));                                                 \
		if (!t_ok_)                                                  \
			printf("# %s:%d: failed: %s\n", __FILE__, __LINE__, \
			    #expr);                                          \
	} while (0)

#define T_EQ_INT(a, b, name)                                                 \
	do {                                                                 \
		long long t_a_ = (long long)(a), t_b_ = (long long)(b);     \
		T_OK(t_a_ == t_b_, name);                                    \
		if (t_a_ != t_b_)                                            \
			printf("# got %lld, want %lld\n", t_a_, t_b_);      \
	} while (0)

#define T_EQ_STR(a, b, name)                                                 \
	do {                                                                 \
		const char *t_a_ = (a), *t_b_ = (b);                         \
		int t_same_ = (t_a_ == NULL && t_b_ == NULL) ||              \
		    (t_a_ != NULL && t_b_ != NULL && strcmp(t_a_, t_b_) == 0); \
		T_OK(t_same_, name);                                         \
		if (!t_same_)                                                \
			printf("# got \"%s\", want \"%s\"\n",               \
			    t_a_ ? t_a_ : "(null)", t_b_ ? t_b_ : "(null)"); \
	} while (0)

/* A check that cannot run here, reported as TAP's SKIP (counted as
 * skipped, never as passed). */
#define T_SKIP(name, why)                                                    \
	do {                                                                 \
		t_count++;                                                   \
		printf("ok %d - %s # SKIP %s\n", t_count, (name), (why));   \
	} while (0)

/* Print the plan last (TAP allows it) and give the exit status. */
static inline int
t_done(void)
{
	printf("1..%d\n", t_count);
	return t_failed ? 1 : 0;
}

#endif /* T_H */
