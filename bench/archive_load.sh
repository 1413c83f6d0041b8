#!/bin/bash
# archive_load.sh [-n COUNT] [-w WINDOW] [-r ROUNDS] [BUILD_DIR] - MESSAGEs
# a second through e2mproxyd with the IM archive on (every record written
# and fdatasync'd before its MESSAGE is forwarded) against the same load
# with the archive off, in one run, and the ratio. Rounds alternate off/on
# so that drift on this machine hits both alike; medians are reported.
#
# The load: COUNT plain-text MESSAGEs under an active rule, pipelined over
# one TCP connection with at most WINDOW outstanding (tests/integration/
# flood.py), to a UAS answering 200 (tests/integration/uas.py). The archive
# file is on this machine's disk (a mktemp directory under /var/tmp, not a
# tmpfs). A benchmark: it asserts nothing, it prints figures.
set -u
COUNT=20000 WINDOW=128 ROUNDS=3
while getopts n:w:r: o; do
	case $o in
	n) COUNT=$OPTARG ;;
	w) WINDOW=$OPTARG ;;
	r) ROUNDS=$OPTARG ;;
	*) echo "usage: $0 [-n COUNT] [-w WINDOW] [-r ROUNDS] [BUILD_DIR]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/bench/lib.sh"
bench_build "${1:-}" || exit 1
bench_need_proxy
bench_workdir archive_load /var/tmp # a real disk: fdatasync costs nothing on tmpfs
PORT=23400 UAS=23410

python3 "$TOP/tests/integration/uas.py" tcp "$UAS" - 100000000 3600 &
bench_track $!
wait_port tcp "$UAS" $! || { echo "archive_load.sh: the UAS did not start" >&2; exit 1; }
printf 'MESSAGE sip:bob@127.0.0.1:%s;transport=tcp SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK-l-@N@\r\nFrom: <sip:alice@example.com>;tag=a\r\nTo: <sip:bob@example.com>\r\nCall-ID: load-@N@-%s@bench\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\nContent-Type: text/plain\r\nContent-Length: 44\r\n\r\nthe minutes of the meeting are on the share.' \
	"$UAS" "$RANDOM" > "$WORK/msg.sip"

conf() { # FILE ARCHIVE(0|1)
	cat > "$1" <<CONF
log: { level = "info"; };
sip: { listen = ( { transport = "tcp"; address = "127.0.0.1"; port = $PORT; } ); };
policy: { rules = ( { methods = [ "MESSAGE" ]; } ); };
challenge: { mode = "legacy-unsigned"; encryption_certificate = "$WORK/cert.pem"; };
archive: { enabled = $( [ "$2" = 1 ] && echo true || echo false ); path = "$WORK/im.jsonl"; };
CONF
}
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/key.pem" \
	-out "$WORK/cert.pem" -days 1 -subj /CN=bench 2>/dev/null

# one ARCHIVE: MESSAGEs a second for one round
one() {
	local pid t0 t1 out
	conf "$WORK/px.conf" "$1"
	"$PROXY" -D -f "$WORK/px.conf" > "$WORK/px.log" 2>&1 &
	pid=$!
	wait_port tcp "$PORT" "$pid"
	t0=$(date +%s.%N)
	out=$(python3 "$TOP/tests/integration/flood.py" "$PORT" "$WORK/msg.sip" "$COUNT" 120 "$WINDOW")
	t1=$(date +%s.%N)
	kill "$pid"
	wait "$pid" 2>/dev/null
	if [ "$out" != "$(printf '200 %s\nretry-after 0' "$COUNT")" ]; then
		echo "archive_load.sh: round failed:" $out >&2
		grep -m3 'answered\|archive' "$WORK/px.log" >&2
		exit 1
	fi
	echo "$COUNT $t0 $t1" | awk '{ printf "%.0f\n", $1 / ($3 - $2) }'
}
echo "archive_load: $COUNT MESSAGEs a round, window $WINDOW, $ROUNDS rounds each, archive in $WORK"
: > "$WORK/off" ; : > "$WORK/on"
for r in $(seq 1 "$ROUNDS"); do
	off=$(one 0); on=$(one 1)
	echo "round $r: archive off $off/s, archive on $on/s"
	echo "$off" >> "$WORK/off"; echo "$on" >> "$WORK/on"
done
records=$(grep -c '"kind":"message"' "$WORK/im.jsonl")
off=$(median low < "$WORK/off"); on=$(median low < "$WORK/on")
echo "median: off $off/s, on $on/s, ratio on/off $(ratio "$on" "$off"); $records message records written"
