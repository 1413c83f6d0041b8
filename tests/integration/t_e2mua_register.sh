#!/bin/bash
# e2mua -l -g: the UAS registers as an RFC 5626 outbound client.
# - SIPp as the registrar, over UDP and over TCP: the REGISTER's Contact
#   (;ob, +sip.instance, reg-id=1, expires), Supported: path, outbound;
#   the expiry taken is that of our own binding (the 2xx lists a foreign
#   one first); the refresh comes in time with the same Call-ID and the
#   next CSeq; a MESSAGE to the registered contact is answered (on TCP over
#   the UA's own connection); -N 1 reached, the UA unregisters.
# - A Python registrar over TCP, to see the connection: CRLF keep-alives
#   on the REGISTER's connection, a MESSAGE back over it; when the pongs
#   stop the UA gives the flow up and registers on a new connection (same
#   Call-ID, next CSeq); SIGTERM unregisters on that connection.
# - 401 and a silent registrar end the run (exit 1 and 4), -g needs -l.
# - Kamailio (tests/integration/kamailio.sh) as the registrar: the binding
#   as ul.dump shows it, a MESSAGE to the AOR, the unregistration; then
#   through e2mproxyd as the edge proxy: its Path, MESSAGEs for the AOR
#   over Bob's own connection, inspected on the way.
. "$TOP_SRCDIR/tests/integration/lib.sh"
t_init e2mua_register 22100
E2MUA=${E2MUA:-$(dirname "$E2MPROXYD")/e2mua}
REG_TCP=$((BASE + 2))
REG_UDP=$((BASE + 3))
SIPP_PORT=$((BASE + 4))
KAM_PORT=$((BASE + 5))
UA_PORT=$((BASE + 10))
AOR=sip:bob@example.com

# wait_for FILE EREGEX SECONDS: bounded wait for a line in a file
wait_for() {
	local i
	for i in $(seq 1 $(($3 * 20))); do
		grep -Eq "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# The REGISTERs' CSeq numbers in a SIPp message log, in order.
cseqs() {
	grep -o '^CSeq: [0-9]* REGISTER' "$1" | awk '{print $2}' | uniq | tr '\n' ' '
}

# sipp_registrar u1|t1 NAME: SIPp's registrar scenario against e2mua -N 1
sipp_registrar() {
	local t=$1 name=$2 tr="" rc
	[ "$t" = t1 ] && tr=";transport=tcp"
	sipp_bg "$name" -sf "$SCEN/uas_registrar.xml" -i 127.0.0.1 -p "$SIPP_PORT" \
		-t "$t" -m 1
	local sp=$LAST_PID
	wait_listen "$([ "$t" = t1 ] && echo tcp || echo udp)" "$SIPP_PORT"
	"$E2MUA" -l -b "sip:127.0.0.1:$UA_PORT$tr" -g "sip:127.0.0.1:$SIPP_PORT$tr" \
		-f "$AOR" -N 1 -T 20 > "$WORK/$name.json" 2> "$WORK/$name.err"
	rc=$?
	[ $rc -eq 0 ]
	ok $? "$name: e2mua registered, answered one MESSAGE, exit 0 (got $rc)"
	wait_pid "$sp" 10
	ok $? "$name: SIPp's registrar scenario passed (Contact ;ob, +sip.instance, reg-id=1; Supported: path, outbound; refresh within 5 s in the same call; unregistration)"
	[ "$(cseqs "$WORK/$name.msg.log")" = "1 2 3 " ]
	ok $? "$name: CSeq 1, 2 (refresh), 3 (expires=0): got $(cseqs "$WORK/$name.msg.log")"
	[ "$(grep -c '"event":"registered","status":200,"expires":4,"flow_timer":30,"outbound":true' "$WORK/$name.json")" -eq 2 ]
	ok $? "$name: two registrations reported, 4 s granted to our binding (not the foreign 3600), Flow-Timer 30, Require: outbound"
	grep -q '"received":"MESSAGE","from":"sip:alice@example.com","status":200' "$WORK/$name.json" &&
		grep -q '"event":"unregistered","status":200' "$WORK/$name.json"
	ok $? "$name: the MESSAGE to the contact answered, then unregistered"
}

sipp_registrar u1 sipp_udp
grep -q '"connection":false,"keepalive":"register","keepalive_ms":[0-9]*,"refresh":2' "$WORK/sipp_udp.json"
ok $? "sipp_udp: no connection to ping on UDP: refresh at half of 4 s (keeps the binding)"
sipp_registrar t1 sipp_tcp
grep -q '"connection":true,"keepalive":"crlf"' "$WORK/sipp_tcp.json"
ok $? "sipp_tcp: CRLF keep-alives on the connection"

# The connection seen from the registrar's side.
python3 "$TOP_SRCDIR/tests/integration/registrar.py" tcp "$REG_TCP" "$WORK/reg.log" \
	--flow-timer 30 --pongs 2 --message --path "sip:edge.test;lr;ob" &
PIDS="$PIDS $!"
wait_listen tcp "$REG_TCP"
"$E2MUA" -l -b "sip:127.0.0.1:$UA_PORT;transport=tcp" -g "sip:127.0.0.1:$REG_TCP;transport=tcp" \
	-f "$AOR" -K 1 -T 0 -i urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6 \
	> "$WORK/flow.json" 2> "$WORK/flow.err" &
UA=$!
PIDS="$PIDS $UA"
wait_for "$WORK/reg.log" '"ev": "register", "conn": 1, .*"cseq": 1, "contact": "<sip:127.0.0.1:'"$UA_PORT"';transport=tcp;ob>;\+sip.instance=\\"<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>\\";reg-id=1;expires=600", "supported": "path, outbound"' 10
ok $? "tcp: REGISTER on connection 1 with the configured instance"
wait_for "$WORK/reg.log" '"ev": "ping", "conn": 1, "pong": true' 10
ok $? "tcp: CRLFCRLF keep-alive on the REGISTER's own connection, pong answered"
wait_for "$WORK/reg.log" '"ev": "message", "conn": 1, "status": 200' 10 &&
	wait_for "$WORK/flow.json" '"received":"MESSAGE","from":"sip:registrar@example.com","status":200' 5
ok $? "tcp: a MESSAGE sent back over that connection is answered on it"
grep -q '"event":"registered","status":200,"expires":60,"flow_timer":30,"outbound":true,"path":\["<sip:edge.test;lr;ob>"\],"instance":"urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6","connection":true,"keepalive":"crlf","keepalive_ms":1000,"refresh":30,"cseq":1}' "$WORK/flow.json"
ok $? "tcp: registered event: expiry, Flow-Timer, outbound, Path, keep-alive -K 1, refresh at half"
wait_for "$WORK/reg.log" '"ev": "ping", "conn": 1, "pong": false' 10
ok $? "tcp: the registrar stops answering pongs"
# RFC 5626 4.4.1: no pong within 10 s is a failed flow.
call1=$(grep -m1 '"conn": 1, "call_id"' "$WORK/reg.log" | sed 's/.*"call_id": "\([^"]*\)".*/\1/')
wait_for "$WORK/reg.log" '"ev": "register", "conn": 2, "call_id": "'"$call1"'", "cseq": 2,' 20 &&
	grep -q '"ev": "closed", "conn": 1' "$WORK/reg.log"
ok $? "tcp: connection 1 closed, registered again on connection 2 (same Call-ID, CSeq 2)"
grep -q '"event":"flow_failed","reason":"no pong to the keep-alive' "$WORK/flow.json" &&
	wait_for "$WORK/flow.json" '"cseq":2}' 5
ok $? "tcp: flow_failed reported, then the new registration"
kill -TERM "$UA"
wait_pid "$UA" 10
rc=$?
[ $rc -eq 0 ]
ok $? "tcp: SIGTERM ends the run in order, exit 0 (got $rc)"
grep -q '"ev": "register", "conn": 2, "call_id": "'"$call1"'", "cseq": 3, .*expires=0", "supported": "path, outbound", "expires": 0' "$WORK/reg.log" &&
	grep -q '"event":"unregistered","status":200' "$WORK/flow.json"
ok $? "tcp: unregistered (expires=0, CSeq 3) on the current connection"

# UDP: no CRLF to send; a Flow-Timer shorter than half the expiry makes
# the refreshes come at the keep-alive interval (80-100% of 2 s).
python3 "$TOP_SRCDIR/tests/integration/registrar.py" udp "$REG_UDP" "$WORK/udpka.log" --flow-timer 2 &
RKA=$!
PIDS="$PIDS $RKA"
wait_listen udp "$REG_UDP"
"$E2MUA" -l -b "sip:127.0.0.1:$UA_PORT" -g "sip:127.0.0.1:$REG_UDP" -f "$AOR" -T 0 \
	> "$WORK/udpka.json" 2> "$WORK/udpka.err" &
UA=$!
PIDS="$PIDS $UA"
wait_for "$WORK/udpka.log" '"cseq": 3,' 10
ok $? "udp: refreshes at the keep-alive interval (CSeq 3 within 10 s although 60 s were granted)"
grep -q '"expires":60,"flow_timer":2,.*"connection":false,"keepalive":"register","keepalive_ms":\(1[6-9][0-9][0-9]\|2000\),"refresh":1,' "$WORK/udpka.json"
ok $? "udp: keepalive \"register\" at 1.6 to 2 s, refresh 1 s"
kill -INT "$UA"
wait_pid "$UA" 10
rc=$?
[ $rc -eq 0 ] && grep -q '"event":"unregistered","status":200' "$WORK/udpka.json"
ok $? "udp: SIGINT unregisters, exit 0 (got $rc)"
kill "$RKA" 2>/dev/null
wait "$RKA" 2>/dev/null

# Failures of the first registration end the run.
python3 "$TOP_SRCDIR/tests/integration/registrar.py" udp "$REG_UDP" "$WORK/r401.log" --status 401 &
R401=$!
PIDS="$PIDS $R401"
wait_listen udp "$REG_UDP"
"$E2MUA" -l -b "sip:127.0.0.1:$UA_PORT" -g "sip:127.0.0.1:$REG_UDP" -f "$AOR" -T 5 \
	> "$WORK/r401.json" 2> "$WORK/r401.err"
rc=$?
[ $rc -eq 1 ] && grep -q '"event":"register_failed","status":401,"phrase":"Unauthorized"' "$WORK/r401.json" &&
	grep -q 'digest authentication (401), which e2mua does not do' "$WORK/r401.err"
ok $? "401: register_failed, a clear message, exit 1 (got $rc)"
kill "$R401" 2>/dev/null
wait "$R401" 2>/dev/null
python3 "$TOP_SRCDIR/tests/integration/registrar.py" udp "$REG_UDP" "$WORK/zero.log" --expires 0 &
R0=$!
PIDS="$PIDS $R0"
wait_listen udp "$REG_UDP"
"$E2MUA" -l -b "sip:127.0.0.1:$UA_PORT" -g "sip:127.0.0.1:$REG_UDP" -f "$AOR" -T 5 \
	> "$WORK/zero.json" 2> "$WORK/zero.err"
rc=$?
[ $rc -eq 1 ] && grep -q '"event":"register_failed","status":200,"phrase":"the 2xx grants our binding no time"' "$WORK/zero.json"
ok $? "a 2xx listing our binding with expires=0: a failure, not a refresh loop (exit $rc)"
kill "$R0" 2>/dev/null
wait "$R0" 2>/dev/null
python3 "$TOP_SRCDIR/tests/integration/registrar.py" udp "$REG_UDP" "$WORK/silent.log" --status 0 &
PIDS="$PIDS $!"
wait_listen udp "$REG_UDP"
"$E2MUA" -l -b "sip:127.0.0.1:$UA_PORT" -g "sip:127.0.0.1:$REG_UDP" -f "$AOR" -T 2 \
	> "$WORK/silent.json" 2> "$WORK/silent.err"
rc=$?
[ $rc -eq 4 ] && grep -q '"event":"register_failed","status":0,"phrase":"timeout"' "$WORK/silent.json"
ok $? "no answer within -T: register_failed timeout, exit 4 (got $rc)"
"$E2MUA" -t "$AOR" -g "sip:127.0.0.1:$REG_UDP" > /dev/null 2>&1
[ $? -eq 2 ]
ok $? "-g without -l: usage, exit 2"

# A real registrar: Kamailio, when its harness is in the tree.
if [ -f "$TOP_SRCDIR/tests/integration/kamailio.sh" ] && command -v kamailio > /dev/null; then
	. "$TOP_SRCDIR/tests/integration/kamailio.sh"
	kam_start "$KAM_PORT"
	ok $? "kamailio: the registrar runs"
	"$E2MUA" -l -b "sip:127.0.0.1:$UA_PORT;transport=tcp" -g "sip:127.0.0.1:$KAM_PORT;transport=tcp" \
		-f "$AOR" -E 60 -K 2 -N 1 -T 30 -i urn:uuid:2f9b3c1e-58b4-4a1e-9c7d-0e6f1a2b3c4d \
		> "$WORK/kam.json" 2> "$WORK/kam.err" &
	UA=$!
	PIDS="$PIDS $UA"
	wait_for "$WORK/kam.json" '"event":"registered","status":200,"expires":60,.*"outbound":true' 10
	ok $? "kamailio: registered, 60 s, Require: outbound"
	kam_wait_contact bob 'urn:uuid:2f9b3c1e-58b4-4a1e-9c7d-0e6f1a2b3c4d' 10 &&
		kam_wait_contact bob 'Reg-Id: 1' 1 && kam_wait_contact bob 'transport=tcp;ob' 1
	ok $? "kamailio: ul.dump shows bob's binding: our instance, reg-id 1, the ;ob contact"
	sipp_run kam_msg -sf "$SCEN/uac_message.xml" -i 127.0.0.1 -p $((BASE + 6)) -t t1 \
		-s bob "127.0.0.1:$KAM_PORT" -m 1
	wait_pid "$UA" 10
	rc=$?
	grep -q '"received":"MESSAGE"' "$WORK/kam.json" && [ $rc -eq 0 ] &&
		grep -q '"event":"unregistered","status":200' "$WORK/kam.json"
	ok $? "kamailio: a MESSAGE to bob's AOR reached e2mua; unregistered at -N 1 (exit $rc)"
	! kam_wait_contact bob 'urn:uuid:2f9b3c1e' 1
	ok $? "kamailio: the binding is gone"

	# The real path (issue 15): Bob registers through e2mproxyd as edge
	# proxy; Alice's MESSAGEs for his AOR go edge -> Kamailio -> edge ->
	# Bob over the connection Bob opened, the second one disclosed to the
	# proxy and opened there on the way to the phone.
	. "$TOP_SRCDIR/tests/integration/pki.sh"
	K=$WORK/pki
	mkdir -p "$K"
	pki_ca "$K" && PKI_EKU=serverAuth,clientAuth,emailProtection pki_cert "$K" proxy "DNS:proxy.test" proxy.test &&
		pki_cert "$K" bob "DNS:bob.test" bob.test
	ok $? "edge: test PKI"
	head -c 32 /dev/urandom > "$WORK/flow.key"
	chmod 600 "$WORK/flow.key"
	write_conf "$WORK/px.conf" 'own_names = [ "proxy.test" ];' "
routing: { rules = ( { domain = \"example.com\"; next_hop = \"sip:127.0.0.1:$KAM_PORT\"; } ); };
edge: { path = \"outbound\"; flow_key = \"$WORK/flow.key\"; };
inspect: { keys = ( { certificate = \"$K/proxy.pem\"; key = \"$K/proxy.key\"; } );
           trust_anchors = [ \"$K/ca.pem\" ]; };
challenge: { signing_certificate = \"$K/proxy.pem\"; signing_key = \"$K/proxy.key\"; };
policy: { rules = ( { methods = [ \"MESSAGE\" ]; directions = [ \"to_phones\" ];
                      required_types = [ \"text/plain\" ]; } ); };"
	start_proxy "$WORK/px.conf" proxy
	ok $? "edge: e2mproxyd starts in front of Kamailio"
	"$E2MUA" -l -b "sip:127.0.0.1:$UA_PORT;transport=tcp" -g sip:example.com \
		-o "sip:127.0.0.1:$PX_PORT;transport=tcp" -f "$AOR" -k "$K/bob.pem:$K/bob.key" \
		-N 2 -T 40 > "$WORK/edge.json" 2> "$WORK/edge.err" &
	UA=$!
	PIDS="$PIDS $UA"
	wait_for "$WORK/edge.json" '"event":"registered","status":200,"expires":600,"flow_timer":120,"outbound":true,"path":\["<sip:[A-Za-z0-9_-]{55}@127\.0\.0\.1:'"$PX_PORT"';lr;ob>"\],.*"connection":true,"keepalive":"crlf"' 10
	ok $? "edge: registered through e2mproxyd: its flow-token Path (;ob), Flow-Timer 120, outbound, CRLF keep-alives"
	alice() {
		"$E2MUA" -t "$AOR" -o "sip:127.0.0.1:$PX_PORT" -b "sip:127.0.0.1:$UAC_PORT" \
			-f sip:alice@example.net -T 10 "$@"
	}
	alice -m "hello bob" > "$WORK/alice1.json" 2>&1
	rc=$?
	[ $rc -eq 0 ] && wait_for "$WORK/edge.json" '"received":"MESSAGE","from":"sip:alice@example.net","status":200,.*"text":"hello bob"' 5
	ok $? "edge: Alice's MESSAGE to bob@example.com reaches e2mua (exit $rc)"
	[ -z "$(ss -Htn state established "( sport = :$UA_PORT )")" ] &&
		grep -q "forwarded MESSAGE sip:127.0.0.1:$UA_PORT;transport=tcp;ob" "$WORK/proxy.log"
	ok $? "edge: over Bob's own connection (nothing ever connected to his listening port)"
	alice -m "for bob and the proxy" -e "$K/bob.pem" -x "proxy.test=$K/proxy.pem" > "$WORK/alice2.json" 2>&1
	rc=$?
	wait_pid "$UA" 10
	urc=$?
	[ $rc -eq 0 ] && grep -q '"received":"MESSAGE","from":"sip:alice@example.net","status":200,"decrypted":1,.*"text":"for bob and the proxy"' "$WORK/edge.json" &&
		grep -q 'MESSAGE inspected: targets 1 ([0-9a-f]*@e2mua opened)' "$WORK/proxy.log"
	ok $? "edge: an encrypted MESSAGE disclosed to the proxy is opened there (its to_phones rule) and by Bob (exit $rc)"
	[ $urc -eq 0 ] && grep -q '"event":"unregistered","status":200' "$WORK/edge.json" &&
		! kam_wait_contact bob 'ob' 1
	ok $? "edge: -N 2 reached, Bob unregisters through the edge (exit $urc)"
fi
t_done
