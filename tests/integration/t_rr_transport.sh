#!/bin/bash
# Record-Route and transports (RFC 3261 16.6 step 4, RFC 5658, RFC 3263
# 4.1): UAC -(UDP)-> proxy A -(TCP)-> proxy B -(UDP)-> UAS. Each proxy
# puts one entry per side, each saying the transport of the side it faces
# (transport=tcp, nothing for UDP), so the callee's BYE goes from B back
# to A over TCP, not UDP. Only requests that create a dialog (INVITE,
# SUBSCRIBE, REFER) are record-routed: not MESSAGE, OPTIONS, a re-INVITE.
. "$TOP_SRCDIR/tests/integration/lib.sh"
t_init rr_transport 21460
A=$PX_PORT B=$((BASE + 2))

proxy_conf() { # FILE PORT ROUTING
	cat > "$1" <<CONF
log: { level = "debug"; };
sip: {
  listen = ( { transport = "udp"; address = "127.0.0.1"; port = $2; },
             { transport = "tcp"; address = "127.0.0.1"; port = $2; } );
};
routing: { $3 };
CONF
}
proxy_conf "$WORK/a.conf" "$A" "rules = ( { domain = \"chain.test\"; next_hop = \"sip:127.0.0.1:$B;transport=tcp\"; } );"
proxy_conf "$WORK/b.conf" "$B" "default_next_hop = \"sip:127.0.0.1:$UAS_PORT\";"
start_proxy "$WORK/a.conf" proxy_a && start_proxy "$WORK/b.conf" proxy_b
ok $? "two proxies start"

sipp_bg uas -sf "$SCEN/uas_call_bye.xml" -i 127.0.0.1 -p "$UAS_PORT" -m 1
UAS=$LAST_PID
wait_listen udp "$UAS_PORT"
sed "s|@RURIHOST@|chain.test|g" "$SCEN/uac_call_byed.xml" > "$WORK/uac.xml"
sipp_run uac -sf "$WORK/uac.xml" 127.0.0.1:"$UAS_PORT" -rsa 127.0.0.1:"$A" \
	-i 127.0.0.1 -p "$UAC_PORT" -m 1 -s bob
ok $? "call through A (UDP in, TCP out) and B (TCP in, UDP out); the callee hangs up"
wait_pid "$UAS" 10
ok $? "the UAS got the INVITE and the ACK, and its BYE was answered 200"
rr=$(grep -m1 -A20 '^INVITE' "$WORK/uas.msg.log" | grep '^Record-Route:' | tr -d '\r' | sed 's/^Record-Route: //' | paste -sd, -)
[ "$rr" = "<sip:127.0.0.1:$B;lr>,<sip:127.0.0.1:$B;transport=tcp;lr>,<sip:127.0.0.1:$A;transport=tcp;lr>,<sip:127.0.0.1:$A;lr>" ]
ok $? "each proxy record-routes both sides of its UDP/TCP change, saying transport=tcp towards TCP (got $rr)"
# B's Via in the BYE the caller got says how B sent it to A.
bye=$(awk '/^BYE /{p=1} p&&/^\r?$/{exit} p' "$WORK/uac.msg.log" | tr -d '\r')
echo "$bye" | grep -q "^Via: SIP/2.0/TCP 127.0.0.1:$B;"
ok $? "the callee's BYE went from B to A over TCP"
echo "$bye" | grep -q "^Via: SIP/2.0/UDP 127.0.0.1:$A;"
ok $? "and from A to the caller over UDP"
if echo "$bye" | grep -q '^Route:'; then r=1; else r=0; fi
ok $r "the BYE reached the caller with no Route of the proxies left"

# What is record-routed: A -(UDP)-> UAS directly (uas.py keeps headers).
proxy_conf "$WORK/c.conf" "$((BASE + 4))" ""
start_proxy "$WORK/c.conf" proxy_c
ok $? "a third proxy starts"
start_uas udp "$WORK/heads" 6 30
ok $? "uas.py listens"
n=0
for m in MESSAGE OPTIONS SUBSCRIBE REFER INVITE INVITE-in-dialog; do
	n=$((n + 1))
	method=${m%-in-dialog} totag=""
	[ "$m" = INVITE-in-dialog ] && totag=";tag=callee"
	r=$RANDOM$RANDOM
	{
		printf '%s sip:bob@127.0.0.1:%s SIP/2.0\r\n' "$method" "$UAS_PORT"
		printf 'Via: SIP/2.0/UDP 127.0.0.1:%s;rport;branch=z9hG4bK-rr%s\r\n' "$UAC_PORT" "$r"
		printf 'From: <sip:alice@example.com>;tag=a%s\r\nTo: <sip:bob@example.com>%s\r\n' "$r" "$totag"
		printf 'Call-ID: rr-%s@test\r\nCSeq: 1 %s\r\nMax-Forwards: 70\r\n' "$r" "$method"
		printf 'Contact: <sip:alice@127.0.0.1:%s>\r\n' "$UAC_PORT"
		[ "$method" = SUBSCRIBE ] && printf 'Event: presence\r\n'
		[ "$method" = REFER ] && printf 'Refer-To: <sip:carol@example.com>\r\n'
		printf 'Content-Length: 0\r\n\r\n'
	} > "$WORK/$n.sip"
	st=$(python3 "$TOP_SRCDIR/tests/integration/sipraw.py" udp 127.0.0.1 "$((BASE + 4))" "$WORK/$n.sip" 10)
	[ "$st" = "SIP/2.0 200 OK" ] && [ -f "$WORK/heads/$n.head" ]
	ok $? "$m forwarded and answered 200 (got $st)"
	c=$(grep -c '^Record-Route:' "$WORK/heads/$n.head" 2>/dev/null)
	case $m in
	SUBSCRIBE|REFER|INVITE) [ "${c:-0}" -eq 1 ] && grep -q "^Record-Route: <sip:127.0.0.1:$((BASE + 4));lr>" "$WORK/heads/$n.head" ;;
	*) [ "${c:-0}" -eq 0 ] ;;
	esac
	ok $? "$m: Record-Route as a $( case $m in SUBSCRIBE|REFER|INVITE) echo dialog-creating;; *) echo dialog-less or in-dialog;; esac) request (${c:-0} entries)"
done

# RFC 3261 18.1.1: an INVITE larger than the UDP MTU (1300) leaves over
# TCP although its Request-URI names no transport; the entry facing the
# callee says so. uas.py listens on TCP only.
start_uas tcp "$WORK/big" 1 30
ok $? "uas.py listens on TCP"
r=$RANDOM$RANDOM
head -c 2000 /dev/zero | tr '\0' 'x' > "$WORK/big.body"
{
	printf 'INVITE sip:bob@127.0.0.1:%s SIP/2.0\r\n' "$UAS_PORT"
	printf 'Via: SIP/2.0/UDP 127.0.0.1:%s;rport;branch=z9hG4bK-big%s\r\n' "$UAC_PORT" "$r"
	printf 'From: <sip:alice@example.com>;tag=a%s\r\nTo: <sip:bob@example.com>\r\n' "$r"
	printf 'Call-ID: big-%s@test\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n' "$r"
	printf 'Contact: <sip:alice@127.0.0.1:%s>\r\nContent-Type: text/plain\r\n' "$UAC_PORT"
	printf 'Content-Length: 2000\r\n\r\n'
	cat "$WORK/big.body"
} > "$WORK/big.sip"
st=$(python3 "$TOP_SRCDIR/tests/integration/sipraw.py" udp 127.0.0.1 "$((BASE + 4))" "$WORK/big.sip" 10)
[ "$st" = "SIP/2.0 200 OK" ] && grep -q "^Via: SIP/2.0/TCP 127.0.0.1:$((BASE + 4));" "$WORK/big/1.head"
ok $? "a 2 KB INVITE received on UDP went on over TCP (got $st)"
rr=$(grep '^Record-Route:' "$WORK/big/1.head" 2>/dev/null | tr -d '\r' | sed 's/^Record-Route: //' | paste -sd, -)
[ "$rr" = "<sip:127.0.0.1:$((BASE + 4));transport=tcp;lr>,<sip:127.0.0.1:$((BASE + 4));lr>" ]
ok $? "its Record-Route faces TCP towards the callee and UDP towards the caller (got $rr)"
t_done
