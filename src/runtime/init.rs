//! The container side: runs in the helper's forked child, which is PID 1 of the new PID
//! namespace, and sets up everything up to `execve` of the user's command.
//!
//! It is forked from the single-threaded helper, so allocating here is safe; every failure goes
//! back to the helper through the [`Reporter`], never as a panic.

use super::Sys;
use super::exit::RUNTIME_ERROR;
use super::report::{Reporter, parent_gone};
use super::rootpath::InRoot;
use super::supervise::{Supervisor, reset_for_exec};
use super::{console, exec, hostview, mounts, namespaces, rootfs, security, user, volumes};
use crate::spec::ContainerSpec;
use crate::state::tree as state;
use anyhow::Context;
use nix::sys::prctl::set_pdeathsig;
use nix::sys::signal::{SigHandler, Signal, signal};
use nix::sys::stat::{Mode, umask};
use nix::unistd::{
    ForkResult, Pid, chdir, fork, getcwd, getpid, setgroups, sethostname, setpgid, setsid,
    tcsetpgrp,
};
use std::os::fd::OwnedFd;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

/// Entry of the container's PID 1. Never returns: it becomes the command, or the `--init`
/// reaper, or exits with the reported failure.
pub fn run(
    spec: &ContainerSpec,
    cgroup_procs: &[PathBuf],
    lifeline: OwnedFd,
    reporter: Reporter,
    console_socket: Option<OwnedFd>,
    netns: Option<OwnedFd>,
) -> ! {
    // Die with the helper; if it is already gone, the lifeline says so.
    if set_pdeathsig(Signal::SIGKILL).is_err() || parent_gone(&lifeline) {
        std::process::exit(RUNTIME_ERROR);
    }
    drop(lifeline);
    // Into the cgroup before anything else, so every process of the container is inside.
    for procs in cgroup_procs {
        if let Err(e) = std::fs::write(procs, "0") {
            reporter.fail(
                RUNTIME_ERROR,
                &format!("cannot join cgroup {}: {e}", procs.display()),
            );
        }
    }
    let user = match setup(spec, console_socket, netns)
        .and_then(|user| harden(spec, user.as_ref()).map(|()| user))
    {
        Ok(user) => user,
        Err(e) => reporter.fail(RUNTIME_ERROR, &format!("{e:#}")),
    };
    let env = match &user {
        Some(user) => spec.environment_with_home(&user.home),
        None => spec.environment(),
    };
    if spec.init {
        reap(spec, &env, reporter)
    } else {
        exec_command(spec, &env, reporter)
    }
}

/// Namespaces (the network's readied by the helper: `None` keeps the host's), hostname,
/// mounts, terminal and working directory, in that order; the `-u` user, looked up in the
/// container's own files.
fn setup(
    spec: &ContainerSpec,
    console_socket: Option<OwnedFd>,
    netns: Option<OwnedFd>,
) -> anyhow::Result<Option<user::User>> {
    // The host's unix sockets, listed while we are still in its network namespace: the
    // container's view hides them (see security::mask_host_sockets).
    let sockets = match spec.hardening.host_writable() {
        true => Vec::new(),
        false => security::host_sockets(),
    };
    for ns in namespaces::CONTAINER_OWN {
        namespaces::enter_new(ns)?;
    }
    // Before /sys is mounted: sysfs shows the interfaces of its mounter's namespace.
    if let Some(netns) = netns {
        namespaces::join_net(&netns)?;
    }
    setsid().sys("setsid")?;
    sethostname(&spec.hostname).sys("cannot set hostname")?;
    // Nodes and files we make get exactly the modes asked; the command gets runc's 0022.
    umask(Mode::empty());
    let pty = mounts(spec, &sockets)?;
    umask(Mode::from_bits_truncate(0o022));
    if spec.tty {
        // Our own pty's master goes to the helper, which relays it; a view without its own
        // /dev (--host-rw, --privileged) keeps the launcher's pty.
        if let Some(socket) = &console_socket {
            console::send(socket, pty.as_ref().map(|p| &p.master))?;
        }
        drop(console_socket);
        match pty {
            Some(pty) => {
                drop(pty.master);
                console::take(pty.slave)?;
            }
            None => console::take_controlling_tty()?,
        }
    }
    // None of the caller's supplementary groups pass in (runc and Docker clear them too).
    setgroups(&[]).sys("cannot clear supplementary groups")?;
    let user = spec.user.as_deref().map(user::resolve).transpose()?;
    if spec.create_workdir {
        // Inside the container's root already: whatever its symlinks say stays in there.
        let made = std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(&spec.workdir);
        made.with_context(|| {
            format!("cannot create working directory {}", spec.workdir.display())
        })?;
        if let Some(user) = &user {
            // Docker gives a directory it made to the user that runs in it.
            let _ = nix::unistd::chown(&spec.workdir, Some(user.uid), Some(user.gid));
        }
    }
    let mut dir = spec.workdir.as_path();
    if spec.workdir_is_default && !dir.is_dir() {
        dir = Path::new("/");
    }
    let workdir = || format!("working directory {}", dir.display());
    chdir(dir).with_sys(workdir)?;
    // A cwd outside our mount namespace's root would make getcwd fail (CVE-2024-21626).
    getcwd().with_sys(workdir)?;
    Ok(user)
}

/// The container's filesystem view: its rootfs, or the host's files read-only (or, with
/// `--host-rw`, read-write as the seed had them), always in a private mount namespace.
/// The container's pty (made in its own devpts) comes back when it has a tty.
fn mounts(spec: &ContainerSpec, sockets: &[PathBuf]) -> anyhow::Result<Option<console::Pty>> {
    mounts::make_private()?;
    let sources = volumes::Sources::open(&spec.volumes)?;
    match &spec.rootfs {
        Some(root) => rootfs::enter(spec, &sources, root, &state::path(&spec.id), sockets),
        None if spec.hardening.host_writable() => {
            mounts::mount_proc(&mounts::Target::Path(Path::new("/proc")))?;
            let host = InRoot::open(Path::new("/"), Path::new("/"))?;
            volumes::mount_all(&spec.volumes, &sources, &host, volumes::Tree::HostWritable)?;
            Ok(None)
        }
        None => hostview::enter(spec, &sources, sockets),
    }
}

/// The default hardening (unless `--privileged`): masked and read-only paths, no inherited
/// descriptors, no_new_privs, the capability sets, and last the seccomp filters, which refuse
/// the very mounts made above.
fn harden(spec: &ContainerSpec, user: Option<&user::User>) -> anyhow::Result<()> {
    let hardening = &spec.hardening;
    if hardening.privileged {
        return user.map_or(Ok(()), user::switch);
    }
    security::protect_paths()?;
    security::close_inherited_fds()?;
    let filters = security::seccomp_filters()?;
    let keep = hardening.capabilities().map_err(anyhow::Error::msg)?;
    if spec.init {
        // The init stays this binary: not dumpable, so its /proc/1/exe cannot be opened from
        // inside (that takes CAP_SYS_PTRACE, which the container has not).
        nix::sys::prctl::set_dumpable(false).sys("set_dumpable")?;
    }
    security::drop_privileges(&keep, user)?;
    security::install_seccomp(&filters)
}

/// Becomes the user's command, or reports why it could not.
fn exec_command(spec: &ContainerSpec, env: &[String], reporter: Reporter) -> ! {
    reset_for_exec();
    let (code, message) = exec::exec(&spec.command, env, &spec.path_var());
    reporter.fail(code, &message)
}

/// `--init`: stays PID 1, runs the command as its child, forwards signals to it, reaps every
/// orphan, and exits with the command's status (128+N if it was killed by signal N).
fn reap(spec: &ContainerSpec, env: &[String], reporter: Reporter) -> ! {
    let supervisor = match Supervisor::new(&[]) {
        Ok(s) => s,
        Err(e) => reporter.fail(RUNTIME_ERROR, &format!("init: signalfd: {}", e.desc())),
    };
    // SAFETY: this process is single-threaded (a fork of the single-threaded helper).
    match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            drop(supervisor);
            // Its own process group, in the terminal's foreground: Ctrl-C reaches the command
            // once, from the terminal, not a second time forwarded by us.
            let _ = setpgid(Pid::from_raw(0), Pid::from_raw(0));
            if spec.tty {
                // SAFETY: SIG_IGN installs no handler; it keeps tcsetpgrp from stopping us.
                let _ = unsafe { signal(Signal::SIGTTOU, SigHandler::SigIgn) };
                let _ = tcsetpgrp(std::io::stdin(), getpid());
            }
            exec_command(spec, env, reporter)
        }
        Ok(ForkResult::Parent { child }) => {
            drop(reporter);
            match supervisor.wait(child, true, |_| {}) {
                Ok(exit) => std::process::exit(exit.code()),
                Err(e) => {
                    super::exit::print_error(&format!("init: {}", e.desc()));
                    std::process::exit(RUNTIME_ERROR)
                }
            }
        }
        Err(e) => reporter.fail(RUNTIME_ERROR, &format!("init: fork: {}", e.desc())),
    }
}
