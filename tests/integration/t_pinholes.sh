#!/bin/bash
# Media pinholes (digest 6.1-6.2), for real: the test runs in a network
# namespace of its own (unshare -rn) with the shipped nftables ruleset
# loaded, e2mproxyd fills its sets from the SDP of calls going through it
# (plain SDP under an active rule, and an e2mua call whose SDP is
# encrypted to the callee and the proxy), and the set is checked after
# each step: the offer and answer open both sides (RTP and RTCP), a
# re-INVITE moving the media moves the holes, BYE, CANCEL and a 486 leave
# nothing, a hostile SDP (an address outside the media networks, port 22)
# opens nothing and is logged. A UDP datagram to a pinhole passes the
# ruleset (an input-chain variant, as on a host firewall) and one to a
# closed port does not. Then the exec back end with a program that writes
# down what it is asked.
if [ -z "${E2M_IN_NETNS:-}" ]; then
	if unshare -rn true 2>/dev/null; then
		exec unshare -rn env E2M_IN_NETNS=1 bash "$0" "$@"
	fi
	echo "# WARNING: cannot create a network namespace (unshare -rn):" \
	    "the pinhole tests need one" >&2
	echo "1..0 # SKIP no network namespaces on this machine"
	exit 0
fi
. "$TOP_SRCDIR/tests/integration/lib.sh"
. "$TOP_SRCDIR/tests/integration/pki.sh"
t_init pinholes 21540
ip link set lo up
ok $? "in a network namespace of our own, loopback up"
E2MUA=${E2MUA:-$(dirname "$E2MPROXYD")/e2mua}
CALL="$TOP_SRCDIR/tests/integration/callflow.py"
CALLER_PORT=$((BASE + 12))
CALLEE_PORT=$((BASE + 13))

nft -f "$TOP_SRCDIR/conf/e2mproxy-nftables.conf"
ok $? "the shipped ruleset loads (nft -f conf/e2mproxy-nftables.conf)"
# A host firewall's input chain over the same set: media ports 40000-40999
# on this host are open only as pinholes.
nft add chain inet e2mproxy input '{ type filter hook input priority filter; policy accept; }' &&
	nft add rule inet e2mproxy input ip daddr . meta l4proto . th dport @media4 accept &&
	nft add rule inet e2mproxy input udp dport 40000-40999 drop
ok $? "an input chain drops media ports that are not pinholes"

K=$WORK
pki_ca "$K" && PKI_EKU=serverAuth,clientAuth,emailProtection pki_cert "$K" proxy "DNS:proxy.test" proxy.test &&
	pki_cert "$K" uas "DNS:uas.test" uas.test && pki_cert "$K" uac "DNS:uac.test" uac.test
ok $? "test PKI made with openssl"

# write_px FILE PINHOLE-SETTINGS
write_px() {
	cat > "$1" <<CONF
log: { level = "debug"; };
sip: {
  listen = ( { transport = "udp"; address = "127.0.0.1"; port = $PX_PORT; },
             { transport = "tcp"; address = "127.0.0.1"; port = $PX_PORT; } );
  own_names = [ "proxy.test" ];
};
inspect: { keys = ( { certificate = "$K/proxy.pem"; key = "$K/proxy.key"; } );
           trust_anchors = [ "$K/ca.pem" ]; decrypt_rate = 0; };
# Look at every call's SDP, ask for nothing: the firewall-traversal box.
policy: { rules = ( { methods = [ "INVITE", "ACK", "UPDATE", "PRACK" ]; } ); };
challenge: { signing_certificate = "$K/proxy.pem"; signing_key = "$K/proxy.key"; };
pinholes: {
  enabled = true;
  media_networks = [ "127.0.0.0/8", "::1/128" ];
  ports = [ "40000-40999", "49170-49180" ];
  timeout = 60;
  $2
};
metrics: { enabled = true; port = $((BASE + 3)); };
CONF
}
write_px "$WORK/px.conf" 'create = false;'
start_proxy "$WORK/px.conf" proxy
ok $? "proxy starts with pinholes (nftables back end, the shipped sets)"

# elements [SET]: a set's elements (media4 unless named),
# "127.0.0.1 . udp . 40000" each, sorted
elements() {
	nft -j list set inet e2mproxy "${1:-media4}" | python3 -c '
import json, sys
out = []
for o in json.load(sys.stdin)["nftables"]:
    for e in o.get("set", {}).get("elem", []):
        v = e["elem"]["val"] if isinstance(e, dict) and "elem" in e else e
        out.append(" . ".join(str(x) for x in v["concat"]))
print(" ".join(sorted(out)))'
}
# expect_set WANT NAME [SECONDS [SET]]: the set settles to WANT (the back
# end applies changes on its own thread; give it up to 5 s unless told)
expect_set() {
	local i got
	for i in $(seq 1 $((${3:-5} * 20))); do
		got=$(elements "${4:-media4}")
		[ "$got" = "$1" ] && break
		sleep 0.05
	done
	[ "$got" = "$1" ]
	ok $? "$2"
	[ "$got" = "$1" ] || echo "#   set holds: [$got], want [$1]"
}
# at NAME: wait until callflow.py is at its "wait:NAME" step
at() {
	local i
	for i in $(seq 1 200); do
		[ -e "$WORK/$1.ready" ] && return 0
		kill -0 "$FLOW" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
go() { touch "$WORK/$1.go"; }
sdpfile() { # NAME ADDRESS PORT
	printf 'v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %s RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n' \
		"$2" "$2" "$3" > "$WORK/$1.sdp"
}
flow() {
	python3 "$CALL" "$PX_PORT" "$CALLER_PORT" "$CALLEE_PORT" "$WORK" "$@" > "$WORK/flow.out" 2>&1 &
	FLOW=$!
	PIDS="$PIDS $FLOW"
}
# udp_passes PORT: a datagram to 127.0.0.1:PORT reaches a socket there
udp_passes() {
	python3 - "$1" <<'PY'
import socket, sys
port = int(sys.argv[1])
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r.bind(('127.0.0.1', port))
r.settimeout(0.5)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b'rtp', ('127.0.0.1', port))
try:
    r.recv(16)
except socket.timeout:
    sys.exit(1)
PY
}

E='127.0.0.1 . udp'
sdpfile offer 127.0.0.1 40000
sdpfile answer 127.0.0.1 40010
sdpfile moved 127.0.0.1 40020
flow invite:"$WORK/offer.sdp" answer:200:"$WORK/answer.sdp" ack wait:up \
	reinvite:"$WORK/moved.sdp":"$WORK/answer.sdp" wait:moved bye wait:down
at up
ok $? "call established through the proxy (INVITE, 200, ACK)"
expect_set "$E . 40000 $E . 40001 $E . 40010 $E . 40011" \
	"offer and answer: both sides' RTP and RTCP are pinholes"
# metric NAME{LABELS}: its value on /metrics now
metric() {
	curl -sf "http://127.0.0.1:$((BASE + 3))/metrics" |
		awk -v m="$1" '{ v = $NF; sub(/ [^ ]*$/, "") } $0 == m { print v }'
}
[ "$(metric e2mproxy_pinholes_open)" = 4 ] && [ "$(metric e2mproxy_pinhole_dialogs)" = 1 ]
ok $? "/metrics: 4 pinholes open for 1 dialog"
udp_passes 40000
ok $? "a datagram to a pinhole passes the ruleset"
! udp_passes 40002
ok $? "a datagram to a media port that is no pinhole is dropped"
go up
at moved
ok $? "re-INVITE moving the caller's media answered"
expect_set "$E . 40010 $E . 40011 $E . 40020 $E . 40021" \
	"re-INVITE: the caller's holes moved from 40000 to 40020"
go moved
at down
ok $? "BYE answered"
expect_set "" "BYE: no pinhole left"
go down
wait "$FLOW"
ok $? "the call went as scripted ($(tr '\n' ' ' < "$WORK/flow.out"))"

rm -f "$WORK"/*.ready "$WORK"/*.go
flow invite:"$WORK/offer.sdp" wait:ringing answer:486
at ringing
expect_set "$E . 40000 $E . 40001" "while it rings: the offer's holes are open"
go ringing
wait "$FLOW"
ok $? "486 Busy Here relayed ($(tr '\n' ' ' < "$WORK/flow.out"))"
expect_set "" "486: no pinhole left"

flow invite:"$WORK/offer.sdp" cancel
wait "$FLOW"
ok $? "CANCEL: 487 ($(tr '\n' ' ' < "$WORK/flow.out"))"
expect_set "" "CANCEL: no pinhole left"

# RFC 4028: a session whose 2xx says Session-Expires ends then unless
# refreshed; its holes close with it, long before max_duration. 8 s leaves
# the first look room on a loaded machine; the close is waited for.
rm -f "$WORK"/*.ready "$WORK"/*.go
flow session:8 invite:"$WORK/offer.sdp" answer:200:"$WORK/answer.sdp" ack \
	wait:timed bye
at timed
expect_set "$E . 40000 $E . 40001 $E . 40010 $E . 40011" \
	"Session-Expires 8: the call's holes are open"
expect_set "" "Session-Expires 8: not refreshed, the holes close with the session" 20
grep -q "dialog(s) past max_duration or their session expiry closed" "$WORK/proxy.log"
ok $? "session expiry: logged"
go timed
wait "$FLOW"
ok $? "a BYE after the expiry still goes through ($(tr '\n' ' ' < "$WORK/flow.out"))"
# A re-INVITE whose 2xx has no Session-Expires turns the timer off: the
# holes outlive the first 2xx's 3 s (the timer, had it stayed, would
# have closed them by the time of the look).
rm -f "$WORK"/*.ready "$WORK"/*.go
flow session:3 invite:"$WORK/offer.sdp" answer:200:"$WORK/answer.sdp" ack \
	session:0 reinvite:"$WORK/offer.sdp":"$WORK/answer.sdp" wait:untimed bye
at untimed
ok $? "Session-Expires 3, then a refresh whose 2xx has none"
sleep 5
expect_set "$E . 40000 $E . 40001 $E . 40010 $E . 40011" \
	"timer off: the holes are still open 5 s after the refresh"
go untimed
wait "$FLOW"
expect_set "" "timer off: BYE still closes them"

# Hostile: an address outside the media networks, and port 22.
sdpfile outside 192.0.2.66 40030
sdpfile ssh 127.0.0.1 22
rm -f "$WORK"/*.ready "$WORK"/*.go
flow invite:"$WORK/outside.sdp" answer:200:"$WORK/ssh.sdp" ack wait:up bye
at up
expect_set "" "hostile SDP: nothing opened"
go up
wait "$FLOW"
grep -q "refused caller's stream 0: address outside the media networks" "$WORK/proxy.log" &&
	grep -q "refused callee's stream 0: port outside the media port ranges" "$WORK/proxy.log"
ok $? "hostile SDP: both refusals logged with their reasons"
# (Each hole refused is a line: RTP and RTCP; the caller's offer is
# looked at again with the 200.)
net=$(grep -c "refused .*: address outside the media networks" "$WORK/proxy.log")
port=$(grep -c "refused .*: port outside the media port ranges" "$WORK/proxy.log")
[ "$net" -ge 2 ] && [ "$port" -ge 2 ] &&
	[ "$(metric 'e2mproxy_pinholes_refused_total{reason="address outside the media networks"}')" = "$net" ] &&
	[ "$(metric 'e2mproxy_pinholes_refused_total{reason="port outside the media port ranges"}')" = "$port" ] &&
	[ "$(metric 'e2mproxy_pinholes_refused_total{reason="multicast address"}')" = 0 ] &&
	[ "$(metric e2mproxy_pinhole_changes_failed_total)" = 0 ]
ok $? "/metrics: refusals counted by reason as logged ($net network, $port port), no firewall change failed"

# IPv6 media: the media6 set.
v6sdp() { # NAME PORT
	printf 'v=0\r\no=- 1 1 IN IP6 ::1\r\ns=-\r\nc=IN IP6 ::1\r\nt=0 0\r\nm=audio %s RTP/AVP 0\r\n' \
		"$2" > "$WORK/$1.sdp"
}
v6sdp offer6 40100
v6sdp answer6 40110
rm -f "$WORK"/*.ready "$WORK"/*.go
flow invite:"$WORK/offer6.sdp" answer:200:"$WORK/answer6.sdp" ack wait:up6 bye
at up6
V6='::1 . udp'
expect_set "$V6 . 40100 $V6 . 40101 $V6 . 40110 $V6 . 40111" \
	"IPv6 media: both sides in the media6 set" 5 media6
go up6
wait "$FLOW"
expect_set "" "IPv6 media: closed at BYE" 5 media6

# An e2mua call whose SDP is encrypted to the callee and the proxy, the
# answer to the caller and the proxy (the callee discloses to the proxy).
start_uas_e2mua() {
	"$E2MUA" -l -b "sip:127.0.0.1:$UAS_PORT;transport=tcp" -k "$K/uas.pem:$K/uas.key" \
		-e "$K/uac.pem" -x "proxy.test=$K/proxy.pem" -T 20 > "$WORK/uas.json" 2> "$WORK/uas.err" &
	PIDS="$PIDS $!"
	wait_listen tcp "$UAS_PORT"
}
start_uas_e2mua
ok $? "an e2mua UAS listens (answers with SDP for the caller and the proxy)"
"$E2MUA" -I -H 2 -t "sip:bob@127.0.0.1:$UAS_PORT;transport=tcp" \
	-o "sip:127.0.0.1:$PX_PORT;transport=tcp" -b "sip:127.0.0.1:$UAC_PORT;transport=tcp" \
	-k "$K/uac.pem:$K/uac.key" -e "$K/uas.pem" -x "proxy.test=$K/proxy.pem" -T 10 \
	> "$WORK/uac.json" 2> "$WORK/uac.err" &
UAC=$!
expect_set "$E . 49170 $E . 49171 $E . 49172 $E . 49173" \
	"e2mua call (encrypted SDP): both sides' media are pinholes"
wait "$UAC"
ok $? "e2mua call completed ($(cat "$WORK/uac.json"))"
expect_set "" "e2mua call hung up: no pinhole left"

# --- the exec back end: a program told what to do.
kill "$PX_PID"
wait "$PX_PID" 2>/dev/null
cat > "$WORK/hook.sh" <<EOF
#!/bin/sh
echo "\$* | \$E2M_PINHOLE_OP \$E2M_PINHOLE_ADDR \$E2M_PINHOLE_PORT \$E2M_PINHOLE_TABLE" >> "$WORK/hook.log"
EOF
chmod 755 "$WORK/hook.sh"
write_px "$WORK/exec.conf" "backend = \"exec\"; program = \"$WORK/hook.sh\";"
start_proxy "$WORK/exec.conf" exec
ok $? "proxy starts with the exec back end"
rm -f "$WORK"/*.ready "$WORK"/*.go
flow invite:"$WORK/offer.sdp" answer:200:"$WORK/answer.sdp" ack bye
wait "$FLOW"
ok $? "a call through it ($(tr '\n' ' ' < "$WORK/flow.out"))"
for i in $(seq 1 100); do
	[ "$(grep -c '^del' "$WORK/hook.log" 2>/dev/null)" -ge 4 ] && break
	sleep 0.05
done
sort "$WORK/hook.log" | grep -E '^(add|del) ' | cut -d' ' -f1-5 > "$WORK/hook.sorted"
cat > "$WORK/hook.want" <<EOF
add ipv4 127.0.0.1 udp 40000
add ipv4 127.0.0.1 udp 40001
add ipv4 127.0.0.1 udp 40010
add ipv4 127.0.0.1 udp 40011
del ipv4 127.0.0.1 udp 40000
del ipv4 127.0.0.1 udp 40001
del ipv4 127.0.0.1 udp 40010
del ipv4 127.0.0.1 udp 40011
EOF
cmp -s "$WORK/hook.sorted" "$WORK/hook.want"
ok $? "exec: the program was told to add and then delete each hole"
[ $? -eq 0 ] || sed 's/^/#   /' "$WORK/hook.log"
grep -q '| add 127.0.0.1 40000 e2mproxy' "$WORK/hook.log"
ok $? "exec: the same in its environment"
t_done
