#!/usr/bin/env bash
# Runs Autobahn|Testsuite against wsc's protocol engine, as a server and as a client.
# The suite is set up once by hand (see ../shared/autobahn/README.md); then:
#   tools/autobahn.sh            cases 1-11 (permessage-deflate's 12.* and 13.* come with issue 6)
#   AUTOBAHN_EXCLUDE= tools/autobahn.sh   every case
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
suite=${AUTOBAHN_DRIVER:-$root/../shared/autobahn}
export AUTOBAHN_EXCLUDE=${AUTOBAHN_EXCLUDE-12.*,13.*}
cmake -S "$root" -B "$root/build" >/dev/null
cmake --build "$root/build" --target engine_peer -j "$(nproc)" >/dev/null
peer=$root/build/tests/engine_peer
port=${AUTOBAHN_PORT:-9001}

"$peer" server "$port" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
sleep 0.3
rc=0
"$suite/run-server-suite.sh" "ws://127.0.0.1:$port" wsc-engine-server || rc=1
kill $server 2>/dev/null || true
"$suite/run-client-suite.sh" $((port + 10)) wsc-engine-client '*' -- "$peer" client || rc=1
exit $rc
