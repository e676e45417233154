//! Starting and inspecting containers. No terminal UI in here: the CLI and the dashboard
//! build a [`ContainerSpec`], start it through [`launch::HelperCommand`], and read the result.

pub mod bundle;
pub mod busybox;
pub mod cgroups;
pub mod cleaner;
pub mod console;
pub mod copy;
pub mod devfs;
pub mod devices;
pub mod execve;
pub mod exit;
pub mod handoff;
pub mod helper;
pub mod hostview;
pub mod idmap;
pub mod init;
pub mod inspect;
pub mod kernelfs;
pub mod launch;
pub mod mounts;
pub mod namespaces;
pub mod net;
pub mod pidfd;
pub mod process;
pub mod reclaim;
pub mod report;
pub mod resident;
pub mod rootfs;
pub mod rootless;
pub mod rootpath;
pub mod sealed;
pub mod security;
pub mod supervise;
pub mod sys;
pub mod tenant;
pub mod user;
pub mod volumes;
pub mod walk;

pub use crate::spec::ContainerSpec;
pub use exit::Exit;

/// Context for a failed syscall, worded as a user reads it: nix's errors display as
/// `ENOENT: No such file or directory`, where every runtime prints the second half.
pub(crate) trait Sys<T> {
    fn sys(self, what: &str) -> anyhow::Result<T>;
    fn with_sys<D: std::fmt::Display>(self, what: impl FnOnce() -> D) -> anyhow::Result<T>;
}

impl<T> Sys<T> for nix::Result<T> {
    fn sys(self, what: &str) -> anyhow::Result<T> {
        self.map_err(|e| anyhow::anyhow!("{what}: {}", e.desc()))
    }

    fn with_sys<D: std::fmt::Display>(self, what: impl FnOnce() -> D) -> anyhow::Result<T> {
        self.map_err(|e| anyhow::anyhow!("{}: {}", what(), e.desc()))
    }
}

/// Refuses to go on without what containers need: root, or a user who can run them rootless
/// (subordinate ids and the tools that map them: [`rootless`]).
pub fn require_root() -> Result<(), String> {
    rootless::unavailable().map_or(Ok(()), Err)
}

/// Refuses to go on unless root of the host: what has no rootless form yet (the OCI runtime).
pub fn require_host_root(what: &str) -> Result<(), String> {
    match crate::state::owner::rootless() {
        false => Ok(()),
        true => Err(format!(
            "{what} needs root for now: try sudo my-container-tui ..."
        )),
    }
}
