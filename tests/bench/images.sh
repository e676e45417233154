#!/usr/bin/env bash
# Image benchmark, each against a peer doing the same work, in one run, as ratios:
#   1. pulling a ~60 MB single-layer image (a Debian minbase) from a registry on loopback into
#      an empty store, against `skopeo copy` to an OCI directory plus `umoci unpack`;
#   2. the peak RSS of one such pull (GNU time's maximum resident set size);
#   3. starting a container from the pulled image, against `runc run` on the bundle umoci
#      unpacked from the same image (when runc is installed).
#
#   sudo tests/bench/images.sh                  # needs root, hyperfine, docker-registry, skopeo,
#                                               # umoci, mmdebstrap (or DEBIAN_TAR=rootfs.tar)
#   RUNS=20 START_RUNS=300 sudo tests/bench/images.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${RUNS:-10}
start_runs=${START_RUNS:-200}
[ "$(id -u)" = 0 ] || { echo "images.sh: needs root: run with sudo" >&2; exit 125; }
for c in hyperfine docker-registry skopeo umoci python3; do
    command -v $c >/dev/null || { echo "images.sh: needs $c" >&2; exit 127; }
done

cargo build --release --quiet
tool=$PWD/target/release/my-container-tui
work=$(mktemp -d /tmp/mct-bench-images.XXXXXX)
registry=
# Every step may fail (nothing to kill, no such runc container): none may skip the unmount.
cleanup() {
    set +e
    [ -n "$registry" ] && kill "$registry" 2>/dev/null && wait "$registry" 2>/dev/null
    command -v runc >/dev/null && runc delete -f mct-bench-image >/dev/null 2>&1
    umount "$work" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
# Everything (registry storage, stores, bundles) on a tmpfs of its own: on a disk that has
# seen many deletions, ext4's inode allocator (`recently_deleted`) made the same unpack take
# 3 to 10 s from one run to the next, for both sides; this measures the tools' own work.
mount -t tmpfs -o size=${TMPFS_SIZE:-3g} mct-bench "$work"

. tests/bench/registry.sh
start_registry "$work"

# The image: one layer, a Debian minbase, made by umoci.
deb=${DEBIAN_TAR:-}
if [ -z "$deb" ]; then
    deb=$work/debian.tar
    mmdebstrap --quiet --variant=minbase --mode=root --format=tar bookworm "$deb"
fi
umoci init --layout "$work/oci"
umoci new --image "$work/oci:deb"
umoci unpack --image "$work/oci:deb" "$work/b" >/dev/null
tar -C "$work/b/rootfs" -xf "$deb"
umoci repack --image "$work/oci:deb" "$work/b"
rm -rf "$work/b"
umoci config --image "$work/oci:deb" --config.cmd /bin/true
ref=127.0.0.1:$port/bench/deb:1
skopeo copy --quiet --dest-tls-verify=false "oci:$work/oci:deb" "docker://$ref"
layer=$(skopeo inspect --tls-verify=false --raw "docker://$ref" | python3 -c 'import json,sys; print(sum(l["size"] for l in json.load(sys.stdin)["layers"]))')
echo "image: one layer of $((layer / 1000000)) MB compressed" >&2

# 1. Pull, cold, both sides.
hyperfine --warmup 1 --runs "$runs" --export-json "$work/pull.json" \
    --prepare "rm -rf $work/store" --command-name "my-container-tui pull" \
    "$tool --root $work/store pull -q $ref" \
    --prepare "rm -rf $work/peer && mkdir -p $work/peer" --command-name "skopeo copy + umoci unpack" \
    "skopeo copy --quiet --src-tls-verify=false docker://$ref oci:$work/peer/oci:x && umoci unpack --image $work/peer/oci:x $work/peer/bundle >/dev/null" >&2

# 2. Peak memory of one cold pull.
rm -rf "$work/store"
rss=$(/usr/bin/time -f '%M' "$tool" --root "$work/store" pull -q "$ref" 2>&1 >/dev/null | tail -n 1)

# 3. Start from the pulled image; runc on umoci's bundle of the same image.
names=("my-container-tui run --image"); cmds=("$tool --root $work/store run --pull never --image $ref /bin/true")
if command -v runc >/dev/null; then
    rm -rf "$work/peer" && mkdir -p "$work/peer" && skopeo copy --quiet --src-tls-verify=false "docker://$ref" "oci:$work/peer/oci:x"
    umoci unpack --image "$work/peer/oci:x" "$work/bundle" >/dev/null
    python3 - "$work/bundle/config.json" <<'EOF'
import json, sys
path = sys.argv[1]
c = json.load(open(path))
c["process"]["args"] = ["/bin/true"]
c["process"]["terminal"] = False
json.dump(c, open(path, "w"))
EOF
    names+=("runc run (umoci's bundle)"); cmds+=("runc run --bundle $work/bundle mct-bench-image")
fi
args=()
for i in "${!names[@]}"; do args+=(--command-name "${names[$i]}" "${cmds[$i]}"); done
hyperfine -N --warmup 10 --runs "$start_runs" --export-json "$work/start.json" "${args[@]}" >&2

python3 - "$work/pull.json" "$work/start.json" "$rss" <<'EOF'
import json, sys
pull = json.load(open(sys.argv[1]))["results"]
start = json.load(open(sys.argv[2]))["results"]
rss_kib = int(sys.argv[3])
print("| measure | ours | peer | ratio |")
print("|---|---|---|---|")
ours, peer = pull[0]["median"], pull[1]["median"]
print(f"| pull, cold (median of {len(pull[0]['times'])}) | {ours*1000:.0f} ms | {peer*1000:.0f} ms (skopeo copy + umoci unpack) | {ours/peer:.2f}x |")
print(f"| pull, peak RSS | {rss_kib/1024:.1f} MiB | | |")
if len(start) > 1:
    ours, peer = start[0]["median"], start[1]["median"]
    print(f"| start from the image (median of {len(start[0]['times'])}) | {ours*1000:.2f} ms | {peer*1000:.2f} ms (runc run) | {ours/peer:.2f}x |")
else:
    print(f"| start from the image | {start[0]['median']*1000:.2f} ms | runc not installed | |")
EOF
