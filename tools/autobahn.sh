#!/usr/bin/env bash
# Runs Autobahn|Testsuite against wsc as a server and as a client.
# The suite is set up once by hand (see ../shared/autobahn/README.md); then:
#   tools/autobahn.sh                    the library (tests/autobahn/testee.c), cases 1-10
#   AUTOBAHN_EXCLUDE= tools/autobahn.sh  every case, permessage-deflate's 12.* and 13.* too (~30 min)
#   AUTOBAHN_EXCLUDE= AUTOBAHN_CASES='12.*,13.*' tools/autobahn.sh   only those
#   tools/autobahn.sh engine             the sans-I/O engine alone (tests/autobahn/engine_peer.cc)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
suite=${AUTOBAHN_DRIVER:-$root/../shared/autobahn}
export AUTOBAHN_EXCLUDE=${AUTOBAHN_EXCLUDE-12.*,13.*}
target=testee
[[ "${1:-}" == engine ]] && target=engine_peer
cmake -S "$root" -B "$root/build" >/dev/null
cmake --build "$root/build" --target "$target" -j "$(nproc)" >/dev/null
peer=$root/build/tests/$target
port=${AUTOBAHN_PORT:-9001}

"$peer" server "$port" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
sleep 0.3
rc=0
cases=${AUTOBAHN_CASES:-*}
"$suite/run-server-suite.sh" "ws://127.0.0.1:$port" "wsc-$target-server" "$cases" || rc=1
kill $server 2>/dev/null || true
"$suite/run-client-suite.sh" $((port + 10)) "wsc-$target-client" "$cases" -- "$peer" client || rc=1
exit $rc
