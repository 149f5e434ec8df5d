#!/usr/bin/env bash
# Stops the servers started by start-shards.sh (their folder is the first word it printed) and removes them.
set -uo pipefail
TOP=$1
for DIR in "$TOP"/s*; do [ -d "$DIR" ] && bash "$(dirname "$0")/stop.sh" "$DIR"; done
rm -rf "$TOP"
