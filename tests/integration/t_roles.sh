#!/bin/bash
# The two deployments, end to end with e2mua at both ends.
# (a) Enterprise edge proxy: policy wants the text of MESSAGEs and the SDP
#     of calls, challenges with a signed 496, archives what it reads and
#     opens pinholes for the media (exec back end: a program writes down
#     what it is told). Alice encrypts to Bob only; she checks the 496,
#     discloses to the proxy and sends again.
# (b) Logging / firewall-traversal middlebox behind another proxy: a first
#     e2mproxyd that does nothing but route sits in front; the middlebox
#     never challenges (its rules name no required type), reads what is
#     disclosed to it, archives and pinholes.
. "$TOP_SRCDIR/tests/integration/lib.sh"
. "$TOP_SRCDIR/tests/integration/pki.sh"
t_init roles 21560
E2MUA=${E2MUA:-$(dirname "$E2MPROXYD")/e2mua}
K=$WORK
pki_ca "$K" && PKI_EKU=serverAuth,clientAuth,emailProtection pki_cert "$K" proxy "DNS:proxy.test" proxy.test &&
	PKI_EKU=serverAuth,clientAuth,emailProtection pki_cert "$K" mbox "DNS:mbox.test" mbox.test &&
	pki_cert "$K" bob "DNS:bob.test" bob.test &&
	PKI_EKU=emailProtection pki_cert "$K" alice "email:alice@example.com" alice
ok $? "test PKI made with openssl"
cat > "$WORK/hook.sh" <<EOF
#!/bin/sh
echo "\$1 \$3 \$5" >> "\$0.log"
EOF
chmod 755 "$WORK/hook.sh"

# proxy_conf FILE PORT NAME RULES: an e2mproxyd with both services on
proxy_conf() {
	cat > "$1" <<CONF
log: { level = "debug"; };
sip: { listen = ( { transport = "tcp"; address = "127.0.0.1"; port = $2; } );
       own_names = [ "$3.test" ]; };
inspect: { keys = ( { certificate = "$K/$3.pem"; key = "$K/$3.key"; } );
           trust_anchors = [ "$K/ca.pem" ]; };
policy: { rules = ( $4 ); };
challenge: { signing_certificate = "$K/$3.pem"; signing_key = "$K/$3.key"; };
archive: { enabled = true; path = "$WORK/$3.jsonl"; };
pinholes: { enabled = true; backend = "exec"; program = "$WORK/hook.sh";
            media_networks = [ "127.0.0.0/8" ]; ports = [ "49170-49180" ]; };
CONF
}

# --- (a) the edge proxy
proxy_conf "$WORK/edge.conf" "$PX_PORT" proxy \
	'{ methods = [ "MESSAGE" ]; required_types = [ "text/plain" ]; },
	 { methods = [ "INVITE", "ACK" ]; required_types = [ "application/sdp" ]; }'
start_proxy "$WORK/edge.conf" edge
ok $? "(a) edge proxy: policy, signed challenges, archive, pinholes"
BOB=$((BASE + 14))
"$E2MUA" -l -b "sip:127.0.0.1:$BOB;transport=tcp" -k "$K/bob.pem:$K/bob.key" \
	-r "$K/ca.pem" -e "$K/alice.pem" -x "proxy.test=$K/proxy.pem" -N 10 -T 30 \
	> "$WORK/bob.out" 2> "$WORK/bob.err" &
BOB_PID=$!
PIDS="$PIDS $BOB_PID"
wait_listen tcp "$BOB"
ok $? "(a) Bob (e2mua -l) listens"
alice() { # NAME PROXY-PORT ARGS...: e2mua as Alice through that proxy to Bob
	local name=$1 port=$2
	shift 2
	"$E2MUA" -t "sip:bob@127.0.0.1:$BOB;transport=tcp" -f sip:alice@example.com \
		-o "sip:127.0.0.1:$port;transport=tcp" -b "sip:127.0.0.1:$UAC_PORT;transport=tcp" \
		-T 10 -e "$K/bob.pem" -k "$K/alice.pem:$K/alice.key" -r "$K/ca.pem" "$@" \
		> "$WORK/$name.json" 2> "$WORK/$name.err"
}
alice message "$PX_PORT" -a proxy.test -m "quarterly figures attached"
grep -q '"status":200,.*"disclosed_to":\["proxy.test"\],"challenges":1' "$WORK/message.json"
ok $? "(a) MESSAGE to Bob only: signed 496, disclosed to the proxy, 200"
grep -q '"text":"quarterly figures attached"' "$WORK/proxy.jsonl" &&
	grep -q '"opened_with":"CN=proxy.test"' "$WORK/proxy.jsonl"
ok $? "(a) archived, opened with the proxy's key"
alice call "$PX_PORT" -a proxy.test -I -H 1
grep -q '"method":"INVITE","status":200,.*"challenges":1,.*"bye":200' "$WORK/call.json"
ok $? "(a) call: 496 answered, 200, BYE"
sort -u "$WORK/hook.sh.log" > "$WORK/edge.holes"
printf '%s\n' 'add 127.0.0.1 49170' 'add 127.0.0.1 49171' 'add 127.0.0.1 49172' \
	'add 127.0.0.1 49173' 'del 127.0.0.1 49170' 'del 127.0.0.1 49171' \
	'del 127.0.0.1 49172' 'del 127.0.0.1 49173' > "$WORK/edge.want"
for i in $(seq 1 100); do
	sort -u "$WORK/hook.sh.log" > "$WORK/edge.holes"
	cmp -s "$WORK/edge.holes" "$WORK/edge.want" && break
	sleep 0.05
done
cmp -s "$WORK/edge.holes" "$WORK/edge.want"
ok $? "(a) pinholes for both sides' media, closed at BYE ($(tr '\n' ',' < "$WORK/edge.holes"))"
kill "$PX_PID" "$BOB_PID"
wait "$PX_PID" "$BOB_PID" 2>/dev/null
rm -f "$WORK/hook.sh.log"

# --- (b) a middlebox behind a routing proxy
MBOX=$((BASE + 2))
proxy_conf "$WORK/mbox.conf" "$MBOX" mbox \
	'{ methods = [ "MESSAGE", "INVITE", "ACK" ]; }'
start_proxy "$WORK/mbox.conf" mbox
ok $? "(b) middlebox: reads what it is shown, never challenges"
FRONT=$((BASE + 3))
cat > "$WORK/front.conf" <<CONF
sip: { listen = ( { transport = "tcp"; address = "127.0.0.1"; port = $FRONT; } ); };
routing: { default_next_hop = "sip:127.0.0.1:$MBOX;transport=tcp"; };
CONF
start_proxy "$WORK/front.conf" front
ok $? "(b) a routing proxy in front of it"
"$E2MUA" -l -b "sip:127.0.0.1:$BOB;transport=tcp" -k "$K/bob.pem:$K/bob.key" \
	-r "$K/ca.pem" -e "$K/alice.pem" -x "mbox.test=$K/mbox.pem" -N 10 -T 30 \
	> "$WORK/bob2.out" 2> "$WORK/bob2.err" &
PIDS="$PIDS $!"
wait_listen tcp "$BOB"
alice logged "$FRONT" -x "mbox.test=$K/mbox.pem" -m "logged through two proxies"
grep -q '"status":200,.*"challenges":0' "$WORK/logged.json"
ok $? "(b) MESSAGE disclosed to the middlebox: 200 through both proxies"
grep -q '"text":"logged through two proxies"' "$WORK/mbox.jsonl"
ok $? "(b) the middlebox archived it"
alice secret "$FRONT" -m "for Bob only"
grep -q '"status":200,.*"challenges":0' "$WORK/secret.json" &&
	! grep -q 'for Bob only' "$WORK/mbox.jsonl"
ok $? "(b) one for Bob only: delivered, not challenged, not archived"
alice call2 "$FRONT" -x "mbox.test=$K/mbox.pem" -I -H 1
grep -q '"method":"INVITE","status":200,.*"bye":200' "$WORK/call2.json"
ok $? "(b) call through both proxies"
for i in $(seq 1 100); do
	sort -u "$WORK/hook.sh.log" > "$WORK/mbox.holes" 2>/dev/null
	cmp -s "$WORK/mbox.holes" "$WORK/edge.want" && break
	sleep 0.05
done
cmp -s "$WORK/mbox.holes" "$WORK/edge.want"
ok $? "(b) the middlebox opened and closed both sides' pinholes"
t_done
