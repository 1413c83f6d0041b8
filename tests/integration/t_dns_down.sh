#!/bin/bash
# A name server the host has no route to (ENETUNREACH on connect). Sofia's
# resolver (sres_query() in Debian 12's library) looped for ever on it,
# inside the event loop: a single request routed by a host name stopped
# the proxy dead, SIGTERM included (found with a flood of ACKs for
# sip:bob@example.com in a namespace without DNS). Now (udpdefer.h): a
# request to a name gets its 500 at once, the proxy goes on answering,
# 2000 such ACKs cost it little, it stops at once on SIGTERM, and when
# the name server can be reached again, names resolve again. e2mua, with
# the same resolver, answers itself within its timeout.
# In namespaces of its own: a resolv.conf naming 10.77.0.53, no route.
if [ -z "${E2M_IN_NS:-}" ]; then
	if unshare -rmn true 2>/dev/null; then
		exec unshare -rmn env E2M_IN_NS=1 bash "$0" "$@"
	fi
	echo "# WARNING: cannot create mount and network namespaces (unshare -rmn)" >&2
	echo "1..0 # SKIP no namespaces on this machine"
	exit 0
fi
. "$TOP_SRCDIR/tests/integration/lib.sh"
t_init dns_down 23100
ip link set lo up
NS=10.77.0.53
echo "nameserver $NS" > "$WORK/resolv.conf"
mount --bind "$WORK/resolv.conf" /etc/resolv.conf
ok $? "resolv.conf names $NS, which has no route"
SRC=$((BASE + 12))

# msg HOST [WAIT]: a MESSAGE for sip:bob@HOST:UAS_PORT through the proxy;
# prints the final status line (or TIMEOUT after WAIT seconds, 5)
msg() {
	python3 - "$1" "$PX_PORT" "$UAS_PORT" "${2:-5}" <<'PY'
import random, socket, sys
host, px, uas, wait = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', 0))
r = random.randrange(1 << 30)
m = ('MESSAGE sip:bob@%s:%d SIP/2.0\r\n'
     'Via: SIP/2.0/UDP 127.0.0.1:%d;rport;branch=z9hG4bK-dns%d\r\n'
     'Max-Forwards: 70\r\nFrom: <sip:a@a.test>;tag=f%d\r\nTo: <sip:bob@%s>\r\n'
     'Call-ID: dns%d@test\r\nCSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\n'
     'Content-Length: 2\r\n\r\nhi') % (host, uas, s.getsockname()[1], r, r, host, r)
s.sendto(m.encode(), ('127.0.0.1', px))
s.settimeout(wait)
try:
    while True:
        line = s.recv(65535).decode('latin-1').split('\r\n')[0]
        if not line.startswith('SIP/2.0 1'):
            print(line)
            break
except socket.timeout:
    print('TIMEOUT')
PY
}
# acks N: N ACKs for 2xx nobody sent (stray: forwarded by their
# Request-URI, a host name), from 127.0.0.1:SRC
acks() {
	python3 - "$1" "$PX_PORT" "$SRC" <<'PY'
import socket, sys, time
n, px, src = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', src))
for i in range(n):
    m = ('ACK sip:bob@example.com SIP/2.0\r\n'
         'Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-ack%d\r\n'
         'Max-Forwards: 70\r\nFrom: <sip:a@a.test>;tag=f%d\r\n'
         'To: <sip:bob@example.com>;tag=t%d\r\nCall-ID: ack%d@test\r\n'
         'CSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n') % (src, i, i, i, i)
    s.sendto(m.encode(), ('127.0.0.1', px))
    if i % 100 == 99:
        time.sleep(0.01)
PY
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$PX_PID/stat"; }

# No source budget: the ACKs all come from one address. No overload
# control: under ASan the OPTIONS behind 2000 ACKs may rightly wait past
# queue_delay_high and get 503 (t_overload tests that).
write_conf "$WORK/px.conf" "source_rate = 0;" "overload: { enabled = false; };"
sed -i 's/level = "debug"/level = "info"/' "$WORK/px.conf"
start_proxy "$WORK/px.conf" proxy
ok $? "proxy starts"
start_uas udp "$WORK/uas" 100000 600
ok $? "the test UAS listens"

got=$(msg 127.0.0.1)
[ "$got" = "SIP/2.0 200 OK" ]
ok $? "a MESSAGE to an address goes through ($got)"
got=$(msg callee.test)
case $got in "SIP/2.0 500 "*) r=0 ;; *) r=1 ;; esac
ok $r "a MESSAGE to a host name, the name server out of reach: 500 at once ($got)"
proxy_answers
ok $? "the proxy still answers (OPTIONS)"

t0=$(cpu_ticks)
acks 2000
proxy_answers
ok $? "2000 stray ACKs for a host name: the proxy answers right after"
sleep 1
t1=$(cpu_ticks)
# Each ACK costs a resolver attempt, tens of microseconds; the loop that
# never ended spun for good. Generous for ASan and valgrind.
[ $((t1 - t0)) -lt $((200 * WAIT_SCALE)) ]
ok $? "  at a bounded cost: $((t1 - t0)) CPU ticks for them"

# e2mua has the same resolver: a host name for its proxy ends with an
# answer of its own, within its timeout (it hung past it).
E2MUA=${E2MUA:-$(dirname "$E2MPROXYD")/e2mua}
T0=$(date +%s%N)
timeout $((20 * WAIT_SCALE)) "$E2MUA" -t "sip:bob@callee.test" \
	-o "sip:callee.test;transport=udp" -b "sip:127.0.0.1:$((BASE + 13))" -T 3 \
	> "$WORK/ua.json" 2> "$WORK/ua.err"
rc=$?
ms=$((($(date +%s%N) - T0) / 1000000))
[ "$rc" -ne 124 ] && [ "$rc" -ne 0 ] && grep -q '"status":503' "$WORK/ua.json"
ok $? "e2mua, its proxy a host name: a 503 of its own, exit $rc after $ms ms ($(cat "$WORK/ua.json"))"

# The name server is reachable again: names resolve again.
ip addr add "$NS/32" dev lo
python3 "$TOP_SRCDIR/tests/integration/dnsd.py" "$NS" callee.test 127.0.0.1 \
	> "$WORK/dnsd.log" 2>&1 &
PIDS="$PIDS $!"
for i in $(seq 1 $((100 * WAIT_SCALE))); do
	grep -q listening "$WORK/dnsd.log" && break
	sleep 0.05
done
for i in $(seq 1 $((30 * WAIT_SCALE))); do
	got=$(msg callee.test 2)
	[ "$got" = "SIP/2.0 200 OK" ] && break
	sleep 0.5
done
[ "$got" = "SIP/2.0 200 OK" ]
ok $? "the name server back: a MESSAGE to the host name goes through ($got, try $i)"

T0=$(date +%s%N)
kill -TERM "$PX_PID"
wait_pid "$PX_PID" $((10 * WAIT_SCALE))
rc=$?
ms=$((($(date +%s%N) - T0) / 1000000))
ok $rc "SIGTERM: the proxy stops at once ($ms ms)"
! grep -q 'ERROR\|Sanitizer' "$WORK/proxy.log"
ok $? "no error in the proxy's log"
t_done
