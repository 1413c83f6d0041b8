#!/bin/bash
# CANCEL: the proxy answers the CANCEL 200, cancels downstream, and relays
# the UAS's 487 upstream; the ACK for the 487 stays hop by hop. Over UDP,
# then over TCP (where nta ends the INVITE's transaction as it sends the
# CANCEL, so the proxy takes the transaction over to see the 487).
. "$TOP_SRCDIR/tests/integration/lib.sh"
t_init cancel 21060
write_conf "$WORK/px.conf"
start_proxy "$WORK/px.conf" proxy
ok $? "proxy starts"
sipp_bg uas -sf "$SCEN/uas_cancel.xml" -i 127.0.0.1 -p "$UAS_PORT" -m 2
UAS=$LAST_PID
wait_listen udp "$UAS_PORT"
sipp_run uac -sf "$SCEN/uac_cancel.xml" 127.0.0.1:"$UAS_PORT" -rsa 127.0.0.1:"$PX_PORT" \
	-i 127.0.0.1 -p "$UAC_PORT" -m 2 -s bob
ok $? "UAC: 180, CANCEL answered 200, INVITE answered 487"
wait_pid "$UAS" 10
ok $? "UAS: got the proxy's CANCEL and the proxy's ACK for its 487"

sipp_bg uas_tcp -sf "$SCEN/uas_cancel.xml" -i 127.0.0.1 -p "$UAS_PORT" -t t1 -m 2
UAS=$LAST_PID
wait_listen tcp "$UAS_PORT"
sipp_run uac_tcp -sf "$SCEN/uac_cancel.xml" 127.0.0.1:"$UAS_PORT" -rsa 127.0.0.1:"$PX_PORT" \
	-i 127.0.0.1 -p "$UAC_PORT" -t t1 -m 2 -s bob -timeout 20
ok $? "over TCP: UAC: 180, CANCEL answered 200, INVITE answered 487"
wait_pid "$UAS" 10
ok $? "over TCP: UAS: got the CANCEL and the ACK for its 487"
proxy_answers
ok $? "proxy still answers OPTIONS"
t_done
