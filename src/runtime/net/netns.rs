//! Network namespaces seen from the host side: made without being entered, and entered by a
//! thread for the time it takes to open a socket there.
//!
//! `unshare(2)` and `setns(2)` with `CLONE_NEWNET` move the calling thread alone, so these are
//! sound in any process; the thread always comes back to the namespace it started in.

use anyhow::{Context, anyhow};
use nix::sched::{CloneFlags, setns, unshare};
use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};

/// The calling thread's network namespace.
fn current() -> anyhow::Result<File> {
    File::open("/proc/thread-self/ns/net").context("cannot open this thread's network namespace")
}

/// A new network namespace, held by the returned descriptor (it goes when the descriptor and
/// every process in it are gone). Its loopback is down, as the kernel makes it.
pub fn create() -> anyhow::Result<OwnedFd> {
    let home = current()?;
    unshare(CloneFlags::CLONE_NEWNET).map_err(|e| match e {
        nix::errno::Errno::EINVAL => anyhow!(
            "cannot create a net namespace: this kernel lacks support for it (CONFIG_NET_NS)"
        ),
        e => anyhow!("cannot create a net namespace: {}", e.desc()),
    })?;
    let made = current();
    // Root of a rootless user namespace cannot come back to the host's namespace (the host
    // user namespace's, over which it holds nothing): such a helper stays in its container's,
    // which it needs nothing outside of. One in the user's network holder comes back to the
    // holder's, which is its user namespace's (see super::holder).
    if !crate::state::owner::inside() {
        back(&home);
    } else {
        let _ = setns(&home, CloneFlags::CLONE_NEWNET);
    }
    Ok(made?.into())
}

/// Runs `f` with the calling thread in `netns`, and brings it back.
pub fn within<T>(netns: &impl AsFd, f: impl FnOnce() -> T) -> anyhow::Result<T> {
    use std::os::unix::fs::MetadataExt;
    let home = current()?;
    // Already there (a rootless helper that stayed, see `create`): nothing to enter, nor to
    // come back to.
    let here = home.metadata().map(|m| (m.dev(), m.ino())).ok();
    let there = File::from(netns.as_fd().try_clone_to_owned()?)
        .metadata()
        .map(|m| (m.dev(), m.ino()))
        .ok();
    if here.is_some() && here == there {
        return Ok(f());
    }
    setns(netns, CloneFlags::CLONE_NEWNET).map_err(|e| {
        anyhow!(
            "cannot enter the container's network namespace: {}",
            e.desc()
        )
    })?;
    let out = f();
    back(&home);
    Ok(out)
}

/// Returns the thread to `home`. A thread that cannot go back would do everything after in
/// the wrong namespace: that is not survivable.
fn back(home: &File) {
    if let Err(e) = setns(home, CloneFlags::CLONE_NEWNET) {
        crate::runtime::exit::print_error(&format!(
            "cannot return to the host's network namespace: {}",
            e.desc()
        ));
        std::process::abort();
    }
}

/// The network namespace of process `pid` (checked by the caller to be the one it means).
pub fn of(pid: i32) -> anyhow::Result<OwnedFd> {
    File::open(format!("/proc/{pid}/ns/net"))
        .map(OwnedFd::from)
        .with_context(|| format!("cannot open the network namespace of process {pid}"))
}
