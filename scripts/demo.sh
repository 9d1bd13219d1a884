#!/usr/bin/env bash
# The demo: a one-host Helios cluster driven by a git repository made from deployments/.
# Pushes the manifests, shows the container the agent started, bumps the version, shows the
# replacement. KEEP=1 leaves the master and agent running (stop them with `make demo-down`).
set -euo pipefail
cd "$(dirname "$0")/.."
demo=$PWD/.demo
helios=$PWD/.build/debug/helios
helios_agent=$PWD/.build/debug/helios-agent  # the agent binary hosts run
http=${DEMO_HTTP:-127.0.0.1:5801}
# Each demo run gets a ZooKeeper tree of its own: a reused ZooKeeper keeps older runs' state.
chroot=/helios-demo-$(date +%s)

stop_daemons() {
    for name in master agent; do
        if [ -f "$demo/$name.pid" ]; then
            kill "$(cat "$demo/$name.pid")" 2>/dev/null || true
            rm -f "$demo/$name.pid"
        fi
    done
}

if [ "${1:-}" = down ]; then
    stop_daemons
    eval "$(scripts/services.sh env 2>/dev/null)" 2>/dev/null || true
    docker ps -aq --filter label=helios.host=demo-host | xargs -r docker rm -f >/dev/null
    scripts/services.sh down
    exit 0
fi

: "${HELIOS_TEST_ZK:?run through scripts/with-services.sh (make demo)}"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

stop_daemons
rm -rf "$demo" && mkdir -p "$demo"
docker ps -aq --filter label=helios.host=demo-host | xargs -r docker rm -f >/dev/null

step "A manifest repository, made from deployments/"
git init -q --bare -b main "$demo/manifests.git"
git clone -q "$demo/manifests.git" "$demo/work" 2>/dev/null
cp -r deployments/. "$demo/work/"
git -C "$demo/work" add -A
git -C "$demo/work" -c user.name=demo -c user.email=demo@helios.invalid commit -qm "deploy hello 1"
git -C "$demo/work" push -q origin HEAD:main
git -C "$demo/work" log --oneline --stat | cat

step "helios validate"
"$helios" validate "$demo/work"

step "Secure it: an API token, ZooKeeper identities for the master and the agent"
rm -f "$demo/tokens"
HELIOS_TOKEN=$("$helios" token create demo --scopes deploy --file "$demo/tokens")
export HELIOS_TOKEN # the CLI sends it; the master's tokens file holds only its hash
"$helios" zk credentials --file "$demo/master.auth"
"$helios" zk credentials demo-host --master "$demo/master.auth" --file "$demo/agent.auth"

step "Start a master (polling the repository every second) and an agent named demo-host"
"$helios" master --zk "$HELIOS_TEST_ZK" --chroot "$chroot" --zk-auth-file "$demo/master.auth" \
    --repo "$demo/manifests.git" --poll 1s \
    --state-dir "$demo/master" --http "$http" --api-tokens "$demo/tokens" > "$demo/master.log" 2>&1 &
echo $! > "$demo/master.pid"
"$helios_agent" --zk "$HELIOS_TEST_ZK" --chroot "$chroot" --zk-auth-file "$demo/agent.auth" --name demo-host \
    --reconcile-interval 5s --state-dir "$demo/agent-state" > "$demo/agent.log" 2>&1 &
echo $! > "$demo/agent.pid"
[ -n "${KEEP:-}" ] || trap stop_daemons EXIT
echo "master: http://$http (log $demo/master.log); agent: demo-host (log $demo/agent.log)"

wait_for_version() { # version
    for _ in $(seq 1 120); do
        if docker ps --filter label=helios.host=demo-host --format '{{.Labels}}' | grep -q "helios.job=hello:$1:"; then
            [ "$(docker ps -q --filter label=helios.host=demo-host | wc -l)" = 1 ] && return 0
        fi
        sleep 0.5
    done
    echo "hello $1 did not come up; logs:" >&2; cat "$demo/master.log" "$demo/agent.log" >&2; exit 1
}

step "The agent runs the job's container"
wait_for_version 1
docker ps --filter label=helios.host=demo-host --format 'table {{.Names}}\t{{.Status}}\t{{.Command}}'
container=$(docker ps -q --filter label=helios.host=demo-host)
echo "it serves: $(docker exec "$container" wget -qO- http://127.0.0.1:8080/)"
echo "sync record: $(curl -s -H "Authorization: Bearer $HELIOS_TOKEN" "http://$http/v1/sync")"

step "Bump the version and plan it offline, as a CI step would (helios plan --base origin/main)"
sed -i 's/^version: "1"/version: "2"/' "$demo/work/hello.yaml"
"$helios" plan "$demo/work" --base origin/main

step "Commit and push it: the master rolls it out and the new container replaces the old one"
git -C "$demo/work" -c user.name=demo -c user.email=demo@helios.invalid commit -qam "hello 2"
git -C "$demo/work" push -q origin HEAD:main
wait_for_version 2
echo "(the old container is stopped and kept for inspection)"
docker ps -a --filter label=helios.host=demo-host --format 'table {{.Names}}\t{{.Status}}\t{{.Command}}'

step "The cluster as the master sees it: helios rollout status, helios status"
"$helios" rollout status hello --master "http://$http" --watch
"$helios" status --master "http://$http"

(umask 077; echo "$HELIOS_TOKEN" > "$demo/token")
step "The dashboard"
echo "dashboard: http://$http/ui (sign in with the token in $demo/token)"
curl -sf -o /dev/null -H "Authorization: Bearer $HELIOS_TOKEN" "http://$http/ui" && echo "(it answers: $(curl -s -H "Authorization: Bearer $HELIOS_TOKEN" "http://$http/ui" | grep -o 'data-test="sync-status">[A-Z_]*' | cut -d'>' -f2))"

if [ -n "${KEEP:-}" ]; then
    step "Still running. Push to $demo/manifests.git (work tree: $demo/work); stop with: make demo-down"
    echo "the CLI's token: HELIOS_TOKEN_FILE=$demo/token helios status --master $http"
else
    step "Done: stopping the master and agent (make demo KEEP=1 keeps them running)"
    stop_daemons
    docker ps -aq --filter label=helios.host=demo-host | xargs -r docker rm -f >/dev/null
fi
