#!/bin/bash
# MESSAGE through the proxy: the UAS gets the body and Max-Forwards 69.
. "$TOP_SRCDIR/tests/integration/lib.sh"
t_init message 21040
write_conf "$WORK/px.conf"
start_proxy "$WORK/px.conf" proxy
ok $? "proxy starts"
sipp_bg uas -sf "$SCEN/uas_message.xml" -i 127.0.0.1 -p "$UAS_PORT" -m 2
UAS=$LAST_PID
wait_listen udp "$UAS_PORT"
sipp_run uac -sf "$SCEN/uac_message.xml" 127.0.0.1:"$UAS_PORT" -rsa 127.0.0.1:"$PX_PORT" \
	-i 127.0.0.1 -p "$UAC_PORT" -m 2 -s alice
ok $? "UAC gets 200 for 2 MESSAGEs"
wait_pid "$UAS" 10
ok $? "UAS got the text body and Max-Forwards 69"
grep -q '^Via: SIP/2.0/UDP 127.0.0.1:'"$PX_PORT"';.*branch=z9hG4bK' "$WORK/uas.msg.log"
ok $? "the proxy's Via is on top at the UAS"
if grep -A12 'SIP/2.0 200 OK' "$WORK/uac.msg.log" | grep -q "127.0.0.1:$PX_PORT;.*branch=z9hG4bKe2m"; then r=1; else r=0; fi
ok $r "the 200 reaches the UAC without the proxy's Via"
t_done
