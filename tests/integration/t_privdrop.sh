#!/bin/bash
# Started as root with daemon.user, the daemon gives up root after binding
# and reading its keys: its credentials, read from /proc, are the user's
# and group's alone (real, effective, saved, no supplementary groups, no
# capabilities), and it still serves. Its pid file holds its pid and is
# locked: a second daemon on it is refused. The in-process nftables
# pinholes keep CAP_NET_ADMIN, and nothing else, in every thread. Needs
# real root (not root of a user namespace, where no other uid is mapped).
. "$TOP_SRCDIR/tests/integration/lib.sh"
if [ "$(id -u)" -ne 0 ] || [ "$(awk 'NR == 1 { print $1, $2, $3 }' /proc/self/uid_map)" != "0 0 4294967295" ]; then
	echo "# WARNING: not real root: privilege dropping cannot be tested here" >&2
	echo "1..0 # SKIP needs real root"
	exit 0
fi
t_init privdrop 21640
SRC_PORT=$((BASE + 12))
# The user must reach the configuration's directory after the drop (SIGHUP
# and the archive live there in real deployments).
chmod 755 "$WORK"
NOBODY_UID=$(id -u nobody)
NOGROUP_GID=$(getent group nogroup | cut -d: -f3)

conf() { # FILE EXTRA
	cat > "$1" <<CONF
daemon: { user = "nobody"; group = "nogroup"; pid_file = "$WORK/e2mproxyd.pid"; };
log: { level = "debug"; };
sip: {
  listen = ( { transport = "udp"; address = "127.0.0.1"; port = $PX_PORT; },
             { transport = "tcp"; address = "127.0.0.1"; port = $PX_PORT; } );
};
${2:-}
CONF
}

# status_of PID FIELD: the numbers of /proc/PID/status FIELD, one line
status_of() {
	awk -v f="$2:" '$1 == f { $1 = ""; sub(/^ /, ""); print }' "/proc/$1/status"
}

options_483() {
	python3 - "$PX_PORT" "$SRC_PORT" <<'PY'
import socket, sys
port, src = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', src))
s.settimeout(5)
s.sendto(('OPTIONS sip:x@unknown.invalid SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-pd1\r\n'
          'Max-Forwards: 0\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:x@unknown.invalid>\r\n'
          'Call-ID: privdrop@test\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n' % src).encode(),
         ('127.0.0.1', port))
print(s.recv(4096).split(b'\r\n', 1)[0].decode())
PY
}

conf "$WORK/px.conf"
start_proxy "$WORK/px.conf" px
ok $? "started as root with daemon.user nobody"
grep -q "running as user nobody (uid $NOBODY_UID, gid $NOGROUP_GID)" "$WORK/px.log"
ok $? "it says whom it runs as"
uids=$(status_of "$PX_PID" Uid); gids=$(status_of "$PX_PID" Gid)
groups=$(status_of "$PX_PID" Groups)
[ "$uids" = "$NOBODY_UID $NOBODY_UID $NOBODY_UID $NOBODY_UID" ] &&
	[ "$gids" = "$NOGROUP_GID $NOGROUP_GID $NOGROUP_GID $NOGROUP_GID" ] &&
	[ -z "$groups" ]
ok $? "/proc: uid real/effective/saved/fs $uids, gid $gids, groups [$groups]"
bad=0
for t in /proc/"$PX_PID"/task/*; do
	for f in CapEff CapPrm CapAmb; do
		[ "$(awk -v f="$f:" '$1 == f { print $2 }' "$t/status")" = 0000000000000000 ] || bad=1
	done
done
[ "$bad" -eq 0 ]
ok $? "no capability left in any of its $(ls /proc/"$PX_PID"/task | wc -l) threads"
[ "$(cat "$WORK/e2mproxyd.pid" 2>/dev/null)" = "$PX_PID" ]
ok $? "the pid file holds its pid"
[ "$(options_483)" = "SIP/2.0 483 Too Many Hops" ]
ok $? "it still serves (an OPTIONS answered 483)"
"$E2MPROXYD" -D -f "$WORK/px.conf" > "$WORK/second.out" 2>&1
[ $? -ne 0 ] && grep -q "held by a running e2mproxyd, pid $PX_PID" "$WORK/second.out"
ok $? "a second daemon on the same pid file is refused, naming the first"
kill "$PX_PID"
wait_pid "$PX_PID" 5
ok $? "SIGTERM stops it with exit 0"

# The stale file (nobody cannot unlink it from a root directory) does not
# stop the next start: the lock decides.
"$E2MPROXYD" -f "$WORK/px.conf" > "$WORK/bg.out" 2>&1
ok $? "a detached start: the parent exits 0"
for i in $(seq 1 100); do
	BG=$(cat "$WORK/e2mproxyd.pid" 2>/dev/null)
	[ -n "$BG" ] && [ "$(status_of "$BG" Uid | cut -d' ' -f1)" = "$NOBODY_UID" ] && break
	sleep 0.05
done
[ -n "$BG" ] && [ "$(tr '\0' ' ' < "/proc/$BG/cmdline")" = "$E2MPROXYD -f $WORK/px.conf " ] &&
	[ "$(status_of "$BG" Uid | cut -d' ' -f1)" = "$NOBODY_UID" ]
ok $? "detached: the pid file names the daemon (pid $BG), running as nobody"
PIDS="$PIDS $BG"
kill "$BG"
for i in $(seq 1 100); do kill -0 "$BG" 2>/dev/null || break; sleep 0.05; done

printf 'daemon: { user = "no-such-user-e2m"; group = "no-such-group-e2m"; };\n' > "$WORK/nouser.conf"
"$E2MPROXYD" -c -f "$WORK/nouser.conf" > "$WORK/nouser.out" 2>&1
[ $? -eq 1 ] && grep -q "nouser.conf:1: daemon.user: no user \"no-such-user-e2m\" on this system" "$WORK/nouser.out" &&
	grep -q "nouser.conf:1: daemon.group: no group \"no-such-group-e2m\" on this system" "$WORK/nouser.out"
ok $? "-c refuses a user and a group that do not exist"

# Not root, with daemon.user root: refused before it serves anything.
conf "$WORK/notroot.conf"
sed -i 's/user = "nobody"; group = "nogroup"; pid_file = "[^"]*"/user = "root"/' "$WORK/notroot.conf"
chmod 644 "$WORK/notroot.conf"
setpriv --reuid=nobody --regid=nogroup --clear-groups \
	"$E2MPROXYD" -D -f "$WORK/notroot.conf" > "$WORK/notroot.out" 2>&1
[ $? -ne 0 ] && grep -q 'daemon.user is "root" but e2mproxyd was not started as root' "$WORK/notroot.out" &&
	! grep -q 'e2mproxyd .* started$' "$WORK/notroot.out"
ok $? "started as nobody with daemon.user root: refused ($(grep -o 'daemon.user.*' "$WORK/notroot.out" | head -1))"

# In-process nftables pinholes: CAP_NET_ADMIN stays, in every thread, and
# the netlink work after the drop succeeds (the start checks the sets).
if unshare -n true 2>/dev/null && command -v nft > /dev/null; then
	conf "$WORK/nft.conf" "pinholes: { enabled = true; create = false;
  media_networks = [ \"127.0.0.0/8\" ]; ports = [ \"40000-40999\" ]; };"
	sed -i 's/^sip: {/sip: { record_route = true;/' "$WORK/nft.conf"
	sed -i "s|pid_file = \"[^\"]*\"|pid_file = \"$WORK/nft.pid\"|" "$WORK/nft.conf"
	unshare -n bash -c '
		ip link set lo up
		nft -f "$1/conf/e2mproxy-nftables.conf" || exit 2
		"$2" -D -f "$3/nft.conf" > "$3/nft.log" 2>&1 &
		px=$!
		for i in $(seq 1 100); do grep -q started "$3/nft.log" && break; sleep 0.05; done
		for t in /proc/$px/task/*; do
			awk "\$1 == \"CapEff:\" || \$1 == \"CapPrm:\" { print \$2 }" "$t/status"
		done > "$3/nft.caps"
		kill $px; wait $px
	' - "$TOP_SRCDIR" "$E2MPROXYD" "$WORK"
	grep -q started "$WORK/nft.log" && grep -q "keeping CAP_NET_ADMIN" "$WORK/nft.log" &&
		[ -s "$WORK/nft.caps" ] && [ "$(sort -u "$WORK/nft.caps")" = 0000000000001000 ]
	ok $? "nftables pinholes: started as nobody, CAP_NET_ADMIN alone in all $(($(wc -l < "$WORK/nft.caps") / 2)) threads"
	grep -q started "$WORK/nft.log" || sed 's/^/#   /' "$WORK/nft.log"
else
	echo "# WARNING: no network namespace or nft: the pinhole capability is not checked" >&2
	ok 0 "nftables pinholes: skipped (no network namespace or nft here)"
fi
t_done
