#!/bin/sh
# wsc serve --cert/--key and wsc connect --ca/--insecure: messages over wss://, and a client that
# does not trust the server's certificate refused with the reason and 1015.
set -eu
wsc=$1
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
log="$dir/serve.log"
out="$dir/connect.out"
"$here/tls/make_certs.sh" "$dir/certs" >/dev/null 2>&1
"$wsc" serve --port 0 --cert "$dir/certs/server.pem" --key "$dir/certs/server.key" >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$dir"' EXIT
i=0
while ! grep -q listening "$log"; do i=$((i + 1)); [ $i -lt 200 ] || { echo "server did not start"; cat "$log"; exit 1; }; sleep 0.05; done
url=$(sed -n 's/.*listening on \(wss:[^ ]*\).*/\1/p' "$log")
[ -n "$url" ] || { echo "no wss:// URL:"; cat "$log"; exit 1; }
printf 'secret\n' | "$wsc" connect --ca "$dir/certs/ca.pem" "$url" >"$out" 2>&1
grep -qx secret "$out" && grep -q "closed 1000 (clean)" "$out" || { echo "no echo over wss:// with --ca:"; cat "$out"; exit 1; }
if printf 'x\n' | "$wsc" connect "$url" >"$out" 2>&1; then echo "an untrusted certificate was accepted"; cat "$out"; exit 1; fi
grep -q "certificate verify failed: unable to get local issuer certificate (WSC_ECERT_UNTRUSTED)" "$out" &&
  grep -q "closed 1015" "$out" || { echo "no verification error:"; cat "$out"; exit 1; }
printf 'anyway\n' | "$wsc" connect --insecure "$url" >"$out" 2>&1
grep -qx anyway "$out" || { echo "--insecure did not connect:"; cat "$out"; exit 1; }
if "$wsc" serve --port 0 --cert "$dir/certs/server.pem" --key "$dir/certs/a.key" >"$out" 2>&1; then
  echo "a mismatched key was accepted"; exit 1
fi
grep -q "does not match the certificate" "$out" || { echo "no reason for the bad key:"; cat "$out"; exit 1; }
kill -INT $server
wait $server || { echo "server exited with an error"; cat "$log"; exit 1; }
grep -q "a client failed: WSC_ETLS_HANDSHAKE" "$log" || { echo "the server did not report the refused client:"; cat "$log"; exit 1; }
echo "wsc serve/connect over TLS: ok"
