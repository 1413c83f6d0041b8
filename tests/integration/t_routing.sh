#!/bin/bash
# Routing from the config: first matching rule by domain, method and source
# network; then the default next hop; requests for the proxy itself are
# answered locally; a rule that points back at us ends in 482, not a storm.
. "$TOP_SRCDIR/tests/integration/lib.sh"
t_init routing 21180
DEAD=$((BASE + 19))
write_conf "$WORK/px.conf" "" "routing: {
  default_next_hop = \"sip:127.0.0.1:$UAS_PORT\";
  rules = (
    { domain = \"example.com\"; methods = [ \"MESSAGE\" ]; next_hop = \"sip:127.0.0.1:$UAS_PORT\"; },
    { domain = \"*.loop.test\"; next_hop = \"sip:127.0.0.1:$PX_PORT\"; },
    { domain = \"other.test\"; sources = [ \"10.0.0.0/8\" ]; next_hop = \"sip:127.0.0.1:$DEAD\"; },
    { domain = \"example.com\"; next_hop = \"sip:127.0.0.1:$DEAD\"; }
  );
};"
start_proxy "$WORK/px.conf" proxy
ok $? "proxy starts"
rule_line() { grep -n "$1" "$WORK/px.conf" | head -1 | cut -d: -f1; }

send() { # NAME RURIHOST STATUS
	uac_expect "$1" MESSAGE 70 "$3" "$2"
	sipp_run "$1" -sf "$WORK/$1.xml" 127.0.0.1:"$UAS_PORT" -rsa 127.0.0.1:"$PX_PORT" \
		-i 127.0.0.1 -p "$UAC_PORT" -m 1 -s user
}

sipp_bg uas -sf "$SCEN/uas_message_any.xml" -i 127.0.0.1 -p "$UAS_PORT" -m 2
UAS=$LAST_PID
wait_listen udp "$UAS_PORT"
send rule example.com 200
ok $? "MESSAGE for example.com follows the first rule"
grep -q "routed by rule at line $(rule_line 'methods = \[ "MESSAGE"') to sip:127.0.0.1:$UAS_PORT" "$WORK/proxy.log"
ok $? "the log names the rule's line"
grep -q '^MESSAGE sip:user@example.com SIP/2.0' "$WORK/uas.msg.log"
ok $? "the request-URI is left as it was"
send other other.test 200
ok $? "source 127.0.0.1 is outside 10.0.0.0/8: the default next hop takes it"
wait_pid "$UAS" 10
ok $? "UAS got both"

uac_expect inv INVITE 70 500 example.com
sipp_run inv -sf "$WORK/inv.xml" 127.0.0.1:"$UAS_PORT" -rsa 127.0.0.1:"$PX_PORT" \
	-i 127.0.0.1 -p "$UAC_PORT" -m 1 -s user
ok $? "INVITE for example.com skips the MESSAGE-only rule (to a dead hop: 500)"

send loop a.loop.test 482
ok $? "a rule pointing back at the proxy ends in 482 Loop Detected"
[ "$(grep -c 'received MESSAGE sip:user@a.loop.test' "$WORK/proxy.log")" -eq 2 ]
ok $? "the looped request was seen exactly twice"

send local "127.0.0.1:$PX_PORT" 404
ok $? "a MESSAGE for the proxy itself is answered 404, not sent to the default hop"
proxy_answers
ok $? "OPTIONS for the proxy itself is answered 200"
t_done
