#!/bin/bash
# A real softphone behind the edge proxy (issue 15): baresip 1.0 with RFC
# 5626 outbound registers THROUGH e2mproxyd (edge.path = "outbound") to
# Kamailio 5.6 as the registrar of example.com, over UDP (bob) and over
# TCP (carol):
# - ul.dump shows our Path (a 55-character flow token, ;ob) on the
#   binding; the 2xx baresip got carries e2mproxyd's Flow-Timer;
# - a SIPp UAC calls sip:USER@example.com through e2mproxyd -> Kamailio
#   (lookup, Path as Route) -> back through e2mproxyd over the phone's
#   flow; baresip auto-answers, SIPp ACKs and BYEs; the proxy routed the
#   INVITE, ACK and BYE over the flow (baresip's trace, /metrics; the
#   log shows the INVITE's second pass, from Kamailio to the contact);
# - baresip calls a SIPp UAS through e2mproxyd and hangs up.
# - Over TCP the INVITE for carol comes over the very connection her
#   REGISTER went over: no connection to her listening port is opened.
# - bob's STUN keep-alives (RFC 5626 4.4.2) are answered by e2mproxyd
#   and baresip reports no keep-alive failure.
# - baresip over TCP sends the ACK and BYE of its own call over its flow:
#   e2mproxyd's Record-Route towards it says transport=tcp.
. "$TOP_SRCDIR/tests/integration/lib.sh"
. "$TOP_SRCDIR/tests/integration/kamailio.sh"
. "$TOP_SRCDIR/tests/integration/baresip.sh"
t_init edge_baresip 22300

KAM=$((BASE + 2))          # Kamailio, UDP and TCP
METRICS=$((BASE + 4))      # e2mproxyd's /metrics
BOB_PORT=$((BASE + 20))    # baresip bob (UDP), uses +0..+9
CAROL_PORT=$((BASE + 30))  # baresip carol (TCP), uses +0..+9
UAC_MP=$((BASE + 40))      # SIPp media ports
UAS_MP=$((BASE + 50))

head -c 32 /dev/urandom > "$WORK/flow.key"
chmod 600 "$WORK/flow.key"
cat > "$WORK/px.conf" <<CONF
metrics: { enabled = true; port = $METRICS; };
log: { level = "debug"; };
sip: {
  listen = ( { transport = "udp"; address = "127.0.0.1"; port = $PX_PORT; },
             { transport = "tcp"; address = "127.0.0.1"; port = $PX_PORT; } );
};
routing: {
  rules = ( { domain = "example.com"; next_hop = "sip:127.0.0.1:$KAM"; } );
};
edge: { path = "outbound"; flow_key = "$WORK/flow.key"; };
CONF

kam_start "$KAM"
ok $? "Kamailio registrar starts on 127.0.0.1:$KAM"
start_proxy "$WORK/px.conf" proxy
ok $? "e2mproxyd starts as the edge proxy (edge.path = outbound)"

# 55 characters of base64url: the flow token of our Path
TOKRE='[A-Za-z0-9_-]{55}'
metric() {
	curl -s "http://127.0.0.1:$METRICS/metrics" |
		awk -v m="$1" '$1 == m { print $2 }'
}

# bs_trace NAME: baresip's SIP trace (-s), one message a line: its
# "PROTO src -> dst" line and its header lines, joined by " | "
bs_trace() {
	sed 's/\r$//; s/\x1b\[[0-9;]*m//g' "$WORK/bs-$1.log" |
		awk '/^(UDP|TCP|TLS) [^ ]+ -> [^ ]+$/ { m = $0; next }
		     m != "" && $0 == "" { print m " |"; m = ""; next }
		     m != "" { m = m " | " $0 }'
}

# bs_wait_trace NAME REGEX [SECONDS]: wait (default 5 s) until a message
# of the trace matches REGEX (extended)
bs_wait_trace() {
	local _
	for _ in $(seq 1 $((${3:-5} * 10))); do
		bs_trace "$1" | grep -Eq -- "$2" && return 0
		sleep 0.1
	done
	echo "# no message /$2/ in $1's SIP trace"
	return 1
}

# from_px PROTO PORT: the start of a trace line for a message e2mproxyd
# sent to 127.0.0.1:PORT
from_px() { echo "^$1 127\\.0\\.0\\.1:$PX_PORT -> 127\\.0\\.0\\.1:$2 \\| "; }

# reg_ok NAME PROTO PORT: the Flow-Timer of the 200 to REGISTER that
# e2mproxyd sent baresip with Kamailio's Require: outbound
reg_ok() {
	bs_trace "$1" | grep -E "$(from_px "$2" "$3")SIP/2\\.0 200 " |
		grep -E '\| CSeq: [0-9]+ REGISTER \|' |
		grep -E '\| Require: [^|]*outbound' |
		grep -Eo '\| Flow-Timer: [0-9]+ \|' | head -n 1 | awk '{ print $3 }'
}

# --- bob: baresip over UDP ------------------------------------------------
bs_start bob "$BOB_PORT" "sip:127.0.0.1:$PX_PORT"
ok $? "baresip bob starts (outbound proxy: e2mproxyd over UDP)"
bs_wait_registered bob
ok $? "baresip bob registers through e2mproxyd over UDP"
kam_wait_contact bob "Path: <sip:$TOKRE@127\.0\.0\.1:$PX_PORT;lr;ob>"
ok $? "ul.dump: bob's binding carries our Path (55-character token, ;ob)"
kam_wait_contact bob "Address: sip:bob-[^@]*@127\.0\.0\.1:$BOB_PORT" 1 &&
	kam_wait_contact bob 'Reg-Id: 1' 1
ok $? "... for bob's own contact, an outbound binding (reg-id 1)"
ft=$(reg_ok bob UDP "$BOB_PORT")
[ "$ft" = 29 ]
ok $? "the 200 baresip got over UDP carries Require: outbound and Flow-Timer: 29 ($ft)"
# RFC 5626 4.4.2: with the 200 baresip starts its STUN keep-alives
for _ in $(seq 1 100); do
	grep -q "STUN: Binding request from 127\.0\.0\.1:$BOB_PORT answered" "$WORK/proxy.log" && break
	sleep 0.1
done
grep -q "STUN: Binding request from 127\.0\.0\.1:$BOB_PORT answered" "$WORK/proxy.log"
ok $? "e2mproxyd answers bob's STUN keep-alive on its SIP port"

# call_aor NAME USER: a SIPp UAC calls sip:USER@example.com through e2mproxyd
call_aor() {
	sipp_run "$1" -sf "$SCEN/uac_aor_call.xml" -s "$2" -i 127.0.0.1 \
		-p "$UAC_PORT" -mp "$UAC_MP" -t u1 -m 1 -timeout 30 \
		"127.0.0.1:$PX_PORT"
}
r0=$(metric e2mproxy_edge_routed_total)
bs_mark bob
call_aor callbob bob
ok $? "SIPp calls sip:bob@example.com through e2mproxyd and Kamailio: 200, ACK, BYE, 200"
bs_wait_event bob '"type":"CALL_ESTABLISHED"' 5 &&
	bs_wait_event bob '"type":"CALL_CLOSED"' 5
ok $? "baresip auto-answered and saw the call closed by SIPp's BYE"
for m in INVITE ACK BYE; do
	bs_trace bob | grep -Eq "$(from_px UDP "$BOB_PORT")$m sip:bob-"
	ok $? "the $m reached bob from e2mproxyd's UDP port, his flow"
done
r1=$(metric e2mproxy_edge_routed_total)
[ $(( ${r1:-0} - ${r0:-0} )) -eq 3 ]
ok $? "e2mproxyd counted INVITE, ACK and BYE as routed over a flow (${r0:-?} -> ${r1:-?})"
# second_pass USER: the proxy log has the INVITE coming back from
# Kamailio for USER's contact, and forwarded
second_pass() {
	local tx
	tx=$(grep -E "tx [0-9]+: received INVITE sip:$1-[^ ]+ \(.*udp 127\.0\.0\.1:$KAM\)\$" \
		"$WORK/proxy.log" | tail -n 1 | grep -Eo 'tx [0-9]+:')
	[ -n "$tx" ] && grep -q "$tx forwarded INVITE sip:$1-" "$WORK/proxy.log"
}
second_pass bob
ok $? "the proxy log: the INVITE came back from Kamailio for bob's contact and was forwarded"

# dial_uas NAME PROTO PORT: baresip NAME (whose flow to e2mproxyd is
# PROTO from 127.0.0.1:PORT) calls a SIPp UAS through e2mproxyd, then
# hangs up. RFC 5626 5.3: e2mproxyd's Record-Route carries the flow's
# token (and over TCP says so), so the UAS's uas_call.xml is given that
# Record-Route to check.
dial_uas() {
	local tp tpp=""
	tp=$(echo "$2" | tr '[:upper:]' '[:lower:]')
	[ "$tp" = tcp ] && tpp=";transport=tcp"
	sed 's|&lt;sip:127\\.0\\.0\\.1:\[0-9\]+(;transport=tcp)?;lr&gt;|\&lt;sip:[A-Za-z0-9_-]{55}@127\\.0\\.0\\.1:'"$PX_PORT$tpp;lr"'\&gt;|' \
		"$SCEN/uas_call.xml" > "$WORK/uas_call_$1.xml"
	# baresip puts its account's transport on the URI it dials
	sipp_bg "uas$1" -sf "$WORK/uas_call_$1.xml" -i 127.0.0.1 -p "$UAS_PORT" \
		-mp "$UAS_MP" -t "${tp:0:1}1" -m 1
	UAS=$LAST_PID
	wait_listen "$tp" "$UAS_PORT"
	bs_dial "$1" "sip:alice@127.0.0.1:$UAS_PORT"
	bs_wait_call_established "$1"
	ok $? "$1 calls a SIPp UAS through e2mproxyd over $2: established"
	bs_trace "$1" | grep -Eq "^$2 127\\.0\\.0\\.1:$3 -> 127\\.0\\.0\\.1:$PX_PORT \\| INVITE sip:alice@"
	ok $? "... baresip's INVITE went to e2mproxyd over its flow"
	bs_mark "$1"
	bs_hangup "$1"
	bs_wait_call_closed "$1"
	ok $? "$1 hangs up"
	bs_trace "$1" | grep -Eq "^$2 127\\.0\\.0\\.1:$3 -> 127\\.0\\.0\\.1:$PX_PORT \\| ACK sip:" &&
		bs_trace "$1" | grep -Eq "^$2 127\\.0\\.0\\.1:$3 -> 127\\.0\\.0\\.1:$PX_PORT \\| BYE sip:"
	ok $? "$1's ACK and BYE went to e2mproxyd over its flow too (following e2mproxyd's Record-Route)"
	wait_pid "$UAS" 15
	ok $? "the UAS got the INVITE (e2mproxyd's Record-Route with a flow token${tpp}, Max-Forwards 69), the ACK and $1's BYE, and answered 200"
	bs_wait_trace "$1" "$(from_px "$2" "$3")SIP/2\\.0 200 .*\\| CSeq: [0-9]+ BYE \\|"
	ok $? "... the 200 to the BYE came back to baresip"
}
dial_uas bob UDP "$BOB_PORT"
# seconds after the keep-alive's answer: baresip took it (libre reports
# an answer it rejects as "Register: Protocol error" and REGISTER_FAIL)
! grep -Eq 'reg: sip:bob@example\.com: .*(Protocol error|timed out)' "$WORK/bs-bob.log" &&
	! grep -q '"type":"REGISTER_FAIL"' "$WORK/bs-bob.events.log"
ok $? "baresip bob took the keep-alive's answer (no keep-alive failure reported)"
bs_stop bob

# --- carol: baresip over TCP ----------------------------------------------
# conns_px: carol's established TCP connections to e2mproxyd, as
# "LOCAL-PORT" lines; conns_in: connections accepted on her listening port
# shellcheck disable=SC2154 # BS_PID_carol: set by bs_start (eval)
conns_px() {
	ss -Htnp state established "( dport = :$PX_PORT )" 2>/dev/null |
		grep "pid=$BS_PID_carol," | awk '{ n = split($3, a, ":"); print a[n] }'
}
conns_in() {
	ss -Htn state established "( sport = :$CAROL_PORT )" 2>/dev/null | wc -l
}
BS_AOR=sip:carol@example.com bs_start carol "$CAROL_PORT" \
	"sip:127.0.0.1:$PX_PORT;transport=tcp"
ok $? "baresip carol starts (outbound proxy: e2mproxyd over TCP)"
bs_wait_registered carol
ok $? "baresip carol registers through e2mproxyd over TCP"
kam_wait_contact carol "Path: <sip:$TOKRE@127\.0\.0\.1:$PX_PORT;lr;ob>" &&
	kam_wait_contact carol "Address: sip:carol-[^@]*@127\.0\.0\.1:$CAROL_PORT;transport=tcp" 1
ok $? "ul.dump: carol's TCP binding carries our Path (55-character token, ;ob)"
before=$(conns_px)
[ "$(echo "$before" | grep -c .)" = 1 ]
ok $? "carol has one TCP connection to e2mproxyd (local port ${before:-none})"
ft=$(reg_ok carol TCP "$before")
[ "$ft" = 120 ]
ok $? "the 200 carol got over that connection carries Require: outbound and Flow-Timer: 120 ($ft)"
in0=$(conns_in)

r0=$(metric e2mproxy_edge_routed_total)
bs_mark carol
call_aor callcarol carol
ok $? "SIPp calls sip:carol@example.com through e2mproxyd and Kamailio: 200, ACK, BYE, 200"
bs_wait_event carol '"type":"CALL_ESTABLISHED"' 5 &&
	bs_wait_event carol '"type":"CALL_CLOSED"' 5
ok $? "baresip carol auto-answered and saw the call closed by SIPp's BYE"
for m in INVITE ACK BYE; do
	bs_trace carol | grep -Eq "$(from_px TCP "$before")$m sip:carol-"
	ok $? "the $m reached carol over the connection her REGISTER went over (port $before)"
done
r1=$(metric e2mproxy_edge_routed_total)
[ $(( ${r1:-0} - ${r0:-0} )) -eq 3 ]
ok $? "e2mproxyd counted INVITE, ACK and BYE as routed over a flow (${r0:-?} -> ${r1:-?})"
second_pass carol
ok $? "the proxy log: the INVITE came back from Kamailio for carol's contact and was forwarded"
after=$(conns_px)
in1=$(conns_in)
[ "$after" = "$before" ] && [ "$in0" = 0 ] && [ "$in1" = 0 ]
ok $? "no new connection: still the same one to e2mproxyd ($before -> $after), none to carol's listening port ($in0 -> $in1)"

dial_uas carol TCP "$before"
bs_stop carol
kam_stop
t_done
