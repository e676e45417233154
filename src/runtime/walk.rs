//! The one walk of a directory tree we do not trust (a container's root, its overlay upper
//! directory, a build context), and the tar entries it becomes: `cp` and `export` archive
//! through it, `commit` and `build` write layers through it, `diff` classifies what it visits.
//!
//! Every entry is `lstat`ed by name in its parent directory, and a directory is opened by name
//! from its parent with `O_NOFOLLOW | O_DIRECTORY`: a link is visited as a link and never walked
//! through, even one planted while the walk runs. Names are visited sorted, parents before
//! children, so the same tree always gives the same stream (and the same layer digest).

use anyhow::{Context, anyhow, bail};
use nix::fcntl::{AtFlags, OFlag, openat};
use nix::sys::stat::{FileStat, Mode, SFlag, fstatat};
use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// One entry the walk visits.
pub struct Entry<'a> {
    /// The directory it is in, and its name there.
    pub parent: &'a OwnedFd,
    pub name: &'a OsStr,
    /// Its path relative to where the walk began (as a tar entry names it).
    pub path: &'a Path,
    pub st: &'a FileStat,
    /// A directory's own descriptor (`O_RDONLY`), opened without following a link.
    pub dir: Option<&'a OwnedFd>,
    /// Another file system is mounted here (a walk that keeps to one): not gone into.
    pub mount_point: bool,
}

impl Entry<'_> {
    pub fn kind(&self) -> SFlag {
        kind(self.st)
    }
}

pub fn kind(st: &FileStat) -> SFlag {
    SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT
}

/// The names in directory `dir` (`.` and `..` left out), sorted.
pub fn names(dir: &OwnedFd, shown: &Path) -> anyhow::Result<Vec<OsString>> {
    let fd = openat(
        dir,
        ".",
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| anyhow!("{}: {}", shown.display(), e.desc()))?;
    let mut listing =
        nix::dir::Dir::from_fd(fd).map_err(|e| anyhow!("{}: {}", shown.display(), e.desc()))?;
    let mut names: Vec<OsString> = listing
        .iter()
        .flatten()
        .map(|e| OsStr::from_bytes(e.file_name().to_bytes()).to_os_string())
        .filter(|n| n != "." && n != "..")
        .collect();
    names.sort();
    Ok(names)
}

/// A directory opened by name from its parent, never through a link.
pub fn open_dir(parent: &impl AsFd, name: &OsStr, shown: &Path) -> anyhow::Result<OwnedFd> {
    openat(
        parent,
        name,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| anyhow!("{}: {}", shown.display(), e.desc()))
}

/// A directory of ours or of the store's, by path, the last component not followed.
pub fn open_path(dir: &Path) -> anyhow::Result<OwnedFd> {
    openat(
        nix::fcntl::AT_FDCWD,
        dir,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| anyhow!("{}: {}", dir.display(), e.desc()))
}

/// Visits `name` (in `parent`, shown as `path`) and everything below it. With `device`, keeps
/// to that file system: a directory of another is visited as its mount point only.
pub fn from(
    parent: &OwnedFd,
    name: &OsStr,
    path: &Path,
    device: Option<u64>,
    visit: &mut dyn FnMut(&Entry) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let st = fstatat(parent, name, AtFlags::AT_SYMLINK_NOFOLLOW)
        .map_err(|e| anyhow!("{}: {}", path.display(), e.desc()))?;
    visit_stat(parent, name, path, &st, device, visit)
}

fn visit_stat(
    parent: &OwnedFd,
    name: &OsStr,
    path: &Path,
    st: &FileStat,
    device: Option<u64>,
    visit: &mut dyn FnMut(&Entry) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let st = *st;
    let mount_point = device.is_some_and(|d| d != st.st_dev);
    if kind(&st) != SFlag::S_IFDIR || mount_point {
        return visit(&Entry {
            parent,
            name,
            path,
            st: &st,
            dir: None,
            mount_point,
        });
    }
    let dir = open_dir(parent, name, path)?;
    visit(&Entry {
        parent,
        name,
        path,
        st: &st,
        dir: Some(&dir),
        mount_point,
    })?;
    below(&dir, path, device, visit)
}

/// Visits everything below directory `dir`, each entry's path under `prefix`.
pub fn below(
    dir: &OwnedFd,
    prefix: &Path,
    device: Option<u64>,
    visit: &mut dyn FnMut(&Entry) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    for child in names(dir, prefix)? {
        // Gone meanwhile (a running container's file): not there to archive.
        let Ok(st) = fstatat(dir, child.as_os_str(), AtFlags::AT_SYMLINK_NOFOLLOW) else {
            continue;
        };
        visit_stat(dir, &child, &prefix.join(&child), &st, device, visit)?;
    }
    Ok(())
}

/// overlayfs's whiteout: a character device 0:0.
pub fn is_whiteout(st: &FileStat) -> bool {
    kind(st) == SFlag::S_IFCHR && st.st_rdev == 0
}

/// overlayfs's opaque directory (read from its descriptor): it hides what the layers below
/// have there.
pub fn is_opaque(dir: &OwnedFd) -> bool {
    let file = std::fs::File::from(dir.try_clone().expect("a descriptor to duplicate"));
    xattr::FileExt::get_xattr(&file, super::mounts::opaque_xattr())
        .is_ok_and(|v| v.as_deref() == Some(b"y"))
}

/// Extended attributes a layer carries: user ones and file capabilities. `trusted.*` and
/// `user.overlay.*` (overlayfs's own: a layer's redirect or opaque marker would steer the
/// overlay) and security labels are the host's business, never written or read.
pub fn layer_xattr(name: &[u8]) -> bool {
    (name.starts_with(b"user.") && !name.starts_with(b"user.overlay."))
        || name == b"security.capability"
}

/// What the tar stream is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// `cp` and `export`: files, directories, links and fifos; device nodes and sockets left
    /// out; a file bound from another file system written as its empty mount point.
    Copy,
    /// An image layer from an overlay upper directory, as Docker and containerd write one:
    /// whiteouts as `.wh.NAME`, opaque directories marked by `.wh..wh..opq`, hard links kept,
    /// device nodes kept, [`layer_xattr`]s kept, owners numeric, mtimes clamped to `clamp`
    /// (`SOURCE_DATE_EPOCH`) when given.
    Layer { clamp: Option<u64> },
}

/// The tar entries of what a walk visits.
pub struct Tar<W: Write> {
    tar: tar::Builder<W>,
    form: Form,
    /// The first path of each multiply-linked file, by (device, inode).
    linked: HashMap<(u64, u64), PathBuf>,
    /// Every entry's owner, if not its own (`COPY --chown`, and root for `COPY` without).
    owner: Option<(u32, u32)>,
}

impl<W: Write> Tar<W> {
    pub fn new(out: W, form: Form) -> Tar<W> {
        let mut tar = tar::Builder::new(out);
        tar.follow_symlinks(false);
        Tar {
            tar,
            form,
            linked: HashMap::new(),
            owner: None,
        }
    }

    /// Every entry owned by `uid:gid`.
    pub fn owned_by(mut self, uid: u32, gid: u32) -> Tar<W> {
        self.owner = Some((uid, gid));
        self
    }

    /// Writes a directory entry of our own (a `COPY` destination).
    pub fn directory(&mut self, path: &Path, mode: u32) -> anyhow::Result<()> {
        let mut header = tar::Header::new_gnu();
        header.set_mode(mode);
        let (uid, gid) = self.owner.unwrap_or((0, 0));
        header.set_uid(u64::from(uid));
        header.set_gid(u64::from(gid));
        header.set_mtime(0);
        header.set_size(0);
        header.set_entry_type(tar::EntryType::Directory);
        self.tar
            .append_data(&mut header, path, std::io::empty())
            .with_context(|| format!("{}: cannot archive it", path.display()))
    }

    /// The underlying builder, for entries that come from elsewhere (`ADD` of an archive).
    pub fn builder(&mut self) -> &mut tar::Builder<W> {
        &mut self.tar
    }

    fn header(&self, st: &FileStat, kind: tar::EntryType) -> tar::Header {
        let mut header = tar::Header::new_gnu();
        header.set_mode(st.st_mode & 0o7777);
        let (uid, gid) = self.owner.unwrap_or((st.st_uid, st.st_gid));
        header.set_uid(u64::from(uid));
        header.set_gid(u64::from(gid));
        let mtime = st.st_mtime.max(0) as u64;
        header.set_mtime(match self.form {
            Form::Layer { clamp: Some(c) } => mtime.min(c),
            _ => mtime,
        });
        header.set_size(0);
        header.set_entry_type(kind);
        header
    }

    /// An empty regular entry (a whiteout, an opaque marker, a mount point).
    fn empty(&mut self, header: &mut tar::Header, path: &Path) -> anyhow::Result<()> {
        header.set_entry_type(tar::EntryType::Regular);
        self.tar
            .append_data(header, path, std::io::empty())
            .with_context(|| format!("{}: cannot archive it", path.display()))
    }

    /// A layer's extended attributes of `fd`, as PAX records before the entry.
    fn xattrs(&mut self, fd: &impl AsFd) -> anyhow::Result<()> {
        if !matches!(self.form, Form::Layer { .. }) {
            return Ok(());
        }
        let file = std::fs::File::from(fd.as_fd().try_clone_to_owned()?);
        let mut records: Vec<(String, Vec<u8>)> = Vec::new();
        for name in xattr::FileExt::list_xattr(&file).into_iter().flatten() {
            if layer_xattr(name.as_bytes())
                && let Ok(Some(value)) = xattr::FileExt::get_xattr(&file, &name)
                && let Some(name) = name.to_str()
            {
                records.push((format!("SCHILY.xattr.{name}"), value));
            }
        }
        records.sort();
        if !records.is_empty() {
            self.tar
                .append_pax_extensions(records.iter().map(|(k, v)| (k.as_str(), v.as_slice())))?;
        }
        Ok(())
    }

    /// Writes one visited entry.
    pub fn entry(&mut self, e: &Entry) -> anyhow::Result<()> {
        let layer = matches!(self.form, Form::Layer { .. });
        let path = e.path;
        let fail = |err: nix::errno::Errno| anyhow!("{}: {}", path.display(), err.desc());
        match e.kind() {
            SFlag::S_IFDIR => {
                let mut header = self.header(e.st, tar::EntryType::Directory);
                if let Some(dir) = e.dir {
                    self.xattrs(dir)?;
                }
                self.tar
                    .append_data(&mut header, path, std::io::empty())
                    .with_context(|| format!("{}: cannot archive it", path.display()))?;
                if layer && e.dir.is_some_and(is_opaque) {
                    let mut marker = self.header(e.st, tar::EntryType::Regular);
                    marker.set_mode(e.st.st_mode & 0o777);
                    self.empty(&mut marker, &path.join(".wh..wh..opq"))?;
                }
            }
            SFlag::S_IFREG if e.mount_point => {
                let mut header = self.header(e.st, tar::EntryType::Regular);
                self.empty(&mut header, path)?;
            }
            SFlag::S_IFREG => {
                if layer && e.st.st_nlink > 1 {
                    let key = (e.st.st_dev, e.st.st_ino);
                    if let Some(first) = self.linked.get(&key) {
                        let mut header = self.header(e.st, tar::EntryType::Link);
                        let first = first.clone();
                        return self
                            .tar
                            .append_link(&mut header, path, &first)
                            .with_context(|| format!("{}: cannot archive it", path.display()));
                    }
                    self.linked.insert(key, path.to_path_buf());
                }
                let fd = openat(
                    e.parent,
                    e.name,
                    OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
                    Mode::empty(),
                )
                .map_err(fail)?;
                let file = std::fs::File::from(fd);
                let now = nix::sys::stat::fstat(&file)?;
                if kind(&now) != SFlag::S_IFREG {
                    bail!("{} changed while it was archived", path.display());
                }
                self.xattrs(&file)?;
                let mut header = self.header(&now, tar::EntryType::Regular);
                header.set_size(now.st_size as u64);
                // As long as it said it was: a file that grows meanwhile is cut there.
                self.tar
                    .append_data(&mut header, path, file.take(now.st_size as u64))
                    .with_context(|| format!("{}: cannot archive it", path.display()))?;
            }
            SFlag::S_IFLNK => {
                let target = nix::fcntl::readlinkat(e.parent, e.name).map_err(fail)?;
                let mut header = self.header(e.st, tar::EntryType::Symlink);
                self.tar
                    .append_link(&mut header, path, Path::new(&target))
                    .with_context(|| format!("{}: cannot archive it", path.display()))?;
            }
            SFlag::S_IFIFO => {
                let mut header = self.header(e.st, tar::EntryType::Fifo);
                self.tar.append_data(&mut header, path, std::io::empty())?;
            }
            SFlag::S_IFCHR if layer && is_whiteout(e.st) => {
                let mut header = self.header(e.st, tar::EntryType::Regular);
                header.set_mode(0o600);
                let mut name = OsString::from(".wh.");
                name.push(e.name);
                let at = path.parent().unwrap_or(Path::new("")).join(name);
                self.empty(&mut header, &at)?;
            }
            SFlag::S_IFCHR | SFlag::S_IFBLK if layer => {
                let kind = match e.kind() {
                    SFlag::S_IFCHR => tar::EntryType::Char,
                    _ => tar::EntryType::Block,
                };
                let mut header = self.header(e.st, kind);
                let rdev = e.st.st_rdev;
                header.set_device_major(nix::sys::stat::major(rdev) as u32)?;
                header.set_device_minor(nix::sys::stat::minor(rdev) as u32)?;
                self.tar.append_data(&mut header, path, std::io::empty())?;
            }
            // Sockets, and device nodes outside a layer: not files to copy.
            _ => {}
        }
        Ok(())
    }

    /// Ends the archive, returning what it was written to.
    pub fn finish(self) -> anyhow::Result<W> {
        self.tar.into_inner().context("cannot write the archive")
    }
}

/// The whole of directory `dir` (entries named from it: `etc/passwd`) as a tar stream.
pub fn archive_below<W: Write>(
    dir: &OwnedFd,
    device: Option<u64>,
    form: Form,
    out: W,
) -> anyhow::Result<W> {
    let mut tar = Tar::new(out, form);
    below(dir, Path::new(""), device, &mut |e| tar.entry(e))?;
    tar.finish()
}
