#!/usr/bin/env bash
# Lifecycle benchmark, in one run:
#   - `exec true` into a running container beside `nsenter --all -t PID1 true` (the same
#     namespaces, no cgroup, no hardening, no pty), as a ratio;
#   - `ps` with 100 containers beside `ps` with one;
#   - re-attaching a dashboard to 20 running containers: from its start until every one of
#     the 20 screens has been shown with its marker (visited with prefix n), in tmux.
# Everything runs in a container namespace of its own (MCT_NAMESPACE) and is removed at the end.
#
#   sudo tests/bench/lifecycle.sh           # needs root, hyperfine, tmux
#   RUNS=300 sudo tests/bench/lifecycle.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${RUNS:-200}
[ "$(id -u)" = 0 ] || { echo "lifecycle.sh: needs root (namespaces): run with sudo" >&2; exit 125; }
for c in hyperfine tmux nsenter; do
    command -v $c >/dev/null || { echo "lifecycle.sh: needs $c" >&2; exit 127; }
done

cargo build --release --quiet
tool=$PWD/target/release/my-container-tui
export MCT_NAMESPACE=bench-$$
work=$(mktemp -d /tmp/mct-bench.XXXXXX)
sock=mct-bench-$$
cleanup() {
    tmux -L "$sock" kill-server 2>/dev/null || true
    rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$sock"
    ids=$("$tool" ps -aq)
    [ -z "$ids" ] || "$tool" rm -f $ids >/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

# exec against nsenter, into one container.
"$tool" run -d --name target sleep 100000 >/dev/null
pid=$("$tool" inspect target | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["State"]["Pid"])')
hyperfine -N --warmup 20 --runs "$runs" --export-json "$work/exec.json" \
    --command-name "nsenter --all" "nsenter --all -t $pid true" \
    --command-name "my-container-tui exec" "$tool exec target true" >&2

# ps with one container, then with 100.
hyperfine -N --warmup 10 --runs "$runs" --export-json "$work/ps1.json" \
    --command-name "ps (1 container)" "$tool ps" >&2
for i in $(seq 1 99); do "$tool" run -d sleep 100000 >/dev/null; done
hyperfine -N --warmup 10 --runs "$runs" --export-json "$work/ps100.json" \
    --command-name "ps (100 containers)" "$tool ps" >&2
ids=$("$tool" ps -aq)
"$tool" rm -f $ids >/dev/null

# 20 terminals with a marker each; a dashboard opened on them.
for i in $(seq 1 20); do
    "$tool" run -d -t --name "s$i" sh -c "echo screen-marker-$i; exec sleep 100000" >/dev/null
done
sleep 0.5
start=$(date +%s%N)
tmux -L "$sock" -f /dev/null new-session -d -s bench -x 160 -y 50 "$tool"
seen=0
for i in $(seq 1 20); do
    until tmux -L "$sock" capture-pane -p -t bench | grep -q "screen-marker-$i "; do
        now=$(date +%s%N)
        if [ $(( (now - start) / 1000000 )) -gt 10000 ]; then echo "screen $i never came back" >&2; exit 1; fi
        sleep 0.005
    done
    seen=$((seen + 1))
    [ "$i" = 20 ] || tmux -L "$sock" send-keys -t bench C-a n
done
end=$(date +%s%N)
reattach_ms=$(( (end - start) / 1000000 ))
tmux -L "$sock" send-keys -t bench C-a d

python3 - "$work" "$runs" "$reattach_ms" "$seen" <<'PY'
import json, sys
work, runs, reattach, seen = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
def results(name):
    return json.load(open(f"{work}/{name}.json"))["results"]
exec_rows = results("exec")
base = exec_rows[0]["median"]
print(f"| command ({runs} runs each) | median | mean ± σ | ratio |")
print("|---|---|---|---|")
for r in exec_rows:
    print(f"| {r['command']} | {r['median']*1e3:.2f} ms | {r['mean']*1e3:.2f} ± {r['stddev']*1e3:.2f} ms | {r['median']/base:.2f}× nsenter |")
ps1 = results("ps1")[0]
for r in [ps1, results("ps100")[0]]:
    print(f"| {r['command']} | {r['median']*1e3:.2f} ms | {r['mean']*1e3:.2f} ± {r['stddev']*1e3:.2f} ms | {r['median']/ps1['median']:.2f}× ps (1) |")
print(f"| dashboard re-attached to 20 containers, all {seen} screens shown | {reattach} ms | (one run) | |")
PY
