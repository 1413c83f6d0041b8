#!/bin/bash
# stop_under_load.sh BUILD_DIR [RATE] - e2mproxyd under valgrind memcheck
# (or a sanitizer build, VALGRIND=no) stopped with SIGTERM while SIPp
# places record-routed calls through it at RATE calls/s (default 100) and
# a second UAS keeps INVITEs ringing (uas_cancel.xml): the stop must end
# what is in flight, exit 0 within its bound and leave no error and no
# definitely lost block. Ports 23080-23089 on 127.0.0.1; kills only what
# it started. Prints the valgrind summary lines and the stop's log lines.
set -u
B=$(cd "${1:?usage: stop_under_load.sh BUILD_DIR [RATE]}" && pwd) || exit 2
RATE=${2:-100}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
SCEN=$SRC/tests/integration/scenarios
W=$(mktemp -d "${TMPDIR:-/tmp}/e2m-stopload.XXXXXX")
PX=23080 UAS=23081 RING=23082 UAC=23083 UACR=23084
PIDS=
trap 'for p in $PIDS; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; [ -n "${KEEP:-}" ] && echo "kept $W" || rm -rf "$W"' EXIT
cat > "$W/px.conf" <<CONF
log: { level = "info"; };
sip: {
  listen = ( { transport = "udp"; address = "127.0.0.1"; port = $PX; },
             { transport = "tcp"; address = "127.0.0.1"; port = $PX; } );
};
CONF
VG=
[ "${VALGRIND:-yes}" = no ] || VG="valgrind --leak-check=full --show-leak-kinds=definite
	--errors-for-leak-kinds=definite --error-exitcode=98 --num-callers=40
	--suppressions=$SRC/tests/valgrind/e2m.supp --log-file=$W/vg.log"
# shellcheck disable=SC2086
$VG "$B/e2mproxyd" -D -f "$W/px.conf" > "$W/px.log" 2>&1 &
PXPID=$!
PIDS="$PIDS $PXPID"
for i in $(seq 1 300); do grep -q started "$W/px.log" && break; sleep 0.1; done
grep -q started "$W/px.log" || { cat "$W/px.log"; exit 1; }
sipp -sf "$SCEN/uas_call.xml" -i 127.0.0.1 -p $UAS -nostdin > /dev/null 2>&1 &
PIDS="$PIDS $!"
sipp -sf "$SCEN/uas_cancel.xml" -i 127.0.0.1 -p $RING -nostdin > /dev/null 2>&1 &
PIDS="$PIDS $!"
sleep 1
sipp -sf "$SCEN/uac_call.xml" 127.0.0.1:$UAS -rsa 127.0.0.1:$PX -i 127.0.0.1 -p $UAC \
	-s bob -r "$RATE" -nostdin -trace_stat -stf "$W/uac.csv" -fd 1 > /dev/null 2>&1 &
PIDS="$PIDS $!"
sipp -sf "$SCEN/uac_cancel.xml" 127.0.0.1:$RING -rsa 127.0.0.1:$PX -i 127.0.0.1 -p $UACR \
	-s bob -r 5 -nostdin > /dev/null 2>&1 &
PIDS="$PIDS $!"
sleep "${LOAD_SECS:-15}"
echo "before the stop: $(awk -F';' 'END { print "calls successful " $16 ", failed " $18 }' "$W/uac.csv")"
t0=$(date +%s%N)
kill -TERM $PXPID
wait $PXPID
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
echo "e2mproxyd exit status $rc, $ms ms after SIGTERM"
grep -E 'stop:' "$W/px.log"
if [ -n "$VG" ]; then
	grep -E 'ERROR SUMMARY|definitely lost|indirectly lost|still reachable' "$W/vg.log"
	grep -q 'ERROR SUMMARY: 0 errors' "$W/vg.log" && [ "$rc" -eq 0 ]
else
	[ "$rc" -eq 0 ]
fi
