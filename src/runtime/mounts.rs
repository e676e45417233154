//! Mounts inside the container's mount namespace.
//!
//! The order matters: propagation is made private before anything is mounted, so that even
//! when the host's `/` is a shared mount (the systemd default) no mount of ours reaches it.

use nix::mount::{MsFlags, mount};

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

/// Mounts a fresh procfs on `/proc`, so the container sees only its own PID namespace.
pub fn mount_proc() -> Result<(), String> {
    mount(
        Some("proc"),
        "/proc",
        Some("proc"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        None::<&str>,
    )
    .map_err(|e| format!("cannot mount /proc: {}", e.desc()))
}
