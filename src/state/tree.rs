//! The state tree, `/run/my-container-tui` (a rootless user's: [`super::owner`]): its owner's alone (0700), because an overlay's upper
//! layer in it may hold a setuid binary a container wrote, which no other host user may reach.
//!
//! What lives in it, and who removes it:
//!
//! | entry | made by | removed by |
//! |---|---|---|
//! | `containers/<id>/state.json`, `spec.json` | the launcher ([`super::store::create`]), or for an unnamed foreground run its cleaner | `rm`, `--rm`, the foreground launcher or its cleaner, or the repair of a dead owner's record |
//! | `containers/<id>/ctl.sock`, `log*` | the container's monitor | `rm` |
//! | `containers/<id>/tty.sock` (the console socket, while a run starts) | the container's monitor | the monitor, once the helper has handed over the pty, or as the run ends |
//! | `containers/<id>/fs/` (overlay `upper`, `work`, `root`; `etc` files) | the helper | the run's cleaner |
//! | `names/<namespace>.<name>` (a link to the id: [`super::names`]) | whoever makes or renames the record | whoever removes or renames it |
//! | `idmaps/<offset>+<size>+<id>` (a `--userns=auto` range's claim: [`super::idmaps`]) | the start that makes the container | its record's removal, or a later claim or sweep once its start crashed |
//!
//! The tree and `containers/` go when they empty; whoever makes an entry in them makes them
//! again first, retrying if a removal races in between ([`make_in`]), so they are never
//! recreated with other permissions by accident.

use anyhow::Context;
use std::path::{Path, PathBuf};

/// The state tree: `/run/my-container-tui` for root, a rootless user's own otherwise
/// ([`super::owner`]).
pub fn root() -> &'static Path {
    super::owner::run_dir()
}

/// The directory of container records.
pub fn containers() -> PathBuf {
    root().join("containers")
}

/// The directory of container `id`.
pub fn container(id: &str) -> PathBuf {
    containers().join(id)
}

/// The directory of the container's filesystem state (its overlay's layers).
pub fn path(id: &str) -> PathBuf {
    container(id).join("fs")
}

/// Makes `dir`, ours alone, unless it exists; an existing one is made private (its mode
/// repaired, one `stat` when it already is), and refused if another user owns it (a
/// rootless tree in `/tmp` that someone made first). Its parent must exist.
pub fn make_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => return Err(e),
        _ => {}
    }
    let meta = std::fs::symlink_metadata(dir)?;
    if !meta.is_dir() {
        return Err(std::io::Error::other("not a directory"));
    }
    if meta.uid() != nix::unistd::geteuid().as_raw() {
        return Err(std::io::Error::other("owned by another user"));
    }
    if meta.permissions().mode() & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Makes `dir`, a directory directly under the tree's root, and the root: both root's alone.
pub fn make_private(dir: &Path) -> std::io::Result<()> {
    make_private_dir(root()).and_then(|()| make_private_dir(dir))
}

/// Runs `make` (which creates one entry directly in `containers/`, never its parents) after
/// making the tree; again if a removal of the emptied tree raced in between (a directory of
/// it vanished: `NotFound` anywhere on the way).
pub fn make_in<T>(mut make: impl FnMut() -> std::io::Result<T>) -> anyhow::Result<T> {
    let mut tries = 0;
    loop {
        let made = make_private_dir(root())
            .and_then(|()| make_private_dir(&containers()))
            .and_then(|()| make());
        match made {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && tries < 100 => tries += 1,
            made => {
                return made
                    .with_context(|| format!("cannot make an entry in {}", root().display()));
            }
        }
    }
}

/// Locks directory `dir` (`flock` on the directory itself) until the returned guard goes: the
/// directory that is there once the lock is held (the id claims' lock). A directory of the tree may be removed when
/// it empties (and made again) while we wait for its lock, and a lock on a removed directory
/// locks nothing: then the one there now is locked instead; `NotFound` when there is none.
pub fn lock_dir(dir: &Path) -> std::io::Result<nix::fcntl::Flock<std::fs::File>> {
    use std::os::unix::fs::MetadataExt;
    loop {
        let file = std::fs::File::open(dir)?;
        let held = nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusive)
            .map_err(|(_, e)| std::io::Error::from(e))?;
        let ours = held.metadata()?;
        let now = std::fs::metadata(dir)?;
        if (now.dev(), now.ino()) == (ours.dev(), ours.ino()) {
            return Ok(held);
        }
    }
}

/// Removes `containers/` and the tree if they are empty (rmdir is atomic: a directory with
/// anything in it stays).
pub fn remove_if_empty() {
    // The events journal goes with the last container: it is about containers.
    if std::fs::remove_dir(containers()).is_ok() {
        let _ = std::fs::remove_file(super::events::path());
    }
    let _ = std::fs::remove_dir(root());
}

/// Creates the container's filesystem state: `etc` for the files bound over its own (see
/// `runtime::net::attach`), and with a root filesystem (`overlay`) the overlay's `upper`,
/// `work` and the `root` mount point. A container started again finds its state as its last
/// run left it, and keeps its writes.
pub fn prepare(id: &str, overlay: bool) -> anyhow::Result<PathBuf> {
    let dir = path(id);
    // The container's directory, unless its record made it already.
    make_in(|| match std::fs::create_dir(container(id)) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        made => made,
    })?;
    let subs: &[&str] = match overlay {
        true => &["", "upper", "work", "root", "etc"],
        false => &["", "etc"],
    };
    for sub in subs {
        let sub = dir.join(sub);
        match std::fs::create_dir(&sub) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                return Err(e).with_context(|| format!("cannot create {}", sub.display()));
            }
            _ => {}
        }
    }
    Ok(dir)
}

/// Removes the container's filesystem state, if any.
pub fn remove_fs(id: &str) {
    let _ = std::fs::remove_dir_all(path(id));
}

/// The lock of one run of a recorded container (`run.lock` in its directory): its helper takes
/// it before anything of the run exists and its cleaner inherits it, so it is released only
/// once the run's cgroup and state are gone. The next run (a `start`, a restart) waits for it
/// before it makes a cgroup of the same name, which a late cleaner would otherwise remove.
///
/// A plain descriptor with `flock(2)`, not a guard that unlocks on drop: the helper's forked
/// child closes its copy, which must not release the lock.
pub struct RunLock(std::os::fd::OwnedFd);

impl RunLock {
    /// Waits for the lock of container `id`, whose directory exists (it is recorded).
    pub fn take(id: &str) -> std::io::Result<RunLock> {
        use std::os::fd::AsRawFd;
        use std::os::unix::fs::OpenOptionsExt;
        let file: std::os::fd::OwnedFd = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(container(id).join("run.lock"))?
            .into();
        // SAFETY: flock takes a descriptor we own and an operation flag; it touches no memory.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(RunLock(file))
    }

    /// The descriptor: closed in a forked child that must not hold the run up, kept by one
    /// that must (the cleaner).
    pub fn into_fd(self) -> std::os::fd::OwnedFd {
        self.0
    }

    pub fn as_raw_fd(&self) -> std::os::fd::RawFd {
        std::os::fd::AsRawFd::as_raw_fd(&self.0)
    }
}

/// A unix socket's path short enough for a socket address (108 bytes, with its NUL): the path
/// itself, or its name under the `/proc/self/fd` link of its directory, held open while the
/// path is used. A rootless tree (`/run/user/UID/my-container-tui/containers/ID/ctl.sock`)
/// is longer than an address holds.
pub struct SocketPath {
    _dir: Option<std::fs::File>,
    pub path: PathBuf,
}

impl SocketPath {
    pub fn new(path: &Path) -> std::io::Result<SocketPath> {
        use std::os::fd::AsRawFd;
        use std::os::unix::fs::OpenOptionsExt;
        if path.as_os_str().len() < 100 {
            return Ok(SocketPath {
                _dir: None,
                path: path.to_path_buf(),
            });
        }
        let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
            return Err(std::io::Error::other("not a socket's path"));
        };
        let dir = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC)
            .open(parent)?;
        let path = Path::new("/proc/self/fd")
            .join(dir.as_raw_fd().to_string())
            .join(name);
        Ok(SocketPath {
            _dir: Some(dir),
            path,
        })
    }
}
