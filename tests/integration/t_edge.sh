#!/bin/bash
# The edge proxy (RFC 5626 / RFC 3327) in front of a real registrar,
# Kamailio 5.6: phones register through e2mproxyd over TCP and UDP (our
# Path with a flow token), calls and MESSAGEs for them come back from
# Kamailio and reach them over the very connection or UDP address they
# registered from; a closed connection gives 430 at once, a forged token
# 403; Flow-Timer; the RFC 3327 421/420 cases; direction-aware policy;
# flow limits.
. "$TOP_SRCDIR/tests/integration/lib.sh"
t_init edge 21800
. "$TOP_SRCDIR/tests/integration/kamailio.sh"
KAM_PORT=$((BASE + 2))
PX2_PORT=$((BASE + 3))
PHONE="$TOP_SRCDIR/tests/integration/phone.py"

. "$TOP_SRCDIR/tests/integration/pki.sh"
K=$WORK/pki
mkdir -p "$K"
pki_ca "$K" && pki_cert "$K" proxy "DNS:proxy.test" proxy.test &&
	pki_cert "$K" tls "" 127.0.0.1 ||
	{ ok 1 "test PKI"; t_done; }
head -c 32 /dev/urandom > "$WORK/flow.key"
chmod 600 "$WORK/flow.key"

# edge_conf FILE PORT PATH-MODE [EDGE-EXTRA [tls]]: metrics on PORT + 4;
# tls: a TLS listener on PORT + 1 too; $SIP_EXTRA goes into sip { }
edge_conf() {
	local tlsl="" tlsg=""
	if [ "${5:-}" = tls ]; then
		tlsl=", { transport = \"tls\"; address = \"127.0.0.1\"; port = $(($2 + 1)); }"
		tlsg="tls: { certificate = \"$K/tls.pem\"; key = \"$K/tls.key\"; ca_file = \"$K/ca.pem\"; };"
	fi
	cat > "$1" <<CONF
metrics: { enabled = true; port = $(($2 + 4)); };
log: { level = "debug"; };
sip: {
  listen = ( { transport = "udp"; address = "127.0.0.1"; port = $2; },
             { transport = "tcp"; address = "127.0.0.1"; port = $2; } $tlsl );
  ${SIP_EXTRA:-}
};
$tlsg
routing: {
  rules = ( { domain = "example.com"; next_hop = "sip:127.0.0.1:$KAM_PORT"; } );
};
edge: { path = "$3"; flow_key = "$WORK/flow.key"; ${4:-} };
inspect: {
  keys = ( { certificate = "$K/proxy.pem"; key = "$K/proxy.key"; } );
  trust_anchors = [ "$K/ca.pem" ];
};
challenge: { signing_certificate = "$K/proxy.pem"; signing_key = "$K/proxy.key"; };
archive: { enabled = true; path = "$1.im.jsonl"; };
policy: {
  rules = (
    { methods = [ "MESSAGE" ]; from_users = [ "arch" ];
      required_types = [ "text/plain" ]; },
    { methods = [ "MESSAGE" ]; directions = [ "to_phones" ];
      required_types = [ "text/plain" ]; },
    { methods = [ "MESSAGE" ]; directions = [ "from_phones" ];
      required_types = [ "application/sdp" ]; }
  );
};
CONF
}

# phone NAME PROTO PORT USER [OPTIONS]: phone.py in the background, its
# events in $WORK/NAME.ev; waits for its REGISTER's final response
phone() {
	local name=$1 i
	shift
	python3 "$PHONE" "$@" > "$WORK/$name.ev" 2>"$WORK/$name.err.log" &
	eval "${name}_PID=$!"
	PIDS="$PIDS $!"
	for i in $(seq 1 300); do
		grep -q '^REGISTERED' "$WORK/$name.ev" && return 0
		sleep 0.05
	done
	return 1
}

# wait_ev NAME REGEX: the phone reported a line matching REGEX (10 s)
wait_ev() {
	local i
	for i in $(seq 1 200); do
		grep -Eq "$2" "$WORK/$1.ev" && return 0
		sleep 0.05
	done
	echo "# $1 did not report /$2/:"
	sed 's/^/#   /' "$WORK/$1.ev"
	return 1
}

# message NAME USER TYPE [ROUTE [URI]]: a MESSAGE for USER@example.com
# (or URI) sent to the proxy over UDP from a caller that is no phone;
# prints the status
message() {
	local r=$RANDOM$RANDOM body="hello $1" uri=${5:-sip:$2@example.com}
	{
		printf 'MESSAGE %s SIP/2.0\r\n' "$uri"
		printf 'Via: SIP/2.0/UDP 127.0.0.1:%s;rport;branch=z9hG4bK-%s-%s\r\n' "$UAC_PORT" "$1" "$r"
		printf 'From: <sip:%s@example.net>;tag=a%s\r\nTo: <sip:%s@example.com>\r\n' "${MSG_FROM:-alice}" "$r" "$2"
		printf 'Call-ID: %s-%s@caller\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\n' "$1" "$r"
		[ -n "${4:-}" ] && printf 'Route: %s\r\n' "$4"
		printf 'Content-Type: %s\r\nContent-Length: %s\r\n\r\n%s' "$3" "${#body}" "$body"
	} > "$WORK/$1.sip"
	sip_raw udp "$PX_PORT" "$WORK/$1.sip" | awk '{ print $2 }'
}

edge_conf "$WORK/px.conf" "$PX_PORT" outbound "" tls

# --- the key: -c refuses what a start would ------------------------------
printf 'short\n' > "$WORK/short.key"
chmod 600 "$WORK/short.key"
edge_conf "$WORK/short.conf" "$PX_PORT" outbound
sed -i "s|$WORK/flow.key|$WORK/short.key|" "$WORK/short.conf"
"$E2MPROXYD" -c -f "$WORK/short.conf" > "$WORK/short.out" 2>&1
[ $? -ne 0 ] && grep -q 'edge.flow_key: .*5 bytes; a flow token key needs at least 16' "$WORK/short.out"
ok $? "-c refuses a flow key of 5 bytes, saying why"
chmod 644 "$WORK/flow.key"
"$E2MPROXYD" -c -f "$WORK/px.conf" > "$WORK/open.out" 2>&1
[ $? -ne 0 ] && grep -q 'edge.flow_key' "$WORK/open.out"
ok $? "-c refuses a flow key others can read"
chmod 600 "$WORK/flow.key"
sed 's|flow_key = "[^"]*";||' "$WORK/short.conf" > "$WORK/nokey.conf"
"$E2MPROXYD" -c -f "$WORK/nokey.conf" > "$WORK/nokey.out" 2>&1
[ $? -ne 0 ] && grep -q 'edge.path: needs edge.flow_key' "$WORK/nokey.out"
ok $? "-c refuses an edge path without a key"

kam_start "$KAM_PORT" || { ok 1 "kamailio starts"; t_done; }
start_proxy "$WORK/px.conf" proxy || { ok 1 "proxy starts"; t_done; }

# --- registration over TCP with outbound ---------------------------------
phone bob tcp "$PX_PORT" bob --outbound --ping
grep -Eq '^REGISTERED 200 flow_timer=120 ' "$WORK/bob.ev"
ok $? "TCP outbound REGISTER through the edge: 200 with Flow-Timer: 120"
wait_ev bob '^PONG$'
ok $? "bob's CRLF keep-alive on his flow gets its CRLF pong"
grep -Eq 'path=<sip:[A-Za-z0-9_-]{55}@127\.0\.0\.1:'"$PX_PORT"';lr;ob>' "$WORK/bob.ev"
ok $? "the registrar echoes our Path: a 55-character flow token, lr, ob"
kam_wait_contact bob "sip:[A-Za-z0-9_-]{55}@127\.0\.0\.1:$PX_PORT;lr;ob"
ok $? "kamcmd ul.dump shows bob's contact with our Path"

# --- MESSAGE and a call to bob, through Kamailio and back over the flow ---
st=$(message m1 bob text/plain)
[ "$st" = 200 ] && wait_ev bob '^REQ MESSAGE sip:bob@127\.0\.0\.1:[0-9]+;transport=tcp;ob route=- '
ok $? "a MESSAGE for bob@example.com reaches bob over his connection ($st)"
uac() { sipp_run "$1" -sf "$SCEN/uac_aor_call.xml" -s "$2" -i 127.0.0.1 \
	-p "$UAC_PORT" -m 1 -l 1 -timeout 20 -t u1 "127.0.0.1:$PX_PORT"; }
uac call1 bob
rc=$?
wait_ev bob '^REQ BYE ' && grep -q '^REQ ACK ' "$WORK/bob.ev"
ok $(( rc + $? )) "a call to bob@example.com completes: INVITE, ACK and BYE reach him over the flow"

# --- a MESSAGE passes twice (us, registrar, us): archived once ----------
st=$(MSG_FROM=arch message m1a bob text/plain)
cid=$(grep -o 'm1a-[0-9]*@caller' "$WORK/m1a.sip" | head -n 1)
n=0
for i in $(seq 1 100); do
	n=$(grep -c "\"call_id\":\"$cid\"" "$WORK/px.conf.im.jsonl" 2>/dev/null)
	[ "${n:-0}" -ge 2 ] && break
	sleep 0.05
done
[ "$st" = 200 ] && [ "$(grep "\"call_id\":\"$cid\"" "$WORK/px.conf.im.jsonl" | grep -c '"kind":"message"')" = 1 ] &&
	[ "$(grep "\"call_id\":\"$cid\"" "$WORK/px.conf.im.jsonl" | grep -c '"kind":"final"')" = 1 ]
ok $? "a MESSAGE that spirals through the edge twice is archived once, with one final record ($st)"
grep -q 'MESSAGE already archived: its first pass' "$WORK/proxy.log"
ok $? "... the second pass says why"

# --- UDP outbound phone ---------------------------------------------------
phone carol udp "$PX_PORT" carol --outbound
grep -Eq '^REGISTERED 200 flow_timer=29 ' "$WORK/carol.ev"
ok $? "UDP outbound REGISTER: 200 with Flow-Timer: 29"
st=$(message m2 carol text/plain)
[ "$st" = 200 ] && wait_ev carol "^REQ MESSAGE .* via=127\.0\.0\.1:$PX_PORT cid=m2-"
ok $? "a MESSAGE for carol reaches her UDP address from the edge proxy ($st)"

# --- TLS outbound phone --------------------------------------------------
phone tina tls "$PX_TLS_PORT" tina --outbound --ping
grep -Eq '^REGISTERED 200 flow_timer=120 ' "$WORK/tina.ev"
ok $? "TLS outbound REGISTER: 200 with Flow-Timer: 120"
wait_ev tina '^PONG$'
ok $? "tina's CRLF keep-alive over TLS gets its pong"
st=$(message m2t tina text/plain)
[ "$st" = 200 ] && wait_ev tina '^REQ MESSAGE sip:tina@127\.0\.0\.1:[0-9]+;transport=tls;ob '
ok $? "a MESSAGE for tina reaches her over her TLS connection ($st)"

# --- the incoming leg is inspected: a 496 goes back to the caller --------
pki_cert "$K" bob "DNS:bob.test" bob.test
printf 'Content-Type: text/plain\r\n\r\nfor bob only' > "$WORK/plain.mime"
openssl cms -encrypt -binary -outform DER -in "$WORK/plain.mime" \
	-out "$WORK/env.der" "$K/bob.pem" 2>/dev/null
r=$RANDOM$RANDOM
{
	printf 'MESSAGE sip:bob@example.com SIP/2.0\r\n'
	printf 'Via: SIP/2.0/UDP 127.0.0.1:%s;rport;branch=z9hG4bK-m496-%s\r\n' "$UAC_PORT" "$r"
	printf 'From: <sip:alice@example.net>;tag=a%s\r\nTo: <sip:bob@example.com>\r\n' "$r"
	printf 'Call-ID: m496-%s@caller\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\n' "$r"
	printf 'Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\n'
	printf 'Content-Length: %s\r\n\r\n' "$(stat -c %s "$WORK/env.der")"
	cat "$WORK/env.der"
} > "$WORK/m496.sip"
st=$(sip_raw udp "$PX_PORT" "$WORK/m496.sip" | awk '{ print $2 }')
[ "$st" = 496 ] && grep -q "MESSAGE policy: rule at line $(grep -n to_phones "$WORK/px.conf" | cut -d: -f1) -> 496" "$WORK/proxy.log"
ok $? "a MESSAGE for a phone encrypted to the phone only: the to_phones rule's signed 496 reaches the caller through Kamailio ($st)"
grep -q "cid=m1-" "$WORK/bob.ev" && ! grep -q "cid=m496-$r" "$WORK/bob.ev"
ok $? "... and nothing reached the phone"

# --- policy by direction --------------------------------------------------
st=$(message m3 bob application/octet-stream)
[ "$st" = 403 ]
ok $? "to_phones rule: a MESSAGE for a phone without the text/plain it requires is refused ($st)"
line=$(grep -n to_phones "$WORK/px.conf" | cut -d: -f1)
grep -q "MESSAGE policy: rule at line $line -> 403" "$WORK/proxy.log"
ok $? "... by the to_phones rule (logged)"
sipp_bg uas -sf "$SCEN/uas_message_any.xml" -i 127.0.0.1 -p "$UAS_PORT" -m 2
wait_listen udp "$UAS_PORT"
uri="sip:x@127.0.0.1:$UAS_PORT"
message m3b x application/octet-stream "" "$uri" > "$WORK/m3b.st"
[ "$(cat "$WORK/m3b.st")" = 200 ]
ok $? "the same MESSAGE to a destination that is no phone is forwarded (direction other)"
phone ivan udp "$PX_PORT" ivan --outbound --send "$uri"
wait_ev ivan '^SENT 403$'
ok $? "from_phones rule: a phone's own MESSAGE without the SDP it requires is refused"
message m3c x text/plain "" "$uri" > "$WORK/m3c.st"
[ "$(cat "$WORK/m3c.st")" = 200 ]
ok $? "... while the same MESSAGE from a caller that is no phone goes through"

# --- a phone moves to a new flow: its old one goes ------------------------
metric_now() { curl -s "http://127.0.0.1:$((PX_PORT + 4))/metrics" |
	awk -v m="$1" '$1 == m { print $2 }'; }
inst="urn:uuid:00000000-0000-4000-8000-0000000000e1"
phone uma1 udp "$PX_PORT" uma --outbound --instance "$inst" --register-only
f1=$(metric_now e2mproxy_edge_flows)
e1=$(metric_now e2mproxy_edge_flows_ended_total)
phone uma2 udp "$PX_PORT" uma --outbound --instance "$inst" --register-only
f2=$(metric_now e2mproxy_edge_flows)
e2=$(metric_now e2mproxy_edge_flows_ended_total)
grep -q '^REGISTERED 200 ' "$WORK/uma2.ev" && [ "$f2" = "$f1" ] && [ "$e2" = $((e1 + 1)) ]
ok $? "the same instance and reg-id registered over a new flow: the old flow ends (flows $f1 -> $f2, ended $e1 -> $e2)"

# --- forged tokens --------------------------------------------------------
tok=$(grep -Eo 'sip:[A-Za-z0-9_-]{55}@' "$WORK/bob.ev" | head -n 1 | cut -c5-59)
bad=$(printf '%s' "$tok" | sed 's/^./A/; t; s/^./B/')
[ "${bad:0:1}" = "${tok:0:1}" ] && bad="B${tok:1}"
st=$(message m4 bob text/plain "<sip:$bad@127.0.0.1:$PX_PORT;lr>")
[ "$st" = 403 ]
ok $? "a flow token changed in one character is refused with 403 ($st)"
st=$(message m5 bob text/plain "<sip:forged@127.0.0.1:$PX_PORT;lr>")
[ "$st" = 403 ] && grep -q 'forged or damaged flow token' "$WORK/proxy.log"
ok $? "a made-up token is refused with 403 and logged ($st)"

# --- flow failure: bob's connection closes --------------------------------
kill -USR1 "$bob_PID"
wait_ev bob '^CLOSED'
t0=$(date +%s%N)
st=$(message m6 bob text/plain)
t1=$(date +%s%N)
[ "$st" = 430 ] && [ $(( (t1 - t0) / 1000000 )) -lt 3000 ]
ok $? "bob's connection closed: the next MESSAGE gets 430 Flow Failed at once ($st, $(( (t1 - t0) / 1000000 )) ms)"
grep -q 'is gone, answered 430' "$WORK/proxy.log"
ok $? "... and the proxy logs why"

# --- RFC 3327: 421 and 420 ------------------------------------------------
phone dave tcp "$PX_PORT" dave --outbound --no-path --register-only
grep -q '^REGISTERED 421 ' "$WORK/dave.ev"
ok $? "outbound without Supported: path gets 421 (Require: path)"

SIP_EXTRA="idle_timeout = 5;" edge_conf "$WORK/px2.conf" "$PX2_PORT" always "max_flows_per_source = 3;"
PX_PORT_SAVED=$PX_PORT
PX_PORT=$PX2_PORT
start_proxy "$WORK/px2.conf" proxy2 || { ok 1 "second proxy starts"; t_done; }
phone erin udp "$PX2_PORT" erin --no-path --register-only
grep -q '^REGISTERED 420 ' "$WORK/erin.ev"
ok $? "path = always, a phone without Supported: path: Require: path, and the strict registrar's 420 comes back"
phone fred udp "$PX2_PORT" fred
grep -Eq '^REGISTERED 200 flow_timer=- ' "$WORK/fred.ev"
ok $? "path = always: a phone without outbound registers through our Path (no Flow-Timer)"
kam_wait_contact fred "sip:[A-Za-z0-9_-]{55}@127\.0\.0\.1:$PX2_PORT;lr>"
ok $? "... its binding carries our Path (no ob)"
st=$(message m7 fred text/plain)
[ "$st" = 200 ] && wait_ev fred '^REQ MESSAGE '
ok $? "a MESSAGE reaches that phone through the Path ($st)"

# --- idle connections close; a registered phone's stays open -------------
phone kim tcp "$PX2_PORT" kim
grep -q '^REGISTERED 200 ' "$WORK/kim.ev"
ok $? "a TCP phone registers through the proxy whose sip.idle_timeout is 5 s"
python3 - "$PX2_PORT" > "$WORK/idle.out" <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK-idle\r\n"
          b"From: <sip:t@127.0.0.1>;tag=i\r\nTo: <sip:127.0.0.1>\r\nCall-ID: idle@t\r\n"
          b"CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
t0 = time.monotonic()
s.settimeout(30)
try:
    while s.recv(4096):
        pass
    print("closed after %.0f s" % (time.monotonic() - t0))
except socket.timeout:
    print("still open after 30 s")
PY
IDLE_PID=$!
PIDS="$PIDS $IDLE_PID"
wait_pid "$IDLE_PID" 40
grep -Eq '^closed after ([5-9]|1[0-9]) s$' "$WORK/idle.out"
ok $? "an unregistered TCP connection left idle is closed ($(cat "$WORK/idle.out"))"
st=$(message mk kim text/plain)
[ "$st" = 200 ] && wait_ev kim '^REQ MESSAGE .* cid=mk-' && ! grep -q '^CLOSED' "$WORK/kim.ev"
ok $? "... while the registered phone's connection, as idle, stays open and reaches it ($st)"

# --- flow limits ----------------------------------------------------------
phone gina udp "$PX2_PORT" gina --register-only
phone hank udp "$PX2_PORT" hank --register-only
grep -q '^REGISTERED 200 ' "$WORK/gina.ev" && grep -q '^REGISTERED 503 ' "$WORK/hank.ev"
ok $? "edge.max_flows_per_source = 3: the fourth flow from one address gets 503"
grep -q 'max_flows_per_source reached' "$WORK/proxy2.log"
ok $? "... logged"

# --- metrics --------------------------------------------------------------
metric() { awk -v m="$2" '$1 == m { print $2 }' "$WORK/$1.prom"; }
curl -s "http://127.0.0.1:$((PX2_PORT + 4))/metrics" > "$WORK/px2.prom"
PX_PORT=$PX_PORT_SAVED
curl -s "http://127.0.0.1:$((PX_PORT + 4))/metrics" > "$WORK/px.prom"
promtool check metrics < "$WORK/px.prom" > "$WORK/promtool.log" 2>&1
ok $? "promtool check metrics accepts the edge families"
[ "$(metric px 'e2mproxy_edge_refused_total{reason="flow_failed"}')" = 1 ] &&
	[ "$(metric px 'e2mproxy_edge_refused_total{reason="forged_token"}')" = 2 ]
ok $? "metrics: one 430, two forged tokens"
r=$(metric px e2mproxy_edge_routed_total)
[ "${r:-0}" -eq 7 ]
ok $? "metrics: requests routed over flows ($r: 4 MESSAGEs to bob, carol and tina, INVITE, ACK, BYE)"
f=$(metric px e2mproxy_edge_flows)
[ "${f:-0}" -ge 2 ]
ok $? "metrics: the registered flows are counted ($f)"
[ "$(metric px2 e2mproxy_edge_flows_refused_total)" = 1 ]
ok $? "metrics: the REGISTER over the per-source limit"

t_done
