#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server (Debian's package) on 127.0.0.1:55432 for the registry suite and
# prints the connection string on stdout; `stop.sh DIR` stops it. Installs the package when missing.
set -euo pipefail
if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then echo "postgres: not installed and not root" >&2; exit 1; fi
  DEBIAN_FRONTEND=noninteractive apt-get update >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql >&2
fi
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
PGDIR=$(mktemp -d /tmp/drmb-pg.XXXXXX)
RUN=""
if [ "$(id -u)" -eq 0 ]; then chown postgres "$PGDIR"; RUN="su postgres -s /bin/sh -c"; else RUN="sh -c"; fi
$RUN "$PGBIN/initdb -D $PGDIR/data -A trust -U postgres >/dev/null && $PGBIN/pg_ctl -D $PGDIR/data -o '-p 55432 -k $PGDIR -c listen_addresses=127.0.0.1' -l $PGDIR/log -w start >/dev/null" >&2
"$PGBIN/psql" -h 127.0.0.1 -p 55432 -U postgres -qc 'CREATE DATABASE drmb_test' >&2
echo "$PGDIR postgres://postgres@127.0.0.1:55432/drmb_test"
