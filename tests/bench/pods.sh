#!/usr/bin/env bash
# Pod start benchmark: what a kubelet waits for, a pod's sandbox and one container started
# (`crictl runp`, `create`, `start`), through a private containerd's CRI plugin with our
# runtime (handler mct) and with runc (handler runc), in one hyperfine run.
# Each run's pod is removed before the next (untimed). Reported as the ratio mct / runc of
# the medians.
#
#   sudo tests/bench/pods.sh     # needs root, hyperfine, containerd, runc, umoci, skopeo,
#                                # containernetworking-plugins, and crictl: cri-tools is not
#                                # in Debian; build it from its release source (Go 1.19 builds
#                                # v1.26.1: go build ./cmd/crictl), or set CRICTL=path
#   RUNS=50 sudo tests/bench/pods.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${RUNS:-30}
crictl=${CRICTL:-crictl}
[ "$(id -u)" = 0 ] || { echo "pods.sh: needs root (namespaces): run with sudo" >&2; exit 125; }
for p in hyperfine containerd ctr runc umoci skopeo "$crictl" /usr/lib/cni/bridge; do
    command -v "$p" >/dev/null || [ -x "$p" ] || { echo "pods.sh: needs $p" >&2; exit 127; }
done

name=pods
. tests/bench/containerd-world.sh
net=mctbench$$
net=${net:0:15}
cache_before=$(ls /var/lib/cni/results 2>/dev/null || true)
cleanup() {
    [ -S "$work/c.sock" ] && CONTAINER_RUNTIME_ENDPOINT=unix://$work/c.sock "$crictl" rmp -f -a >/dev/null 2>&1 || true
    [ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null || true
    ip link del "$net" 2>/dev/null || true
    # The pods' cgroup parent, the kubelet's to remove (runc leaves the levels it made).
    rmdir /sys/fs/cgroup/mct-bench-$$ /sys/fs/cgroup/*/mct-bench-$$ 2>/dev/null || true
    # libcni caches each attachment in /var/lib/cni, whatever the configuration says; what
    # this run added goes.
    for f in $(ls /var/lib/cni/results 2>/dev/null); do
        grep -qxF "$f" <<<"$cache_before" || rm -f "/var/lib/cni/results/$f"
    done
    [ -n "$cache_before" ] || rmdir /var/lib/cni/results /var/lib/cni 2>/dev/null || true
    [ -n "$run_before" ] || rm -rf /run/containerd
    rm -rf "$work"
}
trap cleanup EXIT

# Lowering a sandbox's oom_score_adj takes CAP_SYS_RESOURCE; without it, containerd's own
# setting keeps scores at its own (every runtime's create fails otherwise).
restrict=false
(( 0x$(awk '/^CapEff/ {print $2}' /proc/self/status) >> 24 & 1 )) || restrict=true
mkdir -p "$work/cni"
cat > "$work/cni/10-bench.conflist" <<EOF
{"cniVersion": "1.0.0", "name": "$net", "plugins": [
  {"type": "bridge", "bridge": "$net", "isGateway": false, "ipMasq": false,
   "ipam": {"type": "host-local", "dataDir": "$work/leases",
            "ranges": [[{"subnet": "10.238.$(( $$ % 250 + 1 )).0/24"}]]}},
  {"type": "loopback"}]}
EOF
cat > "$work/config.toml" <<EOF
version = 2
root = "$work/root"
state = "$work/state"
[grpc]
  address = "$work/c.sock"
[ttrpc]
  address = "$work/c.sock.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "docker.io/mct/pause:latest"
  netns_mounts_under_state_dir = true
  restrict_oom_score_adj = $restrict
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$work/cni"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "mct"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.mct]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.mct.options]
        BinaryName = "$work/mct-runc"
        Root = "$work/runc-mct"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        Root = "$work/runc-runc"
EOF
start_containerd
import_busybox k8s.io --pause

cat > "$work/pod.json" <<EOF
{"metadata": {"name": "bench", "namespace": "bench", "uid": "bench-$$"},
 "linux": {"cgroup_parent": "/mct-bench-$$"}}
EOF
cat > "$work/container.json" <<EOF
{"metadata": {"name": "sleeper"}, "image": {"image": "docker.io/mct/busybox:latest"},
 "command": ["sleep", "2147483647"], "linux": {}}
EOF
cat > "$work/start.sh" <<EOF
set -e
export CONTAINER_RUNTIME_ENDPOINT=unix://$work/c.sock IMAGE_SERVICE_ENDPOINT=unix://$work/c.sock
pod=\$($crictl runp --runtime "\$1" $work/pod.json)
c=\$($crictl create "\$pod" $work/container.json $work/pod.json)
$crictl start "\$c" >/dev/null
EOF
cat > "$work/remove.sh" <<EOF
export CONTAINER_RUNTIME_ENDPOINT=unix://$work/c.sock
$crictl rmp -f -a >/dev/null
EOF

args=(--command-name "pod start, runc" "bash $work/start.sh runc"
      --command-name "pod start, mct-runc" "bash $work/start.sh mct")
hyperfine -N --warmup 3 --runs "$runs" --prepare "bash $work/remove.sh" \
    --export-json "$work/times.json" "${args[@]}" >&2

report "$work/times.json" "pod sandbox + 1 container started, through containerd's CRI ($runs runs each)" \
    "pod start|pod start, mct-runc|pod start, runc"
