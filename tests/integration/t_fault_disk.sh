#!/bin/bash
# Faults: the IM archive's disk full, then space again. The proxy runs in
# a mount namespace of its own (unshare -rm) with its archive on a 128 KiB
# tmpfs, half of it taken by a filler file. Under a flood of MESSAGEs:
# 200 while there is room, then 500 (fail-closed: none not archived gets
# a 200 or reaches the UAS); then the filler goes (space is back) and
# archiving resumes by itself: every later MESSAGE gets its 200 and its
# record. Nothing acknowledged is missing, no line is partial.
. "$TOP_SRCDIR/tests/integration/lib.sh"
. "$TOP_SRCDIR/tests/integration/pki.sh"
t_init fault_disk 22990
# Ten ports of this range only.
UAS_PORT=$((BASE + 5))
FLOOD="$TOP_SRCDIR/tests/integration/flood.py"
K=$WORK
pki_ca "$K" && PKI_EKU=serverAuth,clientAuth,emailProtection pki_cert "$K" proxy "DNS:proxy.test" proxy.test
ok $? "test PKI made with openssl"
DISK=$WORK/disk
mkdir -p "$DISK" "$WORK/uas"
cat > "$WORK/px.conf" <<CONF
log: { level = "info"; };
sip: {
  listen = ( { transport = "tcp"; address = "127.0.0.1"; port = $PX_PORT; },
             { transport = "udp"; address = "127.0.0.1"; port = $PX_PORT; } );
  own_names = [ "proxy.test" ];
};
inspect: { keys = ( { certificate = "$K/proxy.pem"; key = "$K/proxy.key"; } ); };
policy: { rules = ( { methods = [ "MESSAGE" ]; required_types = [ "text/plain" ]; } ); };
challenge: { signing_certificate = "$K/proxy.pem"; signing_key = "$K/proxy.key"; rate = 0; };
archive: { enabled = true; path = "$DISK/im.jsonl"; on_failure = "reject"; };
CONF
# Inside the namespace: the tmpfs, the filler, the proxy; the filler is
# removed when $WORK/free appears; the archive is copied out at the end.
{
	printf 'mount -t tmpfs -o size=128k tmpfs "%s" || exit 99\n' "$DISK"
	printf 'head -c 65536 /dev/zero > "%s/filler" || exit 98\n' "$DISK"
	printf '"%s" -D -f "%s" & p=$!\n' "$E2MPROXYD" "$WORK/px.conf"
	printf 'trap '\''kill $p'\'' TERM\n'
	printf '( while [ ! -e "%s/free" ]; do sleep 0.05; done; rm "%s/filler"; touch "%s/freed" ) &\n' \
		"$WORK" "$DISK" "$WORK"
	printf 'wait $p; wait $p\n'
	printf 'cp "%s/im.jsonl" "%s/im.jsonl"\n' "$DISK" "$WORK"
} > "$WORK/ns.sh"
unshare -rm sh "$WORK/ns.sh" > "$WORK/proxy.log" 2>&1 &
NS_PID=$!
PIDS="$PIDS $NS_PID"
for i in $(seq 1 200); do
	grep -q started "$WORK/proxy.log" && break
	kill -0 "$NS_PID" 2>/dev/null || break
	sleep 0.05
done
grep -q started "$WORK/proxy.log"
ok $? "proxy starts with its archive on a half-filled 128 KiB tmpfs (unshare -rm)"
start_uas tcp "$WORK/uas" 1000000 120
ok $? "the test UAS listens"

{
	printf 'MESSAGE sip:bob@127.0.0.1:%s;transport=tcp SIP/2.0\r\n' "$UAS_PORT"
	printf 'Via: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK-@T@-@N@\r\n'
	printf 'From: <sip:alice@example.com>;tag=a\r\nTo: <sip:bob@example.com>\r\n'
	printf 'Call-ID: @T@-@N@@test\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\n'
	printf 'Content-Type: text/plain\r\nContent-Length: 12\r\n\r\nload message'
} > "$WORK/msg.sip"
sed 's/@T@/full/g' "$WORK/msg.sip" > "$WORK/full.sip"
sed 's/@T@/back/g' "$WORK/msg.sip" > "$WORK/back.sip"
bodies() { echo $(( $(ls "$WORK/uas" | wc -l) / 2 )); }

# Records of ~600 bytes: the 64 KiB left are full after a hundred or so.
FLOOD_OK_IDS=$WORK/acked_full.txt python3 "$FLOOD" "$PX_PORT" "$WORK/full.sip" 300 30 8 > "$WORK/full.out" 2>&1
n200=$(awk '$1 == 200 { print $2 }' "$WORK/full.out")
n500=$(awk '$1 == 500 { print $2 }' "$WORK/full.out")
[ "${n200:-0}" -gt 0 ] && [ "${n500:-0}" -gt 0 ] && [ $((n200 + n500)) -eq 300 ]
ok $? "disk full: 200 while there was room, then 500 (${n200:-0} x 200, ${n500:-0} x 500)"
[ "$(bodies)" -eq "${n200:-0}" ]
ok $? "  fail-closed: only the acknowledged ones reached the UAS ($(bodies))"
grep -q 'archive: .* could not be written\|records are reported not archived' "$WORK/proxy.log"
ok $? "  the failure is logged"

touch "$WORK/free"
for i in $(seq 1 100); do [ -e "$WORK/freed" ] && break; sleep 0.05; done
[ -e "$WORK/freed" ]
ok $? "space is back (the filler removed inside the namespace)"
before=$(bodies)
FLOOD_OK_IDS=$WORK/acked_back.txt python3 "$FLOOD" "$PX_PORT" "$WORK/back.sip" 40 30 8 > "$WORK/back.out" 2>&1
[ "$(cat "$WORK/back.out")" = "$(printf '200 40\nretry-after 0')" ] && [ $(( $(bodies) - before )) -eq 40 ]
ok $? "archiving resumes by itself: 40 MESSAGEs, all 200 and delivered ($(tr '\n' ' ' < "$WORK/back.out"))"
grep -q 'archive .*: writing again' "$WORK/proxy.log"
ok $? "  the recovery is logged"

kill "$NS_PID"
wait "$NS_PID" 2>/dev/null
python3 - "$WORK/im.jsonl" "$WORK/acked_full.txt" "$WORK/acked_back.txt" <<'PY'
import json, sys
lines = open(sys.argv[1], 'rb').read().split(b'\n')
tail = lines.pop()
recs = [json.loads(l) for l in lines]
have = set(r['call_id'] for r in recs if r['kind'] == 'message')
acked = [l.strip() for f in sys.argv[2:] for l in open(f) if l.strip()]
lost = [c for c in acked if c not in have]
extra = [c for c in have if c not in acked]
print('# archive: %d whole lines, %d message records, %d acknowledged, %d lost, '
      '%d not acknowledged, %d bytes after the last newline'
      % (len(recs), len(have), len(acked), len(lost), len(extra), len(tail)))
sys.exit(0 if tail == b'' and not lost and not extra else 1)
PY
ok $? "the archive: one message record per 200 (none lost, none unacknowledged), no partial line"
t_done
