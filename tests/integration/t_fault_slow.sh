#!/bin/bash
# Faults: a slow next hop. With sip.transaction_timeout = 8000: a MESSAGE
# answered after 2 s gets its 200, one answered after 12 s gets the
# proxy's 408 at 8 s (Timer F; over TCP too: nta had dropped it, RFC
# 4320); an INVITE answered after 2 s gets its 200; an INVITE to a next
# hop that sends 180 Ringing and then nothing, not even to the CANCEL, is
# ended upstream with 487 64*T1 (the transaction timeout) after the
# caller's CANCEL (RFC 3261 9.1), not when Timer C runs out after 185 s. Meanwhile calls at 50 a second to a fast
# UAS (over TCP: no retransmissions at this short T1) all complete, none
# waiting as long as the timeout (a loaded 2-core machine under ASan has
# seen a median of 2.7 s); afterwards nothing is in flight.
. "$TOP_SRCDIR/tests/integration/lib.sh"
t_init fault_slow 22960
# Ten ports of this range only.
M_PORT=$((BASE + 3))
CALLEE=$((BASE + 5))
UAS_PORT=$((BASE + 6))
UAC_PORT=$((BASE + 7))
PEER="$TOP_SRCDIR/tests/integration/resetpeer.py"
write_conf "$WORK/px.conf" "transaction_timeout = 8000;" \
	"metrics: { enabled = true; port = $M_PORT; };"
start_proxy "$WORK/px.conf" proxy
ok $? "proxy starts"
mkdir -p "$WORK/got"
python3 "$PEER" callee tcp "$CALLEE" "$WORK/got" > "$WORK/callee.log" 2>&1 &
PIDS="$PIDS $!"
sipp_bg uas -sf "$SCEN/uas_call.xml" -i 127.0.0.1 -p "$UAS_PORT" -t t1
wait_listen tcp "$CALLEE" && wait_listen tcp "$UAS_PORT"
ok $? "the slow callee and the fast UAS (SIPp) listen on TCP"
URL=http://127.0.0.1:$M_PORT

# req NAME METHOD USER: a request for USER at the slow callee, $WORK/NAME.sip
req() {
	{
		printf '%s sip:%s@127.0.0.1:%s;transport=tcp SIP/2.0\r\n' "$2" "$3" "$CALLEE"
		printf 'Via: SIP/2.0/TCP 127.0.0.1:9;rport;branch=z9hG4bK-%s-%s\r\n' "$1" "$RANDOM"
		printf 'From: <sip:alice@example.com>;tag=f%s\r\nTo: <sip:%s@example.com>\r\n' "$RANDOM" "$3"
		printf 'Call-ID: %s@test\r\nCSeq: 1 %s\r\nMax-Forwards: 70\r\n' "$1" "$2"
		printf 'Contact: <sip:alice@127.0.0.1:9;transport=tcp>\r\n'
		printf 'Content-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello'
	} > "$WORK/$1.sip"
}
# timed NAME: send it; "STATUS-LINE MS" in $WORK/NAME.out (measured
# by the caller, from sending to the final response)
timed() {
	TIMED=1 python3 "$PEER" caller tcp "$PX_PORT" "$WORK/$1.sip" final 20 > "$WORK/$1.out"
}
req msg2 MESSAGE slow2000
req msg12 MESSAGE slow12000
req inv2 INVITE slow2000
timed msg2 & J1=$!
timed msg12 & J2=$!
timed inv2 & J3=$!
JC=""
for i in 1 2 3 4 5 6; do
	req "hung$i" INVITE ringing
	python3 "$PEER" cancel tcp "$PX_PORT" "$WORK/hung$i.sip" 1000 20 > "$WORK/hung$i.out" &
	JC="$JC $!"
done
# The load to the fast UAS, while all of that hangs downstream.
(cd "$WORK" && "$SIPP" -sf "$SCEN/uac_call.xml" 127.0.0.1:"$UAS_PORT" -rsa 127.0.0.1:"$PX_PORT" \
	-i 127.0.0.1 -p "$UAC_PORT" -t t1 -m 150 -r 50 -s service -nostdin \
	-trace_err -error_file "$WORK/uac.err.log" -trace_rtt -rtt_freq 1 \
	> "$WORK/uac.out.log" 2>&1)
ok $? "150 calls at 50/s to the fast UAS all complete meanwhile"
# (the CSV: Date_ms;response_time_ms;rtd_no, one line a call)
max=$(cat "$WORK"/uac_call_*_rtt.csv 2>/dev/null | awk -F';' '/^[0-9]/ && $2 + 0 > m { m = $2 + 0 } END { print m + 0 }')
n=$(cat "$WORK"/uac_call_*_rtt.csv 2>/dev/null | grep -c '^[0-9]')
med=$(cat "$WORK"/uac_call_*_rtt.csv 2>/dev/null | awk -F';' '/^[0-9]/ { print $2 + 0 }' | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] + 0 }')
[ "$n" -eq 150 ] && [ "$max" -lt 8000 ]
ok $? "  none waited for a timer behind the hung ones: slowest INVITE to 200 $max ms (< 8 s, the timeout; median $med ms, $n measured)"
wait $J1 $J2 $J3 $JC

# result NAME: "CODE MS" of $WORK/NAME.out
result() { awk '{ print $2, $NF }' "$WORK/$1.out"; }
read -r code ms < <(result msg2)
[ "$code" = 200 ] && [ "$ms" -ge 1900 ] && [ "$ms" -lt 8000 ]
ok $? "a MESSAGE answered after 2 s: its 200, before the 8 s timeout ($(cat "$WORK/msg2.out") ms)"
read -r code ms < <(result msg12)
[ "$code" = 408 ] && [ "$ms" -ge 7500 ] && [ "$ms" -lt 11000 ]
ok $? "a MESSAGE answered after 12 s: the proxy's 408 at 8 s, over TCP ($(cat "$WORK/msg12.out") ms)"
read -r code ms < <(result inv2)
[ "$code" = 200 ] && [ "$ms" -ge 1900 ] && [ "$ms" -lt 8000 ]
ok $? "an INVITE answered after 2 s: its 200 ($(cat "$WORK/inv2.out") ms)"
# (5 s and more: libevent times a timer from the start of the loop's
# iteration, and on a loaded machine one has taken 0.7 s.)
bad=0
for i in 1 2 3 4 5 6; do
	read -r c f ms < "$WORK/hung$i.out"
	{ [ "$c" = 200 ] && [ "$f" = 487 ] && [ "$ms" -ge 5000 ] && [ "$ms" -lt 11000 ]; } || bad=$((bad + 1))
done
ok $bad "6 INVITEs to a next hop that sent 180 and then nothing: CANCEL 200, then 487 about 8 s (64*T1) after it, not at Timer C ($(cat "$WORK"/hung*.out | tr '\n' ','))"
for i in $(seq 1 200); do
	[ "$(scrape && metric e2mproxy_transactions_in_flight)" = 0 ] && break
	sleep 0.05
done
[ "$(scrape && metric e2mproxy_transactions_in_flight)" = 0 ]
ok $? "no transaction left in flight"
proxy_answers
ok $? "proxy still answers OPTIONS"
t_done
