#!/usr/bin/env bash
# Runs the tests that drive a real loop over real sockets under valgrind memcheck: any invalid
# access, use of uninitialised memory, or definite/indirect leak fails. Usage: tools/valgrind.sh
# [build-dir] [test ...] (default: build, and every loop test). Takes about 3 minutes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
shift || true
tests=("$@")
((${#tests[@]})) || tests=(loop socket conn server client tls deflate)
(($#)) || tests+=(hostile_server hostile_client hostile_conn)   # the hostile-input suite
export WSC_TEST_TIME_SCALE=20   # the tests' bounds on call times
for t in "${tests[@]}"; do
  bin="$build/tests/test_$t"
  [[ $t == hostile_* ]] && bin="$build/tests/$t"
  start=$SECONDS
  valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
    --show-leak-kinds=definite,indirect --track-origins=yes "$bin" --gtest_brief=1 >/tmp/wsc-valgrind-$$.log 2>&1 || {
    cat /tmp/wsc-valgrind-$$.log
    echo "valgrind: $t failed"
    exit 1
  }
  echo "valgrind: $t clean ($((SECONDS - start)) s)"
done
rm -f /tmp/wsc-valgrind-$$.log
