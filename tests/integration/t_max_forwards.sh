#!/bin/bash
# Max-Forwards 0 -> 483 and nothing forwarded; a request without
# Max-Forwards leaves with the configured value; 1 leaves as 0.
. "$TOP_SRCDIR/tests/integration/lib.sh"
t_init max_forwards 21120
write_conf "$WORK/px.conf" "max_forwards = 42;"
start_proxy "$WORK/px.conf" proxy
ok $? "proxy starts"
uac_expect uac MESSAGE 0 483 "127.0.0.1:$UAS_PORT"
sipp_run uac -sf "$WORK/uac.xml" 127.0.0.1:"$UAS_PORT" -rsa 127.0.0.1:"$PX_PORT" \
	-i 127.0.0.1 -p "$UAC_PORT" -m 1 -s frank
ok $? "Max-Forwards 0 is answered 483 Too Many Hops"
uac_expect uac_inv INVITE 0 483 "127.0.0.1:$UAS_PORT"
sipp_run uac_inv -sf "$WORK/uac_inv.xml" 127.0.0.1:"$UAS_PORT" -rsa 127.0.0.1:"$PX_PORT" \
	-i 127.0.0.1 -p "$UAC_PORT" -m 1 -s frank
ok $? "INVITE with Max-Forwards 0 is answered 483 and the ACK absorbed"

# No Max-Forwards at all: the proxy inserts its configured value.
cat > "$WORK/nomf.sip" <<SIP
MESSAGE sip:gina@127.0.0.1:$UAS_PORT SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:$UAC_PORT;rport;branch=z9hG4bK-nomf-$RANDOM
From: <sip:t@127.0.0.1>;tag=nomf
To: <sip:gina@127.0.0.1:$UAS_PORT>
Call-ID: nomf-$RANDOM@test
CSeq: 1 MESSAGE
Content-Length: 0

SIP
sed -i 's/$/\r/' "$WORK/nomf.sip"
sipp_bg uas -sf "$SCEN/uas_message.xml" -i 127.0.0.1 -p "$UAS_PORT" -m 1
UAS=$LAST_PID
wait_listen udp "$UAS_PORT"
sip_raw udp "$PX_PORT" "$WORK/nomf.sip" > "$WORK/nomf.out"
wait_pid "$UAS" 5
grep -q '^Max-Forwards: 42' "$WORK/uas.msg.log"
ok $? "a request without Max-Forwards leaves with the configured 42"
t_done
