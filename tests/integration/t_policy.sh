#!/bin/bash
# The policy engine and the signed challenges (digest 4.6, 5.1), as the test matrix
# T1-T16 of digest 5.5: bodies made by the openssl command line, sent raw
# over TCP or UDP, every 495/496 checked like a user agent would (the
# sipfrag against the request, the certificate part, the signature by
# "openssl cms -verify"), every decision found in the log with the line of
# the rule that made it, and every forwarded body byte-identical.
# Then the reconfigurable codes, phrases, warn-code, warn-agent, base64
# encoding and an RSA challenge key; then legacy-unsigned challenges.
. "$TOP_SRCDIR/tests/integration/lib.sh"
. "$TOP_SRCDIR/tests/integration/pki.sh"
t_init policy 21300
CHAL="$TOP_SRCDIR/tests/integration/challenge.py"
K=$WORK/pki
mkdir -p "$K" "$WORK/uas"

# Root CA; an intermediate for the EC challenge key; an RSA challenge key
# under the root; EC and RSA decryption keys, and an old one the proxy no
# longer has; S/MIME signers (carol gets revoked); a CA nobody trusts.
pki_ca "$K" && pki_subca "$K" sub &&
	PKI_ISSUER=sub pki_cert "$K" sign_ec "DNS:proxy.test" proxy.test &&
	PKI_KEY=rsa pki_cert "$K" sign_rsa "DNS:px.example.net" px.example.net &&
	pki_cert "$K" proxy_ec "DNS:proxy.test" proxy.test &&
	PKI_KEY=rsa pki_cert "$K" proxy_rsa "DNS:proxy.test" proxy.test &&
	pki_cert "$K" proxy_old "DNS:proxy.test" proxy.test &&
	pki_cert "$K" uas "DNS:uas.test" uas.test &&
	PKI_EKU=emailProtection pki_cert "$K" alice "email:alice@example.com" alice &&
	PKI_EKU=emailProtection pki_cert "$K" carol "email:carol@example.com" carol &&
	pki_revoke "$K" carol &&
	mkdir -p "$K/rogue" && pki_ca "$K/rogue" &&
	PKI_EKU=emailProtection pki_cert "$K/rogue" mallory "email:m@example.com" mallory
ok $? "test PKI made with openssl (EC and RSA, an intermediate, a CRL)"

# write_conf_policy FILE CHALLENGE-GROUP [INSPECT-SETTINGS]: the proxy, its
# rules, and the challenge group given. Each rule's line ends in
# "# R_name" (rule_line).
write_conf_policy() {
	cat > "$1" <<CONF
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
  crl_files = [ "$K/ca.crl" ];
  max_body = 8192;
  workers = 2;
  decrypt_rate = 0;
  ${3:-}
};
policy: {
  rules = (
    { from_users = [ "off" ]; active = false; # R_off
      required_types = [ "application/sdp", "text/plain" ]; },
    { from_users = [ "whole" ]; required_types = [ "application/sdp" ]; # R_whole
      require_whole_body = true; },
    { methods = [ "MESSAGE" ]; from_users = [ "integ" ]; # R_integ
      required_types = [ "text/plain" ]; require_integrity = true; },
    { methods = [ "MESSAGE" ]; from_users = [ "sigfwd" ]; # R_sigfwd
      on_bad_signature = "forward-and-log"; },
    { methods = [ "INVITE" ]; from_users = [ "missfwd" ]; # R_missfwd
      required_types = [ "application/sdp" ]; on_missing_prmb = "forward"; },
    { from_users = [ "dlog" ]; required_types = [ "application/sdp" ]; # R_dlog
      on_undecipherable_in_dialog = "log"; },
    { from_users = [ "dterm" ]; required_types = [ "application/sdp" ]; # R_dterm
      on_undecipherable_in_dialog = "terminate"; },
    { from_users = [ "two" ]; # R_two
      required_types = [ "application/sdp", "text/plain" ]; },
    { from_users = [ "tlsoff" ]; transports = [ "tls" ]; active = false; }, # R_tlsoff
    { methods = [ "INVITE" ]; from_domains = [ "example.com" ]; # R_sdp
      required_types = [ "application/sdp" ]; },
    { methods = [ "MESSAGE" ]; from_domains = [ "example.com" ]; # R_im
      required_types = [ "text/plain" ]; }
  );
};
$2
CONF
}

# rule_line NAME: the line of the rule's opening "{" in the current config
rule_line() {
	grep -n "# $1\$" "$CONF" | cut -d: -f1
}

# mkreq NAME METHOD FROM CONTENT-TYPE BODYFILE [EXTRA-HEADER-LINES]:
# $WORK/NAME.sip, a request to the UAS through the proxy with two Via
# values (an upstream hop and the UA); FROM is user or user@domain
# (default domain example.com); no CONTENT-TYPE/BODYFILE: no body.
# VIA_TP=UDP for a request sent over UDP.
mkreq() {
	local name=$1 method=$2 from=$3 ct=$4 bodyf=$5 extra=${6:-} r=$RANDOM$RANDOM len=0
	case $from in *@*) ;; *) from=$from@example.com ;; esac
	: > "$WORK/$name.sent.body"
	[ -n "$bodyf" ] && len=$(stat -c %s "$bodyf") && cp "$bodyf" "$WORK/$name.sent.body"
	{
		printf '%s sip:bob@127.0.0.1:%s;transport=tcp SIP/2.0\r\n' "$method" "${RURI_PORT:-$UAS_PORT}"
		printf 'Via: SIP/2.0/%s 127.0.0.1:9;rport;branch=z9hG4bK-%s-p%s\r\n' "${VIA_TP:-TCP}" "$name" "$r"
		printf 'Via: SIP/2.0/TCP client.example.com:5060;received=192.0.2.1;branch=z9hG4bK-%s-u%s\r\n' "$name" "$r"
		printf 'From: <sip:%s>;tag=f%s\r\nTo: <sip:bob@example.com>\r\n' "$from" "$r"
		printf 'Call-ID: %s-%s@test\r\nCSeq: 1 %s\r\nMax-Forwards: 70\r\n' "$name" "$r" "$method"
		printf 'Contact: <sip:%s@127.0.0.1:%s;transport=tcp>\r\n' "${from%@*}" "${CONTACT_PORT:-9}"
		[ -n "$ct" ] && printf 'Content-Type: %s\r\n' "$ct"
		[ -n "$extra" ] && printf '%b' "$extra"
		printf 'Content-Length: %s\r\n\r\n' "$len"
		[ -n "$bodyf" ] && cat "$bodyf"
	} > "$WORK/$name.sip"
}

# send_all PROTO NAME...: each request in turn (one python process); the
# final responses in $WORK/NAME.resp (and NAME.resp.body, .warning,
# .content-type; empty files when nothing came)
send_all() {
	local proto=$1 n f
	shift
	python3 "$CHAL" each "$WORK" "$@" -- send "$proto" "$PX_PORT" @.sip @.resp 5
	for n in "$@"; do
		for f in "" .body .warning .content-type; do
			[ -f "$WORK/$n.resp$f" ] || : > "$WORK/$n.resp$f"
		done
	done
}

# check_all NAME... [-- CHECK-OPTIONS]: challenge.py check for each (the
# encryption and signing certificates: ENC_CERT, SIGN_CERT)
check_all() {
	local names=() opts=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do names+=("$1"); shift; done
	[ $# -gt 0 ] && shift && opts=("$@")
	python3 "$CHAL" each "$WORK" "${names[@]}" -- check @.sip @.resp "$K/ca.pem" \
		"${ENC_CERT:-$K/proxy_ec.pem}" @.chk --signer "${SIGN_CERT:-$K/sign_ec.pem}" "${opts[@]}"
}

callid() {
	sed -n 's/^Call-ID: \(.*\)\r$/\1/p' "$WORK/$1.sip"
}

# txof NAME [METHOD]: the proxy's transaction number for the request (or
# for the METHOD request of that call, e.g. its ACK)
txof() {
	sed -n "s/^.* tx \([0-9]*\): received ${2:-[A-Z]*} .* call-id $(callid "$1"), .*)\$/\1/p" "$PXLOG" | head -1
}

# log_of NAME [METHOD]: the proxy's log lines of that transaction, without
# the time and level prefix and the request's fields at the end
log_of() {
	local n
	n=$(txof "$1" "${2:-}")
	[ -n "$n" ] || return 0
	sed -n 's/^.* e2mproxyd: [a-z]*: //p' "$PXLOG" | grep "^tx $n: " |
		sed 's/ ([A-Z]* [0-9]*, call-id .*)$//'
}

# status NAME CODE: the final response's code
status() {
	local got
	got=$(head -1 "$WORK/$1.resp" | tr -d '\r')
	case "$got" in
	"SIP/2.0 $2 "*) ok 0 "$1: answered $2" ;;
	*) ok 1 "$1: answered $2 (got '${got:-nothing}')" ;;
	esac
}

# policy NAME METHOD RULE VERDICT REASON: the exact decision line; RULE is
# a rule name (R_...) or "-" for "no rule"
policy() {
	local n want
	n=$(txof "$1" "$2")
	if [ "$3" = - ]; then
		want="tx $n: $2 policy: no rule -> $4: $5"
	else
		want="tx $n: $2 policy: rule at line $(rule_line "$3") -> $4: $5"
	fi
	log_of "$1" "$2" | grep -qFx "$want"
	r=$?
	ok $r "$1: log says '${want#tx $n: }'"
	[ $r -eq 0 ] || log_of "$1" "$2" | sed 's/^/#   got: /'
}

# warnings NAME [VALUE...]: the response's Warning values, exactly
warnings() {
	local name=$1 v
	shift
	: > "$WORK/$name.warn.want"
	for v in "$@"; do printf '%s\n' "$v" >> "$WORK/$name.warn.want"; done
	cmp -s "$WORK/$name.resp.warning" "$WORK/$name.warn.want"
	r=$?
	ok $r "$name: Warning values: ${*:-none}"
	[ $r -eq 0 ] || sed 's/^/#   got: /' "$WORK/$name.resp.warning"
}

# forwarded NAME: the UAS got the request with its body byte-identical
forwarded() {
	local head
	head=$(grep -l "^Call-ID: $(callid "$1")" "$WORK"/uas/*.head 2>/dev/null | head -1)
	[ -n "$head" ] && cmp -s "$WORK/$1.sent.body" "${head%.head}.body"
	ok $? "$1: forwarded, body byte-identical"
}

# not_forwarded NAME: the UAS never saw the request
not_forwarded() {
	! grep -q "^Call-ID: $(callid "$1")" "$WORK"/uas/*.head 2>/dev/null
	ok $? "$1: not forwarded"
}

# challenge NAME: the challenge verified (check_all ran on it)
challenge() {
	local r
	r=$(cat "$WORK/$1.check.rc" 2>/dev/null || echo 1)
	ok "$r" "$1: signed challenge verified (openssl cms -verify, fresh sipfrag, certificate)"
	[ "$r" -eq 0 ] || grep -v '^PASS' "$WORK/$1.check.out" 2>/dev/null | sed 's/^/#   /'
}

# no_body NAME: the response has no body
no_body() {
	[ ! -s "$WORK/$1.resp.body" ] && [ -s "$WORK/$1.resp" ] &&
		[ ! -s "$WORK/$1.resp.content-type" ]
	ok $? "$1: no body"
}

W_SDP="380 proxy.test \"Required to View Content-Type 'application/sdp'\""
W_TXT="380 proxy.test \"Required to View Content-Type 'text/plain'\""
P7M='application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m'
LABEL='Content-ID: <m1@example.com>\r\nProxy-Inspect-Body: proxy.test;cid="m1@example.com"\r\n'
enc() { # enc OUT IN RECIPIENT...: DER EnvelopedData
	local out=$1 in=$2 r args=()
	shift 2
	for r in "$@"; do args+=(-recip "$K/$r.pem"); done
	openssl cms -encrypt -binary -aes-128-cbc -in "$in" -outform DER -out "$out" "${args[@]}"
}

# ---------------------------------------------------------------- bodies
printf 'Content-Type: application/sdp\r\n\r\nv=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n' > "$WORK/sdp.mime"
sed -n '/^v=0/,$p' "$WORK/sdp.mime" > "$WORK/sdp.body"
printf 'Content-Type: text/plain\r\n\r\nmeet me at noon' > "$WORK/txt.mime"
printf 'meet me at noon' > "$WORK/txt.body"
printf 'Content-Type: application/xml\r\n\r\n<note>noon</note>' > "$WORK/xml.mime"
printf 'Content-Type: text/plai\r\n\r\nmeet me at noon' > "$WORK/plai.mime"
enc "$WORK/sdp_px.p7m" "$WORK/sdp.mime" proxy_ec uas &&
	enc "$WORK/sdp_bob.p7m" "$WORK/sdp.mime" uas &&
	enc "$WORK/sdp_old.p7m" "$WORK/sdp.mime" proxy_old uas &&
	enc "$WORK/txt_px.p7m" "$WORK/txt.mime" proxy_ec uas &&
	enc "$WORK/txt_bob.p7m" "$WORK/txt.mime" uas &&
	enc "$WORK/xml_px.p7m" "$WORK/xml.mime" proxy_ec uas &&
	enc "$WORK/plai_px.p7m" "$WORK/plai.mime" proxy_ec uas &&
	enc "$WORK/answer.p7m" "$WORK/sdp.mime" alice &&
	enc "$WORK/t15_rsa.p7m" "$WORK/sdp.mime" proxy_rsa &&
	printf 'no header line here\r\n' > "$WORK/garbage.mime" &&
	enc "$WORK/t15_garbage.p7m" "$WORK/garbage.mime" proxy_rsa
ok $? "bodies made with openssl cms -encrypt"

# T4: multipart/mixed, a part for the proxy and one for Bob only.
{
	printf -- '--b4\r\nContent-Type: %s\r\nContent-ID: <m1@example.com>\r\nContent-Disposition: attachment; handling=optional\r\n\r\n' "$P7M"
	cat "$WORK/sdp_px.p7m"
	printf -- '\r\n--b4\r\nContent-Type: %s\r\nContent-ID: <m2@example.com>\r\nContent-Disposition: attachment; handling=required\r\n\r\n' "$P7M"
	cat "$WORK/sdp_bob.p7m"
	printf -- '\r\n--b4--\r\n'
} > "$WORK/t4.body"
# T3: plain text beside an SDP part only Bob can read.
{
	printf -- '--b3\r\nContent-Type: text/plain\r\n\r\nhello'
	printf -- '\r\n--b3\r\nContent-Type: %s\r\nContent-ID: <m1@example.com>\r\n\r\n' "$P7M"
	cat "$WORK/sdp_bob.p7m"
	printf -- '\r\n--b3--\r\n'
} > "$WORK/t3_one.body"
# T8, T9: sign then encrypt (trusted, untrusted, revoked signer); encrypt
# then sign (outer signature only); a tampered clear multipart/signed.
openssl cms -sign -in "$WORK/txt.mime" -signer "$K/alice.pem" -inkey "$K/alice.key" \
	-crlfeol > "$WORK/alice_signed.mime" 2>/dev/null &&
	enc "$WORK/ste.p7m" "$WORK/alice_signed.mime" proxy_ec uas &&
	openssl cms -sign -in "$WORK/txt.mime" -signer "$K/rogue/mallory.pem" \
	-inkey "$K/rogue/mallory.key" -crlfeol > "$WORK/rogue_signed.mime" 2>/dev/null &&
	enc "$WORK/rogue.p7m" "$WORK/rogue_signed.mime" proxy_ec uas &&
	openssl cms -sign -in "$WORK/txt.mime" -signer "$K/carol.pem" -inkey "$K/carol.key" \
	-crlfeol > "$WORK/carol_signed.mime" 2>/dev/null &&
	enc "$WORK/revoked.p7m" "$WORK/carol_signed.mime" proxy_ec uas
ok $? "signed bodies made with openssl cms -sign"
# dave: a certificate from the trusted root, not revoked, but without
# authorityKeyIdentifier (not RFC 5280 conforming: refused under
# X509_STRICT, mutant K4 of docs/reliability.md, accepted without it).
PKI_EXT=authorityKeyIdentifier=none PKI_EKU=emailProtection \
	pki_cert "$K" dave "email:dave@example.com" dave &&
	openssl cms -sign -in "$WORK/txt.mime" -signer "$K/dave.pem" -inkey "$K/dave.key" \
	-crlfeol > "$WORK/dave_signed.mime" 2>/dev/null &&
	enc "$WORK/strict.p7m" "$WORK/dave_signed.mime" proxy_ec uas
ok $? "a body signed by a non-conforming certificate (no authorityKeyIdentifier)"
{
	printf 'Content-Type: %s\r\nContent-ID: <m3@example.com>\r\nContent-Transfer-Encoding: base64\r\n\r\n' "$P7M"
	base64 -w 76 "$WORK/txt_px.p7m" | sed 's/$/\r/'
} > "$WORK/envpart.mime"
openssl cms -sign -in "$WORK/envpart.mime" -signer "$K/alice.pem" -inkey "$K/alice.key" \
	-crlfeol > "$WORK/ets.out" 2>/dev/null
ets_ct=$(sed -n 's/^Content-Type: //p' "$WORK/ets.out" | head -1 | tr -d '\r')
signed_ct=$(sed -n 's/^Content-Type: //p' "$WORK/alice_signed.mime" | head -1 | tr -d '\r')
python3 - "$WORK" <<'PY'
import sys
w = sys.argv[1] + '/'
body = lambda f: open(w + f, 'rb').read().split(b'\r\n\r\n', 1)[1]
open(w + 'ets.body', 'wb').write(body('ets.out'))
open(w + 'tampered.body', 'wb').write(
    body('alice_signed.mime').replace(b'meet me at noon', b'meet me at nine', 1))
PY
# T15: the proxy's RSA RecipientInfo with its encryptedKey bit-flipped.
python3 - "$WORK/t15_rsa.p7m" "$WORK/t15_corrupt.p7m" <<'PY'
import subprocess, sys
der = open(sys.argv[1], 'rb').read()
out = subprocess.run(['openssl', 'asn1parse', '-inform', 'DER', '-in', sys.argv[1]],
                     stdout=subprocess.PIPE, check=True).stdout.decode()
for line in out.splitlines():
    # "  123:d=5  hl=4 l= 256 prim: OCTET STRING": the RSA encryptedKey
    if 'OCTET STRING' in line and 'l= 256' in line:
        off = int(line.split(':')[0])
        hl = int(line.split('hl=')[1].split()[0])
        b = bytearray(der)
        b[off + hl + 100] ^= 0x55
        open(sys.argv[2], 'wb').write(bytes(b))
        break
else:
    sys.exit('no encryptedKey found')
PY
ok $? "t15: a copy with the proxy's RecipientInfo corrupted"
# T16: too large; nested ten deep (max_depth is 8).
head -c 9000 /dev/urandom > "$WORK/t16_large.body"
{
	for i in 1 2 3 4 5 6 7 8 9; do printf -- '--d%s\r\nContent-Type: multipart/mixed; boundary=d%s\r\n\r\n' $i $((i + 1)); done
	printf -- '--d10\r\nContent-Type: %s\r\nContent-ID: <m1@example.com>\r\n\r\n' "$P7M"
	cat "$WORK/sdp_px.p7m"
	for i in 10 9 8 7 6 5 4 3 2 1; do printf -- '\r\n--d%s--\r\n' $i; done
} > "$WORK/t16_deep.body"

# -------------------------------------------------------------- requests
mkreq t1 INVITE alice "$P7M" "$WORK/sdp_px.p7m" "$LABEL"
mkreq t2 INVITE alice "$P7M" "$WORK/sdp_bob.p7m" "$LABEL"
mkreq t2_unlabelled INVITE alice "$P7M" "$WORK/sdp_bob.p7m"
VIA_TP=UDP mkreq t2_udp INVITE alice "$P7M" "$WORK/sdp_bob.p7m" "$LABEL"
mkreq t3 INVITE whole "$P7M" "$WORK/sdp_bob.p7m" "$LABEL"
# Both Via values on one header line (RFC 3261 7.3.1).
mkreq t2_vialine INVITE alice "$P7M" "$WORK/sdp_bob.p7m" "$LABEL"
python3 - "$WORK/t2_vialine.sip" <<'PY'
import sys
d = open(sys.argv[1], 'rb').read()
h, b = d.split(b'\r\n\r\n', 1)
lines = h.split(b'\r\n')
vias = [l for l in lines if l.startswith(b'Via: ')]
i = lines.index(vias[0])
lines[i:i + 2] = [b'Via: ' + b', '.join(v[5:] for v in vias)]
open(sys.argv[1], 'wb').write(b'\r\n'.join(lines) + b'\r\n\r\n' + b)
PY
mkreq t3_two INVITE two "$P7M" "$WORK/sdp_bob.p7m" "$LABEL"
mkreq t3_one INVITE two 'multipart/mixed; boundary=b3' "$WORK/t3_one.body" \
	'Proxy-Inspect-Body: proxy.test;cid="m1@example.com"\r\n'
mkreq t3_integ MESSAGE integ "$P7M" "$WORK/txt_bob.p7m" "$LABEL"
mkreq t4 INVITE alice 'multipart/mixed; boundary=b4' "$WORK/t4.body" \
	'Content-ID: <mx@example.com>\r\nProxy-Inspect-Body: proxy.test;cid="mx@example.com",cid="m1@example.com"\r\n'
mkreq t5 INVITE alice "$P7M" "$WORK/sdp_old.p7m" "$LABEL"
VIA_TP=UDP mkreq t6 MESSAGE alice "$P7M" "$WORK/txt_bob.p7m" "$LABEL"
VIA_TP=UDP mkreq t7 MESSAGE integ text/plain "$WORK/txt.body"
mkreq t8 MESSAGE integ "$P7M" "$WORK/txt_px.p7m" "$LABEL"
mkreq t8_signed MESSAGE integ "$P7M" "$WORK/ste.p7m" "$LABEL"
mkreq t8_outer MESSAGE integ "$ets_ct" "$WORK/ets.body" \
	'Proxy-Inspect-Body: proxy.test;cid="m3@example.com"\r\n'
mkreq t9_rogue MESSAGE alice "$P7M" "$WORK/rogue.p7m" "$LABEL"
mkreq t9_revoked MESSAGE alice "$P7M" "$WORK/revoked.p7m" "$LABEL"
mkreq t9_strict MESSAGE alice "$P7M" "$WORK/strict.p7m" "$LABEL"
mkreq t9_tampered MESSAGE alice "$signed_ct" "$WORK/tampered.body"
mkreq t9_forward MESSAGE sigfwd "$signed_ct" "$WORK/tampered.body"
mkreq t10 MESSAGE alice "$P7M" "$WORK/xml_px.p7m" "$LABEL"
mkreq t10_prefix MESSAGE alice "$P7M" "$WORK/plai_px.p7m" "$LABEL"
mkreq t10_forward INVITE missfwd "$P7M" "$WORK/txt_px.p7m" "$LABEL"
mkreq t10_nobody INVITE alice "" ""
mkreq t11 INVITE off "$P7M" "$WORK/sdp_bob.p7m" "$LABEL"
mkreq t11_prefix INVITE of "$P7M" "$WORK/sdp_bob.p7m" "$LABEL"
mkreq t11_open INVITE off "$P7M" "$WORK/sdp_px.p7m" "$LABEL"
mkreq t11_tls MESSAGE tlsoff "$P7M" "$WORK/txt_bob.p7m" "$LABEL"
mkreq nomatch MESSAGE alice@nomatch.test "$P7M" "$WORK/txt_bob.p7m" "$LABEL"
# T12: label variants; each with an undecipherable and a decryptable body.
T12=()
i=0
for lab in \
	'Proxy-Required-Body: proxy.test;cid=m1@example.com' \
	'Proxy-Inspect-Body: proxy.test;cid="m1@example.com"' \
	'Proxy-Inspect-Body: proxy.test;cid=m1@example.com' \
	'Proxy-Inspect-Body: proxy.test;cid=<m1@example.com>' \
	'Proxy-Inspect-Body: other.test;cid="x1@example.com", proxy.test;cid="m1@example.com"' \
	'Proxy-Inspect-Body: proxy.test;cid=m1@example.com, other.test;cid=x1@example.com' \
	'Proxy-Inspect-Body: other.test;cid=<x1@example.com>\r\nProxy-Required-Body: PROXY.Test.;cid="m1@example.com"' \
	'Proxy-Inspect-Body: proxy.test:5060;cid=m1@example.com;foo="a,b;cid=x@y"'; do
	i=$((i + 1))
	echo "# t12_$i: $lab"
	mkreq "t12_${i}_closed" INVITE alice "$P7M" "$WORK/sdp_bob.p7m" "Content-ID: <m1@example.com>\r\n$lab\r\n"
	mkreq "t12_${i}_open" INVITE alice "$P7M" "$WORK/sdp_px.p7m" "Content-ID: <m1@example.com>\r\n$lab\r\n"
	T12+=("t12_${i}_closed" "t12_${i}_open")
done
mkreq t15_none INVITE alice "$P7M" "$WORK/sdp_bob.p7m" "$LABEL"
mkreq t15_corrupt INVITE alice "$P7M" "$WORK/t15_corrupt.p7m" "$LABEL"
mkreq t15_garbage INVITE alice "$P7M" "$WORK/t15_garbage.p7m" "$LABEL"
mkreq t16_large INVITE alice "$P7M" "$WORK/t16_large.body" "$LABEL"
mkreq t16_deep INVITE alice 'multipart/mixed; boundary=d1' "$WORK/t16_deep.body" \
	'Proxy-Inspect-Body: proxy.test;cid="m1@example.com"\r\n'

# ------------------------------------------------ proxy A: EC, binary
CONF=$WORK/a.conf
write_conf_policy "$CONF" "challenge: {
  signing_certificate = \"$K/sign_ec.pem\"; signing_key = \"$K/sign_ec.key\";
  signing_chain = [ \"$K/sub.pem\" ];
  rate = 0;
};"
PXLOG=$WORK/proxy.log
start_proxy "$CONF" proxy
ok $? "proxy starts with policy rules and an EC challenge key with a chain"
start_uas tcp "$WORK/uas" 500 120
ok $? "the test UAS listens"

# All requests one after the other, then the assertions.
send_all tcp t1 t2 t2_unlabelled t2_vialine t3 t3_two t3_one t3_integ t4 t5 t8 t8_signed t8_outer t9_rogue \
	t9_revoked t9_strict t9_tampered t9_forward t10 t10_prefix t10_forward t10_nobody t11 t11_prefix \
	t11_open t11_tls nomatch "${T12[@]}" t15_none t15_corrupt t15_garbage t16_large t16_deep
send_all udp t6 t7
# T6 and T7 again, each sent twice from one UDP port: a retransmitted
# MESSAGE gets the same challenge, byte for byte.
for n in t6 t7; do
	sed "s/$(callid $n)/r-$(callid $n)/; s/branch=z9hG4bK-/branch=z9hG4bK-r-/" "$WORK/$n.sip" > "$WORK/${n}r.sip"
	python3 "$CHAL" each "$WORK" ${n}r -- send udp "$PX_PORT" @.sip @.first --bind "127.0.0.1:$UAC_PORT" 5
	python3 "$CHAL" each "$WORK" ${n}r -- send udp "$PX_PORT" @.sip @.again --bind "127.0.0.1:$UAC_PORT" 5
done
# The same INVITE over UDP twice from one port, no ACK between: the
# retransmission must get the very same 496 (absorbed, not signed again).
python3 "$CHAL" each "$WORK" t2_udp -- send udp "$PX_PORT" @.sip @.resp --no-ack \
	--bind "127.0.0.1:$UAC_PORT" 5
python3 "$CHAL" each "$WORK" t2_udp -- send udp "$PX_PORT" @.sip @.again --no-ack \
	--bind "127.0.0.1:$UAC_PORT" 5
check_all t2 t2_unlabelled t2_vialine t2_udp t3 t3_two t3_one t3_integ t5 t6 t7 t8 t8_outer t15_corrupt

# T1: shared EnvelopedData (proxy + Bob), labelled SDP: forwarded as is.
status t1 200
forwarded t1
policy t1 INVITE R_sdp forward "policy satisfied"
log_of t1 | grep -q 'INVITE inspected: targets 1 (m1@example.com opened)'
ok $? "t1: the decrypt stage opened the labelled part"

# T2: EnvelopedData to Bob only, labelled and unlabelled: signed 496 with
# the SDP Warning; a labelled one is a labelled failure.
status t2 496
warnings t2 "$W_SDP"
challenge t2
not_forwarded t2
policy t2 INVITE R_sdp 496 "labelled body undecipherable"
grep -q '^Date: ' "$WORK/t2.resp" && grep -q '^To: <sip:bob@example.com>;tag=..*' "$WORK/t2.resp"
ok $? "t2: the 496 has a Date and a To tag"
! grep -q "forwarded ACK .* call-id $(callid t2)\$" "$PXLOG"
ok $? "t2: the ACK for the 496 was absorbed by the proxy, not forwarded"
status t2_unlabelled 496
warnings t2_unlabelled "$W_SDP"
challenge t2_unlabelled
policy t2_unlabelled INVITE R_sdp 496 "required body undecipherable"
status t2_vialine 496
challenge t2_vialine
[ "$(grep -c '^Via: ' "$WORK/t2_vialine.chk/sipfrag.txt" 2>/dev/null)" -eq 2 ]
ok $? "t2_vialine: both Via values of one header line are in the sipfrag"
status t2_udp 496
challenge t2_udp
[ -s "$WORK/t2_udp.again" ] && cmp -s "$WORK/t2_udp.resp" "$WORK/t2_udp.again"
ok $? "t2_udp: a retransmitted INVITE gets the same 496, byte for byte"
[ "$(log_of t2_udp | grep -c ' policy: ')" -eq 1 ]
ok $? "t2_udp: one policy decision for the transaction"

# T3: the whole body required: 496 without a type Warning.
status t3 496
warnings t3
challenge t3
policy t3 INVITE R_whole 496 "labelled body undecipherable"
# One Warning per missing PRMB type, in the rule's order; a type visible
# in plain text is not asked for; reading plus integrity: no type Warning.
status t3_two 496
warnings t3_two "$W_SDP" "$W_TXT"
challenge t3_two
policy t3_two INVITE R_two 496 "labelled body undecipherable"
status t3_one 496
warnings t3_one "$W_SDP"
challenge t3_one
policy t3_one INVITE R_two 496 "labelled body undecipherable"
status t3_integ 496
warnings t3_integ
challenge t3_integ
policy t3_integ MESSAGE R_integ 496 "labelled body undecipherable"

# T4: a part for the proxy (opened) and one for Bob (closed): no 496.
status t4 200
forwarded t4
policy t4 INVITE R_sdp forward "policy satisfied"

# T5: the label names the proxy, the part is encrypted to its old cert.
status t5 496
warnings t5 "$W_SDP"
challenge t5
policy t5 INVITE R_sdp 496 "labelled body undecipherable"

# T6: MESSAGE text/plain to Bob only (IM logging), over UDP.
status t6 496
warnings t6 "$W_TXT"
challenge t6
not_forwarded t6
policy t6 MESSAGE R_im 496 "labelled body undecipherable"

[ -s "$WORK/t6r.first" ] && cmp -s "$WORK/t6r.first" "$WORK/t6r.again" &&
	[ -s "$WORK/t7r.first" ] && cmp -s "$WORK/t7r.first" "$WORK/t7r.again"
ok $? "t6, t7: a retransmitted MESSAGE gets the same 496/495, byte for byte"

# T7: integrity required, MESSAGE unsigned: signed 495, no Warning (UDP).
status t7 495
warnings t7
challenge t7
not_forwarded t7
policy t7 MESSAGE R_integ 495 "signature required"

# T8: decrypted fine but no signature inside: 495 after the decryption;
# sign-then-encrypt satisfies the rule; encrypt-then-sign does not.
status t8 495
warnings t8
challenge t8
policy t8 MESSAGE R_integ 495 "signature required"
log_of t8 | grep -q 'MESSAGE inspected: targets 1 (m1@example.com opened)'
ok $? "t8: the 495 came after a successful decryption"
status t8_signed 200
forwarded t8_signed
policy t8_signed MESSAGE R_integ forward "policy satisfied"
status t8_outer 495
challenge t8_outer
policy t8_outer MESSAGE R_integ 495 "signature required"

# T9: bad signatures: an untrusted, a revoked and a non-conforming signer
# inside the envelope, a tampered clear multipart/signed: 403, or forward
# and log.
status t9_rogue 403
not_forwarded t9_rogue
policy t9_rogue MESSAGE R_im 403 "bad signature"
status t9_revoked 403
policy t9_revoked MESSAGE R_im 403 "bad signature"
status t9_strict 403
not_forwarded t9_strict
policy t9_strict MESSAGE R_im 403 "bad signature"
status t9_tampered 403
policy t9_tampered MESSAGE R_im 403 "bad signature"
status t9_forward 200
forwarded t9_forward
policy t9_forward MESSAGE R_sigfwd forward "bad signature, forwarded"

# T10: decrypted, but the required type is not there: 403, or forward and
# log; no body at all is not a missing PRMB.
status t10 403
not_forwarded t10
policy t10 MESSAGE R_im 403 "required body type absent"
# A visible type that is a prefix of the required one (text/plai for
# text/plain) does not satisfy it (mutant P5 of docs/reliability.md).
status t10_prefix 403
not_forwarded t10_prefix
policy t10_prefix MESSAGE R_im 403 "required body type absent"
status t10_forward 200
forwarded t10_forward
policy t10_forward INVITE R_missfwd forward "required body type absent, forwarded"
status t10_nobody 200
policy t10_nobody INVITE R_sdp forward "no body"

# T11: the mechanism off: label and body ignored, nothing decrypted.
status t11 200
forwarded t11
policy t11 INVITE R_off forward "mechanism off for this traffic"
# From user "of", a prefix of R_off's "off": not R_off's traffic; R_sdp
# challenges it as it does t2 (mutant P1 of docs/reliability.md).
status t11_prefix 496
not_forwarded t11_prefix
policy t11_prefix INVITE R_sdp 496 "labelled body undecipherable"
# R_tlsoff (mechanism off over TLS) does not match a request over TCP
# (mutant P4: transports not checked): R_im challenges it.
status t11_tls 496
not_forwarded t11_tls
policy t11_tls MESSAGE R_im 496 "labelled body undecipherable"
status t11_open 200
forwarded t11_open
policy t11_open INVITE R_off forward "mechanism off for this traffic"
! log_of t11_open | grep -q 'opened'
ok $? "t11_open: nothing decrypted with the mechanism off"

# No rule matches: forwarded as it is.
status nomatch 200
forwarded nomatch
policy nomatch MESSAGE - forward "no rule matched"

# T12: every label variant names this proxy: a labelled failure when the
# part is closed, m1 opened when it is not.
for n in "${T12[@]}"; do
	case $n in
	*_closed)
		status "$n" 496
		policy "$n" INVITE R_sdp 496 "labelled body undecipherable" ;;
	*)
		status "$n" 200
		log_of "$n" | grep -q 'INVITE inspected: targets 1 (m1@example.com opened)'
		ok $? "$n: one target, m1 opened" ;;
	esac
done
forwarded t12_8_open

# T13: a 200 OK carrying a required SDP the proxy cannot read (encrypted
# to alice only, labelled for the proxy): no error response, the 200 goes
# through byte-identical; "log" logs it, "terminate" also sends BYE to both.
printf 'Content-ID: <a1@example.com>\r\nProxy-Inspect-Body: proxy.test;cid="a1@example.com"\r\n' > "$WORK/answer.hdr"
# dialog NAME FROM UAS-PORT UAC-PORT BYE-WAIT [INVITE-BODY [ANSWER ANSWER-HDR
# [ACK-BODY ACK-HDR]]]: one call; the UAS answers ANSWER (default the
# encrypted answer.p7m with its label), the caller ACKs with ACK-BODY.
dialog() {
	local f ack=()
	mkdir -p "$WORK/$1"
	python3 "$TOP_SRCDIR/tests/integration/dialog.py" uas "$3" "$WORK/$1" \
		"${7:-$WORK/answer.p7m}" "$([ -n "${7:-}" ] && echo application/sdp || echo "$P7M")" \
		"${8:-$WORK/answer.hdr}" $((30 * WAIT_SCALE)) &
	PIDS="$PIDS $!"
	wait_listen tcp "$3"
	if [ -n "${6-$WORK/sdp.body}" ]; then
		RURI_PORT=$3 CONTACT_PORT=$4 mkreq "$1" INVITE "$2" application/sdp "${6-$WORK/sdp.body}"
	else
		RURI_PORT=$3 CONTACT_PORT=$4 mkreq "$1" INVITE "$2" "" ""
	fi
	[ -n "${9:-}" ] && ack=("$9" "$P7M" "${10}")
	python3 "$TOP_SRCDIR/tests/integration/dialog.py" uac "$PX_PORT" "$4" "$WORK/$1.sip" \
		"$WORK/$1" "$5" "${ack[@]}" > "$WORK/$1.uac.out" 2>&1
	for f in "" .body .warning .content-type; do
		cp "$WORK/$1/uac.final$f" "$WORK/$1.resp$f" 2>/dev/null || : > "$WORK/$1.resp$f"
	done
}
dialog t13_log dlog $((BASE + 12)) $((BASE + 13)) 1
status t13_log 200
cmp -s "$WORK/answer.p7m" "$WORK/t13_log.resp.body"
ok $? "t13_log: the 200 reached the caller, body byte-identical"
policy t13_log INVITE R_dlog forward "policy satisfied"
grep -q "policy: rule at line $(rule_line R_dlog) -> forward: required body undecipherable, forwarded (" "$PXLOG"
ok $? "t13_log: log says the 200's required body was undecipherable, forwarded (rule R_dlog)"
[ ! -f "$WORK/t13_log/uas.bye" ] && [ ! -f "$WORK/t13_log/uac.bye" ]
ok $? "t13_log: no BYE with on_undecipherable_in_dialog = log"

dialog t13_term dterm $((BASE + 14)) $((BASE + 15)) $((10 * WAIT_SCALE))
status t13_term 200
cmp -s "$WORK/answer.p7m" "$WORK/t13_term.resp.body"
ok $? "t13_term: the 200 reached the caller, body byte-identical"
grep -q "policy: rule at line $(rule_line R_dterm) -> terminate: required body undecipherable, dialog terminated (" "$PXLOG"
ok $? "t13_term: log says terminate (rule R_dterm)"
grep -q "^Call-ID: $(callid t13_term)" "$WORK/t13_term/uac.bye" 2>/dev/null
ok $? "t13_term: the proxy sent BYE to the caller"
wait_for 10 grep -q "^Call-ID: $(callid t13_term)" "$WORK/t13_term/uas.bye" 2>/dev/null
ok $? "t13_term: the proxy sent BYE to the callee"

# T13 for an ACK: the offer in the 200 (plain), the answer in the ACK,
# encrypted to Bob only and labelled for the proxy: the ACK reaches Bob
# unchanged and is logged; with "terminate" both sides get a BYE.
: > "$WORK/empty.hdr"
enc "$WORK/ack.p7m" "$WORK/sdp.mime" uas
printf 'Content-ID: <k1@example.com>\r\nProxy-Inspect-Body: proxy.test;cid="k1@example.com"\r\n' > "$WORK/ack.hdr"
dialog t13_ack_log dlog $((BASE + 16)) $((BASE + 17)) 1 "" "$WORK/sdp.body" "$WORK/empty.hdr" \
	"$WORK/ack.p7m" "$WORK/ack.hdr"
status t13_ack_log 200
wait_for 10 test -s "$WORK/t13_ack_log/uas.ack"
python3 "$CHAL" body "$WORK/t13_ack_log/uas.ack" "$WORK/t13_ack_log.ackbody" 2>/dev/null
cmp -s "$WORK/ack.p7m" "$WORK/t13_ack_log.ackbody"
ok $? "t13_ack_log: the ACK reached the callee, body byte-identical"
grep -q "ACK policy: rule at line $(rule_line R_dlog) -> forward: required body undecipherable, forwarded (" "$PXLOG"
ok $? "t13_ack_log: log says the ACK's required body was undecipherable, forwarded (rule R_dlog)"
[ ! -f "$WORK/t13_ack_log/uas.bye" ] && [ ! -f "$WORK/t13_ack_log/uac.bye" ]
ok $? "t13_ack_log: no BYE"
# With "terminate": the ACK carries the caller's Contact in the first
# call, none in the second (Contact is optional in an ACK, RFC 3261
# table 3); both sides must get a BYE either way.
{ cat "$WORK/ack.hdr"; printf 'Contact: <sip:dterm@127.0.0.1:%s;transport=tcp>\r\n' $((BASE + 19)); } \
	> "$WORK/ack_contact.hdr"
dialog t13_ack_term dterm $((BASE + 18)) $((BASE + 19)) $((10 * WAIT_SCALE)) "" "$WORK/sdp.body" "$WORK/empty.hdr" \
	"$WORK/ack.p7m" "$WORK/ack_contact.hdr"
dialog t13_ack_nocontact dterm $((BASE + 2)) $((BASE + 3)) $((10 * WAIT_SCALE)) "" "$WORK/sdp.body" "$WORK/empty.hdr" \
	"$WORK/ack.p7m" "$WORK/ack.hdr"
# An ACK is judged by the rule for its INVITE (R_sdp: methods INVITE;
# mutant P2 let it match no rule and pass unlogged).
dialog t13_ack_invite alice $((BASE + 4)) $((BASE + 5)) 1 "" "$WORK/sdp.body" "$WORK/empty.hdr" \
	"$WORK/ack.p7m" "$WORK/ack.hdr"
for n in t13_ack_term t13_ack_nocontact; do
	status $n 200
	# the callee's BYE comes after the ACK's policy line
	wait_for 10 test -s "$WORK/$n/uas.bye"
	policy $n ACK R_dterm terminate "required body undecipherable, dialog terminated"
	wait_for 10 grep -q "^Call-ID: $(callid $n)" "$WORK/$n/uas.bye" 2>/dev/null
	ok $? "$n: the proxy sent BYE to the callee"
	grep -q "^Call-ID: $(callid $n)" "$WORK/$n/uac.bye" 2>/dev/null
	ok $? "$n: the proxy sent BYE to the caller"
done
status t13_ack_invite 200
wait_for 10 test -s "$WORK/t13_ack_invite/uas.ack" # forwarded after its line
log_of t13_ack_invite ACK | grep -q "ACK policy: rule at line $(rule_line R_sdp) -> forward: required body undecipherable, forwarded"
ok $? "t13_ack_invite: the ACK judged by the INVITE's rule R_sdp (undecipherable, logged)"

# T14: freshness. Every check above compared the sipfrag with the request
# and signingTime and Date with now. A 496 body replayed into another
# transaction's response has a valid signature but does not match.
python3 - "$WORK/t2.resp" "$WORK/t5.resp" "$WORK/replay.resp" <<'PY'
import sys
old, new = (open(p, 'rb').read() for p in sys.argv[1:3])
oh, ob = old.split(b'\r\n\r\n', 1)
nh = new.split(b'\r\n\r\n', 1)[0]
keep = [l for l in nh.split(b'\r\n') if not l.lower().startswith((b'content-type:', b'content-length:'))]
ct = [l for l in oh.split(b'\r\n') if l.lower().startswith(b'content-type:')]
open(sys.argv[3], 'wb').write(b'\r\n'.join(keep + ct + [b'Content-Length: %d' % len(ob)]) +
                              b'\r\n\r\n' + ob)
PY
python3 "$CHAL" check "$WORK/t5.sip" "$WORK/replay.resp" "$K/ca.pem" "$K/proxy_ec.pem" \
	"$WORK/replay.chk" --signer "$K/sign_ec.pem" > "$WORK/replay.chk.out" 2>&1
r=$?
[ $r -ne 0 ] && grep -q '^FAIL sipfrag Call-ID' "$WORK/replay.chk.out" &&
	grep -q '^FAIL sipfrag Via branch' "$WORK/replay.chk.out" &&
	grep -q '^PASS openssl cms -verify: signature' "$WORK/replay.chk.out"
r=$?
ok $r "t14: a replayed 496 body (valid signature) is rejected: Call-ID and Via branch differ"
[ $r -eq 0 ] || grep -v '^PASS' "$WORK/replay.chk.out" | sed 's/^/#   /'

# T15: no RecipientInfo for the proxy vs. a corrupted one: the same 496
# but for the To tag, Date, boundaries, signature and the request's own
# Call-ID, tag and branches; the same log lines.
status t15_none 496
status t15_corrupt 496
challenge t15_corrupt
policy t15_corrupt INVITE R_sdp 496 "labelled body undecipherable"
python3 "$CHAL" each "$WORK" t15_none t15_corrupt -- normalise @.sip @.resp @.norm
cmp -s "$WORK/t15_none.norm" "$WORK/t15_corrupt.norm" && grep -q '<SIGNATURE>' "$WORK/t15_none.norm"
r=$?
ok $r "t15: both 496 identical once normalised"
[ $r -eq 0 ] || diff -a "$WORK/t15_none.norm" "$WORK/t15_corrupt.norm" | head -20 | sed 's/^/#   /'
l1=$(log_of t15_none | sed 's/^tx [0-9]*: //' | grep -E 'inspected|policy')
l2=$(log_of t15_corrupt | sed 's/^tx [0-9]*: //' | grep -E 'inspected|policy')
[ -n "$l1" ] && [ "$l1" = "$l2" ]
ok $? "t15: the same inspected and policy log lines for both"
# An envelope that opens to bytes that are no MIME entity (what a wrong key
# gives: RSA v1.5's implicit rejection, CBC without integrity; 1 in ~256 of
# t15_corrupt's flipped keys did, and got 400): the same 496, or the
# answer would tell a padding error from a parse error.
status t15_garbage 496
policy t15_garbage INVITE R_sdp 496 "labelled body undecipherable"
python3 "$CHAL" each "$WORK" t15_garbage -- normalise @.sip @.resp @.norm
cmp -s "$WORK/t15_none.norm" "$WORK/t15_garbage.norm"
ok $? "t15_garbage: the 496 identical to t15_none's once normalised"

# T16: limits before any crypto: too large 413, too deep 400; the decrypt
# stage never ran on them.
status t16_large 413
! log_of t16_large | grep -q 'inspected:'
ok $? "t16_large: no decryption attempted"
status t16_deep 400
! log_of t16_deep | grep -q 'inspected:'
ok $? "t16_deep: no decryption attempted"
log_of t16_deep | grep -q 'bad body: MIME nesting too deep$'
r=$?
ok $r "t16_deep: the log names the reason (bad body: MIME nesting too deep)"
[ $r -eq 0 ] || log_of t16_deep | grep 'bad body' | sed 's/^/#   got: /'

# RFC 3261 16.2: a 100 Trying for an INVITE that is forwarded or waits for
# crypto; none for one refused on the spot, which gets its final alone.
grep -q '^SIP/2.0 100 ' "$WORK/t1.resp.provisional"
ok $? "t1: the forwarded INVITE got a 100 Trying first"
[ -f "$WORK/t16_large.resp.provisional" ] && [ ! -s "$WORK/t16_large.resp.provisional" ] &&
	[ -f "$WORK/t16_deep.resp.provisional" ] && [ ! -s "$WORK/t16_deep.resp.provisional" ]
ok $? "t16: INVITEs refused at once got no 100, only the final response"

if grep -q 'meet me at noon' "$PXLOG"; then r=1; else r=0; fi
ok $r "no plaintext in the log"

# ------------------------- proxy B: RSA key, base64, other codes/phrases
kill "$PX_PID" 2>/dev/null
wait "$PX_PID" 2>/dev/null
CONF=$WORK/b.conf
write_conf_policy "$CONF" "challenge: {
  signing_certificate = \"$K/sign_rsa.pem\"; signing_key = \"$K/sign_rsa.key\";
  encryption_certificate = \"$K/proxy_rsa.pem\";
  encoding = \"base64\"; sign_495 = false; warn_agent = \"px.example.net\";
  undecipherable_code = 499; undecipherable_phrase = \"Show Me The Body\";
  signature_code = 498; signature_phrase = \"Sign It\"; warn_code = 381;
  rate = 0;
};" 'label_headers = [ "X-E2M-Inspect" ];'
PXLOG=$WORK/proxy_b.log
start_proxy "$CONF" proxy_b
ok $? "proxy starts with an RSA challenge key, base64, other codes, another label name"
mkreq b_496 MESSAGE alice "$P7M" "$WORK/txt_bob.p7m" \
	'Content-ID: <m1@example.com>\r\nX-E2M-Inspect: proxy.test;cid="m1@example.com"\r\n'
mkreq b_495 MESSAGE integ text/plain "$WORK/txt.body"
mkreq b_label_std MESSAGE alice "$P7M" "$WORK/txt_bob.p7m" "$LABEL"
send_all tcp b_496 b_495 b_label_std
ENC_CERT=$K/proxy_rsa.pem SIGN_CERT=$K/sign_rsa.pem check_all b_496 -- --base64
status b_496 499
head -1 "$WORK/b_496.resp" | grep -q '^SIP/2.0 499 Show Me The Body'
ok $? "b_496: the configured reason phrase"
warnings b_496 "381 px.example.net \"Required to View Content-Type 'text/plain'\""
challenge b_496
policy b_496 MESSAGE R_im 496 "labelled body undecipherable"
status b_495 498
head -1 "$WORK/b_495.resp" | grep -q '^SIP/2.0 498 Sign It'
ok $? "b_495: the configured reason phrase"
no_body b_495
warnings b_495
policy b_495 MESSAGE R_integ 495 "signature required"
# inspect.label_headers = [ "X-E2M-Inspect" ]: b_496 was labelled with
# that name; Proxy-Inspect-Body is no label now (the part is unlabelled).
status b_label_std 499
policy b_label_std MESSAGE R_im 496 "required body undecipherable"

# ------------- proxy C: legacy-unsigned, only the certificate, no key
kill "$PX_PID" 2>/dev/null
wait "$PX_PID" 2>/dev/null
CONF=$WORK/c.conf
write_conf_policy "$CONF" 'challenge: { mode = "legacy-unsigned"; rate = 0; };'
PXLOG=$WORK/proxy_c.log
start_proxy "$CONF" proxy_c
ok $? "proxy starts in legacy-unsigned mode without a challenge key"
mkreq c_496 INVITE alice "$P7M" "$WORK/sdp_bob.p7m" "$LABEL"
send_all tcp c_496
status c_496 496
warnings c_496 "$W_SDP"
grep -qix 'application/pkix-cert' "$WORK/c_496.resp.content-type"
ok $? "c_496: Content-Type application/pkix-cert"
openssl x509 -in "$K/proxy_ec.pem" -outform DER -out "$WORK/proxy_ec.der"
cmp -s "$WORK/c_496.resp.body" "$WORK/proxy_ec.der"
ok $? "c_496: the body is the DER of the encryption certificate"
policy c_496 INVITE R_sdp 496 "labelled body undecipherable"

proxy_answers
ok $? "proxy still answers"
t_done
