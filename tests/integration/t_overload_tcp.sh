#!/bin/bash
# Overload control for requests that came over TCP (and TLS): they carry
# no queue delay of their own (the kernel stamps datagrams, not stream
# bytes, and once our small receive buffer is full the backlog waits in
# the sender's socket). Two signals stand in for it: how long the
# request's connection has been backed up (every read finding our buffer
# full: overload.stream_backlog, on by default), and how
# long the proxy's loop has gone without catching up with its input
# (overload.loop_busy, off by default). Each is tested alone, the same
# way (the first over TCP and over TLS). Deterministic: the proxy is
# stopped (SIGSTOP) while a caller
# writes thousands of MESSAGEs and then a BYE on its TCP connection; once
# it goes on, it works through them without a break, its connection
# backed up and its loop busy all along, so the signal passes the (low,
# for the test) thresholds within the first few hundred: the first
# MESSAGEs are admitted, later ones get 503 + Retry-After, the BYE at the
# very end (in dialog) passes; then a new call completes.
. "$TOP_SRCDIR/tests/integration/lib.sh"
. "$TOP_SRCDIR/tests/integration/pki.sh"
t_init overload_tcp 24060
M_PORT=$((BASE + 3))
OVL=$TOP_SRCDIR/tests/integration/tcpoverload.py
URL=http://127.0.0.1:$M_PORT
N=4000

pki_ca "$WORK" && pki_cert "$WORK" px "IP:127.0.0.1" 127.0.0.1
ok $? "test PKI made with openssl"

# phase NAME REASON LOGTEXT SETTINGS [--tls]: the backlog, judged by one
# signal, over TCP (or TLS)
phase() {
	local name=$1 reason=$2 text=$3 tls=${5:-} port=$PX_PORT other shed
	other=loop_busy
	[ "$reason" = loop_busy ] && other=stream_backlog
	[ -n "$tls" ] && port=$PX_TLS_PORT
	# Thresholds low enough that working through the backlog passes
	# them on any machine (4000 messages take far more than 40 ms),
	# high enough that a single call's messages never do.
	write_conf_tls "$WORK/$name.conf" "" "
overload: { queue_delay_low = 20; queue_delay_high = 40; retry_after = 9;
            stream_backlog_low = 20; stream_backlog_high = 40; $4 };
metrics: { enabled = true; port = $M_PORT; };"
	PROXY_DEBUG=" " start_proxy "$WORK/$name.conf" "proxy_$name"
	ok $? "$name: proxy starts"

	# shellcheck disable=SC2086 # $tls: no option or one
	python3 "$OVL" $tls backlog "$port" "$UAS_PORT" "$PX_PID" "$N" > "$WORK/out" 2>&1
	sed 's/^/# /' "$WORK/out"
	is b_final 200 "$name: call B over TCP is answered before the stop"
	is b_bye 200 "$name: its BYE, written after the backlog, passed while shedding"
	is callee_bye 1 "$name: and reached the callee"
	is messages_answered "$N" "$name: every MESSAGE got a final answer"
	shed=$(fact messages_503)
	if [ "$reason" = loop_busy ] && at_valgrind_speed; then
		skip "$name: the first MESSAGE went through" "$VALGRIND_SPEED: busy from the first read"
		skip "$name: some later MESSAGEs were refused with 503, not all ($shed of $N)" "$VALGRIND_SPEED"
	else
		is first_final 200 "$name: the first MESSAGE, read before anything waited, went through"
		[ "${shed:-0}" -gt 0 ] && [ "$shed" -lt "$N" ]
		ok $? "$name: some later MESSAGEs were refused with 503, not all ($shed of $N)"
	fi
	is retry_after 9 "$name: with Retry-After: overload.retry_after"
	[ "$(fact callee_messages)" = "$((N - shed))" ]
	ok $? "$name: the refused ones never reached the callee ($(fact callee_messages) did)"
	grep -q "overload: shedding new requests with 503 ($reason: $text" "$WORK/proxy_$name.log"
	ok $? "$name: the log says shedding started, on $text"

	scrape
	[ "$(metric "e2mproxy_overload_shed_total{reason=\"$reason\"}")" = "$shed" ]
	ok $? "$name: e2mproxy_overload_shed_total{reason=\"$reason\"} counts them"
	[ "$(metric "e2mproxy_overload_shed_total{reason=\"$other\"}")" = 0 ] &&
		[ "$(metric 'e2mproxy_overload_shed_total{reason="queue_delay"}')" = 0 ]
	ok $? "$name: none counted as $other or queue_delay"
	[ -n "$(metric e2mproxy_overload_loop_busy_seconds)" ] &&
		[ -n "$(metric e2mproxy_overload_stream_backlog_seconds)" ]
	ok $? "$name: the loop busy and stream backlog gauges are there"
	promtool check metrics < "$WORK/metrics.txt" > "$WORK/promtool.log" 2>&1
	ok $? "$name: promtool check metrics passes"

	# shellcheck disable=SC2086
	python3 "$OVL" $tls call "$port" $((BASE + 12)) > "$WORK/out" 2>&1
	sed 's/^/# /' "$WORK/out"
	is e_final 200 "$name: once caught up a new call over TCP is admitted"
	is e_bye 200 "$name: and completes"
	kill "$PX_PID"
	wait "$PX_PID"
	ok $? "$name: proxy exits cleanly"
}

phase backlog stream_backlog "connection backed up" ""
phase tls stream_backlog "connection backed up" "" --tls
phase busy loop_busy "loop busy" "loop_busy = true; stream_backlog = false;"
t_done
