//! A root filesystem of the container's own: `--rootfs DIR`, entered with `pivot_root`.
//!
//! By default DIR is the read-only lower layer of an overlay whose upper layer lives in the
//! container's state directory (`/run/my-container-tui/<id>`), so one rootfs serves many
//! containers unchanged; `--rootfs-persist` writes to DIR itself and `--read-only` makes `/`
//! read-only. Everything is mounted inside the container's (private) mount namespace, so the
//! host never sees a mount, and the state directory ([`crate::state::tree`]) is removed by the
//! cleaner.

use super::Sys;
use super::mounts::{self, Target};
use super::rootpath::InRoot;
use super::{console, devfs, kernelfs, volumes};
use crate::spec::ContainerSpec;
use crate::spec::rootfs::{Rootfs, Writes};
use nix::mount::MsFlags;
use std::os::fd::BorrowedFd;
use std::path::{Path, PathBuf};

/// Inside the new mount namespace (already private): builds the root at `state/root` from
/// `rootfs`, with the kernel's views, `/dev`, `/etc` files and volumes, and pivots into it.
pub fn enter(
    spec: &ContainerSpec,
    sources: &volumes::Sources,
    rootfs: &Rootfs,
    state: &Path,
    sockets: &[std::path::PathBuf],
    userns: Option<BorrowedFd>,
) -> anyhow::Result<Option<console::Pty>> {
    let root = state.join("root");
    // With a user namespace of its own, its root owns the writable layer's top, and sees the
    // image's files through its maps (idmapped layers), as their own ids.
    if let (Some((uid, gid)), Some(_)) = (spec.userns.root_ids(), userns) {
        nix::unistd::chown(&state.join("upper"), Some(uid.into()), Some(gid.into()))
            .sys("cannot give the writable layer to the container's root")?;
    }
    match (&rootfs.layers, rootfs.mode) {
        (Some(layers), _) => {
            // The store's short links, resolved by the kernel: our own symlinks, not the image's.
            let lowers: Vec<PathBuf> = layers.links.iter().map(|l| layers.base.join(l)).collect();
            mounts::overlay(
                &mounts::Overlay {
                    lowers: &lowers,
                    short: Some(&layers.base),
                    upper: &state.join("upper"),
                    work: &state.join("work"),
                    idmap: userns,
                },
                &root,
            )?
        }
        (None, Writes::Overlay) => mounts::overlay(
            &mounts::Overlay {
                lowers: std::slice::from_ref(&rootfs.dir),
                short: None,
                upper: &state.join("upper"),
                work: &state.join("work"),
                idmap: userns,
            },
            &root,
        )?,
        (None, Writes::Persist | Writes::ReadOnly) => match userns {
            Some(userns) => mounts::bind_idmapped(&rootfs.dir, userns, &root)?,
            None => mounts::mount_on(
                &rootfs.dir.to_string_lossy(),
                &Target::Path(&root),
                None,
                MsFlags::MS_BIND | MsFlags::MS_REC,
                None,
            )?,
        },
    }
    // A root mounted straight from the directory through the maps (`--rootfs-persist`,
    // `--read-only`) gets what we make in it (mount points, `/etc` files, nodes) made as its
    // root: the host's root is no one through an idmapped mount.
    let direct = rootfs.layers.is_none() && rootfs.mode != Writes::Overlay;
    let setup = Setup {
        spec,
        sources,
        rootfs,
        state,
        sockets,
        userns,
    };
    let pty = match (userns.is_some() && direct, spec.userns.root_ids()) {
        (true, Some((uid, gid))) => as_fs_ids(uid, gid, || furnish(&setup, &root))?,
        _ => furnish(&setup, &root)?,
    };
    mounts::pivot_into(&root)?;
    if rootfs.mode == Writes::ReadOnly {
        mounts::remount_read_only(&Target::Path(Path::new("/")))?;
        // The /etc files are mounts of their own, writable unless made read-only too (as
        // Docker and podman make them under --read-only).
        for name in ETC_FILES {
            mounts::remount_read_only(&Target::Path(&Path::new("/etc").join(name)))?;
        }
    }
    Ok(pty)
}

/// What a root is made of and given ([`enter`]'s arguments, for [`furnish`]).
struct Setup<'a> {
    spec: &'a ContainerSpec,
    sources: &'a volumes::Sources,
    rootfs: &'a Rootfs,
    state: &'a Path,
    sockets: &'a [std::path::PathBuf],
    userns: Option<BorrowedFd<'a>>,
}

/// The root at `root`, mounted, given the kernel's views, `/dev`, `/etc` files and volumes.
fn furnish(setup: &Setup, root: &Path) -> anyhow::Result<Option<console::Pty>> {
    // From here on every path is resolved inside the image, as the container will see it.
    let image = InRoot::open(root, Path::new("/"))?;
    let proc = image.plain_dir(Path::new("/proc"))?;
    mounts::mount_proc(&Target::fd(&proc, Path::new("/proc")))?;
    let sys = image.plain_dir(Path::new("/sys"))?;
    kernelfs::mount(
        &image,
        &Target::fd(&sys, Path::new("/sys")),
        Path::new("/sys"),
        true,
    )?;
    let dev = image.plain_dir(Path::new("/dev"))?;
    let pty = devfs::mount(&image, &Target::fd(&dev, Path::new("/dev")), setup.spec)?;
    image.existing_or_new_dir(Path::new("/tmp"))?;
    provide_etc(&image, setup.state)?;
    // A host process's socket inside the rootfs directory shows through (an overlay passes
    // a lower socket on): hidden as the host's are without a rootfs. Volumes, mounted after,
    // bring what they were asked to.
    super::security::mask_host_sockets(&image, &setup.rootfs.dir, setup.sockets)?;
    volumes::mount_all(
        &setup.spec.volumes,
        setup.sources,
        &image,
        volumes::Tree::Image,
        setup.userns,
    )?;
    drop((proc, sys, dev, image));
    Ok(pty)
}

/// Runs `f` with the filesystem ids `uid`, `gid` (what a file made is owned by) and every
/// permitted capability effective (a change of fsuid clears the file ones), then back to root's.
fn as_fs_ids<T>(uid: u32, gid: u32, f: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<T> {
    use caps::CapSet;
    let permitted = caps::read(None, CapSet::Permitted)
        .map_err(|e| anyhow::anyhow!("cannot read the capabilities: {e}"))?;
    nix::unistd::setfsgid(nix::unistd::Gid::from_raw(gid));
    nix::unistd::setfsuid(nix::unistd::Uid::from_raw(uid));
    let raised = caps::set(None, CapSet::Effective, &permitted)
        .map_err(|e| anyhow::anyhow!("cannot set the capabilities: {e}"));
    let out = raised.and_then(|()| f());
    nix::unistd::setfsuid(nix::unistd::Uid::from_raw(0));
    nix::unistd::setfsgid(nix::unistd::Gid::from_raw(0));
    let _ = caps::set(None, CapSet::Effective, &permitted);
    out
}

/// The files of `/etc` a container gets from us.
pub const ETC_FILES: [&str; 3] = ["hostname", "hosts", "resolv.conf"];

/// `/etc/hostname`, `/etc/hosts` and `/etc/resolv.conf`, which the helper wrote in the state
/// directory ([`super::net::attach`]), bound over the image's as Docker does (so a peer's
/// arrival on a user network reaches `/etc/hosts` while the container runs); the mount points
/// made when missing. Every path is resolved inside the image and created with
/// `O_EXCL | O_NOFOLLOW`: an `/etc` that is a symlink leads nowhere outside.
fn provide_etc(image: &InRoot, state: &Path) -> anyhow::Result<()> {
    for name in ETC_FILES {
        let path = Path::new("/etc").join(name);
        let ours = state.join("etc").join(name);
        let target = image.file_on_image(&path)?;
        mounts::bind(&ours, &Target::fd(&target, &path))?;
    }
    Ok(())
}
