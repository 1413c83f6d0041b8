#!/bin/bash
# Overload control (overload section): new out-of-dialog requests get a
# stateless 503 + Retry-After while the proxy is behind; what finishes
# calls already admitted (ACK, CANCEL, in-dialog requests, responses)
# still passes; shedding stops once the backlog is gone; metrics and the
# log tell. Deterministic: the backlog is made by stopping the proxy
# (SIGSTOP) while requests queue in its UDP socket, then letting it go on:
# every one of them has waited longer than the threshold. The in-flight
# bound is tried with a callee that holds its calls ringing.
. "$TOP_SRCDIR/tests/integration/lib.sh"
t_init overload 22900
M_PORT=$((BASE + 3))
OVL=$TOP_SRCDIR/tests/integration/overload.py
URL=http://127.0.0.1:$M_PORT

# Thresholds far above what a scheduling pause of a loaded test machine
# gives, far below the stop.
write_conf "$WORK/px.conf" "" "
overload: { queue_delay_low = 1500; queue_delay_high = 2000; retry_after = 7; };
metrics: { enabled = true; port = $M_PORT; };"
start_proxy "$WORK/px.conf" proxy
ok $? "proxy starts"

python3 "$OVL" stall "$PX_PORT" "$UAC_PORT" "$UAS_PORT" "$PX_PID" > "$WORK/out" 2>&1
sed 's/^/# /' "$WORK/out"
is a_ringing 180 "call A rings before the stop"
is b_final 200 "call B is answered before the stop"
is c_final 503 "a new INVITE that waited out the stop gets 503"
is c_retry_after 7 "with Retry-After: overload.retry_after"
is d_final 503 "a new MESSAGE too"
is callee_new 0 "neither reached the callee, nor the ACK of the 503"
is a_cancel 200 "the CANCEL of ringing call A passed"
is a_final 487 "and the callee's 487 came back"
is b_bye 200 "the BYE of answered call B passed and got its 200"
is callee_b "INVITE,ACK,BYE" "the callee got B's ACK and BYE"
is callee_a "INVITE,CANCEL,ACK" "and A's CANCEL (and the proxy's ACK of the 487)"
grep -q "overload: shedding new requests with 503 (queue_delay" "$WORK/proxy.log"
ok $? "the log says shedding started, and why"

scrape
expect 'e2mproxy_overload_shed_total{reason="queue_delay"}' 2
expect 'e2mproxy_overload_shed_total{reason="in_flight"}' 0
expect e2mproxy_overload_acks_absorbed_total 1
expect e2mproxy_overload_episodes_total 1

# The episode ends 5 quiet seconds after the last refusal.
for i in $(seq 1 200); do
	grep -q "overload: shedding stopped after" "$WORK/proxy.log" && break
	sleep 0.05
done
grep -q "overload: shedding stopped after .* s, 2 new requests answered 503" \
	"$WORK/proxy.log"
ok $? "the log says shedding stopped, with the count"
[ "$(grep -c 'overload: shedding' "$WORK/proxy.log")" -eq 2 ]
ok $? "two log lines for the episode, not one per request"
scrape
expect e2mproxy_overload_active 0
python3 "$OVL" call "$PX_PORT" "$UAC_PORT" "$UAS_PORT" > "$WORK/out" 2>&1
sed 's/^/# /' "$WORK/out"
is e_final 200 "once caught up a new call is admitted"
is e_bye 200 "and completes"
scrape
expect 'e2mproxy_overload_shed_total{reason="queue_delay"}' 2
promtool check metrics < "$WORK/metrics.txt" > "$WORK/promtool.log" 2>&1
ok $? "promtool check metrics passes"
[ -n "$(metric e2mproxy_overload_queue_delay_seconds)" ]
ok $? "the queue delay gauge is there"

# max_in_flight: a bound on the server transactions held.
kill "$PX_PID"
wait "$PX_PID" 2>/dev/null
PX_PORT=$((BASE + 20))
write_conf "$WORK/px2.conf" "" "
overload: { max_in_flight = 2; retry_after = 3;
  queue_delay_low = 1500; queue_delay_high = 2000; };
metrics: { enabled = true; port = $M_PORT; };"
start_proxy "$WORK/px2.conf" proxy2
ok $? "proxy with max_in_flight = 2 starts"
python3 "$OVL" cap "$PX_PORT" $((BASE + 30)) $((BASE + 31)) > "$WORK/out" 2>&1
sed 's/^/# /' "$WORK/out"
is ring-A_ringing 180 "call A rings"
is ring-B_ringing 180 "call B rings: two in flight"
is c_final 503 "a third INVITE gets 503"
is c_retry_after 3 "with its Retry-After"
is callee_new 0 "it never reached the callee"
is bye_in_dialog 200 "an in-dialog BYE still passes"
is callee_bye 1 "and reached the callee"
is a_cancel 200 "a CANCEL still passes"
is a_final 487 "call A ends 487"
is d_first 180 "with one call in flight a new INVITE is admitted"
is ring-B_final 486 "call B ends"
is ring-D_final 486 "call D ends"
scrape
expect 'e2mproxy_overload_shed_total{reason="in_flight"}' 1
expect 'e2mproxy_overload_shed_total{reason="queue_delay"}' 0
grep -q "overload: shedding new requests with 503 (in_flight" "$WORK/proxy2.log"
ok $? "the log names the in-flight bound"
t_done
