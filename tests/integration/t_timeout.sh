#!/bin/bash
# Downstream silent -> 408 upstream after the transaction timeout;
# downstream port closed -> 500 upstream at once (ICMP unreachable: a
# transport error, RFC 3261 16.9 and 16.7 step 6).
. "$TOP_SRCDIR/tests/integration/lib.sh"
t_init timeout 21100
write_conf "$WORK/px.conf" "transaction_timeout = 2000;"
start_proxy "$WORK/px.conf" proxy
ok $? "proxy starts"
sipp_bg uas -sf "$SCEN/uas_silent.xml" -i 127.0.0.1 -p "$UAS_PORT" -m 1
wait_listen udp "$UAS_PORT"
uac_expect uac MESSAGE 70 408 "127.0.0.1:$UAS_PORT"
start=$(date +%s)
sipp_run uac -sf "$WORK/uac.xml" 127.0.0.1:"$UAS_PORT" -rsa 127.0.0.1:"$PX_PORT" \
	-i 127.0.0.1 -p "$UAC_PORT" -m 1 -s dave
ok $? "UAC gets 408 from the proxy for a silent UAS"
took=$(( $(date +%s) - start ))
[ "$took" -le 6 ]
ok $? "the 408 came after the configured 2 s timeout, not the default 32 s (took ${took}s)"
# (the proxy writes the line after it sent the answer: polled)
wait_for 10 grep -q 'got no answer downstream (408), answered 408' "$WORK/proxy.log"
ok $? "proxy logs the downstream timeout"

uac_expect uac2 MESSAGE 70 500 "127.0.0.1:$((BASE + 19))"
sipp_run uac2 -sf "$WORK/uac2.xml" 127.0.0.1:$((BASE + 19)) -rsa 127.0.0.1:"$PX_PORT" \
	-i 127.0.0.1 -p "$UAC_PORT" -m 1 -s erin
ok $? "UAC gets 500 when the next hop's port is closed"
grep -q "^SIP/2.0 500 Next Hop Unavailable" "$WORK/uac2.msg.log"
ok $? "its reason phrase names the next hop"
wait_for 10 grep -q 'got no answer downstream (503), answered 500' "$WORK/proxy.log"
ok $? "the log names what nta reported and what went upstream"
t_done
