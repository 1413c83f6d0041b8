/* winmax.c - the largest value over the last full second (winmax.h). */
#include "common/winmax.h"

void
winmax_note(struct winmax *w, uint64_t now_ms, uint64_t v)
{
	if (now_ms - w->start_ms >= 2000) {
		w->prev = 0;
		w->cur = 0;
		w->start_ms = now_ms;
	} else if (now_ms - w->start_ms >= 1000) {
		w->prev = w->cur;
		w->cur = 0;
		w->start_ms += 1000;
	}
	if (v > w->cur)
		w->cur = v;
}

uint64_t
winmax_get(const struct winmax *w, uint64_t now_ms, uint64_t now_v)
{
	uint64_t m;

	if (now_ms - w->start_ms >= 2000)
		return now_v;
	m = now_ms - w->start_ms >= 1000 ? w->cur :
	    (w->cur > w->prev ? w->cur : w->prev);
	return m > now_v ? m : now_v;
}
