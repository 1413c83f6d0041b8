#!/bin/bash
# Malformed and hostile input: answered 400/413 or dropped as RFC 3261
# says, and the daemon keeps answering afterwards.
. "$TOP_SRCDIR/tests/integration/lib.sh"
t_init bad_input 21160
write_conf "$WORK/px.conf" "max_message_size = 8192;"
start_proxy "$WORK/px.conf" proxy
ok $? "proxy starts"

# msg NAME: write a request from stdin with CRLF line ends to $WORK/NAME
msg() {
	sed 's/$/\r/' > "$WORK/$1"
}
# The probe: an OPTIONS to the proxy itself, which it answers.
printf 'OPTIONS sip:127.0.0.1:%s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;rport;branch=z9hG4bK-probe-%s\r\nFrom: <sip:t@127.0.0.1>;tag=p\r\nTo: <sip:127.0.0.1:%s>\r\nCall-ID: probe-%s@test\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n' \
	"$PX_PORT" "$RANDOM$RANDOM" "$PX_PORT" "$RANDOM$RANDOM" > "$WORK/probe.sip"
# expect NAME PROTO WANT: send, compare the first status line's code.
# An answer is waited for up to 10 s. No answer (TIMEOUT) over UDP is
# shown by the probe's answer coming first (sipraw.py prints NONE); over
# TCP the proxy closes the connection on garbage, or 1 s passes.
expect() {
	local got wait=$((10 * WAIT_SCALE)) probe=""
	if [ "$3" = TIMEOUT ]; then
		wait=1
		[ "$2" = udp ] && wait=$((10 * WAIT_SCALE)) && probe=$WORK/probe.sip
	fi
	got=$(python3 "$TOP_SRCDIR/tests/integration/sipraw.py" "$2" 127.0.0.1 "$PX_PORT" "$WORK/$1" "$wait" ${probe:+"$probe"})
	[ "$got" = NONE ] && got=TIMEOUT
	case "$got" in
	"$3"*) ok 0 "$1 over $2: $3" ;;
	*) ok 1 "$1 over $2: want $3, got $got" ;;
	esac
	proxy_answers
	ok $? "alive after $1 over $2"
}
hdrs() {
	cat <<SIP
Via: SIP/2.0/UDP 127.0.0.1:$UAC_PORT;rport;branch=z9hG4bK-bad-$1-$RANDOM
From: <sip:t@127.0.0.1>;tag=bad$1
To: <sip:x@127.0.0.1:$UAS_PORT>
SIP
}

printf 'hello world\r\n' > "$WORK/garbage"
expect garbage udp TIMEOUT
head -c 1500 /dev/urandom > "$WORK/random"
expect random udp TIMEOUT
expect random tcp TIMEOUT

{ echo "MESSAGE sip:x@127.0.0.1:$UAS_PORT SIP/2.0"; hdrs nocallid
  echo "CSeq: 1 MESSAGE"; echo "Max-Forwards: 70"; echo "Content-Length: 0"; echo; } | msg no-call-id
expect no-call-id udp "SIP/2.0 400"

{ echo "MESSAGE sip:x@127.0.0.1:$UAS_PORT SIP/2.0"; hdrs nocseq
  echo "Call-ID: nocseq@test"; echo "Max-Forwards: 70"; echo "Content-Length: 0"; echo; } | msg no-cseq
expect no-cseq udp "SIP/2.0 400"

{ echo "MESSAGE sip:x@127.0.0.1:$UAS_PORT SIP/2.0"
  echo "From: <sip:t@127.0.0.1>;tag=novia"; echo "To: <sip:x@127.0.0.1>"
  echo "Call-ID: novia@test"; echo "CSeq: 1 MESSAGE"; echo "Content-Length: 0"; echo; } | msg no-via
expect no-via udp TIMEOUT

{ echo "MESSAGE sip:x@127.0.0.1:$UAS_PORT SIP/2.0"; hdrs badmf
  echo "Call-ID: badmf@test"; echo "CSeq: 1 MESSAGE"; echo "Max-Forwards: lots"
  echo "Content-Length: 0"; echo; } | msg bad-max-forwards
expect bad-max-forwards udp "SIP/2.0 400"

{ echo "MESSAGE sip:x@127.0.0.1:$UAS_PORT SIP/2.0"; hdrs trunc
  echo "Call-ID: trunc@test"; echo "CSeq: 1 MESSAGE"; echo "Max-Forwards: 70"
  echo "Content-Type: text/plain"; echo "Content-Length: 500"; echo; echo "short"; } | msg truncated
expect truncated udp "SIP/2.0 400"

{ echo "MESSAGE sip:x@127.0.0.1:$UAS_PORT SIP/2.0"; hdrs big
  echo "Call-ID: big@test"; echo "CSeq: 1 MESSAGE"; echo "Max-Forwards: 70"
  echo "Content-Type: text/plain"; echo "Content-Length: 12000"; echo; } | msg oversize
head -c 12000 /dev/zero | tr '\0' 'y' >> "$WORK/oversize"
sed -i 's|SIP/2.0/UDP|SIP/2.0/TCP|' "$WORK/oversize" # nta drops a Via that lies
expect oversize tcp "SIP/2.0 413"
{ echo "MESSAGE sip:x@127.0.0.1:$UAS_PORT SIP/2.0"; hdrs bigudp
  echo "Call-ID: bigudp@test"; echo "CSeq: 1 MESSAGE"; echo "Max-Forwards: 70"
  echo "Content-Type: text/plain"; echo "Content-Length: 9000"; echo; } | msg oversize-udp
head -c 9000 /dev/zero | tr '\0' 'z' >> "$WORK/oversize-udp"
expect oversize-udp udp "SIP/2.0 413"

{ echo "NOTAMETHOD"; echo; } | msg no-request-line
expect no-request-line udp TIMEOUT

printf '\r\n\r\n' > "$WORK/keepalive"
expect keepalive udp TIMEOUT

# A stray 200 whose Via is not ours must not be reflected anywhere.
{ echo "SIP/2.0 200 OK"; echo "Via: SIP/2.0/UDP 127.0.0.1:$UAS_PORT;branch=z9hG4bK-stray"
  echo "Via: SIP/2.0/UDP 127.0.0.1:$((BASE + 12));branch=z9hG4bK-victim"
  echo "From: <sip:t@127.0.0.1>;tag=s"; echo "To: <sip:x@127.0.0.1>;tag=t"
  echo "Call-ID: stray@test"; echo "CSeq: 1 INVITE"; echo "Content-Length: 0"; echo; } | msg stray-200
python3 - "$((BASE + 12))" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', int(sys.argv[1])))
s.settimeout(2)
try:
    s.recv(65535)
    sys.exit(1)
except socket.timeout:
    sys.exit(0)
PY
VICTIM=$!
wait_listen udp "$((BASE + 12))"
ok $? "the victim listens"
expect stray-200 udp TIMEOUT
wait "$VICTIM"
ok $? "a stray 200 with a foreign Via is not forwarded"
kill -0 "$PX_PID"
ok $? "daemon still running"
t_done
