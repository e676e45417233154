//! The state tree, `/run/my-container-tui`: root's alone (0700), because an overlay's upper
//! layer in it may hold a setuid binary a container wrote, which no other host user may reach.
//!
//! What lives in it, and who removes it:
//!
//! | entry | made by | removed by |
//! |---|---|---|
//! | `<id>/` (overlay `upper`, `work`, `root`; `etc` files) | the helper | the container's cleaner |
//!
//! (The spec and the ending travel in the launcher's memory files, [`super::handoff`], and
//! never touch this tree.)
//!
//! Entries of launchers that no longer run are swept by the next cleaner ([`clean_stale`]).
//! The tree itself goes when it empties; whoever makes an entry in it makes the tree again
//! first, retrying if a removal races in between ([`make_in`]), so it is never recreated with
//! other permissions by accident.

use super::cgroups;
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};

/// The state tree.
pub const ROOT: &str = "/run/my-container-tui";

/// The path of entry `name` in the tree.
pub fn path(name: &str) -> PathBuf {
    Path::new(ROOT).join(name)
}

/// Makes the tree, root's alone, unless it exists; an existing one is made private.
fn make_root() -> anyhow::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let root = Path::new(ROOT);
    match std::fs::DirBuilder::new().mode(0o700).create(root) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e).with_context(|| format!("cannot create {ROOT}")),
    }
    let meta = std::fs::symlink_metadata(root).with_context(|| ROOT.to_string())?;
    if !meta.is_dir() {
        bail!("{ROOT} is not a directory");
    }
    if meta.permissions().mode() & 0o077 != 0 {
        std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("cannot make {ROOT} private"))?;
    }
    Ok(())
}

/// Runs `make` (which creates one entry directly in the tree, never its parents) after making
/// the tree; again if a cleaner removed the emptied tree in between.
pub fn make_in<T>(mut make: impl FnMut() -> std::io::Result<T>) -> anyhow::Result<T> {
    let mut tries = 0;
    loop {
        make_root()?;
        match make() {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && tries < 10 => tries += 1,
            made => return Ok(made?),
        }
    }
}

/// Removes the tree if it is empty (rmdir is atomic: a tree with anything in it stays).
pub fn remove_if_empty() {
    let _ = std::fs::remove_dir(ROOT);
}

/// Creates the container's state directory: the overlay's `upper`, `work`, the `root` mount
/// point, and `etc` for the files bound over a read-only or persistent root's.
pub fn prepare(id: &str) -> anyhow::Result<PathBuf> {
    let dir = path(id);
    make_in(|| std::fs::create_dir(&dir))
        .with_context(|| format!("cannot create {}", dir.display()))?;
    for sub in ["upper", "work", "root", "etc"] {
        let sub = dir.join(sub);
        std::fs::create_dir(&sub).with_context(|| format!("cannot create {}", sub.display()))?;
    }
    Ok(dir)
}

/// Removes the container's state directory, and the tree if that emptied it.
pub fn remove(id: &str) {
    let _ = std::fs::remove_dir_all(path(id));
    remove_if_empty();
}

/// Removes the entries that launchers which no longer run left behind (named after the
/// launcher's pid, like the cgroups: `<pid>-<n>`).
pub fn clean_stale() {
    for entry in std::fs::read_dir(ROOT).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if cgroups::launcher_gone(&name) {
            let _ = std::fs::remove_dir_all(entry.path())
                .or_else(|_| std::fs::remove_file(entry.path()));
        }
    }
    remove_if_empty();
}
