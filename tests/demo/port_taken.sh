#!/bin/bash
# The README's main command on a host where the SIP port is taken (as on
# any SIP server): demo.sh must say which port and which process, exit 1,
# and start nothing. Run from the top of the tree, in a network namespace
# of its own so that the taken port is ours; E2M_DEMO_NETNS=no keeps the
# demo in that namespace's (the "host's") network.
set -u
if [ -z "${IN_NS:-}" ]; then
	if ! unshare -rn true 2>/dev/null; then
		echo "SKIP: this machine forbids network namespaces (unshare -rn)," \
		    "so the port cannot be taken without touching the host's"
		exit 0
	fi
	exec unshare -rn env IN_NS=1 bash "$0" "$@"
fi
ip link set lo up
T=$(mktemp -d)
python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 5060))
open("/dev/stdout", "w").write("bound\n")
time.sleep(120)' > "$T/holder" &
HOLDER=$!
trap 'kill $HOLDER 2>/dev/null; rm -rf "$T"' EXIT
for i in $(seq 1 100); do grep -q bound "$T/holder" && break; sleep 0.05; done
E2M_DEMO_NETNS=no ./scripts/demo.sh > "$T/out" 2>&1
rc=$?
cat "$T/out"
out=$(cat "$T/out")
fail=0
[ "$rc" -eq 1 ] || { echo "FAIL: exit $rc, want 1"; fail=1; }
case $out in *"udp port 5060 on this host is taken by python3 (pid $HOLDER)"*) ;;
	*) echo "FAIL: no line naming the port and its holder"; fail=1 ;; esac
case $out in *"0. A throwaway PKI"*) echo "FAIL: the demo went on"; fail=1 ;; esac
[ "$fail" -eq 0 ] && echo "ok: demo.sh names the taken port and its holder, exit 1"
exit "$fail"
