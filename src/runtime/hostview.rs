//! The default view without `--rootfs` (and without `--host-rw`): the host's files, read-only.

use super::mounts::{self, Target};
use super::rootpath::InRoot;
use super::spec::ContainerSpec;
use super::{Sys, console, devfs, kernelfs, volumes};
use nix::mount::MsFlags;
use std::path::Path;

/// Without a rootfs (and without `--host-rw`): the host's files stay visible, read-only, as
/// the seed showed them; the container gets its own writable `/tmp`, `/var/tmp`, `/run` and
/// home, its own `/dev`, a read-only `/sys`, and its own cgroup at `/sys/fs/cgroup`. Host
/// sockets under /tmp and /run are hidden, not merely read-only (a unix socket on a read-only
/// mount can still be connected to).
pub fn enter(
    spec: &ContainerSpec,
    sources: &volumes::Sources,
) -> anyhow::Result<Option<console::Pty>> {
    mounts::read_only_recursive(Path::new("/"))?;
    let host = InRoot::open(Path::new("/"), Path::new("/"))?;
    // The seed's `run pwd` and `run ls` show where they were started; started below a private
    // directory (`/root/project`), that one directory stays visible, read-only, at its path.
    let cwd = kept_workdir(spec)?;
    mounts::mount_proc(&Target::Path(Path::new("/proc")))?;
    for (dir, mode) in PRIVATE_DIRS {
        if std::fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir()) {
            let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
            let data = format!("mode={mode:o}");
            mounts::mount_on(
                "tmpfs",
                &Target::Path(Path::new(dir)),
                Some("tmpfs"),
                flags,
                Some(&data),
            )?;
        }
    }
    if let Some(fd) = cwd {
        let at = host.dir(&spec.workdir)?;
        let target = Target::fd(&at, &spec.workdir);
        let src = Target::fd(&fd, &spec.workdir).mount_path();
        mounts::mount_on(
            &src.to_string_lossy(),
            &target,
            None,
            MsFlags::MS_BIND,
            None,
        )?;
    }
    kernelfs::mount(&host, &Target::Path(Path::new("/sys")), Path::new("/sys"))?;
    let pty = devfs::mount(&host, &Target::Path(Path::new("/dev")), spec)?;
    volumes::mount_all(&spec.volumes, sources, &host, volumes::Tree::HostReadOnly)?;
    Ok(pty)
}

/// The launcher's working directory, opened, when it is the container's (no `-w`) and lies
/// strictly below a private directory. A private directory itself is never kept: `/tmp` whole
/// would bring back every host socket in it.
fn kept_workdir(spec: &ContainerSpec) -> anyhow::Result<Option<std::os::fd::OwnedFd>> {
    let dir = &spec.workdir;
    let below = PRIVATE_DIRS
        .iter()
        .any(|(p, _)| dir.starts_with(p) && dir != Path::new(p));
    if !spec.workdir_is_default || !below || !dir.is_dir() {
        return Ok(None);
    }
    let flags = nix::fcntl::OFlag::O_PATH | nix::fcntl::OFlag::O_CLOEXEC;
    let fd = nix::fcntl::open(dir, flags, nix::sys::stat::Mode::empty())
        .with_sys(|| format!("working directory {}", dir.display()))?;
    Ok(Some(fd))
}

/// The host directories a container without a rootfs gets a private, empty tmpfs over, and
/// their modes.
pub const PRIVATE_DIRS: [(&str, u32); 4] = [
    ("/tmp", 0o1777),
    ("/var/tmp", 0o1777),
    ("/run", 0o755),
    ("/root", 0o700),
];
