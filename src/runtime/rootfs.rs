//! A root filesystem of the container's own: `--rootfs DIR`, entered with `pivot_root`.
//!
//! By default DIR is the read-only lower layer of an overlay whose upper layer lives in the
//! container's state directory (`/run/my-container-tui/<id>`), so one rootfs serves many
//! containers unchanged; `--rootfs-persist` writes to DIR itself and `--read-only` makes `/`
//! read-only. Everything is mounted inside the container's (private) mount namespace, so the
//! host never sees a mount, and the state directory ([`super::state`]) is removed by the
//! cleaner.

use super::Sys;
use super::mounts::{self, Target};
use super::rootpath::{FreshDir, InRoot};
use super::spec::ContainerSpec;
use super::{cgroups, devices, volumes};
use anyhow::Context;
use nix::mount::{MntFlags, MsFlags, umount2};
use nix::sys::stat::makedev;
use nix::unistd::{chdir, pivot_root};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// How the container writes to its root.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Writes {
    /// Copy-on-write: DIR stays unchanged, writes go to a per-container upper layer.
    Overlay,
    /// Writes go straight to DIR.
    Persist,
    /// `/` is read-only.
    ReadOnly,
}

/// The container's root filesystem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rootfs {
    pub dir: PathBuf,
    pub mode: Writes,
}

impl Rootfs {
    /// DIR must be an existing, non-empty directory, and not the host's `/` (as Docker refuses
    /// to bind the host's root as a container's root).
    pub fn validate(&self) -> Result<(), String> {
        let dir = &self.dir;
        let meta = std::fs::metadata(dir).map_err(|e| format!("rootfs {}: {e}", dir.display()))?;
        if !meta.is_dir() {
            return Err(format!("rootfs {}: not a directory", dir.display()));
        }
        if std::fs::canonicalize(dir).is_ok_and(|c| c == Path::new("/")) {
            return Err(format!(
                "rootfs {}: the host's / cannot be a container's root (leave --rootfs out to see the host's files read-only)",
                dir.display()
            ));
        }
        let empty = std::fs::read_dir(dir)
            .map(|mut d| d.next().is_none())
            .unwrap_or(true);
        if empty {
            return Err(format!(
                "rootfs {} is empty (make one with: my-container-tui rootfs busybox DIR)",
                dir.display()
            ));
        }
        Ok(())
    }
}

/// Inside the new mount namespace (already private): builds the root at `state/root` from
/// `rootfs`, with the kernel's views, `/dev`, `/etc` files and volumes, and pivots into it.
pub fn enter(
    spec: &ContainerSpec,
    sources: &volumes::Sources,
    rootfs: &Rootfs,
    state: &Path,
) -> anyhow::Result<()> {
    let root = state.join("root");
    match rootfs.mode {
        Writes::Overlay => mounts::overlay(
            &rootfs.dir,
            &state.join("upper"),
            &state.join("work"),
            &root,
        )?,
        Writes::Persist | Writes::ReadOnly => {
            let dir = rootfs.dir.to_string_lossy();
            mounts::mount_on(
                &dir,
                &Target::Path(&root),
                None,
                MsFlags::MS_BIND | MsFlags::MS_REC,
                None,
            )?
        }
    }
    // From here on every path is resolved inside the image, as the container will see it.
    let image = InRoot::open(&root, Path::new("/"))?;
    let proc = image.plain_dir(Path::new("/proc"))?;
    mounts::mount_proc(&Target::fd(&proc, Path::new("/proc")))?;
    let sys = image.plain_dir(Path::new("/sys"))?;
    kernel_views(
        &image,
        &Target::fd(&sys, Path::new("/sys")),
        Path::new("/sys"),
    )?;
    let dev = image.plain_dir(Path::new("/dev"))?;
    make_dev(&image, &Target::fd(&dev, Path::new("/dev")), spec)?;
    image.existing_or_new_dir(Path::new("/tmp"))?;
    provide_etc(&image, rootfs.mode, state, &spec.hostname)?;
    volumes::mount_all(&spec.volumes, sources, &image, volumes::Tree::Image)?;
    drop((proc, sys, dev, image));
    chdir(&root).with_sys(|| format!("chdir {}", root.display()))?;
    pivot_root(".", ".").sys("pivot_root")?;
    // The old root now sits under the new one at "."; detach it so it is never reachable.
    umount2(".", MntFlags::MNT_DETACH).sys("cannot detach the old root")?;
    chdir("/").sys("chdir /")?;
    if rootfs.mode == Writes::ReadOnly {
        mounts::remount_read_only(&Target::Path(Path::new("/")))?;
    }
    Ok(())
}

/// Without a rootfs (and without `--host-rw`): the host's files stay visible, read-only, as
/// the seed showed them; the container gets its own writable `/tmp`, `/var/tmp`, `/run` and
/// home, its own `/dev`, a read-only `/sys`, and its own cgroup at `/sys/fs/cgroup`. Host
/// sockets under /tmp and /run are hidden, not merely read-only (a unix socket on a read-only
/// mount can still be connected to).
pub fn enter_host_read_only(
    spec: &ContainerSpec,
    sources: &volumes::Sources,
) -> anyhow::Result<()> {
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
    kernel_views(&host, &Target::Path(Path::new("/sys")), Path::new("/sys"))?;
    make_dev(&host, &Target::Path(Path::new("/dev")), spec)?;
    volumes::mount_all(&spec.volumes, sources, &host, volumes::Tree::HostReadOnly)
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

/// A fresh read-only sysfs on `sys`, with the container's own cgroups read-only at
/// `/sys/fs/cgroup` (through its cgroup namespace, each hierarchy shows the container's
/// cgroup as its root), so programs that size themselves from their cgroup see their limits.
fn kernel_views(root: &InRoot, sys: &Target, shown: &Path) -> anyhow::Result<()> {
    let ro = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC | MsFlags::MS_RDONLY;
    let hierarchies = cgroups::mounted_hierarchies();
    mounts::mount_on("sysfs", sys, Some("sysfs"), ro, None)?;
    let cgroup_dir = shown.join("fs/cgroup");
    let Ok(target) = root.plain_dir(&cgroup_dir) else {
        return Ok(());
    };
    if hierarchies.is_empty() {
        return Ok(());
    }
    let rw = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    match hierarchies.as_slice() {
        [(rel, fstype, options)] if rel.as_os_str().is_empty() => {
            let t = Target::fd(&target, &cgroup_dir);
            return mounts::mount_on(fstype, &t, Some(fstype), ro, Some(options));
        }
        _ => {}
    }
    let t = Target::fd(&target, &cgroup_dir);
    mounts::mount_on("tmpfs", &t, Some("tmpfs"), rw, Some("mode=755,size=64k"))?;
    let tree = FreshDir::reopen(root, &cgroup_dir)?;
    for (rel, fstype, options) in &hierarchies {
        let dir = tree.mkdir(&rel.to_string_lossy())?;
        let shown = cgroup_dir.join(rel);
        mounts::mount_on(
            fstype,
            &Target::fd(&dir, &shown),
            Some(fstype),
            ro,
            Some(options),
        )?;
    }
    drop(tree);
    let t = root.plain_dir(&cgroup_dir)?;
    mounts::remount_read_only(&Target::fd(&t, &cgroup_dir))
}

/// A small tmpfs `/dev` with the default nodes and the `--device` ones, a private devpts,
/// shm, mqueue and, with a tty, the console.
fn make_dev(root: &InRoot, dev: &Target, spec: &ContainerSpec) -> anyhow::Result<()> {
    // The pty on our stdin, opened by the name it has in this mount namespace before our own
    // /dev hides it: its descriptor belongs to the launcher's namespace, which a bind mount
    // may not take from.
    let console = match spec.tty {
        true => {
            let name = std::fs::read_link("/proc/self/fd/0").context("the container's tty")?;
            let flags = nix::fcntl::OFlag::O_PATH | nix::fcntl::OFlag::O_CLOEXEC;
            let fd = nix::fcntl::open(&name, flags, nix::sys::stat::Mode::empty())
                .with_sys(|| format!("cannot open the tty {}", name.display()))?;
            Some(fd)
        }
        false => None,
    };
    let nosuid = MsFlags::MS_NOSUID;
    let hidden = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    mounts::mount_on(
        "tmpfs",
        dev,
        Some("tmpfs"),
        nosuid | MsFlags::MS_STRICTATIME,
        Some("mode=755,size=65536k"),
    )?;
    // The tmpfs just mounted, as a root of its own: nothing in it comes from the image.
    let dev = FreshDir::reopen(root, Path::new("/dev"))?;
    for (name, major, minor) in [
        ("null", 1, 3),
        ("zero", 1, 5),
        ("full", 1, 7),
        ("random", 1, 8),
        ("urandom", 1, 9),
        ("tty", 5, 0),
    ] {
        dev.mknod(name, false, makedev(major, minor), 0o666)?;
    }
    for device in &spec.devices {
        let at = device.container.strip_prefix("/dev").map_err(|_| {
            anyhow::anyhow!(
                "device {}: the container path must be under /dev",
                device.container.display()
            )
        })?;
        let rdev = makedev(
            device.rule.major.unwrap_or(0) as u64,
            device.rule.minor.unwrap_or(0) as u64,
        );
        dev.mknod(
            &at.to_string_lossy(),
            device.rule.kind == devices::Kind::Block,
            rdev,
            device.mode,
        )?;
    }
    let sub = |name: &str| -> anyhow::Result<(std::os::fd::OwnedFd, PathBuf)> {
        Ok((dev.mkdir(name)?, Path::new("/dev").join(name)))
    };
    let (pts, at) = sub("pts")?;
    mounts::mount_on(
        "devpts",
        &Target::fd(&pts, &at),
        Some("devpts"),
        MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
        Some("newinstance,ptmxmode=0666,mode=0620"),
    )?;
    let (shm, at) = sub("shm")?;
    mounts::mount_on(
        "shm",
        &Target::fd(&shm, &at),
        Some("tmpfs"),
        hidden,
        Some("mode=1777,size=65536k"),
    )?;
    let (mqueue, at) = sub("mqueue")?;
    mounts::mount_on(
        "mqueue",
        &Target::fd(&mqueue, &at),
        Some("mqueue"),
        hidden,
        None,
    )?;
    for (name, target) in [
        ("ptmx", "pts/ptmx"),
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        dev.symlink(name, target)?;
    }
    if let Some(tty) = console {
        let target = dev.file("console")?;
        let at = Path::new("/dev/console");
        let src = Target::fd(&tty, at).mount_path();
        mounts::mount_on(
            &src.to_string_lossy(),
            &Target::fd(&target, at),
            None,
            MsFlags::MS_BIND,
            None,
        )?;
    }
    Ok(())
}

/// `/etc/hostname`, `/etc/hosts` and `/etc/resolv.conf`. On an overlay, written into the upper
/// layer when the image lacks them (DIR does not change); on a persistent or read-only root,
/// written in the state directory and bound over the image's (as Docker does), the mount points
/// made when missing. Every path is resolved inside the image and created with
/// `O_EXCL | O_NOFOLLOW`: an `/etc` that is a symlink leads nowhere outside.
fn provide_etc(image: &InRoot, mode: Writes, state: &Path, hostname: &str) -> anyhow::Result<()> {
    let files = [
        ("hostname", format!("{hostname}\n")),
        (
            "hosts",
            format!(
                "127.0.0.1\tlocalhost\n127.0.1.1\t{hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n"
            ),
        ),
        ("resolv.conf", "nameserver 127.0.0.1\n".to_string()),
    ];
    for (name, text) in files {
        let path = Path::new("/etc").join(name);
        if mode == Writes::Overlay {
            if !image.exists(&path) {
                image.create(&path, text.as_bytes(), 0o644)?;
            }
            continue;
        }
        let ours = state.join("etc").join(name);
        std::fs::write(&ours, text).with_context(|| format!("cannot write {}", ours.display()))?;
        let target = image.file_on_image(&path)?;
        let src = ours.to_string_lossy();
        mounts::mount_on(
            &src,
            &Target::fd(&target, &path),
            None,
            MsFlags::MS_BIND,
            None,
        )?;
    }
    Ok(())
}
