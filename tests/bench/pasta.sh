#!/usr/bin/env bash
# Rootless networking's throughput: a container receives N MiB on a published port (busybox
# nc, its output to /dev/null) sent by the host to 127.0.0.1:PORT: a rootless container on
# pasta (the user mct-rootless, which tests/prepare.sh makes) and one on a network the user
# made (its port carried by our proxy) against root's on the bridge, in one run,
# alternating, ROUNDS rounds each; and nc host to host over lo as the floor.
# Traffic stays on loopback, the bridge and the containers' namespaces. (iperf3's server,
# run in a user namespace, closes its control connection: one sink measures both.)
#
#   sudo tests/bench/pasta.sh
#   MIB=8192 ROUNDS=9 sudo tests/bench/pasta.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
mib=${MIB:-4096}
rounds=${ROUNDS:-5}
[ "$(id -u)" = 0 ] || { echo "pasta.sh: run it with sudo (it compares root's container and a user's)" >&2; exit 125; }
for c in pasta python3 busybox; do
    command -v $c >/dev/null || { echo "pasta.sh: needs $c" >&2; exit 127; }
done
id mct-rootless >/dev/null 2>&1 || { echo "pasta.sh: no user mct-rootless: run tests/prepare.sh" >&2; exit 125; }

cargo build --release --quiet
work=$(mktemp -d /tmp/mct-bench.XXXXXX)
chmod 755 "$work"
mkdir -p "$work/bin" "$work/run" "$work/data"
cp target/release/my-container-tui "$work/bin/"
tool=$work/bin/my-container-tui
"$tool" rootfs busybox "$work/rootfs" >/dev/null
chown -R -h mct-rootless: "$work/run" "$work/data" "$work/rootfs"
as_user=(setpriv --reuid=mct-rootless --regid=mct-rootless --clear-groups --inh-caps=-all env "XDG_RUNTIME_DIR=$work/run" "XDG_DATA_HOME=$work/data" "HOME=$work")
export MCT_NAMESPACE=mct-bench-pasta
sink='while true; do nc -l -p 5201 > /dev/null; done'
cleanup() {
    "${as_user[@]}" "$tool" rm -f mct-bench-pasta mct-bench-usernet >/dev/null 2>&1 || true
    "${as_user[@]}" "$tool" network rm mct-bench-net >/dev/null 2>&1 || true
    "$tool" rm -f mct-bench-bridge >/dev/null 2>&1 || true
    [ -n "${lo_pid:-}" ] && { pkill -P "$lo_pid" 2>/dev/null; kill "$lo_pid" 2>/dev/null; } || true
    rm -rf "$work"
}
trap cleanup EXIT

"${as_user[@]}" "$tool" run -d --name mct-bench-pasta -p 127.0.0.1:15201:5201 --rootfs "$work/rootfs" sh -c "$sink" >/dev/null
"$tool" run -d --name mct-bench-bridge -p 127.0.0.1:15202:5201 --rootfs "$work/rootfs" sh -c "$sink" >/dev/null
"${as_user[@]}" "$tool" network create mct-bench-net >/dev/null
"${as_user[@]}" "$tool" run -d --name mct-bench-usernet --network mct-bench-net -p 127.0.0.1:15203:5201 --rootfs "$work/rootfs" sh -c "$sink" >/dev/null
(while true; do busybox nc -l -p 15299 > /dev/null; done) & lo_pid=$!
# The loop's nc is its child: ended with it.
sleep 1

# Gbit/s sending $mib MiB to 127.0.0.1:$1, counted until the receiver has closed (it has
# read everything): python, as busybox nc does not end its side when its input ends.
send() {
    python3 - "$1" "$mib" <<'PY'
import socket, sys, time
port, mib = int(sys.argv[1]), int(sys.argv[2])
chunk = bytes(8 << 20)
s = socket.create_connection(("127.0.0.1", port))
start = time.perf_counter()
for _ in range(mib // 8):
    s.sendall(chunk)
s.shutdown(socket.SHUT_WR)
while s.recv(65536):
    pass
print(f"{mib * 8 * 1.048576 / 1000 / (time.perf_counter() - start):.3f}", end=" ")
PY
}
pasta_runs= usernet_runs= bridge_runs= lo_runs=
for _ in $(seq "$rounds"); do
    pasta_runs+=$(send 15201)
    usernet_runs+=$(send 15203)
    bridge_runs+=$(send 15202)
    lo_runs+=$(send 15299)
done
python3 - "$mib" "$rounds" "$pasta_runs" "$usernet_runs" "$bridge_runs" "$lo_runs" <<'PY'
import statistics, sys
mib, rounds = sys.argv[1], sys.argv[2]
rows = {"pasta (rootless)": sys.argv[3], "the user's network, our proxy (rootless)": sys.argv[4],
        "bridge (root)": sys.argv[5], "lo, host to host": sys.argv[6]}
med = {k: statistics.median(float(x) for x in v.split()) for k, v in rows.items()}
print(f"| {mib} MiB, host to 127.0.0.1:PORT ({rounds} rounds) | median Gbit/s | to the bridge's |")
print("|---|---|---|")
for k, m in med.items():
    print(f"| {k} | {m:.2f} | {m / med['bridge (root)']:.2f}× |")
PY
