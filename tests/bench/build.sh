#!/usr/bin/env bash
# `build` against `podman build` (buildah) on the same machine, in one run, as ratios:
# a two-stage Dockerfile on a Debian minbase (a RUN that writes 50 MB, a COPY of a 1,000-file
# context, a COPY --from the first stage), built cold (--no-cache) and again with the cache.
# Both tools keep their stores on one tmpfs, get the base by `import` of the same tarball,
# and run RUN steps on their default network.
#
#   sudo tests/bench/build.sh         # needs root, hyperfine, podman, mmdebstrap (or DEBIAN_TAR)
#   RUNS=10 sudo tests/bench/build.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${RUNS:-5}
[ "$(id -u)" = 0 ] || { echo "build.sh: needs root: run with sudo" >&2; exit 125; }
for c in hyperfine podman python3; do
    command -v $c >/dev/null || { echo "build.sh: needs $c" >&2; exit 127; }
done
cargo build --release --quiet
tool=$PWD/target/release/my-container-tui
work=$(mktemp -d /tmp/mct-bench-build.XXXXXX)
export MCT_ROOT=$work/root MCT_NAMESPACE=bench-build
podman=(podman --root "$work/podman/root" --runroot "$work/podman/run" --storage-driver overlay)
cleanup() {
    set +e
    "${podman[@]}" system reset -f >/dev/null 2>&1
    umount -R "$work" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
mount -t tmpfs -o size=${TMPFS_SIZE:-4g} mct-bench "$work"

deb=${DEBIAN_TAR:-}
if [ -z "$deb" ]; then
    deb=$work/debian.tar
    unshare --mount --propagation private \
        mmdebstrap --quiet --variant=minbase --mode=root --format=tar bookworm "$deb"
fi
"$tool" import "$deb" bench/deb:1 >/dev/null
"${podman[@]}" import -q "$deb" localhost/bench/deb:1 >/dev/null

ctx=$work/ctx
mkdir -p "$ctx"
python3 - "$ctx" <<'PY'
import os, sys
ctx = sys.argv[1]
for d in range(10):
    os.makedirs(f"{ctx}/files/d{d}", exist_ok=True)
    for f in range(100):
        with open(f"{ctx}/files/d{d}/f{f}.txt", "w") as out:
            out.write(f"file {d}/{f}\n" * 64)
PY
cat > "$ctx/Dockerfile" <<'DOCKERFILE'
ARG BASE
FROM $BASE AS build
RUN head -c 50000000 /dev/urandom > /big && sha256sum /big > /big.sum
COPY files/ /ctx/
RUN find /ctx -type f | wc -l > /ctx.count

FROM $BASE
COPY --from=build /big.sum /ctx.count /
COPY files/ /app/
CMD ["cat", "/ctx.count"]
DOCKERFILE

ours="$tool build -q --build-arg BASE=bench/deb:1"
theirs="${podman[*]} build -q --build-arg BASE=localhost/bench/deb:1"
echo "== cold (--no-cache): ours against podman build"
hyperfine --runs "$runs" --warmup 1 --export-json "$work/cold.json" \
    -n ours "$ours --no-cache -t bench/out:cold $ctx" \
    -n podman "$theirs --no-cache -t bench/out:cold $ctx"
echo "== cached (nothing changed): ours against podman build"
$ours -t bench/out:1 "$ctx" >/dev/null
$theirs -t bench/out:1 "$ctx" >/dev/null
hyperfine --runs "$((runs * 4))" --warmup 1 --export-json "$work/cached.json" \
    -n ours "$ours -t bench/out:1 $ctx" \
    -n podman "$theirs -t bench/out:1 $ctx"
# Both images say the same.
a=$("$tool" run --rm --network none bench/out:1)
b=$("${podman[@]}" run --rm --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --network none localhost/bench/out:1)
[ "$a" = "$b" ] && [ "$a" = 1000 ] || { echo "build.sh: the images differ: '$a' against '$b'" >&2; exit 1; }
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
for name in ("cold", "cached"):
    r = {x["command"]: x for x in json.load(open(f"{work}/{name}.json"))["results"]}
    (a, b) = list(r)
    print(f"{name}: ours {r[a]['median']*1000:.0f} ms, {b} {r[b]['median']*1000:.0f} ms: {r[a]['median']/r[b]['median']:.2f}x")
PY
