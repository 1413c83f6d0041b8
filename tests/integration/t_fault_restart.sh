#!/bin/bash
# Faults: kill -9 of the detached daemon under load (calls at 50 a second
# over UDP, MESSAGEs archived over TCP), then a restart with the same
# configuration: it starts (the stale pid file, the ports of the killed
# process), the pid file names the new process, every MESSAGE acknowledged
# with 200 before the kill is in the archive, the archive reads on (at
# most the line the kill cut short is unreadable, and it ends in a
# newline), and calls and MESSAGEs complete after the restart.
. "$TOP_SRCDIR/tests/integration/lib.sh"
. "$TOP_SRCDIR/tests/integration/pki.sh"
t_init fault_restart 22980
# Ten ports of this range only.
UAS_PORT=$((BASE + 5))
UAC_PORT=$((BASE + 6))
MSG_UAS=$((BASE + 7))
FLOOD="$TOP_SRCDIR/tests/integration/flood.py"
K=$WORK
pki_ca "$K" && PKI_EKU=serverAuth,clientAuth,emailProtection pki_cert "$K" proxy "DNS:proxy.test" proxy.test
ok $? "test PKI made with openssl"
ARCHIVE=$WORK/im.jsonl
PIDFILE=$WORK/e2mproxyd.pid
cat > "$WORK/px.conf" <<CONF
log: { level = "info"; target = "syslog"; };
sip: {
  listen = ( { transport = "udp"; address = "127.0.0.1"; port = $PX_PORT; },
             { transport = "tcp"; address = "127.0.0.1"; port = $PX_PORT; } );
  own_names = [ "proxy.test" ];
};
inspect: { keys = ( { certificate = "$K/proxy.pem"; key = "$K/proxy.key"; } ); };
policy: { rules = ( { methods = [ "MESSAGE" ]; required_types = [ "text/plain" ]; } ); };
challenge: { signing_certificate = "$K/proxy.pem"; signing_key = "$K/proxy.key"; rate = 0; };
archive: { enabled = true; path = "$ARCHIVE"; };
daemon: { pid_file = "$PIDFILE"; };
CONF

# start_daemon: detach one; its pid in DPID (and PIDS). The parent exits
# once the daemon has bound its ports (t_daemon.sh), so the pid file and
# the listener are there within a bound; then it must answer.
start_daemon() {
	local i old=${DPID:-}
	"$E2MPROXYD" -f "$WORK/px.conf" > "$WORK/start.out" 2>&1 || return 1
	for i in $(seq 1 200); do
		DPID=$(cat "$PIDFILE" 2>/dev/null)
		[ -n "$DPID" ] && [ "$DPID" != "$old" ] && kill -0 "$DPID" 2>/dev/null && break
		sleep 0.05
	done
	PIDS="$PIDS $DPID"
	[ -n "$DPID" ] && [ "$DPID" != "$old" ] && wait_listen udp "$PX_PORT" &&
		{ proxy_answers || proxy_answers || proxy_answers; }
}
start_daemon
ok $? "the daemon detaches and answers; its pid file names it ($DPID)"

sipp_bg uas -sf "$SCEN/uas_call.xml" -i 127.0.0.1 -p "$UAS_PORT"
# (DIR "-": it stores nothing)
python3 "$TOP_SRCDIR/tests/integration/uas.py" tcp "$MSG_UAS" - 1000000 120 &
PIDS="$PIDS $!"
wait_listen tcp "$MSG_UAS" && wait_listen udp "$UAS_PORT"
ok $? "the UAS (SIPp, calls) and the MESSAGE UAS listen"

{
	printf 'MESSAGE sip:bob@127.0.0.1:%s;transport=tcp SIP/2.0\r\n' "$MSG_UAS"
	printf 'Via: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK-@T@-@N@\r\n'
	printf 'From: <sip:alice@example.com>;tag=a\r\nTo: <sip:bob@example.com>\r\n'
	printf 'Call-ID: @T@-@N@@test\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\n'
	printf 'Content-Type: text/plain\r\nContent-Length: 12\r\n\r\nload message'
} > "$WORK/msg.sip"
sed 's/@T@/before/g' "$WORK/msg.sip" > "$WORK/before.sip"
sed 's/@T@/after/g' "$WORK/msg.sip" > "$WORK/after.sip"

# (Under AddressSanitizer, 20 calls/s: see t_fault_uas.sh.)
RATE=50 CALLS=600
ldd "$E2MPROXYD" 2>/dev/null | grep -q libasan && RATE=20 CALLS=400
"$SIPP" -sf "$SCEN/uac_call_any.xml" 127.0.0.1:"$UAS_PORT" -rsa 127.0.0.1:"$PX_PORT" \
	-i 127.0.0.1 -p "$UAC_PORT" -m "$CALLS" -r "$RATE" -l 300 -s service \
	-nostdin -trace_err -error_file "$WORK/uac.err.log" \
	-trace_logs -log_file "$WORK/uac.calls.log" > "$WORK/uac.out.log" 2>&1 &
UAC=$!
PIDS="$PIDS $UAC"
FLOOD_OK_IDS=$WORK/acked_before.txt python3 "$FLOOD" "$PX_PORT" "$WORK/before.sip" 100000 60 16 \
	> "$WORK/flood_before.out" 2>&1 &
FLOOD_PID=$!
PIDS="$PIDS $FLOOD_PID"
for i in $(seq 1 400); do
	[ "$(grep -c '^final BYE 200' "$WORK/uac.calls.log" 2>/dev/null)" -ge 100 ] &&
		[ "$(wc -l < "$WORK/acked_before.txt" 2>/dev/null || echo 0)" -ge 300 ] && break
	sleep 0.05
done
calls_before=$(grep -c '^final BYE 200' "$WORK/uac.calls.log")
acked=$(wc -l < "$WORK/acked_before.txt")
kill -9 "$DPID"
for i in $(seq 1 100); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.05; done
! kill -0 "$DPID" 2>/dev/null && [ "$calls_before" -ge 100 ] && [ "$acked" -ge 300 ]
ok $? "kill -9 under load ($calls_before calls and $acked MESSAGEs done)"
wait "$FLOOD_PID" 2>/dev/null
acked=$(wc -l < "$WORK/acked_before.txt")

OLD=$DPID
start_daemon
ok $? "it starts again at once: stale pid file, same ports (new pid $DPID, was $OLD)"
[ "$(cat "$PIDFILE")" = "$DPID" ] && [ "$DPID" != "$OLD" ]
ok $? "  the pid file names the new process"
FLOOD_OK_IDS=$WORK/acked_after.txt python3 "$FLOOD" "$PX_PORT" "$WORK/after.sip" 300 30 16 \
	> "$WORK/flood_after.out" 2>&1
[ "$(cat "$WORK/flood_after.out")" = "$(printf '200 300\nretry-after 0')" ]
ok $? "  300 MESSAGEs after the restart: all 200 ($(tr '\n' ' ' < "$WORK/flood_after.out"))"
wait_pid "$UAC" 40
n=$(grep -c '^final INVITE' "$WORK/uac.calls.log")
m=$(grep '^final INVITE' "$WORK/uac.calls.log" | tail -n 200 | grep -vc '^final INVITE 200 ')
[ "$n" -ge $((CALLS * 9 / 10)) ] && [ "$m" -eq 0 ]
ok $? "  calls complete after the restart: the last 200 INVITEs all 200 ($m not; $n of $CALLS had a final response)"
echo "# calls: $(grep -o '^final [A-Z]* [0-9]*' "$WORK/uac.calls.log" | sort | uniq -c | tr -s ' \n' ' ')"

python3 - "$ARCHIVE" "$WORK/acked_before.txt" "$WORK/acked_after.txt" <<'PY'
import json, sys
have, bad, lines = set(), [], open(sys.argv[1], 'rb').read().split(b'\n')
tail = lines.pop()
for i, l in enumerate(lines):
    try:
        r = json.loads(l)
    except ValueError:
        bad.append(i)
        continue
    if r.get('kind') == 'message':
        have.add(r['call_id'])
before = [l.strip() for l in open(sys.argv[2]) if l.strip()]
after = [l.strip() for l in open(sys.argv[3]) if l.strip()]
lost = [c for c in before + after if c not in have]
print('# archive: %d lines, %d unreadable %s, %d acknowledged before the kill, '
      '%d after the restart, %d of them lost, %d bytes after the last newline'
      % (len(lines), len(bad), bad, len(before), len(after), len(lost), len(tail)))
sys.exit(0 if not lost and len(bad) <= 1 and tail == b'' and before and len(after) == 300 else 1)
PY
ok $? "every MESSAGE acknowledged with 200, before the kill and after the restart, is in the archive; at most the one cut line unreadable"
kill -TERM "$DPID"
for i in $(seq 1 100); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.05; done
! kill -0 "$DPID" 2>/dev/null && [ ! -e "$PIDFILE" ]
ok $? "it stops on SIGTERM and removes its pid file"
t_done
