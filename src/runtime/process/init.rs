//! A container's PID 1, whatever it was asked for by: a spec (the seed's host view, a rootfs,
//! an image) or an OCI bundle's `config.json`. One order of steps, here; what differs is the
//! [`Origin`] (youki's `ContainerType` idea: the differences as data and a few hooks).
//!
//! ```text
//!  not dumpable; die with the parent (and check it still lives)
//!  join the cgroup
//!  join the namespaces given (the helper's network, a bundle's paths), make the others
//!  session; hostname, domainname
//!  umask 0; Origin::mounts (the root, /proc, /dev, volumes); the terminal
//!  Origin::kernel (sysctls, oom score); Origin::protect (masked and read-only paths)
//!  join the user namespace, if it has one, and take its root's ids
//!  Origin::becoming (the user, looked up in the root) → become_process (caps, ids,
//!  no_new_privs, cwd + getcwd; seccomp kept for last)
//!  Origin::finish: exec the command, or reap it (--init), or park on the exec fifo
//! ```
//!
//! It runs in a child forked from a single-threaded process, so it may allocate; every failure
//! goes back through the [`Reporter`], never as a panic.

use super::Becoming;
use crate::runtime::Sys;
use crate::runtime::console::{self, Pty};
use crate::runtime::exit::RUNTIME_ERROR;
use crate::runtime::namespaces::{self, Namespace};
use crate::runtime::report::{Reporter, parent_gone};
use anyhow::bail;
use nix::sched::CloneFlags;
use nix::sys::prctl;
use nix::sys::signal::Signal;
use nix::sys::stat::{Mode, umask};
use seccompiler::BpfProgram;
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;

/// What every PID 1 is given, whoever started it.
pub struct Init {
    /// The container's `cgroup.procs` files.
    pub cgroup_procs: Vec<PathBuf>,
    pub reporter: Reporter,
    /// Where the pty's master goes (the helper, `--console-socket`).
    pub console_socket: Option<OwnedFd>,
    /// The read end of the parent's lifeline, when it has one ([`parent_gone`]).
    pub lifeline: Option<OwnedFd>,
    /// Namespaces to join, opened before the fork, joined before any is made.
    pub joins: Vec<(CloneFlags, OwnedFd)>,
    /// Namespaces to make, in order.
    pub new: Vec<Namespace>,
    pub hostname: Option<String>,
    pub domainname: Option<String>,
    /// A user namespace to join once the mounts are made and protected (made by the helper
    /// with its maps, [`crate::runtime::idmap`]); its other namespaces stay the host user
    /// namespace's, so its root holds capabilities over its files only, not over them.
    pub userns: Option<OwnedFd>,
    pub terminal: Terminal,
}

/// Whether PID 1 gets a terminal, and from where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Terminal {
    None,
    /// A pty of the container's devpts; without one (a view sharing the host's `/dev`), the
    /// pty the process inherited becomes its controlling terminal, if `inherited` allows.
    Pty {
        size: Option<(u16, u16)>,
        inherited: bool,
    },
}

/// What differs between the kinds of container: the hooks [`run`] calls in its one order.
pub trait Origin {
    /// The container's filesystem view, in its (new, private) mount namespace; its own pty
    /// when it has a `/dev` of its own.
    fn mounts(&mut self) -> anyhow::Result<Option<Pty>>;
    /// Kernel settings made from inside (a bundle's sysctls and oom score).
    fn kernel(&mut self) -> anyhow::Result<()> {
        Ok(())
    }
    /// Masked and read-only paths.
    fn protect(&mut self) -> anyhow::Result<()>;
    /// Who the process becomes (names resolved in the container's own files).
    fn becoming(&mut self) -> anyhow::Result<Becoming>;
    /// The process made, hardened, with `late` seccomp filters yet to install: the command's
    /// `execve`, the `--init` reaper, or the exec fifo first. Never returns.
    fn finish(self, late: Vec<BpfProgram>, reporter: Reporter) -> !;
}

/// PID 1's entry. Never returns: it becomes what `origin` finishes with, or exits with the
/// failure reported.
pub fn run(init: Init, mut origin: impl Origin) -> ! {
    // Not dumpable from here to execve: a process in the container cannot open
    // /proc/1/exe (this binary) or ptrace us while we hold host descriptors.
    let _ = prctl::set_dumpable(false);
    // Die with the parent until the command runs; if it went before the death signal was
    // in place, the lifeline says so (looked at after, or the race stays open).
    if prctl::set_pdeathsig(Signal::SIGKILL).is_err()
        || init.lifeline.as_ref().is_some_and(parent_gone)
    {
        std::process::exit(RUNTIME_ERROR);
    }
    let Init {
        cgroup_procs,
        reporter,
        console_socket,
        lifeline,
        joins,
        new,
        hostname,
        domainname,
        userns,
        terminal,
    } = init;
    drop(lifeline);
    let made = (|| -> anyhow::Result<Vec<BpfProgram>> {
        // Into the cgroup before anything else, so every process of the container is inside.
        crate::runtime::sys::join_cgroup(&cgroup_procs)?;
        for (flag, fd) in &joins {
            namespaces::join_one(fd, *flag)?;
        }
        drop(joins);
        for ns in new {
            namespaces::enter_new(ns)?;
        }
        nix::unistd::setsid().sys("setsid")?;
        if let Some(name) = &hostname {
            nix::unistd::sethostname(name).sys("cannot set hostname")?;
        }
        if let Some(name) = &domainname {
            set_domainname(name)?;
        }
        // Nodes and files we make get exactly the modes asked; the command gets its umask
        // from become_process.
        umask(Mode::empty());
        let pty = origin.mounts()?;
        take_terminal(terminal, pty, console_socket)?;
        origin.kernel()?;
        origin.protect()?;
        if let Some(userns) = &userns {
            namespaces::join_one(userns, namespaces::USER.flag)?;
            crate::runtime::idmap::become_root()?;
        }
        drop(userns);
        let becoming = origin.becoming()?;
        super::become_process(becoming)
    })();
    match made {
        Ok(late) => origin.finish(late, reporter),
        Err(e) => reporter.fail(RUNTIME_ERROR, &format!("{e:#}")),
    }
}

/// The terminal: the container's own pty (its master sent out for relaying), or the one the
/// process inherited made its controlling terminal.
fn take_terminal(
    terminal: Terminal,
    pty: Option<Pty>,
    console_socket: Option<OwnedFd>,
) -> anyhow::Result<()> {
    let Terminal::Pty { size, inherited } = terminal else {
        return Ok(());
    };
    if pty.is_none() && !inherited {
        bail!("a terminal needs a /dev of the container's own");
    }
    if let (Some(pty), Some((rows, cols))) = (&pty, size) {
        crate::runtime::sys::set_winsize(pty.master.as_fd(), rows, cols);
    }
    if let Some(socket) = &console_socket {
        console::send(socket, pty.as_ref().map(|p| &p.master))?;
    }
    match pty {
        Some(pty) => {
            drop(pty.master);
            console::take(pty.slave)
        }
        None => console::take_controlling_tty(),
    }
}

fn set_domainname(name: &str) -> anyhow::Result<()> {
    // SAFETY: setdomainname reads `len` bytes from the pointer, which `name` holds.
    let rc = unsafe { libc::setdomainname(name.as_ptr().cast(), name.len()) };
    if rc < 0 {
        return Err(std::io::Error::last_os_error())
            .map_err(|e| anyhow::anyhow!("cannot set domainname: {e}"));
    }
    Ok(())
}
