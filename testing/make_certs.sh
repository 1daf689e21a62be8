#!/usr/bin/env bash
# Writes the certificates the security tests use into DIR, with the openssl command (no
# certificate is checked in; each run makes fresh ones, valid for two days):
#   ca.pem ca.key                 the test CA
#   server.pem server.key         signed by ca, for localhost and 127.0.0.1 (SAN), serverAuth
#   client.pem client.key         signed by ca, clientAuth
#   other-ca.pem other-ca.key     an unrelated CA
#   other-client.pem other-client.key   signed by other-ca, clientAuth
# EC P-256 keys: quick to make, and what gRPC's TLS stack handles everywhere.
#   testing/make_certs.sh DIR
set -euo pipefail
DIR=${1:?usage: make_certs.sh DIR}
mkdir -p "$DIR"
cd "$DIR"

ca() {  # name subject
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$1.key" -out "$1.pem" -days 2 -subj "/CN=$2" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

leaf() {  # name ca subject extensions
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$1.key" -out "$1.csr" -subj "/CN=$3" 2>/dev/null
  printf '%b\n' "$4" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -set_serial "0x$(openssl rand -hex 8)" \
    -days 2 -out "$1.pem" -extfile "$1.ext" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}

ca ca "lakehose test CA"
ca other-ca "some other CA"
leaf server ca localhost \
  "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1"
leaf client ca lakehose-test-client \
  "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth"
leaf other-client other-ca intruder \
  "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth"
chmod 600 ./*.key
