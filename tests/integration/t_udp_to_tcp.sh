#!/bin/bash
# RFC 3261 18.1.1: a 3 KB MESSAGE received on UDP leaves on TCP, because
# it is larger than the UDP MTU (1300); a small one stays on UDP.
. "$TOP_SRCDIR/tests/integration/lib.sh"
t_init udp_to_tcp 21140
write_conf "$WORK/px.conf"
start_proxy "$WORK/px.conf" proxy
ok $? "proxy starts"

big=$(head -c 3000 /dev/zero | tr '\0' 'x')
uac_expect uac MESSAGE 70 200 "127.0.0.1:$UAS_PORT" "$big"
# The UAS listens on TCP only: the request can reach it no other way.
sipp_bg uas -sf "$SCEN/uas_message_any.xml" -i 127.0.0.1 -p "$UAS_PORT" -t t1 -m 1
UAS=$LAST_PID
wait_listen tcp "$UAS_PORT"
sipp_run uac -sf "$WORK/uac.xml" 127.0.0.1:"$UAS_PORT" -rsa 127.0.0.1:"$PX_PORT" \
	-i 127.0.0.1 -p "$UAC_PORT" -t u1 -m 1 -s henry
ok $? "UAC (UDP) gets 200 for a 3 KB MESSAGE"
wait_pid "$UAS" 10
ok $? "UAS (TCP only) received it"
grep -q '^Via: SIP/2.0/TCP 127.0.0.1:'"$PX_PORT" "$WORK/uas.msg.log"
ok $? "the proxy's Via says TCP"
size=$(awk '/^Content-Length:/ { print $2; exit }' "$WORK/uas.msg.log" | tr -d '\r')
[ "${size:-0}" -ge 3000 ]
ok $? "the body arrived whole (${size:-0} bytes)"

uac_expect uac2 MESSAGE 70 200 "127.0.0.1:$UAS_PORT"
sipp_bg uas2 -sf "$SCEN/uas_message_any.xml" -i 127.0.0.1 -p "$UAS_PORT" -t u1 -m 1
UAS=$LAST_PID
wait_listen udp "$UAS_PORT"
sipp_run uac2 -sf "$WORK/uac2.xml" 127.0.0.1:"$UAS_PORT" -rsa 127.0.0.1:"$PX_PORT" \
	-i 127.0.0.1 -p "$UAC_PORT" -t u1 -m 1 -s henry
ok $? "a small MESSAGE goes through"
wait_pid "$UAS" 10
grep -q '^Via: SIP/2.0/UDP 127.0.0.1:'"$PX_PORT" "$WORK/uas2.msg.log"
ok $? "a small MESSAGE stays on UDP"
t_done
