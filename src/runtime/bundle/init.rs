//! The container side of an OCI bundle: PID 1 (of the new PID namespace, when the config
//! asks for one), forked by `create`, set up exactly as `config.json` says, then parked on
//! the exec fifo until `start`.
//!
//! ```text
//!  create (host)                          init
//!  mkfifo exec.fifo (0600), open it O_PATH
//!  cgroup at cgroupsPath, limits, devices
//!  unshare(PID) / setns(pid path)
//!  fork ────────────────────────────────► reopen the fifo to read (O_RDWR: never blocks)
//!                                          join the cgroup, the namespaces with a path;
//!                                          unshare the others; hostname
//!                                          mounts in order, /dev, pivot_root
//!  ◄── pty master (console socket) ────── terminal; sysctls, oomScoreAdj, rlimits
//!                                          masked and read-only paths
//!                                          join the user namespace (linux.uidMappings)
//!                                          user, capability sets, noNewPrivileges,
//!                                          seccomp, cwd, the command looked up
//!  ◄── report pipe closed: ready ───────── (or a failure written on it)
//!  hooks, state.json, pid file; exit      read the fifo: blocks
//!  start: open exec.fifo O_WRONLY, ─────► "0" read; startContainer hooks; execve
//!         write "0"
//! ```
//!
//! Init opens its end of the fifo first, as the host's root: once in a user namespace of its
//! own it could not reopen it through `/proc/self/fd` (its `/proc/self` stays the host root's
//! while it is not dumpable, and its root is no one there). So init reads and `start` writes,
//! the other way round from runc; `start` finds no reader (`ENXIO`) once init is gone.
//!
//! The create process exits once init is parked: init is reparented to whoever reaps for
//! it (containerd's shim, a subreaper), which sees its exit as runc's would be seen.

use super::Bundle;
use crate::runtime::exit::{NOT_FOUND, RUNTIME_ERROR};
use crate::runtime::process::init::{Init, Origin, Terminal};
use crate::runtime::process::{self, Becoming, Caps};
use crate::runtime::report::Reporter;
use crate::runtime::supervise::reset_for_exec;
use crate::runtime::{console, namespaces, security};
use anyhow::{Context, anyhow, bail};
use caps::CapsHashSet;
use nix::sched::CloneFlags;
use nix::sys::prctl;
use nix::sys::stat::Mode;
use nix::unistd::{Gid, Uid};
use oci_spec::runtime::{LinuxSeccomp, PosixRlimitType, Process};
use seccompiler::BpfProgram;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;

/// What `create` hands its child besides the bundle.
pub struct Start {
    /// The container's `cgroup.procs` files.
    pub cgroup_procs: Vec<PathBuf>,
    pub reporter: Reporter,
    /// Connected to `--console-socket`, for the pty master.
    pub console_socket: Option<OwnedFd>,
    /// The exec fifo, opened `O_PATH` (reopened to read through `/proc/self/fd`).
    pub exec_fifo: OwnedFd,
    /// Namespaces to join, opened from their paths before the fork.
    pub joins: Vec<(CloneFlags, OwnedFd)>,
    /// Its user namespace (made with the config's maps, or opened from its path), joined
    /// once the mounts are made.
    pub userns: Option<OwnedFd>,
    /// The state `startContainer` hooks read on stdin, but for init's host PID ...
    pub hook_state: serde_json::Value,
    /// ... which `create` writes here once it knows it.
    pub host_pid: OwnedFd,
}

/// Init's entry: [`process::init::run`] with a bundle's `BundleOrigin`; never returns.
pub fn run(bundle: &Bundle, start: Start) -> ! {
    let Start {
        cgroup_procs,
        reporter,
        console_socket,
        exec_fifo,
        joins,
        userns,
        mut hook_state,
        host_pid,
    } = start;
    let mut pid = [0u8; 4];
    if nix::unistd::read(&host_pid, &mut pid) == Ok(4) {
        hook_state["pid"] = i32::from_ne_bytes(pid).into();
    }
    drop(host_pid);
    // Its end of the fifo, first: `O_RDWR`, which does not wait for a writer (and keeps the
    // fifo open for `start`'s non-blocking open to find).
    let fifo = format!("/proc/self/fd/{}", exec_fifo.as_raw_fd());
    let exec_fifo = match nix::fcntl::open(
        fifo.as_str(),
        nix::fcntl::OFlag::O_RDWR | nix::fcntl::OFlag::O_CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(e) => reporter.fail(RUNTIME_ERROR, &format!("exec fifo: {}", e.desc())),
    };
    let config = &bundle.config;
    let process = config.process().as_ref();
    let mut new = Vec::new();
    for (kind, flag) in super::NAMESPACES {
        if flag != CloneFlags::CLONE_NEWPID
            && bundle.namespace(kind) == Some(None)
            && let Some(ns) = namespaces::by_flag(flag)
        {
            new.push(ns);
        }
    }
    let init = Init {
        cgroup_procs,
        reporter,
        console_socket,
        lifeline: None,
        joins,
        new,
        hostname: config.hostname().clone().filter(|h| !h.is_empty()),
        domainname: config.domainname().clone().filter(|h| !h.is_empty()),
        userns,
        terminal: match process.and_then(|p| p.terminal()) == Some(true) {
            true => Terminal::Pty {
                size: process.and_then(|p| {
                    p.console_size()
                        .map(|s| (s.height() as u16, s.width() as u16))
                }),
                inherited: false,
            },
            false => Terminal::None,
        },
    };
    process::init::run(
        init,
        BundleOrigin {
            bundle,
            exec_fifo,
            hook_state,
        },
    )
}

/// A bundle's container: `config.json`'s mounts, sysctls, paths and process, and the exec
/// fifo it waits on until `start` (open to read).
struct BundleOrigin<'a> {
    bundle: &'a Bundle,
    exec_fifo: OwnedFd,
    /// The state `startContainer` hooks read on stdin.
    hook_state: serde_json::Value,
}

impl BundleOrigin<'_> {
    fn process(&self) -> anyhow::Result<&Process> {
        self.bundle
            .config
            .process()
            .as_ref()
            .ok_or_else(|| anyhow!("process is required"))
    }

    fn linux(&self) -> Option<&oci_spec::runtime::Linux> {
        self.bundle.config.linux().as_ref()
    }
}

impl Origin for BundleOrigin<'_> {
    fn mounts(&mut self) -> anyhow::Result<Option<console::Pty>> {
        let bundle = self.bundle;
        if bundle
            .namespace(oci_spec::runtime::LinuxNamespaceType::Mount)
            .is_none()
        {
            bail!("config.json: a mount namespace is required (linux.namespaces)");
        }
        super::mounts::enter(bundle)
    }

    fn kernel(&mut self) -> anyhow::Result<()> {
        for (key, value) in self
            .linux()
            .and_then(|l| l.sysctl().as_ref())
            .into_iter()
            .flatten()
        {
            crate::runtime::process::sysctl(key, value)?;
        }
        if let Some(adj) = self.process()?.oom_score_adj() {
            // Below the caller's own score takes CAP_SYS_RESOURCE, which some hosts' bounding
            // sets lack (containerd's `restrict_oom_score_adj` is the answer there): say so.
            std::fs::write("/proc/self/oom_score_adj", adj.to_string()).with_context(|| {
                format!(
                    "cannot set process.oomScoreAdj to {adj} (lowering it takes CAP_SYS_RESOURCE)"
                )
            })?;
        }
        Ok(())
    }

    fn protect(&mut self) -> anyhow::Result<()> {
        fn paths(list: Option<&Vec<String>>) -> Vec<&str> {
            list.into_iter().flatten().map(String::as_str).collect()
        }
        let linux = self.linux();
        security::protect(
            &paths(linux.and_then(|l| l.masked_paths().as_ref())),
            &paths(linux.and_then(|l| l.readonly_paths().as_ref())),
        )
    }

    fn becoming(&mut self) -> anyhow::Result<Becoming> {
        let seccomp = self.linux().and_then(|l| l.seccomp().as_ref());
        becoming(self.process()?, seccomp)
    }

    fn finish(self, late: Vec<BpfProgram>, reporter: Reporter) -> ! {
        let spec = &self.bundle.spec;
        if let Err(message) = crate::runtime::execve::look_up(
            &spec.command,
            &crate::runtime::execve::path_of(&spec.env),
        ) {
            reporter.fail(NOT_FOUND, &message);
        }
        // From here on init belongs to whoever reaps for it, not to create.
        let _ = prctl::set_pdeathsig(None);
        drop(reporter);
        // Parked until `start` writes its byte (interrupted reads are read again).
        let mut byte = [0u8; 1];
        loop {
            match nix::unistd::read(&self.exec_fifo, &mut byte) {
                Ok(1) => break,
                Err(nix::errno::Errno::EINTR) => continue,
                Ok(_) => {
                    eprintln!("exec fifo: closed before start");
                    std::process::exit(RUNTIME_ERROR);
                }
                Err(e) => {
                    eprintln!("exec fifo: {}", e.desc());
                    std::process::exit(RUNTIME_ERROR);
                }
            }
        }
        drop(self.exec_fifo);
        let hooks = self.bundle.config.hooks().as_ref();
        if let Some(list) = hooks.and_then(|h| h.start_container().as_ref())
            && let Err(e) = super::hooks::run(list, &self.hook_state.to_string(), "startContainer")
        {
            eprintln!("{e:#}");
            std::process::exit(RUNTIME_ERROR);
        }
        if let Err(e) = process::install_seccomp(&late) {
            eprintln!("{e:#}");
            std::process::exit(RUNTIME_ERROR);
        }
        reset_for_exec();
        let (code, message) = crate::runtime::execve::exec(
            &spec.command,
            &spec.env,
            &crate::runtime::execve::path_of(&spec.env),
        );
        eprintln!("{message}");
        std::process::exit(code)
    }
}

/// What an OCI process becomes (init's and `exec`'s): its rlimits, user and groups,
/// capability sets, `noNewPrivileges`, the bundle's seccomp profile, umask and cwd.
pub fn becoming(process: &Process, seccomp: Option<&LinuxSeccomp>) -> anyhow::Result<Becoming> {
    let user = process.user();
    let caps = process.capabilities().as_ref().map(|sets| Caps {
        bounding: names(sets.bounding()),
        effective: names(sets.effective()),
        permitted: names(sets.permitted()),
        inheritable: names(sets.inheritable()),
        ambient: names(sets.ambient()),
    });
    Ok(Becoming {
        rlimits: process
            .rlimits()
            .iter()
            .flatten()
            .map(|l| (resource(l.typ()), l.soft(), l.hard()))
            .collect(),
        uid: Some(Uid::from_raw(user.uid())),
        gid: Some(Gid::from_raw(user.gid())),
        groups: user
            .additional_gids()
            .iter()
            .flatten()
            .map(|&g| Gid::from_raw(g))
            .collect(),
        umask: user.umask().unwrap_or(0o022),
        // Without a capabilities object, runc leaves the sets as they are.
        caps,
        no_new_privs: process.no_new_privileges() == Some(true),
        seccomp: seccomp
            .map(super::seccomp::compile)
            .transpose()?
            .unwrap_or_default(),
        cwd: process.cwd().clone(),
    })
}

/// The names of a set as the caps crate's, skipping those this kernel or crate lacks (as
/// runc skips capabilities its kernel does not know, with a warning).
fn names(set: &Option<oci_spec::runtime::Capabilities>) -> CapsHashSet {
    set.iter()
        .flatten()
        .filter_map(|c| {
            // oci-spec prints `AUDIT_WRITE`, the caps crate reads `CAP_AUDIT_WRITE`.
            let name = c.to_string();
            let name = match name.starts_with("CAP_") {
                true => name,
                false => format!("CAP_{name}"),
            };
            name.parse().ok()
        })
        .collect()
}

fn resource(kind: PosixRlimitType) -> nix::sys::resource::Resource {
    use nix::sys::resource::Resource;
    match kind {
        PosixRlimitType::RlimitCpu => Resource::RLIMIT_CPU,
        PosixRlimitType::RlimitFsize => Resource::RLIMIT_FSIZE,
        PosixRlimitType::RlimitData => Resource::RLIMIT_DATA,
        PosixRlimitType::RlimitStack => Resource::RLIMIT_STACK,
        PosixRlimitType::RlimitCore => Resource::RLIMIT_CORE,
        PosixRlimitType::RlimitRss => Resource::RLIMIT_RSS,
        PosixRlimitType::RlimitNproc => Resource::RLIMIT_NPROC,
        PosixRlimitType::RlimitNofile => Resource::RLIMIT_NOFILE,
        PosixRlimitType::RlimitMemlock => Resource::RLIMIT_MEMLOCK,
        PosixRlimitType::RlimitAs => Resource::RLIMIT_AS,
        PosixRlimitType::RlimitLocks => Resource::RLIMIT_LOCKS,
        PosixRlimitType::RlimitSigpending => Resource::RLIMIT_SIGPENDING,
        PosixRlimitType::RlimitMsgqueue => Resource::RLIMIT_MSGQUEUE,
        PosixRlimitType::RlimitNice => Resource::RLIMIT_NICE,
        PosixRlimitType::RlimitRtprio => Resource::RLIMIT_RTPRIO,
        PosixRlimitType::RlimitRttime => Resource::RLIMIT_RTTIME,
    }
}
