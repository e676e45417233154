//! A spec's container side: the helper's forked child, PID 1 of the new PID namespace, set up
//! through the one init ([`super::process::init`]) with what a spec says: its mounts (the
//! host's view, a rootfs, an image), the default hardening, the `-u` user; then the command,
//! or the `--init` reaper with the command as its child.

use super::exit::RUNTIME_ERROR;
use super::process::init::{Init, Origin, Terminal};
use super::process::{self, Becoming};
use super::report::Reporter;
use super::rootpath::InRoot;
use super::supervise::{Supervisor, reset_for_exec};
use super::{console, execve, hostview, mounts, namespaces, rootfs, security, user, volumes};
use crate::spec::ContainerSpec;
use crate::state::tree as state;
use anyhow::Context;
use nix::sys::signal::{SigHandler, Signal, signal};
use nix::unistd::{ForkResult, Pid, getpid, setpgid, tcsetpgrp};
use seccompiler::BpfProgram;
use std::os::fd::OwnedFd;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

/// The namespaces the helper readied for PID 1 to join: its network (`None` keeps the
/// host's), another container's IPC (`--ipc container:`), its user namespace (`--userns`).
pub struct Readied {
    pub netns: Option<OwnedFd>,
    pub ipc: Option<OwnedFd>,
    pub userns: Option<OwnedFd>,
}

/// Entry of the container's PID 1: [`process::init::run`] with a spec's [`SpecOrigin`].
/// Never returns: it becomes the command, or the `--init` reaper, or exits with the reported
/// failure.
pub fn run(
    spec: &ContainerSpec,
    cgroup_procs: Vec<PathBuf>,
    lifeline: OwnedFd,
    reporter: Reporter,
    console_socket: Option<OwnedFd>,
    readied: Readied,
) -> ! {
    use crate::spec::Share;
    let Readied { netns, ipc, userns } = readied;
    // The image's layers are mapped through it as they are mounted, before it is joined.
    let userns_for_mounts = userns.as_ref().and_then(|fd| fd.try_clone().ok());
    let init = Init {
        cgroup_procs,
        reporter,
        console_socket,
        lifeline: Some(lifeline),
        // The network the helper readied (`None` keeps the host's); joined before /sys is
        // mounted, as sysfs shows the interfaces of its mounter's namespace.
        joins: netns
            .map(|fd| (namespaces::NET.flag, fd))
            .into_iter()
            .chain(ipc.map(|fd| (namespaces::IPC.flag, fd)))
            .collect(),
        // --uts host and --ipc host/container: not made (the latter joined above).
        new: namespaces::CONTAINER_OWN
            .into_iter()
            .filter(|ns| match ns.name {
                "uts" => spec.shared.uts == Share::Own,
                "ipc" => spec.shared.ipc == Share::Own,
                _ => true,
            })
            .collect(),
        // The host's own name is never set from a container's spec.
        hostname: (spec.shared.uts == Share::Own).then(|| spec.hostname.clone()),
        domainname: None,
        userns,
        terminal: match spec.tty {
            // A view without its own /dev (--host-rw, --privileged) keeps the launcher's pty.
            true => Terminal::Pty {
                size: None,
                inherited: true,
            },
            false => Terminal::None,
        },
    };
    process::init::run(init, SpecOrigin::new(spec, userns_for_mounts))
}

/// A spec's container: the seed's view of the host, a rootfs, or an image.
pub struct SpecOrigin<'a> {
    spec: &'a ContainerSpec,
    /// The host's unix sockets, listed while we are still in its network namespace: the
    /// container's view hides them (see security::mask_host_sockets).
    sockets: Vec<PathBuf>,
    /// The `-u` user, once resolved in the container's own files.
    user: Option<user::User>,
    /// Its user namespace, which its root filesystem's owners are seen through.
    userns: Option<OwnedFd>,
}

impl<'a> SpecOrigin<'a> {
    pub fn new(spec: &'a ContainerSpec, userns: Option<OwnedFd>) -> SpecOrigin<'a> {
        let sockets = match spec.hardening.host_writable() {
            true => Vec::new(),
            false => security::host_sockets(),
        };
        SpecOrigin {
            spec,
            sockets,
            user: None,
            userns,
        }
    }
}

impl Origin for SpecOrigin<'_> {
    fn mounts(&mut self) -> anyhow::Result<Option<console::Pty>> {
        use std::os::fd::AsFd;
        mounts(
            self.spec,
            &self.sockets,
            self.userns.as_ref().map(|fd| fd.as_fd()),
        )
    }

    fn protect(&mut self) -> anyhow::Result<()> {
        match self.spec.hardening.privileged {
            true => Ok(()),
            false => security::protect_paths(),
        }
    }

    fn kernel(&mut self) -> anyhow::Result<()> {
        use crate::spec::network::Mode;
        let own_network = matches!(self.spec.network.mode, Mode::Bridge(_) | Mode::None);
        if self.spec.userns.own() && own_network {
            // Its network namespace stays the host user namespace's, over which its root holds
            // no capability: ports below 1024 and ping are opened to every user of it instead
            // (Docker opens the ports so for every container).
            process::sysctl("net.ipv4.ip_unprivileged_port_start", "0")?;
            process::sysctl("net.ipv4.ping_group_range", "0 4294967294")?;
        }
        for (key, value) in &self.spec.sysctls {
            process::sysctl(key, value)?;
        }
        Ok(())
    }

    fn becoming(&mut self) -> anyhow::Result<Becoming> {
        let spec = self.spec;
        let user = user::resolve_for(spec.user.as_deref(), &spec.group_add)?;
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
        let mut cwd = spec.workdir.clone();
        if spec.workdir_is_default && !cwd.is_dir() {
            cwd = PathBuf::from("/");
        }
        let mut becoming = security::becoming(&spec.hardening, user.as_ref(), cwd)?;
        becoming.rlimits = spec
            .ulimits
            .iter()
            .map(|u| Ok((security::resource(&u.name)?, u.soft, u.hard)))
            .collect::<anyhow::Result<_>>()?;
        self.user = user;
        Ok(becoming)
    }

    fn finish(self, late: Vec<BpfProgram>, reporter: Reporter) -> ! {
        let spec = self.spec;
        let env = match &self.user {
            Some(user) => spec.environment_with_home(&user.home),
            None => spec.environment(),
        };
        // Seccomp last: with --init, the reaper is filtered as its command is.
        if let Err(e) = process::install_seccomp(&late) {
            reporter.fail(RUNTIME_ERROR, &format!("{e:#}"));
        }
        if spec.init {
            reap(spec, &env, reporter)
        } else {
            exec_command(spec, &env, reporter)
        }
    }
}

/// The container's filesystem view: its rootfs, or the host's files read-only (or, with
/// `--host-rw`, read-write as the seed had them), always in a private mount namespace.
/// The container's pty (made in its own devpts) comes back when it has a tty.
fn mounts(
    spec: &ContainerSpec,
    sockets: &[PathBuf],
    userns: Option<std::os::fd::BorrowedFd>,
) -> anyhow::Result<Option<console::Pty>> {
    mounts::make_private()?;
    let sources = volumes::Sources::open(&spec.volumes)?;
    match &spec.rootfs {
        Some(root) => rootfs::enter(
            spec,
            &sources,
            root,
            &state::path(&spec.id),
            sockets,
            userns,
        ),
        None if spec.hardening.host_writable() => {
            mounts::mount_proc(&mounts::Target::Path(Path::new("/proc")))?;
            let host = InRoot::open(Path::new("/"), Path::new("/"))?;
            volumes::mount_all(
                &spec.volumes,
                &sources,
                &host,
                volumes::Tree::HostWritable,
                None,
            )?;
            Ok(None)
        }
        None => hostview::enter(spec, &sources, sockets, userns),
    }
}

/// Becomes the user's command, or reports why it could not.
fn exec_command(spec: &ContainerSpec, env: &[String], reporter: Reporter) -> ! {
    reset_for_exec();
    let (code, message) = execve::exec(&spec.command, env, &spec.path_var());
    reporter.fail(code, &message)
}

/// `--init`: stays PID 1, runs the command as its child, forwards signals to it, reaps every
/// orphan, and exits with the command's status (128+N if it was killed by signal N).
fn reap(spec: &ContainerSpec, env: &[String], reporter: Reporter) -> ! {
    let supervisor = match Supervisor::new(&[]) {
        Ok(s) => s,
        Err(e) => reporter.fail(RUNTIME_ERROR, &format!("init: signalfd: {}", e.desc())),
    };
    match crate::runtime::sys::fork() {
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
        Err(e) => reporter.fail(RUNTIME_ERROR, &format!("init: {e:#}")),
    }
}
