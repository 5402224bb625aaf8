#!/usr/bin/env bash
# Throwaway certificates for the TLS tests, made with the openssl command-line tool:
#   make_certs.sh DIR
# ca.pem         the test CA (trusted by the tests)       other-ca.pem  a CA nobody trusts
# inter.pem      an intermediate under ca.pem
# server.pem     localhost, 127.0.0.1, ::1 (by ca)        server.key; server-enc.key (passphrase "secret")
# chain.pem      the same names, issued by inter.pem, followed by inter.pem
# expired.pem    the same names, expired in 2020          wronghost.pem  only wrong.example
# unknown.pem    the same names, by other-ca.pem          selfsigned.pem the same names, self-signed
# a.pem, b.pem   a.test and b.test (SNI)                  client.pem     a client certificate (by ca)
# wild.pem       *.wild.test (SNI)
# client-other.pem  a client certificate by other-ca.pem; client-enc.key (passphrase "secret")
# Every NAME.pem has its NAME.key (unencrypted EC P-256).
set -euo pipefail
dir=$1
mkdir -p "$dir"
cd "$dir"

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }

# A CA: name, subject, [issuer]
ca() {
  key "$1"
  if [ $# -eq 2 ]; then
    openssl req -new -x509 -key "$1.key" -subj "$2" -days 3650 -out "$1.pem" \
      -addext basicConstraints=critical,CA:true -addext keyUsage=critical,keyCertSign,cRLSign
  else
    openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
    printf 'basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\n' >"$1.ext"
    openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial -days 3650 -extfile "$1.ext" \
      -out "$1.pem" 2>/dev/null
  fi
}

# A leaf: name, subject, subjectAltName, issuer, extendedKeyUsage
leaf() {
  key "$1"
  openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
  printf 'subjectAltName=%s\nextendedKeyUsage=%s\nbasicConstraints=CA:false\n' "$3" "$5" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$4.pem" -CAkey "$4.key" -CAcreateserial -days 825 -extfile "$1.ext" \
    -out "$1.pem" 2>/dev/null
}

names='DNS:localhost,IP:127.0.0.1,IP:::1'
ca ca '/O=wsc tests/CN=wsc test CA'
ca other-ca '/O=somebody else/CN=unknown CA'
ca inter '/O=wsc tests/CN=wsc test intermediate' ca
leaf server '/O=wsc tests/CN=localhost' "$names" ca serverAuth
leaf chain-leaf '/O=wsc tests/CN=localhost (chain)' "$names" inter serverAuth
cat chain-leaf.pem inter.pem >chain.pem
cp chain-leaf.key chain.key
leaf wronghost '/O=wsc tests/CN=wrong.example' 'DNS:wrong.example' ca serverAuth
leaf unknown '/O=somebody else/CN=localhost' "$names" other-ca serverAuth
leaf a '/O=wsc tests/CN=a.test' 'DNS:a.test' ca serverAuth
leaf b '/O=wsc tests/CN=b.test' 'DNS:b.test' ca serverAuth
leaf wild '/O=wsc tests/CN=*.wild.test' 'DNS:*.wild.test' ca serverAuth
leaf client '/O=wsc tests/CN=wsc test client' 'DNS:client.test' ca clientAuth
leaf client-other '/O=somebody else/CN=stranger' 'DNS:stranger.test' other-ca clientAuth
openssl pkey -in server.key -aes-256-cbc -passout pass:secret -out server-enc.key
openssl pkey -in client.key -aes-256-cbc -passout pass:secret -out client-enc.key

key selfsigned
openssl req -new -x509 -key selfsigned.key -subj '/O=wsc tests/CN=localhost' -days 825 -out selfsigned.pem \
  -addext "subjectAltName=$names"

# Expired: `openssl ca` is the tool's way to give a certificate dates in the past.
key expired
openssl req -new -key expired.key -subj '/O=wsc tests/CN=localhost (expired)' -out expired.csr
mkdir -p ca.db
: >ca.db/index.txt
cat >ca.cnf <<CNF
[ca]
default_ca = test
[test]
dir = ca.db
database = ca.db/index.txt
new_certs_dir = ca.db
serial = ca.db/serial
certificate = ca.pem
private_key = ca.key
default_md = sha256
policy = any
copy_extensions = none
[any]
organizationName = optional
commonName = supplied
[ext]
subjectAltName = $names
extendedKeyUsage = serverAuth
basicConstraints = CA:false
CNF
echo 01 >ca.db/serial
openssl ca -batch -config ca.cnf -extensions ext -startdate 20200101000000Z -enddate 20200201000000Z \
  -in expired.csr -out expired.pem -notext 2>/dev/null
rm -f ./*.csr ./*.ext ./*.srl
