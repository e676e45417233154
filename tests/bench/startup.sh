#!/usr/bin/env bash
# Start-up benchmark: `my-container-tui --run true` side by side with `unshare` (same namespaces,
# fresh /proc) and, when installed, runc and crun running `true` from a busybox rootfs.
# One hyperfine run, medians reported as ratios to unshare.
#
#   sudo tests/bench/startup.sh            # needs root, hyperfine; runc/crun/busybox optional
#   RUNS=500 sudo tests/bench/startup.sh
#   BASELINE=/path/to/older/my-container-tui sudo tests/bench/startup.sh
#                                           # adds an older build's rows, to price a change
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${RUNS:-300}
[ "$(id -u)" = 0 ] || { echo "startup.sh: needs root (namespaces): run with sudo" >&2; exit 125; }
command -v hyperfine >/dev/null || { echo "startup.sh: needs hyperfine (apt-get install hyperfine)" >&2; exit 127; }

cargo build --release --quiet
tool=$PWD/target/release/my-container-tui
work=$(mktemp -d /tmp/mct-bench.XXXXXX)
cleanup() {
    for rt in runc crun; do command -v $rt >/dev/null && $rt delete -f mct-bench-$rt >/dev/null 2>&1 || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# `-t` forces a pty, so that row takes the dashboard's path: the re-exec helper on portable-pty.
names=(unshare my-container-tui "my-container-tui -t")
cmds=("unshare --fork --pid --uts --ipc --mount --net --cgroup --mount-proc true" "$tool --run true" "$tool -t --run true")
notes=()
if [ -n "${BASELINE:-}" ]; then
    names+=("baseline" "baseline -t"); cmds+=("$BASELINE --run true" "$BASELINE -t --run true")
fi

# An OCI bundle for runc and crun: static busybox as the rootfs, `true` as the process.
busybox=$(command -v busybox || true)
if [ -n "$busybox" ]; then
    mkdir -p "$work/bundle/rootfs/bin"
    cp "$busybox" "$work/bundle/rootfs/bin/busybox"
    ln -s busybox "$work/bundle/rootfs/bin/true"
    (cd "$work/bundle" && { runc spec 2>/dev/null || crun spec 2>/dev/null || echo '{}' > config.json; })
    # Ours on the same rootfs (a copy-on-write overlay over it, pivot_root, /dev, hardening).
    names+=("my-container-tui --rootfs"); cmds+=("$tool --rootfs $work/bundle/rootfs --run true")
    if [ -n "${BASELINE:-}" ]; then
        names+=("baseline --rootfs"); cmds+=("$BASELINE --rootfs $work/bundle/rootfs --run true")
    fi
    sed -i -e 's/"terminal": true/"terminal": false/' -e 's/"sh"/"true"/' "$work/bundle/config.json"
    for rt in runc crun; do
        command -v $rt >/dev/null || { notes+=("$rt: not installed"); continue; }
        if err=$($rt run --bundle "$work/bundle" mct-bench-$rt 2>&1 </dev/null); then
            names+=("$rt"); cmds+=("$rt run --bundle $work/bundle mct-bench-$rt")
        else
            notes+=("$rt: refuses to run here: $(echo "$err" | tail -n 1)")
        fi
    done
else
    notes+=("runc, crun: skipped, no busybox for a rootfs (apt-get install busybox-static)")
fi

args=()
for i in "${!names[@]}"; do args+=(--command-name "${names[$i]}" "${cmds[$i]}"); done
hyperfine -N --warmup 20 --runs "$runs" --export-json "$work/times.json" "${args[@]}" >&2

python3 - "$work/times.json" "$runs" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
base = next(r["median"] for r in results if r["command"] == "unshare")
print(f"| command ({sys.argv[2]} runs each) | median | mean ± σ | ratio to unshare (median) |")
print("|---|---|---|---|")
for r in results:
    print(f"| {r['command']} | {r['median']*1e3:.2f} ms | {r['mean']*1e3:.2f} ± {r['stddev']*1e3:.2f} ms | {r['median']/base:.2f}× |")
PY
for n in "${notes[@]}"; do echo "- $n"; done
