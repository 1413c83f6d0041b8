#!/bin/bash
# The decrypt stage: labelled S/MIME parts made by the openssl command line
# are opened on worker threads (RSA and EC recipients, OAEP, GCM, -keyid,
# key rollover, base64), signatures inside envelopes are checked, anything
# undecipherable is one outcome, limits answer 413/400 before any crypto,
# and the body always leaves byte-identical.
. "$TOP_SRCDIR/tests/integration/lib.sh"
. "$TOP_SRCDIR/tests/integration/pki.sh"
t_init inspect 21260
K=$WORK
pki_ca "$K" && pki_cert "$K" proxy_ec "DNS:proxy.test" proxy.test &&
	pki_cert "$K" uas "DNS:uas.test" uas.test && PKI_EKU=emailProtection pki_cert "$K" alice "email:alice@example.com" alice &&
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$K/proxy_rsa.key" -out "$K/proxy_rsa.pem" \
		-days 2 -subj /CN=proxy.test 2>/dev/null && chmod 600 "$K/proxy_rsa.key"
ok $? "test PKI made with openssl (EC and RSA proxy keys)"

cat > "$WORK/px.conf" <<CONF
log: { level = "debug"; };
sip: {
  listen = ( { transport = "udp"; address = "127.0.0.1"; port = $PX_PORT; },
             { transport = "tcp"; address = "127.0.0.1"; port = $PX_PORT; } );
  own_names = [ "proxy.test" ];
};
inspect: {
  keys = ( { certificate = "$K/proxy_ec.pem"; key = "$K/proxy_ec.key"; },
           { certificate = "$K/proxy_rsa.pem"; key = "$K/proxy_rsa.key"; } );
  trust_anchors = [ "$K/ca.pem" ];
  max_body = 8192;
  workers = 2;
  content_ciphers = [ "aes-128-cbc", "aes-128-gcm", "aes-256-gcm" ];
};
# Inspect everything labelled, refuse nothing: the decrypt stage on its own.
policy: { rules = ( { reject_on_labelled_failure = false; open_unlabelled = false;
                      on_bad_signature = "forward-and-log"; } ); };
challenge: { mode = "legacy-unsigned"; };
CONF
start_proxy "$WORK/px.conf" proxy
ok $? "proxy starts with two decryption keys"

N=0
start_uas tcp "$WORK" 20 60
ok $? "the test UAS listens"

# send NAME CONTENT-TYPE BODYFILE [EXTRA-HEADER-LINES]: one MESSAGE over TCP;
# prints the status line; N counts the requests the UAS should have got.
send() {
	local f="$WORK/$1.sip" len
	len=$(stat -c %s "$3")
	{
		printf '%s sip:bob@127.0.0.1:%s;transport=tcp SIP/2.0\r\n' "${METHOD:-MESSAGE}" "$UAS_PORT"
		printf 'Via: SIP/2.0/TCP 127.0.0.1:9;rport;branch=z9hG4bK-%s-%s\r\n' "$1" "$RANDOM"
		printf 'From: <sip:alice@example.com>;tag=a\r\nTo: <sip:bob@example.com>\r\n'
		printf 'Call-ID: %s-%s@test\r\nCSeq: 1 %s\r\nMax-Forwards: 70\r\n' "$1" "$RANDOM" "${METHOD:-MESSAGE}"
		printf 'Contact: <sip:alice@127.0.0.1:9;transport=tcp>\r\n'
		printf 'Content-Type: %s\r\n' "$2"
		[ -n "${4:-}" ] && printf '%b' "$4"
		printf 'Content-Length: %s\r\n\r\n' "$len"
		cat "$3"
	} > "$f"
	python3 "$TOP_SRCDIR/tests/integration/sipraw.py" tcp 127.0.0.1 "$PX_PORT" "$f" 5
}
P7M='application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m'
LABEL='Content-ID: <m1@example.com>\r\nProxy-Inspect-Body: proxy.test;cid="m1@example.com"\r\n'
# check NAME WANT-STATUS LOG-REGEX: status, log line, body forwarded unchanged
check() {
	local got=$2 want=$3
	case "$got" in
	"SIP/2.0 $want"*) ok 0 "$1: answered $want" ;;
	*) ok 1 "$1: want $want, got $got" ;;
	esac
	if [ "$want" = 200 ]; then
		N=$((N + 1))
		cmp -s "$WORK/$1.body" "$WORK/$N.body"
		ok $? "$1: the body left byte-identical"
	fi
	if [ "$4" = - ]; then
		# refused before the decrypt stage: its transaction is in the
		# log, and nothing of it was inspected
		log_of "$1" | grep -q "^MESSAGE answered $3 " &&
			! log_of "$1" | grep -q 'inspected'
		ok $? "$1: its own log lines say answered $3, nothing inspected"
	else
		log_of "$1" | grep -Eq "^(MESSAGE|INVITE) inspected: $4"
		ok $? "$1: log says: $4"
	fi
}
# txof NAME: the proxy's transaction number of that request (by Call-ID)
txof() {
	local cid
	cid=$(sed -n 's/^Call-ID: \(.*\)\r$/\1/p' "$WORK/$1.sip")
	sed -n "s/^.* tx \([0-9]*\): received [A-Z]* .* call-id $cid, .*)\$/\1/p" \
		"$WORK/proxy.log" | head -1
}
# log_of NAME: the proxy's log lines of that request's own transaction
# (found by its Call-ID), without the tx prefix: a check keyed to it cannot
# pass on another case's line of the cumulative log.
log_of() {
	local n
	n=$(txof "$1")
	[ -n "$n" ] || return 0
	sed -n 's/^.* e2mproxyd: [a-z]*: //p' "$WORK/proxy.log" | grep "^tx $n: " |
		sed -e "s/^tx $n: //" -e 's/ ([A-Z]* [0-9]*, call-id .*)$//'
}

printf 'Content-Type: text/plain\r\n\r\nmeet me at noon' > "$WORK/inner.txt"

openssl cms -encrypt -binary -aes-128-cbc -in "$WORK/inner.txt" -outform DER \
	-out "$WORK/ec_cbc.body" -recip "$K/proxy_ec.pem" -recip "$K/uas.pem"
check ec_cbc "$(send ec_cbc "$P7M" "$WORK/ec_cbc.body" "$LABEL")" 200 \
	'targets 1 \(m1@example.com opened\); closed 0; visible text/plain; signatures 0'

openssl cms -encrypt -binary -aes-256-gcm -in "$WORK/inner.txt" -outform DER \
	-out "$WORK/rsa_oaep_gcm.body" -recip "$K/proxy_rsa.pem" -keyopt rsa_padding_mode:oaep
check rsa_oaep_gcm "$(send rsa_oaep_gcm 'application/pkcs7-mime; smime-type=authEnveloped-data' \
	"$WORK/rsa_oaep_gcm.body" "$LABEL")" 200 'targets 1 \(m1@example.com opened\)'

openssl cms -encrypt -binary -aes-128-cbc -keyid -in "$WORK/inner.txt" -outform DER \
	-out "$WORK/keyid.body" -recip "$K/proxy_ec.pem"
check keyid "$(send keyid "$P7M" "$WORK/keyid.body" "$LABEL")" 200 \
	'targets 1 \(m1@example.com opened\)'

base64 -w 76 "$WORK/ec_cbc.body" | sed 's/$/\r/' > "$WORK/b64.body"
check b64 "$(send b64 "$P7M" "$WORK/b64.body" "${LABEL}Content-Transfer-Encoding: base64\r\n")" 200 \
	'targets 1 \(m1@example.com opened\); closed 0; visible text/plain'

openssl cms -encrypt -binary -aes-128-cbc -in "$WORK/inner.txt" -outform DER \
	-out "$WORK/not_for_us.body" -recip "$K/uas.pem"
check not_for_us "$(send not_for_us "$P7M" "$WORK/not_for_us.body" "$LABEL")" 200 \
	'targets 1 \(m1@example.com undecipherable\); closed 0; visible none'

# inspect.content_ciphers leaves AES-192 out: refused before any key use.
openssl cms -encrypt -binary -aes-192-cbc -in "$WORK/inner.txt" -outform DER \
	-out "$WORK/cipher_refused.body" -recip "$K/proxy_ec.pem"
check cipher_refused "$(send cipher_refused "$P7M" "$WORK/cipher_refused.body" "$LABEL")" 200 \
	'targets 1 \(m1@example.com undecipherable\); closed 0; visible none'

head -c 700 /dev/urandom > "$WORK/garbage.body"
check garbage "$(send garbage "$P7M" "$WORK/garbage.body" "$LABEL")" 200 \
	'targets 1 \(m1@example.com undecipherable\); closed 0; visible none'

head -c 300 "$WORK/ec_cbc.body" > "$WORK/truncated.body"
check truncated "$(send truncated "$P7M" "$WORK/truncated.body" "$LABEL")" 200 \
	'targets 1 \(m1@example.com undecipherable\)'

cp "$WORK/ec_cbc.body" "$WORK/unlabelled.body"
cp "$WORK/ec_cbc.body" "$WORK/other_proxy.body"
check unlabelled "$(send unlabelled "$P7M" "$WORK/unlabelled.body")" 200 \
	'targets 0; closed 1; visible none'

check other_proxy "$(send other_proxy "$P7M" "$WORK/other_proxy.body" \
	'Content-ID: <m1@example.com>\r\nProxy-Inspect-Body: other.test;cid="m1@example.com"\r\n')" 200 \
	'targets 0; closed 1'

# A label for a host whose name is a prefix of ours is not ours, even
# though the envelope would open with our key (mutant L1).
cp "$WORK/ec_cbc.body" "$WORK/prefix_proxy.body"
check prefix_proxy "$(send prefix_proxy "$P7M" "$WORK/prefix_proxy.body" \
	'Content-ID: <m1@example.com>\r\nProxy-Inspect-Body: proxy.tes;cid="m1@example.com"\r\n')" 200 \
	'targets 0; closed 1'

# A label whose cid is a prefix of the part's Content-ID names no part
# (mutant L3): nothing opened, the part stays closed.
cp "$WORK/ec_cbc.body" "$WORK/prefix_cid.body"
check prefix_cid "$(send prefix_cid "$P7M" "$WORK/prefix_cid.body" \
	'Content-ID: <m1@example.com>\r\nProxy-Inspect-Body: proxy.test;cid="m1@example.co"\r\n')" 200 \
	'targets 1 \(m1@example.co not-found\); closed 1'

# multipart/mixed: plain SDP for everyone, an envelope labelled for us.
{
	printf -- '--b1\r\nContent-Type: application/sdp\r\n\r\nv=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n'
	printf -- '\r\n--b1\r\nContent-Type: %s\r\nContent-ID: <m2@example.com>\r\nContent-Disposition: attachment; handling=optional\r\nContent-Transfer-Encoding: binary\r\n\r\n' "$P7M"
	cat "$WORK/ec_cbc.body"
	printf -- '\r\n--b1--\r\n'
} > "$WORK/mixed.body"
check mixed "$(send mixed 'multipart/mixed; boundary=b1' "$WORK/mixed.body" \
	'Proxy-Inspect-Body: proxy.test;cid=<m2@example.com>\r\n')" 200 \
	'targets 1 \(m2@example.com opened\); closed 0; visible application/sdp,text/plain'

# Sign, then encrypt: the signature is checked inside the envelope.
openssl cms -sign -in "$WORK/inner.txt" -signer "$K/alice.pem" -inkey "$K/alice.key" \
	-crlfeol > "$WORK/signed.mime" 2>/dev/null
openssl cms -encrypt -binary -aes-128-cbc -in "$WORK/signed.mime" -outform DER \
	-out "$WORK/sign_encrypt.body" -recip "$K/proxy_ec.pem"
check sign_encrypt "$(send sign_encrypt "$P7M" "$WORK/sign_encrypt.body" "$LABEL")" 200 \
	'targets 1 \(m1@example.com opened\); closed 0; visible text/plain; signatures 1 \[valid inside alice'

# A signer the trust anchors do not know: checked, and found invalid.
mkdir -p "$K/rogue" && pki_ca "$K/rogue" && PKI_EKU=emailProtection pki_cert "$K/rogue" mallory "email:m@example.com" mallory
openssl cms -sign -in "$WORK/inner.txt" -signer "$K/rogue/mallory.pem" -inkey "$K/rogue/mallory.key" \
	-crlfeol > "$WORK/rogue.mime" 2>/dev/null
openssl cms -encrypt -binary -aes-128-cbc -in "$WORK/rogue.mime" -outform DER \
	-out "$WORK/rogue_signed.body" -recip "$K/proxy_ec.pem"
check rogue_signed "$(send rogue_signed "$P7M" "$WORK/rogue_signed.body" "$LABEL")" 200 \
	'targets 1 \(m1@example.com opened\); closed 0; visible text/plain; signatures 1 \[invalid inside'

# An INVITE whose SDP offer is encrypted to the proxy and the callee.
printf 'Content-Type: application/sdp\r\n\r\nv=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n' > "$WORK/sdp.mime"
openssl cms -encrypt -binary -aes-128-gcm -in "$WORK/sdp.mime" -outform DER \
	-out "$WORK/invite.body" -recip "$K/proxy_ec.pem" -recip "$K/uas.pem"
got=$(METHOD=INVITE send invite 'application/pkcs7-mime; smime-type=authEnveloped-data' \
	"$WORK/invite.body" "$LABEL")
check invite "$got" 200 'targets 1 \(m1@example.com opened\); closed 0; visible application/sdp'

# Encrypt, then sign: multipart/signed outside, the envelope as its
# signed first part; the label names the part inside the signed part.
{
	printf 'Content-Type: %s\r\nContent-ID: <m3@example.com>\r\nContent-Transfer-Encoding: base64\r\n\r\n' "$P7M"
	base64 -w 76 "$WORK/ec_cbc.body" | sed 's/$/\r/'
} > "$WORK/envpart.mime"
openssl cms -sign -in "$WORK/envpart.mime" -signer "$K/alice.pem" -inkey "$K/alice.key" \
	-crlfeol > "$WORK/ets.out" 2>/dev/null
ets_ct=$(sed -n 's/^Content-Type: //p' "$WORK/ets.out" | head -1 | tr -d '\r')
python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); open(sys.argv[2], "wb").write(d.split(b"\r\n\r\n", 1)[1])' \
	"$WORK/ets.out" "$WORK/encrypt_sign.body"
check encrypt_sign "$(send encrypt_sign "$ets_ct" "$WORK/encrypt_sign.body" \
	'Proxy-Inspect-Body: proxy.test;cid="m3@example.com"\r\n')" 200 \
	'targets 1 \(m3@example.com opened\); closed 0; visible text/plain; signatures 1 \[valid outside alice'

# The legacy form: application/x-pkcs7-mime named *.p7m, no smime-type.
cp "$WORK/ec_cbc.body" "$WORK/legacy.body"
check legacy "$(send legacy 'application/x-pkcs7-mime; name=smime.p7m' "$WORK/legacy.body" "$LABEL")" 200 \
	'targets 1 \(m1@example.com opened\); closed 0; visible text/plain'

head -c 9000 /dev/zero | tr '\0' 'x' > "$WORK/big.body"
check too_large "$(send too_large 'text/plain' "$WORK/big.body")" 413 -

printf -- '--b1\r\nContent-Type: text/plain\r\n\r\nno end' > "$WORK/bad_mime.body"
check bad_mime "$(send bad_mime 'multipart/mixed; boundary=b1' "$WORK/bad_mime.body")" 400 -
log_of bad_mime | grep -q '^bad body: '
ok $? "the malformed body is logged (its own transaction)"

if grep -q 'meet me at noon' "$WORK/proxy.log"; then r=1; else r=0; fi
ok $r "no plaintext in the log"
proxy_answers
ok $? "proxy still answers"
t_done
