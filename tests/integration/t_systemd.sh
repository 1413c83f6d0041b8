#!/bin/bash
# The daemon under systemd, as far as a machine without systemd as PID 1
# can show it: the shipped unit passes `systemd-analyze verify` and rates
# at most 2.0 in `systemd-analyze security` (offline); the notification
# protocol spoken to a socket of ours as systemd would listen on it (READY
# once it serves, WATCHDOG pings from the loop, STOPPING at the end); and
# lines for the journal when stderr is its stream (JOURNAL_STREAM).
. "$TOP_SRCDIR/tests/integration/lib.sh"
t_init systemd 21660
UNIT_IN="$E2M_BUILDDIR/systemd/e2mproxyd.service"

if command -v systemd-analyze > /dev/null; then
	# The unit as make built it, its programs pointed at this build so
	# that verify finds them; the man page it names where man looks.
	sed -e "s|^\(Exec[A-Za-z]*=\)[^ ]*/e2mproxyd|\1$E2MPROXYD|" \
		"$UNIT_IN" > "$WORK/e2mproxyd.service"
	mkdir -p "$WORK/man/man8" && cp "$TOP_SRCDIR/docs/e2mproxyd.8" "$WORK/man/man8/"
	MANPATH="$WORK/man" systemd-analyze verify "$WORK/e2mproxyd.service" > "$WORK/verify.out" 2>&1
	[ $? -eq 0 ] && [ ! -s "$WORK/verify.out" ]
	ok $? "systemd-analyze verify: the unit is clean"
	sed 's/^/#   /' "$WORK/verify.out"
	systemd-analyze security --offline=true "$WORK/e2mproxyd.service" > "$WORK/security.out" 2>&1
	score=$(sed -n 's/^.*Overall exposure level for e2mproxyd.service: \([0-9.]*\).*$/\1/p' "$WORK/security.out")
	[ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'
	ok $? "systemd-analyze security: exposure ${score:-?} (at most 2.0; stock Kamailio/OpenSIPS units: 9.2-9.6)"
	grep -q '^Type=notify$' "$WORK/e2mproxyd.service" && grep -q '^User=e2mproxy$' "$WORK/e2mproxyd.service" &&
		grep -q '^ExecStartPre=.* -c ' "$WORK/e2mproxyd.service" &&
		grep -q '^ExecReload=.* -c ' "$WORK/e2mproxyd.service" &&
		grep -q '^ExecReload=/bin/kill -HUP \$MAINPID$' "$WORK/e2mproxyd.service"
	ok $? "the unit: Type=notify, its own user, the configuration checked before each start and reload, reload by SIGHUP"
else
	echo "# WARNING: no systemd-analyze here: the unit is not checked" >&2
	ok 0 "unit checks skipped: no systemd-analyze on this machine"
fi

cat > "$WORK/px.conf" <<CONF
log: { level = "info"; };
sip: { listen = ( { transport = "udp"; address = "127.0.0.1"; port = $PX_PORT; } ); };
CONF

# A notification socket, as systemd's: every datagram a line.
python3 - "$WORK/notify" > "$WORK/notify.out" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(15)
sys.stdout.write('%.3f bound\n' % time.time()); sys.stdout.flush()
try:
    while True:
        m = s.recv(4096).decode('latin-1').replace('\n', ' ')
        sys.stdout.write('%.3f %s\n' % (time.time(), m)); sys.stdout.flush()
        if m.startswith('STOPPING=1'):
            break
except socket.timeout:
    pass
PY
NOTIFY=$!
PIDS="$PIDS $NOTIFY"
for i in $(seq 1 100); do grep -q bound "$WORK/notify.out" 2>/dev/null && break; sleep 0.05; done
NOTIFY_SOCKET="$WORK/notify" WATCHDOG_USEC=400000 "$E2MPROXYD" -D -f "$WORK/px.conf" > "$WORK/px.log" 2>&1 &
PX_PID=$!
PIDS="$PIDS $PX_PID"
for i in $(seq 1 100); do grep -q 'READY=1' "$WORK/notify.out" && break; sleep 0.05; done
grep -q 'READY=1 STATUS=serving' "$WORK/notify.out" && grep -q 'started' "$WORK/px.log"
ok $? "READY=1 once it serves"
for i in $(seq 1 100); do [ "$(grep -c 'WATCHDOG=1' "$WORK/notify.out")" -ge 3 ] && break; sleep 0.05; done
[ "$(grep -c 'WATCHDOG=1' "$WORK/notify.out")" -ge 3 ] && grep -q 'systemd watchdog: a ping every 200 ms' "$WORK/px.log"
ok $? "WatchdogSec 0.4 s: pings from the event loop every 0.2 s ($(grep -c 'WATCHDOG=1' "$WORK/notify.out") so far)"
kill -HUP "$PX_PID"
# RELOADING=1 first, READY=1 after it, both after the start's READY
# (polled: the listener writes them down when it gets to them).
reload_notified() {
	awk '/RELOADING=1/ { r = NR } /READY=1/ { if (r) a = NR; else s = NR }
		END { exit !(s && r > s && a > r) }' "$WORK/notify.out"
}
wait_for 10 reload_notified
ok $? "SIGHUP: RELOADING=1, then READY=1 once the reload is applied"
kill "$PX_PID"
wait_pid "$PX_PID" 5
wait "$NOTIFY"
grep -q 'STOPPING=1' "$WORK/notify.out"
ok $? "STOPPING=1 at SIGTERM, exit 0"
grep -q '^[0-9.]* ' "$WORK/notify.out" || sed 's/^/#   /' "$WORK/notify.out" "$WORK/px.log"

# stderr as the journal's stream: "<N>" priorities, no stamps of ours.
: > "$WORK/journal.log"
JOURNAL_STREAM=$(stat -c '%d:%i' "$WORK/journal.log") "$E2MPROXYD" -D -f "$WORK/px.conf" 2>> "$WORK/journal.log" &
PX_PID=$!
PIDS="$PIDS $PX_PID"
for i in $(seq 1 100); do grep -q 'started' "$WORK/journal.log" && break; sleep 0.05; done
kill "$PX_PID"
wait_pid "$PX_PID" 5
grep -q '^<6>listening on sip:127.0.0.1:'"$PX_PORT"';transport=udp$' "$WORK/journal.log" &&
	grep -q '^<5>e2mproxyd .* started$' "$WORK/journal.log" &&
	[ "$(grep -vc '^<[0-7]>' "$WORK/journal.log")" -eq 0 ]
ok $? "JOURNAL_STREAM: every line starts with its priority for the journal"
grep -q '^<5>' "$WORK/journal.log" || sed 's/^/#   /' "$WORK/journal.log"
t_done
