//! A root filesystem of the container's own: `--rootfs DIR`, entered with `pivot_root`.
//!
//! By default DIR is the read-only lower layer of an overlay whose upper layer lives in the
//! container's state directory (`/run/my-container-tui/<id>`), so one rootfs serves many
//! containers unchanged; `--rootfs-persist` writes to DIR itself and `--read-only` makes `/`
//! read-only. Everything is mounted inside the container's (private) mount namespace, so the
//! host never sees a mount, and the state directory is removed by the cleaner.

use super::volumes::{self, Volume};
use super::{cgroups, mounts};
use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sys::stat::{Mode, SFlag, makedev, mknod};
use nix::unistd::{chdir, pivot_root};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Where per-container state (the overlay's upper layer) lives on the host.
pub const STATE_ROOT: &str = "/run/my-container-tui";

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
    /// DIR must be an existing, non-empty directory.
    pub fn validate(&self) -> Result<(), String> {
        let dir = &self.dir;
        let meta = std::fs::metadata(dir).map_err(|e| format!("rootfs {}: {e}", dir.display()))?;
        if !meta.is_dir() {
            return Err(format!("rootfs {}: not a directory", dir.display()));
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

/// The container's state directory on the host.
pub fn state_dir(id: &str) -> PathBuf {
    Path::new(STATE_ROOT).join(id)
}

/// Creates the state directory with the overlay's `upper`, `work` and the `root` mount point.
pub fn prepare(id: &str) -> Result<PathBuf, String> {
    let dir = state_dir(id);
    for sub in ["upper", "work", "root"] {
        std::fs::create_dir_all(dir.join(sub))
            .map_err(|e| format!("cannot create {}: {e}", dir.join(sub).display()))?;
    }
    Ok(dir)
}

/// Removes the state directories that launchers which no longer run left behind (a SIGKILL
/// before their cleaner was forked). Named `<launcher pid>-<n>`, like the cgroups.
pub fn clean_stale() {
    for entry in std::fs::read_dir(STATE_ROOT)
        .into_iter()
        .flatten()
        .flatten()
    {
        let id = entry.file_name().to_string_lossy().into_owned();
        if cgroups::launcher_gone(&id) {
            remove_state(&id);
        }
    }
}

/// Removes the state directory, and our parent when no other container uses it.
pub fn remove_state(id: &str) {
    let _ = std::fs::remove_dir_all(state_dir(id));
    let _ = std::fs::remove_dir(STATE_ROOT);
}

fn mnt(
    src: &str,
    target: &Path,
    fstype: Option<&str>,
    flags: MsFlags,
    data: Option<&str>,
) -> Result<(), String> {
    mount(Some(src), target, fstype, flags, data).map_err(|e| {
        format!(
            "cannot mount {} on {}: {}",
            fstype.unwrap_or(src),
            target.display(),
            e.desc()
        )
    })
}

/// Inside the new mount namespace (already private): builds the root at `state/root` and
/// pivots into it. `tty` is the path of the controlling pty, bound at `/dev/console`.
pub fn enter(
    rootfs: &Rootfs,
    state: &Path,
    tty: Option<&Path>,
    hostname: &str,
    volumes: &[Volume],
) -> Result<(), String> {
    let root = state.join("root");
    let dir = rootfs.dir.to_string_lossy();
    match rootfs.mode {
        Writes::Overlay => {
            let data = format!(
                "lowerdir={dir},upperdir={},workdir={}",
                state.join("upper").display(),
                state.join("work").display()
            );
            mnt(
                "overlay",
                &root,
                Some("overlay"),
                MsFlags::empty(),
                Some(&data),
            )?;
        }
        Writes::Persist | Writes::ReadOnly => {
            mnt(&dir, &root, None, MsFlags::MS_BIND | MsFlags::MS_REC, None)?
        }
    }
    let nodev = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    let ensure_dir = |p: &Path| {
        if !p.is_dir() {
            std::fs::create_dir_all(p)
                .map_err(|e| format!("cannot create {} in the rootfs: {e}", p.display()))?;
        }
        Ok::<(), String>(())
    };
    for d in ["proc", "sys", "dev", "tmp"] {
        ensure_dir(&root.join(d))?;
    }
    mounts::mount_proc(&root.join("proc"))?;
    mnt(
        "sysfs",
        &root.join("sys"),
        Some("sysfs"),
        nodev | MsFlags::MS_RDONLY,
        None,
    )?;
    make_dev(&root.join("dev"), tty)?;
    provide_etc(&root, rootfs.mode, hostname);
    volumes::mount_all(volumes, Some(&root))?;
    chdir(&root).map_err(|e| format!("chdir {}: {}", root.display(), e.desc()))?;
    pivot_root(".", ".").map_err(|e| format!("pivot_root: {}", e.desc()))?;
    // The old root now sits under the new one at "."; detach it so it is never reachable.
    umount2(".", MntFlags::MNT_DETACH)
        .map_err(|e| format!("cannot detach the old root: {}", e.desc()))?;
    chdir("/").map_err(|e| format!("chdir /: {}", e.desc()))?;
    if rootfs.mode == Writes::ReadOnly {
        mounts::remount_read_only(Path::new("/"))
            .map_err(|e| format!("cannot make / read-only: {}", e.desc()))?;
    }
    Ok(())
}

/// A small tmpfs `/dev` with the default nodes, a private devpts, shm, mqueue and, with a tty,
/// the console.
fn make_dev(dev: &Path, tty: Option<&Path>) -> Result<(), String> {
    mnt(
        "tmpfs",
        dev,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_STRICTATIME,
        Some("mode=755,size=65536k"),
    )?;
    for (name, major, minor) in [
        ("null", 1, 3),
        ("zero", 1, 5),
        ("full", 1, 7),
        ("random", 1, 8),
        ("urandom", 1, 9),
        ("tty", 5, 0),
    ] {
        mknod(
            &dev.join(name),
            SFlag::S_IFCHR,
            Mode::from_bits_truncate(0o666),
            makedev(major, minor),
        )
        .map_err(|e| format!("cannot create /dev/{name}: {}", e.desc()))?;
        // mknod honours the umask; the nodes must be 0666.
        let _ = nix::sys::stat::fchmodat(
            nix::fcntl::AT_FDCWD,
            &dev.join(name),
            Mode::from_bits_truncate(0o666),
            nix::sys::stat::FchmodatFlags::FollowSymlink,
        );
    }
    for d in ["pts", "shm", "mqueue"] {
        std::fs::create_dir(dev.join(d)).map_err(|e| format!("cannot create /dev/{d}: {e}"))?;
    }
    mnt(
        "devpts",
        &dev.join("pts"),
        Some("devpts"),
        MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
        Some("newinstance,ptmxmode=0666,mode=0620"),
    )?;
    mnt(
        "shm",
        &dev.join("shm"),
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        Some("mode=1777,size=65536k"),
    )?;
    mnt(
        "mqueue",
        &dev.join("mqueue"),
        Some("mqueue"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        None,
    )?;
    let link = |target: &str, name: &str| {
        std::os::unix::fs::symlink(target, dev.join(name))
            .map_err(|e| format!("cannot create /dev/{name}: {e}"))
    };
    link("pts/ptmx", "ptmx")?;
    link("/proc/self/fd", "fd")?;
    link("/proc/self/fd/0", "stdin")?;
    link("/proc/self/fd/1", "stdout")?;
    link("/proc/self/fd/2", "stderr")?;
    if let Some(tty) = tty {
        let console = dev.join("console");
        std::fs::write(&console, b"").map_err(|e| format!("cannot create /dev/console: {e}"))?;
        mnt(
            &tty.to_string_lossy(),
            &console,
            None,
            MsFlags::MS_BIND,
            None,
        )?;
    }
    Ok(())
}

/// `/etc/hostname`, `/etc/hosts` and `/etc/resolv.conf` when the image lacks them and the
/// root is writable (the overlay's upper layer takes them, DIR does not change).
fn provide_etc(root: &Path, mode: Writes, hostname: &str) {
    if mode != Writes::Overlay {
        return;
    }
    let etc = root.join("etc");
    let _ = std::fs::create_dir_all(&etc);
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
        let path = etc.join(name);
        if std::fs::symlink_metadata(&path).is_err() {
            let _ = std::fs::write(&path, text);
        }
    }
}
