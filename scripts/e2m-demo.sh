#!/bin/bash
# e2m-demo.sh - the end-to-middle loop on 127.0.0.1 with a throwaway PKI:
# e2mproxyd with a policy that wants to read text messages and SDP, e2mua
# as Bob (UAS) and as Alice (UAC). Alice encrypts to Bob only; the proxy
# answers a signed 496; Alice checks the challenge, adds the proxy as a
# recipient and sends again; the proxy opens the body and forwards it.
# Once for a MESSAGE, once for a call. Installs what it needs (Debian 12,
# as root), builds, runs in well under a minute, cleans up.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh >/dev/null
if [ ! -x _build/e2mua ] || [ -n "$(find src configure.ac Makefile.am -newer _build/e2mua 2>/dev/null | head -1)" ]; then
	[ -x configure ] && [ configure -nt configure.ac ] || autoreconf -fi >/dev/null 2>&1
	mkdir -p _build
	(cd _build && { [ -f Makefile ] || ../configure >/dev/null; } && make -j2 e2mproxyd e2mua >/dev/null)
fi
TOP=$PWD
W=$(mktemp -d "${TMPDIR:-/tmp}/e2m-demo.XXXXXX")
PIDS=""
trap 'kill $PIDS 2>/dev/null; wait 2>/dev/null; rm -rf "$W"' EXIT
say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
show() { sed 's/^/    /'; }

say "0. A throwaway PKI (openssl): a CA, the proxy, Alice and Bob"
. "$TOP/tests/integration/pki.sh"
pki_ca "$W"
PKI_EKU=serverAuth,clientAuth,emailProtection pki_cert "$W" proxy "DNS:proxy.example.com" proxy.example.com
PKI_EKU=emailProtection pki_cert "$W" alice "email:alice@example.com" alice
PKI_EKU=emailProtection pki_cert "$W" bob "email:bob@example.com" bob
ls "$W"/*.pem | sed "s|$W/||" | show

cat > "$W/proxy.conf" <<CONF
log: { level = "info"; };
sip: {
  listen = ( { transport = "udp"; address = "127.0.0.1"; port = 5060; },
             { transport = "tcp"; address = "127.0.0.1"; port = 5060; } );
  own_names = [ "proxy.example.com" ];
};
inspect: { keys = ( { certificate = "$W/proxy.pem"; key = "$W/proxy.key"; } );
           trust_anchors = [ "$W/ca.pem" ]; };
policy: { rules = (
  { methods = [ "MESSAGE" ]; required_types = [ "text/plain" ]; },
  { methods = [ "INVITE" ]; required_types = [ "application/sdp" ]; } ); };
challenge: { signing_certificate = "$W/proxy.pem"; signing_key = "$W/proxy.key"; };
CONF
say "1. e2mproxyd on 127.0.0.1:5060: it must see MESSAGE text and call SDP"
"$TOP/_build/e2mproxyd" -D -f "$W/proxy.conf" > "$W/proxy.log" 2>&1 &
PIDS="$PIDS $!"
"$TOP/_build/e2mua" -l -b "sip:127.0.0.1:5070;transport=tcp" -k "$W/bob.pem:$W/bob.key" \
	-r "$W/ca.pem" -e "$W/alice.pem" -x "proxy.example.com=$W/proxy.pem" -N 3 -T 40 \
	> "$W/bob.out" 2>&1 &
PIDS="$PIDS $!"
sleep 1
grep -E "policy:|started" "$W/proxy.log" | sed 's/^[0-9:.]* //' | show
echo "    Bob (e2mua -l) answers on 127.0.0.1:5070"

alice() {
	"$TOP/_build/e2mua" -t "sip:bob@127.0.0.1:5070;transport=tcp" \
		-o "sip:127.0.0.1:5060;transport=tcp" -b "sip:127.0.0.1:5080;transport=tcp" \
		-f sip:alice@example.com -s "$W/alice.pem:$W/alice.key" -e "$W/bob.pem" \
		-r "$W/ca.pem" -a proxy.example.com "$@"
}
steps() {
	# what the proxy decided, in its own words, since line $1 of its log
	tail -n +"$1" "$W/proxy.log" | grep -E "policy: rule|answered 49|inspected" |
		sed 's/^[0-9:.]* e2mproxyd: info: //' | show
}

say "2. Alice sends Bob a MESSAGE, signed and encrypted to Bob only"
n=$(wc -l < "$W/proxy.log")
alice -m "Lunch at noon?" > "$W/msg.json" || true
steps $((n + 1))
echo "    Alice checked the 496 (signature to her CA, proxy.example.com named by"
echo "    the signer and the certificate and on her allow-list, fresh for her"
echo "    request), added the proxy as a recipient and sent the MESSAGE again."
echo "    Alice's result: $(cat "$W/msg.json")"
echo "    Bob's view:     $(sed -n 1p "$W/bob.out")"

say "3. Alice calls Bob with an SDP offer encrypted to Bob only"
n=$(wc -l < "$W/proxy.log")
alice -I -H 1 > "$W/call.json" || true
steps $((n + 1))
echo "    Alice's result: $(cat "$W/call.json")"
echo "    Bob's view:     $(sed -n 2p "$W/bob.out" | cut -c1-160)..."
echo "                    $(sed -n 3p "$W/bob.out" | cut -c1-100)"

say "Summary"
ok=0
grep -q '"status":200.*"disclosed_to":\["proxy.example.com"\],"challenges":1' "$W/msg.json" && ok=$((ok + 1))
grep -q '"status":200.*"challenges":1,"bye":200' "$W/call.json" && ok=$((ok + 1))
echo "    $ok of 2 exchanges: challenged by a signed 496, verified, disclosed to"
echo "    the proxy, inspected and delivered; every body left the proxy as it came."
[ "$ok" -eq 2 ]
