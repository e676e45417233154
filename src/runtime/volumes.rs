//! Volumes: `-v SRC:DST[:ro]` bind mounts and `--tmpfs DST[:OPTIONS]`, mounted inside the
//! container's mount namespace. With a rootfs, DST is resolved inside the image (a symlink on
//! the way is followed as if the image's root were `/`, so it cannot lead out) and the mount
//! goes onto the handle resolved; what Docker refuses (`/` itself, anything under `/proc` or
//! `/sys`, `..`) is refused before anything starts.

use super::Sys;
use super::cgroups::limits::parse_bytes;
use super::hostview;
use super::mounts::{self, Target};
use super::rootpath::{self, InRoot};
use anyhow::{Context, bail};
use nix::mount::MsFlags;
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
        /// Docker's defaults are `rw,nosuid,nodev,noexec`; the words given change them.
        read_only: bool,
        exec: bool,
        suid: bool,
        dev: bool,
        /// The tmpfs data: `size=` in bytes, `mode=`, `uid=`, `gid=`, `nr_inodes=`.
        data: String,
    },
}

/// An absolute container path without `..`, neither `/` nor in `/proc` (runc refuses those:
/// a volume there would hide or replace what the hardening masks, or hand the container the
/// host's sysctls). `/sys` is allowed, as Docker allows it (moby's `TestMountIntoSys`): the
/// container's sysfs is read-only and nothing can be made in it, so a target there must exist.
fn container_path(text: &str, what: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(text);
    if !path.is_absolute() {
        return Err(format!("{what} {text:?} must be an absolute path"));
    }
    if path.components().any(|c| c == Component::ParentDir) {
        return Err(format!("{what} {text:?} may not contain '..'"));
    }
    if path.components().all(|c| c == Component::RootDir) {
        return Err(format!(
            "{what} {text:?}: a volume cannot be mounted over /"
        ));
    }
    if path.starts_with("/proc") {
        return Err(format!(
            "{what} {text:?}: volumes cannot be mounted in /proc"
        ));
    }
    Ok(path)
}

/// Docker's `--tmpfs` words that are flags, and the flag each sets: (word, field, value).
const TMPFS_WORDS: [(&str, usize, bool); 8] = [
    ("rw", 0, false),
    ("ro", 0, true),
    ("exec", 1, true),
    ("noexec", 1, false),
    ("suid", 2, true),
    ("nosuid", 2, false),
    ("dev", 3, true),
    ("nodev", 3, false),
];

impl Volume {
    /// `SRC:DST`, `SRC:DST:ro` or `SRC:DST:rw`, SRC absolute on the host, or the name of a
    /// named volume (bound from its data directory, made on first use).
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
        let src = if crate::state::volumes::is_name(src) {
            crate::state::volumes::data_dir(src)
        } else if Path::new(src).is_absolute() {
            PathBuf::from(src)
        } else {
            return Err(format!(
                "volume source {src:?} must be an absolute path or a volume name"
            ));
        };
        Ok(Volume::Bind {
            src,
            dst: container_path(dst, "volume target")?,
            read_only,
        })
    }

    /// `DST` or `DST:OPTIONS`, Docker's options: `rw`, `ro`, `exec`, `noexec`, `suid`,
    /// `nosuid`, `dev`, `nodev`, `size=` (with units), `mode=` (octal), `uid=`, `gid=`,
    /// `nr_inodes=`.
    pub fn parse_tmpfs(text: &str) -> Result<Volume, String> {
        let (dst, options) = text.split_once(':').unwrap_or((text, ""));
        // read_only, exec, suid, dev
        let mut flags = [false, false, false, false];
        let mut data = Vec::new();
        for option in options.split(',').filter(|o| !o.is_empty()) {
            if let Some(&(_, field, value)) = TMPFS_WORDS.iter().find(|(w, _, _)| *w == option) {
                flags[field] = value;
                continue;
            }
            let bad = || {
                format!(
                    "invalid tmpfs option {option:?}: use rw, ro, exec, noexec, suid, nosuid, dev, nodev, size=, mode=, uid=, gid= or nr_inodes="
                )
            };
            let (key, value) = option.split_once('=').ok_or_else(bad)?;
            let ok = match key {
                "size" => {
                    data.push(format!("size={}", parse_bytes(value)?));
                    continue;
                }
                "mode" => u32::from_str_radix(value, 8).is_ok_and(|m| m <= 0o7777),
                "uid" | "gid" => value.parse::<u32>().is_ok(),
                "nr_inodes" => value.parse::<u64>().is_ok(),
                _ => return Err(bad()),
            };
            if !ok {
                return Err(format!("invalid tmpfs option {option:?}: bad value"));
            }
            data.push(option.to_string());
        }
        let [read_only, exec, suid, dev] = flags;
        Ok(Volume::Tmpfs {
            dst: container_path(dst, "tmpfs target")?,
            read_only,
            exec,
            suid,
            dev,
            data: data.join(","),
        })
    }

    /// The source must exist on the host.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            // A named volume is made on first use, just before the container starts.
            Volume::Bind { src, .. }
                if !src.exists() && crate::state::volumes::name_of(src).is_none() =>
            {
                Err(format!(
                    "volume source {}: No such file or directory",
                    src.display()
                ))
            }
            _ => Ok(()),
        }
    }

    pub fn dst(&self) -> &Path {
        match self {
            Volume::Bind { dst, .. } | Volume::Tmpfs { dst, .. } => dst,
        }
    }
}

/// The tree volumes are mounted into, which decides whether a missing target may be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tree {
    /// A rootfs, before `pivot_root`: targets are made inside it (in the overlay).
    Image,
    /// The host's files, read-only to the container: targets are made only in its private
    /// tmpfs directories (`/tmp`, `/run`, ...), the one place they would not change the host.
    HostReadOnly,
    /// The host's files, writable (`--host-rw`): a target is never made, it would change the
    /// host.
    HostWritable,
}

/// The bind volumes' sources, opened (`O_PATH`) in the container's mount namespace before its
/// own view hides any host path: a source under the host's `/tmp` must still be bound after
/// `/tmp` became private.
pub struct Sources(Vec<Option<Source>>);

struct Source {
    fd: std::os::fd::OwnedFd,
    is_dir: bool,
}

impl Sources {
    /// Opens the source of each bind volume (a path the user gave on the host).
    pub fn open(volumes: &[Volume]) -> anyhow::Result<Sources> {
        use nix::fcntl::{OFlag, open};
        let open_one = |src: &Path| -> anyhow::Result<Source> {
            let flags = OFlag::O_PATH | OFlag::O_CLOEXEC;
            let fd = open(src, flags, nix::sys::stat::Mode::empty())
                .with_sys(|| format!("volume source {}", src.display()))?;
            let is_dir = rootpath::file_type(&fd)? == nix::sys::stat::SFlag::S_IFDIR;
            Ok(Source { fd, is_dir })
        };
        let opened = volumes
            .iter()
            .map(|v| match v {
                Volume::Bind { src, .. } => open_one(src).map(Some),
                Volume::Tmpfs { .. } => Ok(None),
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Sources(opened))
    }
}

/// Refuses a target that does not exist in `root` where `tree` may not make one.
fn check_target(dst: &Path, root: &InRoot, tree: Tree) -> anyhow::Result<()> {
    let may_make = match tree {
        Tree::Image => true,
        Tree::HostReadOnly => hostview::PRIVATE_DIRS
            .iter()
            .any(|d| dst.starts_with(d.path)),
        Tree::HostWritable => false,
    };
    if !may_make && !root.exists(dst) {
        bail!(
            "volume target {} does not exist (without --rootfs the container shares the host's files; create it first)",
            dst.display()
        );
    }
    Ok(())
}

/// What the launcher can refuse of `spec`'s volumes before it makes anything (a named
/// volume among them): without a root of its own, a target the container could not get.
/// The container's setup checks again with [`mount_all`]; this only moves a refusal before
/// the first thing a refused run would otherwise leave behind.
pub fn check_before_start(spec: &super::ContainerSpec) -> anyhow::Result<()> {
    if spec.rootfs.is_some() || spec.image.is_some() || spec.volumes.is_empty() {
        return Ok(());
    }
    let tree = if spec.hardening.host_writable() {
        Tree::HostWritable
    } else {
        Tree::HostReadOnly
    };
    let host = InRoot::open(Path::new("/"), Path::new("/"))?;
    for volume in &spec.volumes {
        check_target(volume.dst(), &host, tree)?;
    }
    Ok(())
}

/// Mounts `volumes` (whose bind sources are `sources`) on targets resolved inside `root` (an
/// image's root, or the host's `/`).
pub fn mount_all(
    volumes: &[Volume],
    sources: &Sources,
    root: &InRoot,
    tree: Tree,
) -> anyhow::Result<()> {
    for (volume, source) in volumes.iter().zip(&sources.0) {
        let dst = volume.dst();
        let file = source.as_ref().is_some_and(|s| !s.is_dir);
        check_target(dst, root, tree)?;
        let resolve = || {
            if file { root.file(dst) } else { root.dir(dst) }
                .with_context(|| format!("volume target {}", dst.display()))
        };
        let handle = resolve()?;
        let target = Target::fd(&handle, dst);
        match volume {
            Volume::Bind { read_only, .. } => {
                let flags = MsFlags::MS_BIND | MsFlags::MS_REC;
                let Some(source) = source else {
                    bail!("volume {}: its source was not opened", dst.display());
                };
                let src = Target::fd(&source.fd, dst).mount_path();
                mounts::mount_on(&src.to_string_lossy(), &target, None, flags, None)?;
                // The handle still names the inode under the new mount: resolve again.
                let mounted = resolve()?;
                let target = Target::fd(&mounted, dst);
                if *read_only {
                    mounts::remount_read_only(&target)?;
                } else if tree == Tree::HostReadOnly {
                    // Taken from the host's read-only view, the bind is read-only too.
                    mounts::read_write(&target)?;
                }
            }
            Volume::Tmpfs {
                read_only,
                exec,
                suid,
                dev,
                data,
                ..
            } => {
                let mut flags = MsFlags::empty();
                flags.set(MsFlags::MS_RDONLY, *read_only);
                flags.set(MsFlags::MS_NOEXEC, !*exec);
                flags.set(MsFlags::MS_NOSUID, !*suid);
                flags.set(MsFlags::MS_NODEV, !*dev);
                let data = (!data.is_empty()).then_some(data.as_str());
                mounts::mount_on("tmpfs", &target, Some("tmpfs"), flags, data)?;
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
        assert_eq!(
            Volume::parse_bind("data:/srv:ro"),
            Ok(Volume::Bind {
                src: crate::state::volumes::data_dir("data"),
                dst: "/srv".into(),
                read_only: true
            }),
            "a name is a named volume"
        );
        for bad in [
            "./data:/srv",
            "/data:srv",
            "/data:/srv/../etc",
            "/data",
            "/a:/b:rx",
            "/a:/b:ro:x",
            "/a:/",
            "/:/",
            "/a://",
            "/a:/proc",
            "/a:/proc/sys/kernel",
        ] {
            assert!(Volume::parse_bind(bad).is_err(), "{bad}");
        }
        assert!(Volume::parse_bind("/a:/process").is_ok());
        // Docker allows /sys (moby's TestMountIntoSys).
        assert!(Volume::parse_bind("/a:/sys/fs/cgroup").is_ok());
    }

    #[test]
    fn tmpfs_volumes_take_dockers_options_and_defaults() {
        assert_eq!(
            Volume::parse_tmpfs("/run"),
            Ok(Volume::Tmpfs {
                dst: "/run".into(),
                read_only: false,
                exec: false,
                suid: false,
                dev: false,
                data: String::new()
            })
        );
        assert_eq!(
            Volume::parse_tmpfs(
                "/run:ro,exec,suid,dev,size=64m,mode=1777,uid=1000,gid=100,nr_inodes=400"
            ),
            Ok(Volume::Tmpfs {
                dst: "/run".into(),
                read_only: true,
                exec: true,
                suid: true,
                dev: true,
                data: format!("size={},mode=1777,uid=1000,gid=100,nr_inodes=400", 64 << 20)
            })
        );
        for bad in [
            "/run:bogus",
            "run",
            "/:size=1m",
            "/run:mode=999",
            "/run:size=x",
            "/run:uid=-1",
            "/proc/x",
        ] {
            assert!(Volume::parse_tmpfs(bad).is_err(), "{bad}");
        }
    }
}
