#!/usr/bin/env bash
# Every test: set up, build, run the C++ suite (with the hostile-input suite and the short
# 10,000-connection soak), run it again under AddressSanitizer and UndefinedBehaviorSanitizer,
# the thread-safe calls under ThreadSanitizer, the loop tests under valgrind, every libFuzzer
# target for a minute, then the Python and Node binding tests.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc)
"$root/tools/setup.sh"

echo "== build and C++ tests"
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWSC_BUILD_TESTS=ON -DWSC_BUILD_BENCH=ON >/dev/null
cmake --build "$root/build" -j "$jobs"
(cd "$root/build" && ctest --output-on-failure -j "$jobs")

echo "== C++ tests under ASan + UBSan"
cmake -S "$root" -B "$root/build-asan" -DCMAKE_BUILD_TYPE=Debug -DWSC_SANITIZE=ON -DWSC_BUILD_TESTS=ON >/dev/null
cmake --build "$root/build-asan" -j "$jobs"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd "$root/build-asan" && ctest --output-on-failure -j "$jobs")
unset ASAN_OPTIONS UBSAN_OPTIONS

echo "== thread-safe calls under ThreadSanitizer"
cmake -S "$root" -B "$root/build-tsan" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWSC_TSAN=ON -DWSC_BUILD_TESTS=ON \
  -DWSC_BUILD_TOOLS=OFF >/dev/null
cmake --build "$root/build-tsan" -j "$jobs" --target test_loop test_conn test_random test_error
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
"$root/build-tsan/tests/test_loop" --gtest_brief=1
"$root/build-tsan/tests/test_random" --gtest_brief=1
"$root/build-tsan/tests/test_error" --gtest_brief=1
"$root/build-tsan/tests/test_conn" --gtest_brief=1 --gtest_filter='*Thread*'
unset TSAN_OPTIONS

echo "== loop tests and the hostile-input suite under valgrind memcheck"
"$root/tools/valgrind.sh" "$root/build"

echo "== fuzzing: every libFuzzer target for ${WSC_FUZZ_SECONDS:-60} s"
"$root/tools/fuzz.sh" "${WSC_FUZZ_SECONDS:-60}"

if compgen -G "$root/bindings/python/tests/test_*.py" >/dev/null; then
  echo "== Python binding tests"
  WSC_LIBRARY="$root/build/libwsc.so" /usr/bin/python3 -m pytest -q "$root/bindings/python/tests"
fi

if compgen -G "$root/bindings/node/test/*.test.js" >/dev/null; then
  echo "== Node binding tests"
  # npm install builds the addon (CMake, Node's headers; offline), against the libwsc built above.
  (cd "$root/bindings/node" && WSC_LIBWSC_DIR="$root/build" npm install --offline --no-audit --no-fund --loglevel=error &&
    npm test)
fi
