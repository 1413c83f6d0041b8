#!/bin/bash
# A graceful stop (SIGTERM) with requests in flight: new out-of-dialog
# requests get 503 with Retry-After at once; what is still in flight at
# the drain bound (2 s) is ended: INVITEs ringing at the UAS are canceled
# downstream and answered 503 upstream, a MESSAGE the UAS never answers
# (the proxy's own UDP transaction) gets 503; the daemon exits 0 within a
# bound. Before, those transactions were never freed (a leak at every
# stop under load, seen by valgrind and LeakSanitizer) and their callers
# waited for their own timers. Under tests/valgrind/check.sh the same run
# shows the stop leaves nothing behind.
. "$TOP_SRCDIR/tests/integration/lib.sh"
t_init stop 23080
N=4
# The archive on (a rule that reads plain-text MESSAGEs, with the keys
# and signing certificate a rule needs): the MESSAGE the stop ends still
# gets its final record.
. "$TOP_SRCDIR/tests/integration/pki.sh"
K=$WORK
pki_ca "$K" && PKI_EKU=serverAuth,clientAuth,emailProtection pki_cert "$K" proxy "DNS:proxy.test" proxy.test
ok $? "test PKI made with openssl"
ARCHIVE=$WORK/im.jsonl
write_conf "$WORK/px.conf" "" "
inspect: { keys = ( { certificate = \"$K/proxy.pem\"; key = \"$K/proxy.key\"; } );
           trust_anchors = [ \"$K/ca.pem\" ]; };
policy: { rules = ( { methods = [ \"MESSAGE\" ]; required_types = [ \"text/plain\" ]; } ); };
challenge: { signing_certificate = \"$K/proxy.pem\"; signing_key = \"$K/proxy.key\"; };
archive: { enabled = true; path = \"$ARCHIVE\"; };"
start_proxy "$WORK/px.conf" proxy
ok $? "proxy starts"

# INVITEs: the UAS rings and waits for the CANCEL; the UAC wants 503.
sipp_bg uas -sf "$SCEN/uas_cancel.xml" -i 127.0.0.1 -p "$UAS_PORT" -m "$N"
UAS=$LAST_PID
# MESSAGE: a UAS that never answers.
SILENT=$((BASE + 12))
sipp_bg silent -sf "$SCEN/uas_silent.xml" -i 127.0.0.1 -p "$SILENT" -m 1
wait_listen udp "$UAS_PORT" && wait_listen udp "$SILENT"
ok $? "the UASs listen"
uac_expect inv INVITE 70 503 "127.0.0.1:$UAS_PORT"
sed -i 's|<recv response="100" optional="true"/>|&\n  <recv response="180" optional="true"/>|' "$WORK/inv.xml"
sipp_bg uac -sf "$WORK/inv.xml" 127.0.0.1:"$UAS_PORT" -rsa 127.0.0.1:"$PX_PORT" \
	-i 127.0.0.1 -p "$UAC_PORT" -m "$N" -r 20 -s bob -timeout $((30 * WAIT_SCALE))
UAC=$LAST_PID
uac_expect msg MESSAGE 70 503 "127.0.0.1:$SILENT"
sipp_bg uacm -sf "$WORK/msg.xml" 127.0.0.1:"$SILENT" -rsa 127.0.0.1:"$PX_PORT" \
	-i 127.0.0.1 -p $((BASE + 13)) -m 1 -s bob -timeout $((30 * WAIT_SCALE))
UACM=$LAST_PID

# in flight: every INVITE rang (its 180 relayed) and the MESSAGE arrived
inflight() {
	[ "$(grep -c '^SIP/2.0 180' "$WORK/uac.msg.log" 2>/dev/null)" -ge "$N" ] &&
		grep -q '^MESSAGE sip:' "$WORK/silent.msg.log" 2>/dev/null
}
for i in $(seq 1 $((200 * WAIT_SCALE))); do
	inflight && break
	sleep 0.05
done
inflight
ok $? "$N INVITEs ringing and a MESSAGE unanswered, in flight through the proxy"

T0=$(date +%s%N)
kill -TERM "$PX_PID"
for i in $(seq 1 $((100 * WAIT_SCALE))); do
	grep -q 'stop: refusing new requests' "$WORK/proxy.log" && break
	sleep 0.05
done
grep -q "stop: refusing new requests (503); $((N + 1)) in flight" "$WORK/proxy.log"
ok $? "SIGTERM: the proxy stops taking new requests, $((N + 1)) in flight"
f="$WORK/new.sip"
printf 'OPTIONS sip:bob@127.0.0.1:%s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%s;rport;branch=z9hG4bK-new-%s\r\nFrom: <sip:t@127.0.0.1>;tag=n%s\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: new-%s@test\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n' \
	"$UAS_PORT" $((BASE + 14)) "$RANDOM" "$RANDOM" "$RANDOM" > "$f"
got=$(sip_raw udp "$PX_PORT" "$f")
case $got in "SIP/2.0 503 "*) r=0 ;; *) r=1 ;; esac
ok $r "a new request while stopping: 503 (got: $got)"

wait_pid "$PX_PID" $((5 * WAIT_SCALE))
rc=$?
ms=$((($(date +%s%N) - T0) / 1000000))
ok $rc "the proxy exits 0 (after $ms ms)"
[ "$ms" -lt $((4000 * WAIT_SCALE)) ] && [ "$ms" -ge 1900 ]
ok $? "... after the 2 s drain, within its bound ($ms ms)"
grep -q "stop: $((N + 1)) requests in flight ended" "$WORK/proxy.log"
ok $? "the log says what the stop ended"

wait_pid "$UAC" $((10 * WAIT_SCALE))
ok $? "UAC: each ringing INVITE answered 503 upstream"
wait_pid "$UACM" $((10 * WAIT_SCALE))
ok $? "UAC: the unanswered MESSAGE answered 503 upstream"
# (the ACK for the UAS's 487 cannot come: the proxy is gone by then)
# (the UAS may log a CANCEL after the UAC has its 503: polled; a CANCEL
# the proxy resent to a UAS slow to answer is the same CANCEL)
cancels() { sipp_log uas callids CANCEL | wc -l; }
all_canceled() { [ "$(cancels)" -ge "$N" ]; }
wait_for 10 all_canceled
[ "$(cancels)" -eq "$N" ] && [ "$(sipp_log uas count CANCEL)" -eq "$N" ]
ok $? "UAS: each INVITE canceled downstream by the proxy ($(cancels) calls)"
grep -q '^Retry-After: 5' "$WORK/uac.msg.log"
ok $? "the 503s carry Retry-After"
python3 - "$ARCHIVE" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
m = [r for r in recs if r.get('kind') == 'message']
f = [r for r in recs if r.get('kind') == 'final']
print('# archive: %s' % ' '.join('%s/%s' % (r['kind'], r.get('status', '-'))
                                  for r in recs))
ok = len(m) == 1 and len(f) == 1 and f[0]['call_id'] == m[0]['call_id'] \
    and f[0]['status'] == 503
sys.exit(0 if ok else 1)
PY
ok $? "the archived MESSAGE the stop ended has its final record: 503"
t_done
