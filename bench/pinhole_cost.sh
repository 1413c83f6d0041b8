#!/bin/bash
# pinhole_cost.sh [-n CALLS] [-r RATE] [-R ROUNDS] [BUILD_DIR] - the cost of
# a call with media pinholes against the same call without, in one run:
# e2mproxyd's CPU time per call (user + system, from /proc) with an
# active INVITE rule reading the plain SDP of SIPp calls, pinholes on
# (nftables sets, the shipped ruleset) and off. Runs in a network
# namespace of its own (unshare -rn). Rounds alternate off/on; medians.
# A benchmark: it asserts nothing, it prints figures.
set -u
CALLS=3000 RATE=200 ROUNDS=3
while getopts n:r:R: o; do
	case $o in
	n) CALLS=$OPTARG ;;
	r) RATE=$OPTARG ;;
	R) ROUNDS=$OPTARG ;;
	*) echo "usage: $0 [-n CALLS] [-r RATE] [-R ROUNDS] [BUILD_DIR]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
if [ -z "${E2M_BENCH_NETNS:-}" ]; then
	exec unshare -rn env E2M_BENCH_NETNS=1 bash "$0" -n "$CALLS" -r "$RATE" \
	    -R "$ROUNDS" "$@"
fi
ip link set lo up
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/bench/lib.sh"
bench_build "${1:-}" || exit 1
SCEN=$TOP/tests/integration/scenarios
bench_workdir e2m-pinhole
nft -f "$TOP/conf/e2mproxy-nftables.conf" || exit 1
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$WORK/k.pem" -out "$WORK/c.pem" -days 1 -subj /CN=bench 2>/dev/null

conf() { # PINHOLES(true|false)
	cat > "$WORK/px.conf" <<CONF
log: { level = "warning"; };
sip: { listen = ( { transport = "udp"; address = "127.0.0.1"; port = 5060; } ); };
policy: { rules = ( { methods = [ "INVITE", "ACK" ]; } ); };
challenge: { mode = "legacy-unsigned"; encryption_certificate = "$WORK/c.pem"; };
pinholes: { enabled = $1; create = false; media_networks = [ "127.0.0.0/8" ];
            ports = [ "1024-65535" ]; };
CONF
}
# one PINHOLES: the proxy's CPU microseconds per call for one round
one() {
	local pid t0 t1
	conf "$1"
	"$PROXY" -D -f "$WORK/px.conf" > "$WORK/px.log" 2>&1 &
	pid=$!
	bench_track "$pid"
	sipp -sf "$SCEN/uas_call.xml" -i 127.0.0.1 -p 5070 -nostdin > /dev/null 2>&1 &
	bench_track $!
	wait_port udp 5060 "$pid" && wait_port udp 5070 $! ||
		{ echo "pinhole_cost.sh: the proxy or the SIPp UAS did not start" >&2; bench_stop; exit 1; }
	t0=$(ticks "$pid")
	sipp -sf "$SCEN/uac_call.xml" 127.0.0.1:5070 -rsa 127.0.0.1:5060 \
		-i 127.0.0.1 -p 5080 -m "$CALLS" -r "$RATE" -l 1000 -nostdin \
		-timeout 120 > "$WORK/uac.log" 2>&1 || echo "  (some calls failed)" >&2
	t1=$(ticks "$pid")
	bench_stop
	echo "$t0 $t1 $CALLS $(getconf CLK_TCK)" |
		awk '{ printf "%.1f\n", ($2 - $1) * 1e6 / $4 / $3 }'
}
echo "pinhole_cost: $CALLS calls a round at $RATE/s, $ROUNDS rounds each"
: > "$WORK/off"; : > "$WORK/on"
for r in $(seq 1 "$ROUNDS"); do
	off=$(one false); on=$(one true)
	echo "round $r: proxy CPU per call: pinholes off $off us, on $on us"
	echo "$off" >> "$WORK/off"; echo "$on" >> "$WORK/on"
done
off=$(median low < "$WORK/off"); on=$(median low < "$WORK/on")
echo "median: off $off us, on $on us, ratio on/off $(ratio "$on" "$off")"
echo "(the firewall's own work is on the back end's thread: counted; the kernel's netlink handling is in system time)"
