#!/bin/bash
# Faults: a TCP next hop that vanishes without closing (powered off, its
# network gone): no RST, no FIN, our data never acknowledged. Without a
# bound the kernel retransmits for about 15 minutes, the connection and
# what waits on it with it, and the caller gets the 408 of the
# transaction timeout. With sip.send_timeout (TCP_USER_TIMEOUT) the
# kernel gives up after that long, Sofia sees the error and the caller
# gets 500 at once (RFC 3261 16.7: a transport error is a 503, sent on
# as 500). The vanishing is made by nftables dropping everything the
# next hop sends, in network namespaces of the test's own (nothing of the
# host's firewall is touched). The same with the setting at 0 (the
# kernel's behaviour): 408 after the transaction timeout, so the test
# fails without the setting. Without namespaces or nft it is skipped,
# saying so: it never passes without having run.
set -u
: "${TOP_SRCDIR:?TOP_SRCDIR must name the source tree}"

. "$TOP_SRCDIR/tests/integration/ownns.sh"
own_namespaces t_fault_vanish.sh -n nft ip

. "$TOP_SRCDIR/tests/integration/lib.sh"
t_init fault_vanish 24200
CALLEE=$((BASE + 5))
UAS="$TOP_SRCDIR/tests/integration/uas.py"

# conf FILE SEND_TIMEOUT: the proxy (a TCP listener too: Sofia opens
# TCP connections only with one); every request goes to the callee over
# TCP; a transaction timeout far longer than the send timeout.
conf() {
	cat > "$1" <<CONF
log: { level = "info"; };
sip: {
  transaction_timeout = 8000;
  send_timeout = $2;
  listen = ( { transport = "udp"; address = "127.0.0.1"; port = $PX_PORT; },
             { transport = "tcp"; address = "127.0.0.1"; port = $PX_PORT; } );
};
routing: { default_next_hop = "sip:127.0.0.1:$CALLEE;transport=tcp"; };
CONF
}

# message CALLID: a MESSAGE from the caller (UDP) to $WORK/CALLID.sip
message() {
	printf 'MESSAGE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%s;rport;branch=z9hG4bK-%s\r\nFrom: <sip:alice@example.com>;tag=a\r\nTo: <sip:bob@example.com>\r\nCall-ID: %s\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello' \
		"$UAC_PORT" "$1" "$1" > "$WORK/$1.sip"
}

# vanish SEND_TIMEOUT: a first MESSAGE opens the connection to the callee
# and is answered; then everything the callee sends is dropped and a
# second MESSAGE is sent. Sets FIRST (the first's status line), STATUS
# and SECS (the second's status code and seconds to it); 1 if a step
# before the second MESSAGE failed.
vanish() {
	local t0 t1 st
	FIRST=none STATUS=none SECS=0
	nft flush ruleset
	conf "$WORK/px-$1.conf" "$1"
	start_proxy "$WORK/px-$1.conf" "proxy-$1" || return 1
	python3 "$UAS" tcp "$CALLEE" - 5 60 > "$WORK/callee-$1.log" 2>&1 &
	CALLEE_PID=$!
	PIDS="$PIDS $CALLEE_PID"
	wait_listen tcp "$CALLEE" || return 1
	message "first-$1"
	FIRST=$(python3 "$TOP_SRCDIR/tests/integration/sipraw.py" udp 127.0.0.1 "$PX_PORT" "$WORK/first-$1.sip" 10)
	case $FIRST in "SIP/2.0 200 "*) ;; *) return 1 ;; esac
	nft add table inet vanish &&
		nft add chain inet vanish in '{ type filter hook input priority 0; }' &&
		nft add rule inet vanish in tcp sport "$CALLEE" drop || return 1
	message "second-$1"
	t0=$(date +%s.%N)
	st=$(python3 "$TOP_SRCDIR/tests/integration/sipraw.py" udp 127.0.0.1 "$PX_PORT" "$WORK/second-$1.sip" 25)
	t1=$(date +%s.%N)
	STATUS=$(echo "$st" | cut -d' ' -f2)
	SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
	return 0
}
# stop: the proxy and the callee of the last round
stop() {
	kill "$PX_PID" "$CALLEE_PID" 2>/dev/null
	wait "$PX_PID" "$CALLEE_PID" 2>/dev/null
	nft flush ruleset
}

vanish 2
ok $? "send_timeout 2: the callee answered over TCP ($FIRST), then vanished"
[ "$STATUS" = 500 ] && awk -v s="$SECS" 'BEGIN { exit !(s < 6) }'
ok $? "the caller got 500 within seconds, not 408 after 8 s ($STATUS after $SECS s)"
grep -q "tcp connection with 127.0.0.1:$CALLEE: Connection timed out" "$WORK/proxy-2.log"
ok $? "the proxy logged the connection timed out"
stop

vanish 0
ok $? "send_timeout 0 (the kernel's): the callee answered ($FIRST), then vanished"
[ "$STATUS" = 408 ] && awk -v s="$SECS" 'BEGIN { exit !(s >= 7.5) }'
ok $? "without it the caller waits out the transaction: 408 after 8 s ($STATUS after $SECS s)"
stop
t_done
