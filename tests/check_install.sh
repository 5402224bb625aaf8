#!/bin/sh
# Installs the build into a scratch prefix, then builds and runs a consumer two ways:
# CMake's find_package(wsc) (shared and static targets) and pkg-config.
set -eu
build=$1
consumer_src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
test -f "$prefix/include/wsc/wsc.h"
ls "$prefix"/lib*/libwsc.so.0 >/dev/null 2>&1 || ls "$prefix"/lib/*/libwsc.so.0 >/dev/null

san=$(grep -E '^WSC_SANITIZE:BOOL=ON' "$build/CMakeCache.txt" >/dev/null && echo "-fsanitize=address,undefined" || true)

cmake -S "$consumer_src" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_C_FLAGS="$san" -DCMAKE_EXE_LINKER_FLAGS="$san" >/dev/null
cmake --build "$work/cmake" >/dev/null
libdir=$(dirname "$(ls "$prefix"/lib*/libwsc.so.0 "$prefix"/lib/*/libwsc.so.0 2>/dev/null | head -n 1)")
LD_LIBRARY_PATH=$libdir "$work/cmake/consumer"
"$work/cmake/consumer_static"

PKG_CONFIG_PATH=$libdir/pkgconfig
export PKG_CONFIG_PATH
test "$(pkg-config --modversion wsc)" = "$(sed -n 's/^Version: //p' "$libdir/pkgconfig/wsc.pc")"
# shellcheck disable=SC2046
cc $san -o "$work/pc_consumer" "$consumer_src/consumer.c" $(pkg-config --define-variable=prefix="$prefix" --cflags --libs wsc)
LD_LIBRARY_PATH=$libdir "$work/pc_consumer"
echo "install: find_package(wsc) and pkg-config consumers work"
