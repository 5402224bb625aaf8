#!/usr/bin/env bash
# The main job: set up, build, and run the wsc command-line tool: the protocol engine offline,
# then a server and a client exchanging messages on this machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/tools/setup.sh" >/dev/null
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$root/build" --target wsc_cli -j "$(nproc)" >/dev/null
wsc=$root/build/wsc

"$wsc" demo
echo
echo "== wsc serve --port 0 --echo, and wsc connect with three lines on stdin"
log=$(mktemp)
"$wsc" serve --port 0 --echo >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 100); do grep -q listening "$log" && break; sleep 0.05; done
url=$(sed -n 's/.*listening on \(ws:[^ ]*\).*/\1/p' "$log")
cat "$log"
printf 'hello from wsc\nsecond line\nlast line\n' | "$wsc" connect "${url}chat"
kill -INT $server
wait $server
sed -n '2,$p' "$log"

echo
echo "== the same over TLS: wsc serve --cert/--key with a throwaway CA, wsc connect wss:// --ca"
certs=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$log" "$certs"' EXIT
"$root/tests/tls/make_certs.sh" "$certs" >/dev/null 2>&1
: >"$log"
"$wsc" serve --port 0 --cert "$certs/server.pem" --key "$certs/server.key" >"$log" 2>&1 &
server=$!
for _ in $(seq 100); do grep -q listening "$log" && break; sleep 0.05; done
url=$(sed -n 's/.*listening on \(wss:[^ ]*\).*/\1/p' "$log")
cat "$log"
printf 'hello over TLS\n' | "$wsc" connect --ca "$certs/ca.pem" "${url}secure"
echo "-- without the CA, the certificate is refused:"
printf 'never sent\n' | "$wsc" connect "${url}secure" || true
kill -INT $server
wait $server
sed -n '2,$p' "$log"
