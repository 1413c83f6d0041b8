#!/bin/bash
# challenge_speed.sh [-r ROUNDS] [-w SECS] [-s SECS] [-n INFLIGHT]
#                    [-c CALLS_PER_S] [-L SECS] [BUILD_DIR]
# (bash; needs sipp, taskset, openssl, pkg-config, cc and a build)
# Signed challenges through the whole proxy against the raw CMS_sign rate
# on one core, and plain calls' latency beside a challenge flood, in one
# run.
#
#   1. A throwaway PKI (openssl CLI) in a mktemp directory: an EC CA, the
#      proxy's encryption certificate, challenge signing certificates
#      ECDSA P-256 and RSA-2048, and an EnvelopedData made with
#      "openssl cms -encrypt" to some OTHER certificate (no RecipientInfo
#      is the proxy's). bench/challenge_speed.c is built with cc -O2
#      against BUILD_DIR's layer libraries (default _build).
#   2. Three e2mproxyd, all pinned with taskset to CPU A (default 0),
#      inspect.workers = 1, log level warning, UDP on 127.0.0.1:
#        26000  ECDSA challenge key, challenge.rate = 0 (no limit)
#        26001  RSA-2048 challenge key, challenge.rate = 0
#        26002  ECDSA challenge key, challenge.rate/burst left at their
#               defaults (10/s, 20 per source)
#      Policy rules (MESSAGE, required_types text/plain) selected by the
#      From user: "closed" has open_unlabelled = false (the envelope stays
#      closed, 496 at once: the main figure), "tried" open_unlabelled =
#      true (one decryption attempt that finds no RecipientInfo for the
#      proxy, then 496), "integrity" require_integrity = true (a visible
#      text/plain body gets a signed 495).
#   3. A probe: one 496 is captured, its detached signature checked with
#      "openssl cms -verify" against the CA over the signed part, and that
#      signed part becomes the input of the raw figures.
#   4. ROUNDS rounds (default 5), each: on CPU A (proxies idle) the sign
#      figures, SECS each (-s, default 0.4): raw OpenSSL CMS_sign + i2d,
#      our cms_sign(), challenge_build(), for ECDSA and RSA; then from CPU
#      B the closed-loop UDP generator (INFLIGHT requests outstanding,
#      default 32) for -w SECS (default 3) of 496 "closed", then half that
#      each of 403 (a visible text/html body: the same SIP path, no
#      signature), 496 "tried", 495, and 496 from the RSA proxy. Ratio =
#      496 "closed" rate / raw ECDSA CMS_sign rate of the same round;
#      medians over the rounds. The same ratio in CPU time (496s per
#      second of proxy CPU from /proc, signatures per second of thread
#      CPU) is printed too: it holds up when others share the CPU.
#   5. Plain calls: the helper's "calls" mode (a UAC timing each answer
#      in microseconds; SIPp's own response times come in 4 ms steps on
#      this machine) -> proxy -> SIPp UAS, INVITE/180/200/ACK/BYE/200 at
#      CALLS_PER_S (default 50) for -L SECS (default 12) each: through
#      26000 without any flood, through 26000 while the generator floods
#      it from 127.0.0.2 (INFLIGHT outstanding) with undecipherable
#      INVITEs (an EnvelopedData to another certificate where the rule
#      wants application/sdp: a signed 496 each, then the flood's ACK;
#      BENCH_FLOOD=closed floods with MESSAGEs instead),
#      and through 26002 (challenge rate limit at its defaults) with the
#      same flood, and through 26003 (sip.source_rate = 500: datagrams
#      over a source's budget dropped before parsing) with the same
#      INVITEs sent open-loop at BENCH_GUARD_FLOOD (default 10000) a
#      second, evenly paced. INVITE->200 and BYE->200 median / p90 / p99
#      / max, and the datagrams the kernel dropped at the proxy's socket.
#
# The proxies use sip.transaction_timeout = 5000 (Timer J 5 s instead of
# 32 s) so that the completed MESSAGE transactions of a flood do not pile
# up by the hundred thousand (see docs/performance.md on memory).
# Ports 26000-26100 only. Exit status 1 only on a real failure (no signed
# challenge, a bad signature, a proxy that does not start); targets missed
# are reported, not failed. BENCH_KEEP=1 keeps the work directory
# (throwaway keys: never commit them). BENCH_CPUS="A B" picks the CPUs.
set -u

ROUNDS=5 WIN=3 SIGN=0.4 INFLIGHT=32 CPS=50 LSECS=12 GUARD_RATE=500
GUARD_FLOOD=${BENCH_GUARD_FLOOD:-10000}
while getopts r:w:s:n:c:L: o; do
	case $o in
	r) ROUNDS=$OPTARG ;;
	w) WIN=$OPTARG ;;
	s) SIGN=$OPTARG ;;
	n) INFLIGHT=$OPTARG ;;
	c) CPS=$OPTARG ;;
	L) LSECS=$OPTARG ;;
	*) sed -n '2,4p' "$0" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))

TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/bench/lib.sh"
bench_build "${1:-}" || exit 1
[ -x "$PROXY" ] && [ -f "$BUILD/src/e2m/libe2mcore.a" ] || {
	echo "challenge_speed.sh: build first ($BUILD/e2mproxyd and the layer libraries)" >&2
	exit 1
}
for t in sipp taskset openssl pkg-config cc; do
	command -v $t >/dev/null || { echo "challenge_speed.sh: needs $t" >&2; exit 1; }
done
read -r CPU_A CPU_B <<< "${BENCH_CPUS:-0 1}"
[ "$(nproc)" -ge 2 ] || echo "challenge_speed.sh: fewer than 2 CPUs, figures mean little" >&2

PX_EC=26000 PX_RSA=26001 PX_LIM=26002 PX_GUARD=26003
GEN=26010 GEN_FLOOD=26012 UAS=26020 UAC=26022
bench_workdir challenge_speed
PID_ec="" PID_rsa="" PID_lim="" PID_guard=""
fail() { echo "challenge_speed.sh: FAILED: $*" >&2; exit 1; }

# ---- 1. PKI, vectors, helper ----
(
	cd "$WORK" || exit 1
	set -e
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout ca.key -out ca.pem -days 2 -subj "/CN=e2m bench CA" \
		-addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign
	# cert NAME KEYALG EKU
	cert() {
		case $2 in
		ec)  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" ;;
		rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1.key" ;;
		esac
		openssl req -new -key "$1.key" -subj "/CN=$1" -out "$1.csr"
		printf 'subjectAltName=DNS:proxy.example.com\nkeyUsage=critical,digitalSignature,keyAgreement,keyEncipherment\nextendedKeyUsage=%s\n' "$3" > "$1.ext"
		openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
			-days 2 -sha256 -extfile "$1.ext" -out "$1.pem"
		chmod 600 "$1.key"
	}
	cert proxy ec serverAuth,emailProtection
	cert chal_ec ec emailProtection
	cert chal_rsa rsa emailProtection
	cert other ec emailProtection
	printf 'Content-Type: text/plain\r\n\r\nHello Bob, this is for your eyes only.\r\n' > inner.txt
	openssl cms -encrypt -binary -aes-128-cbc -outform DER -in inner.txt \
		-recip other.pem -out env.der
) > "$WORK/pki.log" 2>&1 || { cat "$WORK/pki.log" >&2; fail "PKI"; }

bench_cc "$WORK/challenge_speed" challenge_speed e2m/libe2mcore.a crypto/libe2mcrypto.a \
	common/libe2mcommon.a || fail "cannot build bench/challenge_speed.c"
H=$WORK/challenge_speed

# ---- 2. proxies ----
# conf PORT KEYTAG CHALLENGE_RATE_SETTINGS [SIP_SETTINGS]
conf() {
	cat <<CONF
log: { level = "warning"; };
sip: {
  listen = ( { transport = "udp"; address = "127.0.0.1"; port = $1; } );
  transaction_timeout = 5000;
  ${4:-}
};
inspect: {
  keys = ( { certificate = "$WORK/proxy.pem"; key = "$WORK/proxy.key"; } );
  workers = 1;
  decrypt_rate = 0;
};
policy: { rules = (
  { methods = [ "MESSAGE" ]; from_users = [ "closed" ];
    required_types = [ "text/plain" ]; open_unlabelled = false; },
  { methods = [ "MESSAGE" ]; from_users = [ "tried" ];
    required_types = [ "text/plain" ]; open_unlabelled = true; },
  { methods = [ "MESSAGE" ]; from_users = [ "integrity" ];
    required_types = [ "text/plain" ]; require_integrity = true; },
  { methods = [ "INVITE" ]; from_users = [ "closed" ];
    required_types = [ "application/sdp" ]; open_unlabelled = false; }
); };
challenge: {
  signing_certificate = "$WORK/chal_$2.pem";
  signing_key = "$WORK/chal_$2.key";
  $3
};
CONF
}
start_proxy() { # NAME PORT KEYTAG RATE_SETTINGS [SIP_SETTINGS]
	conf "$2" "$3" "$4" "${5:-}" > "$WORK/$1.conf"
	"$PROXY" -c -f "$WORK/$1.conf" > "$WORK/$1.check" 2>&1 ||
		{ cat "$WORK/$1.check" >&2; fail "config $1"; }
	taskset -c "$CPU_A" "$PROXY" -D -f "$WORK/$1.conf" > "$WORK/$1.log" 2>&1 &
	bench_track $!
	printf -v "PID_$1" %s "$!"
}
start_proxy ec $PX_EC ec "rate = 0;"
start_proxy rsa $PX_RSA rsa "rate = 0;"
start_proxy lim $PX_LIM ec ""
start_proxy guard $PX_GUARD ec "" "source_rate = $GUARD_RATE;"
for p in "$PX_EC $PID_ec" "$PX_RSA $PID_rsa" "$PX_LIM $PID_lim" "$PX_GUARD $PID_guard"; do
	# shellcheck disable=SC2086
	wait_port udp $p || { cat "$WORK"/*.log >&2; fail "a proxy did not start"; }
done

# gen PORT KIND SECS [more flood options]: one closed-loop run from CPU B
gen() {
	local port=$1 kind=$2 secs=$3
	shift 3
	taskset -c "$CPU_B" "$H" flood -s 127.0.0.1:"$port" -l 127.0.0.1:$GEN \
		-k "$kind" -t "$secs" -n "$INFLIGHT" -e "$WORK/env.der" "$@"
}
field() { echo "$1" | kv "$2"; } # LINE KEY

# ---- 3. probe: a real, verifiable 496 ----
mkdir -p "$WORK/probe"
line=$(gen $PX_EC closed 2 -W 0 -m 1 -d "$WORK/probe") || fail "no signed 496 from the proxy: $line"
[ "$(field "$line" r496)" = 1 ] || fail "probe: expected one 496, got: $line"
openssl cms -verify -binary -inform DER -in "$WORK/probe/sig.der" \
	-content "$WORK/probe/signed_part.bin" -CAfile "$WORK/ca.pem" \
	-out /dev/null 2> "$WORK/verify.log" ||
	{ cat "$WORK/verify.log" >&2; fail "the 496's signature does not verify"; }
grep -q "^Warning: 380 .*text/plain" "$WORK/probe/response.bin" ||
	fail "the 496 lacks Warning 380 for text/plain"
cp "$WORK/probe/signed_part.bin" "$WORK/signed_part.bin"
RESP_BYTES=$(wc -c < "$WORK/probe/response.bin")
PART_BYTES=$(wc -c < "$WORK/signed_part.bin")
for k in "html r403" "tried r496" "integrity r495"; do
	set -- $k
	line=$(gen $PX_EC "$1" 2 -W 0 -m 1) && [ "$(field "$line" "$2")" = 1 ] ||
		fail "probe $1: expected ${2#r}, got: $line"
done
line=$(gen $PX_RSA closed 2 -W 0 -m 1) && [ "$(field "$line" r496)" = 1 ] ||
	fail "probe RSA proxy: expected 496, got: $line"
echo "probe: signed 496 verified (openssl cms -verify), ${RESP_BYTES} bytes on the wire, signed part ${PART_BYTES} bytes"
echo "$(openssl version); proxies and sign figures on CPU $CPU_A, generator and SIPp on CPU $CPU_B"

# ---- 4. rounds ----
# A sustained flood first: until completed transactions start to expire
# (Timer J, 5 s) the proxy's heap only grows, and fresh pages cost page
# faults; a flood that lasts reaches a steady state, which the rounds
# measure. The cold start is reported apart.
cold=$(gen $PX_EC closed 6 -W 0 -P "$PID_ec") || fail "warm-up flood"
gen $PX_RSA closed 2 -W 0 > /dev/null || fail "warm-up flood RSA"
echo "cold start, first 6 s of a 496 flood: $(field "$cold" rate)/s, proxy CPU $(field "$cold" proxy_us_per_resp) us and $(field "$cold" proxy_minflt_per_resp) minor faults per 496"
HALF=$(awk -v w="$WIN" 'BEGIN { print w / 2 }')
: > "$WORK/rounds.txt"
for r in $(seq 1 "$ROUNDS"); do
	s=$(taskset -c "$CPU_A" "$H" sign -t "$SIGN" "$WORK") || fail "sign figures"
	c=$(gen $PX_EC closed "$WIN" -W 1 -P "$PID_ec") || fail "flood closed"
	h=$(gen $PX_EC html "$HALF" -P "$PID_ec") || fail "flood html"
	t=$(gen $PX_EC tried "$HALF" -P "$PID_ec") || fail "flood tried"
	i=$(gen $PX_EC integrity "$HALF" -P "$PID_ec") || fail "flood integrity"
	x=$(gen $PX_RSA closed "$HALF" -P "$PID_rsa") || fail "flood RSA"
	[ "$(field "$c" r496)" -gt 0 ] || fail "round $r: no 496 at all: $c"
	get() { echo "$s" | awk -v k="$1" '$1 == k { print $2 }'; }
	printf '%s\n' "round $r raw_ec $(get raw_ec) mod_ec $(get mod_ec) build_ec $(get build_ec)" \
		"raw_ec_cpu $(get raw_ec_cpu) raw_rsa_cpu $(get raw_rsa_cpu) build_ec_cpu $(get build_ec_cpu)" \
		"c496_cpu $(awk -v u="$(field "$c" proxy_us_per_resp)" 'BEGIN { print (u > 0 ? 1e6 / u : 0) }')" \
		"x496_cpu $(awk -v u="$(field "$x" proxy_us_per_resp)" 'BEGIN { print (u > 0 ? 1e6 / u : 0) }')" \
		"raw_rsa $(get raw_rsa) mod_rsa $(get mod_rsa) build_rsa $(get build_rsa)" \
		"c496 $(field "$c" rate) c496_us $(field "$c" proxy_us_per_resp)" \
		"c496_busy $(field "$c" proxy_busy) c496_gen $(field "$c" gen_busy)" \
		"c496_bad $(($(field "$c" final) - $(field "$c" r496))) c496_lost $(field "$c" lost)" \
		"c496_minflt $(field "$c" proxy_minflt_per_resp)" \
		"h403 $(field "$h" rate) h403_us $(field "$h" proxy_us_per_resp)" \
		"t496 $(field "$t" rate) t496_us $(field "$t" proxy_us_per_resp)" \
		"i495 $(field "$i" rate) i495_us $(field "$i" proxy_us_per_resp)" \
		"x496 $(field "$x" rate) x496_us $(field "$x" proxy_us_per_resp)" |
		paste -sd' ' >> "$WORK/rounds.txt"
	tail -1 "$WORK/rounds.txt" | awk '{ for (i = 1; i < NF; i++) f[$i] = $(i + 1)
		printf "round %d: raw ECDSA CMS_sign %.0f/s, 496 closed %.0f/s (ratio %.2f; CPU-time ratio %.2f, proxy busy %.2f), 403 %.0f/s, 496 tried %.0f/s, 495 %.0f/s; raw RSA %.0f/s, 496 RSA %.0f/s (ratio %.2f)\n", f["round"], f["raw_ec"], f["c496"], f["c496"] / f["raw_ec"], f["c496_cpu"] / f["raw_ec_cpu"], f["c496_busy"], f["h403"], f["t496"], f["i495"], f["raw_rsa"], f["x496"], f["x496"] / f["raw_rsa"] }'
done

# ---- 5. plain calls beside a flood ----
cat > "$WORK/uas.xml" <<'XML'
<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="uas_rtd">
  <recv request="INVITE"/>
  <send>
    <![CDATA[
      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      [last_Record-Route:]
      Contact: <sip:[local_ip]:[local_port]>
      Content-Length: 0

    ]]>
  </send>
  <send retrans="500">
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      [last_Record-Route:]
      Contact: <sip:[local_ip]:[local_port]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 53655765 2353687637 IN IP4 [local_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000
    ]]>
  </send>
  <recv request="ACK" crlf="true"/>
  <recv request="BYE"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
</scenario>
XML
(cd "$WORK" && exec taskset -c "$CPU_B" sipp -sf uas.xml -i 127.0.0.1 -p $UAS \
	-mp 26040 -cp 26060 -nostdin -buff_size 4194304 > uas.out 2>&1) &
bench_track $!
wait_port udp $UAS $! || fail "the SIPp UAS did not start"

# sock_drops PORT: datagrams the kernel dropped at the proxy's socket on
# 127.0.0.1:PORT (receive queue full), from /proc/net/udp
sock_drops() {
	awk -v a="$(printf '0100007F:%04X' "$1")" '$2 == a { print $NF }' /proc/net/udp
}

# calls NAME PROXY_PORT FLOOD(0|1) [PID [INFLIGHT [FLOOD OPTIONS]]]: timed
# calls, optionally beside a flood
calls() {
	local name=$1 port=$2 flood=$3 fpid="" fline=- line d0
	d0=$(sock_drops "$port")
	if [ "$flood" = 1 ]; then
		taskset -c "$CPU_B" "$H" flood -s 127.0.0.1:"$port" \
			-l 127.0.0.2:$GEN_FLOOD -k "${BENCH_FLOOD:-invite}" -t $((LSECS + 2)) -W 1 \
			-n "${5:-$INFLIGHT}" -e "$WORK/env.der" -P "$4" ${6:-} > "$WORK/flood_$name.out" &
		fpid=$!
		bench_track "$fpid"
		sleep 1
	fi
	line=$(taskset -c "$CPU_B" "$H" calls -s 127.0.0.1:"$port" -l 127.0.0.1:$UAC \
		-u sip:svc@127.0.0.1:$UAS -r "$CPS" -t "$LSECS")
	if [ -n "$fpid" ]; then
		wait "$fpid"
		fline=$(cat "$WORK/flood_$name.out")
	fi
	echo "$name $line sockdrops $(( $(sock_drops "$port") - d0 ))" >> "$WORK/latency.txt"
	echo "$name $fline" >> "$WORK/floods.txt"
}
: > "$WORK/latency.txt"
: > "$WORK/floods.txt"
calls quiet $PX_EC 0
calls flood $PX_EC 1 "$PID_ec"
calls limited $PX_LIM 1 "$PID_lim"
# Against the datagram budget a closed loop of 32 would mostly wait for
# its dropped requests (1 s each): an open loop instead, GUARD_FLOOD
# requests a second evenly paced, whatever comes back (a closed loop of
# thousands re-sends its lost requests in synchronised bursts larger than
# any socket buffer, a test of the kernel's queue, not of the proxy).
calls guarded $PX_GUARD 1 "$PID_guard" 8192 "-R $GUARD_FLOOD"

# ---- summary ----
# (of an even count of rounds, the mean of the middle two: these are rates,
# not counts; the default 5 rounds make it moot)
rmed() { # KEY: median over rounds of column KEY of rounds.txt
	awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }' "$WORK/rounds.txt" |
		median mean
}
rratio() { # EXPR over rounds (awk, fields by name) -> "median [min..max]"
	awk -v e="$1" '{ for (i = 1; i < NF; i++) f[$i] = $(i + 1)
		split(e, p, "/"); x = f[p[1]] / f[p[2]]; print x }' "$WORK/rounds.txt" |
		sort -g | awk '{ a[NR] = $1 } END { m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.2f [%.2f..%.2f]", m, a[1], a[NR] }'
}
echo
echo "==== challenge_speed summary ($ROUNDS rounds; medians, [min..max] for ratios) ===="
printf '%-58s %10s\n' "figure (one core)" "per s"
printf '%-58s %10.0f\n' "raw OpenSSL CMS_sign + i2d, ECDSA P-256, ${PART_BYTES} B" "$(rmed raw_ec)" \
	"module cms_sign, ECDSA P-256" "$(rmed mod_ec)" \
	"challenge_build (whole signed body), ECDSA P-256" "$(rmed build_ec)" \
	"proxy: signed 496, envelope not opened (closed), ECDSA" "$(rmed c496)" \
	"proxy: signed 496 after a decryption attempt (tried)" "$(rmed t496)" \
	"proxy: signed 495 (require_integrity)" "$(rmed i495)" \
	"proxy: unsigned 403 (missing PRMB, same SIP path)" "$(rmed h403)" \
	"raw OpenSSL CMS_sign + i2d, RSA-2048" "$(rmed raw_rsa)" \
	"module cms_sign, RSA-2048" "$(rmed mod_rsa)" \
	"challenge_build, RSA-2048" "$(rmed build_rsa)" \
	"proxy: signed 496 closed, RSA-2048" "$(rmed x496)"
printf '%-58s %10.0f\n' "raw CMS_sign CPU us, ECDSA" "$(awk -v r="$(rmed raw_ec_cpu)" 'BEGIN { print 1e6 / r }')" \
	"challenge_build CPU us, ECDSA" "$(awk -v r="$(rmed build_ec_cpu)" 'BEGIN { print 1e6 / r }')" \
	"proxy CPU us per 496 closed (ECDSA)" "$(rmed c496_us)" \
	"proxy CPU us per 403" "$(rmed h403_us)" \
	"proxy CPU us per 496 tried" "$(rmed t496_us)" \
	"proxy CPU us per 496 closed (RSA)" "$(rmed x496_us)"
printf '%-58s %10.2f\n' "proxy minor page faults per 496 closed (steady state)" "$(rmed c496_minflt)" \
	"proxy CPU busy during the 496 closed window" "$(rmed c496_busy)" \
	"generator CPU busy during that window" "$(rmed c496_gen)"
RATIO=$(rratio c496/raw_ec)
echo "RATIO whole-proxy 496 (closed) / raw CMS_sign, ECDSA P-256: $RATIO  (target >= 0.8)"
echo "same in CPU time (496 per proxy CPU second / CMS_sign per CPU second), ECDSA: $(rratio c496_cpu/raw_ec_cpu)"
echo "ratio whole-proxy 496 (closed) / module cms_sign, ECDSA:     $(rratio c496/mod_ec)"
echo "ratio whole-proxy 496 (tried) / raw CMS_sign, ECDSA:         $(rratio t496/raw_ec)"
echo "ratio whole-proxy 496 (closed) / raw CMS_sign, RSA-2048:     $(rratio x496/raw_rsa)"
echo "same in CPU time, RSA-2048:                                  $(rratio x496_cpu/raw_rsa_cpu)"
echo "496 closed windows: non-496 finals $(awk '{ for (i = 1; i < NF; i++) if ($i == "c496_bad") s += $(i + 1) } END { print s + 0 }' "$WORK/rounds.txt"), lost $(awk '{ for (i = 1; i < NF; i++) if ($i == "c496_lost") s += $(i + 1) } END { print s + 0 }' "$WORK/rounds.txt")"
echo
echo "plain calls, $CPS calls/s for ${LSECS}s each; response times in ms (INVITE->200, BYE->200):"
awk '{ delete f; for (i = 2; i < NF; i++) f[$i] = $(i + 1)
	printf "  %-8s ok %s/%s failed %s retrans %s | INVITE p50 %s p90 %s p99 %s max %s | BYE p50 %s p99 %s max %s | socket drops %s\n", $1, f["ok"], f["calls"], f["failed"], f["retrans"], f["inv_p50"], f["inv_p90"], f["inv_p99"], f["inv_max"], f["bye_p50"], f["bye_p99"], f["bye_max"], f["sockdrops"] }' "$WORK/latency.txt"
echo "floods beside them (from 127.0.0.2, $INFLIGHT outstanding):"
grep -v ' -$' "$WORK/floods.txt" | awk '{ delete f; for (i = 2; i < NF; i++) f[$i] = $(i + 1)
	printf "  %-8s sent %s, %s finals/s: 496 %s, 503 %s, other %s, lost %s; proxy CPU busy %s\n", $1, f["sent"], f["rate"], f["r496"], f["r503"], f["other"], f["lost"], f["proxy_busy"] }'
if awk -v r="${RATIO%% *}" 'BEGIN { exit !(r >= 0.8) }'; then
	echo "target (>= 0.8): met"
else
	echo "target (>= 0.8): NOT met"
fi
errs=$(grep -ci 'error' "$WORK"/ec.log "$WORK"/rsa.log "$WORK"/lim.log "$WORK"/guard.log | awk -F: '{ s += $2 } END { print s }')
[ "$errs" = 0 ] || { echo "proxy log lines with 'error': $errs"; grep -hi error "$WORK"/*.log | sort | uniq -c | head -5; }
exit 0
