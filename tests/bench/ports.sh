#!/usr/bin/env bash
# Published ports against podman's (CNI's portmap, as root), in network and mount namespaces of
# their own (no packet leaves them; the host's bridges, rules and our lease record are not
# touched), each figure against its peer in the same run:
#   1. HTTP fetches: busybox httpd in a container published with `-p`, 200 GETs from the host
#      to 127.0.0.1:PORT, each on a new connection, ours and podman's in turn, 5 rounds; and
#      the same to the container's own address (no DNAT: the floor of the path);
#   2. throughput through the published port: iperf3 in the container, the client on the
#      host to 127.0.0.1:PORT, against iperf3 host to host over lo;
#   3. throughput container to host through the veth and bridge (ours and podman's), against lo,
#      and ours on a network made with `-o mtu=65520` (lo's own MTU is 65536).
#
#   sudo tests/bench/ports.sh             # needs root, podman, iperf3, busybox, python3, curl
#   SECONDS_EACH=10 ROUNDS=9 sudo tests/bench/ports.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${SECONDS_EACH:-5}
rounds=${ROUNDS:-5}
[ "$(id -u)" = 0 ] || { echo "ports.sh: needs root: run with sudo" >&2; exit 125; }
for c in podman iperf3 busybox python3 curl; do
    command -v $c >/dev/null || { echo "ports.sh: needs $c" >&2; exit 127; }
done

if [ -z "${MCT_BENCH_WORLD:-}" ]; then
    cargo build --release --quiet
    work=$(mktemp -d /tmp/mct-bench-ports.XXXXXX)
    # Gone however the run ends (an interrupted run left its podman store behind).
    trap 'rm -rf "$work"' EXIT
    trap 'exit 130' INT TERM
    # Its status is the script's (set -e); the trap removes the scratch either way.
    MCT_BENCH_WORLD=$work unshare --net --mount --propagation private "$0" "$@"
    exit 0
fi

# Inside the world: an empty /run (both tools' state), loopback up.
work=$MCT_BENCH_WORLD
mount -t tmpfs -o mode=0755 mct-bench /run
ip link set lo up
tool=$PWD/target/release/my-container-tui
export MCT_ROOT=/run/mct-bench-root
podman=(podman --root "$work/podman" --runroot /run/podman-run --cgroup-manager cgroupfs
    --events-backend file)
cleanup() {
    set +e
    "$tool" rm -f mct-bench-web mct-bench-iperf >/dev/null 2>&1
    "${podman[@]}" rm -f -t 0 web iperf >/dev/null 2>&1
    pkill -f 'iperf3 -s -p 5201' 2>/dev/null
}
trap cleanup EXIT

# A busybox root with the host's /usr beside it (iperf3 and its libraries, read-only).
rootfs=$work/rootfs
mkdir -p "$rootfs/bin" "$rootfs/www" "$rootfs/usr" "$rootfs/tmp"
chmod 1777 "$rootfs/tmp"
cp "$(command -v busybox)" "$rootfs/bin/busybox"
for c in sh httpd sleep; do ln -s busybox "$rootfs/bin/$c"; done
ln -s usr/lib "$rootfs/lib"
ln -s usr/lib64 "$rootfs/lib64"
head -c 600 /dev/urandom | base64 > "$rootfs/www/index.html"
# podman's runc sets these rlimits and this host refuses its defaults.
limits=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)

"$tool" run -d --name mct-bench-web -p 18080:80 --rootfs "$rootfs" httpd -f -p 80 -h /www >/dev/null
"${podman[@]}" run -d "${limits[@]}" --name web -p 18081:80 --rootfs "$rootfs" httpd -f -p 80 -h /www >/dev/null
ours_ip=$("$tool" inspect --format '{{.NetworkSettings.IPAddress}}' mct-bench-web)
theirs_ip=$("${podman[@]}" inspect --format '{{.NetworkSettings.IPAddress}}' web)
for url in http://127.0.0.1:18080/ http://127.0.0.1:18081/; do
    for _ in $(seq 50); do curl -sf -o /dev/null "$url" && break; sleep 0.1; done
done

echo "== 200 HTTP fetches, a connection each, $rounds rounds (median)"
python3 - "$rounds" "$ours_ip" "$theirs_ip" <<'PY'
import http.client, statistics, sys, time
rounds, ours_ip, theirs_ip = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def fetches(host, port, n=200):
    start = time.perf_counter()
    for _ in range(n):
        c = http.client.HTTPConnection(host, port, timeout=5)
        c.request("GET", "/")
        r = c.getresponse()
        assert r.status == 200, r.status
        r.read()
        c.close()
    return (time.perf_counter() - start) * 1000
targets = {
    "ours, -p on 127.0.0.1": ("127.0.0.1", 18080),
    "podman, -p on 127.0.0.1": ("127.0.0.1", 18081),
    "ours, the container's address": (ours_ip, 80),
    "podman, the container's address": (theirs_ip, 80),
}
times = {k: [] for k in targets}
for _ in range(rounds):
    for name, (host, port) in targets.items():
        times[name].append(fetches(host, port))
med = {k: statistics.median(v) for k, v in times.items()}
for k, v in med.items():
    print(f"{k}: {v:.0f} ms")
print(f"-p: ours / podman {med['ours, -p on 127.0.0.1'] / med['podman, -p on 127.0.0.1']:.2f}x; "
      f"direct: ours / podman {med['ours, the container' + chr(39) + 's address'] / med['podman, the container' + chr(39) + 's address']:.2f}x")
PY
"$tool" rm -f mct-bench-web >/dev/null
"${podman[@]}" rm -f -t 0 web >/dev/null

bits() { python3 -c 'import json,sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"])'; }
echo "== throughput: iperf3, ${seconds} s each, $rounds rounds in turn (median)"
iperf3 -s -p 5201 -D >/dev/null
"$tool" network create jumbo -o mtu=65520 >/dev/null
jumbo_gw=$("$tool" network inspect jumbo | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Gateway"])')
# iperf3 servers behind published ports.
"$tool" run -d --name mct-bench-iperf -p 15201:5201 -v /usr:/usr:ro --rootfs "$rootfs" iperf3 -s -p 5201 >/dev/null
"${podman[@]}" run -d "${limits[@]}" --name iperf -p 15202:5201 -v /usr:/usr:ro --rootfs "$rootfs" iperf3 -s -p 5201 >/dev/null
sleep 0.5
ours=("$tool" run --rm -v /usr:/usr:ro --rootfs "$rootfs")
theirs=("${podman[@]}" run --rm "${limits[@]}" -v /usr:/usr:ro --rootfs "$rootfs")
results=$work/throughput
: > "$results"
for _ in $(seq "$rounds"); do
    echo "lo $(iperf3 -c 127.0.0.1 -p 5201 -t "$seconds" -J | bits)" >> "$results"
    echo "ours_out $("${ours[@]}" iperf3 -c 172.17.0.1 -p 5201 -t "$seconds" -J | bits)" >> "$results"
    echo "theirs_out $("${theirs[@]}" iperf3 -c 10.88.0.1 -p 5201 -t "$seconds" -J | bits)" >> "$results"
    echo "jumbo_out $("$tool" run --rm --network jumbo -v /usr:/usr:ro --rootfs "$rootfs" iperf3 -c "$jumbo_gw" -p 5201 -t "$seconds" -J | bits)" >> "$results"
    echo "ours_in $(iperf3 -c 127.0.0.1 -p 15201 -t "$seconds" -J | bits)" >> "$results"
    echo "theirs_in $(iperf3 -c 127.0.0.1 -p 15202 -t "$seconds" -J | bits)" >> "$results"
done
"$tool" rm -f mct-bench-iperf >/dev/null
"$tool" network rm jumbo >/dev/null
python3 - "$results" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    key, value = line.split()
    runs.setdefault(key, []).append(float(value) / 1e9)
m = {k: statistics.median(v) for k, v in runs.items()}
lo = m["lo"]
print(f"host to host over lo: {lo:.1f} Gbit/s")
print(f"container to host: ours {m['ours_out']:.1f} Gbit/s ({m['ours_out']/lo:.2f}x lo), "
      f"podman {m['theirs_out']:.1f} ({m['theirs_out']/lo:.2f}x lo): ours/podman {m['ours_out']/m['theirs_out']:.2f}x")
print(f"container to host, network with -o mtu=65520: {m['jumbo_out']:.1f} Gbit/s ({m['jumbo_out']/lo:.2f}x lo)")
print(f"host to a published port on 127.0.0.1: ours {m['ours_in']:.1f} Gbit/s ({m['ours_in']/lo:.2f}x lo), "
      f"podman {m['theirs_in']:.1f} ({m['theirs_in']/lo:.2f}x lo): ours/podman {m['ours_in']/m['theirs_in']:.2f}x")
PY
