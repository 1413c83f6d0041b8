# pki.sh - make a throwaway test PKI with the openssl command line (sourced).
# pki_ca DIR: an EC P-256 CA in DIR/ca.{key,pem}
# pki_cert DIR NAME SAN [CN [DAYS]]: DIR/NAME.{key,pem} signed by the CA.
# PKI_EKU overrides the extended key usage (default serverAuth,clientAuth;
# S/MIME signers need emailProtection). An empty SAN leaves the extension
# out. The proxy checks a TLS next hop's name as OpenSSL does (tlsname.h):
# a certificate for an IP-literal next hop needs the IP as an IP SAN
# ("IP:127.0.0.1"); the CN counts only for a host name and only when the
# certificate has no DNS SAN.
# PKI_FAKETIME (a libfaketime offset such as -3d) signs as if at that time:
# with DAYS 1, an expired certificate.
# PKI_KEY=rsa makes an RSA-2048 key instead of EC P-256 (keyUsage then
# digitalSignature,keyEncipherment), PKI_KEY=rsa3072 an RSA-3072 one;
# PKI_CA_KEY (ec, rsa, rsa3072) does the same for pki_ca and pki_subca
# (default EC P-256, whatever PKI_KEY says); PKI_ISSUER=NAME signs with
# DIR/NAME.{pem,key} instead of the root CA (an intermediate from pki_subca).
# PKI_EXT: more lines for pki_cert's extensions (e.g. a certificate that is
# not RFC 5280 conforming: "authorityKeyIdentifier=none").
# pki_subca DIR NAME: an intermediate CA DIR/NAME.{key,pem} under the root,
# or under PKI_ISSUER; pathlen PKI_PATHLEN (0 if unset, none if empty).
# pki_revoke DIR NAME...: revoke DIR/NAME.pem (issued by the root) and write
# the root's CRL to DIR/ca.crl; pki_crl DIR writes a CRL revoking nothing.
# _pki_keyopt ec|rsa|rsa3072: the -newkey and -pkeyopt arguments
_pki_keyopt() {
	case $1 in
	rsa) echo "-newkey rsa:2048 -pkeyopt rsa_keygen_bits:2048" ;;
	rsa3072) echo "-newkey rsa:3072 -pkeyopt rsa_keygen_bits:3072" ;;
	*) echo "-newkey ec -pkeyopt ec_paramgen_curve:P-256" ;;
	esac
}

pki_ca() {
	# shellcheck disable=SC2046
	openssl req -x509 $(_pki_keyopt "${PKI_CA_KEY:-ec}") -nodes \
		-keyout "$1/ca.key" -out "$1/ca.pem" -days 2 -subj "/CN=e2m test CA" \
		-addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}

pki_cert() {
	local dir=$1 name=$2 san=$3 cn=${4:-$2} days=${5:-2}
	local issuer=${PKI_ISSUER:-ca} ku=digitalSignature,keyAgreement
	case ${PKI_KEY:-ec} in rsa*) ku=digitalSignature,keyEncipherment ;; esac
	# shellcheck disable=SC2046
	openssl req $(_pki_keyopt "${PKI_KEY:-ec}") -nodes \
		-keyout "$dir/$name.key" -out "$dir/$name.csr" -subj "/CN=$cn" 2>/dev/null &&
	{ [ -z "$san" ] || printf 'subjectAltName=%s\n' "$san"
	  printf 'keyUsage=critical,%s\nextendedKeyUsage=%s\n' "$ku" \
		"${PKI_EKU:-serverAuth,clientAuth}"
	  [ -z "${PKI_EXT:-}" ] || printf '%s\n' "$PKI_EXT"
	} > "$dir/$name.ext" &&
	${PKI_FAKETIME:+faketime -f "$PKI_FAKETIME"} \
	openssl x509 -req -in "$dir/$name.csr" -CA "$dir/$issuer.pem" -CAkey "$dir/$issuer.key" \
		-CAcreateserial -out "$dir/$name.pem" -days "$days" -extfile "$dir/$name.ext" 2>/dev/null &&
	chmod 600 "$dir/$name.key"
}

pki_subca() {
	local dir=$1 name=$2 issuer=${PKI_ISSUER:-ca} pathlen=${PKI_PATHLEN-0}
	# shellcheck disable=SC2046
	openssl req $(_pki_keyopt "${PKI_CA_KEY:-ec}") -nodes \
		-keyout "$dir/$name.key" -out "$dir/$name.csr" -subj "/CN=e2m test $name" 2>/dev/null &&
	printf 'basicConstraints=critical,CA:TRUE%s\nkeyUsage=critical,keyCertSign,cRLSign\n' \
		"${pathlen:+,pathlen:$pathlen}" > "$dir/$name.ext" &&
	openssl x509 -req -in "$dir/$name.csr" -CA "$dir/$issuer.pem" -CAkey "$dir/$issuer.key" \
		-CAcreateserial -out "$dir/$name.pem" -days 2 -extfile "$dir/$name.ext" 2>/dev/null &&
	chmod 600 "$dir/$name.key"
}

# The minimal "openssl ca" database the CRL commands need.
pki_ca_db() {
	local dir=$1
	[ -f "$dir/ca.cnf" ] && return 0
	: > "$dir/index.txt"
	echo 01 > "$dir/crlnumber"
	cat > "$dir/ca.cnf" <<CNF
[ ca ]
default_ca = test_ca
[ test_ca ]
database = $dir/index.txt
crlnumber = $dir/crlnumber
certificate = $dir/ca.pem
private_key = $dir/ca.key
default_md = sha256
default_crl_days = 2
CNF
}

pki_crl() {
	pki_ca_db "$1" &&
	openssl ca -config "$1/ca.cnf" -gencrl -out "$1/ca.crl" 2>/dev/null
}

pki_revoke() {
	local dir=$1 name
	shift
	pki_ca_db "$dir" || return 1
	for name in "$@"; do
		openssl ca -config "$dir/ca.cnf" -revoke "$dir/$name.pem" 2>/dev/null || return 1
	done
	pki_crl "$dir"
}

# pki_crl_at DIR OUT LASTUPDATE NEXTUPDATE: the root's CRL (what DIR's
# database holds revoked) with the given times (YYYYMMDDHHMMSSZ) in OUT;
# e.g. an expired CRL.
pki_crl_at() {
	pki_ca_db "$1" &&
	openssl ca -config "$1/ca.cnf" -gencrl -crl_lastupdate "$3" \
		-crl_nextupdate "$4" -out "$2" 2>/dev/null
}
