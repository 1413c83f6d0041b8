#!/bin/bash
# soak.sh - mixed traffic through one e2mproxyd for a long time: failed
# calls and memory over time.
#
# usage: bench/soak.sh [-r RATE | -m MAX_CLEAN_RATE] [-s SECS] [-w WARMUP]
#                      [-b BUILD_DIR]
#
# RATE (default: half of -m, else 500) requests a second in all, split:
#   50 %  plain calls (SIPp uac_call.xml: INVITE/180/200/ACK/BYE,
#         record-routed, UDP), no policy rule applies
#   20 %  e2m calls: the same call, but the INVITE's SDP is an S/MIME
#         EnvelopedData to the proxy's EC key (made with openssl cms
#         -encrypt, base64), labelled Proxy-Inspect-Body: the proxy opens
#         it on its worker threads (rule: application/sdp required)
#   20 %  MESSAGEs labelled and encrypted to the proxy, opened, forwarded
#         to a SIPp UAS, 200
#   10 %  MESSAGEs encrypted to someone else, labelled: undecipherable,
#         answered with a signed 496 challenge (ECDSA; challenge.rate = 0)
# REGISTERs are not part of the mix: the edge proxy needs a registrar
# behind it (bench/edge_speed.sh measures that path with Kamailio).
# For SECS seconds (default 600), the proxy's VmRSS (/proc/PID/status) and
# PSS (/proc/PID/smaps_rollup) are sampled every 10 s with the load
# average; after the warm-up (WARMUP s, default 120) each sample is
# compared with the mean of the first minute after the warm-up. Targets:
# 0 failed calls (every SIPp scenario, 496s included, ends as expected)
# and VmRSS within +-5 % after the warm-up. Exit 0 when both hold. (PSS
# is shown, not judged: the share of the libraries' pages it counts
# changes with whatever else runs them, other e2mproxyd included.)
# Ports 23050-23079 on 127.0.0.1 (/metrics on 23051) (BENCH_PORT moves them); kills only what
# it started; BENCH_KEEP=1 keeps the work directory (throwaway keys: never
# commit them).
set -u
RATE= MAX= SECS=600 WARM=120 BUILD=
while getopts r:m:s:w:b: o; do
	case $o in
	r) RATE=$OPTARG ;;
	m) MAX=$OPTARG ;;
	s) SECS=$OPTARG ;;
	w) WARM=$OPTARG ;;
	b) BUILD=$OPTARG ;;
	*) sed -n 's/^# usage: //p' "$0" >&2; exit 2 ;;
	esac
done
if [ -z "$RATE" ]; then
	if [ -n "$MAX" ]; then RATE=$((MAX / 2)); else RATE=500; fi
fi
[ "$WARM" -lt "$SECS" ] || { echo "warm-up must be shorter than the run" >&2; exit 2; }
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/bench/lib.sh"
bench_build "$BUILD" || exit 1
bench_need_proxy
SCEN=$TOP/tests/integration/scenarios
bench_workdir e2m-soak
P=${BENCH_PORT:-23050}
PX=$P UAS_CALL=$((P + 10)) UAS_MSG=$((P + 11))

# --- a throwaway PKI and the bodies
. "$TOP/tests/integration/pki.sh"
K=$WORK
{ pki_ca "$K" && pki_cert "$K" proxy_ec "DNS:proxy.test" proxy.test &&
	pki_cert "$K" bob "DNS:bob.test" bob.test; } >/dev/null 2>&1 ||
	{ echo "cannot make the test PKI" >&2; exit 1; }
printf 'Content-Type: application/sdp\r\n\r\nv=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n' > "$WORK/sdp.mime"
printf 'Content-Type: text/plain\r\n\r\nHello from the soak.\r\n' > "$WORK/txt.mime"
enc() { # IN OUT CERT: base64 of a DER EnvelopedData
	openssl cms -encrypt -binary -aes-128-cbc -in "$1" -outform DER "$3" |
		base64 -w 76 > "$2"
}
enc "$WORK/sdp.mime" "$WORK/sdp_px.b64" "$K/proxy_ec.pem" &&
	enc "$WORK/txt.mime" "$WORK/txt_px.b64" "$K/proxy_ec.pem" &&
	enc "$WORK/txt.mime" "$WORK/txt_bob.b64" "$K/bob.pem" ||
	{ echo "openssl cms -encrypt failed" >&2; exit 1; }

cat > "$WORK/px.conf" <<CONF
log: { level = "warning"; };
sip: {
  listen = ( { transport = "udp"; address = "127.0.0.1"; port = $PX; },
             { transport = "tcp"; address = "127.0.0.1"; port = $PX; } );
  own_names = [ "proxy.test" ];
};
inspect: {
  keys = ( { certificate = "$K/proxy_ec.pem"; key = "$K/proxy_ec.key"; } );
  trust_anchors = [ "$K/ca.pem" ];
  workers = 2;
  decrypt_rate = 0;
};
policy: {
  rules = (
    { methods = [ "INVITE" ]; from_users = [ "e2m" ]; required_types = [ "application/sdp" ]; },
    { methods = [ "MESSAGE" ]; from_users = [ "im", "chal" ]; required_types = [ "text/plain" ]; }
  );
};
metrics: { enabled = true; port = $((P + 1)); };
challenge: {
  signing_certificate = "$K/proxy_ec.pem"; signing_key = "$K/proxy_ec.key";
  rate = 0;
};
CONF

# --- scenarios: the suite's, with another From user and body
P7M='application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m'
LABEL_HDRS="Content-ID: <m1@example.com>
      Proxy-Inspect-Body: proxy.test;cid=\"m1@example.com\"
      Content-Transfer-Encoding: base64"
bench_scenario "$SCEN/uac_call.xml" "$WORK/uac_e2m.xml" e2m "$P7M" "$LABEL_HDRS" "$WORK/sdp_px.b64" &&
	bench_scenario "$SCEN/uac_message.xml" "$WORK/uac_im.xml" im "$P7M" "$LABEL_HDRS" "$WORK/txt_px.b64" &&
	bench_scenario "$SCEN/uac_message.xml" "$WORK/uac_chal.xml" chal "$P7M" "$LABEL_HDRS" "$WORK/txt_bob.b64" 496 ||
	{ echo "cannot make the scenarios" >&2; exit 1; }

"$PROXY" -D -f "$WORK/px.conf" > "$WORK/proxy.log" 2>&1 &
PXPID=$!
bench_track $PXPID
wait_port udp $PX $PXPID || { cat "$WORK/proxy.log"; exit 1; }
SIPP_OPTS="-nostdin -buff_size 4194304 -trace_err -trace_stat -fd 10"
sipp -sf "$SCEN/uas_call.xml" -i 127.0.0.1 -p $UAS_CALL $SIPP_OPTS \
	-error_file "$WORK/uas_call.err" -stf "$WORK/uas_call.csv" > "$WORK/uas_call.out" 2>&1 &
bench_track $!
wait_port udp $UAS_CALL $! || { cat "$WORK/uas_call.out"; exit 1; }
sipp -sf "$SCEN/uas_message_any.xml" -i 127.0.0.1 -p $UAS_MSG $SIPP_OPTS \
	-error_file "$WORK/uas_msg.err" -stf "$WORK/uas_msg.csv" > "$WORK/uas_msg.out" 2>&1 &
bench_track $!
wait_port udp $UAS_MSG $! || { cat "$WORK/uas_msg.out"; exit 1; }
# NAME SCENARIO UAS_PORT RATE LOCAL_PORT
UACS="plain:$SCEN/uac_call.xml:$UAS_CALL:$((RATE * 50 / 100)):$((P + 20))
e2m:$WORK/uac_e2m.xml:$UAS_CALL:$((RATE * 20 / 100)):$((P + 21))
im:$WORK/uac_im.xml:$UAS_MSG:$((RATE * 20 / 100)):$((P + 22))
chal:$WORK/uac_chal.xml:$UAS_MSG:$((RATE * 10 / 100)):$((P + 23))"
UACPIDS=
for u in $UACS; do
	IFS=: read -r name scen port r lport <<<"$u"
	[ "$r" -gt 0 ] || continue
	timeout $((SECS + 120)) sipp -sf "$scen" 127.0.0.1:$port -rsa 127.0.0.1:$PX -i 127.0.0.1 \
		-p "$lport" -s bob -r "$r" -m $((r * SECS)) -l $((r * 40)) $SIPP_OPTS \
		-error_file "$WORK/$name.err" -stf "$WORK/$name.csv" > "$WORK/$name.out" 2>&1 &
	UACPIDS="$UACPIDS $!"
	bench_track $!
done
echo "soak: $RATE requests/s (plain calls 50 %, e2m calls 20 %, MESSAGE 20 %, MESSAGE+496 10 %) for ${SECS}s, warm-up ${WARM}s; proxy pid $PXPID; $(now_utc)"
echo "t_s vmrss_kib pss_kib load1 failed_so_far"
t=0
: > "$WORK/mem.txt"
running() { local p; for p in $UACPIDS; do kill -0 "$p" 2>/dev/null && return 0; done; return 1; }
while running; do
	sleep 10
	t=$((t + 10))
	kill -0 $PXPID 2>/dev/null || { echo "the proxy died"; break; }
	rss=$(rss $PXPID)
	pss=$(pss $PXPID)
	load=$(cut -d' ' -f1 /proc/loadavg)
	# SIPp's cumulative failed calls (column 18 of -trace_stat)
	nf=$(for u in $UACS; do IFS=: read -r name _ <<<"$u"; tail -1 "$WORK/$name.csv" 2>/dev/null; done |
		awk -F';' '$18 ~ /^[0-9]+$/ { n += $18 } END { print n + 0 }')
	echo "$t $rss $pss $load $nf" | tee -a "$WORK/mem.txt"
done
wait $UACPIDS 2>/dev/null
failed=0 unplaced=0
for u in $UACS; do
	IFS=: read -r name scen port r lport <<<"$u"
	[ "$r" -gt 0 ] || continue
	s=$(csvcol "$WORK/$name.csv" 16) f=$(csvcol "$WORK/$name.csv" 18)
	echo "$name: $r/s, successful ${s:-?}, failed ${f:-?} (of $((r * SECS)))"
	failed=$((failed + ${f:-0}))
	# not placed: SIPp fell behind its rate and was stopped at the bound
	unplaced=$((unplaced + r * SECS - ${s:-0} - ${f:-0}))
done
[ "$unplaced" -eq 0 ] || echo "not placed: $unplaced (the generator fell behind: the machine is too busy for this rate)"
# what the proxy counted: decryptions, signed challenges, responses
curl -sf "http://127.0.0.1:$((P + 1))/metrics" > "$WORK/metrics.txt" &&
	grep -E '^e2mproxy_(decrypts|signatures|challenges|responses|busy|rate_limited)_total' \
	"$WORK/metrics.txt" | grep -v ' 0$' | sed 's/^/metrics: /'
echo "proxy CPU: $(ticks $PXPID) ticks ($(getconf CLK_TCK)/s); load average at the end: $(loadavg)"
# memory after the warm-up against the first minute after it
awk -v w="$WARM" '
	$1 > w && $1 <= w + 60 { br += $2; bp += $3; nb++ }
	$1 > w { r[++n] = $2; p[n] = $3 }
	END {
		if (nb == 0) { print "memory: no sample after the warm-up"; exit 1 }
		br /= nb; bp /= nb
		for (i = 1; i <= n; i++) {
			dr = (r[i] - br) * 100 / br; dp = (p[i] - bp) * 100 / bp
			if (dr > mr) mr = dr; if (dr < lr) lr = dr
			if (dp > mp) mp = dp; if (dp < lp) lp = dp
		}
		printf "memory after the warm-up (%d s): VmRSS %.0f KiB (%+.1f %% .. %+.1f %%), PSS %.0f KiB (%+.1f %% .. %+.1f %%) around the mean of the first minute\n", w, br, lr, mr, bp, lp, mp
		exit (mr > 5 || lr < -5) ? 1 : 0
	}' "$WORK/mem.txt"
memrc=$?
echo "verdict: failed calls $failed (target 0): $([ $failed -eq 0 ] && [ $unplaced -eq 0 ] && echo met || echo MISSED); VmRSS within +-5 %: $([ $memrc -eq 0 ] && echo met || echo MISSED)"
[ "$failed" -eq 0 ] && [ "$unplaced" -eq 0 ] && [ $memrc -eq 0 ]
