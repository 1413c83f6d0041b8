#!/bin/bash
# challenge_size.sh [BUILD_DIR] (bash; needs openssl, python3 and a build)
# The size of a signed 496 (the whole SIP message, as the UA receives it
# over UDP) for each key choice: EC P-256, RSA-2048 and RSA-3072 (the CA,
# the intermediate and the proxy's certificates all of that kind), the
# signing certificate issued by the root or by an intermediate (the chain
# file holding the intermediate alone, or the intermediate and the root),
# the signing certificate the encryption certificate or a separate one
# (or the same with challenge.certificate_once, "once"), binary or base64
# parts.
#
# For each case: a throwaway PKI (tests/integration/pki.sh, minimal
# certificates: subject CN, one DNS SAN, keyUsage, extendedKeyUsage), one
# e2mproxyd on UDP 127.0.0.1:BENCH_PORT (default 26200; the sender uses
# BENCH_PORT+1), a policy rule that answers an unlabelled encrypted
# MESSAGE with a signed 496 at once, and one MESSAGE as a phone would send
# it (one Via with rport, 32-character branch and Call-ID, a From tag, a
# display name). The 496 is saved byte for byte (tests/integration/
# challenge.py send) and checked with challenge.py check (layout, sipfrag,
# certificate part, "openssl cms -verify" against the CA); a case that
# fails the check is marked FAIL and the exit status is 1.
#
# Prints one line per case: key, chain, certificates, encoding, the whole
# 496, its body, the signed sipfrag, the CMS SignedData and the
# certificates it carries, and the IPv4 fragments the datagram needs on a
# 1,500-byte MTU path (sip.udp_mtu, 1,300, is never met: see
# docs/performance.md, "Size of a signed 496"). BENCH_KEEP=1 keeps the work
# directory (throwaway keys: never commit them).
set -u

TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/bench/lib.sh"
bench_build "${1:-}" || exit 1
bench_need_proxy
PORT=${BENCH_PORT:-26200}
UA=$((PORT + 1))
CHAL=$TOP/tests/integration/challenge.py
HOST=proxy.example.com
bench_workdir e2m-size
W=$WORK
PX=
# shellcheck source=../tests/integration/pki.sh
. "$TOP/tests/integration/pki.sh"

# pki KIND: DIR W/KIND with ca, sub (intermediate), sign/enc (by the root),
# isign/ienc (by the intermediate), peer (some other UA's certificate)
pki() {
	local d=$W/$1
	mkdir -p "$d"
	export PKI_CA_KEY=$1 PKI_KEY=$1 PKI_EKU=serverAuth,clientAuth,emailProtection
	pki_ca "$d" && pki_subca "$d" sub &&
		pki_cert "$d" sign "DNS:$HOST" $HOST && pki_cert "$d" enc "DNS:$HOST" $HOST &&
		PKI_ISSUER=sub pki_cert "$d" isign "DNS:$HOST" $HOST &&
		PKI_ISSUER=sub pki_cert "$d" ienc "DNS:$HOST" $HOST &&
		pki_cert "$d" peer "DNS:bob.example.com" bob.example.com &&
		cat "$d/sub.pem" "$d/ca.pem" > "$d/subroot.pem"
	local rc=$?
	unset PKI_CA_KEY PKI_KEY PKI_EKU
	return $rc
}

der_size() {
	openssl x509 -in "$1" -outform DER | wc -c
}

request() {
	local body=$1 len
	len=$(stat -c %s "$body")
	{
		printf 'MESSAGE sip:bob@example.com SIP/2.0\r\n'
		printf 'Via: SIP/2.0/UDP 127.0.0.1:%s;rport;branch=z9hG4bK%s\r\n' "$UA" \
			"$(openssl rand -hex 16)"
		printf 'Max-Forwards: 70\r\n'
		printf 'From: "Alice" <sip:alice@example.com>;tag=%s\r\n' "$(openssl rand -hex 8)"
		printf 'To: <sip:bob@example.com>\r\n'
		printf 'Call-ID: %s@192.0.2.10\r\n' "$(openssl rand -hex 16)"
		printf 'CSeq: 1 MESSAGE\r\n'
		printf 'Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\n'
		printf 'Content-Length: %s\r\n\r\n' "$len"
		cat "$body"
	}
}

# one KIND CHAIN SAME ENC: CHAIN none|sub|subroot, SAME same|separate|
# once (the same certificate, challenge.certificate_once = true), ENC
# binary|base64; prints the table line
one() {
	local kind=$1 chain=$2 same=$3 enc=$4 d=$W/$1 c=$W/case
	local sign=sign encc signchain="" once=false oncearg=
	[ "$chain" != none ] && sign=isign && signchain="signing_chain = [ \"$d/$chain.pem\" ];"
	encc=$sign
	[ "$same" = separate ] && encc=${sign%sign}enc
	[ "$same" = once ] && once=true oncearg=--once
	rm -rf "$c"
	mkdir -p "$c"
	cat > "$c/px.conf" <<CONF
log: { level = "info"; };
sip: { listen = ( { transport = "udp"; address = "127.0.0.1"; port = $PORT; } );
       own_names = [ "$HOST" ]; };
inspect: { keys = ( { certificate = "$d/$encc.pem"; key = "$d/$encc.key"; } ); };
policy: { rules = ( { methods = [ "MESSAGE" ]; required_types = [ "text/plain" ];
                      open_unlabelled = false; } ); };
challenge: { signing_certificate = "$d/$sign.pem"; signing_key = "$d/$sign.key";
             $signchain encryption_certificate = "$d/$encc.pem";
             encoding = "$enc"; certificate_once = $once; rate = 0; };
CONF
	"$PROXY" -D -f "$c/px.conf" > "$c/px.log" 2>&1 &
	PX=$!
	bench_track "$PX"
	local _
	for _ in $(seq 1 100); do
		grep -qs started "$c/px.log" && break
		kill -0 "$PX" 2>/dev/null || break
		sleep 0.05
	done
	request "$d/body.p7m" > "$c/req"
	local st
	st=$(python3 "$CHAL" send udp "$PORT" "$c/req" "$c/resp" 5 --bind "127.0.0.1:$UA")
	bench_stop
	PX=
	local b64='' ok=ok
	[ "$enc" = base64 ] && b64=--base64
	case $st in
	*" 496 "*) ;;
	*) ok="FAIL($st)" ;;
	esac
	# shellcheck disable=SC2086
	python3 "$CHAL" check "$c/req" "$c/resp" "$d/ca.pem" "$d/$encc.pem" "$c/chk" \
		--signer "$d/$sign.pem" $b64 $oncearg > "$c/check.out" 2>&1 || ok=FAIL
	[ "$ok" = ok ] || { FAILED=1; sed 's/^/# /' "$c/check.out" | grep -v PASS; }
	local total body sig ncerts frags frag
	total=$(stat -c %s "$c/resp")
	body=$(stat -c %s "$c/resp.body")
	sig=$(stat -c %s "$c/chk/sig.der" 2>/dev/null || echo 0)
	ncerts=$(openssl cms -cmsout -print -inform DER -in "$c/chk/sig.der" 2>/dev/null |
		grep -c 'd.certificate:')
	frag=$(stat -c %s "$c/chk/sipfrag.txt" 2>/dev/null || echo 0)
	# IPv4 fragments on a 1,500-byte MTU: 1,480 bytes of the datagram
	# (8 bytes UDP header + the 496) each.
	frags=$(( (total + 8 + 1479) / 1480 ))
	printf '| %-7s | %-7s | %-8s | %-6s | %5s | %5s | %5s | %5s | %s | %s | %s |\n' \
		"$kind" "$chain" "$same" "$enc" "$total" "$body" "$frag" "$sig" "$ncerts" \
		"$frags" "$ok"
}

FAILED=0
for kind in ${BENCH_KINDS:-ec rsa rsa3072}; do
	pki "$kind" || { echo "challenge_size.sh: PKI ($kind) failed" >&2; exit 1; }
	printf 'Content-Type: text/plain\r\n\r\nhello' > "$W/txt.mime"
	openssl cms -encrypt -binary -aes-128-gcm -in "$W/txt.mime" -outform DER \
		-out "$W/$kind/body.p7m" -recip "$W/$kind/peer.pem" || exit 1
done
for kind in ${BENCH_KINDS:-ec rsa rsa3072}; do
	d=$W/$kind
	echo "# $kind: DER sizes: root $(der_size "$d/ca.pem"), intermediate" \
		"$(der_size "$d/sub.pem"), proxy $(der_size "$d/sign.pem")" \
		"(by the intermediate $(der_size "$d/isign.pem"))"
done
echo "| key     | chain   | certs    | enc    | 496 B | body  | sipfrag | CMS | certs in CMS | IPv4 fragments at MTU 1500 | check |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for kind in ${BENCH_KINDS:-ec rsa rsa3072}; do
	for chain in none sub subroot; do
		for same in same separate once; do
			for enc in binary base64; do
				one "$kind" "$chain" "$same" "$enc"
			done
		done
	done
done
exit "$FAILED"
