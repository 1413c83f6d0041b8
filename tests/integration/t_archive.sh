#!/bin/bash
# The IM archive (digest 6.3-6.4): MESSAGEs from e2mua and bodies made by
# the openssl command line go through e2mproxyd to a UAS; every one whose
# text the proxy read has its record, checked field by field, and a final
# record with the UAS's 200; one it could not read was challenged and has
# none. Then the promises: a record is durable before its MESSAGE leaves
# (kill -9 under load: every MESSAGE the sender saw a 200 for is in the
# archive), a full disk refuses MESSAGEs with 500 and leaves no partial
# line (or forwards them, with on_failure = forward), and SIGUSR1 reopens
# the file logrotate moved.
. "$TOP_SRCDIR/tests/integration/lib.sh"
. "$TOP_SRCDIR/tests/integration/pki.sh"
t_init archive 21500
E2MUA=${E2MUA:-$(dirname "$E2MPROXYD")/e2mua}
FLOOD="$TOP_SRCDIR/tests/integration/flood.py"
K=$WORK
pki_ca "$K" && PKI_EKU=serverAuth,clientAuth,emailProtection pki_cert "$K" proxy "DNS:proxy.test" proxy.test &&
	pki_cert "$K" uas "DNS:uas.test" uas.test &&
	PKI_EKU=emailProtection pki_cert "$K" alice "email:alice@example.com" alice
ok $? "test PKI made with openssl"

# write_px FILE ARCHIVE-SETTINGS: the proxy under test; the MESSAGE rule's
# line is RULE_LINE.
write_px() {
	cat > "$1" <<CONF
log: { level = "debug"; };
sip: {
  listen = ( { transport = "udp"; address = "127.0.0.1"; port = $PX_PORT; },
             { transport = "tcp"; address = "127.0.0.1"; port = $PX_PORT; } );
  own_names = [ "proxy.test" ];
};
inspect: { keys = ( { certificate = "$K/proxy.pem"; key = "$K/proxy.key"; } );
           trust_anchors = [ "$K/ca.pem" ]; decrypt_rate = 0; queue = 4096; };
policy: { rules = (
  { methods = [ "MESSAGE" ]; required_types = [ "text/plain" ]; } ); };
challenge: { signing_certificate = "$K/proxy.pem"; signing_key = "$K/proxy.key";
             rate = 0; };
archive: { enabled = true; $2 };
CONF
}
RULE_LINE=10
ARCHIVE=$WORK/im.jsonl
write_px "$WORK/px.conf" "path = \"$ARCHIVE\";"
start_proxy "$WORK/px.conf" proxy
ok $? "proxy starts with the archive on"
[ "$(stat -c %a "$ARCHIVE" 2>/dev/null)" = 600 ]
ok $? "the archive file exists, mode 0600"
start_uas tcp "$WORK/uas" 1000000 600
ok $? "the test UAS listens"

TO="sip:bob@127.0.0.1:$UAS_PORT;transport=tcp"
# ua NAME ARGS...: one MESSAGE through the proxy; its JSON line in NAME.json
ua() {
	local name=$1
	shift
	"$E2MUA" -t "$TO" -o "sip:127.0.0.1:$PX_PORT;transport=tcp" \
		-b "sip:127.0.0.1:$UAC_PORT;transport=tcp" -T 5 "$@" \
		> "$WORK/$name.json" 2> "$WORK/$name.err"
}

# record N CHECKS: the archive records of the N-th request the UAS got
# (its Call-ID from the UAS's copy), checked by python: CHECKS is a Python
# expression over m (the message record) and f (its final record), both
# printed when it is false.
N=0
record() {
	local n=$1 checks=$2
	python3 - "$ARCHIVE" "$WORK/uas/$n.head" "$checks" <<'PY'
import json, re, sys
archive, head, checks = sys.argv[1], sys.argv[2], sys.argv[3]
cid = re.search(r'(?im)^(?:call-id|i)[ \t]*:[ \t]*(\S+)', open(head).read()).group(1)
# The final record is written after the response went upstream: the UA
# may have its 200 before it is on disk. Wait for it (a bound, 10 s).
import time
for _ in range(100):
    recs = [json.loads(l) for l in open(archive)]
    m = [r for r in recs if r.get('kind') == 'message' and r['call_id'] == cid]
    f = [r for r in recs if r.get('kind') == 'final' and r['call_id'] == cid]
    if len(m) == 1 and (f or "f[" not in checks):
        break
    time.sleep(0.1)
if len(m) != 1:
    print('# %d message records for %s' % (len(m), cid)); sys.exit(1)
m, f = m[0], (f[0] if f else None)
if not eval('(' + checks + ')'):
    print('# record: %s' % json.dumps(m)); print('# final: %s' % json.dumps(f))
    sys.exit(1)
PY
}

ua plain -m "hello plain"
grep -q '"status":200' "$WORK/plain.json"
ok $? "plain MESSAGE delivered"
N=$((N + 1))
record $N "m['v'] == 1 and m['method'] == 'MESSAGE' and m['cseq'] >= 1
 and m['from']['uri'].startswith('sip:') and 'tag' in m['from']
 and m['to']['uri'] == '$TO'
 and m['source']['address'] == '127.0.0.1' and m['source']['transport'] == 'tcp'
 and m['source']['port'] > 0
 and m['rule'] == '$WORK/px.conf:$RULE_LINE'
 and m['content_type'].startswith('text/plain')
 and len(m['parts']) == 1 and m['parts'][0]['type'] == 'text/plain'
 and m['parts'][0]['text'] == 'hello plain' and m['parts'][0]['protection'] == {}
 and m['time'].endswith('Z') and f is not None and f['status'] == 200"
ok $? "plain: record field by field, final 200"

ua signed -m "hello signed" -s "$K/alice.pem:$K/alice.key"
grep -q '"status":200' "$WORK/signed.json"
ok $? "signed MESSAGE delivered"
N=$((N + 1))
record $N "m['parts'][0]['text'] == 'hello signed'
 and 'encrypted' not in m['parts'][0]['protection']
 and len(m['parts'][0]['protection']['signatures']) == 1
 and m['parts'][0]['protection']['signatures'][0]['valid'] is True
 and m['parts'][0]['protection']['signatures'][0]['inside_envelope'] is False
 and 'alice' in m['parts'][0]['protection']['signatures'][0]['signer']
 and m['content_type'].startswith('multipart/signed') and f['status'] == 200"
ok $? "signed: signer named and verified, outside any envelope"

ua sealed -m "hello sealed" -s "$K/alice.pem:$K/alice.key" -e "$K/uas.pem" \
	-x "proxy.test=$K/proxy.pem"
grep -q '"status":200' "$WORK/sealed.json"
ok $? "signed-then-encrypted MESSAGE delivered"
N=$((N + 1))
record $N "m['parts'][0]['text'] == 'hello sealed'
 and m['parts'][0]['protection']['encrypted']['opened_with'] == 'CN=proxy.test'
 and 'CN=proxy.test' in m['parts'][0]['protection']['encrypted']['recipients']
 and any(r.startswith('issuer=CN=e2m test CA') for r in m['parts'][0]['protection']['encrypted']['recipients'])
 and m['parts'][0]['protection']['signatures'][0]['inside_envelope'] is True
 and m['parts'][0]['protection']['signatures'][0]['valid'] is True
 and f['status'] == 200"
ok $? "signed inside encrypted: our key, both recipients, inner signature"

ua secret -m "hello secret" -e "$K/uas.pem" -x "proxy.test=$K/proxy.pem"
N=$((N + 1))
record $N "m['parts'][0]['text'] == 'hello secret'
 and m['parts'][0]['protection']['encrypted']['opened_with'] == 'CN=proxy.test'
 and 'signatures' not in m['parts'][0]['protection'] and f['status'] == 200"
ok $? "encrypted: opened with our key, no signature"

ua closed -m "you cannot read this" -e "$K/uas.pem"
grep -q '"status":496' "$WORK/closed.json"
ok $? "encrypted to the peer only: challenged with 496"
! grep -q 'you cannot read this' "$ARCHIVE" && ! grep -q 'you cannot read this' "$WORK/proxy.log"
ok $? "  nothing of it archived or logged"
[ "$(ls "$WORK/uas" | wc -l)" -eq $((2 * N)) ]
ok $? "  it did not reach the UAS"

# A body made by the openssl command line, sent raw: labelled AuthEnvelopedData
# to the proxy and the UAS, UTF-8 text with a control character and a quote.
printf 'Content-Type: text/plain; charset=utf-8\r\n\r\nGr\xc3\xbc\xc3\x9fe "quoted" \x01 tab\tend' > "$WORK/cli.txt"
openssl cms -encrypt -binary -aes-128-gcm -in "$WORK/cli.txt" -outform DER \
	-out "$WORK/cli.p7m" -recip "$K/proxy.pem" -recip "$K/uas.pem" 2>/dev/null
ok $? "openssl cms made an envelope for the proxy and the UAS"
len=$(stat -c %s "$WORK/cli.p7m")
{
	printf 'MESSAGE sip:bob@127.0.0.1:%s;transport=tcp SIP/2.0\r\n' "$UAS_PORT"
	printf 'Via: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK-cli-%s\r\n' "$RANDOM"
	printf 'From: <sip:carol@example.com>;tag=c1\r\nTo: <sip:bob@example.com>\r\n'
	printf 'Call-ID: cli-archive@test\r\nCSeq: 7 MESSAGE\r\nMax-Forwards: 70\r\n'
	printf 'Content-Type: application/pkcs7-mime; smime-type=authEnveloped-data; name=smime.p7m\r\n'
	printf 'Content-ID: <cli@example.com>\r\n'
	printf 'Proxy-Inspect-Body: proxy.test;cid="cli@example.com"\r\n'
	printf 'Content-Length: %s\r\n\r\n' "$len"
	cat "$WORK/cli.p7m"
} > "$WORK/cli.sip"
case $(python3 "$TOP_SRCDIR/tests/integration/sipraw.py" tcp 127.0.0.1 "$PX_PORT" "$WORK/cli.sip" 5) in
"SIP/2.0 200"*) ok 0 "openssl-made body delivered" ;;
*) ok 1 "openssl-made body delivered" ;;
esac
N=$((N + 1))
record $N "m['parts'][0]['text'] == 'Gr\u00fc\u00dfe \"quoted\" \x01 tab\tend'
 and m['parts'][0].get('charset') == 'utf-8' and m['cseq'] == 7
 and m['from'] == {'uri': 'sip:carol@example.com', 'tag': 'c1'}
 and m['parts'][0]['protection']['encrypted']['opened_with'] == 'CN=proxy.test'
 and f is not None and f['status'] == 200"
ok $? "openssl-made body: text exact (UTF-8, quote, control character, tab)"
# message/cpim (RFC 3862) inside the envelope, as RFC 8591 has it: the
# text inside the wrapper is what is archived.
printf 'Content-Type: message/cpim\r\n\r\nFrom: <im:carol@example.com>\r\nTo: <im:bob@example.com>\r\nDateTime: 2026-12-06T10:00:00Z\r\n\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nwrapped in CPIM' > "$WORK/cpim.txt"
openssl cms -encrypt -binary -aes-128-gcm -in "$WORK/cpim.txt" -outform DER \
	-out "$WORK/cli.p7m" -recip "$K/proxy.pem" -recip "$K/uas.pem" 2>/dev/null
len=$(stat -c %s "$WORK/cli.p7m")
{
	printf 'MESSAGE sip:bob@127.0.0.1:%s;transport=tcp SIP/2.0\r\n' "$UAS_PORT"
	printf 'Via: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK-cpim-%s\r\n' "$RANDOM"
	printf 'From: <sip:carol@example.com>;tag=c2\r\nTo: <sip:bob@example.com>\r\n'
	printf 'Call-ID: cpim-archive@test\r\nCSeq: 8 MESSAGE\r\nMax-Forwards: 70\r\n'
	printf 'Content-Type: application/pkcs7-mime; smime-type=authEnveloped-data; name=smime.p7m\r\n'
	printf 'Content-ID: <cpim@example.com>\r\n'
	printf 'Proxy-Inspect-Body: proxy.test;cid="cpim@example.com"\r\n'
	printf 'Content-Length: %s\r\n\r\n' "$len"
	cat "$WORK/cli.p7m"
} > "$WORK/cpim.sip"
case $(python3 "$TOP_SRCDIR/tests/integration/sipraw.py" tcp 127.0.0.1 "$PX_PORT" "$WORK/cpim.sip" 5) in
"SIP/2.0 200"*) ok 0 "CPIM-wrapped text under a text/plain rule: delivered" ;;
*) ok 1 "CPIM-wrapped text under a text/plain rule: delivered" ;;
esac
N=$((N + 1))
record $N "len(m['parts']) == 1 and m['parts'][0]['type'] == 'text/plain'
 and m['parts'][0]['text'] == 'wrapped in CPIM'
 and m['parts'][0]['protection']['encrypted']['opened_with'] == 'CN=proxy.test'"
ok $? "CPIM: the wrapped text archived, with the envelope's protection"
python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$ARCHIVE"
ok $? "every line of the archive is one JSON object"
! grep -q 'hello plain\|hello sealed\|Gr..e' "$WORK/proxy.log"
ok $? "no plaintext in the proxy's log"

# --- logrotate itself, with the shipped snippet (conf/e2mproxyd.logrotate):
# its path and its signal pointed at this proxy. It moves the file and
# sends SIGUSR1; the proxy opens a new file at the path.
sed -e "s|^/var/lib/e2mproxy/im.jsonl {|$ARCHIVE {|" \
	-e "s|systemctl kill --signal=USR1 e2mproxyd.service 2>/dev/null \|\||kill -USR1 $PX_PID \|\||" \
	-e 's|^[[:space:]]*pkill -USR1 -x e2mproxyd \|\| true| true|' \
	"$TOP_SRCDIR/conf/e2mproxyd.logrotate" > "$WORK/logrotate.conf"
grep -q "kill -USR1 $PX_PID" "$WORK/logrotate.conf" && grep -q "^$ARCHIVE {" "$WORK/logrotate.conf"
ok $? "the shipped logrotate snippet, pointed at this archive and proxy"
logrotate -f -s "$WORK/logrotate.state" "$WORK/logrotate.conf" 2> "$WORK/logrotate.err"
ok $? "logrotate -f ran ($(head -c 200 "$WORK/logrotate.err"))"
# (The proxy takes the signal in its loop, and says so: the writer
# reopens before the next record from then on.)
wait_for 10 grep -q 'archive: reopening' "$WORK/proxy.log"
ua rotated -m "after rotation"
grep -q '"status":200' "$WORK/rotated.json" && grep -q 'after rotation' "$ARCHIVE" &&
	! grep -q 'after rotation' "$ARCHIVE.1" && grep -q 'hello plain' "$ARCHIVE.1"
ok $? "rotated: new records go to a new file at the path, the old ones are in .1"
[ "$(stat -c %a "$ARCHIVE")" = 600 ]
ok $? "  the new file is the proxy's own, mode 0600"

# --- kill -9 under load: a 200 upstream means the record was durable.
printf 'Content-Type: text/plain\r\n\r\nload message' > "$WORK/load.body"
{
	printf 'MESSAGE sip:bob@127.0.0.1:%s;transport=tcp SIP/2.0\r\n' "$UAS_PORT"
	printf 'Via: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK-load-@N@\r\n'
	printf 'From: <sip:alice@example.com>;tag=a\r\nTo: <sip:bob@example.com>\r\n'
	printf 'Call-ID: load-@N@@test\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\n'
	printf 'Content-Type: text/plain\r\nContent-Length: 12\r\n\r\nload message'
} > "$WORK/load.sip"
FLOOD_OK_IDS=$WORK/acked.txt python3 "$FLOOD" "$PX_PORT" "$WORK/load.sip" 20000 30 64 \
	> "$WORK/flood.out" 2>&1 &
FLOOD_PID=$!
# Let a few thousand through, then kill the proxy without warning.
for i in $(seq 1 300); do
	[ "$(wc -l < "$WORK/acked.txt" 2>/dev/null || echo 0)" -ge 2000 ] && break
	sleep 0.05
done
kill -9 "$PX_PID"
wait "$FLOOD_PID" 2>/dev/null
acked=$(wc -l < "$WORK/acked.txt")
python3 - "$ARCHIVE" "$WORK/acked.txt" <<'PY'
import json, sys
have, bad = set(), 0
for l in open(sys.argv[1], 'rb'):
    try:
        r = json.loads(l)
    except ValueError:
        bad += 1
        continue
    if r.get('kind') == 'message':
        have.add(r['call_id'])
acked = [l.strip() for l in open(sys.argv[2]) if l.strip()]
lost = [c for c in acked if c not in have]
print('# kill -9: %d MESSAGEs acknowledged with 200, %d of them archived, '
      '%d lost; %d unparsable line(s)' % (len(acked), len(acked) - len(lost),
                                          len(lost), bad))
sys.exit(1 if lost or not acked else 0)
PY
ok $? "kill -9 under load: every MESSAGE acknowledged with 200 ($acked) has its record"

# --- a full disk. The proxy runs in a mount namespace of its own
# (unshare -rm) with its archive on a 64 KiB tmpfs; when it stops, the
# archive is copied out for checking.
# full_disk NAME ON-FAILURE: start it; FULL_PID, $WORK/NAME.log
full_disk() {
	local name=$1 i
	mkdir -p "$WORK/$name"
	write_px "$WORK/$name.conf" "path = \"$WORK/$name/im.jsonl\"; on_failure = \"$2\";"
	{
		printf 'mount -t tmpfs -o size=64k tmpfs "%s" || exit 99\n' "$WORK/$name"
		printf '"%s" -D -d -f "%s" & p=$!\n' "$E2MPROXYD" "$WORK/$name.conf"
		printf 'trap '\''kill $p'\'' TERM\n'
		printf 'wait $p; wait $p\n'
		printf 'cp "%s" "%s"\n' "$WORK/$name/im.jsonl" "$WORK/$name.jsonl"
	} > "$WORK/$name.sh"
	unshare -rm sh "$WORK/$name.sh" > "$WORK/$name.log" 2>&1 &
	FULL_PID=$!
	PIDS="$PIDS $FULL_PID"
	for i in $(seq 1 100); do
		grep -q started "$WORK/$name.log" && return 0
		kill -0 "$FULL_PID" 2>/dev/null || break
		sleep 0.05
	done
	sed 's/^/#   /' "$WORK/$name.log"
	return 1
}
stop_full() {
	kill "$FULL_PID" 2>/dev/null
	wait "$FULL_PID" 2>/dev/null
}
bodies() {
	echo $(( $(ls "$WORK/uas" | wc -l) / 2 ))
}

full_disk closed reject
ok $? "proxy starts with its archive on a 64 KiB tmpfs (unshare -rm)"
before=$(bodies)
# Records of ~600 bytes: the tmpfs is full after a hundred or so.
python3 "$FLOOD" "$PX_PORT" "$WORK/load.sip" 400 30 8 > "$WORK/closed.out" 2>&1
grep -q '^500 ' "$WORK/closed.out" && grep -q '^200 ' "$WORK/closed.out"
ok $? "full disk, on_failure = reject: 200 while there was room, then 500 ($(tr '\n' ' ' < "$WORK/closed.out"))"
# (A failed batch is cut off again, so a small record may still fit
# after a larger one failed: this one, 20 KB, cannot.)
{
	printf 'MESSAGE sip:bob@127.0.0.1:%s;transport=tcp SIP/2.0\r\n' "$UAS_PORT"
	printf 'Via: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK-w1\r\n'
	printf 'From: <sip:a@example.com>;tag=a\r\nTo: <sip:b@example.com>\r\n'
	printf 'Call-ID: warn@test\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\n'
	printf 'Content-Type: text/plain\r\nContent-Length: 20000\r\n\r\n'
	head -c 20000 /dev/zero | tr '\0' 'x'
} > "$WORK/warn.sip"
python3 "$TOP_SRCDIR/tests/integration/sipraw.py" tcp 127.0.0.1 "$PX_PORT" "$WORK/warn.sip" 5 > "$WORK/warn.out"
grep -q '^SIP/2.0 500 Archive Unavailable' "$WORK/warn.out"
ok $? "  a refused MESSAGE gets 500 Archive Unavailable"
n200=$(awk '$1 == 200 { print $2 }' "$WORK/closed.out")
got=$(( $(bodies) - before ))
[ "$got" -eq "${n200:-0}" ]
ok $? "  only the archived ones reached the UAS ($got bodies, ${n200:-0} x 200)"
grep -q 'archive: .* could not be written' "$WORK/closed.log"
ok $? "  the failure is logged"
stop_full
python3 - "$WORK/closed.jsonl" "${n200:-0}" <<'PY'
import json, sys
lines = open(sys.argv[1], 'rb').read().split(b'\n')
tail = lines.pop()          # after the last newline: must be nothing
recs = [json.loads(l) for l in lines]
msgs = sum(1 for r in recs if r['kind'] == 'message')
print('# full disk: %d whole lines, %d message records, %d bytes after the '
      'last newline' % (len(recs), msgs, len(tail)))
sys.exit(0 if tail == b'' and msgs == int(sys.argv[2]) else 1)
PY
ok $? "  no partial line; one message record per 200"

full_disk open forward
ok $? "proxy starts again on a fresh 64 KiB tmpfs, on_failure = forward"
before=$(bodies)
python3 "$FLOOD" "$PX_PORT" "$WORK/load.sip" 400 30 8 > "$WORK/open.out" 2>&1
[ "$(cat "$WORK/open.out")" = "$(printf '200 400\nretry-after 0')" ]
ok $? "full disk, on_failure = forward: all 400 delivered ($(tr '\n' ' ' < "$WORK/open.out"))"
[ "$(( $(bodies) - before ))" -eq 400 ]
ok $? "  and the UAS has them"
grep -q 'archive: .* could not be written.*forwarding anyway' "$WORK/open.log"
ok $? "  the failure is logged"
stop_full
t_done
