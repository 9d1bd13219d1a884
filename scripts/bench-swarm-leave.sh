#!/usr/bin/env bash
# Leaves the one-node swarm `helios-bench swarm` made, if it could not itself (it was killed):
# the benchmark writes bench/results/.swarm-created while its swarm exists.
set -uo pipefail
cd "$(dirname "$0")/.."
marker="${BENCH_RESULTS:-bench/results}/.swarm-created"
[ -f "$marker" ] || exit 0
eval "$(scripts/services.sh env)"
docker swarm leave --force >/dev/null 2>&1 || true
rm -f "$marker"
echo "left the benchmark's swarm"
