# baresip.sh - Debian's baresip 1.0 softphone, headless, in integration
# tests. Sourced after lib.sh (needs $WORK, $PIDS, $TOP_SRCDIR).
#
#   bs_start NAME PORT OUTBOUND [ACCOUNT_PARAMS]
#       (NAME: letters, digits and _, it names shell variables too.)
#       Write a config directory $WORK/bs-NAME and run baresip (a
#       background job: pids in $PIDS, so t_cleanup stops it) with one
#       account, $BS_AOR (default sip:bob@example.com), that registers
#       through OUTBOUND (a SIP URI such as sip:127.0.0.1:5060 or
#       "sip:127.0.0.1:5060;transport=tcp"; its transport is also the
#       account's) and answers every incoming call at once (answermode=
#       auto). Baresip 1.0 has no registrar setting of its own: it sends
#       REGISTER sip:example.com (the AoR's domain) to the outbound proxy,
#       so OUTBOUND is the registrar itself or a proxy that routes
#       example.com to it (e2mproxyd, later). ACCOUNT_PARAMS are appended
#       to the account line (";regint=30;..."). RFC 5626 outbound is on
#       (;sipnat=outbound: reg-id, +sip.instance, ;ob, keep-alives) unless
#       BS_SIPNAT is set empty. Ports: SIP on 127.0.0.1:PORT (UDP and
#       TCP; baresip also takes PORT+1 for its TLS listener), ctrl_tcp on
#       PORT+2, RTP in PORT+4..PORT+9. Returns 0 once the control
#       connection is up (bounded, 15 s). Registration starts before the
#       control connection exists (the account is loaded first), so
#       bs_wait_registered also reads baresip's own log.
#   bs_cmd NAME COMMAND [PARAMS]
#       Send a ctrl_tcp command ("dial", "hangup", "reginfo", "listcalls").
#   bs_mark NAME
#       Remember how far the event log and baresip's log go; the waits
#       below only look at what came after the last mark (bs_dial marks
#       by itself; bs_start starts with a mark at 0).
#   bs_wait_event NAME REGEX [SECONDS]
#       Wait (default 15 s) for an event (a JSON line) or a line of
#       baresip's log after the mark matching REGEX (extended grep);
#       1 on timeout.
#   bs_wait_registered NAME [SECONDS]   a REGISTER_OK event or the log's
#                                       "bob@example.com: {..} 200 OK" line
#                                       after the mark
#   bs_dial NAME URI                    mark, then dial URI
#   bs_hangup NAME                      hang up the current call
#   bs_wait_call_established NAME [SECONDS]
#   bs_wait_call_closed NAME [SECONDS]
#   bs_stop NAME                        quit baresip (SIGTERM), bounded
#
# Files: $WORK/bs-NAME.log (baresip's output with the SIP trace, -s) and
# $WORK/bs-NAME.events.log (one JSON event or command response a line, as
# ctrl_tcp sends them: {"event":true,"type":"REGISTER_OK",...},
# {"event":true,"type":"CALL_ESTABLISHED",...}, {"response":true,...}).
#
# Headless audio: no sound card is touched. The microphone is ausine (a
# 440 Hz tone), the speaker and the ring tones go to aubridge devices that
# nothing reads; the only codec is G.711 (PCMU/PCMA). The tests care about
# signalling; RTP flows to wherever the SDP says.

BARESIP=${BARESIP:-baresip}
BS_AOR=${BS_AOR:-sip:bob@example.com}
BS_SIPNAT=${BS_SIPNAT-outbound}

bs_dir() { echo "$WORK/bs-$1"; }

bs_start() {
	local name=$1 port=$2 ob=$3 extra=${4:-} dir tp=udp nat=""
	command -v "$BARESIP" >/dev/null 2>&1 || {
		echo "# baresip is not installed (scripts/deps.sh installs it)"
		return 1
	}
	dir=$(bs_dir "$name")
	mkdir -p "$dir"
	case "$ob" in
	*transport=tcp*) tp=tcp ;;
	*transport=tls*) tp=tls ;;
	esac
	[ -n "$BS_SIPNAT" ] && nat=";sipnat=$BS_SIPNAT"
	cat > "$dir/config" <<BSCONF
# baresip configuration written by tests/integration/baresip.sh
poll_method		epoll
sip_listen		127.0.0.1:$port
call_local_timeout	30
call_max_calls		4
audio_player		aubridge,$name-play
audio_source		ausine,440
# ausine makes 48 kHz stereo only; baresip resamples for G.711
ausrc_srate		48000
ausrc_channels		2
audio_alert		aubridge,$name-alert
audio_level		no
rtp_ports		$((port + 4))-$((port + 9))
rtp_timeout		0
net_interface		127.0.0.1
module_path		/usr/lib/baresip/modules
module			g711.so
module			aubridge.so
module			ausine.so
module_tmp		uuid.so
module_tmp		account.so
module_app		menu.so
module_app		ctrl_tcp.so
ctrl_tcp_listen		127.0.0.1:$((port + 2))
ringback_disabled	yes
menu_bell		no
BSCONF
	printf '<%s;transport=%s>;answermode=auto;outbound="%s";regint=60%s;audio_codecs=PCMU,PCMA;mwi=no%s\n' \
		"$BS_AOR" "$tp" "$ob" "$nat" "$extra" > "$dir/accounts"
	: > "$dir/contacts"
	: > "$WORK/bs-$name.events.log"
	echo 0 > "$dir/mark"
	echo 0 > "$dir/logmark"
	"$BARESIP" -s -f "$dir" < /dev/null > "$WORK/bs-$name.log" 2>&1 &
	eval "BS_PID_$name=$!"
	PIDS="$PIDS $!"
	mkfifo "$dir/cmd"
	python3 "$TOP_SRCDIR/tests/integration/bsctl.py" $((port + 2)) \
		"$WORK/bs-$name.events.log" "$dir/cmd" >> "$WORK/bs-$name.log" 2>&1 &
	eval "BS_CTL_$name=$!"
	PIDS="$PIDS $!"
	bs_wait_event "$name" '"bsctl": "connected"' 15 && return 0
	echo "# baresip $name did not start (no control connection):"
	tail -n 30 "$WORK/bs-$name.log" | sed 's/^/#   /'
	return 1
}

bs_cmd() {
	local dir
	dir=$(bs_dir "$1")
	echo "$2 ${3:-}" > "$dir/cmd"
}

bs_mark() {
	wc -l < "$WORK/bs-$1.events.log" > "$(bs_dir "$1")/mark"
	wc -l < "$WORK/bs-$1.log" > "$(bs_dir "$1")/logmark"
}

# bs_since NAME: the event lines after the mark, then baresip's log lines
# after the mark
bs_since() {
	local dir
	dir=$(bs_dir "$1")
	tail -n +"$(($(cat "$dir/mark") + 1))" "$WORK/bs-$1.events.log"
	tail -n +"$(($(cat "$dir/logmark") + 1))" "$WORK/bs-$1.log"
}

bs_wait_event() {
	local name=$1 re=$2 limit=$((${3:-15} * 10)) i
	for i in $(seq 1 "$limit"); do
		bs_since "$name" | grep -Eq -- "$re" && return 0
		sleep 0.1
	done
	echo "# baresip $name: no event /$re/ within ${3:-15} s"
	return 1
}

bs_wait_registered() {
	# the log line: "bob@example.com: {1/UDP/v4} 200 OK (server) [1 binding]"
	bs_wait_event "$1" '"type":"REGISTER_OK"|^[^ ]+: \{[0-9]+/[A-Z]+/v[46]\} 2[0-9][0-9] ' "${2:-15}"
}

bs_dial() {
	bs_mark "$1"
	bs_cmd "$1" dial "$2"
}

bs_hangup() {
	bs_cmd "$1" hangup
}

bs_wait_call_established() {
	bs_wait_event "$1" '"type":"CALL_ESTABLISHED"' "${2:-15}"
}

bs_wait_call_closed() {
	bs_wait_event "$1" '"type":"CALL_CLOSED"' "${2:-15}"
}

bs_stop() {
	local p
	for p in $(eval echo "\${BS_PID_$1:-} \${BS_CTL_$1:-}"); do
		kill "$p" 2>/dev/null
		wait_pid "$p" 10 >/dev/null 2>&1
	done
	eval "BS_PID_$1= BS_CTL_$1="
}
