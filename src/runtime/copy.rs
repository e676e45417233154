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
use anyhow::{Context, anyhow, bail};
use nix::fcntl::{AtFlags, OFlag, openat};
use nix::sys::stat::{FileStat, Mode, SFlag, fstatat, mkdirat};
use nix::unistd::{UnlinkatFlags, fchownat, symlinkat, unlinkat};
use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
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
fn split(root: &InRoot, path: &Path) -> anyhow::Result<(OwnedFd, OsString)> {
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
    let st = fstatat(&parent, name.as_os_str(), AtFlags::AT_SYMLINK_NOFOLLOW)
        .map_err(|e| anyhow!("{}: {}", root.show(path).display(), e.desc()))?;
    let top = match name.as_bytes() {
        b"." => PathBuf::from("."),
        _ => PathBuf::from(&name),
    };
    let mut tar = tar::Builder::new(out);
    tar.follow_symlinks(false);
    add(&mut tar, &parent, &name, &top, &st, None)?;
    tar.finish().context("cannot write the archive")
}

/// `export`: the whole root as a tar stream, its entries named from it (`bin/sh`), one file
/// system only (as `tar --one-file-system`): what is mounted on it (`/proc`, `/sys`, `/dev`,
/// volumes, the `/etc` files we bind) is there as its empty mount point.
pub fn export(root: &InRoot, out: impl Write) -> anyhow::Result<()> {
    let top = OwnedFd::from(root.lookup(Path::new("/"), false)?);
    let device = nix::sys::stat::fstat(&top)?.st_dev;
    let mut tar = tar::Builder::new(out);
    tar.follow_symlinks(false);
    for child in names(&top, Path::new("/"))? {
        let Ok(st) = fstatat(&top, child.as_os_str(), AtFlags::AT_SYMLINK_NOFOLLOW) else {
            continue;
        };
        add(&mut tar, &top, &child, Path::new(&child), &st, Some(device))?;
    }
    tar.finish().context("cannot write the archive")
}

/// The names in directory `dir` (`.` and `..` left out), sorted.
fn names(dir: &OwnedFd, shown: &Path) -> anyhow::Result<Vec<OsString>> {
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

/// One entry (and below it): opened by `name` from `dir`, never through a link.
fn add<W: Write>(
    tar: &mut tar::Builder<W>,
    dir: &impl AsFd,
    name: &OsStr,
    shown: &Path,
    st: &FileStat,
    device: Option<u64>,
) -> anyhow::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_mode(st.st_mode & 0o7777);
    header.set_uid(u64::from(st.st_uid));
    header.set_gid(u64::from(st.st_gid));
    header.set_mtime(st.st_mtime.max(0) as u64);
    header.set_size(0);
    let nofollow = OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    match stat_type(st) {
        SFlag::S_IFDIR => {
            header.set_entry_type(tar::EntryType::Directory);
            tar.append_data(&mut header, shown, std::io::empty())?;
            // Another file system mounted here: its mount point only.
            if device.is_some_and(|d| d != st.st_dev) {
                return Ok(());
            }
            let fd = openat(
                dir,
                name,
                OFlag::O_RDONLY | OFlag::O_DIRECTORY | nofollow,
                Mode::empty(),
            )
            .map_err(|e| anyhow!("{}: {}", shown.display(), e.desc()))?;
            for child in names(&fd, shown)? {
                let Ok(st) = fstatat(&fd, child.as_os_str(), AtFlags::AT_SYMLINK_NOFOLLOW) else {
                    continue;
                };
                add(tar, &fd, &child, &shown.join(&child), &st, device)?;
            }
        }
        // A file bound from another file system (the `/etc` files we give): its mount point.
        SFlag::S_IFREG if device.is_some_and(|d| d != st.st_dev) => {
            header.set_entry_type(tar::EntryType::Regular);
            tar.append_data(&mut header, shown, std::io::empty())?;
        }
        SFlag::S_IFREG => {
            let fd = openat(
                dir,
                name,
                OFlag::O_RDONLY | OFlag::O_NONBLOCK | nofollow,
                Mode::empty(),
            )
            .map_err(|e| anyhow!("{}: {}", shown.display(), e.desc()))?;
            let file = std::fs::File::from(fd);
            let now = nix::sys::stat::fstat(&file)?;
            if stat_type(&now) != SFlag::S_IFREG {
                bail!("{} changed while it was copied", shown.display());
            }
            header.set_entry_type(tar::EntryType::Regular);
            header.set_size(now.st_size as u64);
            // As long as it said it was: a file that grows meanwhile is cut there.
            tar.append_data(&mut header, shown, file.take(now.st_size as u64))?;
        }
        SFlag::S_IFLNK => {
            let target = nix::fcntl::readlinkat(dir, name)
                .map_err(|e| anyhow!("{}: {}", shown.display(), e.desc()))?;
            header.set_entry_type(tar::EntryType::Symlink);
            tar.append_link(&mut header, shown, Path::new(&target))?;
        }
        SFlag::S_IFIFO => {
            header.set_entry_type(tar::EntryType::Fifo);
            tar.append_data(&mut header, shown, std::io::empty())?;
        }
        // Devices and sockets: not files to copy.
        _ => {}
    }
    Ok(())
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
