#!/bin/sh
# cms_vectors.sh DIR - make the keys, certificates, CRL and CMS blobs that
# test_cms uses, with the openssl command line tool, in DIR. Everything is
# generated at test time: no private key is ever committed.
set -eu

dir=${1:?usage: cms_vectors.sh DIR}
mkdir -p "$dir"
cd "$dir"

O=openssl
days=30

# --- configuration for the test CA and end-entity extensions ---
cat > ca.cnf <<'CNF'
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = E2M Test CA
[ v3_ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ ca ]
default_ca = testca
[ testca ]
database = index.txt
crlnumber = crlnumber
default_md = sha256
default_crl_days = 30
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
[ nosign ]
basicConstraints = CA:FALSE
keyUsage = critical,keyEncipherment
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF

: > index.txt
echo 01 > crlnumber

$O ecparam -name prime256v1 -genkey -noout -out ca.key 2>/dev/null
$O req -new -x509 -config ca.cnf -extensions v3_ca -key ca.key \
    -sha256 -days $days -set_serial 1 -out ca.crt

# An unrelated CA, for "untrusted signer".
$O ecparam -name prime256v1 -genkey -noout -out other_ca.key 2>/dev/null
$O req -new -x509 -config ca.cnf -extensions v3_ca -key other_ca.key \
    -sha256 -days $days -subj "/CN=Other CA" -set_serial 1 -out other_ca.crt

# issue NAME KEYTYPE EXT SERIAL [CA] [MD]
issue() {
	name=$1; kt=$2; ext=$3; serial=$4; ca=${5:-ca}; md=${6:-sha256}
	case $kt in
	rsa) $O genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
	        -out "$name.key" 2>/dev/null ;;
	ec)  $O genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	        -out "$name.key" 2>/dev/null ;;
	esac
	$O req -new -key "$name.key" -subj "/CN=$name" -out "$name.csr"
	$O x509 -req -in "$name.csr" -CA "$ca.crt" -CAkey "$ca.key" \
	    -set_serial "$serial" -days $days -"$md" -extfile ee.cnf \
	    -extensions "$ext" -out "$name.crt" 2>/dev/null
}

issue proxy_rsa     rsa proxy  1001
issue proxy_ec      ec  proxy  1002
issue uas           rsa proxy  1003
issue proxy_roll    ec  proxy  1004
issue signer        ec  signer 1005
issue signer_rsa    rsa signer 1006
issue revoked       ec  signer 1007
issue nosign        ec  nosign 1008
issue stranger      ec  signer 2001 other_ca
issue signer_sha1ca ec  signer 1009 ca sha1
# Same issuer and serial as proxy_rsa, another key: "wrong key".
$O genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out wrong.key \
    2>/dev/null
$O req -new -key wrong.key -subj "/CN=proxy_rsa" -out wrong.csr
$O x509 -req -in wrong.csr -CA ca.crt -CAkey ca.key -set_serial 1001 \
    -days $days -sha256 -extfile ee.cnf -extensions proxy -out wrong.crt \
    2>/dev/null

# CRL revoking "revoked".
$O ca -config ca.cnf -revoke revoked.crt -keyfile ca.key -cert ca.crt \
    2>/dev/null
$O ca -config ca.cnf -gencrl -keyfile ca.key -cert ca.crt -out ca.crl \
    2>/dev/null

# --- the inner MIME entity ---
printf 'Content-Type: application/sdp\r\nContent-ID: <sdp@example.com>\r\n\r\nv=0\r\no=alice 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\n' > inner.txt

enc() { out=$1; shift; $O cms -encrypt -binary -in inner.txt -outform DER \
    -out "$out" "$@"; }

enc env_rsa.der        -aes-128-cbc -recip proxy_rsa.crt
enc env_ec.der         -aes-128-cbc -recip proxy_ec.crt
enc env_multi.der      -aes-128-cbc -recip uas.crt -recip proxy_rsa.crt \
    -recip proxy_ec.crt
enc env_keyid_rsa.der  -aes-128-cbc -keyid -recip proxy_rsa.crt
enc env_keyid_ec.der   -aes-128-cbc -keyid -recip proxy_ec.crt
enc env_oaep.der       -aes-128-cbc -recip proxy_rsa.crt \
    -keyopt rsa_padding_mode:oaep
enc env_gcm_rsa.der    -aes-256-gcm -recip uas.crt -recip proxy_rsa.crt
enc env_gcm_ec.der     -aes-256-gcm -recip uas.crt -recip proxy_ec.crt
enc env_other.der      -aes-128-cbc -recip uas.crt
enc env_roll.der       -aes-128-gcm -recip proxy_roll.crt

# 500 recipients (the same EC certificate; cheap to make).
args=""
i=0
while [ $i -lt 500 ]; do args="$args -recip proxy_ec.crt"; i=$((i + 1)); done
# shellcheck disable=SC2086
enc env_500.der -aes-128-cbc $args

# --- signatures ---
sig() { out=$1; shift; $O cms -sign -binary -in inner.txt -outform DER \
    -out "$out" "$@"; }

sig sig_det_ec.der   -signer signer.crt -inkey signer.key
sig sig_det_rsa.der  -signer signer_rsa.crt -inkey signer_rsa.key
sig sig_opaque.der   -nodetach -signer signer.crt -inkey signer.key
sig sig_sha1.der     -md sha1 -signer signer.crt -inkey signer.key
sig sig_md5.der      -md md5 -signer signer_rsa.crt -inkey signer_rsa.key
sig sig_revoked.der  -signer revoked.crt -inkey revoked.key
sig sig_stranger.der -signer stranger.crt -inkey stranger.key
sig sig_nosign.der   -signer nosign.crt -inkey nosign.key
sig sig_sha1ca.der   -signer signer_sha1ca.crt -inkey signer_sha1ca.key

# Sign, then encrypt: an opaque SignedData (as a MIME entity) inside
# AuthEnvelopedData.
{
	printf 'Content-Type: application/pkcs7-mime; smime-type=signed-data\r\n'
	printf 'Content-Transfer-Encoding: binary\r\n\r\n'
	cat sig_opaque.der
} > signed_entity.bin
$O cms -encrypt -binary -in signed_entity.bin -outform DER \
    -out env_signed.der -aes-128-gcm -recip proxy_ec.crt


# --- signatures with algorithm identifiers OpenSSL does not know ---
# A fuzzer found that OpenSSL 3.0's CMS_verify() leaks its private copy of
# memory-BIO content when the SignedData's digestAlgorithms set names an
# unknown digest (CMS_dataInit() fails); cms.c must not leak on any of
# these. mutate IN OUT FROM TO WHICH: replace the WHICH-th ("first",
# "second", "last", "all") occurrence of the hex byte string FROM by TO.
mutate() {
	perl -0777 -e '
		my ($in, $out, $from, $to, $which) = @ARGV;
		open(my $f, "<:raw", $in) or die "$in: $!"; local $/;
		my $d = <$f>; close($f);
		my ($a, $b) = (pack("H*", $from), pack("H*", $to));
		my $n = 0;
		if ($which eq "all") { $n = ($d =~ s/\Q$a\E/$b/g); }
		elsif ($which eq "last") { $n = ($d =~ s/(.*)\Q$a\E/$1$b/s); }
		else {
			my $want = $which eq "first" ? 1 : 2;
			my $i = 0;
			$d =~ s/\Q$a\E/++$i == $want ? ($n = 1, $b)[1] : $a/ge;
		}
		die "mutate: $from not found ($which) in $in\n" unless $n;
		open($f, ">:raw", $out) or die "$out: $!";
		print $f $d; close($f);
	' "$@"
}
SHA256=608648016503040201        # 2.16.840.1.101.3.4.2.1
SHA256_BAD=60864801655b040201    # 2.16.840.1.101.91.4.2.1 (unknown)
SHA384=608648016503040202        # 2.16.840.1.101.3.4.2.2
ECDSA256=2a8648ce3d040302        # ecdsa-with-SHA256
ECDSA_BAD=2a8648ce3d04037f       # 1.2.840.10045.4.3.127 (unknown)
# The first SHA-256 OID is the SignedData's digestAlgorithms set, the
# second the SignerInfo's digestAlgorithm; the last ECDSA OID is the
# SignerInfo's signatureAlgorithm (the certificates come before it).
mutate sig_det_ec.der  sig_unkdig_set.der     $SHA256 $SHA256_BAD first
mutate sig_det_rsa.der sig_unkdig_set_rsa.der $SHA256 $SHA256_BAD first
mutate sig_opaque.der  sig_unkdig_set_opaque.der $SHA256 $SHA256_BAD first
mutate sig_det_ec.der  sig_unkdig_si.der      $SHA256 $SHA256_BAD second
mutate sig_det_ec.der  sig_unkdig_all.der     $SHA256 $SHA256_BAD all
mutate sig_det_ec.der  sig_otherdig_set.der   $SHA256 $SHA384 first
mutate sig_det_ec.der  sig_unksigalg.der      $ECDSA256 $ECDSA_BAD last
