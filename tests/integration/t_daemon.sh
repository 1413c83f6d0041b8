#!/bin/bash
# The daemon as a program: options, start-up failures, background mode,
# signals, an idle daemon sleeping, and bodies logged only in trace mode.
. "$TOP_SRCDIR/tests/integration/lib.sh"
t_init daemon 21220

"$E2MPROXYD" -V | grep -q '^e2mproxyd [0-9]'
ok $? "-V prints the version"
"$E2MPROXYD" --version | grep -q '^e2mproxyd [0-9]'
ok $? "--version too"
"$E2MPROXYD" -x > /dev/null 2> "$WORK/x.err"
[ $? -eq 2 ] && grep -q '^usage: e2mproxyd' "$WORK/x.err"
ok $? "an unknown option exits 2 with usage on stderr"
for h in -h --help; do
	"$E2MPROXYD" $h > "$WORK/h.out" 2> "$WORK/h.err"
	[ $? -eq 0 ] && grep -q '^usage: e2mproxyd' "$WORK/h.out" && [ ! -s "$WORK/h.err" ]
	ok $? "$h prints usage on stdout and exits 0"
done
for p in "$E2MUA" "$E2MLOG"; do
	"$p" --help > "$WORK/h.out" 2>&1
	[ $? -eq 0 ] && grep -q "^usage: $(basename "$p")" "$WORK/h.out"
	ok $? "$(basename "$p") --help: usage, exit 0"
done

"$E2MPROXYD" -D -f "$WORK/missing.conf" > "$WORK/missing.out" 2>&1
[ $? -ne 0 ] && grep -q "^$WORK/missing.conf: cannot open: No such file or directory" \
	"$WORK/missing.out" && ! grep -q ':0:' "$WORK/missing.out"
ok $? "a missing config file: non-zero exit and the reason, no made-up line"
"$E2MPROXYD" -c -f "$WORK" > "$WORK/dir.out" 2>&1
[ $? -ne 0 ] && grep -q "^$WORK: cannot open: Is a directory" "$WORK/dir.out"
ok $? "a directory for a config file: the same"

printf 'sip: { max_forwards = 0; record_route = "yes"; };\nlgo: { };\n' > "$WORK/bad.conf"
"$E2MPROXYD" -D -f "$WORK/bad.conf" > "$WORK/bad.out" 2>&1
[ $? -ne 0 ] && [ "$(grep -c "^$WORK/bad.conf:[0-9]*: " "$WORK/bad.out")" -eq 3 ]
ok $? "an invalid config: non-zero exit and all three errors as file:line"

# What only the files' contents tell stops a start as it stops -c, with
# the same file:line messages: a decryption key of another certificate.
"$TOP_SRCDIR/scripts/e2m-pki.sh" "$WORK/pki" > /dev/null 2>&1
printf 'inspect: { keys = ( { certificate = "%s"; key = "%s"; } ); };\n' \
	"$WORK/pki/proxy.pem" "$WORK/pki/alice.key" > "$WORK/mismatch.conf"
"$E2MPROXYD" -c -f "$WORK/mismatch.conf" > "$WORK/mismatch_c.out" 2>&1
rc_c=$?
"$E2MPROXYD" -D -f "$WORK/mismatch.conf" > "$WORK/mismatch_start.out" 2>&1
rc_start=$?
[ "$rc_c" -eq 1 ] && [ "$rc_start" -ne 0 ] &&
	grep -q "^$WORK/mismatch.conf:1: inspect.keys\[0\]: private key does not match certificate" "$WORK/mismatch_c.out" &&
	grep -qF "$(cat "$WORK/mismatch_c.out")" "$WORK/mismatch_start.out"
ok $? "a key that is not its certificate's: -c and a start refuse it alike, at its line"

write_conf "$WORK/busy.conf"
start_proxy "$WORK/busy.conf" first
"$E2MPROXYD" -D -f "$WORK/busy.conf" > "$WORK/second.out" 2>&1
[ $? -ne 0 ] && grep -q 'cannot listen on sip:127.0.0.1:'"$PX_PORT" "$WORK/second.out"
ok $? "a port already in use: non-zero exit naming the listener"
"$E2MPROXYD" -f "$WORK/busy.conf" > "$WORK/second_bg.out" 2>&1
[ $? -ne 0 ]
ok $? "the same without -D: the daemon binds before it detaches, so the exit is non-zero"
kill "$PX_PID"; wait "$PX_PID" 2>/dev/null

# Idle: no polling timer, so no CPU while nothing happens.
start_proxy "$WORK/busy.conf" idle
proxy_answers
sleep 0.5
t0=$(awk '{ print $14 + $15 }' "/proc/$PX_PID/stat")
sleep 3
t1=$(awk '{ print $14 + $15 }' "/proc/$PX_PID/stat")
[ $((t1 - t0)) -le 1 ]
ok $? "idle for 3 s the daemon used $((t1 - t0)) clock ticks of CPU (<= 1)"
# The allocator -V names (configure --with-jemalloc) is the one the
# running daemon has mapped.
a=$("$E2MPROXYD" -V | sed -n 's/^allocator: //p')
if grep -q '/libjemalloc[.]so' "/proc/$PX_PID/maps"; then m=jemalloc; else m="the C library's malloc"; fi
[ -n "$a" ] && [ "$a" = "$m" ]
ok $? "-V names the allocator the daemon runs with ($a; mapped: $m)"
kill -HUP "$PX_PID"
sleep 0.2
for i in $(seq 1 100); do
	grep -q 'reload: .* applied (generation 2)' "$WORK/idle.log" && break
	sleep 0.05
done
kill -0 "$PX_PID" && grep -q 'reload: .* applied (generation 2)' "$WORK/idle.log"
ok $? "SIGHUP reloads the configuration and the daemon keeps running"
kill -TERM "$PX_PID"
wait_pid "$PX_PID" 5
ok $? "SIGTERM stops it with exit 0"

# Background mode: detaches, keeps serving, stops on SIGTERM.
sed -i 's/level = "debug"/level = "info"; target = "syslog"/' "$WORK/busy.conf"
"$E2MPROXYD" -f "$WORK/busy.conf"
ok $? "without -D it detaches and the parent exits 0"
sleep 0.3
BG=$(pgrep -f "e2mproxyd -f $WORK/busy.conf" | head -1)
PIDS="$PIDS $BG"
[ -n "$BG" ] && proxy_answers
ok $? "the detached daemon answers"
kill -TERM "$BG"
# (a bound for a loaded machine: under ASan the leak check runs at exit)
for i in $(seq 1 $((200 * WAIT_SCALE))); do kill -0 "$BG" 2>/dev/null || break; sleep 0.05; done
if kill -0 "$BG" 2>/dev/null; then r=1; else r=0; fi
ok $r "the detached daemon stops on SIGTERM"

# Bodies appear in the log only in SIP trace mode, even at debug level.
# body_logged SIPTRACE LOGNAME: 0 the body is in the log, 1 it is not,
# 2 the proxy did not start or never logged receiving the message (then
# "not logged" would prove nothing).
body_logged() {
	local i got=1
	write_conf "$WORK/$2.conf" "" "log: { sip_trace = $1; };"
	sed -i '1d' "$WORK/$2.conf" # drop the default log group
	sed -i 's/log: { sip_trace/log: { level = "debug"; sip_trace/' "$WORK/$2.conf"
	start_proxy "$WORK/$2.conf" "$2" || return 2
	printf 'MESSAGE sip:x@127.0.0.1:%s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%s;rport;branch=z9hG4bK-%s\r\nFrom: <sip:t@127.0.0.1>;tag=b\r\nTo: <sip:x@127.0.0.1>\r\nCall-ID: body-%s@test\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\nContent-Type: text/plain\r\nContent-Length: 17\r\n\r\nconfidential-text' \
		"$((BASE + 19))" "$UAC_PORT" "$2$RANDOM" "$2" > "$WORK/$2.sip"
	sip_raw udp "$PX_PORT" "$WORK/$2.sip" > /dev/null
	for i in $(seq 1 100); do
		grep -q "received MESSAGE .*call-id body-$2@test" "$WORK/$2.log" && got=0 && break
		sleep 0.05
	done
	kill "$PX_PID"; wait "$PX_PID" 2>/dev/null
	[ $got -eq 0 ] || return 2
	grep -q confidential-text "$WORK/$2.log"
}
body_logged false notrace
[ $? -eq 1 ]
ok $? "without sip_trace the body is not logged (debug level; the proxy logged receiving it)"
body_logged true trace
ok $? "with sip_trace the whole message, body included, is logged"
t_done
