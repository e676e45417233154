//! Volumes: `-v SRC:DST[:ro]` bind mounts and `--tmpfs DST[:OPTIONS]`, mounted inside the
//! container's mount namespace. A DST that would escape the container's root, through `..` or
//! through a symlink, is refused.

use super::mounts;
use nix::mount::{MsFlags, mount};
use serde::{Deserialize, Serialize};
use std::path::{Component, Path, PathBuf};

/// One volume.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Volume {
    Bind {
        src: PathBuf,
        dst: PathBuf,
        read_only: bool,
    },
    Tmpfs {
        dst: PathBuf,
        options: String,
    },
}

/// An absolute container path without `..`.
fn container_path(text: &str, what: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(text);
    if !path.is_absolute() {
        return Err(format!("{what} {text:?} must be an absolute path"));
    }
    if path.components().any(|c| c == Component::ParentDir) {
        return Err(format!("{what} {text:?} may not contain '..'"));
    }
    Ok(path)
}

impl Volume {
    /// `SRC:DST`, `SRC:DST:ro` or `SRC:DST:rw`, SRC absolute on the host.
    pub fn parse_bind(text: &str) -> Result<Volume, String> {
        let parts: Vec<&str> = text.split(':').collect();
        let (src, dst, read_only) = match parts.as_slice() {
            [src, dst] => (*src, *dst, false),
            [src, dst, "ro"] => (*src, *dst, true),
            [src, dst, "rw"] => (*src, *dst, false),
            _ => {
                return Err(format!(
                    "invalid volume {text:?}: expected SRC:DST or SRC:DST:ro"
                ));
            }
        };
        if !Path::new(src).is_absolute() {
            return Err(format!("volume source {src:?} must be an absolute path"));
        }
        Ok(Volume::Bind {
            src: src.into(),
            dst: container_path(dst, "volume target")?,
            read_only,
        })
    }

    /// `DST` or `DST:size=64m,mode=1777` (options: size, mode, nr_inodes).
    pub fn parse_tmpfs(text: &str) -> Result<Volume, String> {
        let (dst, options) = text.split_once(':').unwrap_or((text, ""));
        for option in options.split(',').filter(|o| !o.is_empty()) {
            let key = option.split('=').next().unwrap_or("");
            if !["size", "mode", "nr_inodes"].contains(&key) || !option.contains('=') {
                return Err(format!(
                    "invalid tmpfs option {option:?}: use size=, mode= or nr_inodes="
                ));
            }
        }
        Ok(Volume::Tmpfs {
            dst: container_path(dst, "tmpfs target")?,
            options: options.to_string(),
        })
    }

    /// The source must exist on the host.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Volume::Bind { src, .. } if !src.exists() => Err(format!(
                "volume source {}: No such file or directory",
                src.display()
            )),
            _ => Ok(()),
        }
    }

    pub fn dst(&self) -> &Path {
        match self {
            Volume::Bind { dst, .. } | Volume::Tmpfs { dst, .. } => dst,
        }
    }
}

/// Where `dst` is under `root`, creating what is missing (a file when `file`), and refusing any
/// symlink on the way: inside an image a symlink may point anywhere on the host.
fn target_in_root(root: &Path, dst: &Path, file: bool) -> Result<PathBuf, String> {
    let mut path = root.to_path_buf();
    let parts: Vec<_> = dst
        .components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .collect();
    for (i, part) in parts.iter().enumerate() {
        path.push(part);
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(format!(
                    "volume target {} goes through a symlink, which could lead out of the container",
                    dst.display()
                ));
            }
            Ok(_) => {}
            Err(_) if file && i + 1 == parts.len() => {
                std::fs::write(&path, b"").map_err(|e| {
                    format!("cannot create {} in the container: {e}", dst.display())
                })?;
            }
            Err(_) => {
                std::fs::create_dir(&path).map_err(|e| {
                    format!("cannot create {} in the container: {e}", dst.display())
                })?;
            }
        }
    }
    Ok(path)
}

/// Mounts `volumes`. With a rootfs, `root` is where it is mounted (before `pivot_root`), and
/// missing targets are created in it; without, targets must exist on the host's tree.
pub fn mount_all(volumes: &[Volume], root: Option<&Path>) -> Result<(), String> {
    for volume in volumes {
        let file = matches!(volume, Volume::Bind { src, .. } if !src.is_dir());
        let target = match root {
            Some(root) => target_in_root(root, volume.dst(), file)?,
            None if volume.dst().exists() => volume.dst().to_path_buf(),
            None => {
                return Err(format!(
                    "volume target {} does not exist (without --rootfs the container shares the host's files; create it first)",
                    volume.dst().display()
                ));
            }
        };
        let fail = |e: nix::Error| {
            format!(
                "cannot mount volume on {}: {}",
                volume.dst().display(),
                e.desc()
            )
        };
        match volume {
            Volume::Bind { src, read_only, .. } => {
                mount(
                    Some(src.as_path()),
                    &target,
                    None::<&str>,
                    MsFlags::MS_BIND | MsFlags::MS_REC,
                    None::<&str>,
                )
                .map_err(fail)?;
                if *read_only {
                    mounts::remount_read_only(&target).map_err(fail)?;
                }
            }
            Volume::Tmpfs { options, .. } => {
                let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
                mount(
                    Some("tmpfs"),
                    &target,
                    Some("tmpfs"),
                    flags,
                    Some(options.as_str()),
                )
                .map_err(fail)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_volumes_parse() {
        assert_eq!(
            Volume::parse_bind("/data:/srv:ro"),
            Ok(Volume::Bind {
                src: "/data".into(),
                dst: "/srv".into(),
                read_only: true
            })
        );
        assert_eq!(
            Volume::parse_bind("/data:/srv"),
            Ok(Volume::Bind {
                src: "/data".into(),
                dst: "/srv".into(),
                read_only: false
            })
        );
        for bad in [
            "data:/srv",
            "/data:srv",
            "/data:/srv/../etc",
            "/data",
            "/a:/b:rx",
            "/a:/b:ro:x",
        ] {
            assert!(Volume::parse_bind(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tmpfs_volumes_parse() {
        assert_eq!(
            Volume::parse_tmpfs("/run"),
            Ok(Volume::Tmpfs {
                dst: "/run".into(),
                options: String::new()
            })
        );
        assert_eq!(
            Volume::parse_tmpfs("/run:size=64m,mode=1777"),
            Ok(Volume::Tmpfs {
                dst: "/run".into(),
                options: "size=64m,mode=1777".into()
            })
        );
        assert!(Volume::parse_tmpfs("/run:exec").is_err());
        assert!(Volume::parse_tmpfs("run").is_err());
    }

    #[test]
    fn targets_may_not_pass_through_symlinks() {
        let root = std::env::temp_dir().join(format!("mct-volumes-{}", std::process::id()));
        std::fs::create_dir_all(root.join("etc")).unwrap();
        std::os::unix::fs::symlink("/", root.join("escape")).unwrap();
        assert!(target_in_root(&root, Path::new("/escape/tmp"), false).is_err());
        assert_eq!(
            target_in_root(&root, Path::new("/etc/new/dir"), false),
            Ok(root.join("etc/new/dir"))
        );
        assert!(root.join("etc/new/dir").is_dir());
        assert_eq!(
            target_in_root(&root, Path::new("/file"), true),
            Ok(root.join("file"))
        );
        assert!(root.join("file").is_file());
        std::fs::remove_dir_all(&root).unwrap();
    }
}
