#!/bin/bash
# Faults: TCP and TLS peers resetting their connections (SO_LINGER 0, a
# RST) in the middle of a transaction, on the callee side and on the
# caller side (resetpeer.py). A callee that resets before answering: the
# caller gets 500 at once, not the 408 of the transaction timeout; one
# that sends 180 Ringing and resets: the 180 and then 500 at once (not
# Timer C's 408 after 185 s). A caller that resets while
# its INVITE or MESSAGE is downstream: the proxy's response finds no
# connection and the transaction ends all the same. Afterwards calls go
# through, the proxy has no transaction left in flight, and its log no
# error (the ASan build of CI would report a leak at exit).
. "$TOP_SRCDIR/tests/integration/lib.sh"
. "$TOP_SRCDIR/tests/integration/pki.sh"
t_init fault_reset 22970
# Ten ports of this range only.
M_PORT=$((BASE + 3))
CALLEE_TCP=$((BASE + 5))
CALLEE_TLS=$((BASE + 6))
PEER="$TOP_SRCDIR/tests/integration/resetpeer.py"
pki_ca "$WORK" && pki_cert "$WORK" px "IP:127.0.0.1" 127.0.0.1 && pki_cert "$WORK" callee "IP:127.0.0.1" 127.0.0.1
ok $? "test PKI made with openssl"
cat > "$WORK/px.conf" <<CONF
log: { level = "info"; };
sip: {
  transaction_timeout = 8000;
  listen = ( { transport = "udp"; address = "127.0.0.1"; port = $PX_PORT; },
             { transport = "tcp"; address = "127.0.0.1"; port = $PX_PORT; },
             { transport = "tls"; address = "127.0.0.1"; port = $PX_TLS_PORT; } );
};
tls: { certificate = "$WORK/px.pem"; key = "$WORK/px.key"; ca_file = "$WORK/ca.pem"; };
metrics: { enabled = true; port = $M_PORT; };
CONF
start_proxy "$WORK/px.conf" proxy
ok $? "proxy starts"
mkdir -p "$WORK/got"
python3 "$PEER" callee tcp "$CALLEE_TCP" "$WORK/got" > "$WORK/callee_tcp.log" 2>&1 &
PIDS="$PIDS $!"
python3 "$PEER" callee tls "$CALLEE_TLS" "$WORK/got" "$WORK/callee.pem" "$WORK/callee.key" \
	> "$WORK/callee_tls.log" 2>&1 &
PIDS="$PIDS $!"
wait_listen tcp "$CALLEE_TCP" && wait_listen tcp "$CALLEE_TLS"
ok $? "the resetting callees listen (TCP and TLS)"

URL=http://127.0.0.1:$M_PORT
in_flight_zero() {
	local i
	for i in $(seq 1 300); do
		[ "$(scrape && metric e2mproxy_transactions_in_flight)" = 0 ] && return 0
		sleep 0.05
	done
	return 1
}

# req NAME METHOD USER TP: a request over TP (tcp|tls) for USER at the
# callee of that transport, in $WORK/NAME.sip; its Call-ID is NAME@test
req() {
	local name=$1 method=$2 user=$3 tp=$4 port=$CALLEE_TCP via=TCP
	[ "$tp" = tls ] && port=$CALLEE_TLS via=TLS
	{
		printf '%s sip:%s@127.0.0.1:%s;transport=%s SIP/2.0\r\n' "$method" "$user" "$port" "$tp"
		printf 'Via: SIP/2.0/%s 127.0.0.1:9;rport;branch=z9hG4bK-%s-%s\r\n' "$via" "$name" "$RANDOM"
		printf 'From: <sip:alice@example.com>;tag=f%s\r\nTo: <sip:%s@example.com>\r\n' "$RANDOM" "$user"
		printf 'Call-ID: %s@test\r\nCSeq: 1 %s\r\nMax-Forwards: 70\r\n' "$name" "$method"
		printf 'Contact: <sip:alice@127.0.0.1:9;transport=%s>\r\n' "$tp"
		printf 'Content-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello'
	} > "$WORK/$name.sip"
}
# send TP NAME UNTIL [WAIT]: send it (caller side resets after UNTIL)
send() {
	local port=$PX_PORT
	[ "$1" = tls ] && port=$PX_TLS_PORT
	python3 "$PEER" caller "$1" "$port" "$WORK/$2.sip" "$3" "${4:-5}"
}

for tp in tcp tls; do
	# The callee resets on reading the request.
	for m in INVITE MESSAGE; do
		req "${tp}_rst_$m" "$m" rst "$tp"
		t0=$(date +%s%N)
		got=$(send "$tp" "${tp}_rst_$m" final 10)
		ms=$(( ($(date +%s%N) - t0) / 1000000 ))
		case $got in "SIP/2.0 500 "*) r=0 ;; *) r=1 ;; esac
		[ $r -eq 0 ] && [ "$ms" -lt 4000 ]
		ok $? "$tp: callee resets on the $m: the caller gets 500 at once, not the 8 s 408 ($got, ${ms} ms)"
	done
	# 180 Ringing (relayed: the caller has it), then a reset: nta ends
	# the client transaction on the lost connection (its pending
	# request's transport error), so the caller gets 500 at once rather
	# than ringing until Timer C (185 s). The callee's 200, sent late over
	# a new connection (RFC 3261 18.2.2) once the caller has its 500 (else
	# which of the two the proxy reads first is a race), finds no
	# transaction.
	req "${tp}_rst180" INVITE rst180 "$tp"
	t0=$(date +%s%N)
	got=$(MARKDIR=$WORK/got send "$tp" "${tp}_rst180" final 10)
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	case $got in "SIP/2.0 500 "*) r=0 ;; *) r=1 ;; esac
	[ $r -eq 0 ] && [ -e "$WORK/got/${tp}_rst180@test.180" ] && [ "$ms" -lt 4000 ]
	ok $? "$tp: callee sends 180 and resets: the caller has the 180, then 500 at once ($got, ${ms} ms)"
	# The caller resets while the callee takes 1.5 s to answer.
	req "${tp}_callerrst_inv" INVITE slow "$tp"
	got=$(send "$tp" "${tp}_callerrst_inv" "SIP/2.0 100")
	[ "$got" = "SIP/2.0 100 Trying" ]
	ok $? "$tp: caller resets its INVITE's connection after the proxy's 100 ($got)"
	req "${tp}_callerrst_msg" MESSAGE slow "$tp"
	got=$(send "$tp" "${tp}_callerrst_msg" "file:$WORK/got/${tp}_callerrst_msg@test")
	[ "$got" != TIMEOUT ]
	ok $? "$tp: caller resets its MESSAGE's connection once the callee has it"
	in_flight_zero
	ok $? "$tp: the callee's late answers find no caller; no transaction left in flight ($(scrape && metric e2mproxy_transactions_in_flight))"
	req "${tp}_after_inv" INVITE ok "$tp"
	req "${tp}_after_msg" MESSAGE ok "$tp"
	got="$(send "$tp" "${tp}_after_inv" final 10), $(send "$tp" "${tp}_after_msg" final 10)"
	[ "$got" = "SIP/2.0 200 OK, SIP/2.0 200 OK" ]
	ok $? "$tp: afterwards an INVITE and a MESSAGE go through ($got)"
done
in_flight_zero
ok $? "no transaction left in flight at the end"
proxy_answers
ok $? "proxy still answers OPTIONS"
! grep -q 'ERROR\|Sanitizer' "$WORK/proxy.log"
ok $? "no error in the proxy's log"
t_done
