#!/bin/bash
# Crypto off the event thread, with a bounded queue: a burst of labelled
# requests larger than the queue gets 503 with Retry-After for the excess
# (never queued without limit), the rest are inspected and forwarded, and
# a plain request is answered at once meanwhile. The same for labelled
# INVITEs (e2m calls), back to back, while plain calls (SIPp, UDP) go
# through the same proxy: every plain call completes.
. "$TOP_SRCDIR/tests/integration/lib.sh"
. "$TOP_SRCDIR/tests/integration/pki.sh"
t_init inspect_busy 21280
K=$WORK
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$K/proxy.key" -out "$K/proxy.pem" \
	-days 2 -subj /CN=proxy.test 2>/dev/null && chmod 600 "$K/proxy.key"
ok $? "an RSA proxy key"
cat > "$WORK/px.conf" <<CONF
log: { level = "info"; };
sip: {
  listen = ( { transport = "tcp"; address = "127.0.0.1"; port = $PX_PORT; },
             { transport = "udp"; address = "127.0.0.1"; port = $PX_PORT; } );
  own_names = [ "proxy.test" ];
};
inspect: {
  keys = ( { certificate = "$K/proxy.pem"; key = "$K/proxy.key"; } );
  workers = 1;
  queue = 4;
  retry_after = 7;
};
# Inspect everything labelled, refuse nothing: the decrypt stage on its own.
policy: { rules = ( { reject_on_labelled_failure = false; open_unlabelled = false;
                      on_bad_signature = "forward-and-log"; } ); };
challenge: { mode = "legacy-unsigned"; };
# Overload control off: this test is about the crypto queue. Under ASan on
# a loaded machine the loop working through the burst held the plain
# OPTIONS past queue_delay_low and shed it with 503 (t_overload tests that).
overload: { enabled = false; };
CONF
start_proxy "$WORK/px.conf" proxy
ok $? "proxy with one crypto thread and a queue of 4"
start_uas tcp "$WORK" 100000 120
ok $? "the test UAS listens"

printf 'Content-Type: text/plain\r\n\r\nburst' > "$WORK/inner.txt"
openssl cms -encrypt -binary -aes-128-cbc -in "$WORK/inner.txt" -outform DER \
	-out "$WORK/env.der" -recip "$K/proxy.pem"
len=$(stat -c %s "$WORK/env.der")
{
	printf 'MESSAGE sip:bob@127.0.0.1:%s;transport=tcp SIP/2.0\r\n' "$UAS_PORT"
	printf 'Via: SIP/2.0/TCP 127.0.0.1:9;rport;branch=z9hG4bK-burst-@N@\r\n'
	printf 'From: <sip:a@example.com>;tag=b@N@\r\nTo: <sip:bob@example.com>\r\n'
	printf 'Call-ID: burst-@N@@test\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\n'
	printf 'Content-Type: application/pkcs7-mime; smime-type=enveloped-data\r\n'
	printf 'Content-ID: <m1@example.com>\r\nProxy-Inspect-Body: proxy.test;cid="m1@example.com"\r\n'
	printf 'Content-Length: %s\r\n\r\n' "$len"
	cat "$WORK/env.der"
} > "$WORK/burst.sip"
python3 "$TOP_SRCDIR/tests/integration/flood.py" "$PX_PORT" "$WORK/burst.sip" 100 30 > "$WORK/burst.out" &
FLOOD=$!
proxy_answers
ok $? "a plain OPTIONS is answered while the burst is inspected"
wait "$FLOOD"
ok200=$(awk '$1 == 200 { print $2 }' "$WORK/burst.out")
busy=$(awk '$1 == 503 { print $2 }' "$WORK/burst.out")
ra=$(awk '$1 == "retry-after" { print $2 }' "$WORK/burst.out")
[ "$((${ok200:-0} + ${busy:-0}))" -eq 100 ]
ok $? "all 100 got a final answer (200: ${ok200:-0}, 503: ${busy:-0})"
[ "${busy:-0}" -gt 0 ] && [ "${ok200:-0}" -ge 4 ]
# A queue's worth (4): the worker may not have taken its first job yet
# when the loop has read the whole burst (seen under load).
ok $? "the excess got 503, at least a queue's worth got through"
[ "${ra:-0}" -eq "${busy:-0}" ]
ok $? "every 503 carries Retry-After (503: ${busy:-0}, with Retry-After: ${ra:-0})"
grep -q 'Retry-After: 7' "$WORK/proxy.log" || grep -q 'crypto queue full' "$WORK/proxy.log"
ok $? "the proxy logs the full queue"

# --- e2m calls: labelled INVITEs, floods back to back for as long as
# plain calls (SIPp over UDP, to a SIPp UAS) run through the same proxy.
sed -e 's/^MESSAGE /INVITE /' -e 's/CSeq: 1 MESSAGE/CSeq: 1 INVITE/' -e 's/burst-@N@/inv-@N@/g' \
	"$WORK/burst.sip" > "$WORK/inv.sip"
SIPP_UAS=$((BASE + 12))
sipp_bg plain_uas -sf "$SCEN/uas_call.xml" -i 127.0.0.1 -p "$SIPP_UAS" -m 30
PLAIN_UAS=$LAST_PID
wait_listen udp "$SIPP_UAS"
sipp_bg plain_uac -sf "$SCEN/uac_call.xml" 127.0.0.1:"$SIPP_UAS" -rsa 127.0.0.1:"$PX_PORT" \
	-i 127.0.0.1 -p "$UAC_PORT" -m 30 -r 10 -s plain
PLAIN_UAC=$LAST_PID
floods=0
: > "$WORK/inv.out"
while kill -0 "$PLAIN_UAC" 2>/dev/null; do
	python3 "$TOP_SRCDIR/tests/integration/flood.py" "$PX_PORT" "$WORK/inv.sip" 200 30 40 >> "$WORK/inv.out"
	floods=$((floods + 1))
done
wait_pid "$PLAIN_UAC" 30
r=$?
wait_pid "$PLAIN_UAS" 10
r2=$?
if at_valgrind_speed; then
	skip "30 plain calls complete while labelled INVITEs flood the crypto queue" "$VALGRIND_SPEED"
	skip "  and the UAS saw each of them through to its BYE" "$VALGRIND_SPEED"
else
	ok $r "30 plain calls complete while labelled INVITEs flood the crypto queue ($floods floods)"
	ok $r2 "  and the UAS saw each of them through to its BYE"
fi
ok200=$(awk '$1 == 200 { s += $2 } END { print s + 0 }' "$WORK/inv.out")
busy=$(awk '$1 == 503 { s += $2 } END { print s + 0 }' "$WORK/inv.out")
other=$(awk '$1 != 200 && $1 != 503 && $1 != "retry-after" { s += $2 } END { print s + 0 }' "$WORK/inv.out")
ra=$(awk '$1 == "retry-after" { s += $2 } END { print s + 0 }' "$WORK/inv.out")
[ "$((ok200 + busy))" -eq $((floods * 200)) ] && [ "$other" -eq 0 ]
ok $? "each labelled INVITE got 200 or 503 (200: $ok200, 503: $busy, other: $other, of $((floods * 200)))"
[ "$busy" -gt 0 ] && [ "$ok200" -gt 0 ] && [ "$ra" -eq "$busy" ]
ok $? "  the excess got 503, each with Retry-After ($ra)"
t_done
