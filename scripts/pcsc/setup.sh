#!/usr/bin/env bash
# Installs the real PC/SC stack for the end-to-end tests (pcsc-lite's pcscd, the vsmartcard vpcd driver,
# pcsc-tools, OpenSC, the headers the Node binding builds against) and builds the TCP_NODELAY shim for pcscd.
# Idempotent: installs only what is missing; rebuilds the shim only when nodelay.c is newer.
# See /work/shared/reference/pcsc-testing.md. Prints the shim's path on stdout on success.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

packages=(pcscd libpcsclite-dev vsmartcard-vpcd pcsc-tools opensc build-essential python3-pyscard)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "pcsc setup: installing ${missing[*]}" >&2
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then sudo=(sudo); else
      echo "pcsc setup: not root and no sudo; install these packages first: ${missing[*]}" >&2
      exit 1
    fi
  fi
  # --no-install-recommends: 10 packages instead of 32 (no GTK, no Python virtual card)
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${packages[@]}" >&2
else
  echo "pcsc setup: packages already installed" >&2
fi

exec "$here/build-shim.sh"
