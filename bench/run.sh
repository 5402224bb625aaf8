#!/usr/bin/env bash
# The benchmark kit in one command (bench/README.md): installs the peers (Debian packages, npm's
# ws and bufferutil), builds wsc's echo server, load generator and the C/C++ peer servers, then
# runs every server under every workload. Arguments go to bench/run.py, e.g.
#   bench/run.sh --runs 3 --seconds 5 --out build-bench/results
#   bench/run.sh --servers wsc,uWebSockets,raw-TCP --workloads small,1k
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/tools/setup.sh"
npm_dir=${WSC_NPM_CACHE:-$HOME/.cache/wsc/npm}
if [[ ! -f "$npm_dir/node_modules/bufferutil/package.json" ]]; then
  echo "bench: installing bufferutil into $npm_dir"
  npm install --silent --no-audit --no-fund --prefix "$npm_dir" bufferutil@4 >/dev/null
fi
cmake -S "$root" -B "$root/build-bench" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWSC_BUILD_BENCH=ON >/dev/null
cmake --build "$root/build-bench" -j"$(nproc)" --target loadgen wsc_echo raw_echo lws_echo beast_echo >/dev/null
exec /usr/bin/python3 "$root/bench/run.py" --build "$root/build-bench" "$@"
