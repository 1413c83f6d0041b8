#!/bin/bash
# t_nftset.sh - the pinhole firewall back end (services/nftset.c) against
# the real nftables of the kernel, in namespaces of its own (user, network
# and mount: nothing of the host's firewall is touched), through
# tests/unit/nftset_try: the table and sets made, elements added, deleted
# and refreshed with their timeouts, a stale delete that costs nothing, a
# failing batch retried change by change; then the shipped ruleset
# (conf/e2mproxy-nftables.conf) on a router between two namespaces, where
# a datagram to a pinhole passes and one to a closed port does not. No
# proxy, no ports of the host.
#
# Without namespaces (or nft) the test says so and is skipped: it never
# passes without having run.
set -u
: "${E2M_BUILDDIR:?E2M_BUILDDIR must name the build tree}"
: "${TOP_SRCDIR:?TOP_SRCDIR must name the source tree}"

. "$TOP_SRCDIR/tests/integration/ownns.sh"
[ -x /usr/bin/python3 ] || ns_skip t_nftset.sh "no /usr/bin/python3"
# user + network + mount namespaces
own_namespaces t_nftset.sh -nm nft ip

E2MPROXYD=${E2MPROXYD:-unused} # lib.sh wants it; no proxy here
. "$TOP_SRCDIR/tests/integration/lib.sh"
t_init nftset 0
TRY=$E2M_BUILDDIR/tests/unit/nftset_try
CONF=$TOP_SRCDIR/conf/e2mproxy-nftables.conf
PY=/usr/bin/python3

# "ip netns" keeps its names under /run/netns: a private /run, so that
# they vanish with this process and never meet another run's.
if ! mount -t tmpfs e2m-t-nftset /run; then
	echo "Bail out! cannot mount a private /run in the mount namespace"
	exit 1
fi

ns() { # NS COMMAND...: run in a network namespace
	local n=$1
	shift
	ip netns exec "$n" "$@"
}

# elems NS FAMILY TABLE SET: the set's elements, sorted, comma-separated,
# "udp 192.0.2.1 49170 t30" (t: timeout in seconds); NOSET if none
elems() {
	ns "$1" nft -j list set "$2" "$3" "$4" 2>/dev/null | $PY -c '
import json, sys
text = sys.stdin.read()
if not text:
    print("NOSET")
    sys.exit(0)
out = []
for o in json.loads(text)["nftables"]:
    for e in o.get("set", {}).get("elem", []):
        t = ""
        if isinstance(e, dict) and "elem" in e:
            t = " t%s" % e["elem"].get("timeout", "-")
            e = e["elem"]["val"]
        a, p, port = e["concat"]
        out.append("%s %s %s%s" % (p, a, port, t))
print(",".join(sorted(out)))'
}

# is NAME WANT GOT: ok when equal, else show both
is() {
	[ "$3" = "$2" ]
	ok $? "$1"
	[ "$3" = "$2" ] || printf '#   want: %s\n#   got:  %s\n' "$2" "$3"
}

# try NS ARGS...: nftset_try's output (stdout and stderr) in $OUT, exit in $RC
try() {
	local n=$1
	shift
	OUT=$(ns "$n" "$TRY" "$@" 2>&1)
	RC=$?
	[ "$RC" -le 1 ] || printf '# nftset_try %s: exit %d: %s\n' "$*" "$RC" \
	    "$(tr '\n' ' ' <<<"$OUT")"
}

# --- the nft back end in an empty namespace
ip netns add t
ns t ip link set lo up

try t -c
[ "$RC" -eq 0 ] && [ "$OUT" = "sync: 0 failed" ]
ok $? "create: starts on an empty ruleset"
ns t nft list ruleset > "$WORK/ruleset1"
grep -q '^table inet e2mproxy {' "$WORK/ruleset1" &&
	[ "$(grep -c 'type ipv[46]_addr . inet_proto . inet_service$' "$WORK/ruleset1")" -eq 2 ] &&
	grep -q 'set media4 {' "$WORK/ruleset1" && grep -q 'set media6 {' "$WORK/ruleset1" &&
	[ "$(grep -c 'flags timeout$' "$WORK/ruleset1")" -eq 2 ]
ok $? "create: table inet e2mproxy with media4 and media6, typed, with timeouts"
try t -c
ns t nft list ruleset > "$WORK/ruleset2"
[ "$RC" -eq 0 ] && cmp -s "$WORK/ruleset1" "$WORK/ruleset2"
ok $? "create again: idempotent"

try t -t 30 add 192.0.2.1 udp 49170 add 192.0.2.1 udp 49171 \
	add 2001:db8::1 udp 5004 add 192.0.2.9 tcp 7000
is "add: no failure" "0 sync: 0 failed" "$RC $OUT"
is "add: exactly those IPv4 elements, with their timeout" \
	"tcp 192.0.2.9 7000 t30,udp 192.0.2.1 49170 t30,udp 192.0.2.1 49171 t30" \
	"$(elems t inet e2mproxy media4)"
is "add: the IPv6 element in media6" "udp 2001:db8::1 5004 t30" \
	"$(elems t inet e2mproxy media6)"

try t -t 30 del 192.0.2.1 udp 49171 del 2001:db8::1 udp 5004
is "del: no failure" "0 sync: 0 failed" "$RC $OUT"
is "del: gone, the others stay" "tcp 192.0.2.9 7000 t30,udp 192.0.2.1 49170 t30" \
	"$(elems t inet e2mproxy media4)"
is "del: media6 empty" "" "$(elems t inet e2mproxy media6)"

try t -t 30 del 192.0.2.77 udp 1234 add 192.0.2.2 udp 6000 \
	del 192.0.2.1 udp 49171 del 2001:db8::9 udp 9
is "stale deletes in a batch: no failure" "0 sync: 0 failed" "$RC $OUT"
is "stale deletes in a batch: the add in it is applied" \
	"tcp 192.0.2.9 7000 t30,udp 192.0.2.1 49170 t30,udp 192.0.2.2 6000 t30" \
	"$(elems t inet e2mproxy media4)"

try t -t 2 add 192.0.2.1 udp 49170
is "an add resets the timeout of an element that exists (30 s -> 2 s)" \
	"tcp 192.0.2.9 7000 t30,udp 192.0.2.1 49170 t2,udp 192.0.2.2 6000 t30" \
	"$(elems t inet e2mproxy media4)"

# Refresh: two elements of 3 s; one refreshed (3 s again) at least 2 s
# later. When the other has expired, the refreshed one must still be
# there (it has 2 s of margin then: the listing that sees the other gone
# comes within 50 ms of its expiry, unless this script is held up for
# 2 s); later it expires too. Polled, bounded: no fixed wait decides.
# els2000: the elements on port 2000, "udp 192.0.2.50 2000 t3 " ("" when none)
els2000() {
	elems t inet e2mproxy media4 | tr ',' '\n' | grep ' 2000 ' | tr '\n' ' '
}
try t -t 3 add 192.0.2.50 udp 2000 add 192.0.2.51 udp 2000
sleep 2 # a gap of at least 2 s between the add and the refresh
try t -t 3 refresh 192.0.2.50 udp 2000
r=$RC
for i in $(seq 1 $((200 * WAIT_SCALE))); do
	got=$(els2000)
	case "$got" in *" 192.0.2.51 "*) sleep 0.05 ;; *) break ;; esac
done
is "refresh: the refreshed element outlives its first timeout, the other does not" \
	"0 udp 192.0.2.50 2000 t3 " "$r $got"
for i in $(seq 1 $((200 * WAIT_SCALE))); do
	got=$(els2000)
	[ -z "$got" ] && break
	sleep 0.05
done
is "refresh: without another refresh it expires too" "" "$got"

# A ruleset reload drops the table: with create, the next round makes it
# again; without, the back end does not start.
ns t nft delete table inet e2mproxy
try t -c -t 30 add 192.0.2.3 udp 7000
is "create: a round after the table was dropped makes it again" \
	"0 udp 192.0.2.3 7000 t30" "$RC $(elems t inet e2mproxy media4)"
ns t nft delete table inet e2mproxy
try t -t 30 add 192.0.2.3 udp 7000
[ "$RC" -eq 2 ] && grep -q 'list set inet e2mproxy media4: Error: No such file or directory' <<<"$OUT"
ok $? "no create, no table: the back end does not start, and says why"

# A set that is full makes the batch fail: each change is tried alone.
ns t nft add table inet small
ns t nft add set inet small s4 '{ type ipv4_addr . inet_proto . inet_service; flags timeout; size 2; }'
try t -T small -4 s4 -6 - -t 30 add 192.0.2.1 udp 2000 add 192.0.2.2 udp 2000 \
	add 192.0.2.3 udp 2000
[ "$RC" -eq 1 ] && grep -q '^sync: 1 failed$' <<<"$OUT" &&
	grep -q '^sync: error: add 192.0.2.3 . udp . 2000: Error: ' <<<"$OUT"
ok $? "a failing batch: retried change by change, the one that fails is named"
is "a failing batch: the other changes are applied" \
	"udp 192.0.2.1 2000 t30,udp 192.0.2.2 2000 t30" "$(elems t inet small s4)"
try t -T small -4 s4 -6 - -t 30 add 2001:db8::1 udp 2000
[ "$RC" -eq 1 ] && grep -q 'no set for IPv6' <<<"$OUT"
ok $? "no IPv6 set: an IPv6 hole fails with a reason"
ns t nft add set inet small plain '{ type ipv4_addr . inet_proto . inet_service; }'
ns t nft add set inet small addr '{ type ipv4_addr; flags timeout; }'
try t -T small -4 plain -6 -
[ "$RC" -eq 2 ] && grep -q 'not "type ipv4_addr . inet_proto . inet_service; flags timeout"' <<<"$OUT"
ok $? "a set without timeouts is refused at start"
try t -T small -4 addr -6 -
[ "$RC" -eq 2 ] && grep -q 'set inet small addr: not' <<<"$OUT"
ok $? "a set of another type is refused at start"

# --- the program back end through the same driver
cat > "$WORK/prog.sh" <<EOF
#!/bin/sh
echo "\$* \$E2M_PINHOLE_OP \$E2M_PINHOLE_ADDR \$E2M_PINHOLE_SET" >> "$WORK/prog.log"
EOF
chmod +x "$WORK/prog.sh"
try t -b exec -p "$WORK/prog.sh" -t 7 add 192.0.2.1 udp 4000 \
	del 2001:db8::2 tcp 5000 refresh 192.0.2.1 udp 4000
is "exec: no failure" "0 sync: 0 failed" "$RC $OUT"
is "exec: one run per change, in order, arguments and environment" \
	"add ipv4 192.0.2.1 udp 4000 7 add 192.0.2.1 media4|del ipv6 2001:db8::2 tcp 5000 7 del 2001:db8::2 media6|refresh ipv4 192.0.2.1 udp 4000 7 refresh 192.0.2.1 media4" \
	"$(paste -sd'|' "$WORK/prog.log")"

# --- the shipped ruleset on a router: a -- fw -- b
for n in a fw b; do
	ip netns add $n
	ns $n ip link set lo up
done
ip link add a0 type veth peer name fa && ip link set a0 netns a && ip link set fa netns fw
ip link add b0 type veth peer name fb && ip link set b0 netns b && ip link set fb netns fw
ns a ip addr add 10.9.1.2/24 dev a0 && ns a ip -6 addr add fd00:1::2/64 dev a0 nodad
ns fw ip addr add 10.9.1.1/24 dev fa && ns fw ip -6 addr add fd00:1::1/64 dev fa nodad
ns fw ip addr add 10.9.2.1/24 dev fb && ns fw ip -6 addr add fd00:2::1/64 dev fb nodad
ns b ip addr add 10.9.2.2/24 dev b0 && ns b ip -6 addr add fd00:2::2/64 dev b0 nodad
ns a ip link set a0 up && ns b ip link set b0 up
ns fw ip link set fa up && ns fw ip link set fb up
ns a ip route add default via 10.9.1.1 && ns a ip -6 route add default via fd00:1::1
ns b ip route add default via 10.9.2.1 && ns b ip -6 route add default via fd00:2::1
ns fw sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
ok $? "router: two namespaces joined through a third that forwards"

ns fw nft -c -f "$CONF" && ns fw nft -f "$CONF" && ns fw nft -f "$CONF"
ok $? "the shipped ruleset checks and loads (twice: it replaces itself)"
try fw
is "the shipped ruleset has the sets the back end wants" "0 sync: 0 failed" "$RC $OUT"

# listen NAME WANT SPEC...: a listener in b on the ports of SPEC ("4:PORT",
# "6:PORT"); it waits (up to 10 s) for a datagram on each port of WANT
# (comma-separated), then takes what else has come, without waiting, and
# prints "PORT:DATA ..." sorted into $WORK/NAME.out
listen() {
	local name=$1 want=$2 i
	shift 2
	rm -f "$WORK/$name.ready"
	ns b $PY -c '
import select, socket, sys, time
ready, want = sys.argv[1], set(sys.argv[2].split(","))
socks = {}
for spec in sys.argv[3:]:
    fam, port = spec.split(":")
    if fam == "6":
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind(("::", int(port)))
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("0.0.0.0", int(port)))
    socks[s] = port
open(ready, "w").close()
got = []
end = time.monotonic() + 10
while want and time.monotonic() < end:
    for s in select.select(list(socks), [], [], 0.2)[0]:
        got.append("%s:%s" % (socks[s], s.recv(2048).decode()))
        want.discard(socks[s])
for s in socks:
    s.setblocking(False)
    while True:
        try:
            got.append("%s:%s" % (socks[s], s.recv(2048).decode()))
        except BlockingIOError:
            break
print(" ".join(sorted(got)))
' "$WORK/$name.ready" "$want" "$@" > "$WORK/$name.out" 2>&1 &
	LISTENER=$!
	for i in $(seq 1 100); do
		[ -e "$WORK/$name.ready" ] && return 0
		sleep 0.05
	done
	echo "# the listener in b did not start: $(cat "$WORK/$name.out")"
}

# send ADDR:PORT:DATA...: datagrams from a, in order, each from a new socket
send() {
	ns a $PY -c '
import socket, sys
for spec in sys.argv[1:]:
    addr, port, data = spec.rsplit(":", 2)
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.sendto(data.encode(), (addr, int(port)))
    s.close()
' "$@"
}

try fw add 10.9.2.2 udp 40000 add fd00:2::2 udp 40004
[ "$RC" -eq 0 ]
ok $? "router: pinholes for b's 40000 (IPv4) and 40004 (IPv6)"
# The closed port first: when the later datagrams are in, it would be too.
listen first 40000,40004 4:40000 4:40002 6:40004
send 10.9.2.2:40002:closed 10.9.2.2:40000:open fd00:2::2:40004:open6
wait "$LISTENER"
is "router: to a pinhole it passes, to a closed port it does not" \
	"40000:open 40004:open6" "$(cat "$WORK/first.out")"

try fw add 10.9.2.2 udp 40002
listen second 40002 4:40002
send 10.9.2.2:40002:now-open
wait "$LISTENER"
is "router: the closed port, once a pinhole, passes too" \
	"40002:now-open" "$(cat "$WORK/second.out")"

try fw del 10.9.2.2 udp 40000
listen third 40002 4:40000 4:40002
send 10.9.2.2:40000:deleted 10.9.2.2:40002:after
wait "$LISTENER"
is "router: a deleted pinhole closes" "40002:after" "$(cat "$WORK/third.out")"

t_done
