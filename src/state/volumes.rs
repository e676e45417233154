//! Named volumes: directories that outlive containers, under `$MCT_ROOT/volumes/NAME/_data`
//! (`/var/lib/my-container-tui` unless `MCT_ROOT` says otherwise, so tests never touch the
//! real store). `-v NAME:/dst` binds one, making it on first use; a volume used by any
//! container, running or not, cannot be removed.

use super::store;
use crate::spec::ContainerSpec;
use crate::spec::names::validate_name;
use crate::spec::volume::Volume;
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};

/// The store's root: `MCT_ROOT`, else `/var/lib/my-container-tui` (a rootless user's own:
/// [`super::owner::data_dir`]).
pub fn root() -> PathBuf {
    std::env::var_os("MCT_ROOT")
        .filter(|r| Path::new(r).is_absolute())
        .map_or_else(super::owner::data_dir, PathBuf::from)
}

/// The store's root, made if missing and root's alone (0700, an existing one repaired):
/// volumes and unpacked layers under it hold what containers and images put there (setuid
/// binaries, device nodes, files with capabilities, world-writable directories), which no
/// other host user may reach. Containers see them through mounts, not through this path.
/// Every store (images, volumes, networks) is opened through here.
pub fn private_root() -> anyhow::Result<PathBuf> {
    let root = root();
    if let Some(parent) = root.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    super::tree::make_private_dir(&root)
        .with_context(|| format!("cannot make the store {} root's alone", root.display()))?;
    Ok(root)
}

fn volumes() -> PathBuf {
    root().join("volumes")
}

/// The directory a container sees of volume `name`.
pub fn data_dir(name: &str) -> PathBuf {
    volumes().join(name).join("_data")
}

/// The volume whose data directory `path` is, if it is one.
pub fn name_of(path: &Path) -> Option<String> {
    let rest = path.strip_prefix(volumes()).ok()?;
    let mut parts = rest.components();
    let name = parts.next()?.as_os_str().to_str()?.to_string();
    (parts.next()?.as_os_str() == "_data" && parts.next().is_none()).then_some(name)
}

/// Makes volume `name` unless it exists; true if it was made.
pub fn create(name: &str) -> anyhow::Result<bool> {
    validate_name(name).map_err(|e| anyhow::anyhow!(e.replace("container", "volume")))?;
    let dir = volumes().join(name);
    if dir.is_dir() {
        return Ok(false);
    }
    private_root()?;
    std::fs::create_dir_all(volumes()).context("cannot create the volume store")?;
    match std::fs::create_dir(&dir) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(false),
        other => other.with_context(|| format!("cannot create volume {name}"))?,
    }
    std::fs::create_dir(dir.join("_data"))
        .with_context(|| format!("cannot create volume {name}"))?;
    Ok(true)
}

/// Makes every named volume `spec` uses that does not exist yet, and binds its data
/// directory in its place. Called once what can be refused before the start was (a refused
/// run leaves no volume behind). A volume made for a container with a user namespace of its
/// own is its root's (as Docker's `userns-remap` makes them).
pub fn create_used(spec: &mut ContainerSpec) -> anyhow::Result<()> {
    let root = spec.userns.root_ids();
    for volume in &mut spec.volumes {
        if let Volume::Named {
            name,
            dst,
            read_only,
        } = volume
        {
            if create(name)?
                && let Some((uid, gid)) = root
            {
                let ids = (Some(uid.into()), Some(gid.into()));
                nix::unistd::chown(&data_dir(name), ids.0, ids.1).with_context(|| {
                    format!("cannot give volume {name} to the container's root")
                })?;
            }
            *volume = Volume::Bind {
                src: data_dir(name),
                dst: std::mem::take(dst),
                read_only: *read_only,
                idmap: false,
            };
        }
    }
    Ok(())
}

/// Every volume's name, sorted.
pub fn list() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(volumes())
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().join("_data").is_dir())
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .collect();
    names.sort();
    names
}

/// The names of the containers (of any status) that use volume `name`.
pub fn users(name: &str) -> Vec<String> {
    let data = data_dir(name);
    store::records()
        .into_iter()
        .filter(|r| {
            store::spec(&r.id).is_ok_and(|s| {
                s.volumes
                    .iter()
                    .any(|v| matches!(v, Volume::Bind { src, .. } if *src == data))
            })
        })
        .map(|r| r.name)
        .collect()
}

/// Removes volume `name`, unless a container uses it.
pub fn remove(name: &str) -> anyhow::Result<()> {
    if !list().iter().any(|n| n == name) {
        bail!("no such volume: {name}");
    }
    let users = users(name);
    if !users.is_empty() {
        bail!(
            "volume {name} is in use by container {}: remove the container first",
            users.join(", ")
        );
    }
    remove_unchecked(name)
}

/// Removes the volume at `dir`, its users not asked: an anonymous volume, whose one user is
/// the container being removed, in whichever store it was made (`dir` is `…/volumes/NAME`,
/// or nothing is removed).
pub fn remove_dir(dir: &Path) {
    let named = dir
        .file_name()
        .is_some_and(|n| crate::spec::names::validate_name(&n.to_string_lossy()).is_ok());
    let parent = dir.parent();
    let in_volumes = parent.is_some_and(|p| p.file_name().is_some_and(|n| n == "volumes"));
    if !named || !in_volumes {
        return;
    }
    if remove_volume_dir(dir).is_ok()
        && let Some(volumes) = parent
    {
        // The store's directories go with their last volume (made on first use).
        let _ = std::fs::remove_dir(volumes);
        if let Some(root) = volumes.parent() {
            let _ = std::fs::remove_dir(root);
        }
    }
}

/// Removes a volume's directory. A rootless user's volume holds what their containers' users
/// wrote, files of the user's subordinate ids that only root of their namespace may remove:
/// what is left goes to [`Task::RemoveVolume`].
///
/// [`Task::RemoveVolume`]: super::as_root::Task::RemoveVolume
fn remove_volume_dir(dir: &Path) -> std::io::Result<()> {
    use super::as_root::{self, Task};
    match std::fs::remove_dir_all(dir) {
        Err(_) if as_root::needed() => {
            as_root::run(Task::RemoveVolume, dir.as_os_str());
            match std::fs::symlink_metadata(dir) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                _ => std::fs::remove_dir_all(dir),
            }
        }
        done => done,
    }
}

/// [`super::as_root::Task::RemoveVolume`], as root of the user's namespace: removes
/// `dir`, which must be a volume's directory (`…/volumes/NAME`).
pub fn remove_task(dir: &std::ffi::OsStr) -> anyhow::Result<()> {
    let dir = Path::new(dir);
    let named = dir
        .file_name()
        .is_some_and(|n| crate::spec::names::validate_name(&n.to_string_lossy()).is_ok());
    let parent = dir.parent().and_then(Path::file_name);
    if !named || parent != Some(std::ffi::OsStr::new("volumes")) || !dir.is_absolute() {
        anyhow::bail!("{} is not a volume's directory", dir.display());
    }
    std::fs::remove_dir_all(dir).with_context(|| format!("cannot remove {}", dir.display()))
}

/// Removes volume `name`, its users not asked.
fn remove_unchecked(name: &str) -> anyhow::Result<()> {
    crate::spec::names::validate_name(name).map_err(anyhow::Error::msg)?;
    remove_volume_dir(&volumes().join(name))
        .with_context(|| format!("cannot remove volume {name}"))?;
    // The store's directories go with their last volume (ours alone, made on first use).
    let _ = std::fs::remove_dir(volumes());
    let _ = std::fs::remove_dir(root());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_names_and_their_directories() {
        use crate::spec::volume::is_name;
        assert!(is_name("data"));
        assert!(!is_name("/data"));
        assert!(!is_name("../x"));
        assert_eq!(name_of(&data_dir("web")), Some("web".into()));
        assert_eq!(name_of(&volumes().join("web")), None);
        assert_eq!(name_of(Path::new("/data/_data")), None);
    }
}
