#!/bin/bash
# Late 2xx retransmissions: the UAS retransmits its 200 while the UAC
# delays the ACK; the proxy has let the transaction go after the first 200,
# and forwards the retransmissions statelessly; the ACK then reaches the UAS.
. "$TOP_SRCDIR/tests/integration/lib.sh"
t_init retransmit 21240
write_conf "$WORK/px.conf"
start_proxy "$WORK/px.conf" proxy
ok $? "proxy starts"
sipp_bg uas -sf "$SCEN/uas_retrans.xml" -i 127.0.0.1 -p "$UAS_PORT" -m 1
UAS=$LAST_PID
wait_listen udp "$UAS_PORT"
sipp_run uac -sf "$SCEN/uac_late_ack.xml" 127.0.0.1:"$UAS_PORT" -rsa 127.0.0.1:"$PX_PORT" \
	-i 127.0.0.1 -p "$UAC_PORT" -m 1 -s mia
ok $? "UAC gets 200 and ACKs late"
wait_pid "$UAS" 10
ok $? "UAS gets the ACK"
sent=$(grep -c '^SIP/2.0 200 OK' "$WORK/uas.msg.log")
got=$(grep -c '^SIP/2.0 200 OK' "$WORK/uac.msg.log")
[ "$sent" -ge 3 ]
ok $? "UAS sent the 200 and retransmitted it ($sent times in all)"
[ "$got" -ge 3 ]
ok $? "UAC received the retransmissions through the proxy ($got of $sent)"
grep -q 'relayed 200' "$WORK/proxy.log"
ok $? "the first 200 went through the transaction"
t_done
