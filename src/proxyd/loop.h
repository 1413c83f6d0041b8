/*
 * loop.h - the one event loop: libevent owns it, Sofia's su_root rides on
 * it in the same thread (see docs/proxy-core.md, "Event loop").
 */
#ifndef LOOP_H
#define LOOP_H

#include <stdint.h>

struct event_base;
struct su_root_s;
struct loop;

/* Creates the event base and the Sofia root. NULL (logged) on failure. */
struct loop *loop_new(void);
void loop_free(struct loop *l); /* NULL is fine */

struct event_base *loop_base(const struct loop *l);
struct su_root_s *loop_root(const struct loop *l);

/*
 * Call after code running in a libevent callback touched Sofia (it may
 * have armed su_timers the bridge does not know about yet).
 */
void loop_kick(struct loop *l);

/*
 * How long the loop has gone without catching up with its input, ms (0
 * when it has): wall time up to cap_ms, the loop thread's CPU time beyond
 * (overload.h, struct overload_busy); call it on the loop thread.
 * Overload control's signal for requests that came over TCP or TLS. And
 * the longest such stretch over the last full second, in wall time.
 */
uint64_t loop_busy_ms(struct loop *l, uint64_t cap_ms);
uint64_t loop_busy_max_ms(const struct loop *l);

int loop_run(struct loop *l);   /* until loop_break(); 0 or -1 */
void loop_break(struct loop *l);

#endif /* LOOP_H */
