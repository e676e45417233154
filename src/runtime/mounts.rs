//! Mounts inside the container's mount namespace.
//!
//! The order matters: propagation is made private before anything is mounted, so that even
//! when the host's `/` is a shared mount (the systemd default) no mount of ours reaches it.

use nix::mount::{MsFlags, mount};
use std::path::Path;

/// Makes every mount in this (new) mount namespace private, recursively.
pub fn make_private() -> Result<(), String> {
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(|e| format!("cannot make mounts private: {}", e.desc()))
}

/// Mounts a fresh procfs on `target` (`/proc`, or the rootfs's before `pivot_root`), so the
/// container sees only its own PID namespace.
pub fn mount_proc(target: &Path) -> Result<(), String> {
    mount(
        Some("proc"),
        target,
        Some("proc"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        None::<&str>,
    )
    .map_err(|e| format!("cannot mount proc on {}: {}", target.display(), e.desc()))
}

/// Remounts the bind mount at `target` read-only (a read-only rootfs, `:ro` volumes, the
/// hardening's read-only paths).
pub fn remount_read_only(target: &Path) -> nix::Result<()> {
    let flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY;
    mount(None::<&str>, target, None::<&str>, flags, None::<&str>)
}
