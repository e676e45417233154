//! The process side of a container, once: how a process becomes the container's PID 1
//! ([`init`]) or joins a running one ([`tenant`]), whoever asked for it (the CLI, the
//! dashboard, an OCI bundle, `oci exec`). The differences between those callers are data
//! ([`init::Origin`], [`Becoming`]); the protections are written here and nowhere else:
//!
//! - not dumpable from the first instruction to `execve` (`/proc/<pid>/exe` and ptrace stay
//!   closed to the container while the process is this binary: CVE-2019-5736, CVE-2016-9962);
//! - the cgroup joined before anything else, so every process it starts is inside;
//! - every inherited descriptor above 2 close-on-exec;
//! - the capability sets and identity in one order (bounding, then ids with the permitted
//!   set kept across them, then the sets), `no_new_privs`, then the working directory
//!   entered and checked with `getcwd` (a directory outside the root fails: CVE-2024-21626);
//! - seccomp last, just before `execve` (or, as runc orders it when `no_new_privs` is off,
//!   before the identity changes, while `CAP_SYS_ADMIN` allows it).

pub mod init;
pub mod tenant;

use super::Sys;
use anyhow::{Context, anyhow};
use caps::{CapSet, CapsHashSet};
use nix::sys::prctl;
use nix::sys::resource::Resource;
use nix::sys::stat::{Mode, umask};
use nix::unistd::Gid;
use nix::unistd::Uid;
use seccompiler::BpfProgram;
use std::path::PathBuf;

/// The capability sets a process ends with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Caps {
    pub bounding: CapsHashSet,
    pub effective: CapsHashSet,
    pub permitted: CapsHashSet,
    pub inheritable: CapsHashSet,
    pub ambient: CapsHashSet,
}

impl Caps {
    /// Docker's arithmetic for a process keeping `keep`: the bounding set; effective and
    /// permitted too when it runs as root (a non-root user gets none, as Docker gives none);
    /// nothing inheritable or ambient.
    pub fn docker(keep: CapsHashSet, root: bool) -> Caps {
        let held = match root {
            true => keep.clone(),
            false => CapsHashSet::new(),
        };
        Caps {
            bounding: keep,
            effective: held.clone(),
            permitted: held,
            ..Caps::default()
        }
    }
}

/// Who a process becomes, and what it may do, before it execs.
#[derive(Debug, Clone, Default)]
pub struct Becoming {
    pub rlimits: Vec<(Resource, u64, u64)>,
    pub uid: Option<Uid>,
    pub gid: Option<Gid>,
    /// Supplementary groups (none: cleared, as runc and Docker clear the caller's).
    pub groups: Vec<Gid>,
    pub umask: u32,
    /// `None`: the capabilities are left as they are (`--privileged`).
    pub caps: Option<Caps>,
    pub no_new_privs: bool,
    pub seccomp: Vec<BpfProgram>,
    /// The working directory, entered last and checked to be inside the root.
    pub cwd: PathBuf,
}

/// Applies `becoming` in the one order (see the module's doc); returns the seccomp filters
/// left to install just before `execve`.
pub fn become_process(becoming: Becoming) -> anyhow::Result<Vec<BpfProgram>> {
    for &(resource, soft, hard) in &becoming.rlimits {
        nix::sys::resource::setrlimit(resource, soft, hard)
            .with_sys(|| format!("rlimit {resource:?}"))?;
    }
    super::sys::cloexec_from_3()?;
    umask(Mode::from_bits_truncate(becoming.umask));
    // Without no_new_privs, the filters go in now, while CAP_SYS_ADMIN allows a filter
    // without it (runc's order); with it, last, just before execve.
    let nnp = becoming.no_new_privs;
    if !nnp {
        for filter in &becoming.seccomp {
            install_keeping_privileges(filter)?;
        }
    }
    if let Some(caps) = &becoming.caps {
        // The bounding set can only be dropped from, one capability at a time.
        let held = caps::read(None, CapSet::Bounding).map_err(caps_error("bounding"))?;
        for cap in held.difference(&caps.bounding) {
            caps::drop(None, CapSet::Bounding, *cap).map_err(caps_error("bounding"))?;
        }
    }
    // Keep the permitted set across the switch to another uid; the sets are set after.
    prctl::set_keepcaps(true).sys("keepcaps")?;
    nix::unistd::setgroups(&becoming.groups).sys("cannot set supplementary groups")?;
    if let Some(gid) = becoming.gid {
        nix::unistd::setresgid(gid, gid, gid).sys("setgid")?;
    }
    if let Some(uid) = becoming.uid {
        nix::unistd::setresuid(uid, uid, uid).sys("setuid")?;
    }
    prctl::set_keepcaps(false).sys("keepcaps")?;
    if let Some(caps) = &becoming.caps {
        apply_sets(caps)?;
    }
    if nnp {
        prctl::set_no_new_privs().sys("no_new_privs")?;
    }
    let cwd = &becoming.cwd;
    nix::unistd::chdir(cwd).with_sys(|| format!("working directory {}", cwd.display()))?;
    // A cwd outside our mount namespace's root would make getcwd fail (CVE-2024-21626).
    nix::unistd::getcwd().with_sys(|| format!("working directory {}", cwd.display()))?;
    Ok(if nnp { becoming.seccomp } else { Vec::new() })
}

/// Installs seccomp filters as the last step before `execve`.
pub fn install_seccomp(filters: &[BpfProgram]) -> anyhow::Result<()> {
    for filter in filters {
        seccompiler::apply_filter(filter).context("cannot install the seccomp filter")?;
    }
    Ok(())
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

/// Inheritable (while every capability is still permitted), effective, permitted (which must
/// hold the effective set), then ambient (which needs both permitted and inheritable).
fn apply_sets(caps: &Caps) -> anyhow::Result<()> {
    caps::set(None, CapSet::Inheritable, &caps.inheritable).map_err(caps_error("inheritable"))?;
    caps::set(None, CapSet::Effective, &caps.effective).map_err(caps_error("effective"))?;
    caps::set(None, CapSet::Permitted, &caps.permitted).map_err(caps_error("permitted"))?;
    caps::clear(None, CapSet::Ambient).map_err(caps_error("ambient"))?;
    for cap in &caps.ambient {
        // The kernel raises an ambient capability only if it is also inheritable; runc's own
        // `spec` lists ambient ones without inheritable ones, and runc then goes on with a
        // warning. So do we, without the warning (our stderr is the container's).
        let _ = caps::raise(None, CapSet::Ambient, *cap);
    }
    Ok(())
}

/// Writes sysctl `key` (`net.ipv4.ip_forward`) in the container's own `/proc/sys`, before it
/// is made read-only: a bundle's `linux.sysctl` and `--sysctl` alike.
pub fn sysctl(key: &str, value: &str) -> anyhow::Result<()> {
    if key.is_empty() || key.contains('/') || key.split('.').any(|p| p.is_empty() || p == "..") {
        anyhow::bail!("sysctl: invalid key {key:?}");
    }
    let path = std::path::Path::new("/proc/sys").join(key.replace('.', "/"));
    std::fs::write(&path, value).with_context(|| format!("sysctl {key}={value}"))
}
