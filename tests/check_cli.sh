#!/bin/sh
# wsc serve and wsc connect exchange messages; both exit cleanly (the server on SIGINT) and
# print their statistics.
set -eu
wsc=$1
log=$(mktemp)
out=$(mktemp)
"$wsc" serve --port 0 --deflate >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$log" "$out"' EXIT
i=0
while ! grep -q listening "$log"; do i=$((i + 1)); [ $i -lt 200 ] || { echo "server did not start"; exit 1; }; sleep 0.05; done
url=$(sed -n 's/.*listening on \(ws:[^ ]*\).*/\1/p' "$log")
printf 'one\ntwo\n' | "$wsc" connect "$url" >"$out" 2>&1
grep -qx one "$out" && grep -qx two "$out" || { echo "echoes missing:"; cat "$out"; exit 1; }
grep -q "closed 1000 (clean)" "$out" || { echo "no clean close:"; cat "$out"; exit 1; }
grep -q "2 messages out, 2 in" "$out" || { echo "no client statistics:"; cat "$out"; exit 1; }
printf 'squeeze me\n' | "$wsc" connect --deflate=threshold=0,client_no_context_takeover "$url" >"$out" 2>&1
grep -qx "squeeze me" "$out" || { echo "no compressed echo:"; cat "$out"; exit 1; }
grep -q "with permessage-deflate; client_no_context_takeover" "$out" || { echo "not negotiated:"; cat "$out"; exit 1; }
kill -INT $server
wait $server || { echo "server exited with an error"; cat "$log"; exit 1; }
grep -q "2 connections, 3 messages in" "$log" || { echo "no server statistics:"; cat "$log"; exit 1; }
echo "wsc serve/connect: ok"
