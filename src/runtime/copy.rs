//! `cp`: files between a running container's root and the host, as the tar streams Docker's
//! `cp` reads and writes (`cp C:/etc -`, `cp - C:/srv`).
//!
//! Both sides are hostile to the other. A path in the container is resolved in its root by
//! the kernel (`openat2(RESOLVE_IN_ROOT)`, through its PID 1's `/proc/PID/root`), as the
//! container would resolve it; below that, every entry is opened by name from its parent with
//! `O_NOFOLLOW`, so a link the container plants mid-copy is archived as a link, never walked
//! through. Extraction writes each entry by name in a parent opened one component at a time
//! (`..` and absolute names refused, a link on the way refused), replacing what was there
//! without following it. What comes out of a container onto the host loses its setuid and
//! setgid bits and its device nodes (a root-owned setuid binary in the user's directory is
//! the container's way onto the host).

use super::rootpath::InRoot;
use super::walk;
use anyhow::{Context, anyhow, bail};
use nix::fcntl::{AtFlags, OFlag, openat};
use nix::sys::stat::{FileStat, Mode, SFlag, fstatat, mkdirat};
use nix::unistd::{UnlinkatFlags, fchownat, symlinkat, unlinkat};
use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

/// Which way the copy goes: what extraction takes from the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Into {
    /// Into a container, from the user: modes as they are, owned by the container's root
    /// unless `archive` (`-a`) keeps the archive's owners.
    Container { archive: bool },
    /// Onto the host, from a container: no setuid or setgid bit, no device node, owned by
    /// whoever runs the copy.
    Host,
}

fn stat_type(st: &FileStat) -> SFlag {
    SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT
}

/// The directory `path` names in `root` and the last component's name (`.` for the root).
pub fn split(root: &InRoot, path: &Path) -> anyhow::Result<(OwnedFd, OsString)> {
    let parent = path.parent().unwrap_or(Path::new("/"));
    let name = path
        .file_name()
        .map_or_else(|| OsString::from("."), OsStr::to_os_string);
    let handle = root
        .lookup(parent, true)
        .map_err(|e| anyhow!("{}: {e}", root.show(parent).display()))?;
    Ok((OwnedFd::from(handle), name))
}

/// Writes `path` (inside `root`) and everything below it to `out` as a tar stream, its
/// entries named from `path`'s last component (Docker's `cp`). A link at `path` itself is
/// archived as a link, as are links below it.
pub fn archive(root: &InRoot, path: &Path, out: impl Write) -> anyhow::Result<()> {
    let (parent, name) = split(root, path)?;
    let top = match name.as_bytes() {
        b"." => PathBuf::from("."),
        _ => PathBuf::from(&name),
    };
    let mut tar = walk::Tar::new(out, walk::Form::Copy);
    // Missing: said with the path as the user gave it.
    fstatat(&parent, name.as_os_str(), AtFlags::AT_SYMLINK_NOFOLLOW)
        .map_err(|e| anyhow!("{}: {}", root.show(path).display(), e.desc()))?;
    walk::from(&parent, &name, &top, None, &mut |e| tar.entry(e))?;
    tar.finish().map(drop)
}

/// `export`: the whole root as a tar stream, its entries named from it (`bin/sh`), one file
/// system only (as `tar --one-file-system`): what is mounted on it (`/proc`, `/sys`, `/dev`,
/// volumes, the `/etc` files we bind) is there as its empty mount point.
pub fn export(root: &InRoot, out: impl Write) -> anyhow::Result<()> {
    let top = OwnedFd::from(root.lookup(Path::new("/"), false)?);
    let device = nix::sys::stat::fstat(&top)?.st_dev;
    walk::archive_below(&top, Some(device), walk::Form::Copy, out).map(drop)
}

/// A tar entry's name, as a relative path of plain components; `..` refused.
fn clean(name: &Path) -> anyhow::Result<PathBuf> {
    super::rootpath::plain_relative(name)
        .ok_or_else(|| anyhow!("archive entry {:?} leaves its directory ('..')", name))
}

/// Extracts the tar stream `input` into the directory `dir` inside `root`. With `rename`,
/// the archive's top entry takes that name (`cp C:/etc/hosts ./h` makes `h`).
pub fn extract(
    root: &InRoot,
    dir: &Path,
    rename: Option<&OsStr>,
    input: impl Read,
    into: Into,
) -> anyhow::Result<()> {
    let base = OwnedFd::from(
        root.lookup(dir, true)
            .map_err(|e| anyhow!("{}: {e}", root.show(dir).display()))?,
    );
    let mut archive = tar::Archive::new(input);
    for entry in archive.entries().context("not a tar archive")? {
        let mut entry = entry.context("not a valid tar archive")?;
        let mut path = clean(&entry.path().context("an archive entry's name")?)?;
        if let Some(new) = rename {
            let mut parts = path.components();
            if let Some(Component::Normal(_)) = parts.next() {
                path = Path::new(new).join(parts.as_path());
            }
        }
        let Some(name) = path.file_name().map(OsStr::to_os_string) else {
            continue;
        };
        let parent = open_parents(&base, path.parent().unwrap_or(Path::new("")))?;
        write_entry(&parent, &name, &mut entry, into, &path)?;
    }
    Ok(())
}

/// The directory `rel` below `base`, each component opened with `O_NOFOLLOW` (made when
/// missing): a link on the way is refused, never followed.
fn open_parents(base: &OwnedFd, rel: &Path) -> anyhow::Result<OwnedFd> {
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let mut at = base.try_clone()?;
    for part in rel.components() {
        let Component::Normal(name) = part else {
            continue;
        };
        let next = match openat(&at, name, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(nix::errno::Errno::ENOENT) => {
                mkdirat(&at, name, Mode::from_bits_truncate(0o755))
                    .map_err(|e| anyhow!("{}: {}", rel.display(), e.desc()))?;
                openat(&at, name, flags, Mode::empty())
                    .map_err(|e| anyhow!("{}: {}", rel.display(), e.desc()))?
            }
            Err(e) => bail!(
                "{}: {} (a link on the way is not followed)",
                rel.display(),
                e.desc()
            ),
        };
        at = next;
    }
    Ok(at)
}

fn write_entry<R: Read>(
    parent: &OwnedFd,
    name: &OsStr,
    entry: &mut tar::Entry<'_, R>,
    into: Into,
    shown: &Path,
) -> anyhow::Result<()> {
    let header = entry.header();
    let mut mode = header.mode().unwrap_or(0o644) & 0o7777;
    if into == Into::Host {
        mode &= !0o6000;
    }
    let owner = match into {
        Into::Container { archive: true } => Some((header.uid()? as u32, header.gid()? as u32)),
        Into::Container { archive: false } => Some((0, 0)),
        Into::Host => None,
    };
    let kind = header.entry_type();
    let existing = fstatat(parent, name, AtFlags::AT_SYMLINK_NOFOLLOW).ok();
    let is_dir = existing
        .as_ref()
        .is_some_and(|st| stat_type(st) == SFlag::S_IFDIR);
    // What is there goes (a file, a link: never followed), unless a directory meets one.
    if existing.is_some() && !(is_dir && kind.is_dir()) {
        let how = match is_dir {
            true => UnlinkatFlags::RemoveDir,
            false => UnlinkatFlags::NoRemoveDir,
        };
        unlinkat(parent, name, how)
            .map_err(|e| anyhow!("{}: cannot replace it: {}", shown.display(), e.desc()))?;
    }
    let fail = |e: nix::errno::Errno| anyhow!("{}: {}", shown.display(), e.desc());
    match kind {
        tar::EntryType::Directory => {
            if !is_dir {
                mkdirat(parent, name, Mode::from_bits_truncate(mode)).map_err(fail)?;
            }
        }
        tar::EntryType::Regular | tar::EntryType::Continuous => {
            let fd = openat(
                parent,
                name,
                OFlag::O_WRONLY
                    | OFlag::O_CREAT
                    | OFlag::O_EXCL
                    | OFlag::O_NOFOLLOW
                    | OFlag::O_CLOEXEC,
                Mode::from_bits_truncate(mode & 0o777),
            )
            .map_err(fail)?;
            let mut file = std::fs::File::from(fd);
            std::io::copy(entry, &mut file).with_context(|| shown.display().to_string())?;
            // Owner first: a chown clears the setuid bit the mode may set after it.
            if let Some((uid, gid)) = owner {
                nix::unistd::fchown(
                    &file,
                    Some(nix::unistd::Uid::from_raw(uid)),
                    Some(nix::unistd::Gid::from_raw(gid)),
                )
                .map_err(fail)?;
            }
            // The mode whole (the umask left bits out), special bits kept or not as above.
            nix::sys::stat::fchmod(&file, Mode::from_bits_truncate(mode)).map_err(fail)?;
            return Ok(());
        }
        tar::EntryType::Symlink => {
            let target = entry
                .link_name()?
                .ok_or_else(|| anyhow!("{}: a link without a target", shown.display()))?;
            symlinkat(target.as_ref(), parent, name).map_err(fail)?;
        }
        tar::EntryType::Fifo => {
            nix::sys::stat::mknodat(
                parent,
                name,
                SFlag::S_IFIFO,
                Mode::from_bits_truncate(mode),
                0,
            )
            .map_err(fail)?;
        }
        tar::EntryType::Char | tar::EntryType::Block if into == Into::Host => {
            bail!(
                "{}: a device node is not copied onto the host",
                shown.display()
            )
        }
        other => bail!("{}: {other:?} entries are not copied", shown.display()),
    }
    if let Some((uid, gid)) = owner {
        fchownat(
            parent,
            name,
            Some(nix::unistd::Uid::from_raw(uid)),
            Some(nix::unistd::Gid::from_raw(gid)),
            AtFlags::AT_SYMLINK_NOFOLLOW,
        )
        .map_err(fail)?;
    }
    Ok(())
}
