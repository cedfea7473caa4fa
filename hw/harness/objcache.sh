#!/bin/sh
# OBJCACHE for Verilator's make (flow/rtl_backend/sim.py): make runs "$(OBJCACHE) $(CXX) ... -c -o X.o S.cpp".
# The Verilator runtime library (verilated*.cpp under Verilator's include/, half of a small design's C++
# compile time) is the same for every design: its object is compiled once per command line and compiler
# and copied from SHIFTBNN_OBJCACHE_DIR from then on. Every other compile runs unchanged.
set -eu
out="" src=""
prev=""
for arg in "$@"; do
  [ "$prev" = "-o" ] && out="$arg"
  prev="$arg" src="$arg"
done
case "$src:$out" in
  */include/verilated*.cpp:verilated*.o) ;;
  *) exec "$@" ;;
esac
[ -n "${SHIFTBNN_OBJCACHE_DIR:-}" ] || exec "$@"
key=$( { printf '%s\n' "$@"; "$1" --version; ls -l --time-style=full-iso "$(dirname "$src")"; } | sha256sum | cut -c1-32)
cached="$SHIFTBNN_OBJCACHE_DIR/$key-$out"
if [ -f "$cached" ]; then
  cp "$cached" "$out"
  exit 0
fi
"$@"
mkdir -p "$SHIFTBNN_OBJCACHE_DIR"
tmp=$(mktemp "$cached.XXXXXX")
cp "$out" "$tmp" && mv -f "$tmp" "$cached"
