#!/usr/bin/env bash
# Runs a command with ZooKeeper, a Docker engine and the test image available, then stops
# whatever this run started (services that were already running are left alone).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/services.sh up
eval "$(scripts/services.sh env)"
started=$(cat "$HELIOS_SERVICES_DIR/started")
if [ -n "$started" ] && [ -z "${KEEP:-}" ]; then
    trap 'scripts/services.sh down '"$started" EXIT
fi
scripts/test-images.sh "${HELIOS_TEST_IMAGE:-helios/busybox:latest}"
"$@"
