#!/bin/bash
# The two real peers of the edge-proxy tests (issue 15), proven against
# each other without e2mproxyd: Kamailio 5.6 as the registrar for
# example.com (tests/integration/kamailio.sh), baresip 1.0 as the phone
# (tests/integration/baresip.sh), SIPp as caller and callee.
# - baresip registers bob over UDP (RFC 5626 outbound), ul.dump shows it;
#   SIPp calls sip:bob@example.com through Kamailio, baresip answers,
#   SIPp hangs up; baresip calls a SIPp UAS through Kamailio and hangs up.
# - baresip registers carol over TCP and answers a call through Kamailio.
# - A REGISTER as an edge proxy forwards it (Path with a flow token, ;ob)
#   is stored with its Path; a call to that user goes to the Path address
#   with the Path URI as Route: what e2mproxyd's flow routing relies on.
#   Without "Supported: path" the same REGISTER gets 420 (RFC 3327).
. "$TOP_SRCDIR/tests/integration/lib.sh"
. "$TOP_SRCDIR/tests/integration/kamailio.sh"
. "$TOP_SRCDIR/tests/integration/baresip.sh"
t_init peers 22000

KAM=$BASE                 # Kamailio, UDP and TCP
EDGE_PORT=$((BASE + 12))  # the SIPp UAS that stands in for an edge proxy
BOB_PORT=$((BASE + 20))   # baresip bob (UDP), uses +0..+9
CAROL_PORT=$((BASE + 30)) # baresip carol (TCP), uses +0..+9

kam_start "$KAM"
ok $? "Kamailio registrar starts on 127.0.0.1:$KAM (UDP and TCP)"

# --- bob: baresip over UDP, RFC 5626 outbound ----------------------------
bs_start bob "$BOB_PORT" "sip:127.0.0.1:$KAM"
ok $? "baresip bob starts (headless, control connection up)"
bs_wait_registered bob
ok $? "baresip bob registers over UDP"
kam_wait_contact bob "Address: sip:bob-[^@]*@127\.0\.0\.1:$BOB_PORT"
ok $? "ul.dump shows bob's contact 127.0.0.1:$BOB_PORT"
kam_wait_contact bob 'Reg-Id: 1' 1 && kam_wait_contact bob 'Instance: <urn:uuid:' 1
ok $? "bob's binding is an outbound one (reg-id 1, +sip.instance)"
# the 200 to REGISTER in baresip's SIP trace
awk '/^SIP\/2.0 200 /,/^Content-Length/' "$WORK/bs-bob.log" | grep -q '^Require: outbound'
ok $? "Kamailio's 200 to bob's REGISTER has Require: outbound"

bs_mark bob
sipp_run callbob -sf "$SCEN/uac_aor_call.xml" -s bob 127.0.0.1:"$KAM" \
	-i 127.0.0.1 -p "$UAC_PORT" -mp $((BASE + 40)) -t u1 -m 1
ok $? "SIPp calls sip:bob@example.com via Kamailio: 200, ACK, BYE, 200"
bs_wait_event bob '"type":"CALL_ESTABLISHED"' 5 &&
	bs_wait_event bob '"type":"CALL_CLOSED"' 5
ok $? "baresip auto-answered the call and saw it closed by the BYE"

sipp_bg uas -sf "$SCEN/uas_call.xml" -i 127.0.0.1 -p "$UAS_PORT" \
	-mp $((BASE + 50)) -t u1 -m 1
UAS=$LAST_PID
wait_listen udp "$UAS_PORT"
bs_dial bob "sip:alice@127.0.0.1:$UAS_PORT"
bs_wait_call_established bob
ok $? "baresip's call to a SIPp UAS (through Kamailio) is established"
bs_hangup bob
bs_wait_call_closed bob
ok $? "baresip hangs up"
wait_pid "$UAS" 15
ok $? "the UAS saw Kamailio's Record-Route, Max-Forwards 69, and baresip's BYE (200)"

# --- carol: baresip over TCP ----------------------------------------------
BS_AOR=sip:carol@example.com bs_start carol "$CAROL_PORT" \
	"sip:127.0.0.1:$KAM;transport=tcp"
ok $? "baresip carol starts"
bs_wait_registered carol
ok $? "baresip carol registers over TCP"
kam_wait_contact carol "Address: sip:carol-[^@]*@127\.0\.0\.1:$CAROL_PORT;transport=tcp" &&
	kam_wait_contact carol "Socket: tcp:127\.0\.0\.1:$KAM"
ok $? "ul.dump shows carol's TCP contact, received on Kamailio's TCP socket"
bs_mark carol
sipp_run callcarol -sf "$SCEN/uac_aor_call.xml" -s carol 127.0.0.1:"$KAM" \
	-i 127.0.0.1 -p "$UAC_PORT" -mp $((BASE + 40)) -t u1 -m 1
ok $? "SIPp calls sip:carol@example.com: Kamailio reaches her over TCP"
bs_wait_event carol '"type":"CALL_CLOSED"' 5
ok $? "baresip carol answered and saw the BYE"
# baresip's SIP trace: a "TCP src -> dst" line, then the message
awk -v to="127.0.0.1:$CAROL_PORT" '$1 == "TCP" && $4 == to { getline; print }' \
	"$WORK/bs-carol.log" | grep -q '^INVITE '
ok $? "the INVITE reached carol over TCP"

# --- an edge proxy's REGISTER: Path with a flow token ----------------------
PATHURI="<sip:tok123@127.0.0.1:$EDGE_PORT;lr;ob>"
sipp_run regpath -sf "$SCEN/uac_register_path.xml" -s dave 127.0.0.1:"$KAM" \
	-i 127.0.0.1 -p "$UAC_PORT" -t u1 -m 1 \
	-key path "$PATHURI" -key contact "<sip:dave@192.0.2.99:5099;ob>"
ok $? "REGISTER with Path (flow token, ;ob): 200 with the Path echoed and Require: outbound"
kam_wait_contact dave "Path: $PATHURI" 2
ok $? "ul.dump shows dave's contact with the Path $PATHURI"

sed -e "s|@ROUTE@|\&lt;sip:tok123@127\\\\.0\\\\.0\\\\.1:$EDGE_PORT;lr;ob\&gt;[[:space:]]|" \
    -e "s|@RURI@|sip:dave@192\\\\.0\\\\.2\\\\.99:5099;ob|" \
    "$SCEN/uas_path.xml.in" > "$WORK/uas_path.xml"
sipp_bg edge -sf "$WORK/uas_path.xml" -i 127.0.0.1 -p "$EDGE_PORT" \
	-mp $((BASE + 60)) -t u1 -m 1
EDGE=$LAST_PID
wait_listen udp "$EDGE_PORT"
sipp_run calldave -sf "$SCEN/uac_aor_call.xml" -s dave 127.0.0.1:"$KAM" \
	-i 127.0.0.1 -p "$UAC_PORT" -mp $((BASE + 40)) -t u1 -m 1
ok $? "SIPp calls sip:dave@example.com; the call completes through the Path address"
wait_pid "$EDGE" 15
ok $? "Kamailio sent the INVITE to the Path address, Route: $PATHURI, R-URI the contact"

# RFC 3327 §5.3 (path_mode 2): Path without "Supported: path" is refused
R=$RANDOM$RANDOM
printf 'REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%s;rport;branch=z9hG4bK-np%s\r\nFrom: <sip:erin@example.com>;tag=np%s\r\nTo: <sip:erin@example.com>\r\nCall-ID: np%s@test\r\nCSeq: 1 REGISTER\r\nPath: %s\r\nContact: <sip:erin@192.0.2.99:5099>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n' \
	"$UAC_PORT" "$R" "$R" "$R" "$PATHURI" > "$WORK/nopath.sip"
[ "$(sip_raw udp "$KAM" "$WORK/nopath.sip" | awk '{ print $2 }')" = 420 ]
ok $? "REGISTER with Path but without Supported: path gets 420"

f="$WORK/nobody.sip"
printf 'OPTIONS sip:nobody@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%s;rport;branch=z9hG4bK-nb%s\r\nFrom: <sip:t@example.com>;tag=nb%s\r\nTo: <sip:nobody@example.com>\r\nCall-ID: nb%s@test\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n' \
	"$UAC_PORT" "$R" "$R" "$R" > "$f"
[ "$(sip_raw udp "$KAM" "$f" | awk '{ print $2 }')" = 404 ]
ok $? "a request for an unregistered user of example.com gets 404"

bs_stop bob
bs_stop carol
kam_stop
t_done
