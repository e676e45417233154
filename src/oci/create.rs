//! `create` and `run`: the host side of a new container (see [`crate::runtime::bundle::init`]
//! for the drawing of both sides).

use super::CreateArgs;
use super::state::{Record, Root, Status};
use crate::runtime::bundle::init::{self, Start};
use crate::runtime::bundle::{Bundle, NAMESPACES, hooks};
use crate::runtime::cgroups::{Cgroup, Layout};
use crate::runtime::{Sys, devices, report};
use crate::state::Process;
use anyhow::{Context, anyhow, bail};
use nix::sched::CloneFlags;
use nix::sys::stat::Mode;
use nix::unistd::ForkResult;
use oci_spec::runtime::LinuxNamespaceType;
use std::os::fd::OwnedFd;
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;

/// What a successful create leaves: the record, and init's PID for `run` to wait on.
pub struct Created {
    pub record: Record,
}

/// Everything of a half-made container, removed unless [`Undo::keep`] is called.
struct Undo<'a> {
    root: &'a Root,
    id: &'a str,
    cgroup: Option<Cgroup>,
    child: Option<nix::unistd::Pid>,
    armed: bool,
}

impl Undo<'_> {
    fn keep(mut self) {
        self.armed = false;
    }
}

impl Drop for Undo<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        if let Some(child) = self.child {
            let _ = nix::sys::signal::kill(child, nix::sys::signal::Signal::SIGKILL);
            let _ = nix::sys::wait::waitpid(child, None);
        }
        if let Some(cg) = &self.cgroup {
            for pid in cg.pids() {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            for _ in 0..100 {
                if cg.remove().is_ok() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        }
        let _ = std::fs::remove_dir_all(self.root.dir(self.id));
    }
}

/// `create`: the container set up and parked before its process. The calling process must
/// be single-threaded (the OCI CLI is: it starts no thread).
pub fn create(root: &Root, args: &CreateArgs) -> anyhow::Result<Created> {
    let id = args.id.as_str();
    crate::runtime::bundle::validate_id(id)?;
    if args.preserve_fds > 0 {
        bail!("--preserve-fds is not supported");
    }
    // Root's alone, as runc keeps its root: a record holds the bundle's annotations.
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o711)
        .create(&root.0)
        .with_context(|| format!("cannot create the state root {}", root.0.display()))?;
    let dir = root.dir(id);
    match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            bail!("container with id {id} already exists")
        }
        Err(e) => return Err(e).with_context(|| format!("cannot create {}", dir.display())),
    }
    let mut undo = Undo {
        root,
        id,
        cgroup: None,
        child: None,
        armed: true,
    };
    let bundle = Bundle::load(&args.bundle, id)?;
    std::fs::write(dir.join("config.json"), serde_json::to_vec(&bundle.config)?)
        .context("cannot keep the config")?;
    let fifo = root.fifo(id);
    nix::unistd::mkfifo(&fifo, Mode::from_bits_truncate(0o600)).sys("cannot make the exec fifo")?;
    let exec_fifo = nix::fcntl::open(
        &fifo,
        nix::fcntl::OFlag::O_PATH | nix::fcntl::OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .sys("cannot open the exec fifo")?;
    let layout = Layout::detect()?;
    let rules = bundle
        .device_rules
        .clone()
        .unwrap_or_else(|| devices::rules(&[]));
    let cgroup = Cgroup::create_at(
        &layout,
        &bundle.cgroup,
        &bundle.spec.limits,
        Some(&rules),
        true,
    )?;
    undo.cgroup = Some(cgroup.clone());
    cgroup.apply(&bundle.spec.limits)?;
    let resources = bundle
        .config
        .linux()
        .as_ref()
        .and_then(|l| l.resources().as_ref());
    super::verbs::warn_unapplied(&cgroup, resources, &bundle.spec.limits);
    // Its user namespace (maps written, or the one its path names), joined by init once its
    // mounts are made: made before the PID namespace, whose first child the maker would be.
    let userns = match bundle.namespace(LinuxNamespaceType::User) {
        Some(None) => {
            let linux = bundle.config.linux().as_ref();
            let maps = linux
                .map(crate::runtime::bundle::id_maps)
                .unwrap_or_default();
            Some(crate::runtime::idmap::create(&maps)?)
        }
        Some(Some(path)) => Some(open_namespace(&path)?),
        None => None,
    };
    let own_pid_namespace = match bundle.namespace(LinuxNamespaceType::Pid) {
        Some(None) => {
            crate::runtime::namespaces::enter_new(crate::runtime::namespaces::PID)?;
            true
        }
        Some(Some(path)) => {
            let fd = open_namespace(&path)?;
            crate::runtime::namespaces::join_one(&fd, CloneFlags::CLONE_NEWPID)
                .with_context(|| format!("pid namespace {}", path.display()))?;
            false
        }
        None => false,
    };
    let mut joins = Vec::new();
    for (kind, flag) in NAMESPACES {
        if flag != CloneFlags::CLONE_NEWPID
            && let Some(Some(path)) = bundle.namespace(kind)
        {
            joins.push((flag, open_namespace(&path)?));
        }
    }
    let console_socket = args.console_socket.as_deref().map(connect).transpose()?;
    if bundle.spec.tty && console_socket.is_none() {
        bail!("process.terminal is set: --console-socket is required");
    }
    let created = humantime::format_rfc3339_nanos(std::time::SystemTime::now()).to_string();
    let annotations = bundle.config.annotations().clone().unwrap_or_default();
    let mut record = Record {
        id: id.to_string(),
        init: Process { pid: 0, start: 0 },
        bundle: bundle.dir.clone(),
        rootfs: bundle.rootfs.clone(),
        created,
        annotations,
        cgroup: bundle.cgroup.clone(),
        cgroup_made: cgroup.made().to_vec(),
        own_pid_namespace,
    };
    let (receiver, reporter) = report::channel().sys("pipe")?;
    // The state startContainer hooks read on stdin: init cannot learn its host PID from
    // inside its PID namespace, so we send it down this pipe once forked.
    let (pid_r, pid_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).sys("pipe")?;
    let hook_state = record.state_json(Status::Running);
    let child = match crate::runtime::sys::fork()? {
        ForkResult::Child => {
            drop(receiver);
            drop(pid_w);
            init::run(
                &bundle,
                Start {
                    cgroup_procs: cgroup.procs_files(),
                    reporter,
                    console_socket,
                    exec_fifo,
                    joins,
                    userns,
                    hook_state,
                    host_pid: pid_r,
                },
            )
        }
        ForkResult::Parent { child } => child,
    };
    undo.child = Some(child);
    drop(pid_r);
    // A short write to a fresh pipe: all or nothing.
    let _ = nix::unistd::write(&pid_w, &child.as_raw().to_ne_bytes());
    drop(pid_w);
    drop(reporter);
    drop(console_socket);
    if let Some((_, message)) = receiver.read() {
        return Err(anyhow!(message));
    }
    record.init = Process::of(child.as_raw())
        .ok_or_else(|| anyhow!("the container's init ended during create"))?;
    root.save(&record)?;
    let state = record.state_json(Status::Created).to_string();
    if let Some(h) = bundle.config.hooks() {
        for (phase, list) in [
            ("prestart", h.prestart()),
            ("createRuntime", h.create_runtime()),
        ] {
            if let Some(list) = list {
                hooks::run(list, &state, phase)?;
            }
        }
    }
    if let Some(path) = &args.pid_file {
        write_pid_file(path, child.as_raw())?;
    }
    undo.keep();
    Ok(Created { record })
}

/// `run`: create, start, and without `detach` wait for init, delete, and exit with its status.
pub fn run(root: &Root, args: &CreateArgs, detach: bool) -> anyhow::Result<i32> {
    let created = create(root, args)?;
    if let Err(e) = super::verbs::start(root, &args.id) {
        let _ = super::verbs::delete(root, &args.id, true);
        return Err(e);
    }
    if detach {
        return Ok(0);
    }
    let pid = nix::unistd::Pid::from_raw(created.record.init.pid);
    let code = loop {
        match nix::sys::wait::waitpid(pid, None) {
            Ok(nix::sys::wait::WaitStatus::Exited(_, code)) => break code,
            Ok(nix::sys::wait::WaitStatus::Signaled(_, sig, _)) => break 128 + sig as i32,
            Ok(_) => continue,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(anyhow!("waitpid: {}", e.desc())),
        }
    };
    super::verbs::delete(root, &args.id, true)?;
    Ok(code)
}

fn open_namespace(path: &Path) -> anyhow::Result<OwnedFd> {
    nix::fcntl::open(
        path,
        nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .with_sys(|| format!("cannot open namespace {}", path.display()))
}

fn connect(path: &Path) -> anyhow::Result<OwnedFd> {
    let stream = std::os::unix::net::UnixStream::connect(path)
        .with_context(|| format!("cannot connect to the console socket {}", path.display()))?;
    Ok(OwnedFd::from(stream))
}

/// The PID, written to a temporary file and renamed, as runc does: a reader sees all or
/// nothing.
pub fn write_pid_file(path: &Path, pid: i32) -> anyhow::Result<()> {
    let tmp = path.with_file_name(format!(
        ".{}.tmp",
        path.file_name().unwrap_or_default().to_string_lossy()
    ));
    std::fs::write(&tmp, pid.to_string())
        .with_context(|| format!("cannot write the pid file {}", tmp.display()))?;
    std::fs::rename(&tmp, path)
        .with_context(|| format!("cannot write the pid file {}", path.display()))
}
