#!/bin/bash
# sip.source_rate: datagrams from a source over its budget are dropped
# before they are parsed; another source is served meanwhile; an exempt
# network is never limited; the drops are logged. Over UDP on 127.0.0.1
# (127.0.0.2 plays the flooding address).
. "$TOP_SRCDIR/tests/integration/lib.sh"
t_init source_budget 21420
FLOOD="$TOP_SRCDIR/tests/integration/udpflood.py"
TO="sip:svc@127.0.0.1:$UAS_PORT"

conf() { # RATE BURST EXEMPT
	cat > "$WORK/px.conf" <<CONF
log: { level = "info"; };
sip: {
  listen = ( { transport = "udp"; address = "127.0.0.1"; port = $PX_PORT; } );
  source_rate = $1;
  source_burst = $2;
  source_exempt = [ $3 ];
};
# No overload control: what is measured here is the source budget alone; a
# proxy slow to read the flood (ASan on a loaded machine) may rightly shed
# with 503 past queue_delay_high (t_overload tests that).
overload: { enabled = false; };
CONF
}
start_uas udp "$WORK/uas" 100000 60
ok $? "the test UAS listens"

# 400 MESSAGEs at once from 127.0.0.2 against a budget of 5/s, burst 20.
# The UAS answers from 127.0.0.1: responses are never limited.
conf 5 20 '"10.0.0.0/8"'
start_proxy "$WORK/px.conf" proxy
ok $? "proxy starts with sip.source_rate = 5, burst 20"
# Answers are waited for 10 s: the dropped are never answered, and the
# answered ones may be slow to come on a loaded machine (ASan).
python3 "$FLOOD" 127.0.0.2 "$PX_PORT" "$TO" 400 10 > "$WORK/flood.out"
final=$(awk '/^sent/ { print $4 }' "$WORK/flood.out")
[ "${final:-0}" -ge 20 ] && [ "$final" -le 40 ]
ok $? "flooding source: its burst (and what refilled) answered, the rest dropped ($(tr '\n' ' ' < "$WORK/flood.out"))"
python3 "$FLOOD" 127.0.0.3 "$PX_PORT" "$TO" 10 30 > "$WORK/other.out"
grep -q '^200 10$' "$WORK/other.out"
ok $? "another source meanwhile: all 10 answered 200 ($(tr '\n' ' ' < "$WORK/other.out"))"
grep -q 'dropped [0-9]* datagrams over sip.source_rate so far (last from 127.0.0.2)' "$WORK/proxy.log"
ok $? "the drops are logged with the source"
dropped=$(grep -o 'dropped [0-9]*' "$WORK/proxy.log" | head -1 | awk '{ print $2 }')
[ "${dropped:-0}" -ge 1 ]
ok $? "  and counted ($dropped at the first report)"
proxy_answers
ok $? "proxy still answers"
kill "$PX_PID" 2>/dev/null; wait "$PX_PID" 2>/dev/null

# The same flood from an exempt network: everything is served.
conf 5 20 '"127.0.0.2/32"'
start_proxy "$WORK/px.conf" proxy2
ok $? "proxy restarts with 127.0.0.2 exempt"
python3 "$FLOOD" 127.0.0.2 "$PX_PORT" "$TO" 200 30 > "$WORK/exempt.out"
final=$(awk '/^sent/ { print $4 }' "$WORK/exempt.out")
[ "${final:-0}" -ge 190 ]
ok $? "exempt source: (nearly) all 200 answered ($(tr '\n' ' ' < "$WORK/exempt.out"))"
! grep -q 'over sip.source_rate' "$WORK/proxy2.log"
ok $? "  nothing dropped"
t_done
