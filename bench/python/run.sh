#!/usr/bin/env bash
# wsc's Python binding against python-websockets, Python on both sides (bench/python/README.md).
# Builds libwsc if build/libwsc.so is missing, then runs bench.py with Debian's /usr/bin/python3
# (which has python-websockets). Arguments go to bench.py, e.g.
#   bench/python/run.sh                       # medians of 3 runs of 4 s, every workload
#   bench/python/run.sh --quick               # 1 run of 1 s: a smoke test
#   bench/python/run.sh --runs 5 --seconds 5 --workloads c100x32,c100x1k --out /tmp/py.json
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
py=/usr/bin/python3
if [[ ! -e "$root/build/libwsc.so" ]]; then
  echo "bench: building libwsc into $root/build" >&2
  cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$root/build" -j2 --target wsc >/dev/null
fi
export WSC_LIBRARY="$root/build/libwsc.so"
# WSC_PYTHON_BINDING: another copy of bindings/python (the folder holding the wsc package) to measure.
export PYTHONPATH="${WSC_PYTHON_BINDING:-$root/bindings/python}"
export PYTHONDONTWRITEBYTECODE=1
# exec: the driver receives the signals itself and ends its children (bench.py).
exec "$py" "$root/bench/python/bench.py" "$@"
