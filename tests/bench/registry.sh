# Sourced by the benchmarks that need a registry: `start_registry DIR` serves a
# docker-registry on a free loopback port with its storage in DIR/registry, and sets $port
# and $registry (its PID, for the caller's clean-up to kill).
start_registry() {
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    cat > "$1/registry.yml" <<CONFIG
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $1/registry}}
http: {addr: 127.0.0.1:$port}
CONFIG
    docker-registry serve "$1/registry.yml" >/dev/null 2>&1 &
    registry=$!
    for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && return 0; sleep 0.1; done
    echo "$0: the registry did not start" >&2
    return 1
}
