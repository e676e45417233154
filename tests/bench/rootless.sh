#!/usr/bin/env bash
# Rootless start-up: `--network none --run true` as the unprivileged user mct-rootless
# (tests/prepare.sh makes it) beside the same run as root, in one hyperfine run; the same on a
# busybox --rootfs (the user's own copy); and `unshare` as the user (its own user namespace
# and the rest, the kernel's floor) beside root's. Medians, as ratios to root's run.
#
#   sudo tests/bench/rootless.sh
#   RUNS=500 sudo tests/bench/rootless.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${RUNS:-200}
[ "$(id -u)" = 0 ] || { echo "rootless.sh: run it with sudo (it compares root's runs and a user's)" >&2; exit 125; }
command -v hyperfine >/dev/null || { echo "rootless.sh: needs hyperfine (apt-get install hyperfine)" >&2; exit 127; }
id mct-rootless >/dev/null 2>&1 || { echo "rootless.sh: no user mct-rootless: run tests/prepare.sh" >&2; exit 125; }

cargo build --release --quiet
work=$(mktemp -d /tmp/mct-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
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

python3 - "$work/times.json" "$runs" <<'PY'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
print(f"| command ({sys.argv[2]} runs each) | median | mean ± σ | rootless / root (median) |")
print("|---|---|---|---|")
for root, user in [("root", "rootless"), ("root --rootfs", "rootless --rootfs"), ("unshare (root)", "unshare -r (user)")]:
    for name in (root, user):
        r = results[name]
        ratio = f"{r['median'] / results[root]['median']:.2f}×" if name == user else ""
        print(f"| {name} | {r['median']*1e3:.2f} ms | {r['mean']*1e3:.2f} ± {r['stddev']*1e3:.2f} ms | {ratio} |")
PY
