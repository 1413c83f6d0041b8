#!/bin/bash
# e2mua, first part: MESSAGEs with plain, signed, encrypted,
# shared and separate bodies through e2mproxyd to a UAS, and the 496
# discovery loop (answered for an allowed proxy; refused off the
# allow-list, without trust anchors, or under another CA). The proxy's log
# says what it could open; the UAS's copy of each body is opened and
# checked with the openssl command line (bodies made by our code, read by
# the independent tool).
. "$TOP_SRCDIR/tests/integration/lib.sh"
. "$TOP_SRCDIR/tests/integration/pki.sh"
t_init e2mua 21360
E2MUA=${E2MUA:-$(dirname "$E2MPROXYD")/e2mua}
K=$WORK
# The proxy's certificate signs challenges too: an S/MIME signer for the UA.
pki_ca "$K" && PKI_EKU=serverAuth,clientAuth,emailProtection pki_cert "$K" proxy "DNS:proxy.test" proxy.test &&
	pki_cert "$K" uas "DNS:uas.test" uas.test &&
	PKI_EKU=emailProtection pki_cert "$K" alice "email:alice@example.com" alice
ok $? "test PKI made with openssl"

cat > "$WORK/px.conf" <<CONF
log: { level = "debug"; };
sip: {
  listen = ( { transport = "udp"; address = "127.0.0.1"; port = $PX_PORT; },
             { transport = "tcp"; address = "127.0.0.1"; port = $PX_PORT; } );
  own_names = [ "proxy.test" ];
};
inspect: { keys = ( { certificate = "$K/proxy.pem"; key = "$K/proxy.key"; } );
           trust_anchors = [ "$K/ca.pem" ]; };
policy: { rules = (
  { methods = [ "MESSAGE" ]; from_users = [ "integrity" ]; required_types = [ "text/plain" ];
    require_integrity = true; },
  { methods = [ "MESSAGE" ]; required_types = [ "text/plain" ]; },
  { methods = [ "INVITE" ]; required_types = [ "application/sdp" ]; } ); };
challenge: { signing_certificate = "$K/proxy.pem"; signing_key = "$K/proxy.key"; };
CONF
start_proxy "$WORK/px.conf" proxy
ok $? "proxy starts"
start_uas tcp "$WORK/uas" 20 60
ok $? "the test UAS listens"

N=0
TO="sip:bob@127.0.0.1:$UAS_PORT;transport=tcp"
# ua NAME WANT-EXIT ARGS...: one MESSAGE to $TO; its JSON line in NAME.json
# (runs one after the other, so they share one local port)
ua() {
	local name=$1 want=$2 rc
	shift 2
	"$E2MUA" -t "$TO" -o "sip:127.0.0.1:$PX_PORT;transport=tcp" \
		-b "sip:127.0.0.1:$UAC_PORT;transport=tcp" -T 5 -m "meet me at noon" \
		"$@" > "$WORK/$name.json" 2> "$WORK/$name.err"
	rc=$?
	[ "$rc" -eq "$want" ]
	ok $? "$name: exit status $rc, want $want ($(cat "$WORK/$name.json"))"
}
logged() {
	grep -q "$1" "$WORK/proxy.log"
	ok $? "proxy log: $1"
}

ua plain 0
N=$((N + 1))
grep -q '"status":200' "$WORK/plain.json"
ok $? "plain: JSON reports 200"
printf 'meet me at noon' | cmp -s - "$WORK/uas/$N.body"
ok $? "plain: the UAS got the text"
grep -q "^To: <sip:bob@127.0.0.1:$UAS_PORT;transport=tcp>" "$WORK/uas/$N.head"
ok $? "plain: To carries -t's URI parameters inside the brackets"

ua peer_only 5 -e "$K/uas.pem"
grep -q '"status":496,.*"refused":"no trust anchors' "$WORK/peer_only.json"
ok $? "encrypted to the peer only: 496, not answered without trust anchors"

# Digest 4.6: a signed, fresh challenge from an allowed proxy is answered
# by adding the proxy as a recipient and sending again.
ua answered 0 -e "$K/uas.pem" -r "$K/ca.pem" -a proxy.test
N=$((N + 1))
grep -q '"status":200,.*"disclosed_to":\["proxy.test"\],"challenges":1' "$WORK/answered.json"
ok $? "496 answered: 200 after disclosing to proxy.test, one challenge"
cid=$(grep -o '[0-9a-f]*@e2mua' "$WORK/uas/$N.head" | head -1)
logged "MESSAGE inspected: targets 1 ($cid opened)"
grep -q '^CSeq: 2 MESSAGE' "$WORK/uas/$N.head"
ok $? "496 answered: the retry has the next CSeq"
ua off_list 5 -e "$K/uas.pem" -r "$K/ca.pem" -a other.test
grep -q '"checks":\[{"status":496,"result":"refused"}\],"refused":"the proxy is not on the allow-list"' "$WORK/off_list.json"
ok $? "a proxy not on the allow-list: refused, nothing disclosed"
grep -q '"disclosed_to":\[\]' "$WORK/off_list.json"
ok $? "  disclosed to nobody"
# The same from a configuration file, with a cache: the first request
# learns the proxy from its 496, the next is right the first time.
cat > "$WORK/alice.conf" <<CONF
from = "sip:alice@example.com";
sign_certificate = "$K/alice.pem"; sign_key = "$K/alice.key";
peer_certificates = [ "$K/uas.pem" ];
trust_anchors = [ "$K/ca.pem" ];
allowed_proxies = [ "proxy.test" ];
cache = "$WORK/alice.cache";
CONF
ua cfg_learn 0 -F "$WORK/alice.conf"
N=$((N + 1))
grep -q '"status":200,.*"disclosed_to":\["proxy.test"\],"challenges":1' "$WORK/cfg_learn.json"
ok $? "config file: signed, encrypted, 496 answered, 200"
grep -q 'host = "proxy.test"' "$WORK/alice.cache" && grep -q 'types = \[ "text/plain" \]' "$WORK/alice.cache" &&
	[ "$(stat -c %a "$WORK/alice.cache")" = 600 ]
ok $? "cache: the proxy, its required type and certificate kept (mode 600)"
ua cfg_cached 0 -F "$WORK/alice.conf"
N=$((N + 1))
grep -q '"status":200,.*"disclosed_to":\["proxy.test"\],"from_cache":\["proxy.test"\],"challenges":0' "$WORK/cfg_cached.json"
ok $? "cache: the next MESSAGE is disclosed at once, no challenge"
grep -qi '^CSeq: 1 MESSAGE' "$WORK/uas/$N.head" && grep -qi '^Proxy-Inspect-Body: proxy.test' "$WORK/uas/$N.head"
ok $? "cache: first attempt (CSeq 1) already labelled for the proxy"
sed 's/allowed_proxies = .*/allowed_proxies = [ "other.test" ];/' "$WORK/alice.conf" > "$WORK/alice2.conf"
ua cfg_dropped 5 -F "$WORK/alice2.conf"
grep -q 'cached proxy proxy.test dropped: the proxy is not on the allow-list' "$WORK/cfg_dropped.err" &&
	grep -q '"disclosed_to":\[\]' "$WORK/cfg_dropped.json"
ok $? "cache: an entry no longer allowed is not used (and the 496 refused)"
! grep -q 'proxy.test' "$WORK/alice.cache"
ok $? "cache: and it is forgotten"
printf 'from = "sip:a@b";\ncolour = 1;\ntimeout = "x";\n' > "$WORK/bad.conf"
ua cfg_bad 2 -F "$WORK/bad.conf"
grep -q 'bad.conf:2: unknown setting "colour"' "$WORK/cfg_bad.err" &&
	grep -q 'bad.conf:3: timeout: expected a number' "$WORK/cfg_bad.err"
ok $? "a bad config file: every error as file:line, exit 2"

# A legacy (unsigned) challenge proves nothing: refused, nothing disclosed.
PX2=$((BASE + 17))
sed -e "s/port = $PX_PORT;/port = $PX2;/g" \
	-e 's/challenge: {/challenge: { mode = "legacy-unsigned";/' "$WORK/px.conf" > "$WORK/px2.conf"
start_proxy "$WORK/px2.conf" proxy2
ok $? "a second proxy, challenging legacy-unsigned"
"$E2MUA" -t "$TO" -o "sip:127.0.0.1:$PX2;transport=tcp" -b "sip:127.0.0.1:$UAC_PORT;transport=tcp" \
	-T 5 -e "$K/uas.pem" -r "$K/ca.pem" -a proxy.test > "$WORK/unsigned.json" 2>&1
[ $? -eq 5 ] && grep -q '"status":496,.*"disclosed_to":\[\],.*"refused":"unsigned challenge"' "$WORK/unsigned.json"
ok $? "an unsigned 496: refused (exit 5), disclosed to nobody"

mkdir -p "$WORK/other" && pki_ca "$WORK/other"
ua untrusted 5 -e "$K/uas.pem" -r "$WORK/other/ca.pem" -a proxy.test
grep -q '"refused":"signer certificate path validation failed"' "$WORK/untrusted.json"
ok $? "a challenge signed under another CA: refused"

ua shared 0 -s "$K/alice.pem:$K/alice.key" -e "$K/uas.pem" -x "proxy.test=$K/proxy.pem"
N=$((N + 1))
logged 'MESSAGE inspected: targets 1 ([0-9a-f]*@e2mua opened); closed 0; visible text/plain; signatures 1 \[valid inside alice <alice@example.com>\]'
grep -q '"disclosed_to":\["proxy.test"\]' "$WORK/shared.json"
ok $? "shared: JSON names the proxy it disclosed to"
grep -qi '^Proxy-Inspect-Body: proxy.test;cid="[0-9a-f]*@e2mua"' "$WORK/uas/$N.head"
ok $? "shared: the label reached the UAS in canonical form"
openssl cms -decrypt -binary -inform DER -in "$WORK/uas/$N.body" -recip "$K/uas.pem" \
	-inkey "$K/uas.key" -out "$WORK/shared.plain" 2>/dev/null &&
	grep -q '^Content-Type: multipart/signed' "$WORK/shared.plain"
ok $? "shared: the UAS's copy opens with openssl cms -decrypt, signed inside"
openssl cms -decrypt -binary -inform DER -in "$WORK/uas/$N.body" -recip "$K/proxy.pem" \
	-inkey "$K/proxy.key" -out /dev/null 2>/dev/null
ok $? "shared: the proxy's key opens the same envelope"

# RSA certificates work as well as EC ones (key transport, RSA-OAEP).
PKI_KEY=rsa pki_cert "$K" uasrsa "DNS:uasrsa.test" uasrsa.test
ua rsa 0 -e "$K/uasrsa.pem" -x "proxy.test=$K/proxy.pem"
N=$((N + 1))
logged 'MESSAGE inspected: targets 1 ([0-9a-f]*@e2mua opened); closed 0; visible text/plain'
openssl cms -decrypt -binary -inform DER -in "$WORK/uas/$N.body" -recip "$K/uasrsa.pem" \
	-inkey "$K/uasrsa.key" -out "$WORK/rsa.plain" 2>/dev/null &&
	grep -q 'meet me at noon' "$WORK/rsa.plain"
ok $? "RSA: the UAS's RSA key opens the envelope with openssl cms -decrypt"

ua separate 0 -e "$K/uas.pem" -x "proxy.test=$K/proxy.pem" -S -C
N=$((N + 1))
logged 'MESSAGE inspected: targets 1 ([0-9a-f]*@e2mua opened); closed 1; visible text/plain; signatures 0'
grep -qi '^Content-Type: multipart/mixed' "$WORK/uas/$N.head"
ok $? "separate: multipart/mixed reached the UAS"

# A 495 is answered by signing and sending again; without a key, refused.
ua lazy 0 -f sip:integrity@example.com -s "$K/alice.pem:$K/alice.key" -L
N=$((N + 1))
grep -q '"status":200,"phrase":"OK","signed":true,.*"challenges":1' "$WORK/lazy.json"
ok $? "495 answered: signed on request, 200, one challenge"
logged 'MESSAGE policy: rule at line [0-9]* -> 495: signature required'
grep -qi '^Content-Type: multipart/signed' "$WORK/uas/$N.head"
ok $? "495 answered: the retry reached the UAS signed"
ua nokey 5 -f sip:integrity@example.com
grep -q '"refused":"495: a signature is required and no key was given' "$WORK/nokey.json"
ok $? "495 without a signing key: refused"

# e2mua as the UAS: it opens what was encrypted to it, checks the inner
# signature and shows the text; a body made by the openssl command line
# reads the same; one it cannot open gets 493.
UAS2=$((BASE + 15))
"$E2MUA" -l -b "sip:127.0.0.1:$UAS2;transport=tcp" -k "$K/uas.pem:$K/uas.key" \
	-r "$K/ca.pem" -N 3 -T 30 > "$WORK/uas2.out" 2> "$WORK/uas2.err" &
UAS2_PID=$!
PIDS="$PIDS $UAS2_PID"
wait_listen tcp "$UAS2"
TO="sip:bob@127.0.0.1:$UAS2;transport=tcp"
ua to_e2mua 0 -f sip:alice@example.com -s "$K/alice.pem:$K/alice.key" -e "$K/uas.pem" -x "proxy.test=$K/proxy.pem"
printf 'Content-Type: text/plain\r\n\r\nfrom the openssl CLI' > "$WORK/cli.txt"
openssl cms -encrypt -binary -aes-128-cbc -in "$WORK/cli.txt" -outform DER \
	-out "$WORK/cli.der" -recip "$K/uas.pem"
openssl cms -encrypt -binary -aes-128-cbc -in "$WORK/cli.txt" -outform DER \
	-out "$WORK/notforme.der" -recip "$K/proxy.pem"
rawmsg() {
	local len
	len=$(stat -c %s "$2")
	{
		printf 'MESSAGE %s SIP/2.0\r\n' "$TO"
		printf 'Via: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK-%s-%s\r\n' "$1" "$RANDOM"
		printf 'From: <sip:cli@example.com>;tag=c\r\nTo: <sip:bob@example.com>\r\n'
		printf 'Call-ID: %s-%s@test\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\n' "$1" "$RANDOM"
		printf 'Content-Type: application/pkcs7-mime; smime-type=enveloped-data\r\n'
		printf 'Content-Length: %s\r\n\r\n' "$len"
		cat "$2"
	} > "$WORK/$1.sip"
	python3 "$TOP_SRCDIR/tests/integration/sipraw.py" tcp 127.0.0.1 "$UAS2" "$WORK/$1.sip" 5
}
[ "$(rawmsg cli "$WORK/cli.der")" = "SIP/2.0 200 OK" ]
ok $? "e2mua UAS: a body made by openssl cms -encrypt answered 200"
rawmsg notforme "$WORK/notforme.der" | grep -q '^SIP/2.0 493 '
ok $? "e2mua UAS: a body it cannot open answered 493"
wait_pid "$UAS2_PID" 10 2>/dev/null
grep -q '"from":"sip:alice@example.com".*"status":200,"decrypted":1,"undecipherable":0,"signatures":1,"valid":1,"signer":"alice <alice@example.com>","type":"text/plain","text":"meet me at noon"' "$WORK/uas2.out"
ok $? "e2mua UAS: opened, inner signature valid, text shown"
grep -q '"from":"sip:cli@example.com","status":200,"decrypted":1.*"text":"from the openssl CLI"' "$WORK/uas2.out"
ok $? "e2mua UAS: the openssl CLI's envelope read"
grep -q '"status":493,"decrypted":0,"undecipherable":1' "$WORK/uas2.out"
ok $? "e2mua UAS: 493 reported for the one it could not open"

# A call: the offer encrypted to the callee only gets a 496; e2mua checks
# it, discloses to the proxy and calls again; the callee (e2mua -l) opens
# the offer and answers with SDP encrypted back to the caller and the
# proxy; ACK, then BYE.
UAS3=$((BASE + 16))
"$E2MUA" -l -b "sip:127.0.0.1:$UAS3;transport=tcp" -k "$K/uas.pem:$K/uas.key" \
	-r "$K/ca.pem" -e "$K/alice.pem" -x "proxy.test=$K/proxy.pem" -N 2 -T 30 \
	> "$WORK/uas3.out" 2> "$WORK/uas3.err" &
UAS3_PID=$!
PIDS="$PIDS $UAS3_PID"
wait_listen tcp "$UAS3"
TO="sip:bob@127.0.0.1:$UAS3;transport=tcp"
ua call 0 -I -H 0 -f sip:alice@example.com -e "$K/uas.pem" -r "$K/ca.pem" -a proxy.test \
	-k "$K/alice.pem:$K/alice.key"
grep -q '"method":"INVITE","status":200,.*"disclosed_to":\["proxy.test"\],"challenges":1,"checks":\[{"status":496,"proxy":"proxy.test","wants":\["application/sdp"\],"result":"verified"}\],"bye":200' "$WORK/call.json"
ok $? "call: 496 answered, 200, BYE answered 200"
grep -q '"answer":{"decrypted":1,"undecipherable":0,"signatures":0,"valid":0,"type":"application/sdp","text":"v=0' "$WORK/call.json"
ok $? "call: the caller opened the callee's SDP answer with its key"
logged 'INVITE policy: rule at line [0-9]* -> 496: required body undecipherable'
logged 'INVITE 200 inspected: targets 1 ([0-9a-f]*@e2mua opened); closed 0; visible application/sdp'
wait_pid "$UAS3_PID" 10 2>/dev/null
grep -q '"received":"INVITE","from":"sip:alice@example.com","status":200,"decrypted":1,.*"type":"application/sdp"' "$WORK/uas3.out" &&
	grep -q '"received":"BYE"' "$WORK/uas3.out"
ok $? "call: the callee opened the offer and got the BYE"

ua usage 2 -x "proxy.test"
ua no_peer 3 -x "proxy.test=$K/proxy.pem"
grep -q 'needs an encrypted body' "$WORK/no_peer.err"
ok $? "disclosing to a proxy without encrypting is refused with a message"
# e2mua(1) documents every option and every configuration setting the
# program knows, and renders without groff warnings.
MAN=$TOP_SRCDIR/docs/e2mua.1
missing=""
for o in $(grep -o '#define OPTSTRING "[^"]*"' "$TOP_SRCDIR/src/ua/uaopts.c" |
	sed 's/.*"\(.*\)"/\1/' | tr -d ':' | fold -w1); do
	grep -Eq "^\.It Fl $o( |\$)" "$MAN" || missing="$missing -$o"
done
for k in $(sed -n 's/^\t{ "\([a-z_]*\)", K_.*/\1/p' "$TOP_SRCDIR/src/ua/uaopts.c"); do
	grep -q "^\.It Ic .*\b$k\b" "$MAN" || missing="$missing $k"
done
[ -z "$missing" ]
ok $? "e2mua(1) documents every option and setting${missing:+ (missing:$missing)}"
[ -z "$(groff -mandoc -ww -z -t "$MAN" 2>&1)" ]
ok $? "e2mua(1) renders without warnings"
t_done
