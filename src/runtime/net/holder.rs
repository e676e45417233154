//! A rootless user's bridge networks (`network create` ones): where their containers find each
//! other by name, as podman's rootless netns does for its user.
//!
//! A bridge and its veths need one process that holds `CAP_NET_ADMIN` over the bridge's
//! network namespace and the container's both: for a user, only root of a user namespace of
//! theirs that owns both. So the user's bridge networks live in a network namespace of their
//! own, made inside a user namespace of their own (the same mapping as every rootless
//! container's, [`crate::runtime::rootless`]), both held by one process of ours, the holder
//! (`__network-holder`). A container on such a network is made by a helper that joins the
//! holder's user namespace, as its root, and its network namespace, where everything the root
//! code does for a bridge (the bridge, the veth, the address, the nftables rules, the leases
//! and hosts files) is done unchanged: that namespace is the "host" of the user's networks.
//! Pasta, where it can run, joins that namespace to the host's network, so containers reach
//! what the user reaches.
//!
//! Nothing of it is on the host: the bridge, its rules and its veths are in the holder's
//! namespace, and go with it. The holder ends once no network of the user's is up (after the
//! last container's linger), pasta with it. It is started by the first container that needs
//! it, under the lock of its directory, which a joining helper holds until its lease is
//! taken, so the holder cannot end between a helper's join and its lease.

use crate::runtime::rootless;
use crate::state::{Process, tree};
use anyhow::{Context, anyhow, bail};
use std::fs::File;
use std::path::PathBuf;
use std::time::Duration;

/// The hidden verb that runs the holder.
pub const HOLDER_ARG: &str = "__network-holder";

/// How often the holder looks whether a network of the user's is still up.
const LOOK_EVERY: Duration = Duration::from_millis(500);

/// The holder's directory in the state tree: its lock, and `holder`, its process.
fn dir() -> PathBuf {
    tree::root().join("netns")
}

fn record() -> PathBuf {
    dir().join("holder")
}

/// The holder, if one runs.
pub fn running() -> Option<Process> {
    let text = std::fs::read(record()).ok()?;
    let holder: Process = serde_json::from_slice(&text).ok()?;
    holder.alive().then_some(holder)
}

/// The lock of the holder's directory, the directory made first where missing.
fn lock() -> anyhow::Result<nix::fcntl::Flock<File>> {
    loop {
        tree::make_private(&dir()).with_context(|| format!("cannot make {}", dir().display()))?;
        match tree::lock_dir(&dir()) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            locked => return locked.with_context(|| format!("cannot lock {}", dir().display())),
        }
    }
}

/// Held by a helper that joined the holder until its lease is taken: the holder does not end
/// meanwhile.
pub struct Joined(#[allow(dead_code)] nix::fcntl::Flock<File>);

/// Joins the user's holder (started where none runs): its user namespace, as its root, then
/// its network namespace. Single-threaded callers only, as `setns` of a user namespace takes.
pub fn join() -> anyhow::Result<Joined> {
    let locked = lock()?;
    let holder = match running() {
        Some(holder) => holder,
        None => start()?,
    };
    let user = File::open(format!("/proc/{}/ns/user", holder.pid));
    let net = File::open(format!("/proc/{}/ns/net", holder.pid));
    let (Ok(user), Ok(net), true) = (user, net, holder.alive()) else {
        bail!("the network holder of the user's networks ended as it was joined");
    };
    crate::runtime::namespaces::join_one(&user, nix::sched::CloneFlags::CLONE_NEWUSER)?;
    rootless::become_root()?;
    crate::runtime::namespaces::join_one(&net, nix::sched::CloneFlags::CLONE_NEWNET)?;
    Ok(Joined(locked))
}

/// Joins the holder if one runs, for a sweep (nothing to join: nothing of the user's networks
/// exists). The lock is let go at once: a sweep takes no lease.
pub fn join_if_running() -> bool {
    if running().is_none() {
        return false;
    }
    join().is_ok()
}

/// Starts the holder and waits until it is ready: `__network-holder` forks, and the child,
/// in a session of its own, is the holder; the parent exits once the child says it is ready,
/// so the holder is no child of ours (a helper ends with its container).
fn start() -> anyhow::Result<Process> {
    let out = std::process::Command::new("/proc/self/exe")
        .arg(HOLDER_ARG)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .output()
        .context("cannot start the network holder")?;
    if !out.status.success() {
        let said = String::from_utf8_lossy(&out.stderr);
        bail!(
            "cannot start the user's network namespace: {}",
            said.trim().trim_start_matches("my-container-tui: ")
        );
    }
    running().ok_or_else(|| anyhow!("the network holder ended as it started"))
}

/// `my-container-tui __network-holder` (see [`start`]). The caller holds the lock.
pub fn main() -> ! {
    let (ready_r, ready_w) = match nix::unistd::pipe() {
        Ok(pipe) => pipe,
        Err(e) => fail(&format!("pipe: {}", e.desc())),
    };
    match crate::runtime::sys::fork() {
        Ok(nix::unistd::ForkResult::Parent { .. }) => {
            drop(ready_w);
            // Ready once the holder writes its byte; its error (on our shared stderr) else.
            let mut byte = [0u8];
            let ready = matches!(nix::unistd::read(&ready_r, &mut byte), Ok(1));
            std::process::exit(if ready { 0 } else { 125 })
        }
        Ok(nix::unistd::ForkResult::Child) => drop(ready_r),
        Err(e) => fail(&format!("{e:#}")),
    }
    // Nothing of the starter's stays open here (a helper's reports to its launcher, say):
    // the holder outlives it.
    crate::runtime::sys::close_all_but(&[std::os::fd::AsRawFd::as_raw_fd(&ready_w)]);
    let _ = nix::unistd::setsid();
    let _ = std::env::set_current_dir("/");
    let pasta = match hold() {
        Ok(pasta) => pasta,
        Err(e) => fail(&format!("{e:#}")),
    };
    let tmp = record().with_extension("tmp");
    let written = serde_json::to_vec(&Process::me())
        .map_err(std::io::Error::from)
        .and_then(|json| std::fs::write(&tmp, json))
        .and_then(|()| std::fs::rename(&tmp, record()));
    if let Err(e) = written {
        fail(&format!("cannot write {}: {e}", record().display()));
    }
    let _ = nix::unistd::write(&ready_w, &[1]);
    drop(ready_w);
    // Nothing more is said: stderr is the starter's, which is gone.
    if let Ok(null) = File::options().write(true).open("/dev/null") {
        // SAFETY: dup2 onto our own stderr, which nothing else of ours holds as an OwnedFd.
        unsafe { libc::dup2(std::os::fd::AsRawFd::as_raw_fd(&null), 2) };
    }
    loop {
        std::thread::sleep(LOOK_EVERY);
        if idle() {
            break;
        }
    }
    if let Some(pasta) = pasta {
        pasta.stop();
    }
    std::process::exit(0)
}

/// The holder's namespaces: a user namespace of the user's mapping, a network namespace in
/// it with loopback up, joined to the host's by pasta where pasta can run (else the user's
/// networks reach nothing outside). The holder stays in both.
fn hold() -> anyhow::Result<Option<super::pasta::Pasta>> {
    rootless::enter()?;
    let (netns, pasta) = match super::pasta::program() {
        Ok(_) => {
            let (netns, pasta) = super::pasta::start(&[])?;
            (netns, Some(pasta))
        }
        Err(_) => (super::netns::create()?, None),
    };
    crate::runtime::namespaces::join_one(&netns, nix::sched::CloneFlags::CLONE_NEWNET)?;
    let mut nl = super::netlink::Netlink::open().context("cannot open netlink")?;
    let lo = nl.link("lo")?.context("no loopback interface")?;
    nl.set(lo.index, None, true).context("cannot bring up lo")?;
    Ok(pasta)
}

/// Whether no network of the user's is up, or the user's runtime directory is gone: then,
/// under the lock (no helper between its join and its lease), the holder's record goes, and
/// the holder with it.
fn idle() -> bool {
    let up = |state: &super::leases::State| !state.networks.is_empty();
    if up(&super::leases::read()) {
        return false;
    }
    // No lock to be had: the user's runtime directory is gone (as at logout), and no helper
    // can join us either.
    let Ok(locked) = lock() else {
        return true;
    };
    if up(&super::leases::read()) {
        return false;
    }
    let _ = std::fs::remove_file(record());
    let _ = std::fs::remove_dir(dir());
    tree::remove_if_empty();
    drop(locked);
    true
}

fn fail(message: &str) -> ! {
    crate::runtime::exit::print_error(message);
    std::process::exit(crate::runtime::exit::RUNTIME_ERROR)
}
