#!/bin/bash
# demo.sh - the end-to-middle loop on 127.0.0.1 with a throwaway PKI, in
# well under a minute: e2mproxyd with the shipped default configuration
# (conf/e2mproxyd.conf: it must see the text of MESSAGEs and the SDP of
# calls), e2mua as Bob (UAS) and as Alice (UAC). Alice encrypts to Bob
# only; the proxy answers a signed 496; Alice checks the challenge, adds
# the proxy as a recipient and sends again; the proxy opens the body and
# forwards it unchanged. Once for a MESSAGE, once for a call. Prints each
# step and a summary; exit 0 when both exchanges went as described.
#
# demo.sh --proxy: only the proxy, same configuration and a fresh
# throwaway PKI, in the foreground until Ctrl-C (try e2mua against it).
#
# Installs what it needs (Debian 12, as root), builds, cleans up.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-demo}
case $MODE in demo | --proxy) ;; *) echo "usage: $0 [--proxy]" >&2; exit 2 ;; esac
./scripts/deps.sh >/dev/null
if [ ! -x _build/e2mua ] || [ -n "$(find src configure.ac Makefile.am -newer _build/e2mua 2>/dev/null | head -1)" ]; then
	echo "building (first run only)..."
	[ -x configure ] && [ configure -nt configure.ac ] || autoreconf -fi >/dev/null 2>&1
	mkdir -p _build
	(cd _build && { [ -f Makefile ] || ../configure >/dev/null; } && make -j2 e2mproxyd e2mua >/dev/null)
fi
TOP=$PWD
W=$(mktemp -d "${TMPDIR:-/tmp}/e2m-demo.XXXXXX")
PIDS=""
trap 'kill $PIDS 2>/dev/null; wait 2>/dev/null; rm -rf "$W"' EXIT
# The shipped file, unchanged; its pki/ beside it.
cp conf/e2mproxyd.conf "$W/e2mproxyd.conf"
./scripts/e2m-pki.sh "$W/pki"
if [ "$MODE" = --proxy ]; then
	echo "e2mproxyd on udp and tcp 127.0.0.1:5060 with conf/e2mproxyd.conf; keys in $W/pki"
	echo "(removed on exit). Ctrl-C stops it. Try, from another terminal:"
	echo "  _build/e2mua -l -b 'sip:127.0.0.1:5070;transport=tcp' -k $W/pki/bob.pem:$W/pki/bob.key -N 1 -T 60 &"
	echo "  _build/e2mua -t 'sip:bob@127.0.0.1:5070;transport=tcp' -o 'sip:127.0.0.1:5060;transport=tcp' \\"
	echo "      -e $W/pki/bob.pem -r $W/pki/ca.pem -a proxy.example.com -m hello"
	"$TOP/_build/e2mproxyd" -D -f "$W/e2mproxyd.conf" &
	PIDS=$!
	wait "$PIDS" || true
	exit 0
fi
P=$W/pki
say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
show() { sed 's/^/    /'; }

say "0. A throwaway PKI (openssl): a CA, the proxy (encryption and challenge-signing certificates), Alice and Bob"
ls "$P"/*.pem | sed "s|$P/||" | tr '\n' ' ' | show
echo

say "1. e2mproxyd on 127.0.0.1:5060 with the shipped conf/e2mproxyd.conf: it must see MESSAGE text and call SDP"
grep -E '^[^#]*\{ methods' conf/e2mproxyd.conf | sed 's/^[[:space:]]*//' | show
"$TOP/_build/e2mproxyd" -D -f "$W/e2mproxyd.conf" > "$W/proxy.log" 2>&1 &
PIDS="$PIDS $!"
"$TOP/_build/e2mua" -l -b "sip:127.0.0.1:5070;transport=tcp" -k "$P/bob.pem:$P/bob.key" \
	-r "$P/ca.pem" -e "$P/alice.pem" -x "proxy.example.com=$P/proxy.pem" -N 3 -T 40 \
	> "$W/bob.out" 2>&1 &
PIDS="$PIDS $!"
for i in $(seq 1 50); do
	grep -q "started" "$W/proxy.log" 2>/dev/null && (exec 3<>/dev/tcp/127.0.0.1/5070) 2>/dev/null && break
	sleep 0.1
done
grep -E "started" "$W/proxy.log" | sed 's/^[0-9:.]* //' | show
echo "    Bob (e2mua -l) answers on 127.0.0.1:5070"

alice() {
	"$TOP/_build/e2mua" -t "sip:bob@127.0.0.1:5070;transport=tcp" \
		-o "sip:127.0.0.1:5060;transport=tcp" -b "sip:127.0.0.1:5080;transport=tcp" \
		-f sip:alice@example.com -s "$P/alice.pem:$P/alice.key" -e "$P/bob.pem" \
		-k "$P/alice.pem:$P/alice.key" -r "$P/ca.pem" -a proxy.example.com "$@"
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
echo "    Alice's result: $(cut -c1-200 "$W/call.json")..."
echo "    Bob's view:     $(sed -n 2p "$W/bob.out" | cut -c1-160)..."
echo "                    $(sed -n 3p "$W/bob.out" | cut -c1-100)"

say "Summary"
ok=0
grep -q '"status":200.*"disclosed_to":\["proxy.example.com"\],"challenges":1' "$W/msg.json" && ok=$((ok + 1))
grep -q '"status":200.*"challenges":1,"checks":\[{"status":496,"proxy":"proxy.example.com","wants":\["application/sdp"\],"result":"verified"}\],"bye":200,"answer":{"decrypted":1' "$W/call.json" && ok=$((ok + 1))
inspected=$(grep -c "inspected: targets 1 (.* opened)" "$W/proxy.log" || true)
echo "    $ok of 2 exchanges: challenged by a signed 496, verified, disclosed to"
echo "    the proxy, inspected ($inspected bodies opened by the proxy: the MESSAGE,"
echo "    the offer and Bob's SDP answer) and delivered; every body left the proxy"
echo "    as it came. Bob's answer was encrypted to Alice and the proxy."
[ "$ok" -eq 2 ]
