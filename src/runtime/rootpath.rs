//! Paths inside a container's root filesystem, which is hostile input: an image may hold
//! `/proc -> /`, `/etc -> /host/dir` or a symlink swapped in while we work.
//!
//! Every path is resolved by the `pathrs` crate (libpathrs: `openat2(RESOLVE_IN_ROOT)` where
//! the kernel has it), so a symlink is followed only as if the root were `/`, and what comes
//! back is a handle to the very inode resolved; mounts then go onto the handle
//! ([`super::mounts::Target::Fd`]), never onto a path looked up again. Files are created with
//! `O_EXCL | O_NOFOLLOW`, so an existing file or link is never truncated or followed.

use anyhow::{Context, anyhow, bail};
use pathrs::error::ErrorKind;
use pathrs::flags::OpenFlags;
use pathrs::{Handle, Root};
use std::fs::{File, Permissions};
use std::io::Write;
use std::os::fd::AsFd;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// A directory treated as `/` for every path resolved in it.
pub struct InRoot {
    root: Root,
    /// How errors show it: the path the container will see it at.
    shown: PathBuf,
}

fn rel(path: &Path) -> &Path {
    path.strip_prefix("/").unwrap_or(path)
}

fn file_type(fd: impl AsFd) -> anyhow::Result<nix::sys::stat::SFlag> {
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

    /// A directory handle as a root of its own (a fresh `/dev`, say).
    pub fn from_handle(handle: Handle, shown: &Path) -> InRoot {
        InRoot {
            root: Root::from_fd(std::os::fd::OwnedFd::from(handle)),
            shown: shown.to_path_buf(),
        }
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
        match self.root.resolve_nofollow(rel(path)) {
            Ok(handle) => {
                if file_type(&handle)? != nix::sys::stat::SFlag::S_IFDIR {
                    bail!(
                        "{} must be a directory in the rootfs, not a symlink or a file",
                        self.show(path).display()
                    );
                }
                Ok(handle)
            }
            Err(e) if e.kind() == ErrorKind::OsError(Some(libc::ENOENT)) => self.dir(path),
            Err(e) => Err(anyhow!("{}: {e}", self.show(path).display())),
        }
    }

    /// A mount point for a file: the regular file (or device, or socket) at `path`, or a new
    /// empty file made with `O_EXCL | O_NOFOLLOW` in a parent resolved inside the root.
    pub fn file(&self, path: &Path) -> anyhow::Result<Handle> {
        match self.root.resolve(rel(path)) {
            Ok(handle) => {
                if file_type(&handle)? == nix::sys::stat::SFlag::S_IFDIR {
                    bail!("{} is a directory", self.show(path).display());
                }
                Ok(handle)
            }
            Err(e) if e.kind() == ErrorKind::OsError(Some(libc::ENOENT)) => {
                self.create(path, b"", 0o644)?;
                self.root
                    .resolve_nofollow(rel(path))
                    .map_err(|e| anyhow!("{}: {e}", self.show(path).display()))
            }
            Err(e) => Err(anyhow!("{}: {e}", self.show(path).display())),
        }
    }

    /// Writes a new file at `path` holding `contents`; fails if anything is there already.
    pub fn create(&self, path: &Path, contents: &[u8], mode: u32) -> anyhow::Result<()> {
        let shown = self.show(path);
        let parent = rel(path).parent().unwrap_or(Path::new(""));
        let name = rel(path)
            .file_name()
            .ok_or_else(|| anyhow!("{}: no file name", shown.display()))?;
        let dir = self.dir(parent)?;
        let dir = InRoot::from_handle(dir, &shown);
        let flags = OpenFlags::O_WRONLY | OpenFlags::O_CREAT | OpenFlags::O_EXCL;
        let mut file: File = dir
            .root
            .create_file(
                name,
                flags | OpenFlags::O_NOFOLLOW,
                &Permissions::from_mode(mode),
            )
            .map_err(|e| anyhow!("cannot create {}: {e}", shown.display()))?;
        file.write_all(contents)
            .with_context(|| format!("cannot write {}", shown.display()))
    }

    /// True when something (a file, a link, anything) exists at `path`, links not followed.
    pub fn exists(&self, path: &Path) -> bool {
        self.root.resolve_nofollow(rel(path)).is_ok()
    }

    /// Makes a device node at `path` (`major:minor`, char or block) with `mode`.
    pub fn mknod(&self, path: &Path, block: bool, dev: u64, mode: u32) -> anyhow::Result<()> {
        let perm = Permissions::from_mode(mode);
        let (major, minor) = (
            nix::sys::stat::major(dev) as u32,
            nix::sys::stat::minor(dev) as u32,
        );
        let dev = libc::makedev(major, minor);
        let kind = if block {
            pathrs::InodeType::BlockDevice(perm, dev)
        } else {
            pathrs::InodeType::CharacterDevice(perm, dev)
        };
        self.dir(rel(path).parent().unwrap_or(Path::new("")))?;
        self.root
            .create(rel(path), &kind)
            .map_err(|e| anyhow!("cannot create {}: {e}", self.show(path).display()))
    }

    /// A symlink at `path` pointing to `target` (taken literally).
    pub fn symlink(&self, path: &Path, target: &str) -> anyhow::Result<()> {
        self.root
            .create(rel(path), &pathrs::InodeType::Symlink(target.into()))
            .map_err(|e| anyhow!("cannot create {}: {e}", self.show(path).display()))
    }
}
