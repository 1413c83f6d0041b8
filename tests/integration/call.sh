# call.sh - sourced by t_call_udp.sh and t_call_tcp.sh with TP (SIPp -t)
# and NAME/PORTBASE set: INVITE/180/200/ACK/BYE through the proxy; the UAS
# checks our Record-Route and Max-Forwards 69, and that the BYE lost our
# Route. Both sides on TCP: our one Record-Route entry says transport=tcp.
. "$TOP_SRCDIR/tests/integration/lib.sh"
t_init "$NAME" "$PORTBASE"

write_conf "$WORK/px.conf"
start_proxy "$WORK/px.conf" proxy
ok $? "proxy starts"

sipp_bg uas -sf "$SCEN/uas_call.xml" -i 127.0.0.1 -p "$UAS_PORT" -t "$TP" -m 3
UAS=$LAST_PID
if [ "$TP" = t1 ]; then wait_listen tcp "$UAS_PORT"; else wait_listen udp "$UAS_PORT"; fi
sipp_run uac -sf "$SCEN/uac_call.xml" 127.0.0.1:"$UAS_PORT" -rsa 127.0.0.1:"$PX_PORT" \
	-i 127.0.0.1 -p "$UAC_PORT" -t "$TP" -m 3 -r 10 -s service
ok $? "UAC completes 3 calls through the proxy"
wait_pid "$UAS" 20
ok $? "UAS saw Record-Route, Max-Forwards 69, and a BYE without our Route"
if [ "$TP" = t1 ]; then ours="<sip:127.0.0.1:$PX_PORT;transport=tcp;lr>"; else ours="<sip:127.0.0.1:$PX_PORT;lr>"; fi
rr=$(grep -m1 -A20 '^INVITE' "$WORK/uas.msg.log" | grep '^Record-Route:' | tr -d '\r' | sed 's/^Record-Route: //' | paste -sd, -)
[ "$rr" = "$ours" ]
ok $? "one Record-Route entry, $ours (got $rr)"
grep -q 'BYE sip:' "$WORK/uac.msg.log" && grep -q "^Route: $ours" "$WORK/uac.msg.log"
ok $? "UAC sent the in-dialog BYE with the proxy's Route"
proxy_answers
ok $? "proxy still answers OPTIONS"
t_done
