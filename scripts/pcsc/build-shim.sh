#!/usr/bin/env bash
# Builds the TCP_NODELAY shim for pcscd (nodelay.c -> build/nodelay.so) when it is missing or older
# than its source. Needs gcc only; setup.sh calls it after installing the packages, and the test run
# (test/global-setup.ts) calls it when gcc is there. Prints the shim's path on stdout on success.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$here/build"
mkdir -p "$build"
if [ ! -f "$build/nodelay.so" ] || [ "$here/nodelay.c" -nt "$build/nodelay.so" ]; then
  gcc -shared -fPIC -O2 -Wall -Wextra -o "$build/nodelay.so.tmp.$$" "$here/nodelay.c" -ldl
  mv -f "$build/nodelay.so.tmp.$$" "$build/nodelay.so"
  echo "pcsc setup: built $build/nodelay.so" >&2
fi
echo "$build/nodelay.so"
