#!/bin/bash
# edge_speed.sh - what the edge proxy (edge.path = "outbound", issue 15)
# costs, measured side by side in one run against Kamailio 5.6 as the
# registrar (the configuration of tests/integration/kamailio.sh):
#
# (a) REGISTER: SIPp sends outbound REGISTERs (reg-id, +sip.instance, ;ob,
#     Supported: path, outbound) for USERS distinct users in turn, from one
#     UDP socket, either straight to Kamailio ("direct") or through
#     e2mproxyd, which adds its Path with a flow token and Flow-Timer
#     ("edge"). Every user has been registered once before the rounds, so
#     each REGISTER refreshes a binding (and, through e2mproxyd, finds its
#     flow: one socket is one flow). (SIPp's -t un would give each
#     REGISTER a new source port, so a new flow each: 256 of them fill
#     edge.max_flows_per_source for 127.0.0.1 within a second.)
# (b) Calls: a SIPp UAS registered through e2mproxyd (a REGISTER sent from
#     the UAS's own UDP port before SIPp binds it: the UDP flow token
#     names that address) is called by a SIPp UAC either by its AoR,
#     sip:uas@example.com (UAC -> e2mproxyd -> Kamailio lookup -> back
#     through e2mproxyd over the Path token -> UAS: "registered"), or
#     straight by a routing rule, sip:uas@plain.test (UAC -> e2mproxyd ->
#     UAS: "plain"). INVITE, 100, 200, ACK, BYE, 200; every proxy
#     record-routes, so ACK and BYE take the same path. Beside SIPp, the
#     timing UAC of bench/challenge_speed.c places BENCH_PROBE_RATE
#     (default 20) calls a second the same way and times them to the
#     microsecond (SIPp's response times come in 4 ms steps here).
#
# For each rate the two cases alternate (A B A B ...), RUNS runs each of
# SECS seconds; the table shows medians over the runs: completed and
# failed operations, SIPp's retransmissions, e2mproxyd's and Kamailio's
# CPU ms per operation (utime + stime from /proc/PID/stat, Kamailio's
# processes summed) and the response times from SIPp's -trace_rtt
# (REGISTER -> 200; INVITE -> 200 and BYE -> 200). "Clean" is every run
# with 0 failed and all operations completed; the max clean rate is the
# highest rate of the list clean in every run.
#
# usage: bench/edge_speed.sh [-a "REG_RATES"] [-b "CALL_RATES"] [-n RUNS]
#                            [-s SECS] [-u USERS] [BUILD_DIR]
# Defaults: -a "1000 2000 4000 6000" -b "200 500 1000" -n 3 -s 10 -u 2000; about
# 8 minutes. BUILD_DIR: where e2mproxyd was built (default _build/, else
# the source tree; its layer libraries too: the timing UAC of
# bench/challenge_speed.c is built with cc). Needs kamailio, kamcmd,
# sipp, python3, cc and pkg-config. Not run by make check. Uses UDP
# ports BENCH_PORT (default 22360) to BENCH_PORT+39 on 127.0.0.1 only;
# kills only what it started. BENCH_KEEP=1 keeps the work directory (the
# SIPp CSV statistics and response-time files, the logs). A benchmark:
# it prints figures and fails only when something does not start.
set -u
REG_RATES="1000 2000 4000 6000" CALL_RATES="200 500 1000" RUNS=3 SECS=10 USERS=2000
while getopts a:b:n:s:u: o; do
	case $o in
	a) REG_RATES=$OPTARG ;;
	b) CALL_RATES=$OPTARG ;;
	n) RUNS=$OPTARG ;;
	s) SECS=$OPTARG ;;
	u) USERS=$OPTARG ;;
	*) sed -n 's/^# usage: /usage: /p; s/^#   *\[-s/  [-s/p' "$0" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/bench/lib.sh"
bench_build "${1:-}" || exit 1
bench_need_proxy
bench_need kamailio kamcmd sipp python3
BASE=${BENCH_PORT:-22360}
PX=$BASE KAM=$((BASE + 2)) UACR=$((BASE + 10)) UACC=$((BASE + 11))
UAS=$((BASE + 12)) PROBE=$((BASE + 13)) MPC=$((BASE + 20)) MPS=$((BASE + 30))
PROBE_RATE=${BENCH_PROBE_RATE:-20}
bench_workdir e2m-edgebench

# The timing UAC of bench/challenge_speed.c ("calls": INVITE, 200, ACK,
# 100 ms, BYE, 200 with microsecond timing): SIPp's response times come
# in steps of its clock, 4 ms on this kernel
bench_cc "$WORK/probe" challenge_speed e2m/libe2mcore.a crypto/libe2mcrypto.a common/libe2mcommon.a ||
	{ echo "cannot build bench/challenge_speed.c (needs the layer libraries in $BUILD)"; exit 1; }

# --- Kamailio: the tests' registrar, quieter (no per-request log line),
# more memory for USERS bindings
export TOP_SRCDIR=$TOP # kamailio.sh's
. "$TOP/tests/integration/kamailio.sh"
KAM_DEBUG=1 kam_write_cfg "$KAM"
kamailio -c -f "$WORK/kamailio.cfg" > "$WORK/kamailio-check.log" 2>&1 ||
	{ echo "kamailio -c refuses the configuration:"; cat "$WORK/kamailio-check.log"; exit 1; }
kamailio -DD -E -m 256 -M 8 -P "$WORK/kamailio.pid" -f "$WORK/kamailio.cfg" \
	> "$WORK/kamailio.log" 2>&1 &
KAM_PID=$!
bench_track "$KAM_PID"

head -c 32 /dev/urandom > "$WORK/flow.key"
chmod 600 "$WORK/flow.key"
cat > "$WORK/px.conf" <<CONF
log: { level = "warning"; };
sip: { listen = ( { transport = "udp"; address = "127.0.0.1"; port = $PX; } ); };
routing: {
  rules = ( { domain = "example.com"; next_hop = "sip:127.0.0.1:$KAM"; },
            { domain = "plain.test"; next_hop = "sip:127.0.0.1:$UAS"; } );
};
edge: { path = "outbound"; flow_key = "$WORK/flow.key"; };
CONF
"$PROXY" -D -f "$WORK/px.conf" > "$WORK/proxy.log" 2>&1 &
PX_PID=$!
bench_track "$PX_PID"

up=0
for _ in $(seq 1 100); do
	if [ -S "$WORK/kamailio_ctl" ] && kam_cmd core.version > /dev/null 2>&1 &&
	    listening udp "$PX"; then
		up=1
		break
	fi
	sleep 0.2
done
[ "$up" = 1 ] || { echo "Kamailio or e2mproxyd did not start"; tail "$WORK"/*.log; exit 1; }

# --- scenarios -------------------------------------------------------------
cat > "$WORK/reg.xml" <<'XML'
<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="edge bench REGISTER">
  <send retrans="500"><![CDATA[
      REGISTER sip:example.com SIP/2.0
      Via: SIP/2.0/UDP [local_ip]:[local_port];branch=[branch];rport
      From: <sip:[field0]@example.com>;tag=[pid]r[call_number]
      To: <sip:[field0]@example.com>
      Call-ID: [call_id]
      CSeq: 1 REGISTER
      Contact: <sip:[field0]@[local_ip]:[local_port];ob>;reg-id=1;+sip.instance="<urn:uuid:00000000-0000-4000-8000-[field1]>";expires=600
      Supported: path, outbound
      Max-Forwards: 70
      Content-Length: 0

  ]]></send>
  <recv response="200" rtd="true"/>
</scenario>
XML
cat > "$WORK/uac.xml" <<'XML'
<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="edge bench UAC">
  <send retrans="500"><![CDATA[
      INVITE sip:uas@[dom] SIP/2.0
      Via: SIP/2.0/UDP [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]t[call_number]
      To: <sip:uas@[dom]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:sipp@[local_ip]:[local_port]>
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
      Via: SIP/2.0/UDP [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]t[call_number]
      To: <sip:uas@[dom]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      [routes]
      Max-Forwards: 70
      Content-Length: 0

  ]]></send>
  <send retrans="500" start_rtd="2"><![CDATA[
      BYE [next_url] SIP/2.0
      Via: SIP/2.0/UDP [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]t[call_number]
      To: <sip:uas@[dom]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      [routes]
      Max-Forwards: 70
      Content-Length: 0

  ]]></send>
  <recv response="200" rtd="2"/>
</scenario>
XML
# The UAS: 200 at once, Record-Route echoed. No 180: benchmark.md's UAS
# pauses 5 ms between 180 and 200 (a multi-process Kamailio may reorder
# them), and SIPp's timers would turn that pause into 5-10 ms of every
# INVITE's response time
cat > "$WORK/uas.xml" <<'XML'
<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="edge bench UAS">
  <recv request="INVITE"/>
  <send retrans="500"><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]u[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      [last_Record-Route:]
      Contact: <sip:uas@[local_ip]:[local_port]>
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
# users: direct ones d00001..., edge ones e00001... (each case refreshes
# its own bindings)
for p in d e; do
	{ echo SEQUENTIAL
	  awk -v n="$USERS" -v p="$p" 'BEGIN { for (i = 1; i <= n; i++)
		printf "%s%05d;%s%011d\n", p, i, (p == "d" ? "d" : "e"), i }'
	} > "$WORK/users-$p.csv"
done

# --- measuring -------------------------------------------------------------
KAM_PIDS=$(tree "$KAM_PID")
# shellcheck disable=SC2086
kam_ticks() { ticks $KAM_PIDS; }
# mean FILE RTD: the mean response time of rtd RTD, ms
mean() {
	awk -F';' -v r="$2" '$3 == r { s += $2; n++ } END { if (n) printf "%.2f\n", s / n; else print "-" }' "$1"
}

# run NAME KIND RATE: one run; appends "ok failed retrans pxms kamms p50
# p99 [byep50 byep99]" to $WORK/NAME.res
run() {
	local name=$1 kind=$2 rate=$3 dir="$WORK/$1.$RANDOM" px0 px1 k0 k1 ok failed re rtt
	local n=$((rate * SECS))
	mkdir -p "$dir"
	px0=$(ticks "$PX_PID") k0=$(kam_ticks)
	case $kind in
	direct|edge)
		cp "$WORK/reg.xml" "$dir/s.xml"
		local dst=$KAM inf=$WORK/users-d.csv
		[ "$kind" = edge ] && dst=$PX inf=$WORK/users-e.csv
		(cd "$dir" && timeout $((SECS + 40)) sipp -sf s.xml -inf "$inf" \
			127.0.0.1:"$dst" -i 127.0.0.1 -p "$UACR" -t u1 \
			-r "$rate" -m "$n" -l 20000 -buff_size 4194304 -nostdin \
			-timeout $((SECS + 30)) -trace_stat -stf stat.csv -fd 1 \
			-trace_rtt -rtt_freq 1 > out.log 2>&1) ;;
	registered|plain)
		cp "$WORK/uac.xml" "$dir/s.xml"
		local dom=example.com
		[ "$kind" = plain ] && dom=plain.test
		(cd "$dir" && timeout $((SECS + 40)) sipp -sf s.xml -key dom "$dom" \
			127.0.0.1:"$PX" -i 127.0.0.1 -p "$UACC" -mp "$MPC" \
			-r "$rate" -m "$n" -l 20000 -buff_size 4194304 -nostdin \
			-timeout $((SECS + 30)) -trace_stat -stf stat.csv -fd 1 \
			-trace_rtt -rtt_freq 1 > out.log 2>&1) &
		local sp=$!
		timeout $((SECS + 40)) "$WORK/probe" calls -s 127.0.0.1:"$PX" \
			-l 127.0.0.1:"$PROBE" -u "sip:uas@$dom" -r "$PROBE_RATE" \
			-t "$SECS" > "$dir/probe.out" 2> "$dir/probe.err"
		wait "$sp" ;;
	esac
	px1=$(ticks "$PX_PID") k1=$(kam_ticks)
	ok=$(csvcol "$dir/stat.csv" 16) failed=$(csvcol "$dir/stat.csv" 18)
	re=$(csvcol "$dir/stat.csv" 58)
	rtt=$(ls "$dir"/s_*_rtt.csv 2>/dev/null | head -n 1)
	local pok=0 pfail=0 lat
	if [ -f "$dir/probe.out" ]; then
		# the probe's calls: counted with SIPp's (they cost the proxy
		# too); their timing is the response-time figure
		pok=$(kv ok < "$dir/probe.out") pfail=$(kv failed < "$dir/probe.out")
		# why its calls failed, when they did
		[ "${pfail:-0}" = 0 ] || head -n 3 "$dir/probe.err" >&2
		lat="$(kv inv_p50 < "$dir/probe.out") $(kv inv_p99 < "$dir/probe.out")"
		lat="$lat $(kv bye_p50 < "$dir/probe.out") $(kv bye_p99 < "$dir/probe.out")"
	else
		lat="$(pct "$rtt" 1 50) $(pct "$rtt" 1 99) $(mean "$rtt" 1) -"
	fi
	ok=$(( ${ok:-0} + ${pok:-0} )) failed=$(( ${failed:-0} + ${pfail:-0} ))
	echo "${ok:-0} ${failed:-0} ${re:-0}" \
		"$(ms_per "$px0" "$px1" "${ok:-0}")" \
		"$(ms_per "$k0" "$k1" "${ok:-0}")" \
		"$lat" >> "$WORK/$name.res"
	echo "$kind $rate/s run: $(tail -n 1 "$WORK/$name.res")" >&2
}

clean() { # FILE N: "yes" when every run completed N with 0 failed
	if [ -s "$1" ] && [ "$(cleanruns "$1" "$2")" = "$(wc -l < "$1")" ]; then echo yes; else echo no; fi
}

echo "# edge_speed.sh: $(now_utc), $(nproc) CPUs, load average $(loadavg)"
echo "# e2mproxyd $PROXY; $(kamailio -v 2>/dev/null | head -n 1); SIPp $(sipp_version)"
echo "# $RUNS runs of ${SECS} s per case and rate, alternating; $USERS users per REGISTER case"

# (a) warm-up: every user registered once in both cases, then the rounds
for k in direct edge; do
	name=warm-$k
	SECS_SAVED=$SECS
	SECS=$(( (USERS + 999) / 1000 ))
	run "$name" "$k" 1000 2>/dev/null
	SECS=$SECS_SAVED
done
for rate in $REG_RATES; do
	for _ in $(seq 1 "$RUNS"); do
		run "reg-direct-$rate" direct "$rate"
		run "reg-edge-$rate" edge "$rate"
	done
done

# (b) the UAS registers through e2mproxyd from its own port
python3 - "$UAS" "$PX" <<'PY' || { echo "the UAS's REGISTER through e2mproxyd failed"; exit 1; }
import socket, sys
uas, px = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", uas))
s.settimeout(5)
req = ("REGISTER sip:example.com SIP/2.0\r\n"
       f"Via: SIP/2.0/UDP 127.0.0.1:{uas};branch=z9hG4bK-benchuas;rport\r\n"
       "From: <sip:uas@example.com>;tag=benchuas\r\nTo: <sip:uas@example.com>\r\n"
       "Call-ID: benchuas@127.0.0.1\r\nCSeq: 1 REGISTER\r\n"
       f"Contact: <sip:uas@127.0.0.1:{uas};ob>;reg-id=1;"
       "+sip.instance=\"<urn:uuid:00000000-0000-4000-8000-00000000babe>\";expires=3600\r\n"
       "Supported: path, outbound\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
s.sendto(req.encode(), ("127.0.0.1", px))
while True:
    data = s.recv(65535).decode(errors="replace")
    status = data.split(" ", 2)[1]
    if not status.startswith("1"):
        break
print("# UAS registered through e2mproxyd:", data.split("\r\n")[0],
      "|", [l for l in data.split("\r\n") if l.lower().startswith("path:")])
sys.exit(0 if status == "200" else 1)
PY
(cd "$WORK" && exec sipp -sf uas.xml -i 127.0.0.1 -p "$UAS" -mp "$MPS" \
	-buff_size 4194304 -nostdin > "$WORK/uas.out" 2>&1) &
UAS_SIPP=$!
bench_track "$UAS_SIPP"
wait_port udp "$UAS" "$UAS_SIPP" || { echo "the SIPp UAS did not start"; cat "$WORK/uas.out"; exit 1; }
for rate in $CALL_RATES; do
	for _ in $(seq 1 "$RUNS"); do
		run "call-plain-$rate" plain "$rate"
		run "call-registered-$rate" registered "$rate"
	done
done

# --- the table ---------------------------------------------------------------
echo
echo "(a) REGISTER, $USERS users, ${SECS} s runs; medians of $RUNS runs [range]"
echo
echo "| REGISTER/s | case | completed / failed | clean | retrans. | e2mproxyd CPU ms/REGISTER | Kamailio CPU ms/REGISTER | REGISTER->200 mean / p50 / p99 ms (SIPp, 4 ms steps) |"
echo "|---|---|---|---|---|---|---|---|"
maxc_d=- maxc_e=-
for rate in $REG_RATES; do
	for k in direct edge; do
		f=$WORK/reg-$k-$rate.res
		c=$(clean "$f" $((rate * SECS)))
		[ "$c" = yes ] && eval "maxc_${k:0:1}=$rate"
		pxc="$(med "$f" 4) [$(range "$f" 4)]"
		[ "$k" = direct ] && pxc="- (not in the path)"
		echo "| $rate | $k | $(med "$f" 1) / $(med "$f" 2) | $c | $(med "$f" 3) | $pxc | $(med "$f" 5) [$(range "$f" 5)] | $(med "$f" 8) / $(med "$f" 6) / $(med "$f" 7) |"
	done
done
echo
echo "max clean REGISTER rate: direct $(maxclean "$maxc_d" "$REG_RATES"), through e2mproxyd $(maxclean "$maxc_e" "$REG_RATES")"
echo
echo "(b) calls, ${SECS} s runs; medians of $RUNS runs [range]"
maxc_p=- maxc_r=-
echo
echo "(calls/s: SIPp's rate; $PROBE_RATE/s more come from the timing UAC, counted in the calls and the CPU per call; the response times are the timing UAC's)"
echo
echo "| calls/s | case | completed / failed | clean | retrans. | e2mproxyd CPU ms/call | Kamailio CPU ms/call | INVITE->200 p50 / p99 ms | BYE->200 p50 / p99 ms |"
echo "|---|---|---|---|---|---|---|---|---|"
for rate in $CALL_RATES; do
	for k in plain registered; do
		f=$WORK/call-$k-$rate.res
		kc="$(med "$f" 5)"
		[ "$k" = plain ] && kc="- (not in the path)"
		c=$(clean "$f" $(((rate + PROBE_RATE) * SECS)))
		[ "$c" = yes ] && eval "maxc_${k:0:1}=$rate"
		echo "| $rate | $k | $(med "$f" 1) / $(med "$f" 2) | $c | $(med "$f" 3) | $(med "$f" 4) [$(range "$f" 4)] | $kc | $(med "$f" 6) / $(med "$f" 7) | $(med "$f" 8) / $(med "$f" 9) |"
	done
done
echo
echo "max clean call rate: plain $(maxclean "$maxc_p" "$CALL_RATES"), to the registered UAS $(maxclean "$maxc_r" "$CALL_RATES")"
echo
echo "# load average at the end $(loadavg)"
