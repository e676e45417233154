//! The default view without `--rootfs` (and without `--host-rw`): the host's files, read-only.

use super::mounts::{self, Target};
use super::rootpath::InRoot;
use super::{Sys, console, devfs, kernelfs, volumes};
use crate::spec::ContainerSpec;
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
    sockets: &[std::path::PathBuf],
    userns: Option<std::os::fd::BorrowedFd>,
) -> anyhow::Result<Option<console::Pty>> {
    // Opened before /run is covered: the state directory is under it.
    let etc = match spec.network.own_etc() {
        true => Some(open_etc(&crate::state::tree::path(&spec.id))?),
        false => None,
    };
    mounts::read_only_recursive(Path::new("/"))?;
    let host = InRoot::open(Path::new("/"), Path::new("/"))?;
    // The seed's `run pwd` and `run ls` show where they were started; started below a private
    // directory (`/root/project`), that one directory stays visible, read-only, at its path.
    let cwd = kept_workdir(spec)?;
    // A socket under a private tmpfs is gone with it (on a host of a thousand containers,
    // their monitors' sockets under /run): only the working directory, bound back, shows
    // any of them again.
    let sockets: Vec<&Path> = sockets
        .iter()
        .map(std::path::PathBuf::as_path)
        .filter(|s| {
            !PRIVATE_DIRS.iter().any(|p| s.starts_with(p.path))
                || (cwd.is_some() && s.starts_with(&spec.workdir))
        })
        .collect();
    mounts::mount_proc(&Target::Path(Path::new("/proc")))?;
    for PrivateDir {
        path: dir,
        mode,
        size_mib,
        inodes,
    } in PRIVATE_DIRS
    {
        if std::fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir()) {
            let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
            // Its own root's, in a user namespace of its own (else no one's there).
            let owner = spec.userns.owner_options();
            let data = format!("mode={mode:o},size={size_mib}m,nr_inodes={inodes}{owner}");
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
    let fresh = spec.network.mode != crate::spec::network::Mode::Host;
    kernelfs::mount(
        &host,
        &Target::Path(Path::new("/sys")),
        Path::new("/sys"),
        fresh,
    )?;
    // Every other host socket still showing (the working directory's, a home's, /var/lib's).
    super::security::mask_host_sockets(&host, Path::new("/"), &sockets)?;
    let pty = devfs::mount(&host, &Target::Path(Path::new("/dev")), spec)?;
    if let Some(etc) = etc {
        bind_etc(&host, etc)?;
    }
    volumes::mount_all(
        &spec.volumes,
        sources,
        &host,
        volumes::Tree::HostReadOnly,
        userns,
    )?;
    Ok(pty)
}

/// On a bridge, the host's `/etc/hosts` and `/etc/resolv.conf` would name the wrong address
/// and perhaps a resolver on the host's loopback: the helper's files are bound over them (and
/// `/etc/hostname`), where the host has them (nothing can be made on its read-only `/etc`).
fn bind_etc(host: &InRoot, ours: Vec<std::os::fd::OwnedFd>) -> anyhow::Result<()> {
    for (name, ours) in super::rootfs::ETC_FILES.iter().zip(ours) {
        let path = Path::new("/etc").join(name);
        if !host.resolves(&path) {
            continue;
        }
        let target = host.file(&path)?;
        let source = Target::fd(&ours, &path).mount_path();
        mounts::bind(&source, &Target::fd(&target, &path))?;
    }
    Ok(())
}

/// The helper's `/etc` files in the state directory `state`, opened (`O_PATH`).
fn open_etc(state: &Path) -> anyhow::Result<Vec<std::os::fd::OwnedFd>> {
    let flags =
        nix::fcntl::OFlag::O_PATH | nix::fcntl::OFlag::O_CLOEXEC | nix::fcntl::OFlag::O_NOFOLLOW;
    super::rootfs::ETC_FILES
        .iter()
        .map(|name| {
            let path = state.join("etc").join(name);
            nix::fcntl::open(&path, flags, nix::sys::stat::Mode::empty())
                .with_sys(|| path.display().to_string())
        })
        .collect()
}

/// The launcher's working directory, opened, when it is the container's (no `-w`) and lies
/// strictly below a private directory. A private directory itself is never kept: `/tmp` whole
/// would bring back every host socket in it.
fn kept_workdir(spec: &ContainerSpec) -> anyhow::Result<Option<std::os::fd::OwnedFd>> {
    let dir = &spec.workdir;
    let below = PRIVATE_DIRS
        .iter()
        .any(|p| dir.starts_with(p.path) && dir != Path::new(p.path));
    if !spec.workdir_is_default || !below || !dir.is_dir() {
        return Ok(None);
    }
    let flags = nix::fcntl::OFlag::O_PATH | nix::fcntl::OFlag::O_CLOEXEC;
    let fd = nix::fcntl::open(dir, flags, nix::sys::stat::Mode::empty())
        .with_sys(|| format!("working directory {}", dir.display()))?;
    Ok(Some(fd))
}

/// A host directory a container without a rootfs gets a private, empty tmpfs over.
pub struct PrivateDir {
    pub path: &'static str,
    pub mode: u32,
    /// Bounds: a tmpfs holds memory nothing can reclaim, which without them could be half of
    /// the host's RAM per directory (the kernel's default) and any number of files. What it
    /// holds is charged to the container's memory cgroup, so it shows in its usage and a
    /// `--memory` limit bounds it too. `--tmpfs DIR:size=...,nr_inodes=...` mounts another
    /// in its place.
    pub size_mib: u32,
    pub inodes: u32,
}

/// The private directories, their modes and bounds.
pub const PRIVATE_DIRS: [PrivateDir; 4] = [
    PrivateDir {
        path: "/tmp",
        mode: 0o1777,
        size_mib: 256,
        inodes: 65536,
    },
    PrivateDir {
        path: "/var/tmp",
        mode: 0o1777,
        size_mib: 256,
        inodes: 65536,
    },
    PrivateDir {
        path: "/run",
        mode: 0o755,
        size_mib: 64,
        inodes: 16384,
    },
    PrivateDir {
        path: "/root",
        mode: 0o700,
        size_mib: 64,
        inodes: 16384,
    },
];
