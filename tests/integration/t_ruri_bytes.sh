#!/bin/bash
# RFC 3261 16.6 step 1: the copy a proxy forwards keeps the Request-URI as
# it came, byte for byte, when nothing routes the request elsewhere (no
# Route header field, no rule). nta, given no route, encoded the request
# line again from its parsed form, and the parser had decoded escapes an
# equal URI does not need: "%61lice" left as "alice", ";x=%41" as ";x=A".
# Each case: one MESSAGE through the proxy to a SIPp UAS; the UAS got it
# with that request line exactly, and the sender its 200.
. "$TOP_SRCDIR/tests/integration/lib.sh"
t_init ruri_bytes 21840
write_conf "$WORK/px.conf" ""
start_proxy "$WORK/px.conf" proxy
ok $? "proxy starts"

# ruri_case NAME URI: URI is what follows "sip:"
ruri_case() {
	{
		printf 'MESSAGE sip:%s SIP/2.0\r\n' "$2"
		printf 'Via: SIP/2.0/UDP 127.0.0.1:%s;rport;branch=z9hG4bK-%s-%s\r\n' "$UAC_PORT" "$1" "$RANDOM"
		printf 'Max-Forwards: 70\r\n'
		printf 'From: <sip:t@127.0.0.1>;tag=%s\r\nTo: <sip:gina@127.0.0.1:%s>\r\n' "$1" "$UAS_PORT"
		printf 'Call-ID: %s-%s@test\r\nCSeq: 1 MESSAGE\r\n' "$1" "$RANDOM"
		printf 'Content-Length: 0\r\n\r\n'
	} > "$WORK/$1.sip"
	message_through "$1"
	grep -q '^SIP/2.0 200 ' "$WORK/$1.out" &&
		[ "$(head -n 1 "$WORK/$1.fwd" | tr -d '\r')" = "MESSAGE sip:$2 SIP/2.0" ]
	ok $? "$1: the request line leaves as MESSAGE sip:$2 SIP/2.0 (200 back)"
}
ruri_case plain "gina@127.0.0.1:$UAS_PORT"
ruri_case user_escape "%67ina@127.0.0.1:$UAS_PORT"
ruri_case param_escape "gina@127.0.0.1:$UAS_PORT;x=%41;y=b%2Fc"
ruri_case user_param "gina@127.0.0.1:$UAS_PORT;user=phone"
t_done
