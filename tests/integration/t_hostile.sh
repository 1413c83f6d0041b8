#!/bin/bash
# Hostile traffic from one address (127.0.0.2; svwar's socket 127.0.0.1)
# while another (127.0.0.3) places calls: sipvicious (svmap, svwar over REGISTER and INVITE) within
# sip.source_rate; svcrash's malformed response; a flood of requests that
# draw signed 496s, counted against the signatures the proxy made
# (/metrics); oversized, deeply nested and malformed bodies refused before
# any decryption, malformed CMS answered as any undecipherable body. The
# other caller's calls all complete, every outcome shows in /metrics and
# the text passes promtool. (t_challenge_limits.sh and t_source_budget.sh
# check the budgets themselves; this is the attack tools' view.)
. "$TOP_SRCDIR/tests/integration/lib.sh"
. "$TOP_SRCDIR/tests/integration/pki.sh"
t_init hostile 23000
CHAL="$TOP_SRCDIR/tests/integration/challenge.py"
M_PORT=$((BASE + 3))
SUAS_PORT=$((BASE + 12))
K=$WORK/pki
mkdir -p "$K" "$WORK/flood" "$WORK/b"
for t in svmap svwar; do
	command -v $t > /dev/null || { echo "1..0 # SKIP $t missing (scripts/deps.sh)"; exit 77; }
done
pki_ca "$K" && pki_cert "$K" sign_ec "DNS:proxy.test" proxy.test &&
	pki_cert "$K" proxy_ec "DNS:proxy.test" proxy.test && pki_cert "$K" uas "DNS:uas.test" uas.test
ok $? "test PKI made with openssl"

# 127.0.0.1 is an own name on any port: sipvicious addresses sip:127.0.0.1
# (port 5060), which must not be forwarded out of this test's ports.
cat > "$WORK/px.conf" <<CONF
log: { level = "debug"; };
sip: {
  listen = ( { transport = "udp"; address = "127.0.0.1"; port = $PX_PORT; },
             { transport = "tcp"; address = "127.0.0.1"; port = $PX_PORT; } );
  own_names = [ "proxy.test", "127.0.0.1" ];
  source_rate = 30; source_burst = 60;
  max_message_size = 65536;
};
inspect: {
  keys = ( { certificate = "$K/proxy_ec.pem"; key = "$K/proxy_ec.key"; } );
  max_body = 16384; max_depth = 8;
};
policy: { rules = ( { methods = [ "MESSAGE" ]; required_types = [ "text/plain" ]; } ); };
challenge: {
  signing_certificate = "$K/sign_ec.pem"; signing_key = "$K/sign_ec.key";
  rate = 2; burst = 5;
};
metrics: { enabled = true; port = $M_PORT; };
CONF
start_proxy "$WORK/px.conf" proxy
ok $? "proxy starts: sip.source_rate 30/s burst 60, challenge.rate 2/s burst 5"
scrape() { curl -sf "http://127.0.0.1:$M_PORT/metrics" > "$WORK/$1.prom"; }
metric() { awk -v m="$2" '$1 == m { print $2 + 0 }' "$WORK/$1.prom"; }
scrape m0

# The other caller: 20 calls from 127.0.0.3 through the proxy, over UDP,
# at 4 a second, while the scanners run (the UAS on 127.0.0.4: 127.0.0.1
# is the proxy's own name).
sipp_bg uas -sf "$SCEN/uas_call.xml" -i 127.0.0.4 -p "$SUAS_PORT" -m 20
SUAS=$LAST_PID
wait_listen udp "$SUAS_PORT"
timeout 60 "$SIPP" -sf "$SCEN/uac_call.xml" 127.0.0.4:"$SUAS_PORT" -rsa 127.0.0.1:"$PX_PORT" \
	-i 127.0.0.3 -p "$UAC_PORT" -m 20 -r 4 -s service -nostdin -trace_err \
	-error_file "$WORK/uac.err.log" > "$WORK/uac.out.log" 2>&1 &
UAC=$!
PIDS="$PIDS $UAC"

# ------------------------------------------------------------ sipvicious
timeout 30 svmap -p"$PX_PORT" -b 127.0.0.2 -P $((BASE + 13)) 127.0.0.1 > "$WORK/svmap.out" 2>&1
grep -q "127.0.0.1:$PX_PORT" "$WORK/svmap.out"
ok $? "svmap from 127.0.0.2 finds the proxy ($(grep -c "127.0.0.1:$PX_PORT" "$WORK/svmap.out") line)"
t0=$(date +%s.%N)
# svwar binds 0.0.0.0 whatever -b says: it sends from 127.0.0.1 (-P keeps
# it off 5060, its default).
timeout 40 svwar -e100-299 -m REGISTER -p"$PX_PORT" -b 127.0.0.2 -P $((BASE + 14)) 127.0.0.1 > "$WORK/svwar.out" 2>&1
timeout 40 svwar -e100-149 -m INVITE -p"$PX_PORT" -b 127.0.0.2 -P $((BASE + 14)) 127.0.0.1 > "$WORK/svwar2.out" 2>&1
t1=$(date +%s.%N)
grep -q 'found nothing' "$WORK/svwar.out" && grep -q 'found nothing' "$WORK/svwar2.out"
ok $? "svwar (200 REGISTERs, 50 INVITEs) enumerates no extension"
n404=$(grep -c 'REGISTER answered 404 Not Found\|INVITE answered 404 Not Found' "$WORK/proxy.log")
[ "$(grep -c 'answered [0-9]* .*udp 127.0.0.1:'$((BASE + 14)) "$WORK/proxy.log")" -eq "$n404" ] && [ "$n404" -gt 0 ]
ok $? "  every extension it got through gets the same 404 ($n404)"
svcrash_msg=$(python3 -c 'import sys; sys.path.insert(0, "/usr/share/sipvicious")
from sipvicious import svcrash; sys.stdout.write(svcrash.crashmsg)' 2>/dev/null)
[ -n "$svcrash_msg" ]
ok $? "svcrash's counter-attack packet read from its module"
printf '%s' "$svcrash_msg" > "$WORK/svcrash.sip"
python3 "$TOP_SRCDIR/tests/integration/sipraw.py" udp 127.0.0.1 "$PX_PORT" "$WORK/svcrash.sip" 1 > "$WORK/svcrash.out"
grep -q TIMEOUT "$WORK/svcrash.out"
ok $? "svcrash's malformed 200 sent to the proxy: dropped, nothing answered"
wait_pid "$UAC" 60
ok $? "127.0.0.3 completed its 20 calls during the scans"
wait_pid "$SUAS" 10
scrape m1
n_src=$(( $(metric m1 'e2mproxy_rate_limited_total{limit="source"}') - $(metric m0 'e2mproxy_rate_limited_total{limit="source"}') ))
n_reg=$(metric m1 'e2mproxy_requests_total{method="REGISTER"}')
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", b - a + 1 }')
[ "$n_src" -gt 0 ] && [ "${n_reg:-0}" -le $((60 + 30 * secs + 30)) ]
ok $? "the budget held: $n_src datagrams dropped; $n_reg REGISTERs parsed in ${secs} s (at most 60 + 30/s)"
kill -0 "$PX_PID" && proxy_answers
ok $? "proxy alive and answering after the scans"

# ------------------------------------------------------- challenge flood
P7M='application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m'
printf 'Content-Type: text/plain\r\n\r\nflood' > "$WORK/txt.mime"
openssl cms -encrypt -binary -aes-128-cbc -in "$WORK/txt.mime" -outform DER \
	-out "$WORK/bob.p7m" -recip "$K/uas.pem"
ok $? "an undecipherable body made with openssl cms -encrypt"
# tmpl FILE NAME BODYFILE CONTENT-TYPE: a labelled MESSAGE, @N@ per copy
tmpl() {
	local len
	len=$(stat -c %s "$3")
	{
		printf 'MESSAGE sip:bob@127.0.0.1:%s;transport=tcp SIP/2.0\r\n' "$UAS_PORT"
		printf 'Via: SIP/2.0/TCP 127.0.0.1:9;rport;branch=z9hG4bK-%s-@N@-%s\r\n' "$2" "$RANDOM"
		printf 'From: <sip:alice@example.com>;tag=%s@N@\r\nTo: <sip:bob@example.com>\r\n' "$2"
		printf 'Call-ID: %s-@N@-%s@test\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\n' "$2" "$RANDOM"
		printf 'Content-Type: %s\r\n' "$4"
		printf 'Content-ID: <m1@example.com>\r\nProxy-Inspect-Body: proxy.test;cid="m1@example.com"\r\n'
		printf 'Content-Length: %s\r\n\r\n' "$len"
		cat "$3"
	} > "$1"
}
scrape m2
tmpl "$WORK/flood.sip" flood "$WORK/bob.p7m" "$P7M"
s0=$(date +%s.%N)
python3 "$CHAL" burst tcp "$PX_PORT" "$WORK/flood.sip" 400 "$WORK/flood" 20 --bind 127.0.0.2 > "$WORK/flood.out"
s1=$(date +%s.%N)
tmpl "$WORK/other.sip" other "$WORK/bob.p7m" "$P7M"
python3 "$CHAL" burst tcp "$PX_PORT" "$WORK/other.sip" 1 "$WORK/b" 5 --bind 127.0.0.3 > "$WORK/other.out"
scrape m3
f496=$(awk '$2 == 496' "$WORK/flood.out" | wc -l)
f503=$(awk '$2 == 503' "$WORK/flood.out" | wc -l)
signed=$(( $(metric m3 'e2mproxy_challenges_total{kind="496"}') - $(metric m2 'e2mproxy_challenges_total{kind="496"}') ))
limited=$(( $(metric m3 'e2mproxy_rate_limited_total{limit="challenge"}') - $(metric m2 'e2mproxy_rate_limited_total{limit="challenge"}') ))
dlimited=$(( $(metric m3 'e2mproxy_rate_limited_total{limit="decrypt"}') - $(metric m2 'e2mproxy_rate_limited_total{limit="decrypt"}') ))
fsecs=$(awk -v a="$s0" -v b="$s1" 'BEGIN { printf "%d", b - a + 1 }')
[ $((f496 + f503)) -eq 400 ] && [ "$f496" -ge 5 ] && [ "$f496" -le $((5 + 2 * fsecs)) ]
ok $? "400 undecipherable requests from 127.0.0.2 in ${fsecs} s: $f496 signed 496s (burst 5 + 2/s), $f503 unsigned 503s"
grep -q '^0 496$' "$WORK/other.out"
ok $? "127.0.0.3 is still challenged (its own budget)"
# A body labelled for the proxy meets the decryption budget
# (inspect.decrypt_rate, default) first, then the challenge budget.
[ "$signed" -eq $((f496 + 1)) ] && [ $((limited + dlimited)) -eq "$f503" ]
ok $? "metrics: signatures made $signed = $f496 + 1 for 127.0.0.3; rate-limited $limited (challenge) + $dlimited (decrypt) = the 503s"
proxy_answers
ok $? "proxy still answers after the flood"

# ------------------------------------------------------------- bodies
# Each is refused before anything is decrypted: the decryption counters
# do not move. Malformed CMS is an undecipherable body (496) whose DER
# does not parse: cms_parse() fails before any key is used.
scrape m4
head -c 20000 /dev/urandom > "$WORK/big.der"
tmpl "$WORK/b/big.t" big "$WORK/big.der" "$P7M"
{ # 20 levels of multipart/mixed around a labelled envelope
	for i in $(seq 1 20); do printf -- '--n%d\r\nContent-Type: multipart/mixed; boundary=n%d\r\n\r\n' "$i" $((i + 1)); done
	printf -- '--n21\r\nContent-Type: %s\r\nContent-ID: <m1@example.com>\r\n\r\n' "$P7M"
	cat "$K/../bob.p7m"; printf '\r\n--n21--\r\n'
	for i in $(seq 20 -1 1); do printf -- '\r\n--n%d--\r\n' "$i"; done
} > "$WORK/deep.mime"
tmpl "$WORK/b/deep.t" deep "$WORK/deep.mime" 'multipart/mixed; boundary=n1'
printf -- '--b1\r\nContent-Type: text/plain\r\n\r\nno end' > "$WORK/badmime.body"
tmpl "$WORK/b/badmime.t" badmime "$WORK/badmime.body" 'multipart/mixed; boundary=b1'
head -c 700 /dev/urandom > "$WORK/badcms.der"
tmpl "$WORK/b/badcms.t" badcms "$WORK/badcms.der" "$P7M"
for n in big deep badmime badcms; do
	sed "s/@N@/1/g" "$WORK/b/$n.t" > "$WORK/b/$n.sip"
done
python3 "$CHAL" each "$WORK/b" big deep badmime -- send tcp "$PX_PORT" @.sip @.resp 5 --bind 127.0.0.3 > "$WORK/bodies.out"
scrape m5
code() { head -1 "$WORK/b/$1.resp" 2>/dev/null | awk '{ print $2 }'; }
[ "$(code big)" = 413 ]
ok $? "a 20,000-byte body over inspect.max_body: 413 ($(code big))"
[ "$(code deep)" = 400 ] && grep -q 'bad body: MIME nesting too deep' "$WORK/proxy.log"
ok $? "multipart nested 20 deep: 400, logged as nesting too deep ($(code deep))"
[ "$(code badmime)" = 400 ]
ok $? "a multipart body without its closing boundary: 400 ($(code badmime))"
d_ok=$(( $(metric m5 'e2mproxy_decrypts_total{result="opened"}') - $(metric m4 'e2mproxy_decrypts_total{result="opened"}') ))
d_bad=$(( $(metric m5 'e2mproxy_decrypts_total{result="undecipherable"}') - $(metric m4 'e2mproxy_decrypts_total{result="undecipherable"}') ))
[ "$d_ok" -eq 0 ] && [ "$d_bad" -eq 0 ]
ok $? "  no decryption attempted for any of the three (opened +$d_ok, undecipherable +$d_bad)"
python3 "$CHAL" send tcp "$PX_PORT" "$WORK/b/badcms.sip" "$WORK/b/badcms.resp" 5 --bind 127.0.0.3 > /dev/null
scrape m6
[ "$(code badcms)" = 496 ]
ok $? "700 random bytes labelled as an envelope for the proxy: 496, as any undecipherable body ($(code badcms))"
d_bad=$(( $(metric m6 'e2mproxy_decrypts_total{result="undecipherable"}') - $(metric m5 'e2mproxy_decrypts_total{result="undecipherable"}') ))
[ "$d_bad" -eq 1 ]
ok $? "  counted once as undecipherable (+$d_bad)"
promtool check metrics < "$WORK/m6.prom" > "$WORK/promtool.out" 2>&1
ok $? "promtool check metrics passes"
kill -0 "$PX_PID" && proxy_answers
ok $? "proxy alive and answering at the end"
t_done
