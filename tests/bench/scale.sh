#!/usr/bin/env bash
# Scale benchmark: what one more container costs on a host that already runs many. Idle
# detached containers (`sleep`) are started up to each level (0, 100, 500, 1000 by default),
# on `--network none` and then on the default bridge, and at each level:
#  - a `--network none --run true` start: median wall time (hyperfine) and the syscalls of
#    everything it starts, its cleaner included (strace -f waits for every one of them);
#  - `ps` and `ps -a`, and `exec true` into one of the idle containers (hyperfine medians);
#  - the memory the idle containers cost: the PSS of every process of ours (monitor, helper,
#    cleaner), per container;
#  - at the top level, `stop -t 1` of all of them in parallel, and `rm -f` of all; then that
#    nothing is left (records, cgroups, veths, leases).
# Its containers live in a namespace of their own (MCT_NAMESPACE) and are removed at the end.
#
#   sudo tests/bench/scale.sh                  # needs root, hyperfine, strace
#   LEVELS="0 100" MODES=none sudo tests/bench/scale.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(id -u)" = 0 ] || { echo "scale.sh: needs root: run with sudo" >&2; exit 125; }
for p in hyperfine strace; do
    command -v $p >/dev/null || { echo "scale.sh: needs $p (apt-get install $p)" >&2; exit 127; }
done
levels=${LEVELS:-0 100 500 1000}
modes=${MODES:-none bridge}
runs=${RUNS:-20}
cargo build --release --quiet
tool=$PWD/target/release/my-container-tui
export MCT_NAMESPACE=scale-bench-$$
work=$(mktemp -d /tmp/mct-scale.XXXXXX)
cleanup() {
    ids=$("$tool" ps -aq)
    [ -z "$ids" ] || echo "$ids" | xargs -r -n 100 "$tool" rm -f >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
veths_before=$({ ip -o link show type veth 2>/dev/null || true; } | wc -l)

median() { # hyperfine's median of one command, in ms
    hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/h.json" "$1" >/dev/null 2>&1
    python3 -c "import json; print('%.1f' % (json.load(open('$work/h.json'))['results'][0]['median']*1000))"
}
syscalls() { # syscalls of a start and everything it started (strace waits for the cleaner)
    strace -f -c -o "$work/strace" "$tool" --network none --run true >/dev/null 2>&1
    awk '/total$/ {print $(NF-2)}' "$work/strace"
}
pss_per_container() { # KiB of PSS of our processes (monitors, helpers, cleaners) per container
    local n=$1 total=0
    [ "$n" = 0 ] && { echo "-"; return; }
    for pid in $(pgrep -x my-container-tu); do
        [ -r "/proc/$pid/smaps_rollup" ] || continue
        kb=$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null || echo 0)
        total=$((total + ${kb:-0}))
    done
    echo "$((total / n))"
}

echo "| network | idle containers | start (ms) | start syscalls | ps (ms) | ps -a (ms) | exec (ms) | PSS per container (KiB) |"
echo "|---|---|---|---|---|---|---|---|"
for mode in $modes; do
    net=()
    [ "$mode" = none ] && net=(--network none)
    have=0
    for level in $levels; do
        # Started eight at a time, as a CI runner's jobs would come.
        if [ "$level" -gt "$have" ]; then
            seq "$have" $((level - 1)) | xargs -P 8 -I{} "$tool" run -d "${net[@]}" sleep 100000 >/dev/null
            have=$level
        fi
        sleep 2
        target=$("$tool" ps -q | head -n 1)
        exec_ms=-
        [ -n "$target" ] && exec_ms=$(median "$tool exec $target true")
        echo "| $mode | $level | $(median "$tool --network none --run true") | $(syscalls) | $(median "$tool ps") | $(median "$tool ps -a") | $exec_ms | $(pss_per_container "$level") |"
    done
    if [ "$have" -gt 0 ]; then
        if [ "$mode" = bridge ]; then
            addresses=$("$tool" ps -q | xargs -n 1 "$tool" inspect --format '{{.NetworkSettings.IPAddress}}' | sort -u | grep -c . || true)
            echo "bridge: $have containers, $addresses distinct addresses" >&2
        fi
        start=$(date +%s.%N)
        "$tool" ps -q | xargs -P 8 -n 25 "$tool" stop -t 1 >/dev/null
        stopped=$(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $start }")
        start=$(date +%s.%N)
        "$tool" ps -aq | xargs -P 8 -n 25 "$tool" rm -f >/dev/null
        removed=$(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $start }")
        echo "$mode: stop of $have in parallel ${stopped}s, rm -f of all ${removed}s" >&2
        sleep 3
        left=$({ ls /run/my-container-tui/containers 2>/dev/null || true; } | wc -l)
        veths=$(( $({ ip -o link show type veth 2>/dev/null || true; } | wc -l) - veths_before ))
        leases=$({ ls /run/my-container-tui/net 2>/dev/null || true; } | wc -l)
        echo "$mode: left after rm -f: $left records, $veths veths, $leases lease files" >&2
    fi
done
