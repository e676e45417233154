//! Starting and inspecting containers. No terminal UI in here: the CLI and the dashboard
//! build a [`ContainerSpec`], start it through [`launch::HelperCommand`], and read the result.

pub mod busybox;
pub mod cgroups;
pub mod cleaner;
pub mod devices;
pub mod exec;
pub mod exit;
pub mod handoff;
pub mod helper;
pub mod init;
pub mod inspect;
pub mod launch;
pub mod mounts;
pub mod namespaces;
pub mod net;
pub mod report;
pub mod rootfs;
pub mod rootpath;
pub mod security;
pub mod spec;
pub mod supervise;
pub mod volumes;

pub use exit::Exit;
pub use spec::ContainerSpec;

/// Refuses to go on without root: namespaces, mounts and hostnames all need it.
pub fn require_root() -> Result<(), String> {
    if nix::unistd::geteuid().is_root() {
        Ok(())
    } else {
        Err("must be run as root to create namespaces (try: sudo my-container-tui ...)".into())
    }
}
