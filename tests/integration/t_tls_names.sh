#!/bin/bash
# The name check of outgoing TLS (tls.verify_server), against a real TLS
# peer: Kamailio 5.6's TLS module, one TLS port per test certificate, each
# answering MESSAGE with 200 itself. The UAC (SIPp) sends over UDP to
# e2mproxyd, whose routes send each domain over TLS to one of the ports.
#
# Accepted: the IP in an iPAddress SAN; a host name in a DNS SAN; a host
# name as CN of a certificate without SANs; a host name as "sip:" URI SAN
# (RFC 5922). Refused (RFC 6125 / RFC 5280, as openssl s_client says): a
# host name only in the CN of a certificate with a DNS SAN; an IP only in
# the CN; a wrong name; a chain to another CA; an expired certificate.
# A refused hop is answered 500 at once (not 408 after the 32 s
# transaction timeout), for MESSAGE and INVITE, and the log says why.
# Host names are given with maddr=127.0.0.1: the name checked is the URI's
# host (RFC 5922 7.2), the address maddr's, and no DNS is needed.
. "$TOP_SRCDIR/tests/integration/lib.sh"
. "$TOP_SRCDIR/tests/integration/pki.sh"
t_init tls_names 22800
KAMAILIO=${KAMAILIO:-kamailio}
command -v "$KAMAILIO" >/dev/null 2>&1 && [ -f /usr/lib/x86_64-linux-gnu/kamailio/modules/tls.so ] ||
	[ -n "$(find /usr/lib -path '*kamailio/modules/tls.so' 2>/dev/null | head -1)" ] || {
	echo "1..0 # SKIP kamailio with its TLS module (kamailio-tls-modules) is not installed"
	exit 0
}
KAM_SIP=$((BASE + 20)) # Kamailio's UDP port (its OPTIONS check)

# One certificate, and one Kamailio TLS port, per case.
CASES="ipsan dnssan cnonly urisan sancn ipcn wrong untrusted expired"
port_of() { # CASE: its Kamailio TLS port
	local i=0 c
	for c in $CASES; do
		[ "$c" = "$1" ] && { echo $((BASE + 21 + i)); return; }
		i=$((i + 1))
	done
}
mkdir -p "$WORK/other" &&
	pki_ca "$WORK" && pki_ca "$WORK/other" &&
	pki_cert "$WORK" px "IP:127.0.0.1" 127.0.0.1 &&
	pki_cert "$WORK" ipsan "IP:127.0.0.1" "ip.test" &&
	pki_cert "$WORK" dnssan "DNS:dns.test" "other.test" &&
	pki_cert "$WORK" cnonly "" "cn.test" &&
	pki_cert "$WORK" urisan "URI:sip:uri.test" "other.test" &&
	pki_cert "$WORK" sancn "DNS:other.test" "sancn.test" &&
	pki_cert "$WORK" ipcn "" "127.0.0.1" &&
	pki_cert "$WORK" wrong "DNS:wrong.example,IP:127.0.0.2" "wrong.example" &&
	pki_cert "$WORK/other" untrusted "IP:127.0.0.1" "127.0.0.1" &&
	cp "$WORK/other/untrusted.pem" "$WORK/other/untrusted.key" "$WORK/" &&
	PKI_FAKETIME="-3d" pki_cert "$WORK" expired "IP:127.0.0.1" "127.0.0.1" 1
ok $? "test PKI made with openssl (a second CA, an expired certificate)"

# What each case is, what the proxy is told, what OpenSSL's CLI checks.
# CASE   DOMAIN        NEXT-HOP HOST   s_client CHECK              VERDICT
cat > "$WORK/cases" <<EOF
ipsan     ipsan.test     127.0.0.1                           -verify_ip=127.0.0.1         accept
dnssan    dnssan.test    dns.test;maddr=127.0.0.1            -verify_hostname=dns.test    accept
cnonly    cnonly.test    cn.test;maddr=127.0.0.1             -verify_hostname=cn.test     accept
urisan    urisan.test    uri.test;maddr=127.0.0.1            -                            accept
sancn     sancn.test     sancn.test;maddr=127.0.0.1          -verify_hostname=sancn.test  refuse
ipcn      ipcn.test      127.0.0.1                           -verify_ip=127.0.0.1         refuse
wrong     wrong.test     127.0.0.1                           -verify_ip=127.0.0.1         refuse
untrusted untrusted.test 127.0.0.1                           -verify_ip=127.0.0.1         refuse
expired   expired.test   127.0.0.1                           -verify_ip=127.0.0.1         refuse
EOF

# Kamailio: UDP on KAM_SIP, one TLS port per case with that case's
# certificate; MESSAGE and INVITE over TLS are answered by Kamailio.
{
	echo "[server:default]"
	echo "method = TLSv1.2+"
	echo "certificate = $WORK/ipsan.pem"
	echo "private_key = $WORK/ipsan.key"
	echo "verify_certificate = no"
	echo "require_certificate = no"
	for c in $CASES; do
		printf '\n[server:127.0.0.1:%s]\nmethod = TLSv1.2+\n' "$(port_of "$c")"
		printf 'certificate = %s\nprivate_key = %s\n' "$WORK/$c.pem" "$WORK/$c.key"
		printf 'verify_certificate = no\nrequire_certificate = no\n'
	done
	echo
	echo "[client:default]"
	echo "verify_certificate = no"
	echo "require_certificate = no"
} > "$WORK/kam-tls.cfg"
{
	cat <<KAMCFG
#!KAMAILIO
debug=2
log_stderror=yes
fork=yes
children=1
tcp_children=2
auto_aliases=no
enable_tls=yes
listen=udp:127.0.0.1:$KAM_SIP
KAMCFG
	for c in $CASES; do echo "listen=tls:127.0.0.1:$(port_of "$c")"; done
	cat <<KAMCFG
rundir="$WORK"
dns=no
rev_dns=no
use_dns_cache=off
loadmodule "tls.so"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "xlog.so"
loadmodule "textops.so"
modparam("tls", "config", "$WORK/kam-tls.cfg")
request_route {
	xlog("L_INFO", "kam: \$rm \$ru over \$proto to port \$Rp\n");
	if (is_method("ACK")) exit;
	if (is_method("INVITE")) {
		sl_send_reply("486", "Busy at Kamailio \$Rp");
		exit;
	}
	sl_send_reply("200", "OK from Kamailio \$Rp");
}
KAMCFG
} > "$WORK/kamailio.cfg"
"$KAMAILIO" -c -f "$WORK/kamailio.cfg" > "$WORK/kamailio-check.log" 2>&1
ok $? "kamailio.cfg passes kamailio -c"
"$KAMAILIO" -DD -E -m 32 -M 4 -P "$WORK/kamailio.pid" -f "$WORK/kamailio.cfg" \
	> "$WORK/kamailio.log" 2>&1 &
KAM_PID=$!
PIDS="$PIDS $KAM_PID"
r=0
for c in $CASES; do wait_listen tcp "$(port_of "$c")" || { r=1; break; }; done
ok $r "Kamailio listens on a TLS port per case"

# OpenSSL's own command line agrees with each verdict.
while read -r c dom hop check verdict; do
	[ "$check" = - ] && continue
	opt=${check%%=*} val=${check#*=}
	timeout 10 openssl s_client -connect 127.0.0.1:"$(port_of "$c")" \
		-CAfile "$WORK/ca.pem" -verify_return_error "$opt" "$val" \
		< /dev/null > "$WORK/sclient-$c.out" 2>&1
	got=$?
	if [ "$verdict" = accept ]; then
		[ "$got" -eq 0 ] && grep -q 'Verify return code: 0 (ok)' "$WORK/sclient-$c.out"
	else
		[ "$got" -ne 0 ] && ! grep -q 'Verify return code: 0 (ok)' "$WORK/sclient-$c.out"
	fi
	ok $? "openssl s_client $opt $val: $verdict the $c certificate"
done < "$WORK/cases"

rules=""
while read -r c dom hop check verdict; do
	case $hop in *";"*) par=";${hop#*;}" ;; *) par="" ;; esac
	rules="$rules{ domain = \"$dom\"; next_hop = \"sips:${hop%%;*}:$(port_of "$c")$par\"; },"
done < "$WORK/cases"
cat > "$WORK/px.conf" <<CONF
log: { level = "debug"; };
sip: {
  listen = ( { transport = "udp"; address = "127.0.0.1"; port = $PX_PORT; },
             { transport = "tls"; address = "127.0.0.1"; port = $PX_TLS_PORT; } );
};
tls: { certificate = "$WORK/px.pem"; key = "$WORK/px.key"; ca_file = "$WORK/ca.pem"; };
routing: { rules = ( ${rules%,} ); };
CONF
start_proxy "$WORK/px.conf" proxy
ok $? "proxy starts (transaction timeout: the default 32 s)"

# send NAME METHOD STATUS DOMAIN: one request through the proxy; sets
# $ELAPSED (ms); returns SIPp's code (0: STATUS came)
send() {
	local t0 t1 rc
	uac_expect "$1" "$2" 70 "$3" "$4"
	t0=$(date +%s%N)
	sipp_run "$1" -sf "$WORK/$1.xml" 127.0.0.1:"$PX_PORT" -i 127.0.0.1 \
		-p "$UAC_PORT" -m 1 -s lee -timeout 45 -timeout_error
	rc=$?
	t1=$(date +%s%N)
	ELAPSED=$(((t1 - t0) / 1000000))
	return $rc
}

while read -r c dom hop check verdict; do
	p=$(port_of "$c")
	case $hop in *";"*) uri="sips:${hop%%;*}:$p;${hop#*;}" ;; *) uri="sips:$hop:$p" ;; esac
	if [ "$verdict" = accept ]; then
		send "$c" MESSAGE 200 "$dom" &&
			grep -q "^SIP/2.0 200 OK from Kamailio $p" "$WORK/$c.msg.log"
		ok $? "$c: MESSAGE over TLS to $uri is answered by Kamailio (200)"
		continue
	fi
	send "$c" MESSAGE 500 "$dom"
	rc=$?
	[ "$rc" -eq 0 ] && [ "$ELAPSED" -lt 5000 ]
	ok $? "$c: the refused hop $uri gets 500 at once (${ELAPSED} ms, SIPp $rc)"
	grep -q "TLS connection to ${hop%%;*}:$p refused: " "$WORK/proxy.log"
	ok $? "$c: the log says why: $(grep -o "TLS connection to ${hop%%;*}:$p refused: .*" \
		"$WORK/proxy.log" | head -1 | cut -c1-160)"
	if grep -q "kam: MESSAGE sip:lee@$dom over tls to port $p" "$WORK/kamailio.log"; then
		r=1
	else r=0; fi
	ok $r "$c: nothing reached Kamailio's port $p"
done < "$WORK/cases"

grep -q "certificate does not name IP address 127.0.0.1 (it names DNS:wrong.example, IP:127.0.0.2, CN:wrong.example)" \
	"$WORK/proxy.log"
ok $? "wrong: the reason lists what the certificate names"
grep -q "TLS connection to 127.0.0.1:$(port_of untrusted) refused: certificate not accepted: unable to get local issuer certificate" \
	"$WORK/proxy.log"
ok $? "untrusted: the reason is OpenSSL's verify error"
grep -q "TLS connection to 127.0.0.1:$(port_of expired) refused: certificate not accepted: certificate has expired" \
	"$WORK/proxy.log"
ok $? "expired: the reason is OpenSSL's verify error"

send inv_wrong INVITE 500 wrong.test
rc=$?
[ "$rc" -eq 0 ] && [ "$ELAPSED" -lt 5000 ]
ok $? "an INVITE to the wrongly named hop gets 500 at once too (${ELAPSED} ms)"
send inv_ok INVITE 486 ipsan.test
ok $? "an INVITE to the hop certified by IP SAN gets Kamailio's 486"

# The accepted connections stay in use: a second MESSAGE reuses one.
n0=$(grep -c "kam: MESSAGE sip:lee@dnssan.test" "$WORK/kamailio.log")
send dnssan2 MESSAGE 200 dnssan.test
ok $? "a second MESSAGE to dns.test is answered 200"
[ "$(grep -c "kam: MESSAGE sip:lee@dnssan.test" "$WORK/kamailio.log")" -eq $((n0 + 1)) ]
ok $? "Kamailio saw it once"

kill -0 "$PX_PID"
ok $? "proxy still running"
kill "$PX_PID"
wait "$PX_PID"
ok $? "proxy exits cleanly"

# With tls.verify_client Sofia verifies the chain during the handshake
# (one OpenSSL context for both sides), which then fails in SSL_connect:
# the same 500 at once, the same reasons.
sed 's|^tls: { |tls: { verify_client = true; |' "$WORK/px.conf" > "$WORK/px2.conf"
start_proxy "$WORK/px2.conf" proxy2
ok $? "proxy starts with tls.verify_client = true"
send vc_untrusted MESSAGE 500 untrusted.test
rc=$?
[ "$rc" -eq 0 ] && [ "$ELAPSED" -lt 5000 ] &&
	grep -q "TLS connection to 127.0.0.1:$(port_of untrusted) refused: certificate not accepted: unable to get local issuer certificate" 		"$WORK/proxy2.log"
ok $? "untrusted: refused in the handshake, 500 at once (${ELAPSED} ms), reason logged"
send vc_wrong MESSAGE 500 wrong.test
rc=$?
[ "$rc" -eq 0 ] && [ "$ELAPSED" -lt 5000 ] &&
	grep -q "TLS connection to 127.0.0.1:$(port_of wrong) refused: certificate does not name" "$WORK/proxy2.log"
ok $? "wrong: refused for its name, 500 at once (${ELAPSED} ms), reason logged"
send vc_ipsan MESSAGE 200 ipsan.test
ok $? "ipsan: still accepted"
kill "$PX_PID"
wait "$PX_PID"
ok $? "proxy exits cleanly"

# tls.verify_server = false: no check of chain or name.
sed 's|^tls: { |tls: { verify_server = false; |' "$WORK/px.conf" > "$WORK/px3.conf"
start_proxy "$WORK/px3.conf" proxy3
ok $? "proxy starts with tls.verify_server = false"
send nv_wrong MESSAGE 200 wrong.test
ok $? "wrong: accepted without the check (200)"
send nv_untrusted MESSAGE 200 untrusted.test
ok $? "untrusted: accepted without the check (200)"
kill "$PX_PID"
wait "$PX_PID"
ok $? "proxy exits cleanly"
t_done
