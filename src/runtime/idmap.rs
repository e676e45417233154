//! A user namespace from the host side, made with its maps before PID 1 joins it (its ids,
//! for `--userns=auto`, are [`crate::state::idmaps`]'s).
//!
//! A child forked for the purpose makes it (`unshare(CLONE_NEWUSER)`); we,
//! root in the host's namespace, write its maps (no `newuidmap` needed: we may map any id, and
//! `setgroups` stays allowed, as runc leaves it for root); its `/proc/PID/ns/user` is opened
//! and the child let go. The descriptor is what PID 1 and `exec` join
//! ([`crate::runtime::process`]).

use crate::spec::userns::{IdRange, UserNs};
use anyhow::{Context, anyhow, bail};
use std::os::fd::OwnedFd;

/// A user namespace with `userns`'s maps (a `Map`: [`crate::state::idmaps::resolve`] first), held by the returned
/// descriptor. Forks: call it from a single-threaded process.
pub fn create(userns: &UserNs) -> anyhow::Result<OwnedFd> {
    let UserNs::Map { uids, gids } = userns else {
        bail!("internal error: a user namespace without maps");
    };
    let (ready_r, ready_w) = nix::unistd::pipe().context("pipe")?;
    let (hold_r, hold_w) = nix::unistd::pipe().context("pipe")?;
    let child = match super::sys::fork()? {
        nix::unistd::ForkResult::Child => {
            drop(ready_r);
            drop(hold_w);
            let made = nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWUSER).is_ok();
            let _ = nix::unistd::write(&ready_w, &[u8::from(made)]);
            // Held until the parent has opened the namespace (its end closed).
            let _ = nix::unistd::read(&hold_r, &mut [0u8]);
            // SAFETY: _exit ends this forked child without running the parent's atexit work.
            unsafe { libc::_exit(0) }
        }
        nix::unistd::ForkResult::Parent { child } => child,
    };
    drop(ready_w);
    drop(hold_r);
    let mut made = [0u8];
    let opened = match nix::unistd::read(&ready_r, &mut made) {
        Ok(1) if made[0] == 1 => write_maps(child.as_raw(), uids, gids).and_then(|()| {
            std::fs::File::open(format!("/proc/{}/ns/user", child.as_raw()))
                .map(OwnedFd::from)
                .context("cannot open the new user namespace")
        }),
        _ => Err(anyhow!(
            "cannot create a user namespace (CONFIG_USER_NS, or user.max_user_namespaces)"
        )),
    };
    drop(hold_w);
    let _ = nix::sys::wait::waitpid(child, None);
    opened
}

fn write_maps(pid: i32, uids: &[IdRange], gids: &[IdRange]) -> anyhow::Result<()> {
    for (file, ranges) in [("uid_map", uids), ("gid_map", gids)] {
        let text: String = ranges
            .iter()
            .map(|r| format!("{} {} {}\n", r.inside, r.outside, r.count))
            .collect();
        std::fs::write(format!("/proc/{pid}/{file}"), text)
            .with_context(|| format!("cannot write the user namespace's {file}"))?;
    }
    Ok(())
}

/// After joining a user namespace: container root's ids (a process keeps the host's ids,
/// unmapped there, until it sets its own), with the capabilities the join gave.
pub fn become_root() -> anyhow::Result<()> {
    let root_gid = nix::unistd::Gid::from_raw(0);
    let root_uid = nix::unistd::Uid::from_raw(0);
    nix::unistd::setresgid(root_gid, root_gid, root_gid).map_err(|e| {
        anyhow!(
            "cannot become the user namespace's root group: {}",
            e.desc()
        )
    })?;
    nix::unistd::setresuid(root_uid, root_uid, root_uid)
        .map_err(|e| anyhow!("cannot become the user namespace's root: {}", e.desc()))
}
