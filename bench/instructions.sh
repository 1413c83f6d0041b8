#!/bin/bash
# instructions.sh - the user-space instructions e2mproxyd executes per
# call, counted by valgrind's callgrind, for one build or two side by side.
#
# CPU ms per call (vs_kamailio.sh) moves +-5 % from run to run on this
# machine, so a change that saves a few percent of the proxy's own work
# cannot be seen there. An instruction count can: callgrind counts the
# same total for the same binary and the same calls whatever else the
# machine does (within 0.2 % here). It counts no kernel time (most of a
# call's cost, docs/performance.md) and no cache or branch effects, so it
# is the figure for changes to the proxy's own code, not a speed.
#
# Per build: e2mproxyd (the default configuration plus one UDP listener)
# under callgrind, a SIPp UAS, 20 warm-up calls, then the counters are
# zeroed and CALLS record-routed calls (benchmark.md section 1: INVITE,
# 100, 180, 200, ACK, BYE, 200; bench/sipp/uac_rr.xml and uas_rr.xml) at
# RATE calls/s; the count at the end divided by the calls completed.
# Builds alternate A B A B for ROUNDS rounds; the table shows the median
# per build and, with two, the ratio B / A.
#
# usage: bench/instructions.sh [-n CALLS] [-r RATE] [-R ROUNDS]
#                              [BUILD_A [BUILD_B]]
# Defaults: -n 300 -r 30 -R 1, BUILD_A the usual build directory
# (_build/); about a minute per round and build. Needs valgrind and SIPp.
# Ports 26300-26330 on 127.0.0.1. BENCH_KEEP=1 keeps the work directory
# (the callgrind files: callgrind_annotate FILE shows where the
# instructions go). A benchmark: prints figures, fails only when
# something does not start or a call fails.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/bench/lib.sh"

CALLS=300 RATE=30 ROUNDS=1
while getopts n:r:R: o; do
	case $o in
	n) CALLS=$OPTARG ;;
	r) RATE=$OPTARG ;;
	R) ROUNDS=$OPTARG ;;
	*) sed -n '/^# usage/,/^# Defaults/p' "$0"; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
bench_need valgrind callgrind_control sipp
BUILDS=""
bench_build "${1:-}" || exit 1
BUILDS=$BUILD
if [ -n "${2:-}" ]; then
	bench_build "$2" || exit 1
	BUILDS="$BUILDS $BUILD"
fi
bench_workdir e2m-instructions
bench_pin
PX=26300 UAS=26310 UAC=26320

cat > "$WORK/px.conf" <<EOF
log: { level = "warning"; };
sip: { listen = ( { transport = "udp"; address = "127.0.0.1"; port = $PX; } ); };
EOF

# calls DIR N RATE: N SIPp calls through the proxy; prints "ok failed"
calls() {
	(cd "$1" && sipp -sf "$TOP/bench/sipp/uac_rr.xml" -key tp "" \
		-s bench 127.0.0.1:"$UAS" -rsa 127.0.0.1:"$PX" -i 127.0.0.1 \
		-p "$UAC" -mp $((UAC + 2)) -t u1 -r "$3" -m "$2" -l 3000 \
		-nostdin -timeout $(($2 / $3 + 60)) -trace_stat -stf stat.csv \
		> uac.out 2>&1)
	echo "$(csvcol "$1/stat.csv" 16) $(csvcol "$1/stat.csv" 18)"
	rm -f "$1/stat.csv"
}

# one BUILD_DIR TAG: one counted run; appends instructions per call to
# $WORK/TAG.res
one() {
	local dir="$WORK/run.$2.$RANDOM" vg res ir ok failed
	mkdir -p "$dir"
	(cd "$dir" && exec valgrind --tool=callgrind \
		--callgrind-out-file="$dir/callgrind.out" \
		"$1/e2mproxyd" -D -f "$WORK/px.conf" > proxy.log 2>&1) &
	vg=$!
	bench_track $vg
	# under valgrind the proxy takes seconds to start
	wait_port udp "$PX" $vg || { echo "e2mproxyd did not start:"; tail "$dir/proxy.log"; exit 1; }
	rr_uas "$dir" "$UAS" $((UAS + 2)) u1 ""
	calls "$dir" 20 10 > /dev/null # warm-up: first-call allocations
	callgrind_control -z $vg > /dev/null 2>&1
	res=$(calls "$dir" "$CALLS" "$RATE")
	callgrind_control -d $vg > /dev/null 2>&1
	bench_stop
	ok=${res% *} failed=${res#* }
	if [ "$ok" != "$CALLS" ] || [ "$failed" != 0 ]; then
		echo "$2: $ok calls completed, $failed failed of $CALLS: not counted"
		exit 1
	fi
	ir=$(sed -n 's/^summary: *//p' "$dir/callgrind.out.1" | head -n 1)
	echo $((ir / CALLS)) >> "$WORK/$2.res"
	echo "$2 round: $((ir / CALLS)) instructions per call" >&2
}

echo "# instructions.sh: $(now_utc), $CALLS calls at $RATE/s per run, $ROUNDS round(s)"
for _ in $(seq 1 "$ROUNDS"); do
	i=0
	for b in $BUILDS; do
		i=$((i + 1))
		one "$b" "build$i"
	done
done
echo
echo "| build | user-space instructions per call, median [range] |"
echo "|---|---|"
i=0
for b in $BUILDS; do
	i=$((i + 1))
	echo "| $b | $(med "$WORK/build$i.res" 1) [$(range "$WORK/build$i.res" 1)] |"
done
if [ "$i" -eq 2 ]; then
	a=$(med "$WORK/build1.res" 1) b=$(med "$WORK/build2.res" 1)
	echo
	echo "ratio second / first: $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b / a }')"
fi
