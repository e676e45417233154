//! `exec`: a new process in a running container, runc's setns path beside [`super::init`]'s
//! new-container path.
//!
//! ```text
//!  exec (host)                          child
//!  pidfd_open(PID 1), check start time
//!  setns(pidfd, PID)  (children only)
//!  fork ───────────────────────────────► born in the container's PID namespace
//!                                        not dumpable (no ptrace, no /proc/N/exe from inside)
//!                                        join the container's cgroup (device rules too)
//!                                        setns(pidfd, mnt uts ipc net cgroup)
//!                                        session; a pty of the container's devpts (-t)
//!  ◄── pty master (SCM_RIGHTS) ───────── capabilities, no_new_privs, user, cwd, seccomp
//!  relay the terminal, forward signals   execve (failure reported on a pipe: 126, 127)
//!  exit with its status
//! ```
//!
//! The child stays non-dumpable until `execve` (which makes the command dumpable again, as
//! any process), so nothing in the container can reach into it, or through its
//! `/proc/PID/exe` to this binary on the host, while it still holds host descriptors (the
//! runc CVE-2016-9962 and CVE-2019-5736 class). It never holds one past `execve`: every
//! descriptor above 2 is close-on-exec.

use super::Sys;
use super::console;
use super::exit::RUNTIME_ERROR;
use super::report::{self, Reporter};
use super::supervise::{Supervisor, reset_for_exec};
use crate::spec::ContainerSpec;
use crate::state::Process;
use nix::sched::CloneFlags;
use nix::sys::signal::Signal;
use nix::unistd::{ForkResult, fork, setsid};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;

/// What to run in which container.
pub struct Tenant<'a> {
    /// The container's PID 1, by PID and start time.
    pub init: Process,
    /// The container's spec: its environment, working directory and hardening.
    pub spec: &'a ContainerSpec,
    /// The container's cgroup: its `cgroup.procs` files, on the host.
    pub cgroup_procs: Vec<PathBuf>,
    pub command: Vec<String>,
    /// `-e` pairs, over the container's own environment.
    pub env: Vec<String>,
    /// `-w`; else the container's working directory.
    pub workdir: Option<PathBuf>,
    /// `-u`: `user[:group]`, names or numbers, looked up in the container's files.
    pub user: Option<String>,
    pub tty: bool,
    /// Keep stdin (else the command reads `/dev/null`).
    pub interactive: bool,
}

/// Runs the tenant and returns its exit status (the command's, 128+N, or 125-127 for ours).
///
/// # Safety
/// The calling process must be single-threaded: it forks, and the child allocates.
pub unsafe fn run(tenant: &Tenant) -> anyhow::Result<i32> {
    let extra: &[Signal] = if tenant.tty { &[Signal::SIGWINCH] } else { &[] };
    let supervisor = Supervisor::new(extra).sys("signalfd")?;
    let pidfd = super::pidfd::open(tenant.init)
        .map_err(|_| anyhow::anyhow!("the container is not running"))?;
    let null = std::fs::File::open("/dev/null").map_err(anyhow::Error::from)?;
    super::namespaces::join(&pidfd, CloneFlags::CLONE_NEWPID)?;
    let (receiver, reporter) = report::channel().sys("pipe")?;
    let (ours, theirs) = match tenant.tty {
        true => {
            let (ours, theirs) = console::channel().sys("socketpair")?;
            (Some(ours), Some(theirs))
        }
        false => (None, None),
    };
    // Without -t, our terminals reach the command through pipes (see console::terminal_pipes);
    // stdin only with -i (else it is /dev/null).
    let (pipes, relayed) = match tenant.tty {
        true => Default::default(),
        false => console::terminal_pipes(tenant.interactive).sys("pipe")?,
    };
    // SAFETY: the caller guarantees a single-threaded process; the child makes syscalls and
    // allocates only.
    let child = match unsafe { fork() }.sys("fork")? {
        ForkResult::Child => {
            drop(receiver);
            drop(ours);
            drop(relayed);
            enter(tenant, &pidfd, &null, theirs, pipes, reporter)
        }
        ForkResult::Parent { child } => child,
    };
    drop(theirs);
    drop(reporter);
    drop(pipes);
    let mut relay = match ours.as_ref().and_then(console::receive) {
        Some(master) => Some(console::Relay::new(master).map_err(anyhow::Error::msg)?),
        None if relayed.0.iter().any(Option::is_some) => {
            Some(console::Relay::pipes(relayed).map_err(anyhow::Error::msg)?)
        }
        None => None,
    };
    let failure = receiver.read();
    let exit = supervisor
        .wait_relaying(child, false, |_| {}, relay.as_mut())
        .sys("waitpid")?;
    if let Some((code, message)) = failure {
        super::exit::print_error(&message);
        return Ok(code);
    }
    Ok(exit.code())
}

/// The child: into the container, hardened, and exec. Never returns.
fn enter(
    tenant: &Tenant,
    pidfd: &OwnedFd,
    null: &std::fs::File,
    console_socket: Option<OwnedFd>,
    pipes: console::Pipes,
    reporter: Reporter,
) -> ! {
    let fail = |reporter: Reporter, e: anyhow::Error| -> ! {
        reporter.fail(RUNTIME_ERROR, &format!("{e:#}"))
    };
    for (fd, pipe) in pipes.0.iter().enumerate() {
        // SAFETY: dup2 onto a standard descriptor touches no memory of ours.
        if let Some(p) = pipe
            && unsafe { libc::dup2(p.as_raw_fd(), fd as i32) } < 0
        {
            fail(
                reporter,
                anyhow::Error::from(std::io::Error::last_os_error()),
            )
        }
    }
    drop(pipes);
    if let Err(e) = prepare(tenant, pidfd, null, console_socket) {
        fail(reporter, e)
    }
    let spec = tenant.spec;
    let mut env = spec.environment();
    for kv in &tenant.env {
        let key = kv.split('=').next().unwrap_or("");
        env.retain(|e| e.split('=').next() != Some(key));
        env.push(kv.clone());
    }
    if tenant.tty && !env.iter().any(|e| e.starts_with("TERM=")) {
        env.push("TERM=xterm".into());
    }
    let path = env
        .iter()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or(crate::spec::DEFAULT_PATH)
        .to_string();
    reset_for_exec();
    let (code, message) = super::exec::exec(&tenant.command, &env, &path);
    reporter.fail(code, &message)
}

/// Everything between fork and exec that can fail.
fn prepare(
    tenant: &Tenant,
    pidfd: &OwnedFd,
    null: &std::fs::File,
    console_socket: Option<OwnedFd>,
) -> anyhow::Result<()> {
    use nix::sys::prctl;
    prctl::set_pdeathsig(Signal::SIGKILL).sys("prctl")?;
    prctl::set_dumpable(false).sys("set_dumpable")?;
    for procs in &tenant.cgroup_procs {
        std::fs::write(procs, "0")
            .map_err(|e| anyhow::anyhow!("cannot join cgroup {}: {e}", procs.display()))?;
    }
    super::namespaces::join(pidfd, super::namespaces::JOINED_BY_EXEC)?;
    setsid().sys("setsid")?;
    if tenant.tty {
        console::take_new(console_socket.as_ref())?;
    } else if !tenant.interactive {
        // SAFETY: dup2 onto stdin touches no memory of ours.
        if unsafe { libc::dup2(null.as_raw_fd(), 0) } < 0 {
            return Err(anyhow::Error::from(std::io::Error::last_os_error()));
        }
    }
    // Without -u, the container's own user (Docker's exec), not root.
    let user = match tenant.user.as_ref().or(tenant.spec.user.as_ref()) {
        Some(user) => Some(super::user::resolve(user)?),
        None => None,
    };
    let hardening = &tenant.spec.hardening;
    let filters = if hardening.privileged {
        match &user {
            Some(user) => super::user::switch(user)?,
            None => nix::unistd::setgroups(&[]).sys("cannot clear supplementary groups")?,
        }
        None
    } else {
        super::security::close_inherited_fds()?;
        let keep = hardening.capabilities().map_err(anyhow::Error::msg)?;
        let filters = super::security::seccomp_filters()?;
        super::security::drop_privileges(&keep, user.as_ref())?;
        Some(filters)
    };
    let dir = tenant
        .workdir
        .clone()
        .unwrap_or_else(|| tenant.spec.workdir.clone());
    let dir = if tenant.workdir.is_none() && !dir.is_dir() {
        PathBuf::from("/")
    } else {
        dir
    };
    let what = || format!("working directory {}", dir.display());
    nix::unistd::chdir(&dir).with_sys(what)?;
    nix::unistd::getcwd().with_sys(what)?;
    if let Some(filters) = filters {
        super::security::install_seccomp(&filters)?;
    }
    Ok(())
}
