# Sourced by the benchmarks that drive a private containerd (oci.sh, pods.sh), with `work`
# (their scratch directory, a copy of the tool in it as `tool`) set and `$work/config.toml`
# written: the daemon started in a mount namespace of its own (`daemon`), `ctr` for
# containerd namespace NS (`ctr_for NS`), and the busybox image (the tool's rootfs as one
# layer) imported as docker.io/mct/busybox:latest, and with `--pause` as
# docker.io/mct/pause:latest too (its entrypoint sleeps, as a pod sandbox's pause waits).

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
