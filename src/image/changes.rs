//! What a container changed in its root: its overlay's upper directory read against the
//! layers below it, as `diff` prints it (`A` added, `C` changed, `D` deleted). The upper
//! directory is read through [`walk`], the walk a layer made from it (`commit`) reads.
//!
//! The upper directory and the layers are a container's and an image's: hostile. Nothing here
//! follows a symbolic link, in the upper directory or in a layer; every entry is looked at
//! with `lstat` one path component at a time.

use crate::runtime::walk;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Component, Path, PathBuf};

/// A container's writable layer: its overlay's upper directory and the layers below it (top
/// first), where `diff` and `commit` read what it changed.
pub struct Writable {
    /// The container's id.
    pub id: String,
    pub upper: PathBuf,
    pub lowers: Vec<PathBuf>,
}

impl Writable {
    /// The container's, if it has one: `Ok(None)` for a read-only root (no change possible),
    /// an error saying why for a root it writes straight into or the host's own files.
    pub fn of(
        record: &crate::state::record::Record,
        spec: &crate::runtime::ContainerSpec,
    ) -> anyhow::Result<Option<Writable>> {
        use crate::spec::rootfs::Writes;
        let lowers = match &spec.rootfs {
            Some(r) if r.mode == Writes::Overlay => match &r.layers {
                Some(layers) => layers.links.iter().map(|l| layers.base.join(l)).collect(),
                None => vec![r.dir.clone()],
            },
            Some(r) if r.mode == Writes::Persist => anyhow::bail!(
                "container {} writes straight to {} (--rootfs-persist): it has no layer of changes",
                record.name,
                r.dir.display()
            ),
            Some(_) => return Ok(None),
            None => anyhow::bail!(
                "container {} runs on the host's files, not a root of its own: it has no layer of changes",
                record.name
            ),
        };
        Ok(Some(Writable {
            id: record.id.clone(),
            upper: crate::state::tree::path(&record.id).join("upper"),
            lowers,
        }))
    }

    /// [`Writable::of`] the container recorded as `id`.
    pub fn of_id(id: &str) -> anyhow::Result<Option<Writable>> {
        let record = crate::state::store::load(id)?;
        Writable::of(&record, &crate::state::store::spec(id)?)
    }

    /// Whether `rel` in the upper directory is ours, not the container's: the `/etc` files we
    /// write when the image lacks them (Docker mounts them; its `diff` and `commit` leave them
    /// out too).
    pub fn is_ours(&self, rel: &Path) -> bool {
        rel.parent() == Some(Path::new("etc"))
            && crate::runtime::rootfs::ETC_FILES
                .iter()
                .any(|f| rel.file_name() == Some(std::ffi::OsStr::new(f)))
            && !in_lowers(&self.lowers, rel)
    }
}

/// What container `id` changed in its root, as `diff` prints it: a line each, `A`/`C`/`D` and
/// the path (escaped), leaving out our own `/etc` files. A rootless container's is read by a
/// process of ours that is root of the user's namespace ([`Task::Diff`]): what its users wrote
/// may be in directories the user cannot enter as themselves.
///
/// [`Task::Diff`]: crate::state::as_root::Task::Diff
pub fn listing(id: &str) -> anyhow::Result<String> {
    use crate::state::as_root::{self, Task};
    if !as_root::needed() {
        return listing_here(id);
    }
    let done = as_root::command(Task::Diff, id.as_ref())
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| anyhow::anyhow!("cannot start the reader of the container's changes: {e}"))?;
    Ok(String::from_utf8_lossy(&as_root::answer(done)?).into_owned())
}

/// [`listing`] in this process.
fn listing_here(id: &str) -> anyhow::Result<String> {
    let Some(layer) = Writable::of_id(id)? else {
        return Ok(String::new());
    };
    let mut out = String::new();
    for change in changes(&layer.upper, &layer.lowers)
        .into_iter()
        .filter(|c| !layer.is_ours(c.path.strip_prefix("/").unwrap_or(&c.path)))
    {
        let path = change.path.to_string_lossy();
        out.push_str(&format!(
            "{} {}\n",
            change.kind.letter(),
            crate::printable::escaped(&path)
        ));
    }
    Ok(out)
}

/// [`crate::state::as_root::Task::Diff`], as root of the user's namespace: prints container
/// `id`'s [`listing`].
pub fn listing_task(id: &std::ffi::OsStr) -> anyhow::Result<()> {
    print!(
        "{}",
        listing_here(crate::state::as_root::container_id(id)?)?
    );
    Ok(())
}

/// How a path differs from the layers below.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Added,
    Changed,
    Deleted,
}

impl Kind {
    /// Docker's letter.
    pub fn letter(self) -> char {
        match self {
            Kind::Added => 'A',
            Kind::Changed => 'C',
            Kind::Deleted => 'D',
        }
    }
}

/// One change: an absolute path in the container and how it differs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Change {
    pub path: PathBuf,
    pub kind: Kind,
}

/// overlayfs's whiteout: a character device 0:0.
fn is_whiteout(meta: &std::fs::Metadata) -> bool {
    meta.file_type().is_char_device() && meta.rdev() == 0
}

/// overlayfs's opaque directory, by path (a lower layer's: the store's).
fn is_opaque(path: &Path) -> bool {
    xattr::get(path, crate::runtime::mounts::opaque_xattr())
        .is_ok_and(|v| v.as_deref() == Some(b"y"))
}

/// What layer `dir` says of `rel`: it is there, it is deleted (a whiteout), lower layers are
/// hidden at it (an opaque directory on the way), or it says nothing. No link is followed: a
/// link on the way means the path is not there in this layer.
enum Says {
    Present,
    Deleted,
    Hidden,
    Nothing,
}

fn says(dir: &Path, rel: &Path) -> Says {
    let parts: Vec<Component> = rel.components().collect();
    let mut at = dir.to_path_buf();
    for (i, part) in parts.iter().enumerate() {
        at.push(part);
        let Ok(meta) = std::fs::symlink_metadata(&at) else {
            return Says::Nothing;
        };
        if is_whiteout(&meta) {
            return Says::Deleted;
        }
        let last = i + 1 == parts.len();
        if last {
            return Says::Present;
        }
        if !meta.is_dir() {
            return Says::Nothing;
        }
        if is_opaque(&at) {
            return Says::Hidden;
        }
    }
    Says::Present
}

/// Whether `rel` exists in the stack of `lowers` (top first).
fn in_lowers(lowers: &[PathBuf], rel: &Path) -> bool {
    for layer in lowers {
        match says(layer, rel) {
            Says::Present => return true,
            Says::Deleted | Says::Hidden => return false,
            Says::Nothing => {}
        }
    }
    false
}

/// The changes `upper` makes over `lowers` (top first), sorted by path. A whiteout is a
/// deletion; an entry the lowers have is a change (a directory on the way to a change
/// included, as Docker lists it); any other is added, with everything below it.
pub fn changes(upper: &Path, lowers: &[PathBuf]) -> Vec<Change> {
    let mut out = Vec::new();
    let Ok(top) = walk::open_path(upper) else {
        return out;
    };
    // A directory that cannot be listed is left out, as before: what is readable is shown.
    let _ = walk::below(&top, Path::new(""), None, &mut |e| {
        let rel = e.path;
        let kind = if walk::is_whiteout(e.st) {
            if !in_lowers(lowers, rel) {
                // A whiteout over nothing (a file made and removed): no change.
                return Ok(());
            }
            Kind::Deleted
        } else if in_lowers(lowers, rel) {
            Kind::Changed
        } else {
            Kind::Added
        };
        out.push(Change {
            path: Path::new("/").join(rel),
            kind,
        });
        if kind == Kind::Changed && e.dir.is_some_and(walk::is_opaque) {
            // Everything the lowers had below it is gone; what is here is new.
            deleted_below(lowers, rel, upper, &mut out);
        }
        Ok(())
    });
    out.sort();
    out
}

/// Below an opaque directory at `rel`: each entry the lowers had there that the upper lacks
/// is deleted.
fn deleted_below(lowers: &[PathBuf], rel: &Path, upper: &Path, out: &mut Vec<Change>) {
    let mut seen = std::collections::BTreeSet::new();
    for layer in lowers {
        // A directory of the layer's own: a link there (to the host's `/etc`, say) is no
        // directory of the layer's, and is never listed through.
        let here = layer.join(rel);
        let real_dir = std::fs::symlink_metadata(&here).is_ok_and(|m| m.is_dir());
        if !matches!(says(layer, rel), Says::Present) || !real_dir {
            break;
        }
        for entry in std::fs::read_dir(&here).into_iter().flatten().flatten() {
            let name = entry.file_name();
            let path = rel.join(&name);
            let is_whiteout = entry.metadata().is_ok_and(|m| is_whiteout(&m));
            if !is_whiteout
                && std::fs::symlink_metadata(upper.join(&path)).is_err()
                && seen.insert(name)
            {
                out.push(Change {
                    path: Path::new("/").join(&path),
                    kind: Kind::Deleted,
                });
            }
        }
        if is_opaque(&layer.join(rel)) {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(base: &Path, files: &[&str], dirs: &[&str]) {
        for d in dirs {
            std::fs::create_dir_all(base.join(d)).unwrap();
        }
        for f in files {
            std::fs::write(base.join(f), b"x").unwrap();
        }
    }

    #[test]
    fn added_changed_and_deleted_against_the_layers() {
        let root = std::env::temp_dir().join(format!("mct-changes-{}", std::process::id()));
        let (lower, upper) = (root.join("lower"), root.join("upper"));
        tree(
            &lower,
            &["etc/passwd", "etc/group", "bin/sh"],
            &["etc", "bin"],
        );
        // A link in the lower layer out to the host: nothing below it is the layer's.
        std::os::unix::fs::symlink("/etc", lower.join("host")).unwrap();
        tree(
            &upper,
            &["etc/passwd", "new.txt", "host/shadow"],
            &["etc", "host", "app/sub"],
        );
        // overlayfs makes a directory that replaces a lower entry opaque.
        xattr::set(upper.join("host"), "trusted.overlay.opaque", b"y").unwrap();
        nix::sys::stat::mknod(
            &upper.join("etc/group"),
            nix::sys::stat::SFlag::S_IFCHR,
            nix::sys::stat::Mode::empty(),
            0,
        )
        .unwrap();
        let found: Vec<String> = changes(&upper, std::slice::from_ref(&lower))
            .iter()
            .map(|c| format!("{} {}", c.kind.letter(), c.path.display()))
            .collect();
        assert_eq!(
            found,
            [
                "A /app",
                "A /app/sub",
                "C /etc",
                "D /etc/group",
                "C /etc/passwd",
                "C /host",
                "A /host/shadow",
                "A /new.txt",
            ]
        );
        std::fs::remove_dir_all(&root).unwrap();
    }
}
