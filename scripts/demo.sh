#!/bin/bash
# demo.sh - the end-to-middle loop on 127.0.0.1 with a throwaway PKI, in
# well under a minute: e2mproxyd with the shipped default configuration
# (conf/e2mproxyd.conf: it must see the text of MESSAGEs and the SDP of
# calls) plus its two services, as the edge proxy in front of a registrar
# (Kamailio), e2mua as Bob (registers through e2mproxyd, answers) and as
# Alice (calls sip:bob@example.com: e2mproxyd -> Kamailio, which routes it
# back through e2mproxyd by the Path Bob registered with, over Bob's own
# connection). Alice encrypts to Bob only; the proxy answers a signed 496; Alice checks
# the challenge, adds the proxy as a recipient and sends again; the proxy
# opens the body, archives the MESSAGE or opens the firewall for the
# call's media, and forwards it unchanged. Once for a MESSAGE, once for a
# call. Prints each step, the archived record and the pinholes, and a
# summary; exit 0 when both exchanges went as described.
#
# The pinholes go into real nftables sets (the shipped ruleset,
# conf/e2mproxy-nftables.conf) in a network namespace the demo makes for
# itself (unshare -rn); where that is not allowed, the exec back end runs
# a program that prints each pinhole instead.
#
# E2M_DEMO_NETNS=no keeps it out of a namespace (the exec back end then).
#
# demo.sh --proxy: only the proxy, same configuration and a fresh
# throwaway PKI, in the foreground until Ctrl-C (try e2mua against it).
#
# Installs what it needs (Debian 12, as root), builds, cleans up.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-demo}
case $MODE in demo | --proxy) ;; *) echo "usage: $0 [--proxy]" >&2; exit 2 ;; esac
./scripts/deps.sh
if [ ! -x _build/e2mua ] || [ -n "$(find src configure.ac Makefile.am -newer _build/e2mua 2>/dev/null | head -1)" ]; then
	echo "building (first run only)..."
	[ -x configure ] && [ configure -nt configure.ac ] || autoreconf -fi >/dev/null 2>&1
	mkdir -p _build
	(cd _build && { [ -f Makefile ] || ../configure >/dev/null; } && make -j2 e2mproxyd e2mua >/dev/null)
fi
# Everything below runs in a network namespace of its own when one can be
# made (it needs no network but loopback: the packages are installed).
if [ "$MODE" = demo ] && [ -z "${E2M_DEMO_NETNS:-}" ] && command -v nft >/dev/null &&
    unshare -rn true 2>/dev/null; then
	exec unshare -rn env E2M_DEMO_NETNS=1 bash "$0" "$@"
fi
NETNS=${E2M_DEMO_NETNS:-}
[ "$NETNS" = no ] && NETNS=   # E2M_DEMO_NETNS=no: the host's own network
[ -n "$NETNS" ] && ip link set lo up
# Outside a namespace of its own the demo shares the host's ports: say
# which one is taken and by whom, rather than fail halfway.
port_user() { # PROTO PORT: "name,pid=N" of a listener there, or nothing
	ss -Hln"${1:0:1}"p "sport = :$2" 2>/dev/null | grep -o 'users:(([^)]*' |
		sed 's/users:(("\([^"]*\)",pid=\([0-9]*\).*/\1 (pid \2)/' | head -1
}
if [ -z "$NETNS" ]; then
	for pp in udp:5060 tcp:5060 tcp:5070 tcp:5080 udp:5090 tcp:5090; do
		if ss -Hln"${pp:0:1}" "sport = :${pp#*:}" 2>/dev/null | grep -q .; then
			echo "demo.sh: ${pp%%:*} port ${pp#*:} on this host is taken by" \
			    "$(port_user "${pp%%:*}" "${pp#*:}" | grep . || echo "another process")." >&2
			echo "demo.sh: the demo needs udp/tcp 5060 and 5090, tcp 5070 and 5080 on 127.0.0.1:" \
			    "stop that process, or run the demo where 'unshare -rn' works (it then" \
			    "runs in a network namespace of its own)." >&2
			exit 1
		fi
	done
fi
TOP=$PWD
W=$(mktemp -d "${TMPDIR:-/tmp}/e2m-demo.XXXXXX")
PIDS=""
trap 'kill $PIDS 2>/dev/null; wait 2>/dev/null; rm -rf "$W"' EXIT
# The shipped file, its pki/ beside it; in demo mode its archive and
# pinholes sections (both off as shipped) are replaced by the demo's.
if [ "$MODE" = demo ]; then
	awk '/^(archive|pinholes|routing|edge): \{/ { skip = 1 } !skip { print }
	    skip && /^\};/ { skip = 0 }' conf/e2mproxyd.conf > "$W/e2mproxyd.conf"
else
	cp conf/e2mproxyd.conf "$W/e2mproxyd.conf"
fi
./scripts/e2m-pki.sh "$W/pki"
# The exec back end's program: print what the firewall would be told.
printf '#!/bin/sh\necho "firewall: $1 $2 $3 $4 $5 (timeout $6 s)" >> "%s/pinholes.txt"\n' \
	"$W" > "$W/pinhole-print.sh"
chmod 755 "$W/pinhole-print.sh"
if [ -n "$NETNS" ]; then
	nft -f conf/e2mproxy-nftables.conf
	BACKEND='backend = "nftables"; create = false;'
else
	BACKEND="backend = \"exec\"; program = \"$W/pinhole-print.sh\";"
fi
if [ "$MODE" = demo ]; then
	{
		echo
		echo '# By scripts/demo.sh: the two services, on; the edge proxy in'
		echo '# front of the registrar of example.com (Kamailio on port 5090).'
		echo 'archive: { enabled = true; path = "im.jsonl"; };'
		echo "pinholes: { enabled = true; $BACKEND"
		echo '            media_networks = [ "127.0.0.0/8" ]; ports = [ "49170-49180" ]; };'
		echo 'routing: { rules = ( { domain = "example.com"; next_hop = "sip:127.0.0.1:5090"; } ); };'
		echo 'edge: { path = "outbound"; flow_key = "pki/flow.key"; };'
	} >> "$W/e2mproxyd.conf"
	openssl rand -hex 32 > "$W/pki/flow.key"
	chmod 600 "$W/pki/flow.key"
fi
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

say "1. Kamailio, the registrar of example.com, on 127.0.0.1:5090; e2mproxyd on 127.0.0.1:5060 in front of it, as the edge proxy, with the shipped conf/e2mproxyd.conf: it must see MESSAGE text and call SDP"
grep -E '^[^#]*\{ methods' conf/e2mproxyd.conf | sed 's/^[[:space:]]*//' | show
WORK=$W TOP_SRCDIR=$TOP
. tests/integration/kamailio.sh
if ! kam_start 5090 > "$W/kam-start.log" 2>&1; then
	echo "demo.sh: Kamailio (the registrar) did not start; its words:" >&2
	sed 's/^/    /' "$W/kam-start.log" >&2
	exit 1
fi
echo "    Kamailio $(kam_cmd core.version 2>/dev/null | head -n 1) answers on 127.0.0.1:5090"
"$TOP/_build/e2mproxyd" -D -f "$W/e2mproxyd.conf" > "$W/proxy.log" 2>&1 &
PIDS="$PIDS $!"
for i in $(seq 1 50); do
	grep -q "started" "$W/proxy.log" 2>/dev/null && break
	sleep 0.1
done
if ! grep -q "started" "$W/proxy.log"; then
	echo "demo.sh: e2mproxyd did not start; its own words:" >&2
	sed 's/^/    /' "$W/proxy.log" >&2
	exit 1
fi
grep -E "started" "$W/proxy.log" | sed 's/^[0-9:.]* //' | show

say "2. Bob registers sip:bob@example.com through e2mproxyd (RFC 5626 outbound, over TCP)"
"$TOP/_build/e2mua" -l -g sip:example.com -f sip:bob@example.com \
	-o "sip:127.0.0.1:5060;transport=tcp" -b "sip:127.0.0.1:5070;transport=tcp" \
	-k "$P/bob.pem:$P/bob.key" -r "$P/ca.pem" -e "$P/alice.pem" \
	-x "proxy.example.com=$P/proxy.pem" -N 3 -T 40 > "$W/bob.out" 2>&1 &
PIDS="$PIDS $!"
for i in $(seq 1 100); do
	grep -q '"event":"registered"' "$W/bob.out" 2>/dev/null && break
	sleep 0.1
done
if ! grep -q '"event":"registered"' "$W/bob.out"; then
	echo "demo.sh: Bob (e2mua -l -g) did not register; his words:" >&2
	sed 's/^/    /' "$W/bob.out" >&2
	exit 1
fi
echo "    Bob: $(grep -m 1 '"event":"registered"' "$W/bob.out" | cut -c1-150)..."
echo "    Kamailio's location table (kamcmd ul.dump): Bob's binding and the Path"
echo "    e2mproxyd put on it, its user part the flow token of Bob's connection:"
kam_cmd ul.dump 2>/dev/null | grep -E "Address:|Path:" | sed 's/^[[:space:]]*/    /'

alice() {
	"$TOP/_build/e2mua" -t "sip:bob@example.com" \
		-o "sip:127.0.0.1:5060;transport=tcp" -b "sip:127.0.0.1:5080;transport=tcp" \
		-f sip:alice@example.com -s "$P/alice.pem:$P/alice.key" -e "$P/bob.pem" \
		-k "$P/alice.pem:$P/alice.key" -r "$P/ca.pem" -a proxy.example.com "$@"
}
steps() {
	# what the proxy decided, in its own words, since line $1 of its log
	# (each line ends with the request's method, CSeq, Call-ID and source:
	# left out here, they are the same for the whole exchange)
	tail -n +"$1" "$W/proxy.log" | grep -E "policy: rule|answered 49|inspected" |
		sed 's/^[0-9:.]* e2mproxyd: info: //; s/ ([A-Z]* [0-9]*, call-id .*)$//' | show
}

say "3. Alice sends a MESSAGE to sip:bob@example.com, signed and encrypted to Bob only"
n=$(wc -l < "$W/proxy.log")
alice -m "Lunch at noon?" > "$W/msg.json" || true
steps $((n + 1))
echo "    (The second transaction is Alice's request on its way to Kamailio, the"
echo "    third the same request back from Kamailio, Bob's Path as its Route:"
echo "    e2mproxyd sent it over Bob's own connection.)"
echo "    Alice checked the 496 (signature to her CA, proxy.example.com named by"
echo "    the signer and the certificate and on her allow-list, fresh for her"
echo "    request), added the proxy as a recipient and sent the MESSAGE again."
echo "    Alice's result: $(cat "$W/msg.json")"
echo "    Bob's view:     $(grep -v "\"event\"" "$W/bob.out" | sed -n 1p)"

say "4. Alice calls sip:bob@example.com with an SDP offer encrypted to Bob only"
n=$(wc -l < "$W/proxy.log")
alice -I -H 2 > "$W/call.json" &
CALL=$!
# While the call is up: the pinholes as the firewall holds them.
for i in $(seq 1 60); do
	if [ -n "$NETNS" ]; then
		nft list set inet e2mproxy media4 > "$W/set.txt" 2>&1
		[ "$(grep -o 'udp \. 4917[0-9]' "$W/set.txt" | wc -l)" -ge 4 ] && break
	else
		[ "$(grep -c add "$W/pinholes.txt" 2>/dev/null)" -ge 4 ] && break
	fi
	sleep 0.05
done
wait "$CALL" || true
steps $((n + 1))
echo "    Alice's result: $(cut -c1-200 "$W/call.json")..."
echo "    Bob's view:     $(grep -v "\"event\"" "$W/bob.out" | sed -n 2p | cut -c1-160)..."
echo "                    $(grep -v "\"event\"" "$W/bob.out" | sed -n 3p | cut -c1-100)"

say "5. What the services saw: the archive and the firewall"
echo "    The archived records of the MESSAGE ($W/im.jsonl):"
python3 - "$W/im.jsonl" <<'PY' | show
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r['kind'] == 'message':
        p = r['parts'][0]
        print('%s  %s -> %s  "%s"' % (r['time'], r['from']['uri'],
                                     r['to']['uri'], p.get('text')))
        print('  protection: %s' % json.dumps(p['protection']))
    else:
        print('%s  final response %d' % (r['time'], r['status']))
PY
if [ -n "$NETNS" ]; then
	echo "    The call's pinholes while it was up (nft list set inet e2mproxy media4):"
	sed -n '/elements/,/}/p' "$W/set.txt" | show
	echo "    and after the BYE:"
	nft list set inet e2mproxy media4 | sed -n '/type/,/}/p' | show
else
	echo "    The call's pinholes (exec back end: no network namespace here):"
	show < "$W/pinholes.txt"
fi
grep -E "tx [0-9]+: pinholes: " "$W/proxy.log" |
	sed 's/^[0-9:.]* e2mproxyd: info: //; s/ ([A-Z]* [0-9]*, call-id .*)$//' | show

say "Summary"
ok=0
grep -q '"status":200.*"disclosed_to":\["proxy.example.com"\],"challenges":1' "$W/msg.json" && ok=$((ok + 1))
grep -q '"status":200.*"challenges":1,"checks":\[{"status":496,"proxy":"proxy.example.com","wants":\["application/sdp"\],"result":"verified"}\],"bye":200,"answer":{"decrypted":1' "$W/call.json" && ok=$((ok + 1))
inspected=$(grep -c "inspected: targets 1 (.* opened)" "$W/proxy.log" || true)
echo "    $ok of 2 exchanges: challenged by a signed 496, verified, disclosed to"
echo "    the proxy, inspected ($inspected bodies opened by the proxy: the MESSAGE,"
echo "    the offer and Bob's SDP answer, each on the way to the registrar and"
echo "    on the way to Bob) and delivered; every body left the proxy"
echo "    as it came. Bob's answer was encrypted to Alice and the proxy."
archived=$(grep -c '"text":"Lunch at noon?"' "$W/im.jsonl" || true)
opened=$(grep -c 'tx [0-9]*: pinholes: .*: open' "$W/proxy.log" || true)
closed=$(grep -c 'tx [0-9]*: pinholes: .*: close' "$W/proxy.log" || true)
echo "    The MESSAGE is in the archive ($archived record); the call's media got"
echo "    $opened pinholes (both sides, RTP and RTCP), $closed closed at the BYE."
[ "$ok" -eq 2 ] && [ "$archived" -eq 1 ] && [ "$opened" -eq 4 ] && [ "$closed" -eq 4 ]
