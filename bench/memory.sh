#!/bin/bash
# memory.sh - RSS of e2mproxyd under a steady call load.
#
# SIPp places record-routed calls (INVITE/180/200/ACK/BYE) through the proxy
# on 127.0.0.1 at RATE calls/s for SECS seconds; the proxy's RSS is sampled
# every 5 s, and the peak, the final figure and SIPp's call counts are
# printed. Bounded in time; loopback only.
#
# usage: bench/memory.sh [-r RATE] [-s SECS] [-t u1|t1] [-b BUILD_DIR]
#                        [-c EXTRA_SIP_CONF]
# -t t1 runs both call legs over TCP (SIPp's single-socket TCP mode).
# BENCH_PIN=1 pins the proxy to CPU 0 and both SIPps to CPU 1 (taskset), so
# that on a two-CPU machine the generator does not take the proxy's CPU.
# BENCH_RAMP=1 starts SIPp at RATE/4 and adds RATE/4 each second, instead
# of the full rate at once (the first seconds are when a backlog starts).
set -u
RATE=2000 SECS=60 BUILD= EXTRA= TP=u1
while getopts r:s:b:c:t: o; do
	case $o in
	t) TP=$OPTARG ;;
	r) RATE=$OPTARG ;;
	s) SECS=$OPTARG ;;
	b) BUILD=$OPTARG ;;
	c) EXTRA=$OPTARG ;;
	*) echo "usage: $0 [-r RATE] [-s SECS] [-t u1|t1] [-b BUILD_DIR] [-c SIP_CONF]" >&2; exit 2 ;;
	esac
done
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/bench/lib.sh"
bench_build "$BUILD" || exit 1
bench_need_proxy
SCEN=$TOP/tests/integration/scenarios
bench_workdir e2m-bench
PX=25060 UAS=25080 UAC=25070
LTP=udp
[ "$TP" = t1 ] && LTP=tcp

cat > "$WORK/px.conf" <<CONF
log: { level = "warning"; };
sip: {
  listen = ( { transport = "udp"; address = "127.0.0.1"; port = $PX; },
             { transport = "tcp"; address = "127.0.0.1"; port = $PX; } );
  $EXTRA
};
CONF
bench_pin
$PIN_PX "$PROXY" -D -f "$WORK/px.conf" > "$WORK/proxy.log" 2>&1 &
PXPID=$!
bench_track $PXPID
wait_port "$LTP" $PX $PXPID || { echo "the proxy did not start" >&2; cat "$WORK/proxy.log" >&2; exit 1; }
$PIN_GEN sipp -sf "$SCEN/uas_call.xml" -i 127.0.0.1 -p $UAS -t "$TP" -nostdin -buff_size 4194304 \
	> "$WORK/uas.out" 2>&1 &
UASPID=$!
bench_track $UASPID
wait_port "$LTP" $UAS $UASPID || { echo "the SIPp UAS did not start" >&2; cat "$WORK/uas.out" >&2; exit 1; }
START=$RATE RAMP=
if [ -n "${BENCH_RAMP:-}" ]; then
	START=$((RATE / 4))
	RAMP="-rate_increase $((RATE / 4)) -rate_interval 1 -rate_max $RATE -no_rate_quit"
fi
echo "transport $TP, rate ${RATE}/s for ${SECS}s; proxy pid $PXPID; RSS at start $(rss $PXPID) KiB"
timeout $((SECS + 60)) $PIN_GEN sipp -sf "$SCEN/uac_call.xml" 127.0.0.1:$UAS -rsa 127.0.0.1:$PX \
	-i 127.0.0.1 -p $UAC -t "$TP" -s bench -r "$START" $RAMP -m $((RATE * SECS)) -l 30000 \
	-buff_size 4194304 -nostdin -trace_stat -stf "$WORK/uac.csv" -fd 5 \
	> "$WORK/uac.out" 2>&1 &
UACPID=$!
peak=0 t=0
while kill -0 $UACPID 2>/dev/null; do
	sleep 5
	t=$((t + 5))
	r=$(rss $PXPID)
	[ "$r" -gt "$peak" ] && peak=$r
	echo "t=${t}s RSS ${r} KiB"
done
wait $UACPID
ok=$(csvcol "$WORK/uac.csv" 16)
failed=$(csvcol "$WORK/uac.csv" 18)
cpu=$(ticks $PXPID)
echo "calls: successful $ok, failed $failed"
echo "proxy CPU: $cpu ticks ($(getconf CLK_TCK)/s)"
ms=$(ms_per 0 "$cpu" $((ok + failed)))
[ "$ms" = - ] || echo "proxy CPU per call: $ms ms"
echo "RSS: peak ${peak} KiB ($((peak / 1024)) MiB), after the run $(rss $PXPID) KiB"
if [ -n "${BENCH_SETTLE:-}" ]; then
	sleep 35
	echo "RSS 35 s after the load stopped: $(rss $PXPID) KiB"
fi
