#!/usr/bin/env bash
# Rootless start-up: `--network none --run true` as the unprivileged user mct-rootless
# (tests/prepare.sh makes it) beside the same run as root, in one hyperfine run; the same on a
# busybox --rootfs (the user's own copy); and `unshare` as the user (its own user namespace
# and the rest, the kernel's floor) beside root's. Medians, as ratios to root's run.
# Then images: a pull of a busybox image from a registry on loopback into an empty store, and
# a run of it once stored, the user's beside root's (needs docker-registry, skopeo, umoci).
#
#   sudo tests/bench/rootless.sh
#   RUNS=500 PULL_RUNS=50 sudo tests/bench/rootless.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${RUNS:-200}
pull_runs=${PULL_RUNS:-30}
[ "$(id -u)" = 0 ] || { echo "rootless.sh: run it with sudo (it compares root's runs and a user's)" >&2; exit 125; }
for c in hyperfine docker-registry skopeo umoci; do
    command -v $c >/dev/null || { echo "rootless.sh: needs $c (apt-get install $c)" >&2; exit 127; }
done
id mct-rootless >/dev/null 2>&1 || { echo "rootless.sh: no user mct-rootless: run tests/prepare.sh" >&2; exit 125; }

cargo build --release --quiet
work=$(mktemp -d /tmp/mct-bench.XXXXXX)
registry=
cleanup() {
    set +e
    [ -n "$registry" ] && kill "$registry" 2>/dev/null && wait "$registry" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
# The user's copy of the binary, its runtime and data directories, and its rootfs.
mkdir -p "$work/bin" "$work/run" "$work/data"
cp target/release/my-container-tui "$work/bin/"
tool=$work/bin/my-container-tui
"$tool" rootfs busybox "$work/rootfs" >/dev/null
chmod 755 "$work"
chown -R -h mct-rootless: "$work/run" "$work/data" "$work/rootfs"
as_user="setpriv --reuid=mct-rootless --regid=mct-rootless --clear-groups --inh-caps=-all env XDG_RUNTIME_DIR=$work/run XDG_DATA_HOME=$work/data HOME=$work"
# Root's rows go through the same setpriv and env, so that only the tool's own work differs.
as_root="setpriv --reuid=0 --regid=0 --keep-groups env XDG_RUNTIME_DIR=$work/run XDG_DATA_HOME=$work/data HOME=$work"
floor="unshare --fork --pid --uts --ipc --mount --net --cgroup --mount-proc true"

names=(root rootless "root --rootfs" "rootless --rootfs" "unshare (root)" "unshare -r (user)")
cmds=(
    "$as_root $tool --network none --run true"
    "$as_user $tool --network none --run true"
    "$as_root $tool --network none --rootfs $work/rootfs --run true"
    "$as_user $tool --network none --rootfs $work/rootfs --run true"
    "$as_root $floor"
    "$as_user unshare --user --map-auto --map-root-user --fork --pid --uts --ipc --mount --net --cgroup --mount-proc true"
)
args=()
for i in "${!names[@]}"; do args+=(--command-name "${names[$i]}" "${cmds[$i]}"); done
hyperfine -N --warmup 20 --runs "$runs" --export-json "$work/times.json" "${args[@]}" >&2

# Images: the same busybox, pushed to a registry of our own on loopback.
. tests/bench/registry.sh
start_registry "$work"
umoci init --layout "$work/oci" >/dev/null
umoci new --image "$work/oci:bb" >/dev/null
umoci unpack --image "$work/oci:bb" "$work/bundle" >/dev/null
rm -rf "$work/bundle/rootfs" && "$tool" rootfs busybox "$work/bundle/rootfs" >/dev/null
umoci repack --image "$work/oci:bb" "$work/bundle" >/dev/null
rm -rf "$work/bundle"
ref=127.0.0.1:$port/bench/bb:1
skopeo copy --quiet --dest-tls-verify=false "oci:$work/oci:bb" "docker://$ref"
# Root's store beside the user's, each emptied before every pull (untimed).
root_store="env MCT_ROOT=$work/rootstore"
user_store=$work/data/my-container-tui
pull_names=("root pull" "rootless pull")
pull_cmds=("$as_root $root_store $tool pull -q $ref" "$as_user $tool pull -q $ref")
hyperfine -N --warmup 3 --runs "$pull_runs" --export-json "$work/pulls.json" \
    --command-name "${pull_names[0]}" --prepare "rm -rf $work/rootstore" "${pull_cmds[0]}" \
    --command-name "${pull_names[1]}" --prepare "rm -rf $user_store" "${pull_cmds[1]}" >&2
# Both stores hold the image now: runs of it.
image_names=("root --image" "rootless --image")
hyperfine -N --warmup 20 --runs "$runs" --export-json "$work/images.json" \
    --command-name "${image_names[0]}" "$as_root $root_store $tool --network none --image $ref --run true" \
    --command-name "${image_names[1]}" "$as_user $tool --network none --image $ref --run true" >&2

python3 - "$work/times.json" "$work/pulls.json" "$work/images.json" "$runs" "$pull_runs" <<'PY'
import json, sys
results = {}
for f in sys.argv[1:4]:
    results.update({r["command"]: r for r in json.load(open(f))["results"]})
runs, pull_runs = sys.argv[4], sys.argv[5]
print("| command | runs | median | mean ± σ | rootless / root (median) |")
print("|---|---|---|---|---|")
pairs = [("root", "rootless", runs), ("root --rootfs", "rootless --rootfs", runs),
         ("unshare (root)", "unshare -r (user)", runs), ("root pull", "rootless pull", pull_runs),
         ("root --image", "rootless --image", runs)]
for root, user, n in pairs:
    for name in (root, user):
        r = results[name]
        ratio = f"{r['median'] / results[root]['median']:.2f}×" if name == user else ""
        print(f"| {name} | {n} | {r['median']*1e3:.2f} ms | {r['mean']*1e3:.2f} ± {r['stddev']*1e3:.2f} ms | {ratio} |")
PY
