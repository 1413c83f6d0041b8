#!/bin/sh
# cms_speed.sh [-t SECS] [-r ROUNDS] [-n INFLIGHT] [BUILD_DIR] - raw OpenSSL CMS rates,
# our cms module, and the decrypt stage (one worker) opening a labelled
# INVITE body, measured in one run (benchmark.md 2).
#
# Makes a throwaway PKI and CMS vectors with the openssl command line tool
# in a mktemp directory, builds bench/cms_speed.c with cc -O2 against
# BUILD_DIR (default _build, which must hold the built layer libraries), runs
# it and deletes the directory. No key is ever kept. BENCH_KEEP=1 keeps the
# directory (keys included: throwaway, never commit them).
set -eu

secs=3
rounds=5
inflight=32
while getopts t:r:n: opt; do
	case $opt in
	t) secs=$OPTARG ;;
	r) rounds=$OPTARG ;;
	n) inflight=$OPTARG ;;
	*) echo "usage: $0 [-t SECS] [-r ROUNDS] [-n INFLIGHT] [BUILD_DIR]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))

TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/bench/lib.sh"
bench_build "${1:-}"
[ -f "$BUILD/src/proxyd/libe2mproxyd.a" ] || {
	echo "cms_speed.sh: no $BUILD/src/proxyd/libe2mproxyd.a (run make there)" >&2
	exit 1
}

bench_workdir cms_speed
work=$WORK

O=openssl
(
	cd "$work"
	cat > ca.cnf <<'CNF'
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = E2M Bench CA
[ v3_ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
CNF
	cat > ee.cnf <<'CNF'
[ proxy ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment,keyAgreement
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:proxy.example.com,URI:sip:proxy.example.com
[ signer ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
extendedKeyUsage = emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = email:alice@example.com,URI:sip:alice@example.com
CNF
	$O genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out ca.key 2>/dev/null
	$O req -new -x509 -config ca.cnf -extensions v3_ca -key ca.key \
	    -sha256 -days 2 -set_serial 1 -out ca.crt

	# issue NAME KEYTYPE EXT SERIAL
	issue() {
		case $2 in
		rsa) $O genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
		        -out "$1.key" 2>/dev/null ;;
		ec)  $O genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		        -out "$1.key" 2>/dev/null ;;
		esac
		$O req -new -key "$1.key" -subj "/CN=$1" -out "$1.csr"
		$O x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key \
		    -set_serial "$4" -days 2 -sha256 -extfile ee.cnf \
		    -extensions "$3" -out "$1.crt" 2>/dev/null
	}
	issue proxy_ec   ec  proxy  1001
	issue proxy_rsa  rsa proxy  1002
	issue signer_ec  ec  signer 1003
	issue signer_rsa rsa signer 1004

	# The SDP offer as a MIME entity, CRLF line ends.
	printf 'Content-Type: application/sdp\r\n\r\nv=0\r\no=alice 2890844526 2890844526 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n' \
	    > inner.txt
	$O cms -encrypt -binary -aes-128-cbc -outform DER -in inner.txt \
	    -out env_ec.der -recip proxy_ec.crt
	$O cms -encrypt -binary -aes-128-cbc -outform DER -in inner.txt \
	    -out env_rsa.der -recip proxy_rsa.crt
	# Detached SignedData over the same entity (multipart/signed's
	# first part), ECDSA P-256, the CA carried.
	cp inner.txt signed.txt
	$O cms -sign -binary -md sha256 -outform DER -in signed.txt \
	    -signer signer_ec.crt -inkey signer_ec.key -certfile ca.crt \
	    -out sig.der
	$O cms -verify -binary -inform DER -in sig.der -content signed.txt \
	    -CAfile ca.crt -out /dev/null 2>/dev/null
) >/dev/null

bench_cc "$work/cms_speed" cms_speed proxyd/libe2mproxyd.a e2m/libe2mcore.a \
    crypto/libe2mcrypto.a common/libe2mcommon.a

"$work/cms_speed" -t "$secs" -r "$rounds" -n "$inflight" "$work"
