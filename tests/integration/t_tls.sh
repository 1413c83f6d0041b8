#!/bin/bash
# TLS: UAC -(UDP)-> proxy A -(TLS)-> proxy B -(UDP)-> UAS, with A checking
# B's chain and name; a next hop whose certificate names another host, or
# whose chain leads to another CA, is refused and the request answered 500
# at once (t_tls_names.sh has every naming case, against Kamailio); openssl
# s_client verifies A's listener and gets an answer.
. "$TOP_SRCDIR/tests/integration/lib.sh"
. "$TOP_SRCDIR/tests/integration/pki.sh"
t_init tls 21200
A=$PX_PORT A_TLS=$((BASE + 1)) B=$((BASE + 2)) B_TLS=$((BASE + 3))
C=$((BASE + 4)) C_TLS=$((BASE + 5)) D=$((BASE + 6)) D_TLS=$((BASE + 7))

pki_ca "$WORK" && pki_cert "$WORK" a "IP:127.0.0.1" 127.0.0.1 &&
	pki_cert "$WORK" b "IP:127.0.0.1" 127.0.0.1 &&
	pki_cert "$WORK" c "DNS:wrong.example" wrong.example &&
	mkdir "$WORK/other" && pki_ca "$WORK/other" && pki_cert "$WORK/other" d "IP:127.0.0.1" 127.0.0.1 &&
	cp "$WORK/other/d.pem" "$WORK/other/d.key" "$WORK/"
ok $? "test PKI made with openssl (and a second, untrusted CA)"

proxy_conf() { # FILE UDP TLS CERTNAME ROUTING
	cat > "$1" <<CONF
log: { level = "debug"; };
sip: {
  transaction_timeout = 3000;
  listen = ( { transport = "udp"; address = "127.0.0.1"; port = $2; },
             { transport = "tls"; address = "127.0.0.1"; port = $3; } );
};
tls: { certificate = "$WORK/$4.pem"; key = "$WORK/$4.key"; ca_file = "$WORK/ca.pem"; };
routing: { $5 };
CONF
}
proxy_conf "$WORK/a.conf" "$A" "$A_TLS" a "rules = (
  { domain = \"tls.test\"; next_hop = \"sips:127.0.0.1:$B_TLS\"; },
  { domain = \"wrong.test\"; next_hop = \"sips:127.0.0.1:$C_TLS\"; },
  { domain = \"untrusted.test\"; next_hop = \"sips:127.0.0.1:$D_TLS\"; } );"
proxy_conf "$WORK/b.conf" "$B" "$B_TLS" b "default_next_hop = \"sip:127.0.0.1:$UAS_PORT\";"
proxy_conf "$WORK/c.conf" "$C" "$C_TLS" c "default_next_hop = \"sip:127.0.0.1:$UAS_PORT\";"
proxy_conf "$WORK/d.conf" "$D" "$D_TLS" d "default_next_hop = \"sip:127.0.0.1:$UAS_PORT\";"
sed -i "s|ca_file = \"$WORK/ca.pem\"|ca_file = \"$WORK/other/ca.pem\"|" "$WORK/d.conf"
PROXY_DEBUG=-dd start_proxy "$WORK/a.conf" proxy_a && start_proxy "$WORK/b.conf" proxy_b &&
	start_proxy "$WORK/c.conf" proxy_c && start_proxy "$WORK/d.conf" proxy_d
ok $? "four proxies with TLS listeners start"
[ -z "$(ls -d "${TMPDIR:-/tmp}"/e2mproxyd-tls.* 2>/dev/null)" ]
ok $? "no copy of the TLS key is left on disk"

sipp_bg uas -sf "$SCEN/uas_message_any.xml" -i 127.0.0.1 -p "$UAS_PORT" -m 1
UAS=$LAST_PID
wait_listen udp "$UAS_PORT"
uac_expect uac MESSAGE 70 200 tls.test
sipp_run uac -sf "$WORK/uac.xml" 127.0.0.1:"$UAS_PORT" -rsa 127.0.0.1:"$A" \
	-i 127.0.0.1 -p "$UAC_PORT" -m 1 -s lee
ok $? "MESSAGE crosses the TLS hop A -> B and gets 200"
wait_pid "$UAS" 10
ok $? "UAS received it"
grep -q "^Via: SIP/2.0/TLS 127.0.0.1:$A_TLS" "$WORK/uas.msg.log" ||
	grep -q "^Via: SIP/2.0/TLS 127.0.0.1" "$WORK/uas.msg.log"
ok $? "A's Via at the UAS says TLS"

sipp_bg uas2 -sf "$SCEN/uas_busy.xml" -i 127.0.0.1 -p "$UAS_PORT" -m 1
UAS=$LAST_PID
wait_listen udp "$UAS_PORT"
uac_expect inv INVITE 70 486 tls.test
sipp_run inv -sf "$WORK/inv.xml" 127.0.0.1:"$UAS_PORT" -rsa 127.0.0.1:"$A" \
	-i 127.0.0.1 -p "$UAC_PORT" -m 1 -s lee
ok $? "INVITE across the TLS hop gets the UAS's 486"
wait_pid "$UAS" 10
rr=$(grep -m1 -A20 '^INVITE' "$WORK/uas2.msg.log" | grep '^Record-Route:' | tr -d '\r' | sed 's/^Record-Route: //' | paste -sd, -)
[ "$rr" = "<sip:127.0.0.1:$B;lr>,<sips:127.0.0.1:$B_TLS;lr>,<sips:127.0.0.1:$A_TLS;lr>,<sip:127.0.0.1:$A;lr>" ]
ok $? "each proxy record-routes both sides of its UDP/TLS change (got $rr)"

uac_expect wrong MESSAGE 70 500 wrong.test
sipp_run wrong -sf "$WORK/wrong.xml" 127.0.0.1:"$UAS_PORT" -rsa 127.0.0.1:"$A" \
	-i 127.0.0.1 -p "$UAC_PORT" -m 1 -s lee
ok $? "a TLS next hop whose certificate names another host is refused (500)"
grep -q "TLS connection to 127.0.0.1:$C_TLS refused: certificate does not name IP address 127.0.0.1" "$WORK/proxy_a.log"
ok $? "A logs the name mismatch"
if grep -q "received MESSAGE sip:lee@wrong.test" "$WORK/proxy_c.log"; then r=1; else r=0; fi
ok $r "nothing reached the wrongly named proxy"

uac_expect untrusted MESSAGE 70 500 untrusted.test
sipp_run untrusted -sf "$WORK/untrusted.xml" 127.0.0.1:"$UAS_PORT" -rsa 127.0.0.1:"$A" \
	-i 127.0.0.1 -p "$UAC_PORT" -m 1 -s lee
ok $? "a TLS next hop whose chain does not lead to our CA is refused (500)"
if grep -q "received MESSAGE sip:lee@untrusted.test" "$WORK/proxy_d.log"; then r=1; else r=0; fi
ok $r "nothing reached the untrusted proxy"

printf 'OPTIONS sip:127.0.0.1:%s SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:9;rport;branch=z9hG4bK-sclient\r\nFrom: <sip:t@127.0.0.1>;tag=sc\r\nTo: <sip:127.0.0.1:%s>\r\nCall-ID: sclient@test\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n' "$A_TLS" "$A_TLS" > "$WORK/opt.sip"
(cat "$WORK/opt.sip"; sleep 1) | timeout 10 openssl s_client -connect 127.0.0.1:"$A_TLS" \
	-CAfile "$WORK/ca.pem" -verify_return_error -verify_ip 127.0.0.1 > "$WORK/sclient.out" 2>&1
grep -q 'Verify return code: 0 (ok)' "$WORK/sclient.out"
ok $? "openssl s_client verifies A's certificate chain and IP"
grep -q '^SIP/2.0 200 OK' "$WORK/sclient.out"
ok $? "OPTIONS over that TLS connection is answered 200"
t_done
