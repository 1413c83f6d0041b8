#!/bin/bash
# e2m-pki.sh DIR - a throwaway PKI for trying e2mproxyd and e2mua, made
# with the openssl command line (EC P-256, valid 2 days; keys mode 600):
#   ca.pem ca.key              the CA everyone trusts
#   proxy.pem proxy.key        the proxy's encryption certificate (UAs
#                              encrypt to it; handed out in challenges)
#   proxy-sign.pem/.key        the proxy's challenge-signing certificate
#   alice.pem/.key bob.pem/.key  two users (S/MIME: emailProtection)
# The proxy's certificates name proxy.example.com, as the shipped
# conf/e2mproxyd.conf expects (its pki/ directory). Never use these keys
# for anything real.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
DIR=$1
HOST=${E2M_PROXY_HOST:-proxy.example.com}
. "$(dirname "$0")/../tests/integration/pki.sh"
mkdir -p "$DIR"
pki_ca "$DIR"
pki_cert "$DIR" proxy "DNS:$HOST" "$HOST"
PKI_EKU=emailProtection pki_cert "$DIR" proxy-sign "DNS:$HOST" "$HOST"
PKI_EKU=emailProtection pki_cert "$DIR" alice "email:alice@example.com" alice
PKI_EKU=emailProtection pki_cert "$DIR" bob "email:bob@example.com" bob
rm -f "$DIR"/*.csr "$DIR"/*.ext "$DIR"/*.srl
chmod 600 "$DIR"/*.key
