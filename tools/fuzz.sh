#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) in build-fuzz and runs each for a while, starting
# from a scratch copy of its seed corpus and crash regressions (nothing is written into the
# repository). Fails if any target crashes, times out or runs out of memory.
#
#   tools/fuzz.sh [seconds-per-target] [target...]     (default: 60 s, every target)
#
# Environment: WSC_FUZZ_FORKS=N runs N fuzzing processes per target (libFuzzer's -fork);
# WSC_FUZZ_KEEP=1 keeps the scratch corpora (their folder is printed); WSC_FUZZ_ARGS adds
# libFuzzer flags. Crash inputs go to build-fuzz/artifacts/<target>/, logs to build-fuzz/logs/.
# Needs clang (tools/setup.sh installs it); see tests/fuzz/README.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-fuzz"
seconds=${1:-60}
if [[ $# -gt 0 ]]; then shift; fi
all_targets=(frames request response extensions inflate)
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then targets=("${all_targets[@]}"); fi
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "fuzz: seconds must be a number, not '$seconds'" >&2; exit 2; }

for t in "${targets[@]}"; do
  [[ " ${all_targets[*]} " == *" $t "* ]] || { echo "fuzz: unknown target '$t' (${all_targets[*]})" >&2; exit 2; }
done
for tool in clang clang++; do
  command -v "$tool" >/dev/null ||
    { echo "fuzz: $tool not found: install the Debian packages clang and libclang-rt-14-dev (tools/setup.sh)" >&2; exit 1; }
done

echo "== build ($build)"
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DWSC_FUZZ=ON -DWSC_BUILD_TESTS=OFF -DWSC_BUILD_TOOLS=OFF \
  -DWSC_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)" --target "${targets[@]/#/fuzz_}"

scratch=$(mktemp -d "${TMPDIR:-/tmp}/wsc-fuzz.XXXXXX")
if [[ "${WSC_FUZZ_KEEP:-0}" == 1 ]]; then
  echo "fuzz: corpora kept in $scratch"
else
  trap 'rm -rf "$scratch"' EXIT
fi
mkdir -p "$build/artifacts" "$build/logs"

max_len() {
  case "$1" in
    frames) echo 4096 ;;
    extensions) echo 1024 ;;
    *) echo 8192 ;;
  esac
}
dict() {
  case "$1" in
    request | response) echo "$root/tests/fuzz/http.dict" ;;
    extensions) echo "$root/tests/fuzz/extensions.dict" ;;
  esac
}

failed=()
for t in "${targets[@]}"; do
  corpus="$scratch/$t"
  artifacts="$build/artifacts/$t"
  log="$build/logs/$t.log"
  mkdir -p "$corpus" "$artifacts"
  for kind in corpus regressions; do
    if [[ -d "$root/tests/fuzz/$kind/$t" ]]; then cp -r "$root/tests/fuzz/$kind/$t/." "$corpus/"; fi
  done
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$(max_len "$t")"
        -artifact_prefix="$artifacts/" -print_final_stats=1)
  d=$(dict "$t")
  if [[ -n "$d" ]]; then args+=(-dict="$d"); fi
  if [[ "${WSC_FUZZ_FORKS:-1}" -gt 1 ]]; then args+=(-fork="$WSC_FUZZ_FORKS"); fi
  # shellcheck disable=SC2206
  args+=(${WSC_FUZZ_ARGS:-})
  echo "== $t: ${seconds}s"
  rc=0
  "$build/tests/fuzz/fuzz_$t" "${args[@]}" "$corpus" >"$log" 2>&1 || rc=$?
  status=$(grep -a -E '^#[0-9]+.*cov: ' "$log" | tail -n 1 || true)
  speed=$(grep -a -E 'stat::average_exec_per_sec' "$log" | tail -n 1 | awk '{print $2}' || true)
  echo "   $status"
  echo "   exec/s: ${speed:-?}, corpus: $(find "$corpus" -type f | wc -l) inputs, log: $log"
  if [[ $rc -ne 0 ]]; then
    failed+=("$t")
    echo "   FAILED (exit $rc): the last lines of its log:"
    grep -a -v -E '^#[0-9]+' "$log" | tail -n 40 | sed 's/^/   | /'
    echo "   inputs kept in $artifacts/; replay one with: $build/tests/fuzz/fuzz_$t <file>"
  fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz: FAILED: ${failed[*]}"
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran ${seconds}s without a failure"
