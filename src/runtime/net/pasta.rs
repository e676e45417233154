//! User-mode networking for a rootless container (`--network pasta`, its default): pasta (the
//! `passt` package, what podman 5 uses) joins its network namespace to the host's through the
//! user's own sockets. What the container connects to is connected to by the user; `-p`
//! forwards the user's host ports to it. Nothing of the host's network is changed: no
//! bridge, no veth, no firewall rule.
//!
//! Written by hand around the pasta program (no crate drives it): the helper, which stays in
//! the host's network namespace (pasta's host side is the namespace it starts in), has a
//! child make the container's. That child gives up every capability first: pasta drops its
//! own before it opens `/proc/PID/ns/net`, and the kernel lets a process read the namespaces
//! of another in its user namespace only if that one's capabilities are a subset of its own.
//! The child stays in the namespace until pasta has configured it (an interface up with an
//! address), and says so. Pasta runs in the foreground as the helper's child, dies with it
//! (`PR_SET_PDEATHSIG`), and is ended by it when the container ends.

use crate::runtime::console;
use crate::spec::network::{Protocol, Publish};
use anyhow::{Context, anyhow, bail};
use std::os::fd::OwnedFd;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long pasta may take to configure the namespace.
const READY_WITHIN: Duration = Duration::from_secs(10);

/// The running pasta of one container.
#[derive(Debug)]
pub struct Pasta(Child);

impl Pasta {
    /// Ends it (the container has ended) and reaps it.
    pub fn stop(mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The pasta program, if it can run here: installed, and the tun device open to its user (as
/// udev makes it: `0666`).
pub fn program() -> anyhow::Result<std::path::PathBuf> {
    let program = crate::runtime::rootless::system_program("pasta").ok_or_else(|| {
        anyhow!("pasta is missing (apt-get install passt), or take --network none or host")
    })?;
    use nix::unistd::AccessFlags;
    if nix::unistd::access("/dev/net/tun", AccessFlags::R_OK | AccessFlags::W_OK).is_err() {
        bail!("pasta needs /dev/net/tun open to its user (0666, as udev makes it)");
    }
    Ok(program)
}

/// A new network namespace joined to the host's by pasta, with `publish`'s ports forwarded:
/// the namespace (for PID 1 to join) and pasta. Forks: call it single-threaded.
pub fn start(publish: &[Publish]) -> anyhow::Result<(OwnedFd, Pasta)> {
    let program = program()?;
    let (ours, theirs) = console::channel().context("socketpair")?;
    let holder = match crate::runtime::sys::fork()? {
        nix::unistd::ForkResult::Child => {
            drop(ours);
            hold(&theirs)
        }
        nix::unistd::ForkResult::Parent { child } => child,
    };
    drop(theirs);
    let reap = || {
        let _ = nix::sys::wait::waitpid(holder, None);
    };
    let Some(netns) = console::receive(&ours) else {
        reap();
        bail!("cannot create a net namespace for pasta");
    };
    let mut cmd = Command::new(program);
    cmd.args(["--config-net", "--foreground", "--quiet", "--runas", "0:0"])
        // The host's loopback stays out of reach: the gateway's address is not mapped to it.
        .arg("--no-map-gw")
        .arg("--netns")
        .arg(format!("/proc/{}/ns/net", holder.as_raw()));
    for (flag, protocol) in [
        ("--tcp-ports", Protocol::Tcp),
        ("--udp-ports", Protocol::Udp),
    ] {
        for p in publish.iter().filter(|p| p.protocol == protocol) {
            let host = match p.host_ip {
                Some(ip) => format!("{ip}/{}", p.host_port),
                None => p.host_port.to_string(),
            };
            cmd.args([flag, &format!("{host}:{}", p.container_port)]);
        }
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: the closure only calls prctl, which is async-signal-safe, between fork and exec.
    unsafe {
        use std::os::unix::process::CommandExt;
        cmd.pre_exec(|| {
            nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
                .map_err(std::io::Error::from)
        });
    }
    let started = cmd.spawn();
    // The holder checks the namespace once asked, and answers whether pasta configured it.
    let ready = started.is_ok()
        && console::send(&ours, None).is_ok()
        && matches!(read_byte(&ours), Some(1));
    reap();
    let mut pasta = Pasta(started.context("cannot start pasta")?);
    if !ready {
        let status = pasta.0.try_wait().ok().flatten();
        pasta.stop();
        bail!(
            "pasta did not configure the container's network{}",
            status.map_or(String::new(), |s| format!(" ({s})"))
        );
    }
    Ok((netns, pasta))
}

/// The holder: a namespace of its own, no capability, sent back; then, once asked, waits for
/// pasta's interface and answers. Never returns.
fn hold(socket: &OwnedFd) -> ! {
    use caps::CapSet;
    let made = nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET)
        .ok()
        .and_then(|()| std::fs::File::open("/proc/thread-self/ns/net").ok())
        .map(OwnedFd::from);
    // Dumpable, and nothing pasta lacks: so pasta may open our namespace.
    let _ = nix::sys::prctl::set_dumpable(true);
    for set in [
        CapSet::Ambient,
        CapSet::Inheritable,
        CapSet::Effective,
        CapSet::Permitted,
    ] {
        let _ = caps::clear(None, set);
    }
    let _ = console::send(socket, made.as_ref());
    let ok = made.is_some() && read_byte(socket).is_some() && configured();
    let _ = nix::unistd::write(socket, &[u8::from(ok)]);
    // SAFETY: _exit ends this forked child without running the parent's atexit work.
    unsafe { libc::_exit(0) }
}

/// Waits until an interface besides loopback is up with an address in this namespace.
fn configured() -> bool {
    use crate::runtime::net::netlink::Netlink;
    let deadline = Instant::now() + READY_WITHIN;
    while Instant::now() < deadline {
        let ready = Netlink::open().ok().is_some_and(|mut nl| {
            let up: Vec<u32> = nl
                .links()
                .unwrap_or_default()
                .into_iter()
                .filter(|l| l.up && l.name != "lo")
                .map(|l| l.index)
                .collect();
            nl.addresses()
                .unwrap_or_default()
                .iter()
                .any(|a| up.contains(&a.index))
        });
        if ready {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}

fn read_byte(socket: &OwnedFd) -> Option<u8> {
    let mut byte = [0u8];
    match nix::unistd::read(socket, &mut byte) {
        Ok(1) => Some(byte[0]),
        _ => None,
    }
}
