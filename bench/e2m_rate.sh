#!/bin/bash
# e2m_rate.sh - the e2m path against the crypto limit (benchmark.md
# section 2, the first ratio of section 4): the max clean rate of e2m
# calls through e2mproxyd divided by the raw single-core rate of the
# decryption each call needs, for an EC P-256 and an RSA-2048 proxy key,
# measured in one run.
#
# An e2m call is vs_kamailio.sh's record-routed call (bench/sipp/uac_rr.xml
# and uas_rr.xml: INVITE, 180, 200, ACK, BYE, 200) whose INVITE carries its
# SDP in an S/MIME EnvelopedData to the proxy (openssl cms -encrypt,
# AES-128-CBC, base64), labelled Proxy-Inspect-Body. A policy rule
# requires application/sdp in every INVITE, so the proxy must open each
# one, on its worker threads (inspect.workers: its default, one per CPU),
# before it forwards it; decrypt_rate is off (one source sends it all).
# The UAS gets the INVITE as sent.
#
# Per kind and rate, RUNS runs of SECS seconds, kinds alternating, each
# against a fresh proxy and UAS: completed and failed calls,
# retransmissions, the proxy's CPU ms per call (all its threads: utime +
# stime), INVITE -> 200 p50 / p99 (SIPp's -trace_rtt), and the bodies the
# proxy opened (its e2mproxy_decrypts_total{result="opened"}; a run whose
# count falls short of its completed calls is reported and fails the
# script: the figure would not be of the e2m path). Before each rate, the
# raw rate of each kind (bench/decrypt_rate.c: d2i + CMS_decrypt of the
# same EnvelopedData with OpenSSL alone, per second of one thread's CPU
# time) for RAWSECS seconds. The table shows medians [range]; the max clean
# rate is the highest rate with every call of every run completed; the
# ratio is that rate over the median raw rate.
#
# Then plain calls beside e2m calls (issue 16: the plain-call p99 with and
# without e2m traffic beside it): per kind, RUNS rounds of three cases
# taking turns, each SECS seconds through a fresh proxy: the timing probe
# alone (bench/challenge_speed.c's "calls" mode: plain INVITE, 180, 200,
# ACK, BYE, 200 at PROBE/s, each answer timed in microseconds; SIPp's own
# times come in 4 ms steps), the probe beside BESIDE plain calls/s from
# SIPp (the same call with its SDP in clear: the SIP load alone), and the
# probe beside BESIDE e2m calls/s. The table gives the probe's INVITE->200
# p50 / p99 (which include the UAS's 5 ms pause before its 200) and
# BYE->200 p50 / p90 / p99 / max (medians over the rounds), and the calls
# completed.
#
# usage: bench/e2m_rate.sh [-r "RATES"] [-n RUNS] [-s SECS] [-k "KINDS"]
#                          [-b BESIDE] [-p PROBE] [BUILD_DIR]
# Defaults: -r "500 1000 1500 2000 2500" -n 3 -s 10 -k "ec rsa" -b 1000
# -p 50 (-b 0 skips the plain calls beside e2m calls): about 10 minutes. BUILD_DIR: where e2mproxyd was built (default _build/); the
# raw-rate program is built with cc. Needs sipp, openssl, curl, cc. Ports
# BENCH_PORT (default 26400) to BENCH_PORT+29 on 127.0.0.1. A benchmark:
# it prints figures and fails only when something does not start or a
# run's INVITEs were not opened, never for a missed target. BENCH_KEEP=1
# keeps the work directory (throwaway keys: never commit them).
set -u
RATES="500 1000 1500 2000 2500" RUNS=3 SECS=10 KINDS="ec rsa" RAWSECS=1
BESIDE=1000 PROBE=50
while getopts r:n:s:k:b:p: o; do
	case $o in
	b) BESIDE=$OPTARG ;;
	p) PROBE=$OPTARG ;;
	r) RATES=$OPTARG ;;
	n) RUNS=$OPTARG ;;
	s) SECS=$OPTARG ;;
	k) KINDS=$OPTARG ;;
	*) sed -n '/^# usage/,/^# Defaults/p' "$0"; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/bench/lib.sh"
bench_build "${1:-}" || exit 1
bench_need_proxy
bench_need sipp openssl curl cc python3
BASE=${BENCH_PORT:-26400}
PX=$BASE MET=$((BASE + 1)) UAC=$((BASE + 10)) UAS=$((BASE + 12))
PROBE_PORT=$((BASE + 15))
MPC=$((BASE + 20)) MPS=$((BASE + 25))
bench_workdir e2m-rate
bench_pin
bench_cc "$WORK/decrypt_rate" decrypt_rate ||
	{ echo "cannot build bench/decrypt_rate.c"; exit 1; }
if [ "$BESIDE" != 0 ]; then
	bench_cc "$WORK/probe" challenge_speed e2m/libe2mcore.a \
		crypto/libe2mcrypto.a common/libe2mcommon.a ||
		{ echo "cannot build bench/challenge_speed.c"; exit 1; }
fi

# --- a throwaway PKI, the envelopes, the scenario and configuration per kind
. "$TOP/tests/integration/pki.sh"
K=$WORK
pki_ca "$K" || { echo "cannot make the test CA"; exit 1; }
printf 'Content-Type: application/sdp\r\n\r\nv=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n' \
	> "$WORK/sdp.mime"
P7M='application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m'
LABEL_HDRS='Content-ID: <sdp1@bench.test>
Proxy-Inspect-Body: proxy.test;cid="sdp1@bench.test"
Content-Transfer-Encoding: base64'
for kind in $KINDS; do
	case $kind in
	ec) keyarg=ec ;;
	rsa) keyarg=rsa ;;
	*) echo "unknown kind $kind (ec, rsa)" >&2; exit 2 ;;
	esac
	PKI_KEY=$keyarg pki_cert "$K" "px_$kind" "DNS:proxy.test" proxy.test ||
		{ echo "cannot make the $kind proxy certificate"; exit 1; }
	openssl cms -encrypt -binary -aes-128-cbc -in "$WORK/sdp.mime" \
		-outform DER -out "$WORK/env_$kind.der" "$K/px_$kind.pem" &&
		base64 -w 76 "$WORK/env_$kind.der" > "$WORK/env_$kind.b64" ||
		{ echo "openssl cms -encrypt failed"; exit 1; }
	# bench/sipp/uac_rr.xml with the INVITE's Content-Type and SDP
	# replaced by the labelled envelope
	bench_scenario "$TOP/bench/sipp/uac_rr.xml" "$WORK/uac_$kind.xml" - \
		"$P7M" "$LABEL_HDRS" "$WORK/env_$kind.b64" ||
		{ echo "cannot make the scenario"; exit 1; }
	cat > "$WORK/px_$kind.conf" <<CONF
log: { level = "warning"; };
sip: {
  listen = ( { transport = "udp"; address = "127.0.0.1"; port = $PX; } );
  own_names = [ "proxy.test" ];
};
inspect: {
  keys = ( { certificate = "$K/px_$kind.pem"; key = "$K/px_$kind.key"; } );
  trust_anchors = [ "$K/ca.pem" ];
  decrypt_rate = 0;
};
policy: { rules = ( { methods = [ "INVITE" ]; required_types = [ "application/sdp" ]; } ); };
metrics: { enabled = true; address = "127.0.0.1"; port = $MET; };
challenge: { signing_certificate = "$K/px_$kind.pem"; signing_key = "$K/px_$kind.key"; };
CONF
	"$PROXY" -c -f "$WORK/px_$kind.conf" > /dev/null 2>&1 ||
		{ echo "e2mproxyd -c refuses its configuration"; "$PROXY" -c -f "$WORK/px_$kind.conf"; exit 1; }
done

# opened: the bodies the proxy on $MET has opened
opened() {
	curl -sf "http://127.0.0.1:$MET/metrics" 2>/dev/null |
		awk '/^e2mproxy_decrypts_total\{result="opened"\}/ { print $2; exit }'
}

# raw KIND: one raw-rate measurement appended to $WORK/raw-KIND
raw() {
	"$WORK/decrypt_rate" "$RAWSECS" "$K/px_$1.pem" "$K/px_$1.key" \
		"$WORK/env_$1.der" | kv per_cpu_s >> "$WORK/raw-$1" ||
		{ echo "decrypt_rate failed for $1"; exit 1; }
}

# start KIND DIR: a fresh proxy with KIND's configuration and the SIPp UAS,
# their logs in DIR; sets PROXY_PID
start() {
	mkdir -p "$2"
	"$PROXY" -D -f "$WORK/px_$1.conf" > "$2/proxy.log" 2>&1 &
	PROXY_PID=$!
	bench_track "$PROXY_PID"
	wait_port udp "$PX" "$PROXY_PID" || { echo "e2mproxyd did not start:"; tail "$2/proxy.log"; exit 1; }
	rr_uas "$2" "$UAS" "$MPS" u1 ""
}

# uac DIR SCENARIO RATE CALLS [SIPP OPTION...]: SIPp's UAC started through
# the proxy to the UAS, CALLS calls at RATE a second, stat.csv and uac.out
# in DIR; sets UAC_PID (the process itself, for wait and bench_stop)
uac() {
	local dir=$1 scen=$2 rate=$3 n=$4
	shift 4
	(cd "$dir" && exec timeout $((SECS + 45)) sipp -sf "$scen" -key tp "" \
		-s bench 127.0.0.1:"$UAS" -rsa 127.0.0.1:"$PX" -i 127.0.0.1 -p "$UAC" \
		-mp "$MPC" -t u1 -r "$rate" -m "$n" -l 30000 -buff_size 4194304 -nostdin \
		-timeout $((SECS + 35)) -trace_stat -stf stat.csv -fd 1 "$@" > uac.out 2>&1) &
	UAC_PID=$!
	bench_track "$UAC_PID"
}

# run KIND RATE: one run; appends "ok failed retrans cpums p50 p99 opened"
# to $WORK/KIND-RATE.res
BAD=0
run() {
	local kind=$1 rate=$2 dir="$WORK/run.$1.$2.$RANDOM" t0 t1 ok failed re op rtt
	start "$kind" "$dir"
	t0=$(ticks "$PROXY_PID")
	uac "$dir" "$WORK/uac_$kind.xml" "$rate" $((rate * SECS)) -trace_rtt -rtt_freq 1
	wait "$UAC_PID"
	t1=$(ticks "$PROXY_PID")
	op=$(opened)
	bench_stop
	ok=$(csvcol "$dir/stat.csv" 16) failed=$(csvcol "$dir/stat.csv" 18)
	re=$(csvcol "$dir/stat.csv" 58)
	rtt=$(ls "$dir"/*_rtt.csv 2>/dev/null | head -n 1)
	echo "${ok:-0} ${failed:-0} ${re:-0}" \
		"$(ms_per "$t0" "$t1" "${ok:-0}")" \
		"$(pct "$rtt" 1 50) $(pct "$rtt" 1 99) ${op:-0}" >> "$WORK/$kind-$rate.res"
	echo "$kind $rate/s: $(tail -n 1 "$WORK/$kind-$rate.res")" >&2
	# every completed call's INVITE went through the decrypt stage
	if [ "${op:-0}" -lt "${ok:-0}" ]; then
		echo "$kind $rate/s: the proxy opened ${op:-0} bodies for ${ok:-0} calls" >&2
		BAD=1
	fi
	bench_keep || rm -rf "$dir"
}

# beside KIND CASE: one round of the probe's plain calls through a fresh
# proxy, alone (CASE quiet) or beside BESIDE calls/s from SIPp (plain: the
# SDP in clear; e2m: the labelled envelope); appends "INVITE->200 p50 p99,
# BYE->200 p50 p90 p99 max, probe ok failed, beside ok failed" to
# $WORK/beside-KIND-CASE
beside() {
	local kind=$1 case=$2 dir="$WORK/beside.$1.$2.$RANDOM" scen gen='' p b
	start "$kind" "$dir"
	if [ "$case" != quiet ]; then
		scen=$WORK/uac_$kind.xml
		[ "$case" = plain ] && scen=$TOP/bench/sipp/uac_rr.xml
		# from a second before the probe to a second after it
		uac "$dir" "$scen" "$BESIDE" $((BESIDE * (SECS + 2)))
		gen=$UAC_PID
		sleep 1
	fi
	timeout $((SECS + 40)) "$WORK/probe" calls -s 127.0.0.1:"$PX" \
		-l 127.0.0.1:"$PROBE_PORT" -u sip:svc@127.0.0.1:"$UAS" -r "$PROBE" \
		-t "$SECS" > "$dir/probe.out" 2> "$dir/probe.err"
	[ -z "$gen" ] || wait "$gen"
	bench_stop
	p=$dir/probe.out
	b="- -"
	[ -z "$gen" ] || b="$(csvcol "$dir/stat.csv" 16) $(csvcol "$dir/stat.csv" 18)"
	echo "$(kv inv_p50 < "$p") $(kv inv_p99 < "$p") $(kv bye_p50 < "$p")" \
		"$(kv bye_p90 < "$p") $(kv bye_p99 < "$p") $(kv bye_max < "$p")" \
		"$(kv ok < "$p") $(kv failed < "$p") $b" >> "$WORK/beside-$kind-$case"
	echo "$kind, probe $case: $(tail -n 1 "$WORK/beside-$kind-$case")" >&2
	[ "$(kv failed < "$p")" = 0 ] || head -n 3 "$dir/probe.err" >&2
	bench_keep || rm -rf "$dir"
}

echo "# e2m_rate.sh: $(now_utc), $(nproc) CPUs, load average $(loadavg)"
echo "# e2mproxyd $("$PROXY" -V 2>/dev/null | head -n 1) ($PROXY); SIPp $(sipp_version); $(openssl version)"
echo "# $RUNS runs of ${SECS} s per kind and rate, alternating: $KINDS"
for rate in $RATES; do
	for kind in $KINDS; do raw "$kind"; done
	for _ in $(seq 1 "$RUNS"); do
		for kind in $KINDS; do run "$kind" "$rate"; done
	done
done
for kind in $KINDS; do raw "$kind"; done
if [ "$BESIDE" != 0 ]; then
	for _ in $(seq 1 "$RUNS"); do
		for kind in $KINDS; do
			for c in quiet plain e2m; do beside "$kind" "$c"; done
		done
	done
fi

for kind in $KINDS; do
	echo
	echo "$kind proxy key, ${SECS} s runs, medians of $RUNS runs [range]"
	echo
	echo "| calls/s | completed / failed | clean runs | retrans. | proxy CPU ms/call | INVITE->200 p50 / p99 ms | bodies opened |"
	echo "|---|---|---|---|---|---|---|"
	maxc=-
	for rate in $RATES; do
		f=$WORK/$kind-$rate.res
		c=$(cleanruns "$f" $((rate * SECS)))
		[ "$c" = "$RUNS" ] && maxc=$rate
		echo "| $rate | $(med "$f" 1) / $(med "$f" 2) | $c/$RUNS | $(med "$f" 3) | $(med "$f" 4) [$(range "$f" 4)] | $(med "$f" 5) / $(med "$f" 6) | $(med "$f" 7) |"
	done
	rawm=$(median low < "$WORK/raw-$kind")
	echo
	echo "raw d2i + CMS_decrypt ($kind), per second of one core: $rawm [$(range "$WORK/raw-$kind" 1)]"
	echo "max clean rate of e2m calls ($kind): $(maxclean "$maxc" "$RATES")"
	[ "$maxc" = - ] || echo "e2m max clean rate / raw decrypt rate ($kind): $(ratio "$maxc" "$rawm")"
done
if [ "$BESIDE" != 0 ]; then
	echo
	echo "plain calls (the timing probe, $PROBE/s) alone and beside $BESIDE calls/s, ${SECS} s rounds, medians of $RUNS rounds"
	echo
	echo "| proxy key | beside the probe | probe INVITE->200 p50 / p99 ms | probe BYE->200 p50 / p90 / p99 / max ms | probe ok / failed | calls beside ok / failed |"
	echo "|---|---|---|---|---|---|"
	for kind in $KINDS; do
		for c in quiet plain e2m; do
			f=$WORK/beside-$kind-$c
			case $c in
			quiet) what=nothing ;;
			plain) what="$BESIDE plain calls/s" ;;
			e2m) what="$BESIDE e2m calls/s" ;;
			esac
			echo "| $kind | $what | $(med "$f" 1) / $(med "$f" 2) | $(med "$f" 3) / $(med "$f" 4) / $(med "$f" 5) / $(med "$f" 6) | $(med "$f" 7) / $(med "$f" 8) | $(med "$f" 9) / $(med "$f" 10) |"
		done
	done
fi
echo
echo "# load average at the end $(loadavg)"
[ "$BAD" = 0 ] || { echo "some runs' INVITEs were not all opened (above)" >&2; exit 1; }
