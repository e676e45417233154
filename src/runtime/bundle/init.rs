//! The container side of an OCI bundle: PID 1 (of the new PID namespace, when the config
//! asks for one), forked by `create`, set up exactly as `config.json` says, then parked on
//! the exec fifo until `start`.
//!
//! ```text
//!  create (host)                          init
//!  mkfifo exec.fifo, open it O_PATH
//!  cgroup at cgroupsPath, limits, devices
//!  unshare(PID) / setns(pid path)
//!  fork ────────────────────────────────► join the cgroup, the namespaces with a path;
//!                                          unshare the others; hostname
//!                                          mounts in order, /dev, pivot_root
//!  ◄── pty master (console socket) ────── terminal; sysctls, oomScoreAdj, rlimits
//!                                          masked and read-only paths
//!                                          user, capability sets, noNewPrivileges,
//!                                          seccomp, cwd, the command looked up
//!  ◄── report pipe closed: ready ───────── (or a failure written on it)
//!  hooks, state.json, pid file; exit      open(/proc/self/fd/N, O_WRONLY): blocks
//!  start: open exec.fifo, read ─────────► write "0"; startContainer hooks; execve
//! ```
//!
//! The create process exits once init is parked: init is reparented to whoever reaps for
//! it (containerd's shim, a subreaper), which sees its exit as runc's would be seen.

use super::Bundle;
use crate::runtime::Sys;
use crate::runtime::exit::{NOT_FOUND, RUNTIME_ERROR};
use crate::runtime::report::Reporter;
use crate::runtime::supervise::reset_for_exec;
use crate::runtime::{console, security};
use anyhow::{Context, anyhow, bail};
use caps::{CapSet, CapsHashSet};
use nix::sched::CloneFlags;
use nix::sys::prctl;
use nix::sys::signal::Signal;
use nix::sys::stat::{Mode, umask};
use nix::unistd::{Gid, Uid, chdir, getcwd, sethostname, setsid};
use oci_spec::runtime::{LinuxCapabilities, LinuxSeccomp, PosixRlimitType, Process};
use seccompiler::BpfProgram;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

/// What `create` hands its child besides the bundle.
pub struct Start {
    /// The container's `cgroup.procs` files.
    pub cgroup_procs: Vec<PathBuf>,
    pub reporter: Reporter,
    /// Connected to `--console-socket`, for the pty master.
    pub console_socket: Option<OwnedFd>,
    /// The exec fifo, opened `O_PATH` (reopened for writing through `/proc/self/fd`).
    pub exec_fifo: OwnedFd,
    /// Namespaces to join, opened from their paths before the fork.
    pub joins: Vec<(CloneFlags, OwnedFd)>,
    /// The state `startContainer` hooks read on stdin, but for init's host PID ...
    pub hook_state: serde_json::Value,
    /// ... which `create` writes here once it knows it.
    pub host_pid: OwnedFd,
}

/// Init's entry; never returns.
pub fn run(bundle: &Bundle, start: Start) -> ! {
    let Start {
        cgroup_procs,
        reporter,
        console_socket,
        exec_fifo,
        joins,
        mut hook_state,
        host_pid,
    } = start;
    // Not dumpable from the first instruction to execve (create, its parent, was made so by
    // runtime::sealed before it forked; said again here because this is the process a
    // container can reach while it is parked): /proc/<init>/exe stays closed to the container.
    let _ = prctl::set_dumpable(false);
    let mut pid = [0u8; 4];
    if nix::unistd::read(&host_pid, &mut pid) == Ok(4) {
        hook_state["pid"] = i32::from_ne_bytes(pid).into();
    }
    drop(host_pid);
    // Until parked, die with create: a half-made container must not outlive it.
    let _ = prctl::set_pdeathsig(Signal::SIGKILL);
    let ready = match prepare(bundle, &cgroup_procs, console_socket, joins) {
        Ok(ready) => ready,
        Err(e) => reporter.fail(RUNTIME_ERROR, &format!("{e:#}")),
    };
    if let Err(message) = look_up(&bundle.spec.command, &bundle.spec.env) {
        reporter.fail(NOT_FOUND, &message);
    }
    // From here on init belongs to whoever reaps for it, not to create.
    let _ = prctl::set_pdeathsig(None);
    drop(reporter);
    let fifo = format!("/proc/self/fd/{}", exec_fifo.as_raw_fd());
    let opened = nix::fcntl::open(
        fifo.as_str(),
        nix::fcntl::OFlag::O_WRONLY | nix::fcntl::OFlag::O_CLOEXEC,
        Mode::empty(),
    );
    let written = opened.and_then(|fd| nix::unistd::write(&fd, b"0"));
    if let Err(e) = written {
        // `delete` of a created container opened the fifo and went away; nothing to start.
        eprintln!("exec fifo: {}", e.desc());
        std::process::exit(RUNTIME_ERROR);
    }
    drop(exec_fifo);
    let hooks = bundle.config.hooks().as_ref();
    if let Some(list) = hooks.and_then(|h| h.start_container().as_ref())
        && let Err(e) = super::hooks::run(list, &hook_state.to_string(), "startContainer")
    {
        eprintln!("{e:#}");
        std::process::exit(RUNTIME_ERROR);
    }
    if let Err(e) = security::install_seccomp(&ready.late_seccomp) {
        eprintln!("{e:#}");
        std::process::exit(RUNTIME_ERROR);
    }
    reset_for_exec();
    let spec = &bundle.spec;
    let (code, message) = crate::runtime::exec::exec(&spec.command, &spec.env, &path_of(&spec.env));
    eprintln!("{message}");
    std::process::exit(code)
}

/// What is left to do after the fifo.
struct Ready {
    /// Seccomp filters installed last, after `noNewPrivileges` made that possible without
    /// `CAP_SYS_ADMIN` (runc's order).
    late_seccomp: Vec<BpfProgram>,
}

fn prepare(
    bundle: &Bundle,
    cgroup_procs: &[PathBuf],
    console_socket: Option<OwnedFd>,
    joins: Vec<(CloneFlags, OwnedFd)>,
) -> anyhow::Result<Ready> {
    for procs in cgroup_procs {
        std::fs::write(procs, "0")
            .with_context(|| format!("cannot join cgroup {}", procs.display()))?;
    }
    for (flag, fd) in &joins {
        nix::sched::setns(fd, *flag)
            .map_err(|e| anyhow!("cannot join the {flag:?} namespace: {}", e.desc()))?;
    }
    drop(joins);
    let mut new = CloneFlags::empty();
    for (kind, flag) in super::NAMESPACES {
        if flag != CloneFlags::CLONE_NEWPID && bundle.namespace(kind) == Some(None) {
            new |= flag;
        }
    }
    nix::sched::unshare(new).sys("cannot create the container's namespaces")?;
    setsid().sys("setsid")?;
    let config = &bundle.config;
    if let Some(name) = config.hostname().as_ref().filter(|h| !h.is_empty()) {
        sethostname(name).sys("cannot set hostname")?;
    }
    if let Some(name) = config.domainname().as_ref().filter(|h| !h.is_empty()) {
        set_domainname(name)?;
    }
    let process = config
        .process()
        .as_ref()
        .ok_or_else(|| anyhow!("process is required"))?;
    umask(Mode::empty());
    let pty = if bundle
        .namespace(oci_spec::runtime::LinuxNamespaceType::Mount)
        .is_some()
    {
        super::mounts::enter(bundle)?
    } else {
        bail!("config.json: a mount namespace is required (linux.namespaces)");
    };
    if process.terminal() == Some(true) {
        let pty = pty.ok_or_else(|| anyhow!("process.terminal needs a tmpfs /dev"))?;
        if let Some(size) = process.console_size() {
            set_size(&pty.master, size.height() as u16, size.width() as u16);
        }
        if let Some(socket) = &console_socket {
            console::send(socket, Some(&pty.master))?;
        }
        drop(pty.master);
        console::take(pty.slave)?;
    }
    drop(console_socket);
    let linux = config.linux().as_ref();
    for (key, value) in linux
        .and_then(|l| l.sysctl().as_ref())
        .into_iter()
        .flatten()
    {
        sysctl(key, value)?;
    }
    if let Some(adj) = process.oom_score_adj() {
        std::fs::write("/proc/self/oom_score_adj", adj.to_string())
            .context("cannot set process.oomScoreAdj")?;
    }
    let masked: Vec<&str> = linux
        .and_then(|l| l.masked_paths().as_ref())
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    let read_only: Vec<&str> = linux
        .and_then(|l| l.readonly_paths().as_ref())
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    security::protect(&masked, &read_only)?;
    let seccomp = linux.and_then(|l| l.seccomp().as_ref());
    let late_seccomp = become_process(process, seccomp)?;
    Ok(Ready { late_seccomp })
}

/// The process's own settings, shared by init and `exec`: rlimits, user and groups,
/// capability sets, `noNewPrivileges`, seccomp (returned when it must wait until just before
/// `execve`), and the working directory, checked to be inside the container.
pub fn become_process(
    process: &Process,
    seccomp: Option<&LinuxSeccomp>,
) -> anyhow::Result<Vec<BpfProgram>> {
    for limit in process.rlimits().iter().flatten() {
        set_rlimit(limit.typ(), limit.soft(), limit.hard())?;
    }
    security::close_inherited_fds()?;
    let filters = seccomp
        .map(super::seccomp::compile)
        .transpose()?
        .unwrap_or_default();
    let nnp = process.no_new_privileges() == Some(true);
    let user = process.user();
    let uid = Uid::from_raw(user.uid());
    let gid = Gid::from_raw(user.gid());
    let groups: Vec<Gid> = user
        .additional_gids()
        .iter()
        .flatten()
        .map(|&g| Gid::from_raw(g))
        .collect();
    if let Some(mask) = user.umask() {
        umask(Mode::from_bits_truncate(mask));
    } else {
        umask(Mode::from_bits_truncate(0o022));
    }
    // Without noNewPrivileges, the filters go in now, while CAP_SYS_ADMIN allows a filter
    // without no_new_privs (runc's order); with it, last, just before execve.
    if !nnp {
        for filter in &filters {
            install_keeping_privileges(filter)?;
        }
    }
    let sets = process.capabilities().as_ref();
    if let Some(sets) = sets {
        let bounding = names(sets.bounding());
        let held = caps::read(None, CapSet::Bounding).map_err(caps_error("bounding"))?;
        for cap in held.difference(&bounding) {
            caps::drop(None, CapSet::Bounding, *cap).map_err(caps_error("bounding"))?;
        }
    }
    // Keep the permitted set across the switch to a non-root uid; the sets are set after.
    prctl::set_keepcaps(true).sys("keepcaps")?;
    nix::unistd::setgroups(&groups).sys("cannot set additionalGids")?;
    nix::unistd::setresgid(gid, gid, gid).sys("setgid")?;
    nix::unistd::setresuid(uid, uid, uid).sys("setuid")?;
    prctl::set_keepcaps(false).sys("keepcaps")?;
    if let Some(sets) = sets {
        apply_sets(sets)?;
    }
    if nnp {
        prctl::set_no_new_privs().sys("no_new_privs")?;
    }
    let late = if nnp { filters } else { Vec::new() };
    let cwd = process.cwd();
    chdir(cwd).with_sys(|| format!("process.cwd {}", cwd.display()))?;
    getcwd().with_sys(|| format!("process.cwd {}", cwd.display()))?;
    Ok(late)
}

/// Installs a seccomp filter without setting `no_new_privs` (seccompiler's `apply_filter`
/// always sets it), which the kernel allows a caller holding `CAP_SYS_ADMIN`.
fn install_keeping_privileges(filter: &BpfProgram) -> anyhow::Result<()> {
    let program = libc::sock_fprog {
        len: u16::try_from(filter.len()).context("seccomp filter too long")?,
        // seccompiler's sock_filter is the kernel's struct, field for field.
        filter: filter.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: SECCOMP_SET_MODE_FILTER reads `program`, which points into `filter`, alive and
    // unchanged for the call.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            0,
            &program as *const libc::sock_fprog,
        )
    };
    if rc < 0 {
        return Err(std::io::Error::last_os_error()).context("cannot install the seccomp filter");
    }
    Ok(())
}

fn caps_error(set: &'static str) -> impl Fn(caps::errors::CapsError) -> anyhow::Error {
    move |e| anyhow!("cannot set the {set} capabilities: {e}")
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

/// Inheritable (while every capability is still permitted), effective, permitted (which must
/// hold the effective set), then ambient (which needs both permitted and inheritable).
fn apply_sets(sets: &LinuxCapabilities) -> anyhow::Result<()> {
    caps::set(None, CapSet::Inheritable, &names(sets.inheritable()))
        .map_err(caps_error("inheritable"))?;
    caps::set(None, CapSet::Effective, &names(sets.effective()))
        .map_err(caps_error("effective"))?;
    caps::set(None, CapSet::Permitted, &names(sets.permitted()))
        .map_err(caps_error("permitted"))?;
    caps::clear(None, CapSet::Ambient).map_err(caps_error("ambient"))?;
    for cap in names(sets.ambient()) {
        // The kernel raises an ambient capability only if it is also inheritable; runc's own
        // `spec` lists ambient ones without inheritable ones, and runc then goes on with a
        // warning. So do we, without the warning (our stderr is the container's).
        let _ = caps::raise(None, CapSet::Ambient, cap);
    }
    Ok(())
}

fn set_rlimit(kind: PosixRlimitType, soft: u64, hard: u64) -> anyhow::Result<()> {
    use nix::sys::resource::Resource;
    let resource = match kind {
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
    };
    nix::sys::resource::setrlimit(resource, soft, hard)
        .with_sys(|| format!("process.rlimits {kind:?}"))
}

/// One `linux.sysctl` entry, written under the container's own `/proc/sys`. The key is a
/// dotted name: no `/`, no `..`.
fn sysctl(key: &str, value: &str) -> anyhow::Result<()> {
    if key.is_empty() || key.contains('/') || key.split('.').any(|p| p.is_empty()) {
        bail!("linux.sysctl: invalid key {key:?}");
    }
    let path = Path::new("/proc/sys").join(key.replace('.', "/"));
    std::fs::write(&path, value).with_context(|| format!("linux.sysctl {key}={value}"))
}

fn set_domainname(name: &str) -> anyhow::Result<()> {
    // SAFETY: setdomainname reads `len` bytes from the pointer, which `name` holds.
    let rc = unsafe { libc::setdomainname(name.as_ptr().cast(), name.len()) };
    if rc < 0 {
        return Err(std::io::Error::last_os_error()).context("cannot set domainname");
    }
    Ok(())
}

fn set_size(master: &OwnedFd, rows: u16, cols: u16) {
    let size = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads the winsize we pass a pointer to; `master` is a pty.
    unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, &size) };
}

/// `PATH` of an environment list (none: no search path).
pub fn path_of(env: &[String]) -> String {
    env.iter()
        .rev()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or("")
        .to_string()
}

/// Finds the command before `create` returns, as runc does, so a missing one fails `create`
/// rather than the container.
pub fn look_up(argv: &[String], env: &[String]) -> Result<(), String> {
    use nix::unistd::{AccessFlags, access};
    let name = &argv[0];
    let found = |p: &Path| p.is_file() && access(p, AccessFlags::X_OK).is_ok();
    if name.contains('/') {
        return match found(Path::new(name)) {
            true => Ok(()),
            false => Err(format!("exec: {name:?}: no such file or directory")),
        };
    }
    let path = path_of(env);
    let hit = path
        .split(':')
        .map(|d| if d.is_empty() { "." } else { d })
        .any(|d| found(&Path::new(d).join(name)));
    match hit {
        true => Ok(()),
        false => Err(format!(
            "exec: {name:?}: executable file not found in $PATH"
        )),
    }
}
