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
if [ -n "${1:-}" ]; then
	BUILD=$(cd "$1" && pwd) || exit 1
else
	BUILD=$TOP/_build
fi
PROXY=$BUILD/e2mproxyd
[ -x "$PROXY" ] || { echo "no $PROXY; build first" >&2; exit 1; }
for c in kamailio sipp ss curl; do
	command -v $c > /dev/null || { echo "$c is not installed" >&2; exit 1; }
done
MPATH=/usr/lib/$(gcc -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)/kamailio/modules/
[ -d "$MPATH" ] || MPATH=$(dirname "$(find /usr/lib -name tm.so -path '*kamailio*' | head -n 1)")/
BASE=${BENCH_PORT:-22935}
PX=$BASE UAC=$((BASE + 1)) PROBE=$((BASE + 2)) UAS=$((BASE + 3)) MET=$((BASE + 4))
MPS=$((BASE + 5)) MPC=$((BASE + 8)) MPP=$((BASE + 11))
WORK=$(mktemp -d "${TMPDIR:-/tmp}/e2m-overload.XXXXXX")
HZ=$(getconf CLK_TCK)
PIN_PX='' PIN_GEN=''
[ -n "${BENCH_PIN:-}" ] && PIN_PX="taskset -c 0" PIN_GEN="taskset -c 1"
RUNPIDS=""
stop_run() {
	local p
	for p in $RUNPIDS; do kill "$p" 2>/dev/null; done
	for p in $RUNPIDS; do
		for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null
	done
	wait 2>/dev/null
	RUNPIDS=""
}
cleanup() {
	stop_run
	if [ -n "${BENCH_KEEP:-}" ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

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
sed -e "s|@PORT@|$PX|g" -e "s|@MPATH@|$MPATH|g" "$TOP/bench/kamailio/stateful.cfg" > "$WORK/kam.cfg"
kamailio -c -f "$WORK/kam.cfg" > "$WORK/kam-check.log" 2>&1 ||
	{ echo "kamailio -c refuses $WORK/kam.cfg:"; cat "$WORK/kam-check.log"; exit 1; }

# --- scenarios: benchmark.md section 1 (the UAS pauses 5 ms between 180 and
# 200 and echoes Record-Route; the UAC follows it with rrs) ------------------
cat > "$WORK/uac.xml" <<'XML'
<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="vs_kamailio UAC">
  <send retrans="500"><![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port][tp] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]t[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:sipp@[local_ip]:[local_port][tp]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 53655765 2353687637 IN IP4 [local_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000
  ]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rrs="true" rtd="1"/>
  <send><![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]t[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      [routes]
      Max-Forwards: 70
      Content-Length: 0

  ]]></send>
  <send retrans="500" start_rtd="2"><![CDATA[
      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]t[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      [routes]
      Max-Forwards: 70
      Content-Length: 0

  ]]></send>
  <recv response="200" rtd="2"/>
</scenario>
XML
cat > "$WORK/uas.xml" <<'XML'
<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="vs_kamailio UAS">
  <recv request="INVITE"/>
  <send><![CDATA[
      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]u[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      [last_Record-Route:]
      Contact: <sip:uas@[local_ip]:[local_port][tp]>
      Content-Length: 0

  ]]></send>
  <pause milliseconds="5"/>
  <send retrans="500"><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]u[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      [last_Record-Route:]
      Contact: <sip:uas@[local_ip]:[local_port][tp]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 53655765 2353687637 IN IP4 [local_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000
  ]]></send>
  <recv request="ACK"/>
  <recv request="BYE"/>
  <send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

  ]]></send>
</scenario>
XML

# --- measuring ---------------------------------------------------------------
tree() { # PID: it and its children (Kamailio's processes)
	local s
	echo "$1"
	for s in /proc/[0-9]*/stat; do
		awk -v p="$1" '$4 == p { print $1 }' "$s" 2>/dev/null
	done
}
ticks() { # PIDS: utime + stime summed
	local p t=0 v
	for p in "$@"; do
		v=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null) || v=0
		t=$((t + ${v:-0}))
	done
	echo "$t"
}
csvcol() { tail -n 1 "$1" 2>/dev/null | cut -d';' -f"$2"; }
listening() { ss -Hlnu "sport = :$1" | grep -q .; }
shed() { # e2mproxyd's 503s so far (- for Kamailio)
	curl -sf "http://127.0.0.1:$MET/metrics" 2>/dev/null |
		awk '/^e2mproxy_overload_shed_total/ { s += $2; f = 1 } END { if (f) print s; else print "-" }'
}

# start_proxy NAME DIR: start it on $PX; sets PPID_RUN
start_proxy() {
	case $1 in
	e2mproxyd)
		$PIN_PX "$PROXY" -D -f "$WORK/px.conf" > "$2/proxy.log" 2>&1 & ;;
	e2mproxyd-off)
		$PIN_PX "$PROXY" -D -f "$WORK/px-off.conf" > "$2/proxy.log" 2>&1 & ;;
	kamailio)
		$PIN_PX kamailio -f "$WORK/kam.cfg" -DD -E -Y "$2" -P "$2/kam.pid" \
			-m 512 -M 32 > "$2/proxy.log" 2>&1 & ;;
	esac
	PPID_RUN=$!
	RUNPIDS="$RUNPIDS $PPID_RUN"
	for _ in $(seq 1 100); do listening "$PX" && return 0; sleep 0.1; done
	echo "$1 did not start on udp:$PX:"; tail "$2/proxy.log"
	return 1
}

# uac DIR NAME PORT MPORT RATE SECS: a SIPp UAC through the proxy, waited for
uac() {
	local n
	n=$(awk -v r="$5" -v s="$6" 'BEGIN { printf "%d", r * s }')
	(cd "$1" && exec timeout -k 5 $(($6 + 60)) $PIN_GEN sipp -sf "$WORK/uac.xml" -key tp "" \
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
	pids=$(tree "$PPID_RUN")
	(cd "$dir" && exec $PIN_GEN sipp -sf "$WORK/uas.xml" -key tp "" -i 127.0.0.1 -p "$UAS" \
		-mp "$MPS" -t u1 -buff_size 4194304 -nostdin > uas.out 2>&1) &
	RUNPIDS="$RUNPIDS $!"
	for _ in $(seq 1 100); do listening "$UAS" && break; sleep 0.1; done
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
	stop_run
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
	(cd "$dir" && exec $PIN_GEN sipp -sf "$WORK/uas.xml" -key tp "" -i 127.0.0.1 -p "$UAS" \
		-mp "$MPS" -t u1 -buff_size 4194304 -nostdin > uas.out 2>&1) &
	RUNPIDS="$RUNPIDS $!"
	for _ in $(seq 1 100); do listening "$UAS" && break; sleep 0.1; done
	uac "$dir" find "$UAC" "$MPC" "$2" 10
	stop_run
	ok=$(csvcol "$dir/find.csv" 16) failed=$(csvcol "$dir/find.csv" 18)
	echo "# e2mproxyd at $2/s for 10 s: ${ok:-0} completed, ${failed:-0} failed" >&2
	[ -n "${BENCH_KEEP:-}" ] || rm -rf "$dir"
	[ "${ok:-0}" -eq $(($2 * 10)) ] && [ "${failed:-1}" -eq 0 ]
}

med() { # FILE C: median of column C over the runs
	awk -v c="$2" '$c != "-" { print $c }' "$1" | sort -g |
		awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else print v[int((NR + 1) / 2)] }'
}
range() { # FILE C: min-max of column C
	awk -v c="$2" '$c != "-" { print $c }' "$1" | sort -g |
		awk 'NR == 1 { a = $1 } { b = $1 } END { if (NR) printf "%s-%s", a, b; else print "-" }'
}

echo "# overload.sh: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs," \
	"load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# e2mproxyd $PROXY; $(kamailio -v 2>/dev/null | head -n 1); SIPp $(sipp -v 2>&1 | grep -o 'v[0-9.]*' | head -n 1)"
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
echo "# load average at end $(cut -d' ' -f1-3 /proc/loadavg)"
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
