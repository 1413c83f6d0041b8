#!/bin/bash
# Max-Forwards 0 -> 483 and nothing forwarded; a request without
# Max-Forwards leaves with the configured value; 1 leaves as 0, 70 as 69.
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

# mf_case NAME MF-HEADER-LINE WANT: one MESSAGE through the proxy with
# that Max-Forwards line ("" for none); the UAS (a SIPp instance of its
# own) got it with exactly one Max-Forwards, of value WANT, and the sender
# its 200.
mf_case() {
	{
		printf 'MESSAGE sip:gina@127.0.0.1:%s SIP/2.0\r\n' "$UAS_PORT"
		printf 'Via: SIP/2.0/UDP 127.0.0.1:%s;rport;branch=z9hG4bK-%s-%s\r\n' "$UAC_PORT" "$1" "$RANDOM"
		printf 'From: <sip:t@127.0.0.1>;tag=%s\r\nTo: <sip:gina@127.0.0.1:%s>\r\n' "$1" "$UAS_PORT"
		printf 'Call-ID: %s-%s@test\r\nCSeq: 1 MESSAGE\r\n' "$1" "$RANDOM"
		[ -n "$2" ] && printf '%s\r\n' "$2"
		printf 'Content-Length: 0\r\n\r\n'
	} > "$WORK/$1.sip"
	message_through "$1"
	# one request forwarded (copies the proxy resent to a UAS slow to
	# answer are the same bytes), with one Max-Forwards
	grep -q '^SIP/2.0 200 ' "$WORK/$1.out" &&
		[ "$MSG_COUNT" -eq 1 ] &&
		[ "$(grep -ci '^Max-Forwards:' "$WORK/$1.fwd")" -eq 1 ] &&
		grep -Eq "^Max-Forwards: $3"$'\r'"?\$" "$WORK/$1.fwd"
	ok $? "$1: ${2:-no Max-Forwards} leaves as Max-Forwards: $3 (200 back)"
}
# No Max-Forwards at all: the proxy inserts its configured value.
mf_case nomf "" 42
# Decremented by one (RFC 3261 16.6 step 3): 1 leaves as 0, 70 as 69.
mf_case mf1 "Max-Forwards: 1" 0
mf_case mf70 "Max-Forwards: 70" 69
t_done
