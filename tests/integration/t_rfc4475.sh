#!/bin/bash
# The 49 RFC 4475 torture messages (tests/rfc4475/, byte for byte as the
# RFC's archive has them) through e2mproxyd, each with the outcome
# tests/rfc4475/expected gives: forwarded (and what must hold of the copy),
# answered with a code, or dropped; the proxy answers after each one and
# exits cleanly at the end (no sanitizer report under ASan).
#
# The messages name hosts (example.com ...) and ports (5060, 5080) of
# their own and must stay byte-exact, so the test runs in network and
# mount namespaces of its own (unshare -rnm): there torture.py is the DNS
# server (every name is the peer, 127.0.0.2), the next hop, and the
# sender at the port its Via names; nothing it binds is seen outside.
if [ -z "${E2M_IN_NS:-}" ]; then
	if unshare -rnm true 2>/dev/null; then
		exec unshare -rnm env E2M_IN_NS=1 bash "$0" "$@"
	elif [ "$(id -u)" -eq 0 ] && unshare -nm true 2>/dev/null; then
		exec unshare -nm env E2M_IN_NS=1 bash "$0" "$@"
	fi
	echo "# WARNING: cannot create network and mount namespaces" \
	    "(unshare -rnm): the torture messages need their own addresses" >&2
	echo "1..0 # SKIP no namespaces on this machine"
	exit 0
fi
. "$TOP_SRCDIR/tests/integration/lib.sh"
. "$TOP_SRCDIR/tests/integration/pki.sh"
t_init rfc4475 22300
DAT="$TOP_SRCDIR/tests/rfc4475"
ip link set lo up
ip addr add 127.0.0.2/8 dev lo 2>/dev/null # lo has all of 127/8; harmless

(cd "$DAT" && sha256sum --quiet -c SHA256SUMS)
ok $? "the 49 messages are the RFC's, byte for byte (SHA256SUMS)"
[ "$(ls "$DAT"/*.dat | wc -l)" -eq 49 ] &&
	[ "$(grep -cv '^\s*\(#\|$\)' "$DAT/expected")" -eq 49 ]
ok $? "49 messages, 49 expected outcomes"

# The proxy's resolver reads /etc/resolv.conf: ours, in this namespace.
echo "nameserver 127.0.0.1" > "$WORK/resolv.conf"
mount --bind "$WORK/resolv.conf" /etc/resolv.conf
ok $? "the namespace's resolv.conf names torture.py's DNS server"

pki_ca "$WORK" && pki_cert "$WORK" px "IP:127.0.0.1" 127.0.0.1
ok $? "a TLS certificate for the proxy (bext01's Via is TLS)"
cat > "$WORK/px.conf" <<CONF
log: { level = "debug"; };
sip: {
  transaction_timeout = 4000;
  listen = ( { transport = "udp"; address = "127.0.0.1"; port = $PX_PORT; },
             { transport = "tcp"; address = "127.0.0.1"; port = $PX_PORT; },
             { transport = "tls"; address = "127.0.0.1"; port = $PX_TLS_PORT; } );
};
tls: { certificate = "$WORK/px.pem"; key = "$WORK/px.key"; ca_file = "$WORK/ca.pem"; };
CONF
PROXY_DEBUG=${PROXY_DEBUG:--dd} start_proxy "$WORK/px.conf" proxy
ok $? "proxy starts"

python3 "$TOP_SRCDIR/tests/integration/torture.py" "$DAT" "$DAT/expected" \
	"$PX_PORT" "$PX_TLS_PORT" ${RFC4475_ONLY:-} > "$WORK/torture.out" 2>&1
while read -r verdict rest; do
	case "$verdict $rest" in
	"ok "*) ok 0 "$rest" ;;
	"not "*) ok 1 "${rest#ok }" ;;
	*) echo "# $verdict $rest" ;;
	esac
done < "$WORK/torture.out"
[ -n "${RFC4475_ONLY:-}" ] || [ "$(grep -c '^\(not \)\?ok ' "$WORK/torture.out")" -eq 49 ]
ok $? "torture.py reported on every message"

kill -0 "$PX_PID"
ok $? "daemon still running"
kill "$PX_PID"
wait "$PX_PID"
ok $? "daemon exits cleanly"
! grep -q 'Sanitizer\|runtime error' "$WORK/proxy.log"
ok $? "no sanitizer report"
PIDS=""
t_done
