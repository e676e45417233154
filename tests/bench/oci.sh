#!/usr/bin/env bash
# OCI runtime benchmark: `ctr run --rm IMAGE true` through a private containerd (Debian's 1.6)
# with our runtime (mct-runc) and with runc, and both runtimes' own `run` on one bundle, in one
# hyperfine run. Reported as ratios ours/runc (medians).
#
#   sudo tests/bench/oci.sh                 # needs root, hyperfine, containerd, runc, umoci, skopeo
#   RUNS=100 sudo tests/bench/oci.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${RUNS:-50}
[ "$(id -u)" = 0 ] || { echo "oci.sh: needs root (namespaces): run with sudo" >&2; exit 125; }
for p in hyperfine containerd ctr runc umoci skopeo; do
    command -v $p >/dev/null || { echo "oci.sh: needs $p" >&2; exit 127; }
done

name=oci
. tests/bench/containerd-world.sh
cleanup() {
    ctr -a "$work/c.sock" -n bench tasks kill -a -s SIGKILL b >/dev/null 2>&1 || true
    [ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null || true
    for rt in "$work/mct-runc" runc; do $rt --root "$work/runc-root" delete -f bench-bundle >/dev/null 2>&1 || true; done
    [ -n "$run_before" ] || rm -rf /run/containerd
    rm -rf "$work"
}
trap cleanup EXIT

cat > "$work/config.toml" <<EOF
version = 2
root = "$work/root"
state = "$work/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$work/c.sock"
[ttrpc]
  address = "$work/c.sock.ttrpc"
EOF
start_containerd
ctr=$(ctr_for bench)
import_busybox bench
image=docker.io/mct/busybox:latest

# One bundle for both runtimes' own `run`.
mkdir -p "$work/bundle"
cp -a "$work/bb" "$work/bundle/rootfs"
(cd "$work/bundle" && runc spec && sed -i -e 's/"terminal": true/"terminal": false/' -e 's/"sh"/"true"/' config.json)

names=("ctr run --rm, runc" "ctr run --rm, mct-runc" "runc run" "mct-runc run")
cmds=(
    "$ctr run --rm --runc-root $work/runc-root $image b true"
    "$ctr run --rm --runc-binary $work/mct-runc --runc-root $work/runc-root $image b true"
    "runc --root $work/runc-root run --bundle $work/bundle bench-bundle"
    "$work/mct-runc --root $work/runc-root run --bundle $work/bundle bench-bundle"
)
args=()
for i in "${!names[@]}"; do args+=(--command-name "${names[$i]}" "${cmds[$i]}"); done
hyperfine -N --warmup 5 --runs "$runs" --export-json "$work/times.json" "${args[@]}" >&2

report "$work/times.json" "command ($runs runs each)" \
    "ctr run --rm|ctr run --rm, mct-runc|ctr run --rm, runc" \
    "the runtime's own run|mct-runc run|runc run"
