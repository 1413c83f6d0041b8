#!/bin/bash
# Retransmitted non-INVITE requests over UDP (RFC 3261 17.2.2): the proxy
# keeps these server transactions itself (docs/design.md, "Memory"). A
# retransmission after the final response gets that response again, not
# forwarded; one before it is absorbed; a CANCEL finds the transaction.
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

# Over TCP nta keeps the transaction as before: nothing of this applies.
kill -0 "$PX_PID"
ok $? "proxy still running"
t_done
