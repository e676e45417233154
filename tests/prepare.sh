#!/usr/bin/env bash
# Installs what the tests need on a Debian or Ubuntu machine (the packages in
# tests/requirements) and registers qemu's aarch64 handler with binfmt_misc. As root, or
# through sudo. Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
as_root=()
if [ "$(id -u)" != 0 ]; then
    as_root=(sudo)
fi
packages=$(grep -v '^#' tests/requirements | awk 'NF { print $2 }' | sort -u)
if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
    echo "tests/prepare.sh: no apt here; install what provides these with your package manager:" \
        $(grep -v '^#' tests/requirements | awk 'NF { print $1 }' | sort -u) >&2
    exit 1
fi
missing=()
for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" != 0 ]; then
    echo "tests/prepare.sh: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    "${as_root[@]}" apt-get update -qq
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# arm64 programs run through binfmt_misc: mount it, and register qemu's handler unless a
# service (systemd-binfmt, binfmt-support) already did.
binfmt=/proc/sys/fs/binfmt_misc
[ -e "$binfmt/register" ] || "${as_root[@]}" mount -t binfmt_misc binfmt_misc "$binfmt"
if [ ! -e "$binfmt/qemu-aarch64" ]; then
    grep -v '^#' /usr/lib/binfmt.d/qemu-aarch64.conf | "${as_root[@]}" tee "$binfmt/register" >/dev/null
fi
# `--userns=auto` takes container ids from the ranges /etc/subuid and /etc/subgid give the user
# my-container-tui (as Podman takes them from the user `containers`); the tests need one.
for file in /etc/subuid /etc/subgid; do
    grep -qs '^my-container-tui:' "$file" ||
        echo 'my-container-tui:2147483648:268435456' | "${as_root[@]}" tee -a "$file" >/dev/null
done
# The rootless tests run the tool as an unprivileged user of their own, mct-rootless, with
# subordinate ids (outside the pool above) as a user of a laptop would have them.
if ! id mct-rootless >/dev/null 2>&1; then
    "${as_root[@]}" useradd --system --no-create-home --shell /usr/sbin/nologin mct-rootless
fi
for file in /etc/subuid /etc/subgid; do
    grep -qs '^mct-rootless:' "$file" ||
        echo 'mct-rootless:1879048192:65536' | "${as_root[@]}" tee -a "$file" >/dev/null
done
# A rootless container's network is pasta's, which opens /dev/net/tun as the user: udev makes
# it 0666 on Debian and Ubuntu; some machines (containers, minimal VMs) keep it root's alone.
if [ -c /dev/net/tun ] && [ "$(stat -c %a /dev/net/tun)" != 666 ]; then
    "${as_root[@]}" chmod 0666 /dev/net/tun
fi
# The modules a rootless user's network uses, loaded here as root: whether the kernel loads a
# module for a request made inside a user namespace depends on the request, so it is not left
# to chance (built in on some kernels: then nothing is done).
"${as_root[@]}" modprobe -a veth bridge nf_tables nft_chain_nat nft_masq nf_nat >/dev/null 2>&1 || true
