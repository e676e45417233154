//! Volumes: `-v SRC:DST[:ro]` bind mounts and `--tmpfs DST[:OPTIONS]`, mounted inside the
//! container's mount namespace. With a rootfs, DST is resolved inside the image (a symlink on
//! the way is followed as if the image's root were `/`, so it cannot lead out) and the mount
//! goes onto the handle resolved; what Docker refuses (`/` itself, anything under `/proc` or
//! `/sys`, `..`) is refused before anything starts.

use super::Sys;
use super::hostview;
use super::mounts::{self, Target};
use super::rootpath::{self, InRoot};
use crate::spec::volume::Volume;
use anyhow::{Context, bail};
use nix::mount::MsFlags;
use std::path::Path;

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
                Volume::Named { name, .. } => {
                    bail!("volume {name}: not resolved to its directory before the start")
                }
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
    userns: Option<std::os::fd::BorrowedFd>,
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
            Volume::Bind { read_only, .. } | Volume::Named { read_only, .. } => {
                let flags = MsFlags::MS_BIND | MsFlags::MS_REC;
                let Some(source) = source else {
                    bail!("volume {}: its source was not opened", dst.display());
                };
                let idmap = matches!(volume, Volume::Bind { idmap: true, .. });
                match userns.filter(|_| idmap) {
                    // `:idmap`: its owners seen through the user namespace (the mount alone,
                    // not those below it).
                    Some(userns) => {
                        use std::os::fd::AsFd;
                        mounts::idmapped_of(source.fd.as_fd(), userns)
                            .and_then(|m| mounts::move_mount_onto(&m, handle.as_fd()))
                            .with_context(|| {
                                format!("cannot bind {} with idmap (idmapped mounts need Linux 5.12 and a filesystem that has them)", dst.display())
                            })?;
                    }
                    None => {
                        let src = Target::fd(&source.fd, dst).mount_path();
                        mounts::mount_on(&src.to_string_lossy(), &target, None, flags, None)?;
                    }
                }
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
                read_only: true,
                idmap: false,
            })
        );
        assert_eq!(
            Volume::parse_bind("/data:/srv:ro,idmap"),
            Ok(Volume::Bind {
                src: "/data".into(),
                dst: "/srv".into(),
                read_only: true,
                idmap: true,
            })
        );
        assert_eq!(
            Volume::parse_bind("/data:/srv"),
            Ok(Volume::Bind {
                src: "/data".into(),
                dst: "/srv".into(),
                read_only: false,
                idmap: false,
            })
        );
        assert_eq!(
            Volume::parse_bind("data:/srv:ro"),
            Ok(Volume::Named {
                name: "data".into(),
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
            "data:/srv:idmap",
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
