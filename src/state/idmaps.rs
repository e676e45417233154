//! The host ids `--userns=auto` gives containers: `/etc/subuid` and `/etc/subgid` give the
//! user [`POOL_USER`] a range each (as Podman takes its ranges from the user `containers`); a
//! container gets `size` ids from them that no other container holds, at the same offset in
//! both. Its claim is a file in the state tree, `idmaps/<offset>+<size>+<id>`, made
//! under the directory's lock when the container is made and removed with its record
//! ([`release`]), so claims are host-wide whatever store a container is in. A claim whose
//! container has no directory a minute after it was made is a crashed start's, and is taken
//! back by the next claim.

use super::tree;
use crate::spec::userns::{IdRange, UserNs};
use anyhow::{Context, anyhow, bail};
use std::path::{Path, PathBuf};

/// The user whose `/etc/subuid` and `/etc/subgid` ranges `--userns=auto` takes ids from.
pub const POOL_USER: &str = "my-container-tui";

/// How old a claim without a container must be before it counts as a crashed start's.
const CLAIM_GRACE: std::time::Duration = std::time::Duration::from_secs(60);

fn dir() -> PathBuf {
    tree::root().join("idmaps")
}

/// The first range `file` (`/etc/subuid`'s format: `name:start:count`) gives `user`.
fn pool_in(text: &str, user: &str) -> Option<(u32, u32)> {
    text.lines().find_map(|line| {
        let mut parts = line.trim().split(':');
        let (name, start, count) = (parts.next()?, parts.next()?, parts.next()?);
        (name == user).then_some(())?;
        Some((start.parse().ok()?, count.parse().ok()?))
    })
}

fn pool(file: &str) -> anyhow::Result<(u32, u32)> {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    pool_in(&text, POOL_USER).ok_or_else(|| {
        anyhow!(
            "--userns=auto takes its ids from {file}'s range for the user {POOL_USER}, and it has none: add one, e.g. `echo {POOL_USER}:2147483648:268435456 | sudo tee -a /etc/subuid /etc/subgid`"
        )
    })
}

/// Turns an `auto` request into the maps of a range no other container holds, claimed for
/// container `id`; another request is kept as it is.
pub fn resolve(userns: &UserNs, id: &str) -> anyhow::Result<UserNs> {
    let UserNs::Auto { size } = *userns else {
        return Ok(userns.clone());
    };
    let (uid_start, uid_count) = pool("/etc/subuid")?;
    let (gid_start, gid_count) = pool("/etc/subgid")?;
    let capacity = uid_count.min(gid_count);
    let offset = claim(id, size, capacity)?;
    let range = |start: u32| IdRange {
        inside: 0,
        outside: start + offset,
        count: size,
    };
    Ok(UserNs::Map {
        uids: vec![range(uid_start)],
        gids: vec![range(gid_start)],
    })
}

/// A claim's file name: `<offset>+<size>+<id>`: its range and its container, so that claims
/// are found, weighed and given back by their names alone (no claim is read).
fn parse_claim(name: &str) -> Option<(u32, u32, &str)> {
    let mut parts = name.splitn(3, '+');
    let (offset, size, id) = (parts.next()?, parts.next()?, parts.next()?);
    Some((offset.parse().ok()?, size.parse().ok()?, id))
}

/// The lowest offset where `size` ids fit in `capacity` beside the `taken` ranges.
fn first_fit(taken: &mut [(u32, u32)], size: u32, capacity: u32) -> Option<u32> {
    taken.sort_unstable();
    let mut at = 0u32;
    for &(offset, len) in taken.iter() {
        if offset >= at && offset - at >= size {
            break;
        }
        at = at.max(offset.saturating_add(len));
    }
    (at.checked_add(size)? <= capacity).then_some(at)
}

/// Claims `size` ids of the pool for container `id`: their offset.
fn claim(id: &str, size: u32, capacity: u32) -> anyhow::Result<u32> {
    for _ in 0..100 {
        // The tree may go (emptied by another container's removal) between the two: again.
        match tree::make_private_dir(tree::root()).and_then(|()| tree::make_private_dir(&dir())) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            made => made.with_context(|| format!("cannot make {}", dir().display()))?,
        }
        // The directory may go (emptied by a release) before we hold it: then again.
        let Ok(lock) = Locked::take() else { continue };
        let mut taken = Vec::new();
        for entry in std::fs::read_dir(dir()).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some((offset, size, holder)) = parse_claim(&name) else {
                continue;
            };
            if stale(&entry.path(), holder) {
                let _ = std::fs::remove_file(entry.path());
                continue;
            }
            taken.push((offset, size));
        }
        let offset = first_fit(&mut taken, size, capacity).ok_or_else(|| {
            anyhow!(
                "--userns=auto: no {size} ids left in {POOL_USER}'s ranges ({} containers hold ranges): give the user a larger range in /etc/subuid and /etc/subgid",
                taken.len()
            )
        })?;
        let path = dir().join(format!("{offset}+{size}+{id}"));
        std::fs::write(&path, "").with_context(|| format!("cannot claim {}", path.display()))?;
        drop(lock);
        return Ok(offset);
    }
    bail!("cannot claim ids: {} keeps vanishing", dir().display())
}

/// A claim whose container has no directory, older than [`CLAIM_GRACE`].
fn stale(claim: &Path, id: &str) -> bool {
    let old = std::fs::metadata(claim)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age > CLAIM_GRACE);
    let id_like = !id.is_empty() && id.bytes().all(|b| b.is_ascii_hexdigit());
    old && id_like && !tree::container(id).exists()
}

/// Drops the claims of crashed starts ([`stale`]): a sweep's work, beside the next claim's.
pub fn sweep() {
    if !dir().exists() {
        return;
    }
    let Ok(lock) = Locked::take() else { return };
    for entry in std::fs::read_dir(dir()).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if parse_claim(&name).is_some_and(|(_, _, holder)| stale(&entry.path(), holder)) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    let _ = std::fs::remove_dir(dir());
    drop(lock);
}

/// Gives back container `id`'s claim, if it has one; the directory goes with the last.
pub fn release(id: &str) {
    if !dir().exists() {
        return;
    }
    let Ok(lock) = Locked::take() else { return };
    for entry in std::fs::read_dir(dir()).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if parse_claim(&name).is_some_and(|(_, _, holder)| holder == id) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    let _ = std::fs::remove_dir(dir());
    drop(lock);
}

/// The claims directory, locked (`flock` on the directory itself) until dropped.
struct Locked {
    _held: nix::fcntl::Flock<std::fs::File>,
}

impl Locked {
    fn take() -> std::io::Result<Locked> {
        tree::lock_dir(&dir()).map(|held| Locked { _held: held })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pool_is_the_tools_line() {
        let text = "alice:100000:65536\nmy-container-tui:2147483648:268435456\nbad line\n";
        assert_eq!(pool_in(text, POOL_USER), Some((2147483648, 268435456)));
        assert_eq!(pool_in("alice:1:2\n", POOL_USER), None);
    }

    #[test]
    fn ranges_go_where_they_fit_first() {
        let mut taken = vec![(65536, 65536), (0, 65536), (262144, 1024)];
        assert_eq!(first_fit(&mut taken, 65536, 1 << 20), Some(131072));
        assert_eq!(first_fit(&mut taken, 1024, 1 << 20), Some(131072));
        let mut gap = vec![(0, 1000), (3000, 10)];
        assert_eq!(first_fit(&mut gap, 2000, 10_000), Some(1000));
        assert_eq!(first_fit(&mut gap, 2001, 10_000), Some(3010));
        assert_eq!(first_fit(&mut gap, 7000, 10_000), None);
        assert_eq!(first_fit(&mut Vec::new(), 65536, 65536), Some(0));
        assert_eq!(
            parse_claim("131072+65536+ab12"),
            Some((131072, 65536, "ab12"))
        );
        assert_eq!(parse_claim("131072+65536"), None);
        assert_eq!(parse_claim(".lock"), None);
    }
}
