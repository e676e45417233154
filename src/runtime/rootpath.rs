//! Paths inside a container's root filesystem, which is hostile input: an image may hold
//! `/proc -> /`, `/etc -> /host/dir` or a symlink swapped in while we work.
//!
//! Every path is resolved by the kernel with `openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)`,
//! so a symlink is followed only as if the root were `/`, and what comes back is an `O_PATH`
//! handle to the very inode resolved; mounts then go onto the handle
//! ([`super::mounts::Target::Fd`]), never onto a path looked up again. Files are created by
//! name in a resolved parent with `O_EXCL | O_NOFOLLOW`, so an existing file or link is never
//! truncated or followed. Nested directories that do not exist yet are made by the `pathrs`
//! crate (libpathrs, written for runc's and others' safe `mkdir -p`); its other calls cross-check
//! each step through procfs, which costs a dozen syscalls each, so single lookups go to
//! openat2 directly. Needs Linux 5.6 (openat2).

use super::Sys;
use anyhow::{Context, anyhow, bail};
use pathrs::{Handle, Root};
use std::fs::{File, Permissions};
use std::io::Write;
use std::os::fd::AsFd;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// A directory we have just mounted (a fresh tmpfs or sysfs): nothing of the image is in it
/// and nothing of the container runs yet, so plain `*at` calls on its descriptor are safe, and
/// cost a syscall each where a resolver verifies every step.
pub struct FreshDir {
    fd: std::os::fd::OwnedFd,
    shown: PathBuf,
}

impl FreshDir {
    /// The fresh mount now at `path` in `root` (resolved again, so the handle names the new
    /// mount's root, not the directory under it).
    pub fn reopen(root: &InRoot, path: &Path) -> anyhow::Result<FreshDir> {
        let handle = root.plain_dir(path)?;
        Ok(FreshDir {
            fd: handle.into(),
            shown: path.to_path_buf(),
        })
    }

    fn show(&self, name: &str) -> PathBuf {
        self.shown.join(name)
    }

    /// A new directory `name`, as an `O_PATH` handle.
    pub fn mkdir(&self, name: &str) -> anyhow::Result<std::os::fd::OwnedFd> {
        use nix::sys::stat::{Mode, mkdirat};
        mkdirat(&self.fd, name, Mode::from_bits_truncate(0o755))
            .with_sys(|| format!("cannot create {}", self.show(name).display()))?;
        self.open(name)
    }

    /// `name`, opened `O_PATH | O_NOFOLLOW`.
    pub fn open(&self, name: &str) -> anyhow::Result<std::os::fd::OwnedFd> {
        use nix::fcntl::{OFlag, openat};
        let flags = OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        openat(&self.fd, name, flags, nix::sys::stat::Mode::empty())
            .with_sys(|| format!("cannot open {}", self.show(name).display()))
    }

    /// A device node at `name`, which may be nested (`net/tun`): the directories on the way
    /// are made here too, and all we ever make in here is directories and nodes.
    pub fn mknod(&self, name: &str, block: bool, dev: u64, mode: u32) -> anyhow::Result<()> {
        let kind = if block {
            nix::sys::stat::SFlag::S_IFBLK
        } else {
            nix::sys::stat::SFlag::S_IFCHR
        };
        self.make_node(name, kind, dev, mode)
    }

    /// [`FreshDir::mknod`] of any kind of node: a device or a FIFO (`S_IFIFO`).
    pub fn make_node(
        &self,
        name: &str,
        kind: nix::sys::stat::SFlag,
        dev: u64,
        mode: u32,
    ) -> anyhow::Result<()> {
        use nix::sys::stat::{Mode, mkdirat, mknodat};
        let mut prefix = PathBuf::new();
        let parents: Vec<_> = Path::new(name).components().collect();
        for part in parents.iter().take(parents.len().saturating_sub(1)) {
            prefix.push(part);
            match mkdirat(&self.fd, &prefix, Mode::from_bits_truncate(0o755)) {
                Ok(()) | Err(nix::errno::Errno::EEXIST) => {}
                Err(e) => {
                    return Err(e).with_sys(|| {
                        format!("cannot create {}", self.shown.join(&prefix).display())
                    });
                }
            }
        }
        mknodat(&self.fd, name, kind, Mode::from_bits_truncate(mode), dev)
            .with_sys(|| format!("cannot create {}", self.show(name).display()))
    }

    /// Gives `name` (never followed if a symlink) to `uid` and `gid`.
    pub fn chown(&self, name: &str, uid: Option<u32>, gid: Option<u32>) -> anyhow::Result<()> {
        nix::unistd::fchownat(
            &self.fd,
            name,
            uid.map(nix::unistd::Uid::from_raw),
            gid.map(nix::unistd::Gid::from_raw),
            nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
        )
        .with_sys(|| format!("chown {}", self.show(name).display()))
    }

    /// A symlink `name` pointing to `target`.
    pub fn symlink(&self, name: &str, target: &str) -> anyhow::Result<()> {
        nix::unistd::symlinkat(target, &self.fd, name)
            .with_sys(|| format!("cannot create {}", self.show(name).display()))
    }

    /// An empty file `name` (a mount point), as an `O_PATH` handle.
    pub fn file(&self, name: &str) -> anyhow::Result<std::os::fd::OwnedFd> {
        use nix::fcntl::{OFlag, openat};
        let flags = OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        drop(
            openat(
                &self.fd,
                name,
                flags | OFlag::O_WRONLY,
                nix::sys::stat::Mode::from_bits_truncate(0o600),
            )
            .with_sys(|| format!("cannot create {}", self.show(name).display()))?,
        );
        self.open(name)
    }
}

/// A directory treated as `/` for every path resolved in it.
pub struct InRoot {
    root: Root,
    /// How errors show it: the path the container will see it at.
    shown: PathBuf,
}

/// `openat2(O_PATH, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)` on `path` below `dir`: one
/// syscall, the kernel confining every symlink to `dir`. `follow` follows a symlink in the
/// last component (inside the root too). pathrs does the same and then verifies the result
/// through procfs, for kernels whose openat2 it cannot trust; a dozen syscalls a call, which on
/// the start-up path cost more than the rest of it.
fn resolve_in(dir: &impl AsFd, path: &Path, follow: bool) -> std::io::Result<Handle> {
    resolve_with(dir, path, follow, 0)
}

/// [`resolve_in`] with more `RESOLVE_*` flags.
fn resolve_with(dir: &impl AsFd, path: &Path, follow: bool, extra: u64) -> std::io::Result<Handle> {
    #[repr(C)]
    struct OpenHow {
        flags: u64,
        mode: u64,
        resolve: u64,
    }
    const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
    const RESOLVE_IN_ROOT: u64 = 0x10;
    let mut flags = (libc::O_PATH | libc::O_CLOEXEC) as u64;
    if !follow {
        flags |= libc::O_NOFOLLOW as u64;
    }
    let how = OpenHow {
        flags,
        mode: 0,
        resolve: RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | extra,
    };
    let target = if path.as_os_str().is_empty() {
        Path::new(".")
    } else {
        path
    };
    let c = std::ffi::CString::new(target.as_os_str().as_encoded_bytes())?;
    // SAFETY: `c` is NUL-terminated, `how` a live open_how of the size given; the result is a
    // new descriptor that we own.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            std::os::fd::AsRawFd::as_raw_fd(&dir.as_fd()),
            c.as_ptr(),
            &how as *const OpenHow,
            std::mem::size_of::<OpenHow>(),
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: openat2 returned a new descriptor.
    let fd = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd as i32) };
    Ok(Handle::from_fd(fd))
}

/// An archive entry's name (a layer's, `cp`'s) as a relative path of plain components, `.`
/// and a leading `/` dropped; `None` when a `..` would leave the directory it is taken in.
pub fn plain_relative(name: &Path) -> Option<PathBuf> {
    use std::path::Component;
    let mut clean = PathBuf::new();
    for part in name.components() {
        match part {
            Component::RootDir | Component::CurDir => {}
            Component::Normal(p) => clean.push(p),
            Component::ParentDir | Component::Prefix(_) => return None,
        }
    }
    Some(clean)
}

fn rel(path: &Path) -> &Path {
    path.strip_prefix("/").unwrap_or(path)
}

/// The type bits of what `fd` names (`S_IFDIR`, `S_IFREG`, ...).
pub(crate) fn file_type(fd: impl AsFd) -> anyhow::Result<nix::sys::stat::SFlag> {
    let st = nix::sys::stat::fstat(fd)?;
    Ok(nix::sys::stat::SFlag::from_bits_truncate(st.st_mode) & nix::sys::stat::SFlag::S_IFMT)
}

impl InRoot {
    /// Opens `dir` (a path of ours on the host, not inside the image) as a root.
    pub fn open(dir: &Path, shown: &Path) -> anyhow::Result<InRoot> {
        let root = Root::open(dir).map_err(|e| anyhow!("cannot open {}: {e}", dir.display()))?;
        Ok(InRoot {
            root,
            shown: shown.to_path_buf(),
        })
    }

    /// What `path` inside names, resolved by the kernel in the root (a link in the last
    /// component followed too when `follow`), as an `O_PATH` handle.
    pub fn lookup(&self, path: &Path, follow: bool) -> std::io::Result<Handle> {
        resolve_in(&self.root, rel(path), follow)
    }

    /// The root of process `pid`'s mount namespace, as it sees it (`/proc/PID/root`, a magic
    /// link followed here, once, on purpose): a running container's root, mounts and all.
    /// The caller checks afterwards that `pid` is still the process it meant.
    pub fn of_process(pid: i32) -> anyhow::Result<InRoot> {
        let dir = nix::fcntl::open(
            format!("/proc/{pid}/root").as_str(),
            nix::fcntl::OFlag::O_PATH
                | nix::fcntl::OFlag::O_DIRECTORY
                | nix::fcntl::OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        )
        .map_err(|e| anyhow!("cannot open the root of process {pid}: {}", e.desc()))?;
        Ok(InRoot {
            root: Root::from_fd(dir),
            shown: PathBuf::from("/"),
        })
    }

    /// How `path` inside is named in errors.
    pub fn show(&self, path: &Path) -> PathBuf {
        self.shown.join(rel(path))
    }

    /// The directory at `path`, created (0755, and its parents) when missing. Symlinks on
    /// the way are followed inside the root only.
    pub fn dir(&self, path: &Path) -> anyhow::Result<Handle> {
        self.root
            .mkdir_all(rel(path), &Permissions::from_mode(0o755))
            .map_err(|e| {
                anyhow!(
                    "{}: cannot be made a directory inside the rootfs ({e}; a symlink on the way may lead to nothing there)",
                    self.show(path).display()
                )
            })
    }

    /// A directory at `path` that must be a real one, not a symlink (runc's rule for `/proc`
    /// and `/sys`, CVE-2019-19921): created when missing.
    pub fn plain_dir(&self, path: &Path) -> anyhow::Result<Handle> {
        match resolve_in(&self.root, rel(path), false) {
            Ok(handle) => {
                if file_type(&handle)? != nix::sys::stat::SFlag::S_IFDIR {
                    bail!(
                        "{} must be a directory in the rootfs, not a symlink or a file",
                        self.show(path).display()
                    );
                }
                Ok(handle)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => self.new_dir(path),
            Err(e) => Err(anyhow!("{}: {e}", self.show(path).display())),
        }
    }

    /// A directory at `path`, symlinks on the way followed inside the root; created when
    /// missing.
    pub fn existing_or_new_dir(&self, path: &Path) -> anyhow::Result<Handle> {
        match resolve_in(&self.root, rel(path), true) {
            Ok(handle) => Ok(handle),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => self.new_dir(path),
            Err(e) => Err(anyhow!("{}: {e}", self.show(path).display())),
        }
    }

    /// Makes the missing directory `path`: one `mkdirat` in the root for a top-level name
    /// (the common case, and a tenth of the syscalls `mkdir_all` makes to verify each step),
    /// else `pathrs`'s `mkdir_all`.
    fn new_dir(&self, path: &Path) -> anyhow::Result<Handle> {
        let relative = rel(path);
        if relative.components().count() != 1 {
            return self.dir(path);
        }
        // mkdirat never follows a symlink at the last component: an existing link is EEXIST.
        nix::sys::stat::mkdirat(
            &self.root,
            relative,
            nix::sys::stat::Mode::from_bits_truncate(0o755),
        )
        .with_sys(|| format!("cannot create {}", self.show(path).display()))?;
        self.plain_dir(path)
    }

    /// The regular file at `path` (a link followed only inside the root), opened to read.
    pub fn read_file(&self, path: &Path) -> anyhow::Result<File> {
        let handle = resolve_in(&self.root, rel(path), true)
            .map_err(|e| anyhow!("{}: {e}", self.show(path).display()))?;
        if file_type(&handle)? != nix::sys::stat::SFlag::S_IFREG {
            bail!("{} is not a regular file", self.show(path).display());
        }
        handle
            .reopen(pathrs::flags::OpenFlags::O_RDONLY)
            .map_err(|e| anyhow!("{}: {e}", self.show(path).display()))
    }

    /// A mount point for a file: the regular file at `path`, or a new empty file made with
    /// `O_EXCL | O_NOFOLLOW` in a parent resolved inside the root. A link to a device, a
    /// socket or a directory is refused: nothing is ever bound over the container's
    /// `/dev/null`.
    pub fn file(&self, path: &Path) -> anyhow::Result<Handle> {
        self.file_with(path, 0)
    }

    /// [`Self::file`], where a symlink on the way may not cross into another mount (the image's
    /// `/etc/hosts -> /proc/...` would otherwise put our file over a procfs entry).
    pub fn file_on_image(&self, path: &Path) -> anyhow::Result<Handle> {
        const RESOLVE_NO_XDEV: u64 = 0x01;
        self.file_with(path, RESOLVE_NO_XDEV)
    }

    fn file_with(&self, path: &Path, extra: u64) -> anyhow::Result<Handle> {
        match resolve_with(&self.root, rel(path), true, extra) {
            Ok(handle) => {
                if file_type(&handle)? != nix::sys::stat::SFlag::S_IFREG {
                    bail!(
                        "{} must be a regular file in the rootfs",
                        self.show(path).display()
                    );
                }
                Ok(handle)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.create(path, b"", 0o644)?;
                resolve_in(&self.root, rel(path), false)
                    .map_err(|e| anyhow!("{}: {e}", self.show(path).display()))
            }
            Err(e) => Err(anyhow!("{}: {e}", self.show(path).display())),
        }
    }

    /// Writes a new file at `path` holding `contents`; fails if anything is there already.
    /// The parent is resolved inside the root; the file is made in it by name, one component,
    /// `O_CREAT | O_EXCL | O_NOFOLLOW`: an existing file or link is never opened.
    pub fn create(&self, path: &Path, contents: &[u8], mode: u32) -> anyhow::Result<()> {
        use nix::fcntl::{OFlag, openat};
        let shown = self.show(path);
        let parent = rel(path).parent().unwrap_or(Path::new(""));
        let name = rel(path)
            .file_name()
            .ok_or_else(|| anyhow!("{}: no file name", shown.display()))?;
        // An O_PATH handle serves as the directory of an *at call.
        let dir = self.existing_or_new_dir(parent)?;
        let flags = OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW;
        let fd = openat(
            &dir,
            name,
            flags | OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::from_bits_truncate(mode),
        )
        .with_sys(|| format!("cannot create {}", shown.display()))?;
        File::from(fd)
            .write_all(contents)
            .with_context(|| format!("cannot write {}", shown.display()))
    }

    /// True when `path` leads to something, its links followed inside the root.
    pub fn resolves(&self, path: &Path) -> bool {
        resolve_in(&self.root, rel(path), true).is_ok()
    }

    /// True when something (a file, a link, anything) exists at `path`, links not followed.
    pub fn exists(&self, path: &Path) -> bool {
        resolve_in(&self.root, rel(path), false).is_ok()
    }

    /// The socket at `path` (the last component not followed), if that is what is there.
    pub fn socket(&self, path: &Path) -> Option<Handle> {
        let handle = resolve_in(&self.root, rel(path), false).ok()?;
        (file_type(&handle).ok()? == nix::sys::stat::SFlag::S_IFSOCK).then_some(handle)
    }

    /// The type of the file system `path` resolves to inside the root (its deepest existing
    /// ancestor's, when it does not exist yet).
    pub fn resolved_fs_type(&self, path: &Path) -> Option<nix::sys::statfs::FsType> {
        let mut at = path;
        loop {
            if let Ok(fd) = resolve_in(&self.root, rel(at), true) {
                return nix::sys::statfs::fstatfs(&fd)
                    .ok()
                    .map(|s| s.filesystem_type());
            }
            at = at.parent()?;
        }
    }
}
