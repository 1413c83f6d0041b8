#!/bin/bash
# A 486 from the UAS reaches the UAC; both ACKs stay hop by hop. A 503
# does not: the proxy answers 500 (RFC 3261 16.7 step 6).
. "$TOP_SRCDIR/tests/integration/lib.sh"
t_init busy 21080
write_conf "$WORK/px.conf"
start_proxy "$WORK/px.conf" proxy
ok $? "proxy starts"
sipp_bg uas -sf "$SCEN/uas_busy.xml" -i 127.0.0.1 -p "$UAS_PORT" -m 2
UAS=$LAST_PID
wait_listen udp "$UAS_PORT"
uac_expect uac INVITE 70 486 "127.0.0.1:$UAS_PORT"
sipp_run uac -sf "$WORK/uac.xml" 127.0.0.1:"$UAS_PORT" -rsa 127.0.0.1:"$PX_PORT" \
	-i 127.0.0.1 -p "$UAC_PORT" -m 2 -s carol
ok $? "UAC gets 486 Busy Here"
wait_pid "$UAS" 10
ok $? "UAS gets the proxy's ACK for its 486"

sed -e 's/486 Busy Here/503 Service Unavailable/' -e 's/uas_busy/uas_503/' \
	"$SCEN/uas_busy.xml" > "$WORK/uas_503.xml"
sipp_bg uas503 -sf "$WORK/uas_503.xml" -i 127.0.0.1 -p "$UAS_PORT" -m 1
UAS=$LAST_PID
wait_listen udp "$UAS_PORT"
uac_expect uac503 INVITE 70 500 "127.0.0.1:$UAS_PORT"
sipp_run uac503 -sf "$WORK/uac503.xml" 127.0.0.1:"$UAS_PORT" -rsa 127.0.0.1:"$PX_PORT" \
	-i 127.0.0.1 -p "$UAC_PORT" -m 1 -s carol
ok $? "a 503 from the UAS reaches the UAC as 500"
grep -q '^SIP/2.0 500 Next Hop Unavailable' "$WORK/uac503.msg.log" &&
	! grep -q '^SIP/2.0 503' "$WORK/uac503.msg.log"
ok $? "the UAC never sees the 503"
wait_pid "$UAS" 10
ok $? "UAS gets the proxy's ACK for its 503"
grep -q 'got 503 downstream, answering 500' "$WORK/proxy.log"
ok $? "the proxy logs the conversion"
t_done
