#!/bin/bash
# A 486 from the UAS reaches the UAC; both ACKs stay hop by hop. A 503
# does not: the proxy answers 500 (RFC 3261 16.7 step 6).
. "$TOP_SRCDIR/tests/integration/lib.sh"
t_init busy 21080
write_conf "$WORK/px.conf"
start_proxy "$WORK/px.conf" proxy
ok $? "proxy starts"

# refused NAME SCENARIO CALLS UAS-STATUS UAC-STATUS: INVITEs the UAS refuses;
# the UAS must get the proxy's ACK for each
refused() {
	sipp_bg "$1" -sf "$2" -i 127.0.0.1 -p "$UAS_PORT" -m "$3"
	UAS=$LAST_PID
	wait_listen udp "$UAS_PORT"
	uac_expect "uac$1" INVITE 70 "$5" "127.0.0.1:$UAS_PORT"
	sipp_run "uac$1" -sf "$WORK/uac$1.xml" 127.0.0.1:"$UAS_PORT" \
		-rsa 127.0.0.1:"$PX_PORT" -i 127.0.0.1 -p "$UAC_PORT" -m "$3" -s carol
	ok $? "a $4 from the UAS reaches the UAC as $5"
	wait_pid "$UAS" 10
	ok $? "UAS gets the proxy's ACK for its $4"
}

refused uas "$SCEN/uas_busy.xml" 2 486 486

sed -e 's/486 Busy Here/503 Service Unavailable/' -e 's/uas_busy/uas_503/' \
	"$SCEN/uas_busy.xml" > "$WORK/uas_503.xml"
refused uas503 "$WORK/uas_503.xml" 1 503 500
grep -q '^SIP/2.0 500 Next Hop Unavailable' "$WORK/uacuas503.msg.log" &&
	! grep -q '^SIP/2.0 503' "$WORK/uacuas503.msg.log"
ok $? "the UAC never sees the 503"
grep -q 'got 503 downstream, answering 500' "$WORK/proxy.log"
ok $? "the proxy logs the conversion"
t_done
