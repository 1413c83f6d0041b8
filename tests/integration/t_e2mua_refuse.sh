#!/bin/bash
# e2mua, second part: challenges the UA must refuse, and
# two inspecting proxies that each challenge in turn. Over TCP on
# 127.0.0.1: e2mua -> [fakeproxy.py] -> e2mproxyd A -> e2mproxyd B -> UAS.
#  1. A's genuine signed 496, captured through a relay, forged for a new
#     request (sipfrag rewritten: freshness passes, the signature does
#     not), also with its certificate part swapped for a valid one naming
#     a.test, or re-signed by another valid certificate; the draft's
#     unsigned 496; a genuine fresh 496 whose Warning was changed on the
#     way. A control re-signed with A's real key is accepted.
#  1b. The same re-signed with A's key but for one value the UA must
#     compare whole (docs/reliability.md, "Mutation testing"); signed by
#     a certificate that is not RFC 5280 conforming, or from too deep a
#     line of intermediate CAs.
#  2. A's genuine 496 replayed for another call (Call-ID) and, inside the
#     same call, for the retry (CSeq): stale.
#  3. Revocation (e2mua -R): B's certificate revoked; C's encryption
#     certificate revoked while its signing certificate is not; expired and
#     foreign CRLs; against a current CRL revoking nothing: accepted. B off
#     the allow-list. D, whose certificate comes from an intermediate CA:
#     accepted while the root's CRL does not revoke the intermediate,
#     refused once it does (every certificate of the path is checked, not
#     only the end one: mutant K2 of docs/reliability.md).
#  4. The chain A, B: two challenges answered (shared and -S separate
#     envelopes, and a call); -n 1 and an allow-list of A alone refuse B's.
#  5. The final bodies open with openssl cms -decrypt under A's, B's and
#     the UAS's key (and the separate parts only under their recipients').
# "Nothing disclosed" is checked where it happens: what the fake proxy
# received, what the proxies' logs say they opened, what the UAS got.
. "$TOP_SRCDIR/tests/integration/lib.sh"
. "$TOP_SRCDIR/tests/integration/pki.sh"
t_init e2mua_refuse 21400
E2MUA=${E2MUA:-$(dirname "$E2MPROXYD")/e2mua}
K=$WORK
B_PORT=$((BASE + 2))   # proxy B (A is PX_PORT)
FAKE_PORT=$((BASE + 3)) # fakeproxy.py
C_PORT=$((BASE + 4))    # proxy C: separate signing and encryption keys
D_PORT=$((BASE + 5))    # proxy D: certificates from an intermediate CA
CALLEE_PORT=$((BASE + 15))
CHAL=$TOP_SRCDIR/tests/integration/challenge.py
SIGNER=serverAuth,clientAuth,emailProtection # proxies sign challenges
# mallory: a certificate from the same CA naming A's host (a mis-issued
# one, the worst case); evil: an honest certificate for the attacker's
# own host, from the same CA.
pki_ca "$K" && PKI_EKU=$SIGNER pki_cert "$K" a "DNS:a.test" a.test &&
	PKI_EKU=$SIGNER pki_cert "$K" b "DNS:b.test" b.test &&
	pki_cert "$K" uas "DNS:uas.test" uas.test &&
	PKI_EKU=emailProtection pki_cert "$K" alice "email:alice@example.com" alice &&
	PKI_EKU=$SIGNER pki_cert "$K" mallory "DNS:a.test" a.test &&
	PKI_EKU=$SIGNER pki_cert "$K" evil "DNS:evil.test" evil.test &&
	PKI_EKU=$SIGNER pki_cert "$K" csig "DNS:c.test" c.test &&
	PKI_EKU=$SIGNER pki_cert "$K" auri "URI:sip:a.test" a.test &&
	openssl x509 -in "$K/auri.pem" -outform DER -out "$K/auri.der" &&
	PKI_EKU=$SIGNER pki_cert "$K" anul "DER:300b8209612e74657374002e78" a.test &&
	openssl x509 -in "$K/anul.pem" -outform DER -out "$K/anul.der" &&
	pki_cert "$K" cenc "DNS:c.test" c.test &&
	openssl x509 -in "$K/mallory.pem" -outform DER -out "$K/mallory.der"
ok $? "test PKI made with openssl"

# proxy_conf FILE PORT HOST KEYNAME SIGNKEYNAME [OTHER_GROUPS]: an
# inspecting proxy on TCP that needs text/plain of a MESSAGE and
# application/sdp of an INVITE, decrypts with K/KEYNAME.key and signs its
# challenges with K/SIGNKEYNAME.key.
proxy_conf() {
	cat > "$1" <<CONF
log: { level = "debug"; };
sip: {
  listen = ( { transport = "tcp"; address = "127.0.0.1"; port = $2; } );
  own_names = [ "$3" ];
};
inspect: { keys = ( { certificate = "$K/$4.pem"; key = "$K/$4.key"; } );
           trust_anchors = [ "$K/ca.pem" ]; };
policy: { rules = (
  { methods = [ "MESSAGE" ]; required_types = [ "text/plain" ]; },
  { methods = [ "INVITE" ]; required_types = [ "application/sdp" ]; } ); };
challenge: { signing_certificate = "$K/$5.pem"; signing_key = "$K/$5.key"; };
${6:-}
CONF
}
# A sends everything on to B; B by request-URI to the UAS.
proxy_conf "$WORK/a.conf" "$PX_PORT" a.test a a \
	"routing: { default_next_hop = \"sip:127.0.0.1:$B_PORT;transport=tcp\"; };"
proxy_conf "$WORK/b.conf" "$B_PORT" b.test b b
proxy_conf "$WORK/c.conf" "$C_PORT" c.test cenc csig
start_proxy "$WORK/a.conf" proxy_a
ok $? "proxy A (a.test) starts"
start_proxy "$WORK/b.conf" proxy_b
ok $? "proxy B (b.test) starts"
start_proxy "$WORK/c.conf" proxy_c
ok $? "proxy C (c.test, signing key apart from its decryption key) starts"
start_uas tcp "$WORK/uas" 100 300
ok $? "the test UAS listens"

TO="sip:bob@127.0.0.1:$UAS_PORT;transport=tcp"
# ua NAME WANT-EXIT PORT ARGS...: one MESSAGE to $TO, outbound proxy on
# 127.0.0.1:PORT; its JSON line in NAME.json. One after the other.
ua() {
	local name=$1 want=$2 port=$3 rc
	shift 3
	"$E2MUA" -t "$TO" -o "sip:127.0.0.1:$port;transport=tcp" \
		-b "sip:127.0.0.1:$UAC_PORT;transport=tcp" -T 5 -m "meet me at noon" \
		"$@" > "$WORK/$name.json" 2> "$WORK/$name.err"
	rc=$?
	[ "$rc" -eq "$want" ]
	ok $? "$name: exit status $rc, want $want ($(cat "$WORK/$name.json"))"
}
json() { # NAME REGEX TEXT
	grep -Eq "$2" "$WORK/$1.json"
	ok $? "$1: $3"
}
uas_count() { find "$WORK/uas" -name '*.body' | wc -l; }
# opened LOG: how many requests that proxy opened so far
opened() { grep -c 'MESSAGE inspected: targets [1-9][0-9]* (.* opened)' "$WORK/$1.log"; }
# opens DER-FILE KEYNAME: openssl cms -decrypt opens it with K/KEYNAME.key
opens() {
	openssl cms -decrypt -binary -inform DER -in "$1" -recip "$K/$2.pem" \
		-inkey "$K/$2.key" -out "$1.$2.plain" 2>/dev/null
}
# fake NAME MODE ARGS...: fakeproxy.py on FAKE_PORT, files in WORK/NAME
fake() {
	local name=$1 i
	shift
	mkdir -p "$WORK/$name"
	python3 "$TOP_SRCDIR/tests/integration/fakeproxy.py" "$FAKE_PORT" "$WORK/$name" "$@" 60 \
		> "$WORK/$name.log" 2>&1 &
	FAKE_PID=$!
	PIDS="$PIDS $FAKE_PID"
	for i in $(seq 1 100); do
		[ -f "$WORK/$name/ready" ] && return 0
		sleep 0.05
	done
	return 1
}
unfake() {
	kill "$FAKE_PID" 2>/dev/null
	wait "$FAKE_PID" 2>/dev/null
}

# ---- capture: through a relay that changes nothing the chain works; the
# relay keeps A's and B's genuine 496s.
fake relay relay "$PX_PORT"
ok $? "relay listens"
u0=$(uas_count)
ua relayed 0 "$FAKE_PORT" -e "$K/uas.pem" -r "$K/ca.pem" -a a.test -a b.test
json relayed '"status":200,.*"disclosed_to":\["a.test","b.test"\],"challenges":2' \
	"through the relay: 200 after two challenges"
unfake
[ "$(uas_count)" -eq $((u0 + 1)) ] && [ -f "$WORK/relay/496-2.sip" ]
ok $? "relay: the UAS got the message; A's and B's 496 captured"
CAPTURED=$WORK/relay/496-1.sip
grep -q '^Warning: 380 a.test ' "$CAPTURED"
ok $? "the first captured 496 is A's"

# refused_quietly NAME FAKEDIR UAS-BEFORE: nothing was disclosed: only
# the first request reached the fake proxy, unlabelled, its envelope
# opens for the UAS and not for A; the UAS got nothing.
refused_quietly() {
	local d=$WORK/$2
	[ -f "$d/req-1.sip" ] && [ ! -f "$d/req-2.sip" ]
	ok $? "$1: no second request was sent"
	python3 "$CHAL" body "$d/req-1.sip" "$d/req-1.der" &&
		! grep -qi '^Proxy-Inspect-Body' "$d/req-1.sip" &&
		opens "$d/req-1.der" uas && ! opens "$d/req-1.der" a
	ok $? "$1: the one request is unlabelled and shut to A's key"
	json "$1" '"disclosed_to":\[\]' "disclosed to nobody"
	[ "$(uas_count)" -eq "$3" ]
	ok $? "$1: the UAS received nothing"
}

# ---- 1. forged: A's genuine signed challenge rewritten for a new request.
# Control first: the same rewrite signed with A's real key is accepted
# (the rewritten sipfrag is fresh), so only the signature can fail below.
u0=$(uas_count)
fake resigned forge "$CAPTURED" --sign "$K/a.pem" "$K/a.key"
ua resigned 5 "$FAKE_PORT" -e "$K/uas.pem" -r "$K/ca.pem" -a a.test
unfake
json resigned '"disclosed_to":\["a.test"\],"challenges":1,"checks":.*"refused":"the proxy challenged again after disclosure"' \
	"control: the rewrite signed by A's key is answered (then the 2nd 496 refused)"
grep -qi '^Proxy-Inspect-Body: a.test;' "$WORK/resigned/req-2.sip"
ok $? "control: the answer reached the fake proxy labelled for a.test"

for v in forged swapped; do
	u0=$(uas_count)
	if [ $v = forged ]; then
		fake $v forge "$CAPTURED"
	else
		fake $v forge "$CAPTURED" --cert "$K/mallory.der"
	fi
	ua $v 5 "$FAKE_PORT" -e "$K/uas.pem" -r "$K/ca.pem" -a a.test
	unfake
	json $v '"status":496,.*"refused":"signature does not verify"' \
		"refused: the signature does not verify"
	refused_quietly $v $v "$u0"
done
# Re-signed by the attacker's own, valid certificate (evil.test): the
# signer does not name the host the challenge speaks for.
u0=$(uas_count)
fake evil_signed forge "$CAPTURED" --sign "$K/evil.pem" "$K/evil.key"
ua evil_signed 5 "$FAKE_PORT" -e "$K/uas.pem" -r "$K/ca.pem" -a a.test -a evil.test
unfake
json evil_signed '"refused":"the signer does not name the challenging host"' \
	"re-signed by evil.test for a.test: refused (signer name)"
refused_quietly evil_signed evil_signed "$u0"
# ... and speaking for itself but handing out A's certificate.
u0=$(uas_count)
fake evil_agent forge "$CAPTURED" --sign "$K/evil.pem" "$K/evil.key" --agent evil.test
ua evil_agent 5 "$FAKE_PORT" -e "$K/uas.pem" -r "$K/ca.pem" -a a.test -a evil.test
unfake
json evil_agent '"refused":"the encryption certificate names another host"' \
	"evil.test handing out A's certificate: refused"
refused_quietly evil_agent evil_agent "$u0"

# The draft-literal 496 (the genuine certificate alone, unsigned): R1.
u0=$(uas_count)
fake bare forge "$CAPTURED" --unsigned
ua bare 5 "$FAKE_PORT" -e "$K/uas.pem" -r "$K/ca.pem" -a a.test
unfake
json bare '"status":496,.*"refused":"unsigned challenge"' \
	"unsigned 496 with A's genuine certificate: refused"
refused_quietly bare bare "$u0"
# On the path, A's genuine and fresh 496 with its (unsigned) Warning
# header changed to ask for another type: the headers must be the signed
# ones.
oa=$(opened proxy_a) u0=$(uas_count)
fake tampered relay "$PX_PORT" --set-warning "380 a.test \"Required to View Content-Type 'application/sdp'\""
ua tampered 5 "$FAKE_PORT" -e "$K/uas.pem" -r "$K/ca.pem" -a a.test -a b.test
unfake
json tampered '"status":496,.*"refused":"Warnings are not the signed ones"' \
	"genuine fresh 496 with a changed Warning: refused"
[ -f "$WORK/tampered/496-1.sip" ] && [ ! -f "$WORK/tampered/req-2.sip" ] &&
	[ "$(opened proxy_a)" -eq "$oa" ] && [ "$(uas_count)" -eq "$u0" ]
ok $? "tampered: one request only, A opened nothing, the UAS got nothing"

# ---- 1b. strictness: A's challenge rewritten for the request and signed
# with A's own key (as the accepted control "resigned" above), but for one
# signed value the UA must compare whole: a value the request's is a
# prefix of, a renamed tag parameter, a Date out of the skew either way.
# A UA that compared loosely would disclose to these (docs/reliability.md,
# "Mutation testing": each case names the weakening it kills).
# strict NAME REASON-REGEX FORGE-ARGS...: signed by $SIGNER_KEY (A's by
# default), the UA allowing $ALLOW (a.test by default).
strict() {
	local name=$1 want=$2 u0
	shift 2
	u0=$(uas_count)
	fake "$name" forge "$CAPTURED" --sign "$K/${SIGNER_KEY:-a}.pem" "$K/${SIGNER_KEY:-a}.key" "$@"
	ua "$name" 5 "$FAKE_PORT" -e "$K/uas.pem" -r "$K/ca.pem" -a "${ALLOW:-a.test}"
	unfake
	json "$name" '"status":496,.*"refused":"'"$want"'"' "refused: $want"
	refused_quietly "$name" "$name" "$u0"
}
strict callid_longer "Call-ID is not the request's" \
	--frag-sub '^(Call-ID: [^\r\n]*)' '\1x'
strict tag_longer "From tag is not the request's" \
	--frag-sub '^(From: [^\r\n]*;tag=[^;\r\n]*)' '\1x'
strict tag_renamed "no From tag in sipfrag" \
	--frag-sub '^(From: [^\r\n]*;)tag=' '\1tagx='
strict branch_longer "Via branch is not the request's" \
	--frag-sub '^(Via: [^\r\n]*;branch=[^;\r\n]*)' '\1x'
strict tag_twice "no From tag in sipfrag" \
	--frag-sub '^(From: [^\r\n]*;tag=[^;\r\n]*)' '\1;tag=other'
strict branch_twice "no branch in the bottom Via of the sipfrag" \
	--frag-sub '^(Via: [^\r\n]*;branch=[^;\r\n]*)' '\1;branch=z9hG4bKother'
strict callid_twice "sipfrag lacks or repeats From, To, Call-ID, CSeq or Date" \
	--frag-sub '^(Call-ID: [^\r\n]*)' 'Call-ID: other@elsewhere\r\n\1'
strict branch_case "Via branch is not the request's" \
	--frag-sub ';branch=z9hG4bK[^;\r\n]*' '@upper'
strict cseq_method "CSeq is not the request's" \
	--frag-sub '^(CSeq: [0-9]+) MESSAGE' '\1 INVITE'
strict status_other "sipfrag status is not the response's" \
	--frag-sub '^SIP/2.0 496 .*' 'SIP/2.0 495 Security Mismatch'
strict date_future "Date outside the allowed skew" --date-offset 400
strict date_past "Date outside the allowed skew" --date-offset -400
# The signature's signingTime, 400 s either side of now (faketime; the
# Date stays current): outside the UA's 300 s.
strict signed_past "signingTime outside the allowed skew" --sign-time-offset -400
strict signed_future "signingTime outside the allowed skew" --sign-time-offset 400
# Names compared whole: A's certificate (a.test) speaking for "a.tes"
# (allowed); a certificate naming the proxy by URI sip:a.test only, the
# same; and the allow-list entry "a.tes" for a.test itself.
ALLOW=a.tes strict agent_prefix "the signer does not name the challenging host" \
	--agent a.tes
ALLOW=a.tes SIGNER_KEY=auri strict uri_prefix "the signer does not name the challenging host" \
	--agent a.tes --cert "$K/auri.der"
ALLOW=a.tes strict allow_prefix "the proxy is not on the allow-list"
# A certificate whose only dNSName is "a.test\0.x" (a NUL inside, from the
# same CA) signing for a.test and handed out: it names no a.test.
SIGNER_KEY=anul strict nul_name "the signer does not name the challenging host" \
	--cert "$K/anul.der"
# Path validation as RFC 5280 has it (mutants K4, K5): a certificate for
# a.test from the same CA but without authorityKeyIdentifier (not
# conforming: refused under X509_STRICT, accepted without it), signing or
# handed out; a.test certified through a line of intermediate CAs (sent
# in the signature): 8 (CMS_MAX_CHAIN_DEPTH) accepted, 9 refused.
PKI_EXT=authorityKeyIdentifier=none PKI_EKU=$SIGNER pki_cert "$K" anoakid "DNS:a.test" a.test &&
	openssl x509 -in "$K/anoakid.pem" -outform DER -out "$K/anoakid.der" &&
	p=ca && : > "$K/chain.pem" && for i in 1 2 3 4 5 6 7 8 9; do
		PKI_ISSUER=$p PKI_PATHLEN='' pki_subca "$K" i$i || break
		cat "$K/chain.pem" > "$K/chain.tmp" && cat "$K/i$i.pem" "$K/chain.tmp" > "$K/chain$i.pem" &&
			cp "$K/chain$i.pem" "$K/chain.pem" && p=i$i
	done && [ "$p" = i9 ] &&
	PKI_ISSUER=i8 PKI_EKU=$SIGNER pki_cert "$K" deep8 "DNS:a.test" a.test &&
	PKI_ISSUER=i9 PKI_EKU=$SIGNER pki_cert "$K" deep9 "DNS:a.test" a.test
ok $? "a.test without authorityKeyIdentifier; a.test under 8 and under 9 intermediate CAs"
SIGNER_KEY=anoakid strict noakid_signer "signer certificate path validation failed"
strict noakid_cert "certificate path validation failed" --cert "$K/anoakid.der"
fake deep8 forge "$CAPTURED" --sign "$K/deep8.pem" "$K/deep8.key" --chain "$K/chain8.pem"
ua deep8 5 "$FAKE_PORT" -e "$K/uas.pem" -r "$K/ca.pem" -a a.test
unfake
json deep8 '"disclosed_to":\["a.test"\],"challenges":1,"checks":.*"refused":"the proxy challenged again after disclosure"' \
	"control: signed under 8 intermediate CAs (the limit): answered"
SIGNER_KEY=deep9 strict deep9 "signer certificate path validation failed" --chain "$K/chain9.pem"
# A's genuine and fresh 496 with a header the UA reads changed on the way
# (its Date; its Warning removed): the headers must be the signed ones.
for v in date_changed warning_removed; do
	oa=$(opened proxy_a) u0=$(uas_count)
	if [ $v = date_changed ]; then
		fake $v relay "$PX_PORT" --set-header Date "$(date -u -d '-1 hour' '+%a, %d %b %Y %H:%M:%S GMT')"
		want="Date is not the signed one"
	else
		fake $v relay "$PX_PORT" --set-header Warning ""
		want="Warnings are not the signed ones"
	fi
	ua $v 5 "$FAKE_PORT" -e "$K/uas.pem" -r "$K/ca.pem" -a a.test -a b.test
	unfake
	json $v '"status":496,.*"refused":"'"$want"'"' "genuine 496, $v on the way: refused"
	[ -f "$WORK/$v/496-1.sip" ] && [ ! -f "$WORK/$v/req-2.sip" ] &&
		[ "$(opened proxy_a)" -eq "$oa" ] && [ "$(uas_count)" -eq "$u0" ]
	ok $? "$v: one request only, A opened nothing, the UAS got nothing"
done

# ---- 2. replayed: A's genuine 496 of the relayed transaction, unchanged
# but for Via, From, Call-ID and CSeq (for Sofia to match it).
u0=$(uas_count)
fake replayed replay "$CAPTURED"
ua replayed 5 "$FAKE_PORT" -e "$K/uas.pem" -r "$K/ca.pem" -a a.test
unfake
json replayed '"status":496,.*"refused":"Call-ID is not the request'"'"'s"' \
	"replayed genuine 496: refused as stale (Call-ID)"
refused_quietly replayed replayed "$u0"

# The same inside one call: A's genuine 496 to the first request is
# replayed (by an on-path relay) to the retry, whose Call-ID and From tag
# are the same; the CSeq (and branch) of the signed sipfrag are not.
oa=$(opened proxy_a) u0=$(uas_count)
fake replay_call relay "$PX_PORT" --replay-496
ua replay_call 5 "$FAKE_PORT" -e "$K/uas.pem" -r "$K/ca.pem" -a a.test -a b.test
unfake
json replay_call '"status":496,.*"disclosed_to":\["a.test"\],"challenges":1,"checks":.*"refused":"CSeq is not the request'"'"'s"' \
	"A's 496 replayed to the retry in the same call: refused as stale (CSeq)"
[ -f "$WORK/replay_call/req-2.sip" ] && [ ! -f "$WORK/replay_call/req-3.sip" ] &&
	[ "$(opened proxy_a)" -eq "$oa" ] && [ "$(uas_count)" -eq "$u0" ]
ok $? "replay_call: no third request; nothing reached A's inspection or the UAS"

# ---- 4. the chain: A challenges, then B; each is disclosed to in turn.
# chain_checks NAME: the last message at the UAS is the name's, labelled
# for both; sets LAST (its number) and CID_A, CID_B (the labelled parts).
chain_checks() {
	LAST=$(uas_count)
	grep -q '^CSeq: 3 MESSAGE' "$WORK/uas/$LAST.head"
	ok $? "$1: the UAS got the third request (CSeq 3)"
	CID_A=$(grep -io '^Proxy-Inspect-Body: a.test;cid="[^"]*"' "$WORK/uas/$LAST.head" | sed 's/.*cid="\(.*\)"/\1/')
	CID_B=$(grep -io '^Proxy-Inspect-Body: b.test;cid="[^"]*"' "$WORK/uas/$LAST.head" | sed 's/.*cid="\(.*\)"/\1/')
	[ -n "$CID_A" ] && [ -n "$CID_B" ]
	ok $? "$1: labelled for a.test and for b.test"
	grep -q "MESSAGE inspected: targets 1 ($CID_A opened)" "$WORK/proxy_a.log" &&
		grep -q "MESSAGE inspected: targets 1 ($CID_B opened)" "$WORK/proxy_b.log"
	ok $? "$1: A's and B's logs say each opened its labelled part"
}
oa=$(opened proxy_a) ob=$(opened proxy_b) u0=$(uas_count)
ua chain 0 "$PX_PORT" -e "$K/uas.pem" -r "$K/ca.pem" -a a.test -a b.test
json chain '"status":200,.*"disclosed_to":\["a.test","b.test"\],"challenges":2' \
	"200 after A's and B's challenges, disclosed to both in that order"
[ "$(uas_count)" -eq $((u0 + 1)) ]
ok $? "chain: the UAS got one message"
chain_checks chain
[ "$CID_A" = "$CID_B" ] && grep -qi '^Content-Type: application/pkcs7-mime' "$WORK/uas/$LAST.head"
ok $? "chain: one shared envelope for A, B and the UAS"
# A opened the second and the third request, B the third only.
[ "$(opened proxy_a)" -eq $((oa + 2)) ] && [ "$(opened proxy_b)" -eq $((ob + 1)) ]
ok $? "chain: A opened 2 requests, B 1"
# 5. The independent tool opens the final envelope with each key.
for key in a b uas; do
	opens "$WORK/uas/$LAST.body" $key &&
		grep -q 'meet me at noon' "$WORK/uas/$LAST.body.$key.plain"
	ok $? "chain: openssl cms -decrypt opens the UAS's copy with $key's key"
done
opens "$WORK/uas/$LAST.body" evil
[ $? -ne 0 ]
ok $? "chain: ... and not with a key it was not made for"

# Separate envelopes (-S): one for the proxies, one for the UAS.
oa=$(opened proxy_a) ob=$(opened proxy_b)
ua chain_sep 0 "$PX_PORT" -e "$K/uas.pem" -r "$K/ca.pem" -a a.test -a b.test -S
json chain_sep '"status":200,.*"disclosed_to":\["a.test","b.test"\],"challenges":2' \
	"separate: 200 after two challenges"
chain_checks chain_sep
grep -qi '^Content-Type: multipart/mixed' "$WORK/uas/$LAST.head" &&
	grep -q "targets 1 ($CID_B opened); closed 1" "$WORK/proxy_b.log"
ok $? "separate: multipart/mixed; B opened its part, the UAS's stayed shut"
# Each part with the independent tool: the proxies' part opens with A's
# and B's keys, not the UAS's; the UAS's part the other way round.
PYTHONPATH=$TOP_SRCDIR/tests/integration python3 -B - "$WORK/uas/$LAST" "$CID_A" <<'PY'
import sys
from challenge import mime_params, split_multipart, mime_entity
head = open(sys.argv[1] + '.head', encoding='latin-1', newline='').read()
ct = [l.split(':', 1)[1] for l in head.split('\r\n') if l.lower().startswith('content-type:')][0]
body = open(sys.argv[1] + '.body', 'rb').read()
for raw in split_multipart(body, mime_params(ct)[1]['boundary']):
    h, content = mime_entity(raw)
    who = 'proxies' if h.get('content-id', '').strip('<>') == sys.argv[2] else 'uas'
    open(sys.argv[1] + '.' + who + '.der', 'wb').write(content)
PY
P=$WORK/uas/$LAST
opens "$P.proxies.der" a && opens "$P.proxies.der" b && ! opens "$P.proxies.der" uas &&
	grep -q 'meet me at noon' "$P.proxies.der.a.plain"
ok $? "separate: the proxies' part opens with A's and B's keys only (openssl)"
opens "$P.uas.der" uas && ! opens "$P.uas.der" a && ! opens "$P.uas.der" b &&
	grep -q 'meet me at noon' "$P.uas.der.uas.plain"
ok $? "separate: the UAS's part opens with the UAS's key only (openssl)"

# At most one proxy (-n 1): B's challenge is refused, B sees nothing.
oa=$(opened proxy_a) ob=$(opened proxy_b) u0=$(uas_count)
ua chain_n1 5 "$PX_PORT" -e "$K/uas.pem" -r "$K/ca.pem" -a a.test -a b.test -n 1
json chain_n1 '"status":496,.*"disclosed_to":\["a.test"\],"challenges":1,"checks":.*"refused":"too many inspecting proxies"' \
	"-n 1: disclosed to A, B's challenge refused"
[ "$(opened proxy_a)" -eq $((oa + 1)) ] && [ "$(opened proxy_b)" -eq "$ob" ] &&
	[ "$(uas_count)" -eq "$u0" ]
ok $? "-n 1: A opened one request, B none, the UAS got nothing"
# Only A on the allow-list: the same, for another reason.
oa=$(opened proxy_a) ob=$(opened proxy_b) u0=$(uas_count)
ua chain_only_a 5 "$PX_PORT" -e "$K/uas.pem" -r "$K/ca.pem" -a a.test
json chain_only_a '"status":496,.*"disclosed_to":\["a.test"\],"challenges":1,"checks":.*"refused":"the proxy is not on the allow-list"' \
	"only a.test allowed: B's challenge refused"
[ "$(opened proxy_a)" -eq $((oa + 1)) ] && [ "$(opened proxy_b)" -eq "$ob" ] &&
	[ "$(uas_count)" -eq "$u0" ]
ok $? "only a.test allowed: A opened one request, B none, the UAS got nothing"

# A call through the chain: the offer is challenged by A, then by B;
# the callee (e2mua -l) answers with SDP encrypted to the caller and both
# proxies, which each open it; ACK and BYE follow the Record-Route.
"$E2MUA" -l -b "sip:127.0.0.1:$CALLEE_PORT;transport=tcp" -k "$K/uas.pem:$K/uas.key" \
	-r "$K/ca.pem" -e "$K/alice.pem" -x "a.test=$K/a.pem" -x "b.test=$K/b.pem" \
	-N 2 -T 30 > "$WORK/callee.out" 2> "$WORK/callee.err" &
CALLEE=$!
PIDS="$PIDS $CALLEE"
for i in $(seq 1 100); do
	(exec 3<>"/dev/tcp/127.0.0.1/$CALLEE_PORT") 2>/dev/null && break
	sleep 0.05
done
TO="sip:bob@127.0.0.1:$CALLEE_PORT;transport=tcp"
ua call 0 "$PX_PORT" -I -H 0 -f sip:alice@example.com -e "$K/uas.pem" -r "$K/ca.pem" \
	-a a.test -a b.test
json call '"method":"INVITE","status":200,.*"disclosed_to":\["a.test","b.test"\],"challenges":2,"checks":.*"bye":200' \
	"two 496s answered, 200, BYE answered 200"
wait_pid "$CALLEE" 10 2>/dev/null
grep -q '"received":"INVITE","from":"sip:alice@example.com","status":200,"decrypted":1,.*"type":"application/sdp"' "$WORK/callee.out" &&
	grep -q '"received":"BYE"' "$WORK/callee.out"
ok $? "call: the callee opened the offer and got the BYE"
for p in proxy_a proxy_b; do
	grep -q 'INVITE inspected: targets 1 ([0-9a-f]*@e2mua opened)' "$WORK/$p.log" &&
		grep -q 'INVITE 200 inspected: targets 1 ([0-9a-f]*@e2mua opened); closed 0; visible application/sdp' "$WORK/$p.log"
	ok $? "call: $p opened the offer and the answer"
done
TO="sip:bob@127.0.0.1:$UAS_PORT;transport=tcp"

# ---- 3. revocation, against B alone (B routes to the UAS). A CRL that
# revokes nothing: accepted; B's certificate revoked: refused.
pki_crl "$K" && cp "$K/ca.crl" "$K/fresh.crl"
ok $? "a CRL revoking nothing"
u0=$(uas_count)
ua crl_ok 0 "$B_PORT" -e "$K/uas.pem" -r "$K/ca.pem" -R "$K/fresh.crl" -a b.test
json crl_ok '"status":200,.*"disclosed_to":\["b.test"\],"challenges":1' \
	"current CRL, B not revoked: 496 answered, 200"
[ "$(uas_count)" -eq $((u0 + 1)) ]
ok $? "crl_ok: the UAS got it"
ua off_list 5 "$B_PORT" -e "$K/uas.pem" -r "$K/ca.pem" -R "$K/fresh.crl" -a a.test
json off_list '"disclosed_to":\[\],"challenges":0,"checks":.*"refused":"the proxy is not on the allow-list"' \
	"B not on the allow-list: refused, disclosed to nobody"
ua crl_ok_c 0 "$C_PORT" -e "$K/uas.pem" -r "$K/ca.pem" -R "$K/fresh.crl" -a c.test
json crl_ok_c '"status":200,.*"disclosed_to":\["c.test"\],"challenges":1' \
	"C (separate signing key), current CRL: accepted"
# A CRL past its nextUpdate proves nothing: refused.
pki_crl_at "$K" "$K/expired.crl" "$(date -u -d '-2 hours' +%Y%m%d%H%M%SZ)" \
	"$(date -u -d '-1 hour' +%Y%m%d%H%M%SZ)"
ok $? "an expired CRL revoking nothing"
u0=$(uas_count)
ua crl_expired 5 "$B_PORT" -e "$K/uas.pem" -r "$K/ca.pem" -R "$K/expired.crl" -a b.test
json crl_expired '"disclosed_to":\[\],"challenges":0,"checks":.*"refused":"a CRL of the path has expired"' "expired CRL: refused as such, disclosed to nobody"
# -R with only another CA's CRL: no current CRL for B's issuer.
mkdir -p "$WORK/other" && pki_ca "$WORK/other" && pki_crl "$WORK/other"
ua crl_other 5 "$B_PORT" -e "$K/uas.pem" -r "$K/ca.pem" -R "$WORK/other/ca.crl" -a b.test
json crl_other '"disclosed_to":\[\],"challenges":0,"checks":.*"refused":"(no CRL for a certificate of the path|a CRL of the path does not verify)"' "only another CA's CRL (same CA name, other key): refused as such"
[ "$(uas_count)" -eq "$u0" ]
ok $? "expired or foreign CRL: the UAS got nothing"
pki_revoke "$K" b && openssl crl -in "$K/ca.crl" -noout -text | grep -q 'Serial Number'
ok $? "B's certificate revoked (pki_revoke), CRL written"
ob=$(opened proxy_b) u0=$(uas_count)
ua revoked 5 "$B_PORT" -e "$K/uas.pem" -r "$K/ca.pem" -R "$K/ca.crl" -a b.test
json revoked '"status":496,.*"disclosed_to":\[\],"challenges":0,"checks":.*"refused":"[^"]*revoked' \
	"B revoked: refused, the reason says revoked"
[ "$(opened proxy_b)" -eq "$ob" ] && [ "$(uas_count)" -eq "$u0" ]
ok $? "revoked: B opened nothing, the UAS got nothing"
# Without -R the same revoked certificate passes: the CRL is what refused it.
ua no_crl 0 "$B_PORT" -e "$K/uas.pem" -r "$K/ca.pem" -a b.test
# C's encryption certificate revoked, its signing certificate not: the
# certificate the UA would encrypt to is checked too (digest 4.6 step 3).
pki_revoke "$K" cenc
ok $? "C's encryption certificate revoked"
oc=$(opened proxy_c) u0=$(uas_count)
ua revoked_enc 5 "$C_PORT" -e "$K/uas.pem" -r "$K/ca.pem" -R "$K/ca.crl" -a c.test
json revoked_enc '"disclosed_to":\[\],"challenges":0,"checks":.*"refused":"encryption certificate revoked"' \
	"C's encryption certificate revoked: refused"
[ "$(uas_count)" -eq "$u0" ] && [ "$(opened proxy_c)" -eq "$oc" ]
ok $? "revoked_enc: C opened nothing, the UAS got nothing"

# ---- 3b. revocation of an intermediate CA. D's certificate comes from
# the sub-CA "sub" (sent in the signature: signing_chain); the UA has the
# root's CRL and the sub-CA's. While the root's CRL does not revoke the
# sub-CA: accepted; once it does: refused, although D's own certificate is
# on no revocation list (only a check of every certificate of the path
# sees it).
pki_subca "$K" sub && PKI_ISSUER=sub PKI_EKU=$SIGNER pki_cert "$K" d "DNS:d.test" d.test &&
	mkdir -p "$K/subdb" && cp "$K/sub.pem" "$K/subdb/ca.pem" &&
	cp "$K/sub.key" "$K/subdb/ca.key" && pki_crl "$K/subdb" && pki_crl "$K" &&
	cp "$K/ca.crl" "$K/root-now.crl"
ok $? "intermediate CA, D's certificate from it, the sub-CA's CRL (revoking nothing)"
proxy_conf "$WORK/d.conf" "$D_PORT" d.test d d
sed -i "s|^challenge: {|challenge: { signing_chain = [ \"$K/sub.pem\" ];|" "$WORK/d.conf"
start_proxy "$WORK/d.conf" proxy_d
ok $? "proxy D (d.test, certificates from the intermediate) starts"
u0=$(uas_count)
ua sub_ok 0 "$D_PORT" -e "$K/uas.pem" -r "$K/ca.pem" -R "$K/root-now.crl" -R "$K/subdb/ca.crl" -a d.test
json sub_ok '"status":200,.*"disclosed_to":\["d.test"\],"challenges":1' \
	"intermediate not revoked, both CRLs current: 496 answered, 200"
[ "$(uas_count)" -eq $((u0 + 1)) ]
ok $? "sub_ok: the UAS got it"
pki_revoke "$K" sub
ok $? "the intermediate CA revoked in the root's CRL"
od=$(opened proxy_d) u0=$(uas_count)
ua sub_revoked 5 "$D_PORT" -e "$K/uas.pem" -r "$K/ca.pem" -R "$K/ca.crl" -R "$K/subdb/ca.crl" -a d.test
json sub_revoked '"status":496,.*"disclosed_to":\[\],"challenges":0,"checks":.*"refused":"[^"]*revoked' \
	"intermediate revoked: refused, the reason says revoked"
[ "$(opened proxy_d)" -eq "$od" ] && [ "$(uas_count)" -eq "$u0" ]
ok $? "sub_revoked: D opened nothing, the UAS got nothing"

t_done
