//! Applies one layer's tar stream to an empty directory, as overlayfs wants a layer: OCI
//! whiteouts (`.wh.NAME`) become character devices 0:0 and opaque markers (`.wh..wh..opq`)
//! the `trusted.overlay.opaque` attribute; owners, modes, times, device nodes, hard and symbolic
//! links and file capabilities are kept.
//!
//! A layer is hostile input. Every entry is written by name in a parent directory that was
//! opened one component at a time from the layer's root with `O_NOFOLLOW | O_DIRECTORY`, so
//! no name can leave the layer: `..` and absolute names are refused, a symlink on the way is
//! refused (a symlink is only ever *made*, never followed), and a hard link's target is
//! found the same way, so it is always a file of this layer. The `tar` crate parses (long
//! names, PAX records); its own `unpack` is not used because it follows symlinks in parents
//! (checked by canonicalising, racy and outside-the-root by design) and knows no whiteouts.

use anyhow::{Context, anyhow, bail};
use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag, openat};
use nix::sys::stat::{Mode, SFlag, UtimensatFlags, makedev, mkdirat, mknodat, utimensat};
use nix::sys::time::TimeSpec;
use nix::unistd::{Gid, Uid, UnlinkatFlags, fchownat, linkat, symlinkat, unlinkat};
use sha2::{Digest, Sha256};
use std::ffi::OsStr;
use std::io::{self, Read};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

/// What applying a layer found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// `sha256:<hex>` of the uncompressed stream: the layer's `diff_id`.
    pub diff_id: String,
    /// Bytes of regular files.
    pub size: u64,
}

/// The prefix of a whiteout's name, and the name of an opaque marker.
const WHITEOUT: &str = ".wh.";
const OPAQUE: &str = ".wh..wh..opq";

/// Decompresses (gzip, zstd or none, told by the first bytes) and applies a layer to `dir`,
/// which must exist and be empty. The whole uncompressed stream is hashed, padding included.
pub fn apply(compressed: impl Read, dir: &Path) -> anyhow::Result<Applied> {
    apply_tar(decompressed(compressed)?, dir)
}

/// `input` decompressed: gzip, zstd or none, told by its first bytes.
pub fn decompressed<'a>(input: impl Read + 'a) -> io::Result<Box<dyn Read + 'a>> {
    let mut input = io::BufReader::with_capacity(256 << 10, input);
    Ok(match sniff(&mut input)? {
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(input)),
        Compression::Zstd => Box::new(zstd::Decoder::with_buffer(input)?),
        Compression::None => Box::new(input),
    })
}

enum Compression {
    Gzip,
    Zstd,
    None,
}

fn sniff(input: &mut impl io::BufRead) -> io::Result<Compression> {
    let head = input.fill_buf()?;
    Ok(if head.starts_with(&[0x1f, 0x8b]) {
        Compression::Gzip
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Compression::Zstd
    } else {
        Compression::None
    })
}

/// Applies an uncompressed tar stream to `dir`. For a rootless user, in a process of ours
/// that is root of their user namespace ([`apply_as_root`]): only there are the layer's owners
/// ids the kernel can write, and its whiteouts files the user's overlays read.
pub fn apply_tar(tar: impl Read, dir: &Path) -> anyhow::Result<Applied> {
    if crate::state::as_root::needed() {
        return apply_as_root(tar, dir);
    }
    apply_here(tar, dir)
}

/// [`apply_tar`] in this process.
fn apply_here(tar: impl Read, dir: &Path) -> anyhow::Result<Applied> {
    let mut hashed = Hashing {
        inner: tar,
        hash: Sha256::new(),
    };
    let root = openat(
        nix::fcntl::AT_FDCWD,
        dir,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| {
        anyhow!(
            "cannot open layer directory {}: {}",
            dir.display(),
            e.desc()
        )
    })?;
    let mut layer = Layer {
        root,
        cached: None,
        dirs: Vec::new(),
        size: 0,
        nodes: crate::state::owner::in_host_user_namespace(),
    };
    {
        let mut archive = tar::Archive::new(&mut hashed);
        for entry in archive.entries().context("layer is not a tar archive")? {
            let entry = entry.context("layer is not a valid tar archive")?;
            layer.entry(entry)?;
        }
    }
    // The tar's end (zero blocks, padding) counts towards the digest too.
    io::copy(&mut hashed, &mut io::sink()).context("cannot read the layer")?;
    layer.finish()?;
    Ok(Applied {
        diff_id: format!("sha256:{}", hex(&hashed.hash.finalize())),
        size: layer.size,
    })
}

/// [`apply_tar`] by [`Task::Unpack`]: the stream goes to the task over a socket (a write to a
/// task that gave up fails with `EPIPE`, not a `SIGPIPE` that would end us), and the task's
/// one line comes back: the `diff_id` and the size, or its error.
fn apply_as_root(mut tar: impl Read, dir: &Path) -> anyhow::Result<Applied> {
    use crate::state::as_root::{Task, answer, command};
    use nix::sys::socket::{AddressFamily, SockFlag, SockType, socketpair};
    let (ours, theirs) = socketpair(
        AddressFamily::Unix,
        SockType::Stream,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .context("socketpair")?;
    let task = command(Task::Unpack, dir.as_os_str())
        .stdin(std::process::Stdio::from(theirs))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .context("cannot start the unpacker")?;
    let sent = io::copy(&mut tar, &mut NoSigpipe(ours));
    let said = answer(
        task.wait_with_output()
            .context("cannot wait for the unpacker")?,
    )?;
    sent.context("cannot read the layer")?;
    let text = String::from_utf8_lossy(&said);
    let (diff_id, size) = text
        .trim()
        .split_once(' ')
        .and_then(|(d, n)| Some((d.to_string(), n.parse().ok()?)))
        .ok_or_else(|| anyhow!("the unpacker said nothing"))?;
    Ok(Applied { diff_id, size })
}

/// A socket written with `MSG_NOSIGNAL`.
struct NoSigpipe(OwnedFd);

impl io::Write for NoSigpipe {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        use nix::sys::socket::{MsgFlags, send};
        use std::os::fd::AsRawFd;
        Ok(send(self.0.as_raw_fd(), buf, MsgFlags::MSG_NOSIGNAL)?)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// [`crate::state::as_root::Task::Unpack`], as root of the user's namespace: applies
/// standard input to `dir`, which must be a staging directory's `diff` in the user's image
/// store, and prints `DIFF_ID SIZE`.
pub fn unpack_task(dir: &OsStr) -> anyhow::Result<()> {
    let dir = Path::new(dir);
    let store = super::store::Store::open()?;
    let staged = dir
        .parent()
        .filter(|_| dir.file_name() == Some(OsStr::new("diff")));
    let name = staged.and_then(|s| store.staged_name(s));
    if name.is_none() {
        bail!(
            "{} is not a staging directory of the image store",
            dir.display()
        );
    }
    let applied = apply_here(io::stdin().lock(), dir)?;
    println!("{} {}", applied.diff_id, applied.size);
    Ok(())
}

/// Lower-case hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A reader that hashes what passes through it.
pub struct Hashing<R> {
    pub inner: R,
    pub hash: Sha256,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}

/// An entry's path inside the layer: relative, without `.`; `..` refused. Empty for the
/// layer's root itself (`./`).
pub fn clean(name: &Path) -> anyhow::Result<PathBuf> {
    crate::runtime::rootpath::plain_relative(name)
        .ok_or_else(|| anyhow!("layer entry {:?} leaves the layer ('..')", name))
}

/// The layer being written.
struct Layer {
    root: OwnedFd,
    /// The last parent directory opened, by path: tar lists a directory's files together.
    cached: Option<(PathBuf, OwnedFd)>,
    /// Directories' times, set last (each entry made in one changes its mtime).
    dirs: Vec<(PathBuf, i64)>,
    size: u64,
    /// Whether device nodes can be made: not in a user namespace (rootless).
    nodes: bool,
}

/// Ownership, mode and times of an entry.
struct Meta {
    uid: u32,
    gid: u32,
    mode: u32,
    mtime: i64,
    xattrs: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Layer {
    fn entry<R: Read>(&mut self, mut entry: tar::Entry<'_, R>) -> anyhow::Result<()> {
        let kind = entry.header().entry_type();
        if matches!(
            kind,
            tar::EntryType::XGlobalHeader | tar::EntryType::XHeader
        ) {
            return Ok(());
        }
        let raw = entry
            .path()
            .context("layer entry with a bad name")?
            .into_owned();
        let path = clean(&raw)?;
        let meta = meta(&mut entry)?;
        let shown = || format!("layer entry {}", raw.display());
        let Some(name) = path.file_name().map(OsStr::to_os_string) else {
            // `./`: the layer's root directory.
            if kind.is_dir() {
                self.dirs.push((PathBuf::new(), meta.mtime));
                let fd = self.root.try_clone()?;
                set_meta_fd(&fd, &meta).with_context(shown)?;
            }
            return Ok(());
        };
        let parent_path = path.parent().unwrap_or(Path::new("")).to_path_buf();
        // A name that replaces a directory we hold open is about to change what it means.
        if self
            .cached
            .as_ref()
            .is_some_and(|(p, _)| p.starts_with(&path))
        {
            self.cached = None;
        }
        let parent = self.parent(&parent_path).with_context(shown)?;
        let name_bytes = name.as_bytes();
        if name_bytes == OPAQUE.as_bytes() {
            let dir = reopen_dir(&parent)?;
            let opaque = crate::runtime::mounts::opaque_xattr();
            xattr::FileExt::set_xattr(&std::fs::File::from(dir), opaque, b"y")
                .with_context(|| format!("{}: cannot mark it opaque", shown()))?;
            return Ok(());
        }
        if let Some(hidden) = name_bytes.strip_prefix(WHITEOUT.as_bytes()) {
            if hidden == b"." || hidden == b".." {
                bail!(
                    "{}: a whiteout of {:?} is not a name",
                    shown(),
                    OsStr::from_bytes(hidden)
                );
            }
            if hidden.starts_with(WHITEOUT.as_bytes()) || hidden.is_empty() {
                // Docker's own metadata entries (`.wh..wh.plnk`, ...): nothing to apply.
                return Ok(());
            }
            let hidden = OsStr::from_bytes(hidden);
            remove_existing(&parent, hidden, false)?;
            mknodat(
                &parent,
                hidden,
                SFlag::S_IFCHR,
                Mode::empty(),
                makedev(0, 0),
            )
            .map_err(|e| anyhow!("{}: cannot make a whiteout: {}", shown(), e.desc()))?;
            return Ok(());
        }
        let fail = |what: &str, e: Errno| anyhow!("{}: cannot {what}: {}", shown(), e.desc());
        match kind {
            tar::EntryType::Directory => {
                remove_existing(&parent, &name, true)?;
                match mkdirat(&parent, name.as_os_str(), Mode::from_bits_truncate(0o700)) {
                    Ok(()) | Err(Errno::EEXIST) => {}
                    Err(e) => return Err(fail("make the directory", e)),
                }
                let fd = openat(
                    &parent,
                    name.as_os_str(),
                    OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
                    Mode::empty(),
                )
                .map_err(|e| fail("open the directory", e))?;
                set_meta_fd(&fd, &meta).with_context(shown)?;
                self.dirs.push((path, meta.mtime));
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                remove_existing(&parent, &name, false)?;
                let fd = openat(
                    &parent,
                    name.as_os_str(),
                    OFlag::O_WRONLY
                        | OFlag::O_CREAT
                        | OFlag::O_EXCL
                        | OFlag::O_NOFOLLOW
                        | OFlag::O_CLOEXEC,
                    Mode::from_bits_truncate(0o600),
                )
                .map_err(|e| fail("create the file", e))?;
                let mut file = std::fs::File::from(fd);
                self.size += io::copy(&mut entry, &mut file).with_context(shown)?;
                set_meta_fd(&file, &meta).with_context(shown)?;
                set_time_fd(&file, meta.mtime).with_context(shown)?;
            }
            tar::EntryType::Symlink => {
                let target = entry
                    .link_name()
                    .context("symlink without a target")?
                    .ok_or_else(|| anyhow!("{}: symlink without a target", shown()))?;
                remove_existing(&parent, &name, false)?;
                symlinkat(target.as_ref(), &parent, name.as_os_str())
                    .map_err(|e| fail("make the symlink", e))?;
                fchownat(
                    &parent,
                    name.as_os_str(),
                    Some(Uid::from_raw(meta.uid)),
                    Some(Gid::from_raw(meta.gid)),
                    AtFlags::AT_SYMLINK_NOFOLLOW,
                )
                .map_err(|e| chown_failed(e, &meta))
                .with_context(shown)?;
                set_time_at(&parent, &name, meta.mtime).with_context(shown)?;
            }
            tar::EntryType::Link => {
                let target = entry
                    .link_name()
                    .context("hard link without a target")?
                    .ok_or_else(|| anyhow!("{}: hard link without a target", shown()))?;
                let target = clean(&target)?;
                let target_name = target
                    .file_name()
                    .ok_or_else(|| anyhow!("{}: hard link to the layer's root", shown()))?
                    .to_os_string();
                let not_ours = |e: anyhow::Error| {
                    anyhow!(
                        "{}: cannot link to {} (it must be a file of this layer): {e:#}",
                        shown(),
                        target.display()
                    )
                };
                let target_parent = self
                    .open_parent(target.parent().unwrap_or(Path::new("")), false)
                    .map_err(not_ours)?;
                remove_existing(&parent, &name, false)?;
                // No AT_SYMLINK_FOLLOW: a link to a symlink links the symlink itself.
                linkat(
                    &target_parent,
                    target_name.as_os_str(),
                    &parent,
                    name.as_os_str(),
                    AtFlags::empty(),
                )
                .map_err(|e| {
                    anyhow!(
                        "{}: cannot link to {} (it must be a file of this layer): {}",
                        shown(),
                        target.display(),
                        e.desc()
                    )
                })?;
            }
            tar::EntryType::Char | tar::EntryType::Block if !self.nodes => {
                // In a user namespace no device can be made (the kernel refuses mknod): the
                // image's own nodes are left out, as Docker's and Podman's rootless unpackers
                // leave them, and the container gets its /dev from us anyway.
            }
            tar::EntryType::Char | tar::EntryType::Block | tar::EntryType::Fifo => {
                let (sflag, dev) = match kind {
                    tar::EntryType::Char => (SFlag::S_IFCHR, device(&entry)?),
                    tar::EntryType::Block => (SFlag::S_IFBLK, device(&entry)?),
                    _ => (SFlag::S_IFIFO, 0),
                };
                remove_existing(&parent, &name, false)?;
                mknodat(
                    &parent,
                    name.as_os_str(),
                    sflag,
                    Mode::from_bits_truncate(0o600),
                    dev,
                )
                .map_err(|e| fail("make the node", e))?;
                let fd = openat(
                    &parent,
                    name.as_os_str(),
                    OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
                    Mode::empty(),
                )
                .map_err(|e| fail("open the node", e))?;
                chown_chmod_path(&fd, &meta).with_context(shown)?;
                set_time_at(&parent, &name, meta.mtime).with_context(shown)?;
            }
            other => bail!("{}: unsupported entry type {other:?}", shown()),
        }
        Ok(())
    }

    /// The parent directory of an entry, made (0755, root's) where the layer lacks it.
    fn parent(&mut self, path: &Path) -> anyhow::Result<OwnedFd> {
        if let Some((cached, fd)) = &self.cached
            && cached == path
        {
            return Ok(fd.try_clone()?);
        }
        let fd = self.open_parent(path, true)?;
        self.cached = Some((path.to_path_buf(), fd.try_clone()?));
        Ok(fd)
    }

    /// Opens `path` below the root one directory at a time, never following a symlink;
    /// `create` makes missing directories.
    fn open_parent(&self, path: &Path, create: bool) -> anyhow::Result<OwnedFd> {
        let mut dir = self.root.try_clone()?;
        for part in path.components() {
            let Component::Normal(part) = part else {
                bail!("bad directory {}", path.display());
            };
            let open = |dir: &OwnedFd| {
                openat(
                    dir,
                    part,
                    OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
                    Mode::empty(),
                )
            };
            dir = match open(&dir) {
                Ok(fd) => fd,
                Err(Errno::ENOENT) if create => {
                    match mkdirat(&dir, part, Mode::from_bits_truncate(0o755)) {
                        Ok(()) | Err(Errno::EEXIST) => {}
                        Err(e) => bail!("cannot make directory {}: {}", path.display(), e.desc()),
                    }
                    open(&dir).map_err(|e| anyhow!("{}: {}", path.display(), e.desc()))?
                }
                Err(Errno::ELOOP) | Err(Errno::ENOTDIR) => bail!(
                    "{} is not a directory of this layer (a symlink is never followed)",
                    path.display()
                ),
                Err(e) => bail!("{}: {}", path.display(), e.desc()),
            };
        }
        Ok(dir)
    }

    /// Sets directories' times, deepest first.
    fn finish(&mut self) -> anyhow::Result<()> {
        self.cached = None;
        let dirs = std::mem::take(&mut self.dirs);
        for (path, mtime) in dirs.iter().rev() {
            let fd = if path.as_os_str().is_empty() {
                self.root.try_clone()?
            } else {
                // A later entry may have replaced it with something else: then its time is moot.
                match self.open_parent(path, false) {
                    Ok(fd) => fd,
                    Err(_) => continue,
                }
            };
            set_time_fd(&fd, *mtime)?;
        }
        Ok(())
    }
}

/// A directory's `O_RDONLY` descriptor from one we hold (`fsetxattr` wants a real open).
fn reopen_dir(fd: &OwnedFd) -> anyhow::Result<OwnedFd> {
    Ok(openat(
        fd,
        ".",
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?)
}

/// Removes whatever is at `name` in `parent` so an entry can take its place; a directory is
/// kept when a directory replaces it (its entries merge, as tar does).
fn remove_existing(parent: &OwnedFd, name: &OsStr, keep_dir: bool) -> anyhow::Result<()> {
    let st = match nix::sys::stat::fstatat(parent, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(st) => st,
        Err(Errno::ENOENT) => return Ok(()),
        Err(e) => bail!("cannot look at {:?}: {}", name, e.desc()),
    };
    let is_dir = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFDIR;
    if is_dir && keep_dir {
        return Ok(());
    }
    if is_dir {
        remove_tree(parent, name)
    } else {
        unlinkat(parent, name, UnlinkatFlags::NoRemoveDir)
            .map_err(|e| anyhow!("cannot replace {:?}: {}", name, e.desc()))
    }
}

/// Removes the directory `name` in `parent` and everything in it (iteratively: a layer's
/// depth is the attacker's to choose).
fn remove_tree(parent: &OwnedFd, name: &OsStr) -> anyhow::Result<()> {
    super::remove::remove_tree(parent, name)
        .map_err(|e| anyhow!("cannot replace {:?}: {}", name, e.desc()))
}

fn meta<R: Read>(entry: &mut tar::Entry<'_, R>) -> anyhow::Result<Meta> {
    let header = entry.header();
    let mut meta = Meta {
        uid: header.uid().unwrap_or(0) as u32,
        gid: header.gid().unwrap_or(0) as u32,
        mode: header.mode().unwrap_or(0o644) & 0o7777,
        mtime: header.mtime().unwrap_or(0) as i64,
        xattrs: Vec::new(),
    };
    if let Some(pax) = entry.pax_extensions()? {
        for ext in pax {
            let ext = ext?;
            let key = ext.key_bytes();
            let number = || std::str::from_utf8(ext.value_bytes()).ok();
            match key {
                b"uid" => meta.uid = number().and_then(|v| v.parse().ok()).unwrap_or(meta.uid),
                b"gid" => meta.gid = number().and_then(|v| v.parse().ok()).unwrap_or(meta.gid),
                b"mtime" => {
                    meta.mtime = number()
                        .and_then(|v| v.split('.').next())
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(meta.mtime)
                }
                _ => {
                    if let Some(name) = key.strip_prefix(b"SCHILY.xattr.")
                        && crate::runtime::walk::layer_xattr(name)
                    {
                        meta.xattrs
                            .push((name.to_vec(), ext.value_bytes().to_vec()));
                    }
                }
            }
        }
    }
    Ok(meta)
}

fn device<R: Read>(entry: &tar::Entry<'_, R>) -> anyhow::Result<u64> {
    let h = entry.header();
    let major = h.device_major()?.unwrap_or(0);
    let minor = h.device_minor()?.unwrap_or(0);
    Ok(makedev(major.into(), minor.into()))
}

/// Owner, then mode (a chown clears set-id bits), then extended attributes, on an open file or
/// directory.
fn set_meta_fd(fd: &impl AsFd, meta: &Meta) -> anyhow::Result<()> {
    nix::unistd::fchown(
        fd.as_fd(),
        Some(Uid::from_raw(meta.uid)),
        Some(Gid::from_raw(meta.gid)),
    )
    .map_err(|e| chown_failed(e, meta))?;
    nix::sys::stat::fchmod(fd.as_fd(), Mode::from_bits_truncate(meta.mode))
        .map_err(|e| anyhow!("cannot chmod: {}", e.desc()))?;
    if !meta.xattrs.is_empty() {
        let file = std::fs::File::from(fd.as_fd().try_clone_to_owned()?);
        for (name, value) in &meta.xattrs {
            xattr::FileExt::set_xattr(&file, OsStr::from_bytes(name), value)
                .with_context(|| format!("cannot set {}", String::from_utf8_lossy(name)))?;
        }
    }
    Ok(())
}

/// Owner and mode of a node we hold only an `O_PATH` descriptor of (devices, FIFOs), through
/// its `/proc/self/fd` link (which names exactly that inode).
fn chown_chmod_path(fd: &OwnedFd, meta: &Meta) -> anyhow::Result<()> {
    nix::unistd::fchownat(
        fd,
        "",
        Some(Uid::from_raw(meta.uid)),
        Some(Gid::from_raw(meta.gid)),
        AtFlags::AT_EMPTY_PATH,
    )
    .map_err(|e| chown_failed(e, meta))?;
    let proc = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(fd));
    nix::sys::stat::fchmodat(
        nix::fcntl::AT_FDCWD,
        proc.as_str(),
        Mode::from_bits_truncate(meta.mode),
        nix::sys::stat::FchmodatFlags::FollowSymlink,
    )
    .map_err(|e| anyhow!("cannot chmod: {}", e.desc()))
}

/// Why an owner could not be given: in a user namespace, an id beyond its maps (a rootless
/// user's 65536 subordinate ids, say) is no one the kernel can write.
fn chown_failed(e: Errno, meta: &Meta) -> anyhow::Error {
    match e {
        Errno::EINVAL => anyhow!(
            "cannot chown to {}:{}: outside this user namespace's ids (see /etc/subuid, /etc/subgid)",
            meta.uid,
            meta.gid
        ),
        e => anyhow!("cannot chown: {}", e.desc()),
    }
}

/// Sets the times of `name` in `parent` itself, never of what a symlink there names.
fn set_time_at(parent: &OwnedFd, name: &OsStr, mtime: i64) -> anyhow::Result<()> {
    let t = TimeSpec::new(mtime, 0);
    utimensat(parent, name, &t, &t, UtimensatFlags::NoFollowSymlink)
        .map_err(|e| anyhow!("cannot set times: {}", e.desc()))
}

fn set_time_fd(fd: &impl AsFd, mtime: i64) -> anyhow::Result<()> {
    let t = TimeSpec::new(mtime, 0);
    nix::sys::stat::futimens(fd.as_fd(), &t, &t)
        .map_err(|e| anyhow!("cannot set times: {}", e.desc()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_in_the_layer() {
        assert_eq!(
            clean(Path::new("./etc/passwd")).unwrap(),
            Path::new("etc/passwd")
        );
        assert_eq!(
            clean(Path::new("/etc/passwd")).unwrap(),
            Path::new("etc/passwd")
        );
        assert_eq!(clean(Path::new("./")).unwrap(), Path::new(""));
        assert!(clean(Path::new("../etc/passwd")).is_err());
        assert!(clean(Path::new("a/../../b")).is_err());
    }

    #[test]
    fn compression_is_told_by_its_first_bytes() {
        let kind = |b: &[u8]| sniff(&mut io::BufReader::new(b)).unwrap();
        assert!(matches!(kind(&[0x1f, 0x8b, 8]), Compression::Gzip));
        assert!(matches!(kind(&[0x28, 0xb5, 0x2f, 0xfd]), Compression::Zstd));
        assert!(matches!(kind(b"etc/\0\0"), Compression::None));
    }
}
