#!/bin/bash
# Private-key work is rate-limited per source address (digest 4.6, R11):
# a burst of undecipherable requests from one address gets challenge.burst
# signed 496s and then cheap 503s with Retry-After and no body, while
# another address is still challenged; the bucket refills. A decryption
# flood from one address gets 503s beyond inspect.decrypt_burst while a
# second address (127.0.0.2) places calls and MESSAGEs that all succeed.
. "$TOP_SRCDIR/tests/integration/lib.sh"
. "$TOP_SRCDIR/tests/integration/pki.sh"
t_init challenge_limits 21320
CHAL="$TOP_SRCDIR/tests/integration/challenge.py"
K=$WORK/pki
mkdir -p "$K" "$WORK/uas" "$WORK/burst" "$WORK/flood" "$WORK/b"
pki_ca "$K" && pki_cert "$K" sign_ec "DNS:proxy.test" proxy.test &&
	pki_cert "$K" proxy_ec "DNS:proxy.test" proxy.test && pki_cert "$K" uas "DNS:uas.test" uas.test
ok $? "test PKI made with openssl"

P7M='application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m'
printf 'Content-Type: text/plain\r\n\r\nflood' > "$WORK/txt.mime"
openssl cms -encrypt -binary -aes-128-cbc -in "$WORK/txt.mime" -outform DER \
	-out "$WORK/bob.p7m" -recip "$K/uas.pem" &&
	openssl cms -encrypt -binary -aes-128-cbc -in "$WORK/txt.mime" -outform DER \
	-out "$WORK/px.p7m" -recip "$K/proxy_ec.pem" -recip "$K/uas.pem"
ok $? "bodies made with openssl cms -encrypt"

# tmpl FILE NAME BODYFILE: a labelled MESSAGE with @N@ for burst/each
# (BODYFILE "" for a plain text MESSAGE)
tmpl() {
	local len ct=$P7M body=$3
	if [ -z "$body" ]; then
		body=$WORK/plain.txt ct=text/plain
		printf 'hello' > "$body"
	fi
	len=$(stat -c %s "$body")
	{
		printf 'MESSAGE sip:bob@127.0.0.1:%s;transport=tcp SIP/2.0\r\n' "$UAS_PORT"
		printf 'Via: SIP/2.0/TCP 127.0.0.1:9;rport;branch=z9hG4bK-%s-@N@-%s\r\n' "$2" "$RANDOM"
		printf 'From: <sip:alice@example.com>;tag=%s@N@\r\nTo: <sip:bob@example.com>\r\n' "$2"
		printf 'Call-ID: %s-@N@-%s@test\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\n' "$2" "$RANDOM"
		printf 'Content-Type: %s\r\n' "$ct"
		[ "$ct" = "$P7M" ] && printf 'Content-ID: <m1@example.com>\r\nProxy-Inspect-Body: proxy.test;cid="m1@example.com"\r\n'
		printf 'Content-Length: %s\r\n\r\n' "$len"
		cat "$body"
	} > "$1"
}

# conf FILE CHALLENGE-RATE CHALLENGE-BURST DECRYPT-RATE DECRYPT-BURST
conf() {
	cat > "$1" <<CONF
log: { level = "debug"; };
sip: {
  listen = ( { transport = "udp"; address = "127.0.0.1"; port = $PX_PORT; },
             { transport = "tcp"; address = "127.0.0.1"; port = $PX_PORT; } );
  own_names = [ "proxy.test" ];
};
inspect: {
  keys = ( { certificate = "$K/proxy_ec.pem"; key = "$K/proxy_ec.key"; } );
  workers = 1; # decryptions finish in arrival order: "the first 5" is exact
  retry_after = 7;
  decrypt_rate = $4; decrypt_burst = $5;
};
policy: { rules = ( { methods = [ "MESSAGE" ]; required_types = [ "text/plain" ]; } ); };
challenge: {
  signing_certificate = "$K/sign_ec.pem"; signing_key = "$K/sign_ec.key";
  rate = $2; burst = $3;
};
CONF
}

# count CODE FILE: how many "N CODE" lines
count() {
	awk -v c="$1" '$2 == c' "$2" | wc -l
}

# ------------------------------------------ challenges: rate 1, burst 5
conf "$WORK/a.conf" 1 5 0 1
start_proxy "$WORK/a.conf" proxy
ok $? "proxy starts with challenge.rate 1, challenge.burst 5"
start_uas tcp "$WORK/uas" 1000 60
ok $? "the test UAS listens"

tmpl "$WORK/burst.sip" burst "$WORK/bob.p7m"
python3 "$CHAL" burst tcp "$PX_PORT" "$WORK/burst.sip" 15 "$WORK/burst" 10 > "$WORK/burst.out"
n496=$(count 496 "$WORK/burst.out")
n503=$(count 503 "$WORK/burst.out")
[ "$(awk '$1 < 5 && $2 == 496' "$WORK/burst.out" | wc -l)" -eq 5 ]
ok $? "the first 5 (challenge.burst) undecipherable requests get 496"
[ "$n496" -le 7 ] && [ "$((n496 + n503))" -eq 15 ]
ok $? "then 503: 15 requests, $n496 got 496 (at most the burst and a refill or two), $n503 got 503"
bad=0
for i in $(awk '$2 == 503 { print $1 }' "$WORK/burst.out"); do
	f=$WORK/burst/$i.resp
	grep -q '^Retry-After: 7' "$f" && grep -qi '^Content-Length: 0' "$f" &&
		! grep -qi '^Content-Type:' "$f" || bad=$((bad + 1))
done
[ "$n503" -gt 0 ] && [ "$bad" -eq 0 ]
ok $? "every 503 has Retry-After and no body ($bad without)"
[ "$(grep -c 'answered 503: challenge rate limit' "$WORK/proxy.log")" -eq "$n503" ]
ok $? "each 503 is logged as 'answered 503: challenge rate limit'"
i=$(awk '$2 == 496 { print $1; exit }' "$WORK/burst.out")
sed "s/@N@/$i/g" "$WORK/burst.sip" > "$WORK/burst_$i.sip"
python3 "$CHAL" check "$WORK/burst_$i.sip" "$WORK/burst/$i.resp" "$K/ca.pem" "$K/proxy_ec.pem" \
	"$WORK/burst.chk" --signer "$K/sign_ec.pem" > "$WORK/burst.chk.out" 2>&1
r=$?
ok $r "the 496s within the burst are proper signed challenges"
[ $r -eq 0 ] || grep -v '^PASS' "$WORK/burst.chk.out" | sed 's/^/#   /'

# Another source address has its own bucket.
tmpl "$WORK/other.sip" other "$WORK/bob.p7m"
python3 "$CHAL" burst tcp "$PX_PORT" "$WORK/other.sip" 1 "$WORK/b" 5 --bind 127.0.0.2 > "$WORK/other.out"
[ "$(count 496 "$WORK/other.out")" -eq 1 ]
ok $? "a request from 127.0.0.2 still gets its 496"

# The bucket refills at challenge.rate.
sleep 2.2
tmpl "$WORK/later.sip" later "$WORK/bob.p7m"
python3 "$CHAL" burst tcp "$PX_PORT" "$WORK/later.sip" 1 "$WORK/b" 5 > "$WORK/later.out"
[ "$(count 496 "$WORK/later.out")" -eq 1 ]
ok $? "after two seconds 127.0.0.1 is challenged again"

# ----------------------- decryptions: rate 5, burst 10; challenges off
kill "$PX_PID" 2>/dev/null
wait "$PX_PID" 2>/dev/null
conf "$WORK/b.conf" 0 1 5 10
start_proxy "$WORK/b.conf" proxy_b
ok $? "proxy starts with inspect.decrypt_rate 5, decrypt_burst 10"
PXLOG=$WORK/proxy_b.log

# 127.0.0.1 floods decryptable requests (one every 10 ms, until the test
# says stop: it outlasts the other source's traffic on any machine);
# meanwhile 127.0.0.2 sends plain MESSAGEs, a few decryptable ones (within
# its own burst) and places calls with SIPp.
tmpl "$WORK/flood.sip" flood "$WORK/px.p7m"
F0=$(date +%s%N)
python3 "$CHAL" burst tcp "$PX_PORT" "$WORK/flood.sip" 6000 "$WORK/flood" 15 --gap 0.01 \
	--until "$WORK/flood.stop" > "$WORK/flood.out" &
FLOOD=$!
PIDS="$PIDS $FLOOD"
sipp_bg uas -sf "$SCEN/uas_call.xml" -i 127.0.0.1 -p "$((UAS_PORT + 1))" -t t1 -m 5
SUAS=$LAST_PID
wait_listen tcp "$((UAS_PORT + 1))"
NAMES=""
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
	if [ $((i % 3)) -eq 0 ]; then
		tmpl "$WORK/b/m$i.t" "b$i" "$WORK/px.p7m"
	else
		tmpl "$WORK/b/m$i.t" "b$i" ""
	fi
	sed "s/@N@/$i/g" "$WORK/b/m$i.t" > "$WORK/b/m$i.sip"
	NAMES="$NAMES m$i"
done
# shellcheck disable=SC2086
python3 "$CHAL" each "$WORK/b" $NAMES -- send tcp "$PX_PORT" @.sip @.resp 5 --bind 127.0.0.2
sipp_run uac -sf "$SCEN/uac_call.xml" 127.0.0.1:"$((UAS_PORT + 1))" -rsa 127.0.0.1:"$PX_PORT" \
	-i 127.0.0.2 -p "$UAC_PORT" -t t1 -m 5 -r 10 -s service
ok $? "127.0.0.2 completes 5 calls through the proxy during the flood"
still=0
kill -0 "$FLOOD" 2>/dev/null && still=1
touch "$WORK/flood.stop"
wait_pid "$SUAS" 10
bad=0
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
	head -1 "$WORK/b/m$i.resp" 2>/dev/null | grep -q '^SIP/2.0 200 ' || bad=$((bad + 1))
done
[ "$bad" -eq 0 ]
ok $? "all 12 MESSAGEs from 127.0.0.2 got 200 during the flood ($bad did not)"
bad=0
for i in 3 6 9 12; do
	n=$(sed -n "s/^.* tx \([0-9]*\): received MESSAGE .* call-id b$i-.*/\1/p" "$PXLOG" | head -1)
	grep -q "tx $n: MESSAGE inspected: targets 1 (m1@example.com opened)" "$PXLOG" || bad=$((bad + 1))
done
[ "$bad" -eq 0 ]
ok $? "the 4 encrypted ones from 127.0.0.2 were decrypted, not rate-limited"
wait "$FLOOD"
fsecs=$((($(date +%s%N) - F0 + 999999999) / 1000000000))
# The flood was still going on while 127.0.0.2 was served (it runs until
# the stop file; only its 6,000 at 10 ms, a minute, would end it sooner),
# and flood requests were received after the last of 127.0.0.2's MESSAGEs.
last_b=$(grep -n 'received MESSAGE .* call-id b12-' "$PXLOG" | cut -d: -f1)
last_f=$(grep -n 'received MESSAGE .* call-id flood-' "$PXLOG" | tail -1 | cut -d: -f1)
[ "$still" -eq 1 ] && [ "${last_f:-0}" -gt "${last_b:-0}" ]
ok $? "the flood overlapped the other source's traffic"
fsent=$(wc -l < "$WORK/flood.out")
f200=$(count 200 "$WORK/flood.out")
f503=$(count 503 "$WORK/flood.out")
# At most the burst and 5 a second of the flood's time decrypted.
fmax=$((10 + 5 * (fsecs + 1)))
[ "$fsent" -gt 10 ] && [ "$((f200 + f503))" -eq "$fsent" ] && [ "$f200" -ge 10 ] &&
	[ "$f200" -le "$fmax" ]
ok $? "the flood: all $fsent answered, at least the burst of 10 decrypted, at most $fmax in ${fsecs} s ($f200 got 200, $f503 got 503)"
bad=0
for i in $(awk '$2 == 503 { print $1 }' "$WORK/flood.out"); do
	grep -q '^Retry-After: 7' "$WORK/flood/$i.resp" || bad=$((bad + 1))
done
[ "$f503" -gt 0 ] && [ "$bad" -eq 0 ]
ok $? "every 503 of the flood has Retry-After ($bad without)"
[ "$(grep -c 'MESSAGE answered 503: decryption rate limit' "$PXLOG")" -eq "$f503" ]
ok $? "each is logged as 'answered 503: decryption rate limit'"
proxy_answers
ok $? "proxy still answers"
t_done
