#!/bin/bash
# Log lines about a request, for real: requests from a known source port
# through the daemon, and every line about them names the transaction,
# method, CSeq, Call-ID, transport and source. The same as JSON objects
# (each line parses, the fields are there). Then syslog with a configured
# ident and facility, received on a /dev/log of the test's own (a mount
# namespace with its own /dev: no syslog daemon needed).
if [ -z "${E2M_IN_NS:-}" ]; then
	if unshare -rmn true 2>/dev/null; then
		exec unshare -rmn env E2M_IN_NS=1 bash "$0" "$@"
	fi
	echo "# WARNING: cannot create mount and network namespaces" \
	    "(unshare -rmn): the syslog part needs its own /dev/log" >&2
	echo "1..0 # SKIP no namespaces on this machine"
	exit 0
fi
. "$TOP_SRCDIR/tests/integration/lib.sh"
t_init logs 21620
ip link set lo up
SRC_PORT=$((BASE + 12))

# send_raw TRANSPORT CALLID CSEQ METHOD: one request from 127.0.0.1:SRC_PORT
# to the proxy, for a domain no rule routes (the proxy answers it), and
# wait for the final answer.
send_raw() {
	python3 - "$1" "$PX_PORT" "$SRC_PORT" "$2" "$3" "$4" $((5 * WAIT_SCALE)) <<'PY'
import socket, sys
tp, port, src, cid, cseq, method = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
wait = int(sys.argv[7])
msg = ('%s sip:nobody@unknown.invalid SIP/2.0\r\n'
       'Via: SIP/2.0/%s 127.0.0.1:%d;branch=z9hG4bK-%s-%s;rport\r\n'
       'Max-Forwards: 0\r\n'
       'From: <sip:alice@example.com>;tag=a1\r\n'
       'To: <sip:nobody@unknown.invalid>\r\n'
       'Call-ID: %s\r\nCSeq: %s %s\r\nContent-Length: 0\r\n\r\n'
       % (method, tp.upper(), src, cid.encode().hex()[:16], cseq, cid, cseq, method)).encode('latin-1')
kind = socket.SOCK_DGRAM if tp == 'udp' else socket.SOCK_STREAM
s = socket.socket(socket.AF_INET, kind)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', src))
s.settimeout(wait)
if tp == 'udp':
    s.sendto(msg, ('127.0.0.1', port))
else:
    s.connect(('127.0.0.1', port))
    s.sendall(msg)
got = s.recv(4096)
print(got.split(b'\r\n', 1)[0].decode('latin-1'))
PY
}

conf() { # FILE LOG-SETTINGS
	cat > "$1" <<CONF
log: { level = "debug"; $2 };
sip: {
  listen = ( { transport = "udp"; address = "127.0.0.1"; port = $PX_PORT; },
             { transport = "tcp"; address = "127.0.0.1"; port = $PX_PORT; } );
};
CONF
}

# --- text
conf "$WORK/text.conf" ""
start_proxy "$WORK/text.conf" text
ok $? "proxy starts (text lines)"
send_raw udp 'cid-udp@test' 17 OPTIONS > "$WORK/r1.out"
grep -q '^SIP/2.0 483' "$WORK/r1.out"
ok $? "an OPTIONS with Max-Forwards 0 over UDP is answered 483 ($(cat "$WORK/r1.out"))"
send_raw tcp 'cid "tcp"@test' 4294967295 MESSAGE > "$WORK/r2.out"
grep -q '^SIP/2.0 483' "$WORK/r2.out"
ok $? "a MESSAGE over TCP likewise ($(cat "$WORK/r2.out"))"
kill "$PX_PID"; wait "$PX_PID" 2>/dev/null
# Every line about one of them ends with the request's fields.
udp_lines=$(grep -c 'tx [0-9]*: .* (OPTIONS 17, call-id cid-udp@test, udp 127.0.0.1:'"$SRC_PORT"')$' "$WORK/text.log")
tcp_lines=$(grep -c 'tx [0-9]*: .* (MESSAGE 4294967295, call-id cid "tcp"@test, tcp 127.0.0.1:'"$SRC_PORT"')$' "$WORK/text.log")
all_tx=$(grep -c 'tx [0-9]*: ' "$WORK/text.log")
[ "$udp_lines" -ge 2 ] && [ "$tcp_lines" -ge 2 ] && [ "$all_tx" -eq $((udp_lines + tcp_lines)) ]
ok $? "text: every line about a request ($all_tx) names it: $udp_lines UDP, $tcp_lines TCP"
grep -q 'tx [0-9]*: OPTIONS answered 483 Too Many Hops (OPTIONS 17, call-id cid-udp@test, udp 127.0.0.1:'"$SRC_PORT"')' "$WORK/text.log"
ok $? "text: the answer's line, as an operator greps for it"
[ "$all_tx" -ge 4 ] || sed 's/^/#   /' "$WORK/text.log"

# --- JSON
conf "$WORK/json.conf" 'format = "json";'
start_proxy "$WORK/json.conf" json
ok $? "proxy starts (JSON lines)"
send_raw udp 'cid-json@test' 3 OPTIONS > /dev/null
kill "$PX_PID"; wait "$PX_PID" 2>/dev/null
python3 - "$WORK/json.log" "$SRC_PORT" > "$WORK/json.check" <<'PY'
import json, sys
lines = open(sys.argv[1], encoding='latin-1').read().splitlines()
bad = [l for l in lines if not l.startswith('{')]
objs = []
for l in lines:
    try:
        objs.append(json.loads(l))
    except ValueError:
        bad.append(l)
about = [o for o in objs if o.get('call_id') == 'cid-json@test']
want = {'method': 'OPTIONS', 'cseq': 3, 'transport': 'udp',
        'source': '127.0.0.1', 'port': int(sys.argv[2])}
wrong = [o for o in about if any(o.get(k) != v for k, v in want.items())
         or not isinstance(o.get('tx'), int) or 'time' not in o]
started = [o for o in objs if o.get('msg', '').startswith('e2mproxyd ')
           and o.get('level') == 'notice']
print('lines %d, not JSON %d, about the request %d, wrong %d, start %d'
      % (len(lines), len(bad), len(about), len(wrong), len(started)))
sys.exit(0 if not bad and len(about) >= 2 and not wrong and started else 1)
PY
ok $? "json: every line an object; the request's carry its fields ($(cat "$WORK/json.check"))"

# --- syslog, with our ident and facility, on a /dev/log of our own. All
# mounts are made in a child mount namespace, gone when it exits: nothing
# of the real /dev is ever reachable under $WORK (whose removal would
# recurse into it). /dev/log is a socket in a directory bound over /dev;
# the device nodes the daemon needs are bound in one by one.
conf "$WORK/sys.conf" 'target = "syslog"; ident = "e2m-edge1"; facility = "local3";'
mkdir -p "$WORK/dev"
export WORK PX_PORT SRC_PORT E2MPROXYD WAIT_SCALE
export -f send_raw wait_listen wait_for
unshare -m bash -c '
	D=$WORK/dev
	for n in null zero urandom random full tty; do
		touch "$D/$n" && mount --bind "/dev/$n" "$D/$n" || exit 1
	done
	ln -s /proc/self/fd "$D/fd"
	python3 - "$D/log" $((10 * WAIT_SCALE)) > "$WORK/syslog.out" <<PY &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(int(sys.argv[2]))
sys.stdout.write("bound\n"); sys.stdout.flush()
try:
    while True:
        sys.stdout.write(s.recv(65536).decode("latin-1") + "\n")
        sys.stdout.flush()
except socket.timeout:
    pass
PY
	SYSLOGD=$!
	wait_for 5 grep -q bound "$WORK/syslog.out"
	mount --rbind "$D" /dev || exit 1
	"$E2MPROXYD" -D -f "$WORK/sys.conf" > "$WORK/sys.stderr" 2>&1 &
	PX=$!
	wait_listen udp "$PX_PORT"
	send_raw udp cid-sys@test 9 OPTIONS > /dev/null
	wait_for 5 grep -q cid-sys@test "$WORK/syslog.out"
	kill $PX; wait $PX
	kill $SYSLOGD; wait $SYSLOGD
	exit 0
'
ok $? "a /dev/log of our own (child mount namespace), the daemon run against it"
# <158>: local3 (19) * 8 + info (6); the ident and pid after the stamp
grep -q '^<158>.* e2m-edge1\[[0-9]*\]: tx [0-9]*: OPTIONS answered 483 .*(OPTIONS 9, call-id cid-sys@test, udp 127.0.0.1:'"$SRC_PORT"')' "$WORK/syslog.out"
ok $? "syslog: local3.info, ident e2m-edge1, the request's fields"
grep -q '^<157>.* e2m-edge1\[[0-9]*\]: e2mproxyd .* started' "$WORK/syslog.out"
ok $? "syslog: the start at local3.notice"
[ ! -s "$WORK/sys.stderr" ]
ok $? "-D with target syslog: nothing on stderr (the configured target is honoured)"
grep -q '^<' "$WORK/syslog.out" || sed 's/^/#   /' "$WORK/syslog.out" "$WORK/sys.stderr"
t_done
