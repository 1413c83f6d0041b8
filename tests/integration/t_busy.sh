#!/bin/bash
# A 486 from the UAS reaches the UAC; both ACKs stay hop by hop.
. "$TOP_SRCDIR/tests/integration/lib.sh"
t_init busy 21080
write_conf "$WORK/px.conf"
start_proxy "$WORK/px.conf" proxy
ok $? "proxy starts"
sipp_bg uas -sf "$SCEN/uas_busy.xml" -i 127.0.0.1 -p "$UAS_PORT" -m 2
UAS=$LAST_PID
sleep 0.3
uac_expect uac INVITE 70 486 "127.0.0.1:$UAS_PORT"
sipp_run uac -sf "$WORK/uac.xml" 127.0.0.1:"$UAS_PORT" -rsa 127.0.0.1:"$PX_PORT" \
	-i 127.0.0.1 -p "$UAC_PORT" -m 2 -s carol
ok $? "UAC gets 486 Busy Here"
wait_pid "$UAS" 10
ok $? "UAS gets the proxy's ACK for its 486"
t_done
