//! The name index: `/run/my-container-tui/names/<namespace in hex>.<name>`, a symbolic link
//! to the id of the container that has that name in that namespace.
//!
//! Why: a name was found, and checked free, by reading every container's record. On a host
//! of a thousand containers each `exec NAME`, `stop NAME` and unnamed start read a thousand
//! files; through the index, each reads one link and one record.
//!
//! The records stay the truth: a link is only believed when the record it points to has that
//! name in that namespace, so a stale link (its container removed by a crash) is replaced by
//! the next claim. Links are made and removed under the store's lock, by the same calls that
//! make, rename and remove records ([`super::store`]).

use std::path::PathBuf;

/// The index's directory.
pub fn dir() -> PathBuf {
    super::tree::root().join("names")
}

/// The link for `name` in `namespace`, or `None` when its file name would be too long for
/// the filesystem (such a name is looked for in the records themselves).
pub fn link(namespace: &str, name: &str) -> Option<PathBuf> {
    let hex: String = namespace.bytes().map(|b| format!("{b:02x}")).collect();
    let file = format!("{hex}.{name}");
    (file.len() <= 255 && !name.contains('/')).then(|| dir().join(file))
}

/// The id the index gives `name` in `namespace` (unchecked: see the module's note).
pub fn lookup(namespace: &str, name: &str) -> Option<String> {
    let target = std::fs::read_link(link(namespace, name)?).ok()?;
    let id = target.to_str()?;
    super::store::looks_like_id(id).then(|| id.to_string())
}

/// Points `name` in `namespace` at container `id` (the caller holds the store's lock and has
/// checked the name free).
pub fn set(namespace: &str, name: &str, id: &str) -> std::io::Result<()> {
    let Some(link) = link(namespace, name) else {
        return Ok(());
    };
    super::tree::make_private(&dir())?;
    match std::fs::remove_file(&link) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    std::os::unix::fs::symlink(id, link)
}

/// Drops `name` in `namespace` if it points at `id` (the caller holds the store's lock), and
/// the index's directory once it is empty.
pub fn unset(namespace: &str, name: &str, id: &str) {
    if lookup(namespace, name).as_deref() == Some(id)
        && let Some(link) = link(namespace, name)
    {
        let _ = std::fs::remove_file(link);
        let _ = std::fs::remove_dir(dir());
    }
}

/// Drops every link whose container has no record (a sweep's: what a crash, or a removal
/// racing a recording, left).
pub fn remove_dangling() {
    for entry in std::fs::read_dir(dir()).into_iter().flatten().flatten() {
        let target = std::fs::read_link(entry.path()).ok();
        let recorded = target
            .as_ref()
            .and_then(|t| t.to_str())
            .is_some_and(super::store::exists);
        if !recorded {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    let _ = std::fs::remove_dir(dir());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A namespace cannot reach outside the index's directory, nor two namespaces share an
    /// entry.
    #[test]
    fn namespaces_are_spelled_apart() {
        let a = link("a.b", "c").unwrap();
        let b = link("a", "b.c").unwrap();
        assert_ne!(a, b);
        assert_eq!(link("../x", "y").unwrap().parent(), Some(dir().as_path()));
        assert!(link(&"n".repeat(200), "name").is_none());
    }
}
