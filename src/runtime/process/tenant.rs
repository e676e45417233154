//! A process joining a running container (`exec`, `oci exec`): the forked child's side, once.
//!
//! ```text
//!  exec (host)                          child (born in the container's PID namespace)
//!  pidfd_open(PID 1), check start time
//!  setns(pidfd, PID)  (children only)
//!  fork ───────────────────────────────► not dumpable (no ptrace, no /proc/N/exe from inside)
//!                                        stdio: the pipes relayed, or /dev/null
//!                                        join the container's cgroup (device rules too)
//!                                        setns(pidfd, mnt uts ipc net cgroup)
//!                                        setns(pidfd, user), its root's ids (--userns)
//!                                        session; a pty of the container's devpts
//!  ◄── pty master (SCM_RIGHTS) ───────── becoming (user looked up inside): caps, ids,
//!                                        no_new_privs, cwd + getcwd; the command looked up;
//!                                        seccomp; execve (a failure reported on a pipe)
//! ```
//!
//! The child stays non-dumpable until `execve` (which makes the command dumpable again, as
//! any process), so nothing in the container can reach into it, or through its
//! `/proc/PID/exe` to this binary on the host, while it still holds host descriptors (the
//! runc CVE-2016-9962 and CVE-2019-5736 class). It never holds one past `execve`: every
//! descriptor above 2 is close-on-exec.

use super::Becoming;
use crate::runtime::exit::{NOT_FOUND, RUNTIME_ERROR};
use crate::runtime::report::Reporter;
use crate::runtime::supervise::reset_for_exec;
use crate::runtime::{Sys, console, namespaces, sys};
use nix::sys::prctl;
use nix::sys::signal::Signal;
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;

/// What the child is given, whoever forked it.
pub struct Joining<'a> {
    /// The container's PID 1.
    pub pidfd: &'a OwnedFd,
    /// The container's cgroup: its `cgroup.procs` files, on the host.
    pub cgroup_procs: &'a [PathBuf],
    /// Descriptors to put on stdio first, as (descriptor, 0|1|2).
    pub stdio: Vec<(OwnedFd, i32)>,
    /// A pty of the container's devpts, its master sent here (`None`: no terminal).
    pub console: Option<Option<OwnedFd>>,
    /// The process outlives the one that forked it (`oci exec --detach`): it must not die
    /// with it once started.
    pub outlives_parent: bool,
    /// Look the command up before exec, reporting a missing one as runc does.
    pub look_up: bool,
    pub argv: &'a [String],
    pub env: &'a [String],
    /// The `PATH` the command is looked up in.
    pub path: &'a str,
    /// The container has a user namespace of its own, joined after the others (whose
    /// owner is the host's user namespace: joined from inside it, they would refuse us).
    pub userns: bool,
}

/// The child: into the container, become what `becoming` says (called inside, so names
/// resolve in the container's own files), and exec. Never returns.
pub fn enter(
    joining: Joining,
    becoming: impl FnOnce() -> anyhow::Result<Becoming>,
    reporter: Reporter,
) -> ! {
    let late = match prepare(&joining, becoming) {
        Ok(late) => late,
        Err(e) => reporter.fail(RUNTIME_ERROR, &format!("{e:#}")),
    };
    if joining.look_up
        && let Err(message) = crate::runtime::execve::look_up(joining.argv, joining.path)
    {
        reporter.fail(NOT_FOUND, &message);
    }
    if let Err(e) = super::install_seccomp(&late) {
        reporter.fail(RUNTIME_ERROR, &format!("{e:#}"));
    }
    reset_for_exec();
    let (code, message) = crate::runtime::execve::exec(joining.argv, joining.env, joining.path);
    reporter.fail(code, &message)
}

/// Everything between fork and exec that can fail; the seccomp filters left for last.
fn prepare(
    joining: &Joining,
    becoming: impl FnOnce() -> anyhow::Result<Becoming>,
) -> anyhow::Result<Vec<seccompiler::BpfProgram>> {
    prctl::set_dumpable(false).sys("set_dumpable")?;
    prctl::set_pdeathsig(Signal::SIGKILL).sys("prctl")?;
    for (fd, target) in &joining.stdio {
        sys::dup_onto(fd.as_fd(), *target)?;
    }
    sys::join_cgroup(joining.cgroup_procs)?;
    namespaces::join(joining.pidfd, namespaces::JOINED_BY_EXEC)?;
    if joining.userns {
        namespaces::join_one(joining.pidfd, namespaces::USER.flag)?;
        crate::runtime::idmap::become_root()?;
    }
    nix::unistd::setsid().sys("setsid")?;
    if let Some(socket) = &joining.console {
        console::take_new(socket.as_ref())?;
    }
    let late = super::become_process(becoming()?)?;
    if joining.outlives_parent {
        prctl::set_pdeathsig(None).sys("prctl")?;
    }
    Ok(late)
}
