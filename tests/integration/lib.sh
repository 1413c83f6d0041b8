# lib.sh - shared helpers for the integration tests (sourced, bash).
# Each test prints TAP: "ok N - name" / "not ok N - name", then "1..N".
# Tests talk real SIP over 127.0.0.1 to SIPp, sipsak and e2mproxyd.

set -u
: "${E2MPROXYD:?E2MPROXYD must name the daemon binary}"
: "${TOP_SRCDIR:?TOP_SRCDIR must name the source tree}"
SIPP=${SIPP:-sipp}
[ -n "$SIPP" ] || SIPP=sipp
SCEN="$TOP_SRCDIR/tests/integration/scenarios"
# Helpers import each other (tcpoverload.py imports overload.py): no
# __pycache__ in the source tree, which EXTRA_DIST would ship.
export PYTHONDONTWRITEBYTECODE=1
# The system's python3 directly: a version manager's shim first in PATH
# (pyenv here) costs most of a second per start, and the tests start
# python helpers often (and wait for them: timing-sensitive).
# (bash's command hash, not a function: "python3 ... &" must leave the
# interpreter itself in $!, for the kill that ends it)
if [ -x /usr/bin/python3 ]; then
	hash -p /usr/bin/python3 python3
fi
T_N=0
T_FAILED=0
PIDS=""
# E2M_WAIT_SCALE: a whole factor on the bounds of the waits below, for
# slow runs (under valgrind a daemon starts in seconds, not milliseconds,
# and its leak check at exit takes seconds more).
WAIT_SCALE=${E2M_WAIT_SCALE:-1}
case $WAIT_SCALE in ''|*[!0-9]*|0) WAIT_SCALE=1 ;; esac

t_init() {
	# $1: test name, $2: first port of this test's private range (20 ports);
	# E2M_TEST_PORT_OFFSET moves every range, for two runs side by side.
	T_NAME=$1
	BASE=$(($2 + ${E2M_TEST_PORT_OFFSET:-0}))
	PX_PORT=$BASE
	PX_TLS_PORT=$((BASE + 1))
	UAS_PORT=$((BASE + 10))
	UAC_PORT=$((BASE + 11))
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/e2m-$T_NAME.XXXXXX")
	trap t_cleanup EXIT
}

t_cleanup() {
	local p i alive
	for p in $PIDS; do
		kill "$p" 2>/dev/null
	done
	# Give them time to exit: under AddressSanitizer the leak check at
	# exit can take a while, and a SIGKILL in the middle of it leaves a
	# broken report ("Unable to get registers from thread").
	for i in $(seq 1 $((50 * WAIT_SCALE))); do
		alive=0
		for p in $PIDS; do
			kill -0 "$p" 2>/dev/null && alive=1
		done
		[ "$alive" -eq 0 ] && break
		sleep 0.1
	done
	# A process that ignored SIGTERM would keep this test's ports busy.
	for p in $PIDS; do
		kill -0 "$p" 2>/dev/null && kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	if [ "$T_FAILED" -ne 0 ] || [ -n "${KEEP_WORK:-}" ]; then
		echo "# work directory kept: $WORK"
		for f in "$WORK"/*.log; do
			[ -f "$f" ] || continue
			echo "# --- $f (last 40 lines)"
			tail -n 40 "$f" | sed 's/^/#   /'
		done
	else
		rm -rf "$WORK"
	fi
}

ok() {
	# ok STATUS NAME: STATUS 0 passes
	T_N=$((T_N + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $T_N - $2"
	else
		T_FAILED=$((T_FAILED + 1))
		echo "not ok $T_N - $2"
	fi
}

# ok_eq GOT WANT NAME: the check NAME, passed when GOT is WANT
ok_eq() {
	[ "$1" = "$2" ]
	ok $? "$3"
}

t_done() {
	echo "1..$T_N"
	[ "$T_FAILED" -eq 0 ]
	exit $?
}

# write_conf FILE [SIP_EXTRA [OTHER_GROUPS]]: a proxy listening on UDP and
# TCP PX_PORT; SIP_EXTRA goes inside sip { }, OTHER_GROUPS at top level.
write_conf() {
	cat > "$1" <<CONF
log: { level = "debug"; };
sip: {
  listen = ( { transport = "udp"; address = "127.0.0.1"; port = $PX_PORT; },
             { transport = "tcp"; address = "127.0.0.1"; port = $PX_PORT; } );
  ${2:-}
};
${3:-}
CONF
}

# write_conf_tls FILE [SIP_EXTRA [OTHER_GROUPS]]: as write_conf, with a
# TLS listener on PX_TLS_PORT too and the tls group naming $WORK/px.pem,
# px.key and ca.pem (pki.sh: pki_ca "$WORK" && pki_cert "$WORK" px ...).
write_conf_tls() {
	cat > "$1" <<CONF
log: { level = "debug"; };
sip: {
  listen = ( { transport = "udp"; address = "127.0.0.1"; port = $PX_PORT; },
             { transport = "tcp"; address = "127.0.0.1"; port = $PX_PORT; },
             { transport = "tls"; address = "127.0.0.1"; port = $PX_TLS_PORT; } );
  ${2:-}
};
tls: { certificate = "$WORK/px.pem"; key = "$WORK/px.key"; ca_file = "$WORK/ca.pem"; };
${3:-}
CONF
}

# start_proxy CONF LOGNAME: run e2mproxyd in the foreground (background job)
start_proxy() {
	local log="$WORK/$2.log" i
	"$E2MPROXYD" -D ${PROXY_DEBUG:--d} -f "$1" > "$log" 2>&1 &
	PX_PID=$!
	PIDS="$PIDS $PX_PID"
	for i in $(seq 1 $((100 * WAIT_SCALE))); do
		grep -q "started" "$log" 2>/dev/null && return 0
		kill -0 "$PX_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "# e2mproxyd did not start:"
	sed 's/^/#   /' "$log"
	return 1
}

# wait_listen tcp|udp PORT: wait (up to 10 s) until something on 127.0.0.1
# listens there. A test peer written in Python can take more than a second
# to start on a loaded machine; a request forwarded before that gets a
# transport error (503) instead of the answer the test is about.
wait_listen() {
	local i
	for i in $(seq 1 $((200 * WAIT_SCALE))); do
		[ -n "$(ss -Hln --"$1" "sport = :$2" 2>/dev/null)" ] && return 0
		sleep 0.05
	done
	echo "# nothing listens on $1 port $2"
	return 1
}

# wait_for SECONDS COMMAND...: poll COMMAND every 50 ms until it succeeds
# (0) or SECONDS (times E2M_WAIT_SCALE) have passed (1). For a check that
# something happened: a bound generous for a loaded machine costs nothing
# when it does happen.
wait_for() {
	local i n=$(($1 * 20 * WAIT_SCALE))
	shift
	for i in $(seq 1 "$n"); do
		"$@" && return 0
		sleep 0.05
	done
	"$@"
}

# start_uas tcp|udp DIR COUNT TIMEOUT: uas.py on UAS_PORT (see there),
# ready when this returns 0
start_uas() {
	mkdir -p "$2"
	python3 "$TOP_SRCDIR/tests/integration/uas.py" "$1" "$UAS_PORT" "$2" "$3" \
		$(($4 * WAIT_SCALE)) &
	PIDS="$PIDS $!"
	wait_listen "$1" "$UAS_PORT"
}

# sipp_bg NAME ARGS...: a SIPp instance in the background (a UAS, usually)
sipp_bg() {
	local name=$1
	shift
	"$SIPP" "$@" -nostdin -trace_err -error_file "$WORK/$name.err.log" \
		-trace_msg -message_file "$WORK/$name.msg.log" \
		> "$WORK/$name.out.log" 2>&1 &
	LAST_PID=$!
	PIDS="$PIDS $LAST_PID"
}

# sipp_log NAME count|first|callids METHOD: what the SIPp instance NAME
# received, a resend by the proxy (byte-identical) taken as the request it
# repeats: see sipplog.py
sipp_log() {
	python3 "$TOP_SRCDIR/tests/integration/sipplog.py" "$WORK/$1.msg.log" "$2" "$3"
}

# sipp_run NAME ARGS...: a SIPp instance in the foreground; returns its code
sipp_run() {
	local name=$1
	shift
	timeout $((60 * WAIT_SCALE)) "$SIPP" "$@" -nostdin -trace_err \
		-error_file "$WORK/$name.err.log" \
		-trace_msg -message_file "$WORK/$name.msg.log" \
		> "$WORK/$name.out.log" 2>&1
}

# wait_pid PID SECONDS: wait for a background job; its exit code, 124 on timeout
wait_pid() {
	local pid=$1 limit=$(($2 * 20 * WAIT_SCALE)) i=0
	while kill -0 "$pid" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt $limit ]; then
			kill "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			return 124
		fi
		sleep 0.05
	done
	wait "$pid"
}

# uac_expect NAME METHOD MF STATUS RURIHOST [BODY]: fill the template
uac_expect() {
	local ack=""
	if [ "$2" = INVITE ] && [ "$4" -ge 300 ]; then
		ack='<send><![CDATA[
      ACK sip:[service]@'"$5"' SIP/2.0
      [last_Via:]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]></send>'
	fi
	sed -e "s|@METHOD@|$2|g" -e "s|@MF@|$3|g" -e "s|@STATUS@|$4|g" \
	    -e "s|@RURIHOST@|$5|g" -e "s|@BODY@|${6:-hello}|" \
	    "$SCEN/uac_expect.xml.in" > "$WORK/$1.xml"
	# sed cannot carry the multi-line ACK block; splice it with awk.
	awk -v ack="$ack" '{ if ($0 ~ /@ACK@/) print ack; else print }' \
	    "$WORK/$1.xml" > "$WORK/$1.xml.tmp" && mv "$WORK/$1.xml.tmp" "$WORK/$1.xml"
}

# skip NAME WHY: a check not run here, reported as TAP's SKIP (counted as
# skipped, never as passed)
skip() {
	T_N=$((T_N + 1))
	echo "ok $T_N - $1 # SKIP $2"
}

# at_valgrind_speed: e2mproxyd runs under valgrind (tests/valgrind/check.sh
# sets E2M_VALGRIND), 20-50 times slower: a check that the loop keeps up
# beside a flood, or is not yet busy, says nothing there (the loop is
# overloaded by design). Its leak check is what that run is for.
at_valgrind_speed() {
	[ -n "${E2M_VALGRIND:-}" ]
}
VALGRIND_SPEED="at valgrind speed the loop is overloaded by design"

# under_leak_checker: e2mproxyd runs under AddressSanitizer or valgrind:
# their leak check at exit replaces a test's RSS measurement, which their
# allocators distort (skip WHY: $LEAK_CHECKED).
under_leak_checker() {
	at_valgrind_speed || ldd "$E2MPROXYD" 2>/dev/null | grep -q libasan
}
LEAK_CHECKED="under ASan or valgrind: their leak check at exit decides"

# sip_raw PROTO PORT FILE [SECONDS]: send raw bytes, print the first status
# line received (within SECONDS, 5 unless told, times E2M_WAIT_SCALE)
sip_raw() {
	python3 "$TOP_SRCDIR/tests/integration/sipraw.py" "$1" 127.0.0.1 "$2" "$3" \
		$((${4:-5} * WAIT_SCALE))
}

# message_through NAME: $WORK/NAME.sip (a request to 127.0.0.1:$UAS_PORT)
# sent to the proxy over UDP while a SIPp UAS takes one MESSAGE: the
# answer's first line in $WORK/NAME.out, the first MESSAGE the UAS got
# (as its log has it) in $WORK/NAME.fwd, and in MSG_COUNT how many it got.
message_through() {
	local uas
	sipp_bg "uas_$1" -sf "$SCEN/uas_message.xml" -i 127.0.0.1 -p "$UAS_PORT" -m 1
	uas=$LAST_PID
	wait_listen udp "$UAS_PORT"
	sip_raw udp "$PX_PORT" "$WORK/$1.sip" > "$WORK/$1.out"
	wait_pid "$uas" 5
	sipp_log "uas_$1" first MESSAGE > "$WORK/$1.fwd"
	MSG_COUNT=$(sipp_log "uas_$1" count MESSAGE)
}

# proxy_answers: the proxy is alive and answers OPTIONS to itself with 200
proxy_answers() {
	local f="$WORK/options.$$.$RANDOM.sip"
	printf 'OPTIONS sip:127.0.0.1:%s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%s;rport;branch=z9hG4bK-alive-%s\r\nFrom: <sip:t@127.0.0.1>;tag=a%s\r\nTo: <sip:127.0.0.1:%s>\r\nCall-ID: alive-%s@test\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n' \
		"$PX_PORT" "$UAC_PORT" "$RANDOM$RANDOM" "$RANDOM" "$PX_PORT" "$RANDOM$RANDOM" > "$f"
	sip_raw udp "$PX_PORT" "$f" | grep -q '^SIP/2.0 200 '
}

# tcp_req NAME METHOD FROM CT BODYFILE [EXTRA-HEADERS]: a request for
# bob at the UAS (UAS_PORT) over TCP, to send through the proxy, written
# to $WORK/NAME.sip; CT and BODYFILE may be empty
tcp_req() {
	local name=$1 method=$2 from=$3 ct=$4 bodyf=$5 extra=${6:-} r=$RANDOM$RANDOM len=0
	[ -n "$bodyf" ] && len=$(stat -c %s "$bodyf")
	{
		printf '%s sip:bob@127.0.0.1:%s;transport=tcp SIP/2.0\r\n' "$method" "$UAS_PORT"
		printf 'Via: SIP/2.0/TCP 127.0.0.1:9;rport;branch=z9hG4bK-%s-%s\r\n' "$name" "$r"
		printf 'From: <sip:%s>;tag=f%s\r\nTo: <sip:bob@example.com>\r\n' "$from" "$r"
		printf 'Call-ID: %s-%s@test\r\nCSeq: 1 %s\r\nMax-Forwards: 70\r\n' "$name" "$r" "$method"
		printf 'Contact: <sip:x@127.0.0.1:9;transport=tcp>\r\n'
		[ -n "$ct" ] && printf 'Content-Type: %s\r\n' "$ct"
		[ -n "$extra" ] && printf '%b' "$extra"
		printf 'Content-Length: %s\r\n\r\n' "$len"
		[ -n "$bodyf" ] && cat "$bodyf"
	} > "$WORK/$name.sip"
}

# tcp_status NAME: send $WORK/NAME.sip to the proxy over TCP; print the
# final status code (waits up to 20 s: a bound, for loaded machines)
tcp_status() {
	python3 "$TOP_SRCDIR/tests/integration/sipraw.py" tcp 127.0.0.1 "$PX_PORT" \
		"$WORK/$1.sip" 20 | awk '{ print $2 }'
}

# The proxy's metrics, scraped from its listener at $URL (the test sets
# it: http://127.0.0.1:PORT) into $WORK/metrics.txt.
# scrape: fetch them now
scrape() { curl -sf "$URL/metrics" > "$WORK/metrics.txt"; }
# metric NAME{LABELS}: its value in the last scrape
metric() { awk -v m="$1" '$1 == m { print $2 }' "$WORK/metrics.txt"; }
# expect SERIES VALUE: a check that the last scrape has SERIES at VALUE
expect() {
	local got
	got=$(metric "$1")
	ok_eq "$got" "$2" "$1 is $2 (got ${got:-nothing})"
}

# A helper's facts: its "name value" lines, in $WORK/out.
# fact NAME: its value
fact() { awk -v n="$1" '$1 == n { print $2 }' "$WORK/out"; }
# is NAME VALUE WHAT: a check that fact NAME is VALUE
is() {
	local got
	got=$(fact "$1")
	ok_eq "$got" "$2" "$3 ($1: ${got:-nothing})"
}
