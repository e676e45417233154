# Sourced by the benchmarks that drive a private containerd (oci.sh, pods.sh), from the
# repository's top with `name` set: the release build, copied into a scratch directory
# (`work`) as `tool` with `mct-runc` beside it (a rebuild during the run must not change what
# is measured), and whether /run/containerd was there (`run_before`: containerd's shims make
# /run/containerd/s whatever the configuration says). Once `$work/config.toml` is written:
# `start_containerd` (the daemon in a mount namespace of its own, `daemon`), `ctr_for NS`,
# and `import_busybox NS [--pause]`: the busybox image (the tool's rootfs as one layer) as
# docker.io/mct/busybox:latest, and docker.io/mct/pause:latest (its entrypoint sleeps, as a
# pod sandbox's pause waits).

cargo build --release --quiet
work=$(mktemp -d "/tmp/mct-bench-$name.XXXXXX")
cp target/release/my-container-tui "$work/my-container-tui"
tool=$work/my-container-tui
ln -s my-container-tui "$work/mct-runc"
daemon=
run_before=$([ -e /run/containerd ] && echo yes || true)

start_containerd() {
    unshare -m --propagation private containerd --config "$work/config.toml" >"$work/containerd.log" 2>&1 &
    daemon=$!
    for _ in $(seq 100); do ctr -a "$work/c.sock" version >/dev/null 2>&1 && return 0; sleep 0.05; done
    echo "containerd did not answer; its log:" >&2; tail -5 "$work/containerd.log" >&2; exit 1
}

ctr_for() { echo "ctr -a $work/c.sock -n $1"; }

import_busybox() { # NS [--pause]
    local ctr
    ctr=$(ctr_for "$1")
    "$tool" rootfs busybox "$work/bb" >/dev/null
    umoci init --layout "$work/oci" && umoci new --image "$work/oci:latest"
    umoci insert --image "$work/oci:latest" "$work/bb" / >/dev/null
    local tags=(latest:busybox)
    if [ "${2:-}" = --pause ]; then
        umoci config --image "$work/oci:latest" --tag pause --config.entrypoint /bin/sleep --config.cmd 2147483647
        tags+=(pause:pause)
    fi
    for tag in "${tags[@]}"; do
        skopeo copy --quiet "oci:$work/oci:${tag%%:*}" "docker-archive:$work/${tag#*:}.tar:docker.io/mct/${tag#*:}:latest"
        $ctr images import "$work/${tag#*:}.tar" >/dev/null
    done
}

report() { # TIMES TITLE 'LABEL|OURS|THEIRS'...: hyperfine's export as a table, then each ratio
    python3 - "$@" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
print(f"| {sys.argv[2]} | median | mean ± σ |")
print("|---|---|---|")
for name, x in r.items():
    print(f"| {name} | {x['median']*1e3:.1f} ms | {x['mean']*1e3:.1f} ± {x['stddev']*1e3:.1f} ms |")
print()
for spec in sys.argv[3:]:
    label, ours, theirs = spec.split("|")
    print(f"{label}: mct-runc / runc = {r[ours]['median'] / r[theirs]['median']:.2f}x")
PY
}
