#!/bin/bash
# Overload control for requests that came over TCP (and TLS): they carry
# no queue delay of their own (the kernel stamps datagrams, not stream
# bytes, and once our small receive buffer is full the backlog waits in
# the sender's), so they are judged by how long the proxy's loop has gone
# without catching up with its input. Deterministic: the proxy is stopped
# (SIGSTOP) while a caller writes thousands of MESSAGEs and then a BYE on
# its TCP connection; once it goes on, it works through them without a
# break, so the loop's busy stretch passes the (low, for the test)
# thresholds within the first few hundred: the first MESSAGEs are
# admitted, later ones get 503 + Retry-After, the BYE at the very end
# (in dialog) passes; then a new call completes.
. "$TOP_SRCDIR/tests/integration/lib.sh"
t_init overload_tcp 24060
M_PORT=$((BASE + 3))
OVL=$TOP_SRCDIR/tests/integration/tcpoverload.py
URL=http://127.0.0.1:$M_PORT
N=4000

# Thresholds low enough that working through the backlog passes them on
# any machine (4000 messages take far more than 40 ms of CPU), high enough
# that a single call's messages never do.
write_conf "$WORK/px.conf" "" "
overload: { queue_delay_low = 20; queue_delay_high = 40; retry_after = 9;
            loop_busy = true; };
metrics: { enabled = true; port = $M_PORT; };"
PROXY_DEBUG=" " start_proxy "$WORK/px.conf" proxy
ok $? "proxy starts"

python3 "$OVL" backlog "$PX_PORT" "$UAS_PORT" "$PX_PID" "$N" > "$WORK/out" 2>&1
sed 's/^/# /' "$WORK/out"
is b_final 200 "call B over TCP is answered before the stop"
is b_bye 200 "its BYE, written after the backlog, passed while shedding"
is callee_bye 1 "and reached the callee"
is messages_answered "$N" "every MESSAGE got a final answer"
is first_final 200 "the first MESSAGE, read before the loop was behind, went through"
shed=$(fact messages_503)
[ "${shed:-0}" -gt 0 ] && [ "$shed" -lt "$N" ]
ok $? "some later MESSAGEs were refused with 503, not all ($shed of $N)"
is retry_after 9 "with Retry-After: overload.retry_after"
[ "$(fact callee_messages)" = "$((N - shed))" ]
ok $? "the refused ones never reached the callee ($(fact callee_messages) did)"
grep -q "overload: shedding new requests with 503 (loop_busy: loop busy" "$WORK/proxy.log"
ok $? "the log says shedding started, on the loop's busy stretch"

scrape
[ "$(metric 'e2mproxy_overload_shed_total{reason="loop_busy"}')" = "$shed" ]
ok $? "e2mproxy_overload_shed_total{reason=\"loop_busy\"} counts them"
[ "$(metric 'e2mproxy_overload_shed_total{reason="queue_delay"}')" = 0 ]
ok $? "none counted as queue_delay (no datagram was behind)"
[ -n "$(metric e2mproxy_overload_loop_busy_seconds)" ]
ok $? "the loop busy gauge is there"
promtool check metrics < "$WORK/metrics.txt" > "$WORK/promtool.log" 2>&1
ok $? "promtool check metrics passes"

python3 "$OVL" call "$PX_PORT" $((BASE + 12)) > "$WORK/out" 2>&1
sed 's/^/# /' "$WORK/out"
is e_final 200 "once caught up a new call over TCP is admitted"
is e_bye 200 "and completes"
t_done
