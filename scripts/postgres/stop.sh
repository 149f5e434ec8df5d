#!/usr/bin/env bash
# Stops the server started by start.sh (its folder is the first word start.sh printed) and removes it.
set -uo pipefail
PGDIR=$1
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/sh -c "$PGBIN/pg_ctl -D $PGDIR/data -m fast -w stop" >/dev/null 2>&1
else "$PGBIN/pg_ctl" -D "$PGDIR/data" -m fast -w stop >/dev/null 2>&1; fi
rm -rf "$PGDIR"
