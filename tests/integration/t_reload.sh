#!/bin/bash
# Reload (SIGHUP): a bad configuration keeps the running one (every error
# logged with its file and line, the old policy still challenging); a good
# one takes effect for new requests, keys and certificates re-read from
# disk, while a transaction in flight finishes under the state it started
# with; settings only a restart applies are named; certificates near their
# end are logged. Then 100 reloads (good and bad) during a 60 s SIPp call
# run: no call fails and the RSS stays within 5 %.
. "$TOP_SRCDIR/tests/integration/lib.sh"
. "$TOP_SRCDIR/tests/integration/pki.sh"
t_init reload 21700
K=$WORK/pki
mkdir -p "$K" "$WORK/uas"
PXLOG=$WORK/proxy.log
CONF=$WORK/px.conf

ASAN=0
if under_leak_checker; then
	ASAN=1
fi

pki_ca "$K" &&
	pki_cert "$K" px1 "DNS:proxy.test" proxy.test &&
	pki_cert "$K" px2 "DNS:proxy.test" proxy.test &&
	pki_cert "$K" other "DNS:other.test" other.test &&
	pki_cert "$K" sign "DNS:proxy.test" proxy.test 20 &&
	cp "$K/px1.pem" "$K/px.pem" && cp "$K/px1.key" "$K/px.key"
ok $? "test PKI made with openssl (the challenge key's certificate ends in 20 days)"

# conf FILE RULES [EXTRA]: the proxy with policy rules RULES (inside
# rules = ( )), decryption key pki/px.{pem,key}, EXTRA at the top level.
# Rules' lines end in "# R_name": rule_line finds them.
conf() {
	cat > "$1" <<CONF
log: { level = "debug"; };
sip: {
  listen = ( { transport = "udp"; address = "127.0.0.1"; port = $PX_PORT; },
             { transport = "tcp"; address = "127.0.0.1"; port = $PX_PORT; } );
  own_names = [ "proxy.test" ];
};
inspect: {
  keys = ( { certificate = "$K/px.pem"; key = "$K/px.key"; } );
  trust_anchors = [ "$K/ca.pem" ];
  workers = 1;
};
challenge: {
  signing_certificate = "$K/sign.pem"; signing_key = "$K/sign.key";
  rate = 0;
};
policy: {
  rules = (
$2
  );
};
${3:-}
CONF
}
rule_line() { grep -n "# $2\$" "$1" | cut -d: -f1; }

R_IM='    { methods = [ "MESSAGE" ]; from_domains = [ "example.com" ]; # R_im
      required_types = [ "text/plain" ]; }'
R_NONE='    { methods = [ "MESSAGE" ]; from_domains = [ "nowhere.test" ]; # R_none
      required_types = [ "text/plain" ]; }'
R_SDP='    { methods = [ "INVITE" ]; from_users = [ "held" ]; # R_sdp
      required_types = [ "application/sdp" ]; on_missing_prmb = "forward";
      on_undecipherable_in_dialog = "log"; }'


# reload_and_wait WHAT: SIGHUP, then wait for the reload's last log line;
# prints "applied" or "not applied"
RELOADS=0
reload_and_wait() {
	local before i
	before=$(grep -c 'reload: .* applied' "$PXLOG")
	kill -HUP "$PX_PID"
	for i in $(seq 1 600); do
		[ "$(grep -c 'reload: .* applied' "$PXLOG")" -gt "$before" ] && break
		sleep 0.05
	done
	if grep 'reload: .* applied' "$PXLOG" | tail -n 1 | grep -q 'not applied'; then
		echo "not applied"
	else
		echo "applied"
	fi
}

printf 'Content-Type: text/plain\r\n\r\nhello\r\n' > "$WORK/mime"
printf 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n' > "$WORK/sdp"
P7M='application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m'
LABEL='Content-ID: <m1@example.com>\r\nProxy-Inspect-Body: proxy.test;cid="m1@example.com"\r\n'
for k in px1 px2; do
	openssl cms -encrypt -binary -aes-128-cbc -in "$WORK/mime" -outform DER \
		-out "$WORK/to_$k.p7m" "$K/$k.pem" || break
done
ok $? "bodies encrypted to the proxy's first and second key"

conf "$CONF" "$R_IM"
start_proxy "$CONF" proxy
ok $? "proxy starts"
start_uas tcp "$WORK/uas" 1000 200
grep -Eq 'certificate challenge.signing_certificate expires in (19|20) days: .*/sign.pem \(/CN=proxy.test, not after ' "$PXLOG"
ok $? "the start warns of the challenge certificate ending within 30 days"

tcp_req enc1 MESSAGE alice@example.com "$P7M" "$WORK/to_px1.p7m" "$LABEL"
tcp_req enc2 MESSAGE alice@example.com "$P7M" "$WORK/to_px2.p7m" "$LABEL"
[ "$(tcp_status enc2)" = 496 ]
ok $? "policy R_im: a MESSAGE whose text the proxy cannot open is challenged (496)"

# Bad reloads: each keeps the running state, and says why.
cp "$CONF" "$WORK/good.conf"
conf "$CONF" "$R_NONE" 'bogus_group: { x = 1; };
sip_typo = 3;'
sed -i 's/workers = 1;/workers = 1; max_depth = 999;/' "$CONF"
[ "$(reload_and_wait)" = "not applied" ]
ok $? "a reload with three errors is not applied"
for e in "$CONF:[0-9]*: .*max_depth" "$CONF:[0-9]*: .*bogus_group" "$CONF:[0-9]*: .*sip_typo"; do
	grep -q "reload: $e" "$PXLOG"
	ok $? "the log names the error at ${e#"$CONF"}"
done
[ "$(tcp_status enc2)" = 496 ]
ok $? "the old policy still challenges after the bad reload"

conf "$CONF" "$R_NONE"
sed -i "s|$K/px.key|$K/other.key|" "$CONF"
[ "$(reload_and_wait)" = "not applied" ] &&
	grep -q "reload: $CONF:[0-9]*: .*other.key" "$PXLOG"
ok $? "a decryption key that does not match its certificate is refused at its line"
conf "$CONF" "$R_NONE"
mv "$K/sign.key" "$K/sign.key.away"
[ "$(reload_and_wait)" = "not applied" ]
r=$?
mv "$K/sign.key.away" "$K/sign.key"
ok $r "a missing challenge key is refused"
[ "$(tcp_status enc2)" = 496 ]
ok $? "the old policy still challenges after three bad reloads"
kill -0 "$PX_PID" && grep -q 'generation 1)' "$PXLOG" && ! grep -q 'generation 2' "$PXLOG"
ok $? "the daemon runs on, generation 1"

# A good reload: new requests see the new policy.
conf "$CONF" "$R_NONE"
[ "$(reload_and_wait)" = "applied" ] && grep -q 'reload: .* applied (generation 2)' "$PXLOG"
ok $? "a valid configuration is applied (generation 2)"
[ "$(tcp_status enc2)" = 200 ]
ok $? "the MESSAGE R_im challenged now reaches the UAS (200)"

# Keys re-read from disk: the operator replaces the key pair in place.
conf "$CONF" "$R_IM"
[ "$(reload_and_wait)" = "applied" ] && [ "$(tcp_status enc1)" = 200 ] &&
	[ "$(tcp_status enc2)" = 496 ]
ok $? "with key 1 installed, a body for key 1 opens (200), one for key 2 does not (496)"
cp "$K/px2.pem" "$K/px.pem" && cp "$K/px2.key" "$K/px.key"
[ "$(reload_and_wait)" = "applied" ] && [ "$(tcp_status enc1)" = 496 ] &&
	[ "$(tcp_status enc2)" = 200 ]
ok $? "key 2 copied over it and reloaded: now key 2 opens and key 1 is challenged"

# Restart-only settings are named and kept.
conf "$CONF" "$R_IM"
sed -i "s/port = $PX_PORT; } );/port = $PX_PORT; },\n             { transport = \"udp\"; address = \"127.0.0.1\"; port = $((PX_PORT + 2)); } );/" "$CONF"
sed -i 's/workers = 1;/workers = 2;/' "$CONF"
[ "$(reload_and_wait)" = "applied" ] &&
	grep -q 'reload: sip.listen changed: it applies at the next restart' "$PXLOG" &&
	grep -q 'reload: inspect.workers changed: it applies at the next restart' "$PXLOG"
ok $? "a new listener and another worker count are logged as needing a restart"
[ -z "$(ss -Hlun "sport = :$((PX_PORT + 2))")" ] && proxy_answers
ok $? "the new port is not bound; the old one serves"
grep -Eq 'reload: certificate challenge.signing_certificate expires in (19|20) days: ' "$PXLOG"
ok $? "the reload warns of the challenge certificate again"

# In flight: an INVITE the UAS holds; the reload moves its rule three
# lines down. Its response is decided under the rule as it was.
kill "$(echo "$PIDS" | awk '{ print $NF }')" 2>/dev/null
mkdir -p "$WORK/uas2"
UAS_HOLD=$WORK/release UAS_SDP=$WORK/sdp start_uas tcp "$WORK/uas2" 10 60
conf "$CONF" "$R_SDP"
[ "$(reload_and_wait)" = "applied" ]
ok $? "policy R_sdp applied"
line1=$(rule_line "$CONF" R_sdp)
tcp_req held1 INVITE held@example.com application/sdp "$WORK/sdp"
python3 "$TOP_SRCDIR/tests/integration/sipraw.py" tcp 127.0.0.1 "$PX_PORT" \
	"$WORK/held1.sip" 60 > "$WORK/held1.resp" &
HELD=$!
for i in $(seq 1 100); do
	[ -f "$WORK/uas2/1.head" ] && break
	sleep 0.05
done
conf "$CONF" "
$R_SDP"
sed -i 's/^\(policy: {\)$/# three lines\n# more\n\1/' "$CONF"
line2=$(rule_line "$CONF" R_sdp)
[ "$(reload_and_wait)" = "applied" ] && [ "$line2" -gt "$line1" ]
ok $? "reloaded with R_sdp moved from line $line1 to $line2 while the INVITE waits"
touch "$WORK/release"
wait "$HELD"
grep -q '^SIP/2.0 200' "$WORK/held1.resp" &&
	grep -q "INVITE 200 policy: rule at line $line1 -> " "$PXLOG"
ok $? "the INVITE in flight got its 200, decided under the old rule (line $line1)"
tcp_req held2 INVITE held@example.com application/sdp "$WORK/sdp"
[ "$(tcp_status held2)" = 200 ] &&
	grep -q "INVITE 200 policy: rule at line $line2 -> " "$PXLOG"
ok $? "a new INVITE is decided under the new rule (line $line2)"

# Under load: calls at 20 per second for at least 60 s, and 100 reloads
# meanwhile, every tenth a bad one; then SIPp stops placing calls
# (SIGUSR1) and exits 0 only when every call it made completed.
kill "$PX_PID"
wait "$PX_PID" 2>/dev/null
PXLOG=$WORK/load.log
conf "$WORK/a.conf" "$R_IM"
conf "$WORK/b.conf" "$R_NONE"
conf "$WORK/bad.conf" "$R_IM"
sed -i 's/workers = 1;/workers = 1; max_depth = 999;/' "$WORK/bad.conf"
cp "$WORK/a.conf" "$CONF"
PROXY_DEBUG=" " start_proxy "$CONF" load
ok $? "proxy restarted for the load run"
sipp_bg uas -sf "$SCEN/uas_call.xml" -i 127.0.0.1 -p "$UAS_PORT" -t u1
wait_listen udp "$UAS_PORT"
sipp_bg uac -sf "$SCEN/uac_call.xml" 127.0.0.1:"$UAS_PORT" -rsa 127.0.0.1:"$PX_PORT" \
	-i 127.0.0.1 -p "$UAC_PORT" -t u1 -m 1000000 -r 20 -s service
UAC=$LAST_PID
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$PX_PID/status"; }
t0=$(date +%s)
sleep 2
bad=0 good=0 series=""
for i in $(seq 1 100); do
	if [ $((i % 10)) -eq 5 ]; then
		cp "$WORK/bad.conf" "$CONF"
		[ "$(reload_and_wait)" = "not applied" ] && bad=$((bad + 1))
	else
		if [ $((i % 2)) -eq 0 ]; then cp "$WORK/a.conf" "$CONF"; else cp "$WORK/b.conf" "$CONF"; fi
		[ "$(reload_and_wait)" = "applied" ] && good=$((good + 1))
	fi
	# The first reloads and calls warm the allocator up.
	[ "$i" -eq 20 ] && r20=$(rss_kb)
	[ $((i % 10)) -eq 0 ] && series="$series $(rss_kb)"
	sleep 0.5
done
r100=$(rss_kb)
secs=$(($(date +%s) - t0))
[ "$secs" -lt 62 ] && sleep $((62 - secs))
kill -0 "$UAC" && kill -USR1 "$UAC"
ok $? "the calls ran through all 100 reloads (${secs} s)"
[ "$good" -eq 90 ] && [ "$bad" -eq 10 ]
ok $? "90 reloads applied and 10 bad ones refused (got $good and $bad)"
wait_pid "$UAC" 60
r=$?
calls=$(awk -F'|' '/Successful call/ { gsub(/ /, "", $3); n = $3 } END { print n + 0 }' "$WORK/uac.out.log")
failed=$(awk -F'|' '/Failed call/ { gsub(/ /, "", $3); n = $3 } END { print n + 0 }' "$WORK/uac.out.log")
if at_valgrind_speed; then
	# a reload at valgrind speed holds the loop for seconds: a few calls
	# time out (7 of 1,738 in the last whole-suite run), by design
	skip "SIPp: $calls calls completed through the reloads, $failed failed (exit $r)" \
		"$VALGRIND_SPEED"
else
	[ "$r" -eq 0 ] && [ "$failed" -eq 0 ] && [ "$calls" -ge 600 ]
	ok $? "SIPp: $calls calls completed through the reloads, $failed failed (exit $r)"
fi
echo "# RSS every 10 reloads (kB):$series"
if [ "$ASAN" -eq 1 ]; then
	skip "RSS within 5 %" "$LEAK_CHECKED"
else
	[ $((r100 * 100)) -le $((r20 * 105)) ] && [ $((r100 * 100)) -ge $((r20 * 95)) ]
	ok $? "RSS within 5 % from the 20th to the 100th reload (${r20} -> ${r100} kB)"
fi
kill -0 "$PX_PID"
ok $? "the proxy is still running"

t_done
