#!/bin/bash
# vs_kamailio.sh - plain stateful proxying, e2mproxyd against Kamailio 5.6,
# side by side in one run (../shared/docs/benchmark.md section 1).
#
# Three proxies carry the same SIPp calls (INVITE, 180, 200, ACK, BYE, 200;
# record-routed, ACK and BYE follow the route) from a SIPp UAC to a SIPp UAS
# on 127.0.0.1:
#   e2mproxyd     the default configuration plus one listener
#   kamailio      Kamailio, transaction-stateful (bench/kamailio/stateful.cfg,
#                 benchmark.md's configuration: children=4, tm, record_route)
#   kamailio-sl   Kamailio without tm, forward() for everything
#                 (bench/kamailio/stateless.cfg): the floor, what a relay
#                 that keeps no transaction spends on this machine
# Transports: udp and tcp are both legs (SIPp to the proxy, the proxy to
# SIPp) over that transport. tls (SIPp has no TLS here): SIPp sends over
# UDP to a front e2mproxyd, which relays everything over one TLS
# connection to the proxy measured; that proxy forwards to the UAS over
# UDP (record-routing both sides, RFC 5658): the measured proxy has a TLS
# leg and a UDP leg. The front proxy's CPU is not counted (the same for
# all); Kamailio uses its tls module (kamailio-tls-modules), both
# present the same throwaway certificate (made with openssl per run).
# For each transport and rate the proxies take turns (A B C A B C ...),
# RUNS runs each of SECS seconds, every run against a freshly started
# proxy and UAS (a run's leftovers never load the next one).
#
# Per run: completed and failed calls (SIPp's -stf CSV, benchmark.md's
# columns), retransmissions, the proxy's CPU ms per completed call
# (utime + stime from /proc/PID/stat, every Kamailio process summed,
# counted from the first call to the last), INVITE -> 200 p50 / p99 from
# SIPp's -trace_rtt (its clock: 4 ms steps here), and the peak PSS
# (smaps_rollup, every process summed: Kamailio's children share their
# memory, and VmRSS would count it once per child), sampled every second.
# The table shows medians over the runs [range]; "clean" counts the runs
# with every call completed and none failed; the max clean rate is the
# highest rate clean in every run. Then the ratios e2mproxyd / Kamailio
# that benchmark.md section 4 sets targets for.
#
# usage: bench/vs_kamailio.sh [-r "RATES"] [-n RUNS] [-s SECS]
#                             [-t "udp tcp"] [-p "PROXIES"] [BUILD_DIR]
# Defaults: -r "1000 2000 3000" -n 3 -s 10 -t "udp tcp"
# -p "e2mproxyd kamailio kamailio-sl": about 15 minutes; -t tls adds
# about 7. BUILD_DIR: where
# e2mproxyd was built (default _build/, else the source tree). Needs
# kamailio, sipp. Uses ports BENCH_PORT (default 22400) to BENCH_PORT+39 on
# 127.0.0.1 only; kills only what it started. BENCH_KEEP=1 keeps the work
# directory (SIPp CSV files, logs). BENCH_PIN=1 pins the proxy to CPU 0 and
# the two SIPps to CPU 1. A benchmark: it prints figures and fails only
# when something does not start, never for a missed target.
set -u
RATES="1000 2000 3000" RUNS=3 SECS=10 TPS="udp tcp"
PROXIES="e2mproxyd kamailio kamailio-sl"
while getopts r:n:s:t:p: o; do
	case $o in
	r) RATES=$OPTARG ;;
	n) RUNS=$OPTARG ;;
	s) SECS=$OPTARG ;;
	t) TPS=$OPTARG ;;
	p) PROXIES=$OPTARG ;;
	*) sed -n 's/^# usage: /usage: /p; s/^#   *\[-t/  [-t/p' "$0" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/bench/lib.sh"
bench_build "${1:-}" || exit 1
bench_need_proxy
bench_need kamailio sipp ss openssl
BASE=${BENCH_PORT:-22400}
PX=$BASE PXT=$((BASE + 1)) FRONT=$((BASE + 3)) FRONTT=$((BASE + 4))
UAC=$((BASE + 10)) UAS=$((BASE + 12)) MPC=$((BASE + 20)) MPS=$((BASE + 30))
bench_workdir e2m-vskam
bench_pin

# --- configurations ----------------------------------------------------------
case " $TPS " in *" tls "*)
	# one throwaway CA and a certificate naming 127.0.0.1 (an iPAddress
	# SAN: e2mproxyd checks names as OpenSSL's -verify_ip does)
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$WORK/ca.key" -out "$WORK/ca.pem" -days 30 -subj "/CN=bench CA" 2>/dev/null &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$WORK/px.key" -out "$WORK/px.csr" -subj "/CN=127.0.0.1" 2>/dev/null &&
	printf 'subjectAltName=IP:127.0.0.1\n' > "$WORK/px.ext" &&
	openssl x509 -req -in "$WORK/px.csr" -CA "$WORK/ca.pem" -CAkey "$WORK/ca.key" \
		-CAcreateserial -out "$WORK/px.pem" -days 30 -extfile "$WORK/px.ext" 2>/dev/null &&
	chmod 600 "$WORK/px.key" "$WORK/ca.key" ||
		{ echo "cannot make the TLS certificate"; exit 1; }
	cat > "$WORK/front.conf" <<CONF
log: { level = "warning"; };
sip: { listen = ( { transport = "udp"; address = "127.0.0.1"; port = $FRONT; },
                  { transport = "tls"; address = "127.0.0.1"; port = $FRONTT; } ); };
tls: { certificate = "$WORK/px.pem"; key = "$WORK/px.key"; ca_file = "$WORK/ca.pem"; };
routing: { default_next_hop = "sips:127.0.0.1:$PXT"; };
CONF
	cat > "$WORK/kam-tls.cfg" <<CONF
[server:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
private_key = $WORK/px.key
certificate = $WORK/px.pem
[client:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
CONF
	;;
esac
for tp in $TPS; do
	case $tp in
	tls) cat > "$WORK/px-$tp.conf" <<CONF
log: { level = "warning"; };
sip: { listen = ( { transport = "udp"; address = "127.0.0.1"; port = $PX; },
                  { transport = "tls"; address = "127.0.0.1"; port = $PXT; } ); };
tls: { certificate = "$WORK/px.pem"; key = "$WORK/px.key"; ca_file = "$WORK/ca.pem"; };
CONF
	;;
	*) cat > "$WORK/px-$tp.conf" <<CONF
log: { level = "warning"; };
sip: { listen = ( { transport = "$tp"; address = "127.0.0.1"; port = $PX; } ); };
CONF
	;;
	esac
	for k in stateful stateless; do
		f=$WORK/kam-$k-$tp.cfg
		kam_cfg "$k" "$PX" "$f"
		case $tp in
		tcp)	# the same proxy on TCP: no UDP listener, tcp on
			sed -i -e "s|^listen=udp:|listen=tcp:|" \
				-e "s|^disable_tcp=yes|disable_tcp=no\ntcp_children=4|" "$f" ;;
		tls)	# UDP towards the UAS, TLS from the front proxy
			sed -i -e "s|^disable_tcp=yes|disable_tcp=no\ntcp_children=4\nenable_tls=yes\nlisten=tls:127.0.0.1:$PXT\nalias=\"127.0.0.1:$PXT\"|" \
				-e "s|^mpath=.*|&\nloadmodule \"tls.so\"\nmodparam(\"tls\", \"config\", \"$WORK/kam-tls.cfg\")|" "$f" ;;
		esac
		kam_check "$f"
	done
	"$PROXY" -c -f "$WORK/px-$tp.conf" > /dev/null 2>&1 ||
		{ echo "e2mproxyd -c refuses its configuration"; "$PROXY" -c -f "$WORK/px-$tp.conf"; exit 1; }
done

# --- measuring -----------------------------------------------------------------
# start_proxy NAME TP DIR: start it on $PX; sets PROXY_PID
start_proxy() {
	local name=$1 tp=$2 dir=$3
	case $name in
	e2mproxyd)
		$PIN_PX "$PROXY" -D -f "$WORK/px-$tp.conf" > "$dir/proxy.log" 2>&1 &
		PROXY_PID=$!
		bench_track "$PROXY_PID" ;;
	kamailio|kamailio-sl)
		local k=stateful
		[ "$name" = kamailio-sl ] && k=stateless
		kam_start "$WORK/kam-$k-$tp.cfg" "$dir" ;;
	esac
	local lt=$tp lp=$PX
	[ "$tp" = tls ] && lt=tcp lp=$PXT
	wait_port "$lt" "$lp" && return 0
	echo "$name did not start on $tp:$PX:"; tail "$dir/proxy.log"
	return 1
}

# run NAME TP RATE: one run; appends "ok failed retrans cpums p50 p99 pssMiB"
# to $WORK/NAME-TP-RATE.res
run() {
	local name=$1 tp=$2 rate=$3 dir="$WORK/run.$1.$2.$3.$RANDOM" t0 t1 ok failed re
	local n=$((rate * SECS)) stp=u1 tpk="" pids peak=0 v to=$PX
	[ "$tp" = tcp ] && stp=t1 tpk=";transport=tcp"
	mkdir -p "$dir"
	start_proxy "$name" "$tp" "$dir" || exit 1
	if [ "$tp" = tls ]; then
		# the front proxy: SIPp's UDP in, one TLS connection out
		"$PROXY" -D -f "$WORK/front.conf" > "$dir/front.log" 2>&1 &
		bench_track $!
		wait_port udp "$FRONT"
		to=$FRONT
	fi
	sleep 0.5 # Kamailio forks its children after the listener is bound
	pids=$(tree "$PROXY_PID")
	rr_uas "$dir" "$UAS" "$MPS" "$stp" "$tpk"
	# shellcheck disable=SC2086
	t0=$(ticks $pids)
	(cd "$dir" && exec timeout $((SECS + 45)) $PIN_GEN sipp -sf "$TOP/bench/sipp/uac_rr.xml" -key tp "$tpk" \
		-s bench 127.0.0.1:"$UAS" -rsa 127.0.0.1:"$to" -i 127.0.0.1 -p "$UAC" \
		-mp "$MPC" -t "$stp" -r "$rate" -m "$n" -l 30000 -buff_size 4194304 -nostdin \
		-timeout $((SECS + 35)) -trace_stat -stf stat.csv -fd 1 \
		-trace_rtt -rtt_freq 1 > uac.out 2>&1) &
	local sp=$!
	while kill -0 "$sp" 2>/dev/null; do
		# shellcheck disable=SC2086
		v=$(pss $pids)
		[ "$v" -gt "$peak" ] && peak=$v
		sleep 1
	done
	wait "$sp"
	# shellcheck disable=SC2086
	t1=$(ticks $pids)
	bench_stop
	ok=$(csvcol "$dir/stat.csv" 16) failed=$(csvcol "$dir/stat.csv" 18)
	re=$(csvcol "$dir/stat.csv" 58)
	local rtt
	rtt=$(ls "$dir"/*_rtt.csv 2>/dev/null | head -n 1)
	echo "${ok:-0} ${failed:-0} ${re:-0}" \
		"$(ms_per "$t0" "$t1" "${ok:-0}")" \
		"$(pct "$rtt" 1 50) $(pct "$rtt" 1 99) $((peak / 1024))" >> "$WORK/$name-$tp-$rate.res"
	echo "$name $tp $rate/s: $(tail -n 1 "$WORK/$name-$tp-$rate.res")" >&2
	[ -n "${BENCH_KEEP:-}" ] || rm -rf "$dir"
}

echo "# vs_kamailio.sh: $(now_utc), $(nproc) CPUs, load average $(loadavg)"
echo "# e2mproxyd $("$PROXY" -V 2>/dev/null | head -n 1) ($PROXY); $(kamailio -v 2>/dev/null | head -n 1);" \
	"SIPp $(sipp_version)"
echo "# $RUNS runs of ${SECS} s per proxy, transport and rate, alternating: $PROXIES"

for tp in $TPS; do
	for rate in $RATES; do
		for _ in $(seq 1 "$RUNS"); do
			for p in $PROXIES; do run "$p" "$tp" "$rate"; done
		done
	done
done

for tp in $TPS; do
	echo
	echo "$tp, ${SECS} s runs, medians of $RUNS runs [range]"
	echo
	echo "| calls/s | proxy | completed / failed | clean runs | retrans. | CPU ms/call | INVITE->200 p50 / p99 ms | peak PSS MiB |"
	echo "|---|---|---|---|---|---|---|---|"
	for p in $PROXIES; do eval "maxc_${p//-/_}=-"; done
	for rate in $RATES; do
		for p in $PROXIES; do
			f=$WORK/$p-$tp-$rate.res
			c=$(cleanruns "$f" $((rate * SECS)))
			[ "$c" = "$RUNS" ] && eval "maxc_${p//-/_}=$rate"
			echo "| $rate | $p | $(med "$f" 1) / $(med "$f" 2) | $c/$RUNS | $(med "$f" 3) | $(med "$f" 4) [$(range "$f" 4)] | $(med "$f" 5) / $(med "$f" 6) | $(med "$f" 7) [$(range "$f" 7)] |"
		done
	done
	echo
	for p in $PROXIES; do
		eval "m=\$maxc_${p//-/_}"
		echo "max clean rate $p ($tp): $(maxclean "$m" "$RATES")"
	done
	case " $PROXIES " in *" e2mproxyd "*" kamailio "*|*" kamailio "*" e2mproxyd "*)
		echo
		echo "ratios e2mproxyd / kamailio ($tp), at each rate (medians):"
		for rate in $RATES; do
			a=$WORK/e2mproxyd-$tp-$rate.res b=$WORK/kamailio-$tp-$rate.res
			echo "  $rate/s: CPU ms/call $(ratio "$(med "$a" 4)" "$(med "$b" 4)")," \
				"peak PSS $(ratio "$(med "$a" 7)" "$(med "$b" 7)")," \
				"p99 $(ratio "$(med "$a" 6)" "$(med "$b" 6)")"
		done ;;
	esac
done
echo
echo "# load average at the end $(loadavg)"
