#!/bin/sh
# libwsc.so exports wsc_* functions and data, and nothing else: no llhttp_*, no C++ symbols.
set -eu
lib=$1
syms=$(nm -D --defined-only "$lib" | awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }')
[ -n "$syms" ] || { echo "no exported symbols found in $lib"; exit 1; }
bad=$(printf '%s\n' "$syms" | grep -v '^wsc_' || true)
if [ -n "$bad" ]; then
  echo "symbols outside wsc_* exported from $lib:"
  printf '%s\n' "$bad"
  exit 1
fi
for required in wsc_version wsc_strerror wsc_parser_feed wsc_sender_send wsc_frame_encode; do
  printf '%s\n' "$syms" | grep -qx "$required" || { echo "$required is not exported"; exit 1; }
done
# llhttp is compiled in but hidden: its symbols exist only as local ones.
if nm -D "$lib" | grep -q ' llhttp_'; then echo "llhttp symbols are visible"; exit 1; fi
echo "$(printf '%s\n' "$syms" | wc -l) symbols exported, all wsc_*"
