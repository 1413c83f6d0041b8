#!/bin/bash
# Record-Route and transports (RFC 3261 16.6 step 4, RFC 5658, RFC 3263
# 4.1, RFC 5658): UAC -(UDP)-> proxy A -(TCP)-> proxy B -(UDP)-> UAS. Each proxy
# puts one entry per side, each saying the transport of the side it faces
# (transport=tcp, nothing for UDP), so the callee's BYE goes from B back
# to A over TCP, not UDP. Only requests that create a dialog (INVITE,
# SUBSCRIBE, REFER) are record-routed: not MESSAGE, OPTIONS, a re-INVITE.
# The same for a change of address family (IPv4 in, IPv6 out), and a
# wildcard listener's entry names an address, never 0.0.0.0.
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

# Address families: D listens on 127.0.0.1 and ::1. A call between an
# IPv4 caller and an IPv6 callee gets one entry per family, the one facing
# the callee on top; the callee's BYE (over IPv6, both entries in its
# Route) reaches the caller over IPv4. Before, the one entry named the
# first listener (IPv4) and an IPv6-only callee could not send its BYE.
D=$((BASE + 6))
cat > "$WORK/d.conf" <<CONF
log: { level = "debug"; };
sip: { listen = ( { transport = "udp"; address = "127.0.0.1"; port = $D; },
                  { transport = "udp"; address = "::1"; port = $D; } ); };
routing: { rules = (
  { domain = "v6.test"; next_hop = "sip:[::1]:$UAS_PORT"; },
  { domain = "v4.test"; next_hop = "sip:127.0.0.1:$UAS_PORT"; } ); };
CONF
start_proxy "$WORK/d.conf" proxy_d
ok $? "a proxy on 127.0.0.1 and ::1 starts"
family_call() { # NAME CALLER_IP CALLEE_IP PROXY_PORT
	# The callee is reached by a routing rule (v4.test, v6.test): SIPp
	# wants its remote host in its own address family.
	local pxhost=$2 dom=v4.test
	case $2 in *:*) pxhost="[$2]" ;; esac
	case $3 in *:*) dom=v6.test ;; esac
	sipp_bg "$1_uas" -sf "$SCEN/uas_call_bye.xml" -i "$3" -p "$UAS_PORT" -m 1
	UAS=$LAST_PID
	wait_listen udp "$UAS_PORT"
	sed "s|@RURIHOST@|$dom|g" "$SCEN/uac_call_byed.xml" > "$WORK/$1.xml"
	sipp_run "$1_uac" -sf "$WORK/$1.xml" "$pxhost:$4" -rsa "$pxhost:$4" \
		-i "$2" -p "$UAC_PORT" -m 1 -s bob
	local rc=$?
	wait_pid "$UAS" 10 && [ $rc -eq 0 ]
}
rr_at_uas() { # NAME: the Record-Route entries of the INVITE the UAS got
	grep -m1 -A20 '^INVITE' "$WORK/$1_uas.msg.log" | grep '^Record-Route:' |
		tr -d '\r' | sed 's/^Record-Route: //' | paste -sd, -
}
bye_at_uac() { # NAME: the BYE the caller got, header section
	awk '/^BYE /{p=1} p&&/^\r?$/{exit} p' "$WORK/$1_uac.msg.log" | tr -d '\r'
}
# family NAME WHAT CALLER CALLEE RR VIA: a call through D between the two
# addresses; RR: the entries the callee must get; VIA: the sent-by of our
# Via (the top one) in the callee's BYE as the caller got it.
family() {
	local rr bye
	family_call "$1" "$3" "$4" "$D"
	ok $? "$2: the call completes and the callee's BYE is answered"
	rr=$(rr_at_uas "$1")
	[ "$rr" = "$5" ]
	ok $? "$2: one entry per family, the callee's on top (got $rr)"
	bye=$(bye_at_uac "$1")
	echo "$bye" | grep -m1 '^Via:' | grep -qF "Via: SIP/2.0/UDP $6;" &&
		! echo "$bye" | grep -q '^Route:'
	ok $? "$2: the callee's BYE reached the caller from $6, no Route of ours left"
}
family v4v6 "IPv4 caller, IPv6 callee" 127.0.0.1 ::1 \
	"<sip:[::1]:$D;lr>,<sip:127.0.0.1:$D;lr>" "127.0.0.1:$D"
family v6v4 "IPv6 caller, IPv4 callee" ::1 127.0.0.1 \
	"<sip:127.0.0.1:$D;lr>,<sip:[::1]:$D;lr>" "[::1]:$D"

# A wildcard listener (0.0.0.0, here beside :: on the same port: the two
# families do not clash; the configuration refused it before) is
# record-routed by the address Sofia puts in our Via for it, never by
# 0.0.0.0, which no peer can send to.
E=$((BASE + 8))
cat > "$WORK/e.conf" <<CONF
log: { level = "debug"; };
sip: { listen = ( { transport = "udp"; address = "0.0.0.0"; port = $E; },
                  { transport = "udp"; address = "::"; port = $E; } ); };
routing: { rules = ( { domain = "v4.test"; next_hop = "sip:127.0.0.1:$UAS_PORT"; } ); };
CONF
start_proxy "$WORK/e.conf" proxy_e
ok $? "a proxy on 0.0.0.0 and ::, same port, starts"
family_call wild 127.0.0.1 127.0.0.1 "$E"
ok $? "a call through the wildcard listener completes and the callee's BYE is answered"
rr=$(rr_at_uas wild)
via=$(grep -m1 -A20 '^INVITE' "$WORK/wild_uas.msg.log" | grep -m1 '^Via:' | tr -d '\r' |
	sed -n 's|^Via: SIP/2.0/UDP \([^;]*\);.*|\1|p')
[ -n "$via" ] && [ "$rr" = "<sip:$via;lr>" ] && case $via in 0.0.0.0:*) false ;; esac
ok $? "one entry, naming our Via's address, not 0.0.0.0 (got $rr, Via $via)"
t_done
