//! Removing a directory tree of any depth: a layer is hostile input, and a 30,000-deep chain
//! of directories must neither overflow a thread's stack (a recursive walk) nor run out of
//! descriptors (a walk holding one per level, as `std::fs::remove_dir_all` does).
//!
//! The walk holds one directory open at a time and the names on the way down; it goes back
//! up through `..`, which inside a tree only we write to is the directory it came from.
//! Another remover working on the same tree at once (a `prune` beside an `rmi`) is tolerated:
//! what is already gone is not an error.

use nix::dir::{Dir, Type};
use nix::errno::Errno;
use nix::fcntl::{OFlag, openat};
use nix::sys::stat::{Mode, SFlag, fstatat};
use nix::unistd::{UnlinkatFlags, unlinkat};
use std::ffi::{OsStr, OsString};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

fn open_dir(at: impl AsFd, name: &OsStr) -> nix::Result<OwnedFd> {
    openat(
        at,
        name,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
}

fn gone_ok(r: nix::Result<()>) -> nix::Result<()> {
    match r {
        Err(Errno::ENOENT) => Ok(()),
        other => other,
    }
}

/// Removes the directory `name` in `parent` and everything in it.
pub fn remove_tree(parent: impl AsFd, name: &OsStr) -> nix::Result<()> {
    let parent = parent.as_fd();
    let mut cur = match open_dir(parent, name) {
        Err(Errno::ENOENT) => return Ok(()),
        other => other?,
    };
    // The names from `name` down to `cur`.
    let mut below: Vec<OsString> = Vec::new();
    loop {
        match empty_but_one_dir(&cur)? {
            Pass::Descend(child) => match open_dir(&cur, &child) {
                Ok(next) => {
                    below.push(child);
                    cur = next;
                }
                Err(Errno::ENOENT) => {}
                Err(e) => return Err(e),
            },
            Pass::Removed => {}
            Pass::Empty => match below.pop() {
                Some(child) => {
                    cur = open_dir(&cur, OsStr::new(".."))?;
                    gone_ok(unlinkat(&cur, child.as_os_str(), UnlinkatFlags::RemoveDir))?;
                }
                None => {
                    drop(cur);
                    return gone_ok(unlinkat(parent, name, UnlinkatFlags::RemoveDir));
                }
            },
        }
    }
}

enum Pass {
    /// A directory in it, to go into.
    Descend(OsString),
    /// Entries were removed: read it again.
    Removed,
    /// Nothing left in it.
    Empty,
}

/// One read of `dir`: every non-directory in it removed until a directory is met.
fn empty_but_one_dir(dir: &OwnedFd) -> nix::Result<Pass> {
    // A fresh open of ".": its own read position, from the start.
    let mut entries = Dir::openat(
        dir,
        ".",
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    let mut removed = false;
    for entry in entries.iter() {
        let entry = entry?;
        let name = OsStr::from_bytes(entry.file_name().to_bytes());
        if name == "." || name == ".." {
            continue;
        }
        let is_dir = match entry.file_type() {
            Some(t) => t == Type::Directory,
            None => match fstatat(dir, name, nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW) {
                Ok(st) => SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFDIR,
                Err(Errno::ENOENT) => continue,
                Err(e) => return Err(e),
            },
        };
        if is_dir {
            return Ok(Pass::Descend(name.to_os_string()));
        }
        gone_ok(unlinkat(dir, name, UnlinkatFlags::NoRemoveDir))?;
        removed = true;
    }
    Ok(if removed { Pass::Removed } else { Pass::Empty })
}

/// [`remove_tree`] of a path.
pub fn remove_path(path: &std::path::Path) -> nix::Result<()> {
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(Errno::EINVAL);
    };
    let parent = match open_dir(nix::fcntl::AT_FDCWD, parent.as_os_str()) {
        Err(Errno::ENOENT) => return Ok(()),
        other => other?,
    };
    remove_tree(&parent, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deep_chain_goes_on_a_small_stack_with_few_descriptors() {
        let top = std::env::temp_dir().join(format!("mct-deep-{}", std::process::id()));
        std::fs::create_dir_all(&top).unwrap();
        // 20,000 levels, built by descriptor (the path would pass PATH_MAX).
        let mut cur = open_dir(nix::fcntl::AT_FDCWD, top.as_os_str()).unwrap();
        for i in 0..20_000 {
            nix::sys::stat::mkdirat(&cur, "d", Mode::from_bits_truncate(0o755)).unwrap();
            if i % 1000 == 0 {
                let f = openat(
                    &cur,
                    "f",
                    OFlag::O_CREAT | OFlag::O_WRONLY | OFlag::O_CLOEXEC,
                    Mode::from_bits_truncate(0o644),
                )
                .unwrap();
                drop(f);
                std::os::unix::fs::symlink(
                    "/etc/passwd",
                    format!(
                        "/proc/self/fd/{}/link",
                        std::os::fd::AsRawFd::as_raw_fd(&cur)
                    ),
                )
                .unwrap();
            }
            cur = open_dir(&cur, OsStr::new("d")).unwrap();
        }
        drop(cur);
        // On a thread with a 64 KiB stack: a recursive walk would overflow it.
        let path = top.clone();
        std::thread::Builder::new()
            .stack_size(64 << 10)
            .spawn(move || remove_path(&path).unwrap())
            .unwrap()
            .join()
            .unwrap();
        assert!(!top.exists());
        assert!(std::path::Path::new("/etc/passwd").exists());
        remove_path(&top).unwrap();
    }
}
