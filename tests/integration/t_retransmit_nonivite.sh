#!/bin/bash
# Retransmitted non-INVITE requests over UDP (RFC 3261 17.2.2): the proxy
# keeps these server transactions itself (docs/memory.md, "Non-INVITE
# server transactions over UDP"). A retransmission after the final
# response gets that response again, not forwarded; one before it is
# absorbed; a CANCEL finds the transaction.
. "$TOP_SRCDIR/tests/integration/lib.sh"
t_init retransmit_nonivite 21600
write_conf "$WORK/px.conf"
start_proxy "$WORK/px.conf" proxy
ok $? "proxy starts"
NITX="python3 $TOP_SRCDIR/tests/integration/nitx.py"

fact() { sed -n "s/^$1 //p" "$2"; }

$NITX after "$PX_PORT" "$UAC_PORT" "$UAS_PORT" BYE > "$WORK/after.out" 2>&1
ok $? "BYE, then the same BYE twice after its 200"
[ "$(fact uas_got "$WORK/after.out")" = 1 ]
ok $? "the UAS got the BYE once ($(fact uas_got "$WORK/after.out"))"
[ "$(fact uac_final "$WORK/after.out")" = 3 ]
ok $? "the UAC got a 200 for each of its three ($(fact uac_final "$WORK/after.out"))"
[ "$(fact uac_tags "$WORK/after.out")" = "uas-1,uas-1,uas-1" ]
ok $? "all with the UAS's To tag ($(fact uac_tags "$WORK/after.out"))"
[ "$(fact uac_same "$WORK/after.out")" = 1 ]
ok $? "the same response byte for byte"
grep -q 'BYE retransmission answered 200 again' "$WORK/proxy.log"
ok $? "the proxy answered the retransmissions itself"

$NITX before "$PX_PORT" "$UAC_PORT" "$UAS_PORT" MESSAGE > "$WORK/before.out" 2>&1
ok $? "MESSAGE, retransmitted three times while the UAS takes 400 ms"
[ "$(fact uas_got "$WORK/before.out")" = 1 ]
ok $? "the UAS got it once ($(fact uas_got "$WORK/before.out"))"
[ "$(fact uac_final "$WORK/before.out")" = 1 ]
ok $? "the UAC got one 200 ($(fact uac_final "$WORK/before.out"))"
grep -q 'MESSAGE retransmission absorbed' "$WORK/proxy.log"
ok $? "the proxy absorbed the retransmissions"

$NITX cancel "$PX_PORT" "$UAC_PORT" "$UAS_PORT" INFO > "$WORK/cancel.out" 2>&1
ok $? "INFO, then a CANCEL for it"
[ "$(fact cancel "$WORK/cancel.out")" = 200 ]
ok $? "the CANCEL matched the transaction: 200 ($(fact cancel "$WORK/cancel.out"))"
[ "$(fact uas_got "$WORK/cancel.out")" = 1 ]
ok $? "the UAS got the INFO once, no CANCEL"

# Downstream the proxy keeps the client transaction itself too when the
# next hop is an address over UDP (ownclient.c): RFC 3261 17.1.2.2.
# Retransmissions are never early; the bounds allow for a late reader.
in_range() { [ -n "$1" ] && [ "$1" -ge "$2" ] && [ "$1" -lt "$3" ]; }
$NITX lossy "$PX_PORT" "$UAC_PORT" "$UAS_PORT" MESSAGE > "$WORK/lossy.out" 2>&1
ok $? "MESSAGE to a UAS that drops the first two copies"
# The UAS answers the third copy; one more may cross that answer (Timer E
# fired before the proxy read the 200: a loaded machine), none may follow
# the 200's relay.
copies=$(fact uas_copies "$WORK/lossy.out") late=$(fact uas_late "$WORK/lossy.out")
[ "${copies:-0}" -ge 3 ] && [ "$late" = 0 ]
ok $? "the proxy sent it again until answered: 3 copies, none once the 200 was through ($copies, then $late)"
gaps=$(fact uas_gaps "$WORK/lossy.out")
in_range "${gaps%,*}" 350 3000 && in_range "${gaps#*,}" 800 3500
ok $? "Timer E: T1, then doubled (gaps $gaps ms)"
[ "$(fact uas_copies_same "$WORK/lossy.out")" = 1 ]
ok $? "each copy the same bytes (same branch)"
[ "$(fact uac_final "$WORK/lossy.out")" = 1 ]
ok $? "the UAC got the 200 once: the UAS's retransmissions of it dropped ($(fact uac_final "$WORK/lossy.out"))"

# A response with our branch but another method (RFC 3261 17.1.3: no
# match) is not the transaction's: dropped, the right one relayed.
$NITX othermethod "$PX_PORT" "$UAC_PORT" "$UAS_PORT" MESSAGE > "$WORK/other.out" 2>&1
[ "$(fact uac_final "$WORK/other.out")" = 1 ] && [ "$(fact uac_other "$WORK/other.out")" = 0 ] &&
	[ "$(fact uac_tags "$WORK/other.out")" = uas-1 ]
ok $? "a 200 with our branch and another CSeq method is dropped, the MESSAGE's own 200 relayed ($(tr '\n' ' ' < "$WORK/other.out"))"

$NITX proceeding "$PX_PORT" "$UAC_PORT" "$UAS_PORT" OPTIONS > "$WORK/proc.out" 2>&1
ok $? "OPTIONS answered 100 Trying, then lost once"
gaps=$(fact uas_gaps "$WORK/proc.out")
in_range "${gaps%,*}" 350 3000 && in_range "${gaps#*,}" 3500 8000
ok $? "after the 100, Timer E runs at T2 (gaps $gaps ms)"
[ "$(fact uac_final "$WORK/proc.out")" = 1 ]
ok $? "the UAC got the 200 ($(fact uac_final "$WORK/proc.out"))"

# Over TCP nta keeps the transaction as before: nothing of this applies.
kill -0 "$PX_PID"
ok $? "proxy still running"

# The same towards an IPv6 address, the proxy's IPv4 listener first:
# Sofia chose the socket by the first listener for a bracketed IPv6
# host, and the send failed (500) until the next hop went to nta as a
# bare maddr (forward.c bare_ipv6_next_hop()).
kill "$PX_PID"
wait "$PX_PID" 2>/dev/null
cat > "$WORK/px6.conf" <<CONF
log: { level = "debug"; };
sip: { listen = ( { transport = "udp"; address = "127.0.0.1"; port = $PX_PORT; },
                  { transport = "udp"; address = "::1"; port = $PX_PORT; } ); };
CONF
start_proxy "$WORK/px6.conf" proxy6
ok $? "proxy starts on 127.0.0.1 and ::1"
NITX_HOST=::1 $NITX lossy "$PX_PORT" "$UAC_PORT" "$UAS_PORT" MESSAGE > "$WORK/lossy6.out" 2>&1
ok $? "IPv6: MESSAGE to a UAS that drops the first two copies"
[ "$(fact uas_copies "$WORK/lossy6.out")" -ge 3 ] && [ "$(fact uas_late "$WORK/lossy6.out")" = 0 ] &&
	[ "$(fact uac_final "$WORK/lossy6.out")" = 1 ] &&
	[ "$(fact uas_copies_same "$WORK/lossy6.out")" = 1 ]
ok $? "IPv6: sent again until answered, the same bytes, the 200 relayed once ($(tr '\n' ' ' < "$WORK/lossy6.out"))"
# An INVITE (nta's client transaction) the same way: a whole call.
# (The UAS checks that the proxy's Record-Route names its IPv6 address.)
sed 's|127\\.0\\.0\\.1|\\[::1\\]|' "$SCEN/uas_call.xml" > "$WORK/uas6.xml"
sipp_bg uas6 -sf "$WORK/uas6.xml" -i ::1 -p "$UAS_PORT" -m 1
UAS6=$LAST_PID
sipp_run uac6 -sf "$SCEN/uac_call.xml" "[::1]:$UAS_PORT" -rsa "[::1]:$PX_PORT" \
	-i ::1 -p "$UAC_PORT" -m 1 -s bob
ok $? "IPv6: a call through the proxy completes"
wait_pid "$UAS6" 10
ok $? "IPv6: the UAS saw the whole call"
t_done
