//! `exec`'s parent side: a new process in a running container, runc's setns path beside
//! [`super::init`]'s new-container path. It joins the container's PID namespace, forks the
//! child ([`process::tenant`], which enters the rest and execs), relays the terminal or the
//! pipes, forwards signals, and returns the command's status.

use super::Sys;
use super::console;
use super::process::{self, tenant::Joining};
use super::report::{self, Reporter};
use super::supervise::Supervisor;
use crate::spec::ContainerSpec;
use crate::state::Process;
use nix::sched::CloneFlags;
use nix::sys::signal::Signal;
use nix::unistd::ForkResult;
use std::os::fd::OwnedFd;
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
    /// `exec -d`: stdio `/dev/null`, returned from once it runs; it lives on inside, reaped
    /// by the container's PID 1 once we are gone.
    pub detach: bool,
}

/// Runs the tenant and returns its exit status (the command's, 128+N, or 125-127 for ours).
/// The calling process must be single-threaded ([`super::sys::fork`] refuses otherwise).
pub fn run(tenant: &Tenant) -> anyhow::Result<i32> {
    let extra: &[Signal] = if tenant.tty { &[Signal::SIGWINCH] } else { &[] };
    let supervisor = Supervisor::new(extra).sys("signalfd")?;
    let pidfd = super::pidfd::open(tenant.init)
        .map_err(|_| anyhow::anyhow!("the container is not running"))?;
    let null = std::fs::File::open("/dev/null").map_err(anyhow::Error::from)?;
    // A rootless container's namespaces are its user namespace's: joined first, so that the
    // user is root over the rest.
    super::rootless::join_container(&pidfd)?;
    super::namespaces::join(&pidfd, CloneFlags::CLONE_NEWPID)?;
    let (receiver, reporter) = report::channel().sys("pipe")?;
    let (ours, theirs) = match tenant.tty && !tenant.detach {
        true => {
            let (ours, theirs) = console::channel().sys("socketpair")?;
            (Some(ours), Some(theirs))
        }
        false => (None, None),
    };
    // Without -t, our terminals reach the command through pipes (see console::terminal_pipes);
    // stdin only with -i (else it is /dev/null).
    let (pipes, relayed) = match tenant.tty || tenant.detach {
        true => Default::default(),
        false => console::terminal_pipes(tenant.interactive).sys("pipe")?,
    };
    let child = match super::sys::fork()? {
        ForkResult::Child => {
            drop(receiver);
            drop(ours);
            drop(relayed);
            enter(tenant, &pidfd, null, theirs, pipes, reporter)
        }
        ForkResult::Parent { child } => child,
    };
    drop(theirs);
    drop(reporter);
    drop(pipes);
    drop(null);
    let mut relay = match ours.as_ref().and_then(console::receive) {
        Some(master) => Some(console::Relay::new(master).map_err(anyhow::Error::msg)?),
        None if relayed.0.iter().any(Option::is_some) => {
            Some(console::Relay::pipes(relayed).map_err(anyhow::Error::msg)?)
        }
        None => None,
    };
    let failure = receiver.read();
    if tenant.detach {
        return Ok(match failure {
            Some((code, message)) => {
                super::exit::print_error(&message);
                code
            }
            None => 0,
        });
    }
    let exit = supervisor
        .wait_relaying(child, false, |_| {}, relay.as_mut())
        .sys("waitpid")?;
    if let Some((code, message)) = failure {
        super::exit::print_error(&message);
        return Ok(code);
    }
    Ok(exit.code())
}

/// The child: the one way into a running container ([`process::tenant::enter`]), with what
/// the spec and `exec`'s flags say. Never returns.
fn enter(
    tenant: &Tenant,
    pidfd: &OwnedFd,
    null: std::fs::File,
    console_socket: Option<OwnedFd>,
    pipes: console::Pipes,
    reporter: Reporter,
) -> ! {
    let mut stdio: Vec<(OwnedFd, i32)> = pipes
        .0
        .into_iter()
        .enumerate()
        .filter_map(|(fd, pipe)| pipe.map(|p| (p, fd as i32)))
        .collect();
    if tenant.detach {
        for fd in 0..3 {
            match null.try_clone() {
                Ok(copy) => stdio.push((OwnedFd::from(copy), fd)),
                Err(e) => reporter.fail(super::exit::RUNTIME_ERROR, &format!("/dev/null: {e}")),
            }
        }
    } else if !tenant.tty && !tenant.interactive {
        stdio.push((OwnedFd::from(null), 0));
    }
    let spec = tenant.spec;
    let mut env = spec.environment();
    for kv in &tenant.env {
        crate::spec::set_env(&mut env, kv);
    }
    if tenant.tty && !env.iter().any(|e| e.starts_with("TERM=")) {
        env.push("TERM=xterm".into());
    }
    let path = super::execve::path_of(&env);
    let joining = Joining {
        pidfd,
        cgroup_procs: &tenant.cgroup_procs,
        stdio,
        console: (tenant.tty && !tenant.detach).then_some(console_socket),
        outlives_parent: tenant.detach,
        look_up: false,
        argv: &tenant.command,
        env: &env,
        path: &path,
        userns: spec.userns.own(),
    };
    let becoming = || {
        // Without -u, the container's own user (Docker's exec), not root.
        let user = match tenant.user.as_ref().or(spec.user.as_ref()) {
            Some(user) => Some(super::user::resolve(user)?),
            None => None,
        };
        let dir = tenant
            .workdir
            .clone()
            .unwrap_or_else(|| spec.workdir.clone());
        let cwd = match tenant.workdir.is_none() && !dir.is_dir() {
            true => PathBuf::from("/"),
            false => dir,
        };
        super::security::becoming(&spec.hardening, user.as_ref(), cwd)
    };
    process::tenant::enter(joining, becoming, reporter)
}
