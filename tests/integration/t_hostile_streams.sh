#!/bin/bash
# Hostile TCP and TLS connections are closed in seconds, not after
# sip.idle_timeout (streamguard.c): random bytes at the next sweep; a connection
# that sends nothing (TLS: not even a handshake), a partial request left
# standing, a header line that never ends and a request dripped one line
# every 2 s once sip.message_timeout (2 s here) has passed since its first
# byte. A well-behaved connection that sent its message stays open, a
# request whose bad Content-Length makes its body read as garbage still
# gets Sofia's 400 before the connection is closed, other
# callers are served meanwhile, the closes are counted in /metrics, and
# thousands of hostile connections grow the proxy's memory no more than
# as many valid requests.
. "$TOP_SRCDIR/tests/integration/lib.sh"
. "$TOP_SRCDIR/tests/integration/pki.sh"
t_init hostile_streams 23020
PROBE="$TOP_SRCDIR/tests/integration/streamprobe.py"
M_PORT=$((BASE + 3))
pki_ca "$WORK" && pki_cert "$WORK" px "IP:127.0.0.1" 127.0.0.1
ok $? "test PKI made with openssl"
cat > "$WORK/px.conf" <<CONF
log: { level = "info"; };
sip: {
  listen = ( { transport = "udp"; address = "127.0.0.1"; port = $PX_PORT; },
             { transport = "tcp"; address = "127.0.0.1"; port = $PX_PORT; },
             { transport = "tls"; address = "127.0.0.1"; port = $PX_TLS_PORT; } );
  message_timeout = 2;
};
tls: { certificate = "$WORK/px.pem"; key = "$WORK/px.key"; ca_file = "$WORK/ca.pem"; };
metrics: { enabled = true; port = $M_PORT; };
CONF
start_proxy "$WORK/px.conf" proxy
ok $? "proxy starts with TCP and TLS listeners, sip.message_timeout = 2"

# Every probe in parallel, each bounded to 6 s: the garbage ones must be
# closed at the next sweep, the others within the 2 s timeout and the 0.5 s sweep.
KINDS="random silent partial longline slowloris valid badlength"
for tp in tcp tls; do
	port=$PX_PORT
	[ $tp = tls ] && port=$PX_TLS_PORT
	for k in $KINDS; do
		python3 "$PROBE" $tp "$port" $k 6 --bind 127.0.0.2 > "$WORK/$tp-$k.out" 2>&1 &
		eval "P_${tp}_$k=\$!"
		PIDS="$PIDS $!"
	done
done
sleep 0.5
if at_valgrind_speed; then
	skip "meanwhile another caller (127.0.0.1, UDP) is answered" "$VALGRIND_SPEED"
else
	proxy_answers
	ok $? "meanwhile another caller (127.0.0.1, UDP) is answered"
fi
for tp in tcp tls; do
	for k in $KINDS; do
		eval "p=\$P_${tp}_$k"
		wait "$p"
		ok $? "$tp $k: $(cat "$WORK/$tp-$k.out")"
	done
done
secs() { awk '{ print $(NF - 1) }' "$WORK/$1.out"; }
for tp in tcp tls; do
	# at the next sweep (every 0.5 s); TLS: the handshake counts too
	awk -v s="$(secs $tp-random)" 'BEGIN { exit !(s < 2.0) }'
	ok $? "  $tp random bytes: closed at the next sweep, under 2 s ($(secs $tp-random) s)"
	for k in silent partial longline slowloris; do
		awk -v s="$(secs $tp-$k)" 'BEGIN { exit !(s >= 1.9 && s < 5.0) }'
		ok $? "  $tp $k: closed 2 to 5 s after its first byte ($(secs $tp-$k) s)"
	done
done

URL=http://127.0.0.1:$M_PORT
scrape
ok $? "metrics scraped"
ns=$(metric 'e2mproxy_stream_connections_closed_total{reason="not_sip"}')
nt=$(metric 'e2mproxy_stream_connections_closed_total{reason="timeout"}')
[ "${ns:-0}" -ge 2 ] && [ "${nt:-0}" -ge 8 ] && [ $((ns + nt)) -le 12 ]
ok $? "metrics: the closes counted (not_sip $ns, timeout $nt; Sofia closes a bad Content-Length itself)"
promtool check metrics < "$WORK/metrics.txt" > "$WORK/promtool.out" 2>&1
ok $? "promtool check metrics passes"

# Memory: 2000 hostile TCP connections (garbage, and partial ones left to
# the timeout) three times, then 2000 valid TCP OPTIONS; the RSS growth of
# each round. The first hostile round raises the peak (200 partial
# messages held at once); later rounds settle the heap (five rounds: +916,
# +268, +264, +44, +68 KiB), so a later one may add at most 512 bytes a
# connection more than the valid round. On a loaded machine a later round
# can hold more connections at once and raise the peak again once (+1,044
# KiB seen in a validation run beside a fuzzer); a leak grows every round:
# the smaller of the second and third rounds is compared.
FLOOD="$TOP_SRCDIR/tests/integration/connflood.py"
N=2000 ASAN=0
if ldd "$E2MPROXYD" 2>/dev/null | grep -q libasan; then
	ASAN=1 N=500 # ASan's quarantine keeps freed memory: RSS says nothing
fi
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$PX_PID/status"; }
python3 "$FLOOD" "$PX_PORT" 500 valid > /dev/null # warm-up: allocator pools
r0=$(rss)
python3 "$FLOOD" "$PX_PORT" $N hostile > /dev/null
r1=$(rss)
python3 "$FLOOD" "$PX_PORT" $N hostile > /dev/null
r2=$(rss)
python3 "$FLOOD" "$PX_PORT" $N hostile > /dev/null
r2b=$(rss)
python3 "$FLOOD" "$PX_PORT" $N valid > "$WORK/valid.out"
r3=$(rss)
later=$((r2 - r1))
[ $((r2b - r2)) -lt "$later" ] && later=$((r2b - r2))
grep -q "^answered $N\$" "$WORK/valid.out"
ok $? "$N valid TCP OPTIONS after the hostile rounds: all answered"
echo "# RSS after warm-up $r0 KiB; $N hostile connections +$((r1 - r0)) KiB, $N more +$((r2 - r1)) KiB, $N more +$((r2b - r2)) KiB; $N valid +$((r3 - r2b)) KiB"
if [ "$ASAN" -eq 1 ]; then
	skip "RSS compared" "AddressSanitizer build: LeakSanitizer checks at exit"
else
	[ "$later" -le $((r3 - r2b + N / 2)) ]
	ok $? "a later hostile round (the smaller of the second and third) grows RSS no more than a valid one (+512 bytes a connection): $later vs $((r3 - r2b)) KiB"
fi
proxy_answers
ok $? "proxy still answers"
t_done
