#!/usr/bin/env bash
# A private CA and the stack's certificates, generated with openssl at every start of the
# production profile (nothing is committed, nothing outlives `stack.sh down`).
#   tls.sh DIR              CA + kafka broker, issuer, envoy server certs + two client certs
#   tls.sh DIR leaf NAME CN SAN [DAYS]   one more leaf signed by DIR's CA (tests)
# Keys are EC P-256 in PKCS#8 PEM: Kafka reads them as a PEM keystore, Node and Envoy as is.
set -euo pipefail

dir=$1
shift || true
command -v openssl >/dev/null || { echo "tls: openssl is missing (apt-get install openssl)" >&2; exit 1; }

new_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

leaf() { # name cn san days usage
  local name=$1 cn=$2 san=$3 days=${4:-2} usage=${5:-serverAuth,clientAuth}
  new_key "$dir/$name.key"
  openssl req -new -key "$dir/$name.key" -subj "/CN=$cn" -out "$dir/$name.csr" 2>/dev/null
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\n%s\n' \
    "$usage" "${san:+subjectAltName=$san}" >"$dir/$name.ext"
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
    -days "$days" -sha256 -extfile "$dir/$name.ext" -out "$dir/$name.pem" 2>/dev/null
  # Kafka's PEM keystore wants the key and its chain in one file.
  cat "$dir/$name.key" "$dir/$name.pem" >"$dir/$name.keystore.pem"
  rm -f "$dir/$name.csr" "$dir/$name.ext"
}

if [ "${1:-}" = leaf ]; then
  shift
  leaf "$@"
  exit 0
fi

umask 077
mkdir -p "$dir"
new_key "$dir/ca.key"
openssl req -x509 -new -key "$dir/ca.key" -sha256 -days 2 -subj "/CN=Tollgate stack CA $(date +%s)" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
  -out "$dir/ca.pem" 2>/dev/null
# Every broker has its own key; all share CN=kafka-broker, the principal Kafka's
# ssl.principal.mapping.rules gives the controller listener's mutual TLS (a super user).
for n in 1 2 3; do leaf "kafka$n" kafka-broker "IP:127.0.0.1,DNS:localhost"; done
leaf issuer dev-issuer "IP:127.0.0.1,DNS:localhost" 2 serverAuth
leaf envoy tollgate-envoy "IP:127.0.0.1,DNS:localhost" 2 serverAuth
# Two REST clients with their own keys: a token bound to one must not work with the other.
leaf client-alice alice "" 2 clientAuth
leaf client-other other "" 2 clientAuth
chmod 644 "$dir"/*.pem
