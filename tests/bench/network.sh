#!/usr/bin/env bash
# Network benchmark, in network and mount namespaces of its own (no packet leaves them, and
# the host's bridges, rules and lease record are not touched), each figure against a peer in
# the same run, as ratios:
#   1. start-up of `--run true`: bridged (the default) against `--network none`, and both
#      against `unshare` making the same namespaces; bridged twice: as the only container (its
#      start brings the bridge, the nftables table and ip_forward up, its cleaner takes them
#      down) and beside a container that keeps the bridge up, back to back and spaced apart;
#   2. throughput: iperf3 from a bridged container to the host's end (the bridge's address),
#      against iperf3 host to host over lo.
#
#   sudo tests/bench/network.sh            # needs root, hyperfine, iperf3, nft, python3
#   RUNS=300 SECONDS_EACH=10 sudo tests/bench/network.sh
#   BASELINE=/path/to/older/my-container-tui sudo tests/bench/network.sh
#                                           # adds an older build's bridged starts, as ratios
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${RUNS:-200}
seconds=${SECONDS_EACH:-5}
[ "$(id -u)" = 0 ] || { echo "network.sh: needs root: run with sudo" >&2; exit 125; }
for c in hyperfine iperf3 nft python3; do
    command -v $c >/dev/null || { echo "network.sh: needs $c" >&2; exit 127; }
done

if [ -z "${MCT_BENCH_WORLD:-}" ]; then
    cargo build --release --quiet
    exec unshare --net --mount --propagation private env MCT_BENCH_WORLD=1 "$0" "$@"
fi

# Inside the world: an empty /run (the tool's state), loopback up.
mount -t tmpfs -o mode=0755 mct-bench /run
ip link set lo up
tool=$PWD/target/release/my-container-tui
export MCT_ROOT=/run/mct-bench-root
cleanup() {
    set +e
    "$tool" rm -f mct-bench-keeper >/dev/null 2>&1
    pkill -f 'iperf3 -s -p 5201' 2>/dev/null
}
trap cleanup EXIT

echo "== start-up: --run true (${runs} runs each)"
hyperfine -N --warmup 10 --runs "$runs" --export-json /run/start-alone.json \
    -n "network none" "$tool --network none --run true" \
    -n "bridge, alone" "$tool --run true" \
    -n "unshare" "unshare --fork --pid --net --mount --uts --ipc --cgroup --mount-proc true"
"$tool" run -d --name mct-bench-keeper sleep 1000 >/dev/null
hyperfine -N --warmup 10 --runs "$runs" --export-json /run/start-up.json \
    -n "network none" "$tool --network none --run true" \
    -n "bridge, bridge up" "$tool --run true"
# Spaced 50 ms apart: each start alone on the CPUs, without the previous run's cleaner and
# the kernel's namespace teardown (a veth pair's is the costlier) competing with it.
hyperfine -N --warmup 10 --runs "$runs" --prepare 'sleep 0.05' --export-json /run/start-spaced.json \
    -n "network none" "$tool --network none --run true" \
    -n "bridge, bridge up" "$tool --run true"
"$tool" rm -f mct-bench-keeper >/dev/null

python3 - /run/start-alone.json /run/start-up.json /run/start-spaced.json <<'PY'
import json, sys
alone = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
up = {r["command"]: r for r in json.load(open(sys.argv[2]))["results"]}
ms = lambda r: r["mean"] * 1000
none, bridge_alone, unshare = alone["network none"], alone["bridge, alone"], alone["unshare"]
none_up, bridge_up = up["network none"], up["bridge, bridge up"]
print(f"none {ms(none):.1f} ms, bridge alone {ms(bridge_alone):.1f} ms, unshare {ms(unshare):.1f} ms")
print(f"bridge alone / none: {ms(bridge_alone)/ms(none):.2f}x; none / unshare: {ms(none)/ms(unshare):.2f}x; bridge alone / unshare: {ms(bridge_alone)/ms(unshare):.2f}x")
print(f"with the bridge up: none {ms(none_up):.1f} ms, bridge {ms(bridge_up):.1f} ms: {ms(bridge_up)/ms(none_up):.2f}x")
spaced = {r["command"]: r for r in json.load(open(sys.argv[3]))["results"]}
none_s, bridge_s = spaced["network none"], spaced["bridge, bridge up"]
print(f"spaced 50 ms apart, bridge up: none {ms(none_s):.1f} ms, bridge {ms(bridge_s):.1f} ms: {ms(bridge_s)/ms(none_s):.2f}x")
PY

if [ -n "${BASELINE:-}" ]; then
    echo "== against the baseline build: bridged --run true (${runs} runs each)"
    hyperfine -N --warmup 10 --runs "$runs" --export-json /run/base-alone.json \
        -n "this build, alone" "$tool --run true" \
        -n "baseline, alone" "$BASELINE --run true"
    "$tool" run -d --name mct-bench-keeper sleep 1000 >/dev/null
    hyperfine -N --warmup 10 --runs "$runs" --export-json /run/base-up.json \
        -n "this build, bridge up" "$tool --run true" \
        -n "baseline, bridge up" "$BASELINE --run true"
    "$tool" rm -f mct-bench-keeper >/dev/null
    python3 - /run/base-alone.json /run/base-up.json <<'PY'
import json, sys
for path, what in ((sys.argv[1], "alone"), (sys.argv[2], "bridge up")):
    r = {x["command"]: x["mean"] * 1000 for x in json.load(open(path))["results"]}
    ours, base = r[f"this build, {what}"], r[f"baseline, {what}"]
    print(f"bridged, {what}: this build {ours:.1f} ms, baseline {base:.1f} ms: {ours/base:.2f}x")
PY
fi

echo "== throughput: iperf3, ${seconds} s each"
iperf3 -s -p 5201 -D >/dev/null
sleep 0.3
bits() { python3 -c 'import json,sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"])'; }
lo=$(iperf3 -c 127.0.0.1 -p 5201 -t "$seconds" -J | bits)
gateway=172.17.0.1
veth=$("$tool" --run sh -c "iperf3 -c $gateway -p 5201 -t $seconds -J" | bits)
python3 - "$lo" "$veth" <<'PY'
import sys
lo, veth = float(sys.argv[1]), float(sys.argv[2])
print(f"host to host over lo: {lo/1e9:.2f} Gbit/s; container to host over the veth and bridge: {veth/1e9:.2f} Gbit/s: {veth/lo:.2f}x")
PY
