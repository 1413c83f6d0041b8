#!/bin/bash
# overload.sh - goodput under overload, e2mproxyd against Kamailio 5.6
# (../shared/docs/benchmark.md sections 3b and 4: at 2x the max clean rate
# goodput stays >= 0.9x that rate, and the proxy is clean again soon after).
#
# R is the max clean rate (-R; without it, found first: the highest of
# -f "RATES" at which e2mproxyd completes every call of a 10 s run). Then
# for each factor (-x "1.5 2"), e2mproxyd and Kamailio take turns (A B A B),
# RUNS runs each, every run against a freshly started proxy and SIPp UAS:
#   overload  SIPp offers factor*R calls/s for SECS seconds (benchmark.md
#             section 1's scenario: INVITE, 180, 5 ms, 200, ACK, BYE, 200,
#             record-routed); goodput = successful calls / SECS;
#   recovery  5 s after the overload UAC has ended, a second UAC offers R/2
#             for 10 s: "clean after" when every one of its calls completes.
# Per run: successful and failed calls of the overload (SIPp -stf CSV:
# columns 16, 18; 58 retransmissions), goodput and goodput / R, the
# proxy's CPU share, the 503s it answered (e2mproxyd: its
# e2mproxy_overload_shed_total), and the recovery UAC's completed/failed.
# The table shows medians over the runs [range].
#
# usage: bench/overload.sh [-R RATE | -f "RATES"] [-x "FACTORS"] [-n RUNS]
#                          [-s SECS] [-p "PROXIES"] [BUILD_DIR]
# Defaults: -f "1500 2000 2500 3000 3500" -x "1.5 2" -n 1 -s 30
# -p "e2mproxyd kamailio": about 5 minutes with -R (e2mproxyd-off: the
# proxy with overload control turned off). BUILD_DIR: where
# e2mproxyd was built (default _build/). Needs kamailio, sipp, curl.
# Uses ports BENCH_PORT (default 22935) to BENCH_PORT+13 on 127.0.0.1
# only; kills only what it started. BENCH_KEEP=1 keeps the work directory.
# BENCH_PIN=1 pins the proxy to CPU 0 and the SIPps to CPU 1. A
# benchmark: it prints figures and fails only when something does not
# start, never for a missed target.
set -u
R='' FIND="1500 2000 2500 3000 3500" FACTORS="1.5 2" RUNS=1 SECS=30
PROXIES="e2mproxyd kamailio"
while getopts R:f:x:n:s:p: o; do
	case $o in
	R) R=$OPTARG ;;
	f) FIND=$OPTARG ;;
	x) FACTORS=$OPTARG ;;
	n) RUNS=$OPTARG ;;
	s) SECS=$OPTARG ;;
	p) PROXIES=$OPTARG ;;
	*) sed -n 's/^# usage: /usage: /p; s/^#   *\[-s/  [-s/p' "$0" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/bench/lib.sh"
bench_build "${1:-}" || exit 1
bench_need_proxy
bench_need kamailio sipp ss curl
BASE=${BENCH_PORT:-22935}
PX=$BASE UAC=$((BASE + 1)) PROBE=$((BASE + 2)) UAS=$((BASE + 3)) MET=$((BASE + 4))
MPS=$((BASE + 5)) MPC=$((BASE + 8)) MPP=$((BASE + 11))
bench_workdir e2m-overload
HZ=$(getconf CLK_TCK)
bench_pin

# --- configurations: e2mproxyd's defaults (overload control on) ------------
cat > "$WORK/px.conf" <<CONF
log: { level = "notice"; };
sip: { listen = ( { transport = "udp"; address = "127.0.0.1"; port = $PX; } ); };
metrics: { enabled = true; port = $MET; };
CONF
# e2mproxyd-off: the same with overload control turned off, for comparison
sed 's/^metrics:/overload: { enabled = false; };\nmetrics:/' "$WORK/px.conf" > "$WORK/px-off.conf"
"$PROXY" -c -f "$WORK/px.conf" > /dev/null 2>&1 ||
	{ echo "e2mproxyd -c refuses its configuration"; "$PROXY" -c -f "$WORK/px.conf"; exit 1; }
kam_cfg stateful "$PX" "$WORK/kam.cfg"
kam_check "$WORK/kam.cfg"

# --- measuring ---------------------------------------------------------------
shed() { # e2mproxyd's 503s so far (- for Kamailio)
	curl -sf "http://127.0.0.1:$MET/metrics" 2>/dev/null |
		awk '/^e2mproxy_overload_shed_total/ { s += $2; f = 1 } END { if (f) print s; else print "-" }'
}

# start_proxy NAME DIR: start it on $PX; sets PROXY_PID
start_proxy() {
	case $1 in
	e2mproxyd|e2mproxyd-off)
		local conf=px.conf
		[ "$1" = e2mproxyd-off ] && conf=px-off.conf
		$PIN_PX "$PROXY" -D -f "$WORK/$conf" > "$2/proxy.log" 2>&1 &
		PROXY_PID=$!
		bench_track "$PROXY_PID" ;;
	kamailio)
		kam_start "$WORK/kam.cfg" "$2" ;;
	esac
	wait_port udp "$PX" && return 0
	echo "$1 did not start on udp:$PX:"; tail "$2/proxy.log"
	return 1
}

# uac DIR NAME PORT MPORT RATE SECS: a SIPp UAC through the proxy, waited for
uac() {
	local n
	n=$(awk -v r="$5" -v s="$6" 'BEGIN { printf "%d", r * s }')
	(cd "$1" && exec timeout -k 5 $(($6 + 60)) $PIN_GEN sipp -sf "$TOP/bench/sipp/uac_rr.xml" -key tp "" \
		-s bench 127.0.0.1:"$UAS" -rsa 127.0.0.1:"$PX" -i 127.0.0.1 -p "$3" \
		-mp "$4" -t u1 -r "$5" -m "$n" -l 30000 -buff_size 4194304 -nostdin \
		-timeout $(($6 + 40)) -trace_stat -stf "$2.csv" -fd 1 > "$2.out" 2>&1)
}

# run NAME RATE: one overload run and its recovery probe; appends
# "ok failed retrans goodput cpu% shed probe_ok probe_failed" to
# $WORK/NAME-RATE.res
run() {
	local name=$1 rate=$2 dir="$WORK/run.$1.$2.$RANDOM" t0 t1 s0 s1 pids half
	mkdir -p "$dir"
	start_proxy "$name" "$dir" || exit 1
	sleep 0.5 # Kamailio forks its children after the listener is bound
	pids=$(tree "$PROXY_PID")
	rr_uas "$dir" "$UAS" "$MPS" u1 ""
	# shellcheck disable=SC2086
	t0=$(ticks $pids)
	s0=$(date +%s.%N)
	uac "$dir" load "$UAC" "$MPC" "$rate" "$SECS"
	# shellcheck disable=SC2086
	t1=$(ticks $pids)
	s1=$(date +%s.%N)
	sleep 5
	half=$(awk -v r="$R" 'BEGIN { printf "%d", r / 2 }')
	uac "$dir" probe "$PROBE" "$MPP" "$half" 10
	local sh
	sh=$(shed)
	bench_stop
	local ok failed re pok pfail
	ok=$(csvcol "$dir/load.csv" 16) failed=$(csvcol "$dir/load.csv" 18)
	re=$(csvcol "$dir/load.csv" 58)
	pok=$(csvcol "$dir/probe.csv" 16) pfail=$(csvcol "$dir/probe.csv" 18)
	echo "${ok:-0} ${failed:-0} ${re:-0}" \
		"$(awk -v n="${ok:-0}" -v s="$SECS" 'BEGIN { printf "%.0f", n / s }')" \
		"$(awk -v a="$t0" -v b="$t1" -v s0="$s0" -v s1="$s1" -v hz="$HZ" \
			'BEGIN { printf "%.0f", (b - a) * 100 / hz / (s1 - s0) }')" \
		"$sh ${pok:-0} ${pfail:-0}" >> "$WORK/$name-$rate.res"
	echo "# $name $rate/s: $(tail -n 1 "$WORK/$name-$rate.res")" >&2
	[ -n "${BENCH_KEEP:-}" ] || rm -rf "$dir"
}

# clean NAME RATE: one 10 s run of the proxy at RATE; 0 when every call
# completed
clean() {
	local dir="$WORK/find.$1.$2" ok failed
	mkdir -p "$dir"
	start_proxy "$1" "$dir" || exit 1
	sleep 0.5
	rr_uas "$dir" "$UAS" "$MPS" u1 ""
	uac "$dir" find "$UAC" "$MPC" "$2" 10
	bench_stop
	ok=$(csvcol "$dir/find.csv" 16) failed=$(csvcol "$dir/find.csv" 18)
	echo "# e2mproxyd at $2/s for 10 s: ${ok:-0} completed, ${failed:-0} failed" >&2
	[ -n "${BENCH_KEEP:-}" ] || rm -rf "$dir"
	[ "${ok:-0}" -eq $(($2 * 10)) ] && [ "${failed:-1}" -eq 0 ]
}

echo "# overload.sh: $(now_utc), $(nproc) CPUs, load average at start $(loadavg)"
echo "# e2mproxyd $PROXY; $(kamailio -v 2>/dev/null | head -n 1); SIPp $(sipp_version)"
if [ -z "$R" ]; then
	for r in $FIND; do
		clean e2mproxyd "$r" || break
		R=$r
	done
	[ -n "$R" ] || { echo "e2mproxyd is not clean even at ${FIND%% *}/s"; exit 0; }
	echo "# max clean rate found: $R/s (one 10 s run each of $FIND)"
fi
for x in $FACTORS; do
	rate=$(awk -v r="$R" -v x="$x" 'BEGIN { printf "%d", r * x }')
	for _ in $(seq 1 "$RUNS"); do
		for p in $PROXIES; do run "$p" "$rate"; done
	done
done
echo "# load average at end $(loadavg)"
echo
echo "R = $R calls/s; $SECS s at each offered rate; medians over $RUNS run(s) [range];"
echo "goodput = successful calls / $SECS s; after = recovery UAC at R/2, 5 s after the overload: completed/failed"
echo
printf '| proxy | offered | successful | failed | retrans | goodput/s | goodput ÷ R | CPU %% | 503 shed | after |\n'
printf '|---|---|---|---|---|---|---|---|---|---|\n'
for x in $FACTORS; do
	rate=$(awk -v r="$R" -v x="$x" 'BEGIN { printf "%d", r * x }')
	for p in $PROXIES; do
		f=$WORK/$p-$rate.res
		[ -s "$f" ] || continue
		g=$(med "$f" 4)
		printf '| %s | %s/s (%sR) | %s [%s] | %s | %s | %s [%s] | %s | %s | %s | %s/%s |\n' \
			"$p" "$rate" "$x" "$(med "$f" 1)" "$(range "$f" 1)" "$(med "$f" 2)" \
			"$(med "$f" 3)" "$g" "$(range "$f" 4)" \
			"$(awk -v g="$g" -v r="$R" 'BEGIN { printf "%.2f", g / r }')" \
			"$(med "$f" 5)" "$(med "$f" 6)" "$(med "$f" 7)" "$(med "$f" 8)"
	done
done
