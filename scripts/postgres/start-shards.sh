#!/usr/bin/env bash
# Starts N throwaway PostgreSQL servers (Debian's package) on 127.0.0.1, ports BASE_PORT.. (default
# 55441..), each with max_prepared_transactions > 0 for the sharded registry's two-phase commit
# (bank/sharded-db.ts), and prints "FOLDER URL1,URL2,..." on stdout: the folder holding them all and the
# comma-separated connection strings (DRMB_TEST_POSTGRES_SHARDS). `stop-shards.sh FOLDER` stops them.
# Installs the package when missing (as start.sh does).
set -euo pipefail
N=${1:?usage: start-shards.sh N [BASE_PORT]}
BASE_PORT=${2:-55441}
if ! [[ "$N" =~ ^[1-9][0-9]*$ ]]; then echo "start-shards.sh: N must be a positive number of servers (got $N)" >&2; exit 2; fi
if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then echo "postgres: not installed and not root" >&2; exit 1; fi
  DEBIAN_FRONTEND=noninteractive apt-get update >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql >&2
fi
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
TOP=$(mktemp -d /tmp/drmb-pg-shards.XXXXXX)
RUN="sh -c"
if [ "$(id -u)" -eq 0 ]; then chown postgres "$TOP"; RUN="su postgres -s /bin/sh -c"; fi
URLS=()
for ((i = 0; i < N; i++)); do
  PORT=$((BASE_PORT + i))
  DIR="$TOP/s$i"
  # A prepared transaction per concurrent cross-server deposit; 64 is far above what the tests open.
  $RUN "mkdir -p $DIR && $PGBIN/initdb -D $DIR/data -A trust -U postgres >/dev/null && $PGBIN/pg_ctl -D $DIR/data -o '-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c max_prepared_transactions=64 -c shared_buffers=64MB' -l $DIR/log -w start >/dev/null" >&2
  "$PGBIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -qc 'CREATE DATABASE drmb_test' >&2
  URLS+=("postgres://postgres@127.0.0.1:$PORT/drmb_test")
done
(IFS=,; echo "$TOP ${URLS[*]}")
