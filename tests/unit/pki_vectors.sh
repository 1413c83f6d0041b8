#!/bin/sh
# pki_vectors.sh DIR SET - make the CA, keys and certificates of one unit
# test, with the openssl command line tool, in DIR (which exists). SET is
# the test: challenge, uachal, uatrust or cmspath (each set is described
# where it is made, below). Everything is generated at test time: no
# private key is ever committed. One script for all of them, so that the
# way a certificate is made (the extension file, the key types, the
# commands) is written once; test_cms has its own (cms_vectors.sh: a CRL
# and CMS blobs besides).
#
# Every certificate lasts 2 days and is signed with SHA-256. A NAME gives
# NAME.key, NAME.pem and (end entities) NAME.der.
set -eu

dir=${1:?usage: pki_vectors.sh DIR SET}
set=${2:?usage: pki_vectors.sh DIR SET}
cd "$dir"
O=openssl

# The extensions of a CA, in ext.cnf; each set adds those of its end
# entities with ee.
cat > ext.cnf <<'CNF'
[ req ]
distinguished_name = dn
[ dn ]
[ ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
CNF

# ee SECTION KEYUSAGE SAN [LINE...]: the section of an end entity: not a
# CA, the key usages (critical) and subjectAltName given, then LINEs.
ee() {
	printf '[ %s ]\nbasicConstraints = CA:FALSE\nkeyUsage = critical,%s\n' \
	    "$1" "$2" >> ext.cnf
	printf 'subjectAltName = %s\n' "$3" >> ext.cnf
	shift 3
	for line; do
		printf '%s\n' "$line" >> ext.cnf
	done
}
# The key identifiers, for the sets that name them.
SKID='subjectKeyIdentifier = hash'
AKID='authorityKeyIdentifier = keyid'

# key NAME [ec|rsa]: a P-256 (default) or RSA-2048 private key.
key() {
	case ${2:-ec} in
	ec) $O genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	        -out "$1.key" 2>/dev/null ;;
	rsa) $O genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
	        -out "$1.key" 2>/dev/null ;;
	esac
}

# root NAME CN: a self-signed CA.
root() {
	key "$1"
	$O req -new -x509 -config ext.cnf -extensions ca -key "$1.key" \
	    -subj "/CN=$2" -days 2 -sha256 -out "$1.pem"
}

# csr NAME CN [ec|rsa]: a key and its certificate request.
csr() {
	key "$1" "${3:-ec}"
	$O req -new -config ext.cnf -key "$1.key" -subj "/CN=$2" -out "$1.csr"
}

# cert NAME ISSUER CN SERIAL SECTION [ec|rsa]: a certificate issued by
# ISSUER with the extensions of SECTION, in PEM and DER.
cert() {
	csr "$1" "$3" "${6:-ec}"
	$O x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" \
	    -set_serial "$4" -days 2 -sha256 -extfile ext.cnf \
	    -extensions "$5" -out "$1.pem" 2>/dev/null
	$O x509 -in "$1.pem" -outform DER -out "$1.der"
}

case $set in
challenge)
	# test_challenge: a proxy's signing certificates (EC and RSA) and its
	# encryption certificate, under one CA.
	san=DNS:proxy.example.com,URI:sip:proxy.example.com
	ee sign digitalSignature "$san" "$SKID" "$AKID"
	ee enc keyEncipherment,keyAgreement "$san" "$SKID" "$AKID"
	root ca 'Challenge Test CA'
	cert sig_ec ca 'proxy.example.com sig_ec' 11 sign
	cert sig_rsa ca 'proxy.example.com sig_rsa' 12 sign rsa
	cert enc ca 'proxy.example.com enc' 13 enc
	;;
uachal)
	# test_uachal: one signing certificate (it doubles as the encryption
	# one) for ss1.atlanta.example.com.
	ee sign digitalSignature DNS:ss1.atlanta.example.com "$SKID" "$AKID"
	root ca 'uachal Test CA'
	cert sig ca ss1.atlanta.example.com 7 sign
	;;
uatrust)
	# test_uatrust: "a": a.test (signs and encrypts); "uri": only
	# URI:sip:a.test; "evil": evil.test; "b": b.test; "signonly": a.test
	# without keyAgreement; "nul": dNSName "a.test\0.x" (DER written out);
	# "rogue": a.test from another CA of the same name (rca); "rsasign":
	# a.test, RSA, digitalSignature only; two.der: one SignedData by "a"
	# and "rogue"; "short": a.test, expiring seconds from now (made under
	# faketime, when there is one).
	ee a digitalSignature,keyAgreement DNS:a.test
	ee uri digitalSignature,keyAgreement URI:sip:a.test
	ee evil digitalSignature,keyAgreement DNS:evil.test
	ee b digitalSignature,keyAgreement DNS:b.test
	ee nul digitalSignature,keyAgreement DER:300b8209612e74657374002e78
	ee signonly digitalSignature DNS:a.test
	root ca 'uatrust Test CA'
	root rca 'uatrust Test CA'
	cert a ca a.test 11 a
	cert uri ca a.test 12 uri
	cert evil ca evil.test 13 evil
	cert b ca b.test 14 b
	cert signonly ca a.test 15 signonly
	cert nul ca a.test 17 nul
	cert rogue rca a.test 16 a
	cert rsasign ca a.test 19 signonly rsa
	printf 'two signers' > two.txt
	$O cms -sign -binary -in two.txt -md sha256 -signer a.pem -inkey a.key \
	    -signer rogue.pem -inkey rogue.key -outform DER -out two.der
	if command -v faketime >/dev/null; then
		# Signed as if 172,794 s (2 days less 6 s) ago, for 2 days:
		# it expires 6 s from now.
		csr short a.test
		faketime -f -172794s $O x509 -req -in short.csr -CA ca.pem \
		    -CAkey ca.key -set_serial 18 -days 2 -sha256 \
		    -extfile ext.cnf -extensions a -out short.pem 2>/dev/null
	fi
	;;
cmspath)
	# test_cmspath: "good": a conforming signer; "noakid": the same
	# without an authorityKeyIdentifier (RFC 5280 4.2.1.1: a conforming
	# CA includes it); "kcs": an end entity asserting keyCertSign
	# (4.2.1.3: only a CA may); intermediates i1..i9 in a line under the
	# root; "deep8" issued by i8 (8 intermediates: the limit), "deep9" by
	# i9 (one too many).
	ee good digitalSignature,keyAgreement DNS:a.test
	ee noakid digitalSignature,keyAgreement DNS:a.test \
	    'authorityKeyIdentifier = none'
	ee kcs digitalSignature,keyAgreement,keyCertSign DNS:a.test
	root ca 'cmspath Test CA'
	cert good ca good 11 good
	cert noakid ca noakid 12 noakid
	cert kcs ca kcs 13 kcs
	p=ca
	for i in 1 2 3 4 5 6 7 8 9; do
		cert "i$i" "$p" "i$i" "2$i" ca
		p=i$i
	done
	cert deep8 i8 deep8 31 good
	cert deep9 i9 deep9 32 good
	;;
*)
	echo "pki_vectors.sh: no set named $set" >&2
	exit 2
	;;
esac
