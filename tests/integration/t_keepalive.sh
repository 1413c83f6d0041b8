#!/bin/bash
# RFC 5626 keep-alives at the edge proxy (sections 4.4 and 8.4): a double
# CRLF ping on TCP and on TLS gets one CRLF pong, a single CRLF nothing,
# and SIP on the connection goes on; STUN Binding requests on the UDP
# listeners (IPv4 and IPv6) are answered with the sender's
# XOR-MAPPED-ADDRESS (checked byte by byte by keepalive.py, and by a real
# client: coturn's turnutils_stunclient), malformed ones are dropped, SIP
# on the same socket goes on; STUN pays the per-source budget as SIP does;
# the counters say all that.
. "$TOP_SRCDIR/tests/integration/lib.sh"
. "$TOP_SRCDIR/tests/integration/pki.sh"
t_init keepalive 22200
V6_PORT=$((BASE + 2))
FLOOD_PORT=$((BASE + 3))
M_PORT=$((BASE + 5))
M2_PORT=$((BASE + 6))

# checks NAME ARGS...: keepalive.py ARGS; one TAP line per check it prints
checks() {
	local name=$1 line rc
	shift
	python3 "$TOP_SRCDIR/tests/integration/keepalive.py" "$@" \
		> "$WORK/$name.out" 2> "$WORK/$name.err.log"
	rc=$?
	while IFS= read -r line; do
		case $line in
		"ok "*) ok 0 "${line#ok }" ;;
		*) ok 1 "${line#fail }" ;;
		esac
	done < "$WORK/$name.out"
	ok $rc "$name: keepalive.py ran to its end"
}

pki_ca "$WORK" && pki_cert "$WORK" px "IP:127.0.0.1" 127.0.0.1
ok $? "test PKI made with openssl"

cat > "$WORK/px.conf" <<CONF
log: { level = "debug"; };
sip: {
  listen = ( { transport = "udp"; address = "127.0.0.1"; port = $PX_PORT; },
             { transport = "tcp"; address = "127.0.0.1"; port = $PX_PORT; },
             { transport = "tls"; address = "127.0.0.1"; port = $PX_TLS_PORT; },
             { transport = "udp"; address = "::1"; port = $V6_PORT; } );
};
tls: { certificate = "$WORK/px.pem"; key = "$WORK/px.key"; ca_file = "$WORK/ca.pem"; };
metrics: { enabled = true; port = $M_PORT; };
CONF
start_proxy "$WORK/px.conf" proxy
ok $? "proxy starts with UDP, TCP, TLS and an IPv6 UDP listener"

checks tcp crlf tcp 127.0.0.1 "$PX_PORT"
checks tls crlf tls 127.0.0.1 "$PX_TLS_PORT" "$WORK/ca.pem"
checks stun4 stun 127.0.0.1 "$PX_PORT"
checks stun6 stun ::1 "$V6_PORT"

URL=http://127.0.0.1:$M_PORT
scrape
ok $? "metrics scraped"
# Per stun run: 3 answered, 1 420, 7 dropped (keepalive.py).
expect 'e2mproxy_stun_requests_total{result="answered"}' 6
expect 'e2mproxy_stun_requests_total{result="unknown_attribute"}' 2
expect 'e2mproxy_stun_requests_total{result="dropped"}' 14
expect 'e2mproxy_tls_pongs_total' 2
expect 'e2mproxy_rate_limited_total{limit="source"}' 0
if command -v promtool > /dev/null; then
	promtool check metrics < "$WORK/metrics.txt" > "$WORK/promtool.log" 2>&1
	ok $? "promtool check metrics: the text is valid"
fi

# A real STUN client. Its port is its own choice: the proxy's log names
# the source it answered, which must be what the client reports.
if command -v turnutils_stunclient > /dev/null; then
	timeout 20 turnutils_stunclient -p "$PX_PORT" -L 127.0.0.1 127.0.0.1 \
		> "$WORK/stunclient.log" 2>&1
	ok $? "turnutils_stunclient (coturn, RFC 5389) gets an answer"
	got=$(sed -n 's/.*UDP reflexive addr: \([0-9.:]*\).*/\1/p' "$WORK/stunclient.log" | head -1)
	grep -q "STUN: Binding request from $got answered with its mapped address" \
		"$WORK/proxy.log" && [ -n "$got" ] && [ "${got%:*}" = 127.0.0.1 ]
	ok $? "turnutils_stunclient's mapped address is its own source, 127.0.0.1:<port> (got ${got:-nothing})"
else
	skip "turnutils_stunclient gets an answer" "no coturn here"
	skip "its mapped address is its source" "no coturn here"
fi
proxy_answers
ok $? "the proxy still answers OPTIONS over UDP"
! grep -q '^stun ' "$WORK/proxy.log"
ok $? "Sofia's own STUN server is off (it writes 'stun request from' to stderr)"

# The per-source budget covers STUN: a flood from 127.0.0.2 costs what a
# SIP flood would; 127.0.0.1 is not affected.
cat > "$WORK/flood.conf" <<CONF
log: { level = "info"; };
sip: {
  listen = ( { transport = "udp"; address = "127.0.0.1"; port = $FLOOD_PORT; } );
  source_rate = 1;
  source_burst = 5;
};
metrics: { enabled = true; port = $M2_PORT; };
CONF
start_proxy "$WORK/flood.conf" flood
ok $? "a second proxy with sip.source_rate = 1, burst 5"
python3 "$TOP_SRCDIR/tests/integration/keepalive.py" flood 127.0.0.2 127.0.0.1 "$FLOOD_PORT" 50 \
	"http://127.0.0.1:$M2_PORT/metrics" > "$WORK/flood.out" 2>&1
read -r _ answered _ elapsed < "$WORK/flood.out"
# The burst, plus one a second while the proxy read the flood.
max=$((5 + ${elapsed%.*} + 1))
[ -n "$answered" ] && [ "$answered" -ge 5 ] && [ "$answered" -le "$max" ]
ok $? "50 Binding requests from one source: its burst answered (got ${answered:-?}, at most $max)"
URL=http://127.0.0.1:$M2_PORT
scrape
expect 'e2mproxy_stun_requests_total{result="answered"}' "$answered"
expect 'e2mproxy_rate_limited_total{limit="source"}' $((50 - ${answered:-0}))
PX_PORT=$FLOOD_PORT proxy_answers
ok $? "another source's OPTIONS is answered meanwhile"

t_done
