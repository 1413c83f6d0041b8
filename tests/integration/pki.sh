# pki.sh - make a throwaway test PKI with the openssl command line (sourced).
# pki_ca DIR: an EC P-256 CA in DIR/ca.{key,pem}
# pki_cert DIR NAME SAN [CN [DAYS]]: DIR/NAME.{key,pem} signed by the CA.
# PKI_EKU overrides the extended key usage (default serverAuth,clientAuth;
# S/MIME signers need emailProtection). An empty SAN leaves the extension out. Sofia 1.12 matches a peer's name
# against DNS SANs only, or the CN when there is no DNS SAN; it ignores IP
# SANs, so a certificate for an IP-literal next hop has the IP as CN and
# no SAN.
pki_ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$1/ca.key" -out "$1/ca.pem" -days 2 -subj "/CN=e2m test CA" \
		-addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}

pki_cert() {
	local dir=$1 name=$2 san=$3 cn=${4:-$2} days=${5:-2}
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$dir/$name.key" -out "$dir/$name.csr" -subj "/CN=$cn" 2>/dev/null &&
	{ [ -z "$san" ] || printf 'subjectAltName=%s\n' "$san"
	  printf 'keyUsage=critical,digitalSignature,keyAgreement\nextendedKeyUsage=%s\n' \
		"${PKI_EKU:-serverAuth,clientAuth}"
	} > "$dir/$name.ext" &&
	openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
		-CAcreateserial -out "$dir/$name.pem" -days "$days" -extfile "$dir/$name.ext" 2>/dev/null &&
	chmod 600 "$dir/$name.key"
}
