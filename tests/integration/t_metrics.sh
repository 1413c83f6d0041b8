#!/bin/bash
# /metrics and /status: after a known mix of traffic (OPTIONS to the proxy,
# MESSAGEs opened, challenged 496 and 495, signed valid and tampered, an
# INVITE), a good and a bad reload, every counter has the value that mix
# makes; the text passes `promtool check metrics`; a real Prometheus
# server scrapes it and its query API returns a counter we drove; /status
# is JSON with the version, configuration and certificates; the shipped
# alert rules pass `promtool check rules`. Off unless configured, loopback
# by default.
. "$TOP_SRCDIR/tests/integration/lib.sh"
. "$TOP_SRCDIR/tests/integration/pki.sh"
t_init metrics 21740
K=$WORK/pki
M_PORT=$((BASE + 3))
PROM_PORT=$((BASE + 4))
mkdir -p "$K" "$WORK/uas"
PXLOG=$WORK/proxy.log
CONF=$WORK/px.conf
URL=http://127.0.0.1:$M_PORT

pki_ca "$K" &&
	pki_cert "$K" px1 "DNS:proxy.test" proxy.test &&
	pki_cert "$K" px2 "DNS:proxy.test" proxy.test &&
	pki_cert "$K" sign "DNS:proxy.test" proxy.test &&
	PKI_EKU=emailProtection pki_cert "$K" alice "email:alice@example.com" alice
ok $? "test PKI made with openssl"

# conf FILE [METRICS-GROUP]
conf() {
	cat > "$1" <<CONF
log: { level = "debug"; };
sip: {
  listen = ( { transport = "udp"; address = "127.0.0.1"; port = $PX_PORT; },
             { transport = "tcp"; address = "127.0.0.1"; port = $PX_PORT; } );
  own_names = [ "proxy.test" ];
};
inspect: {
  keys = ( { certificate = "$K/px1.pem"; key = "$K/px1.key"; } );
  trust_anchors = [ "$K/ca.pem" ];
  workers = 1;
};
challenge: {
  signing_certificate = "$K/sign.pem"; signing_key = "$K/sign.key";
  rate = 0;
};
policy: {
  rules = (
    { methods = [ "MESSAGE" ]; from_users = [ "integ" ];
      required_types = [ "text/plain" ]; require_integrity = true; },
    { methods = [ "MESSAGE" ]; from_domains = [ "example.com" ];
      required_types = [ "text/plain" ]; }
  );
};
archive: { enabled = true; path = "$WORK/im.jsonl"; };
${2:-}
CONF
}

# Bodies: text encrypted to our key and to one we do not have; text signed
# by alice, and the same with one word changed.
printf 'Content-Type: text/plain\r\n\r\nmeet me at noon\r\n' > "$WORK/mime"
printf 'hello\r\n' > "$WORK/text"
P7M='application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m'
LABEL='Content-ID: <m1@example.com>\r\nProxy-Inspect-Body: proxy.test;cid="m1@example.com"\r\n'
for k in px1 px2; do
	openssl cms -encrypt -binary -aes-128-cbc -in "$WORK/mime" -outform DER \
		-out "$WORK/to_$k.p7m" "$K/$k.pem" || break
done &&
	openssl cms -sign -in "$WORK/mime" -signer "$K/alice.pem" -inkey "$K/alice.key" \
		-crlfeol > "$WORK/signed.mime" 2>/dev/null
ok $? "bodies made with openssl cms"
SIGNED_CT=$(sed -n 's/^Content-Type: //p' "$WORK/signed.mime" | head -1 | tr -d '\r')
python3 - "$WORK" <<'PY'
import sys
w = sys.argv[1] + '/'
body = open(w + 'signed.mime', 'rb').read().split(b'\r\n\r\n', 1)[1]
open(w + 'signed.body', 'wb').write(body)
open(w + 'tampered.body', 'wb').write(body.replace(b'meet me at noon', b'meet me at nine', 1))
PY

# Off unless configured.
conf "$CONF"
start_proxy "$CONF" off
ok $? "proxy starts without a metrics section"
! grep -q 'metrics:' "$WORK/off.log" && [ -z "$(ss -Htln "sport = :9465")" ]
ok $? "no metrics listener unless configured"
kill "$PX_PID"
wait "$PX_PID" 2>/dev/null

conf "$CONF" "metrics: { enabled = true; port = $M_PORT; };"
start_proxy "$CONF" proxy
ok $? "proxy starts with metrics enabled"
[ "$(ss -Htln "sport = :$M_PORT" | awk '{ print $4 }')" = "127.0.0.1:$M_PORT" ]
ok $? "metrics listen on loopback only by default"
start_uas tcp "$WORK/uas" 100 120

# The mix.
proxy_answers && proxy_answers
ok $? "2 OPTIONS to the proxy answered 200"
tcp_req opened MESSAGE alice@example.com "$P7M" "$WORK/to_px1.p7m" "$LABEL"
tcp_req closed MESSAGE alice@example.com "$P7M" "$WORK/to_px2.p7m" "$LABEL"
tcp_req unsigned MESSAGE integ@example.com text/plain "$WORK/text"
tcp_req signed MESSAGE integ@example.com "$SIGNED_CT" "$WORK/signed.body"
tcp_req tampered MESSAGE integ@example.com "$SIGNED_CT" "$WORK/tampered.body"
tcp_req invite INVITE carol@example.net application/sdp "$WORK/text"
got=""
for n in opened closed unsigned signed tampered invite; do
	got="$got $n=$(tcp_status $n)"
done
[ "$got" = " opened=200 closed=496 unsigned=495 signed=200 tampered=403 invite=200" ]
ok $? "the mix answered as policy says:$got"

# A good reload, then a bad one.
kill -HUP "$PX_PID"
for i in $(seq 1 200); do grep -q 'applied (generation 2)' "$PXLOG" && break; sleep 0.05; done
cp "$CONF" "$WORK/good.conf"
echo 'bogus = 1;' >> "$CONF"
kill -HUP "$PX_PID"
for i in $(seq 1 200); do grep -q 'not applied' "$PXLOG" && break; sleep 0.05; done
cp "$WORK/good.conf" "$CONF"

# The archive's final records are written after the responses went
# upstream: wait for the 4 lines (a bound, 10 s) before counting.
for i in $(seq 1 100); do
	[ "$(wc -l < "$WORK/im.jsonl")" -ge 4 ] && break
	sleep 0.1
done
scrape
ok $? "GET /metrics answers 200"
promtool check metrics < "$WORK/metrics.txt" > "$WORK/promtool.out" 2>&1
r=$?
ok $r "promtool check metrics: the text is valid"
[ $r -eq 0 ] || sed 's/^/#   /' "$WORK/promtool.out"

expect 'e2mproxy_requests_total{method="OPTIONS"}' 2
expect 'e2mproxy_requests_total{method="MESSAGE"}' 5
expect 'e2mproxy_requests_total{method="INVITE"}' 1
expect 'e2mproxy_requests_total{method="BYE"}' 0
expect 'e2mproxy_requests_total{method="other"}' 0
# 1xx: our 100 Trying to the INVITE. 2xx: 2 OPTIONS, 2 MESSAGEs relayed,
# the INVITE's 200. 4xx: 496, 495, 403.
expect 'e2mproxy_responses_total{class="1xx"}' 1
expect 'e2mproxy_responses_total{class="2xx"}' 5
expect 'e2mproxy_responses_total{class="4xx"}' 3
expect 'e2mproxy_responses_total{class="5xx"}' 0
expect 'e2mproxy_transactions_in_flight' 0
expect 'e2mproxy_decrypts_total{result="opened"}' 1
expect 'e2mproxy_decrypts_total{result="undecipherable"}' 1
expect 'e2mproxy_signatures_total{result="valid"}' 1
expect 'e2mproxy_signatures_total{result="invalid"}' 1
expect 'e2mproxy_challenges_total{kind="495"}' 1
expect 'e2mproxy_challenges_total{kind="496"}' 1
expect 'e2mproxy_rate_limited_total{limit="challenge"}' 0
expect 'e2mproxy_rate_limited_total{limit="decrypt"}' 0
expect 'e2mproxy_busy_total' 0
expect 'e2mproxy_worker_queue_depth' 0
# Archived: the opened MESSAGE and the validly signed one, a message
# record and a final-response record each.
expect 'e2mproxy_archive_records_total{result="written"}' 4
expect 'e2mproxy_archive_records_total{result="failed"}' 0
expect 'e2mproxy_reloads_total{result="ok"}' 1
expect 'e2mproxy_reloads_total{result="failed"}' 1
expect 'e2mproxy_config_generation' 2
expect 'e2mproxy_build_info{version="'"$("$E2MPROXYD" -V | awk 'NR == 1 { print $2 }')"'"}' 1
end=$(date -d "$(openssl x509 -enddate -noout -in "$K/px1.pem" | cut -d= -f2)" +%s)
expect 'e2mproxy_certificate_expiry_timestamp_seconds{role="inspect.keys[0].certificate",path="'"$K"'/px1.pem"}' "$end"
[ "$(wc -l < "$WORK/im.jsonl")" -eq 4 ]
ok $? "the archive file holds the 4 records counted"
! grep -q 'e2mproxy_pinholes' "$WORK/metrics.txt"
ok $? "no pinhole families while pinholes are off"

# /status
curl -sf "$URL/status" > "$WORK/status.json"
python3 - "$WORK/status.json" "$CONF" "$K/sign.pem" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert s['version'] and s['uptime_seconds'] >= 0, s
assert s['config']['file'] == sys.argv[2], s['config']
assert s['config']['generation'] == 2 and s['config']['reloads_failed'] == 1
roles = {c['role']: c for c in s['certificates']}
c = roles['challenge.signing_certificate']
assert c['path'] == sys.argv[3] and c['subject'] == '/CN=proxy.test', c
assert c['not_after'].endswith('Z') and c['days_left'] in (1, 2), c
PY
ok $? "/status: JSON with version, uptime, configuration file, generation, reloads, certificates"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/nothing")" = 404 ] &&
	[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/metrics")" = 405 ]
ok $? "other paths 404, other methods 405"

# A real Prometheus server scrapes it.
if command -v prometheus > /dev/null; then
	cat > "$WORK/prometheus.yml" <<YML
global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: [ "$TOP_SRCDIR/conf/e2mproxy-alerts.yml" ]
scrape_configs:
  - job_name: e2mproxy
    static_configs: [ { targets: [ "127.0.0.1:$M_PORT" ] } ]
YML
	prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
		--web.listen-address="127.0.0.1:$PROM_PORT" > "$WORK/prometheus.log" 2>&1 &
	PIDS="$PIDS $!"
	q='e2mproxy_requests_total{method="MESSAGE",job="e2mproxy"}'
	for i in $(seq 1 600); do
		curl -sf --get "http://127.0.0.1:$PROM_PORT/api/v1/query" \
			--data-urlencode "query=$q" > "$WORK/query.json" 2>/dev/null &&
			python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["data"]["result"]; sys.exit(0 if r and r[0]["value"][1]=="5" else 1)' \
			"$WORK/query.json" 2>/dev/null && break
		sleep 0.1
	done
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["data"]["result"]; sys.exit(0 if r and r[0]["value"][1]=="5" else 1)' "$WORK/query.json" 2>/dev/null
	ok $? "Prometheus scraped it: its query API says $q = 5"
	curl -sf "http://127.0.0.1:$PROM_PORT/api/v1/rules" | python3 -c '
import json, sys
g = json.load(sys.stdin)["data"]["groups"]
sys.exit(0 if g and all(r["health"] != "err" for x in g for r in x["rules"]) else 1)'
	ok $? "Prometheus loaded the shipped alert rules"
else
	skip "Prometheus scrape" "no prometheus here"
	skip "alert rules loaded" "no prometheus here"
fi
promtool check rules "$TOP_SRCDIR/conf/e2mproxy-alerts.yml" > "$WORK/rules.out" 2>&1
r=$?
ok $r "promtool check rules: conf/e2mproxy-alerts.yml is valid"
[ $r -eq 0 ] || sed 's/^/#   /' "$WORK/rules.out"

t_done
