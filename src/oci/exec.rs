//! `exec`: a process in a running container, runc's setns path. The process is described by
//! `--process process.json` (what containerd's shim passes) or by arguments and flags over
//! the container's own `process`; the container's seccomp profile applies to it too.
//!
//! With `--detach` the process outlives this command (reparented, like init, to whoever
//! reaps for it: containerd's shim); without, this command waits and exits with its status.

use super::create::write_pid_file;
use super::state::{Root, Status};
use crate::runtime::bundle::init::becoming;
use crate::runtime::process::tenant::{self, Joining};
use crate::runtime::report::{self, Reporter};
use crate::runtime::supervise::Supervisor;
use crate::runtime::{Sys, pidfd};
use anyhow::{Context, anyhow, bail};
use nix::sched::CloneFlags;
use nix::unistd::ForkResult;
use oci_spec::runtime::{LinuxSeccomp, Process};
use std::os::fd::OwnedFd;
use std::path::PathBuf;

#[derive(Debug, Clone, clap::Args)]
pub struct ExecArgs {
    /// The process as JSON (the runtime spec's `process`)
    #[arg(short, long, value_name = "FILE")]
    process: Option<PathBuf>,
    /// A unix socket to send the pty master to (with a terminal)
    #[arg(long, value_name = "PATH")]
    console_socket: Option<PathBuf>,
    /// Return once the process runs
    #[arg(short, long)]
    detach: bool,
    /// Write the process's host PID here
    #[arg(long, value_name = "FILE")]
    pid_file: Option<PathBuf>,
    /// A terminal for the process
    #[arg(short, long)]
    tty: bool,
    /// Working directory inside the container
    #[arg(long)]
    cwd: Option<PathBuf>,
    /// KEY=VALUE over the container's environment
    #[arg(short, long)]
    env: Vec<String>,
    /// UID[:GID]
    #[arg(short, long)]
    user: Option<String>,
    /// Set no_new_privs
    #[arg(long)]
    no_new_privs: bool,
    /// Accepted for compatibility
    #[arg(long, default_value_t = 0)]
    preserve_fds: u32,
    id: String,
    /// The command and its arguments (without --process)
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

/// The process to run: `--process`, or the container's own with the flags over it.
fn process(root: &Root, args: &ExecArgs) -> anyhow::Result<Process> {
    if let Some(path) = &args.process {
        let text = crate::runtime::bundle::read_json_file(path)?;
        return serde_json::from_slice(&text)
            .with_context(|| format!("{}: not a valid process", path.display()));
    }
    if args.args.is_empty() {
        bail!("exec: a command (or --process) is required");
    }
    let config = root.config(&args.id)?;
    let mut process = config.process().clone().unwrap_or_default();
    process.set_args(Some(args.args.clone()));
    process.set_terminal(Some(args.tty));
    if let Some(cwd) = &args.cwd {
        process.set_cwd(cwd.clone());
    }
    let mut env = process.env().clone().unwrap_or_default();
    for kv in &args.env {
        crate::spec::set_env(&mut env, kv);
    }
    process.set_env(Some(env));
    if let Some(user) = &args.user {
        let (uid, gid) = user.split_once(':').unwrap_or((user, "0"));
        let parse = |s: &str| {
            s.parse::<u32>()
                .map_err(|_| anyhow!("--user {user:?}: UID[:GID]"))
        };
        let u = process.user_mut();
        u.set_uid(parse(uid)?);
        u.set_gid(parse(gid)?);
    }
    if args.no_new_privs {
        process.set_no_new_privileges(Some(true));
    }
    Ok(process)
}

/// `exec`; returns this command's exit status.
pub fn exec(root: &Root, args: &ExecArgs) -> anyhow::Result<i32> {
    let record = root.load(&args.id)?;
    let status = record.status(root);
    if !matches!(status, Status::Running | Status::Created) {
        bail!("cannot exec in a {} container", status.name());
    }
    let process = process(root, args)?;
    if process.args().as_ref().is_none_or(|a| a.is_empty()) {
        bail!("process.args must not be empty");
    }
    let config = root.config(&args.id)?;
    let seccomp = config.linux().as_ref().and_then(|l| l.seccomp().clone());
    let userns = config.linux().as_ref().is_some_and(|l| {
        l.namespaces()
            .iter()
            .flatten()
            .any(|ns| ns.typ() == oci_spec::runtime::LinuxNamespaceType::User)
    });
    let tty = process.terminal() == Some(true);
    let console_socket = match (&args.console_socket, tty) {
        (Some(path), true) => Some(OwnedFd::from(
            std::os::unix::net::UnixStream::connect(path)
                .with_context(|| format!("cannot connect to {}", path.display()))?,
        )),
        (None, true) => bail!("process.terminal is set: --console-socket is required"),
        _ => None,
    };
    let supervisor = match args.detach {
        true => None,
        false => Some(Supervisor::new(&[]).sys("signalfd")?),
    };
    let pidfd = pidfd::open(record.init).map_err(|_| anyhow!("container not running"))?;
    crate::runtime::namespaces::join_one(&pidfd, CloneFlags::CLONE_NEWPID)?;
    let procs: Vec<PathBuf> = record
        .cgroup()
        .map(|c| {
            c.existing_dirs()
                .iter()
                .map(|d| d.join("cgroup.procs"))
                .collect()
        })
        .unwrap_or_default();
    let (receiver, reporter) = report::channel().sys("pipe")?;
    let child = match crate::runtime::sys::fork()? {
        ForkResult::Child => {
            drop(receiver);
            enter(
                &process,
                seccomp.as_ref(),
                &pidfd,
                &procs,
                console_socket,
                reporter,
                userns,
            )
        }
        ForkResult::Parent { child } => child,
    };
    drop(reporter);
    drop(console_socket);
    // A failure before execve (a missing command too) is exec's own error, as with runc.
    if let Some((_, message)) = receiver.read() {
        let _ = nix::sys::wait::waitpid(child, None);
        bail!("{message}");
    }
    if let Some(path) = &args.pid_file {
        write_pid_file(path, child.as_raw())?;
    }
    let Some(supervisor) = supervisor else {
        return Ok(0);
    };
    let exit = supervisor.wait(child, false, |_| {}).sys("waitpid")?;
    Ok(exit.code())
}

/// The child: the one way into a running container ([`tenant::enter`]), with what the OCI
/// process says. Never returns.
fn enter(
    process: &Process,
    seccomp: Option<&LinuxSeccomp>,
    pidfd: &OwnedFd,
    procs: &[PathBuf],
    console_socket: Option<OwnedFd>,
    reporter: Reporter,
    userns: bool,
) -> ! {
    let argv = process.args().clone().unwrap_or_default();
    let env = process.env().clone().unwrap_or_default();
    let path = crate::runtime::execve::path_of(&env);
    let joining = Joining {
        pidfd,
        cgroup_procs: procs,
        stdio: Vec::new(),
        console: (process.terminal() == Some(true)).then_some(console_socket),
        // A detached process outlives exec: it must not die with it.
        outlives_parent: true,
        look_up: true,
        argv: &argv,
        env: &env,
        path: &path,
        userns,
    };
    tenant::enter(joining, || becoming(process, seccomp), reporter)
}
