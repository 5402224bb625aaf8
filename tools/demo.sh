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
