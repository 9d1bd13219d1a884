#!/usr/bin/env bash
# Starts (up) or stops (down) the services Helios' tests and demo need: a ZooKeeper
# server, a Docker engine and a private image registry (Debian's docker-registry, on
# loopback, with a password). A service that already answers is reused and never
# stopped; only what this script started is stopped by `down`.
#
# `up` writes $HELIOS_SERVICES_DIR/env, to be sourced: HELIOS_TEST_ZK, DOCKER_HOST,
# HELIOS_TEST_REGISTRY (host:port) and HELIOS_TEST_REGISTRY_AUTH (user:password), and
# $HELIOS_SERVICES_DIR/started: the services this very call started ("zookeeper docker registry").
# `down [zookeeper] [docker] [registry]` stops those of the named ones this script started earlier.
set -euo pipefail

dir=${HELIOS_SERVICES_DIR:-/tmp/helios-services-$(printf %s "$PWD" | md5sum | cut -c1-8)}
mkdir -p "$dir"

zk_answers() { # host:port
    local reply
    reply=$(python3 - "$1" <<'PY' 2>/dev/null || true
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
try:
    with socket.create_connection((host, int(port)), timeout=2) as s:
        s.sendall(b"ruok"); print(s.recv(16).decode())
except OSError:
    pass
PY
)
    [ "$reply" = imok ]
}

docker_answers() { # unix socket path
    [ -S "$1" ] && curl -sf --max-time 3 --unix-socket "$1" http://localhost/_ping >/dev/null 2>&1
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

zookeeper_up() {
    if [ -n "${HELIOS_TEST_ZK:-}" ] && zk_answers "$HELIOS_TEST_ZK"; then
        echo "zookeeper: reusing $HELIOS_TEST_ZK"; zk=$HELIOS_TEST_ZK; return
    fi
    if [ -f "$dir/zk.address" ] && zk_answers "$(cat "$dir/zk.address")"; then
        zk=$(cat "$dir/zk.address"); echo "zookeeper: reusing $zk (started earlier)"; return
    fi
    local port; port=$(free_port)
    rm -rf "$dir/zk/data" # a server this script starts begins empty
    mkdir -p "$dir/zk/data"
    cat > "$dir/zk/zoo.cfg" <<CFG
tickTime=2000
dataDir=$dir/zk/data
clientPort=$port
clientPortAddress=127.0.0.1
admin.enableServer=false
4lw.commands.whitelist=*
maxSessionTimeout=60000
# Every test session, master and agent comes from 127.0.0.1: the default of 60 connections
# per address refuses some of them when the suites run in parallel.
maxClientCnxns=0
CFG
    nohup java -Dzookeeper.log.dir="$dir/zk" -cp "/usr/share/java/*:/etc/zookeeper/conf" \
        org.apache.zookeeper.server.ZooKeeperServerMain "$dir/zk/zoo.cfg" \
        > "$dir/zk/server.log" 2>&1 &
    echo $! > "$dir/zk.pid"
    echo "127.0.0.1:$port" > "$dir/zk.address"
    zk=127.0.0.1:$port
    started="$started zookeeper"
    for _ in $(seq 1 120); do
        zk_answers "$zk" && { echo "zookeeper: started on $zk"; return; }
        sleep 0.5
    done
    echo "zookeeper did not start; see $dir/zk/server.log" >&2; exit 1
}

docker_up() {
    local socket=""
    case "${DOCKER_HOST:-}" in unix://*) socket=${DOCKER_HOST#unix://} ;; esac
    for candidate in "$socket" /var/run/docker.sock "$dir/docker/docker.sock"; do
        if [ -n "$candidate" ] && docker_answers "$candidate"; then
            docker_socket=$candidate; echo "docker: reusing $candidate"; return
        fi
    done
    start_dockerd
}

start_dockerd() {
    mkdir -p "$dir/docker"
    docker_socket=$dir/docker/docker.sock
    nohup dockerd --storage-driver=vfs --data-root "$dir/docker/data" --exec-root "$dir/docker/exec" \
        --pidfile "$dir/docker/dockerd.pid" -H "unix://$docker_socket" \
        > "$dir/docker/dockerd.log" 2>&1 &
    echo $! > "$dir/docker.pid"
    started="$started docker"
    for _ in $(seq 1 120); do
        docker_answers "$docker_socket" && { echo "docker: started on $docker_socket"; return; }
        sleep 0.5
    done
    echo "dockerd did not start; see $dir/docker/dockerd.log" >&2; exit 1
}

registry_answers() { # host:port; a registry asking for credentials answers 401 on /v2/
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://$1/v2/" 2>/dev/null)" = 401 ]
}

registry_up() {
    if [ -f "$dir/registry.address" ] && registry_answers "$(cat "$dir/registry.address")"; then
        registry=$(cat "$dir/registry.address"); echo "registry: reusing $registry (started earlier)"; return
    fi
    local port; port=$(free_port)
    rm -rf "$dir/registry"
    mkdir -p "$dir/registry/data"
    printf 'helios:%s\n' "$(head -c 12 /dev/urandom | md5sum | cut -c1-16)" > "$dir/registry/auth"
    htpasswd -Bbn helios "$(cut -d: -f2 "$dir/registry/auth")" > "$dir/registry/htpasswd"
    cat > "$dir/registry/config.yml" <<CFG
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $dir/registry/data
http:
  addr: 127.0.0.1:$port
  secret: $(head -c 12 /dev/urandom | md5sum | cut -c1-16)
auth:
  htpasswd:
    realm: helios-test
    path: $dir/registry/htpasswd
CFG
    nohup docker-registry serve "$dir/registry/config.yml" > "$dir/registry/registry.log" 2>&1 &
    echo $! > "$dir/registry.pid"
    registry=127.0.0.1:$port
    echo "$registry" > "$dir/registry.address"
    started="$started registry"
    for _ in $(seq 1 60); do
        registry_answers "$registry" && { echo "registry: started on $registry"; return; }
        sleep 0.5
    done
    echo "docker-registry did not start; see $dir/registry/registry.log" >&2; exit 1
}

stop_pid_file() { # file name
    local file=$1
    [ -f "$file" ] || return 0
    local pid; pid=$(cat "$file")
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$file"
}

started=""
case "${1:-}" in
up)
    zookeeper_up
    docker_up
    registry_up
    cat > "$dir/env" <<ENV
export HELIOS_TEST_ZK=$zk
export DOCKER_HOST=unix://$docker_socket
export HELIOS_TEST_REGISTRY=$registry
export HELIOS_TEST_REGISTRY_AUTH=$(cat "$dir/registry/auth")
export HELIOS_SERVICES_DIR=$dir
ENV
    echo "${started# }" > "$dir/started"
    ;;
down)
    shift
    which=${*:-zookeeper docker registry}
    case " $which " in *" registry "*)
        if [ -f "$dir/registry.pid" ]; then
            stop_pid_file "$dir/registry.pid"
            rm -f "$dir/registry.address"
            echo "registry: stopped"
        fi ;;
    esac
    case " $which " in *" docker "*)
        if [ -f "$dir/docker.pid" ]; then
            # Containers of a private engine go with it.
            export DOCKER_HOST=unix://$dir/docker/docker.sock
            docker ps -aq | xargs -r docker rm -f >/dev/null 2>&1 || true
            stop_pid_file "$dir/docker.pid"
            echo "docker: stopped"
        fi ;;
    esac
    case " $which " in *" zookeeper "*)
        if [ -f "$dir/zk.pid" ]; then
            stop_pid_file "$dir/zk.pid"
            rm -f "$dir/zk.address"
            echo "zookeeper: stopped"
        fi ;;
    esac
    rm -f "$dir/env" # stale once anything is stopped; `up` writes it anew
    ;;
restart-docker)
    # A dockerd restart (make chaos): only of an engine this script started; its containers
    # stop with it and stay (no restart policy) for the agents to start again.
    [ -f "$dir/docker.pid" ] || { echo "docker: not started by $0; not restarting it" >&2; exit 3; }
    stop_pid_file "$dir/docker.pid"
    start_dockerd >/dev/null
    echo "docker: restarted on $docker_socket"
    ;;
env)
    [ -f "$dir/env" ] || { echo "services are not up: run $0 up" >&2; exit 1; }
    cat "$dir/env"
    ;;
*)
    echo "usage: $0 up | down [zookeeper] [docker] [registry] | restart-docker | env" >&2; exit 2 ;;
esac
