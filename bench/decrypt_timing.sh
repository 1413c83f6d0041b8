#!/bin/sh
# decrypt_timing.sh [-n PASSES] [BUILD_DIR] - the time cms_decrypt()
# takes for each way an envelope fails, against one that opens (digest
# R10: every decryption failure the same 496, "same timing as far as
# practical"; docs/e2m.md "Undecipherable, and the timing left").
#
# A throwaway PKI (openssl command line) with a proxy key of each kind,
# RSA-2048 and EC P-256, and for each a look-alike certificate: the same
# issuer and serial, another key, so that the proxy takes an envelope
# made for it as its own. Envelopes of one SDP body (AES-128-CBC, DER),
# per kind:
#   ok          to the proxy: opens
#   wrongkey    to the look-alike: key transport (or agreement) with the
#               wrong key; RSA: a padding that checks out by chance opens
#               to garbage (CBC: no integrity), which the proxy then takes
#               for undecipherable (inspect.c)
#   badcontent  to the proxy, the last byte of the encrypted content
#               changed: key transport fine, the content's padding fails
#   notforus    to another certificate (other serial): no RecipientInfo
#               of ours, no private-key operation
# RSA both with PKCS#1 v1.5 key transport (openssl's default) and OAEP.
# Every case timed in turns, PASSES calls each (default 2000, about 20 s);
# per case the median, p10-p90 and the median over the kind's "ok".
# Needs cc, pkg-config, the openssl tool and a build in _build/ (or
# BUILD_DIR). A benchmark: prints figures, fails only when something
# cannot be made.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/bench/lib.sh"
PASSES=2000
while getopts n: o; do
	case $o in
	n) PASSES=$OPTARG ;;
	*) sed -n '2,3p' "$0"; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
bench_need cc pkg-config openssl
bench_build "${1:-}"
bench_workdir e2m-decrypt-timing
O=openssl

(
	cd "$WORK"
	printf '[req]\ndistinguished_name=dn\nprompt=no\n[dn]\nCN=E2M Timing CA\n[ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\nsubjectKeyIdentifier=hash\n' > ca.cnf
	printf '[ee]\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment,keyAgreement\nsubjectKeyIdentifier=hash\n' > ee.cnf
	$O genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key
	$O req -new -x509 -config ca.cnf -extensions ca -key ca.key -sha256 \
	    -days 2 -set_serial 1 -out ca.crt
	# cert NAME KIND SERIAL
	cert() {
		case $2 in
		rsa) $O genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1.key" ;;
		ec) $O genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" ;;
		esac
		$O req -new -key "$1.key" -subj "/CN=proxy" -out "$1.csr"
		$O x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -set_serial "$3" \
		    -days 2 -sha256 -extfile ee.cnf -extensions ee -out "$1.crt"
	}
	for k in rsa ec; do
		cert "proxy_$k" $k 1001
		cert "alike_$k" $k 1001	# same issuer and serial, other key
		cert "other_$k" $k 1002
	done
	cp proxy_rsa.crt proxy_oaep.crt
	cp proxy_rsa.key proxy_oaep.key
	printf 'Content-Type: application/sdp\r\n\r\nv=0\r\no=alice 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\n' > sdp.txt
	# env OUT RECIPIENT-CERT [-keyopt ...]
	env() {
		out=$1 to=$2
		shift 2
		$O cms -encrypt -binary -aes-128-cbc -outform DER -in sdp.txt \
		    -out "$out.der" -recip "$to" "$@"
	}
	for k in rsa ec oaep; do
		c=$k opt=""
		[ $k = oaep ] && c=rsa opt="-keyopt rsa_padding_mode:oaep"
		# shellcheck disable=SC2086 # opt: zero or two words
		env "${k}_ok" "proxy_$c.crt" $opt
		# shellcheck disable=SC2086
		env "${k}_wrongkey" "alike_$c.crt" $opt
		# shellcheck disable=SC2086
		env "${k}_notforus" "other_$c.crt" $opt
		# the last byte of the DER is the encrypted content's last one
		cp "${k}_ok.der" "${k}_badcontent.der"
		n=$(wc -c < "${k}_ok.der")
		last=$(tail -c 1 "${k}_ok.der" | od -An -tu1 | tr -d ' ')
		if [ "$last" = 0 ]; then printf '\001'; else printf '\000'; fi |
		    dd of="${k}_badcontent.der" bs=1 seek=$((n - 1)) conv=notrunc 2>/dev/null
	done
) > /dev/null 2>&1 || { echo "decrypt_timing.sh: making the PKI and envelopes failed"; exit 1; }

bench_cc "$WORK/decrypt_timing" decrypt_timing crypto/libe2mcrypto.a \
    common/libe2mcommon.a
echo "# decrypt_timing.sh: $(now_utc), load average $(loadavg), $PASSES calls per case, in turns"
echo "# $($O version)"
"$WORK/decrypt_timing" -n "$PASSES" "$WORK" \
    rsa_ok rsa_wrongkey rsa_badcontent rsa_notforus \
    oaep_ok oaep_wrongkey oaep_badcontent oaep_notforus \
    ec_ok ec_wrongkey ec_badcontent ec_notforus
