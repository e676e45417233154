#!/usr/bin/env bash
# Images made here, against a peer doing the same work, in one run, as ratios:
#   1. push of a ~60 MB image (busybox and a layer of 60 MB that does not compress) to a
#      registry on loopback, into a fresh repository each time, against `skopeo copy` of the
#      same image from an OCI layout;
#   2. commit of a container that wrote those 60 MB (the layer tar, gzip, and the unpacked
#      copy in the store, one pass), against `tar -cz` of the same upper directory alone.
#
#   sudo tests/bench/made.sh            # needs root, hyperfine, docker-registry, skopeo
#   RUNS=10 sudo tests/bench/made.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${RUNS:-5}
[ "$(id -u)" = 0 ] || { echo "made.sh: needs root: run with sudo" >&2; exit 125; }
for c in hyperfine docker-registry skopeo python3; do
    command -v $c >/dev/null || { echo "made.sh: needs $c" >&2; exit 127; }
done
cargo build --release --quiet
tool=$PWD/target/release/my-container-tui
work=$(mktemp -d /tmp/mct-bench-made.XXXXXX)
export MCT_ROOT=$work/root MCT_NAMESPACE=bench-made
registry=
cleanup() {
    set +e
    "$tool" rm -f bench-writer >/dev/null 2>&1
    [ -n "$registry" ] && kill "$registry" 2>/dev/null && wait "$registry" 2>/dev/null
    umount "$work" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
mount -t tmpfs -o size=${TMPFS_SIZE:-3g} mct-bench "$work"
. tests/bench/registry.sh
start_registry "$work"

"$tool" rootfs busybox "$work/bb" >/dev/null
tar -C "$work/bb" -cf "$work/bb.tar" .
"$tool" import "$work/bb.tar" bench/base:1 >/dev/null
"$tool" run -d --name bench-writer --network none bench/base:1 \
    sh -c 'head -c 60000000 /dev/urandom > /blob; touch /done; sleep 3600' >/dev/null
until "$tool" diff bench-writer | grep -q '^A /done'; do sleep 0.2; done
id=$("$tool" inspect -f '{{.Id}}' bench-writer)
upper=/run/my-container-tui/containers/$id/fs/upper
[ -d "$upper" ] || { echo "made.sh: cannot find the container's upper directory" >&2; exit 1; }

echo "== commit of a 60 MB writable layer (gzip): ours against tar -cz of the same directory"
hyperfine --runs "$runs" --warmup 1 --export-json "$work/commit.json" \
    -n ours "$tool commit bench-writer bench/made:1" \
    -n tar "tar -C $upper -czf $work/upper.tgz ."

"$tool" tag bench/made:1 127.0.0.1:$port/bench/made:1
"$tool" save --format oci-archive -o "$work/made.tar" bench/made:1
mkdir -p "$work/oci" && tar -C "$work/oci" -xf "$work/made.tar"
echo 0 > "$work/n"
# The floor: the registry taking the one big blob in a single PUT from curl, into a fresh
# repository (the POST that starts an upload, then the PUT with every byte and the digest).
big=$(ls -S "$work"/oci/blobs/sha256/* | head -n 1)
cat > "$work/floor.sh" <<EOF2
at=\$(curl -sf -D - -o /dev/null -X POST http://127.0.0.1:$port/v2/curl-\$(date +%s%N)/made/blobs/uploads/ | tr -d '\\r' | sed -n 's/^[Ll]ocation: //p')
curl -sf -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' --data-binary @$big "\$at&digest=sha256:$(basename "$big")"
EOF2
# skopeo remembers in its blob-info cache where it pushed each blob, and from its second run on
# mounts them from the repository it pushed to before instead of uploading: each run of both
# gets a cache of its own (an empty tmpfs over it, in a mount namespace of the run's own), so
# both upload every byte, as a first push does.
fresh="unshare --mount --propagation private sh -c 'mkdir -p /var/lib/containers/cache && mount -t tmpfs blob-info /var/lib/containers/cache && exec \"\$0\" \"\$@\"'"
echo "== push of the ~62 MB image to a fresh repository: ours against skopeo copy from an OCI layout"
hyperfine --runs "$runs" --export-json "$work/push.json" \
    --prepare "n=\$((\$(cat $work/n)+1)); echo \$n > $work/n; $tool tag bench/made:1 127.0.0.1:$port/ours-\$n/made:1" \
    -n ours "$fresh $tool push -q 127.0.0.1:$port/ours-\$(cat $work/n)/made:1" \
    -n skopeo "$fresh skopeo copy -q --dest-tls-verify=false oci:$work/oci:1 docker://127.0.0.1:$port/skopeo-\$(date +%s%N)/made:1" \
    -n "curl: the big layer alone, one PUT (the registry's floor)" "sh $work/floor.sh"
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
for name in ("commit", "push"):
    r = {x["command"]: x for x in json.load(open(f"{work}/{name}.json"))["results"]}
    (a, b, *floor) = list(r)
    print(f"{name}: ours {r[a]['median']*1000:.0f} ms, {b} {r[b]['median']*1000:.0f} ms: {r[a]['median']/r[b]['median']:.2f}x")
    for f in floor:
        print(f"    {f}: {r[f]['median']*1000:.0f} ms")
PY
