#!/usr/bin/env bash
# The main job: set up, build, and run the wsc command-line tool's demo.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/tools/setup.sh"
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$root/build" --target wsc_cli -j "$(nproc)" >/dev/null
exec "$root/build/wsc" demo "$@"
