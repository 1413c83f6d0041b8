#!/bin/bash
# Limits on TCP connections. (1) Out of file descriptors (a connection flood, or more phones than
# LimitNOFILE): a listener whose accept() fails for want of a descriptor
# stays readable, and Sofia only reported the error, so the loop woke for
# it again at once, for ever: a core spent, everything else late. Now the
# proxy closes what waits at once (a descriptor held in reserve,
# fdreserve.h), counts it, goes on serving UDP, and takes connections
# again once descriptors are free. (2) sip.max_connections_per_source:
# one address cannot hold more at once; others are not affected.
. "$TOP_SRCDIR/tests/integration/lib.sh"
t_init conn_limits 24160
M_PORT=$((BASE + 3))
URL=http://127.0.0.1:$M_PORT
write_conf "$WORK/px.conf" "" "metrics: { enabled = true; port = $M_PORT; };"
start_proxy "$WORK/px.conf" proxy
ok $? "proxy starts"
wait_listen tcp "$M_PORT"

# The limit: what it holds now and 20 more.
used=$(ls "/proc/$PX_PID/fd" | wc -l)
limit=$((used + 20))
prlimit --pid "$PX_PID" --nofile=$limit:$limit
ok $? "the proxy's descriptor limit set to $limit ($used in use)"

ticks() { awk '{ print $14 + $15 }' "/proc/$PX_PID/stat"; }
python3 "$TOP_SRCDIR/tests/integration/fdflood.py" "$PX_PORT" 100 3 > "$WORK/out" &
FLOOD=$!
# Measure while the connections wait (the flood holds them 3 s after
# the last is made).
wait_for 10 grep -q '^connected' "$WORK/out"
t0=$(ticks)
proxy_answers
udp_ok=$?
sleep 1
t1=$(ticks)
wait "$FLOOD"
ok_eq "$udp_ok" 0 "OPTIONS over UDP answered 200 while descriptors ran out"
hz=$(getconf CLK_TCK)
[ $((t1 - t0)) -lt $((hz / 2)) ]
ok $? "the loop does not spin: $((t1 - t0)) ticks of CPU in about a second (a spin is $hz)"
closed=$(fact closed)
[ -n "$closed" ] && [ "$closed" -ge 60 ]
ok $? "the connections past the limit were closed at once ($closed of 100; $(fact open) kept)"
grep -q 'out of file descriptors: [0-9]* incoming connections closed' "$WORK/proxy.log"
ok $? "the log says so"

# Descriptors free again: connections are taken again.
prlimit --pid "$PX_PID" --nofile=4096:4096
tcp_req again OPTIONS a@example.com "" ""
sed -i "s/bob@127.0.0.1:$UAS_PORT;transport=tcp/127.0.0.1:$PX_PORT;transport=tcp/" "$WORK/again.sip"
st=$(tcp_status again)
ok_eq "$st" 200 "a TCP OPTIONS once descriptors are free: 200 (got ${st:-nothing})"
scrape
n=$(metric 'e2mproxy_stream_connections_closed_total{reason="no_descriptors"}')
[ -n "$n" ] && [ "$n" -gt 0 ] && [ "$n" -eq "$closed" ]
ok $? "counted: e2mproxy_stream_connections_closed_total{reason=\"no_descriptors\"} $n"
proxy_answers
ok $? "proxy still answers"

# (2) At most 10 connections from one address.
kill "$PX_PID"
wait "$PX_PID" 2>/dev/null
write_conf "$WORK/px2.conf" "max_connections_per_source = 10;" \
	"metrics: { enabled = true; port = $M_PORT; };"
start_proxy "$WORK/px2.conf" proxy2
ok $? "proxy starts with max_connections_per_source = 10"
wait_listen tcp "$M_PORT"
fds() { ls "/proc/$PX_PID/fd" | wc -l; }
base=$(fds)
FLOOD=$TOP_SRCDIR/tests/integration/fdflood.py
python3 "$FLOOD" "$PX_PORT" 30 3 127.0.0.1 > "$WORK/out" &
A=$!
wait_for 10 grep -q '^connected' "$WORK/out"
python3 "$FLOOD" "$PX_PORT" 5 1 127.0.0.2 > "$WORK/b.out"
wait "$A"
# The proxy closes its side when it reads the end of each: then (and
# not before) 127.0.0.1 is under its limit again.
fds_back() { [ "$(fds)" -le "$base" ]; }
wait_for 10 fds_back
is open 10 "30 connections from 127.0.0.1: 10 kept"
is closed 20 "and 20 closed as they came"
b=$(awk '$1 == "open" { print $2 }' "$WORK/b.out")
ok_eq "$b" 5 "meanwhile 5 from 127.0.0.2 all kept (open: ${b:-nothing})"
# Those 10 are closed now: 127.0.0.1 may connect again.
st=$(tcp_status again)
ok_eq "$st" 200 "then a TCP OPTIONS from 127.0.0.1: 200 (got ${st:-nothing})"
scrape
expect 'e2mproxy_stream_connections_closed_total{reason="source_limit"}' 20
grep -q 'over sip.max_connections_per_source (10) closed as accepted: .* from 127.0.0.1' "$WORK/proxy2.log"
ok $? "the log names the limit and the address"
t_done
