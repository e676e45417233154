//! The container's `/dev`: a small tmpfs with the default nodes and the `--device` ones, a
//! private devpts (none of the host's terminals in it), shm, mqueue, and the console.

use super::mounts::{self, Target};
use super::rootpath::{FreshDir, InRoot};
use super::{console, devices};
use crate::spec::ContainerSpec;
use nix::mount::MsFlags;
use nix::sys::stat::makedev;
use std::path::Path;

/// A small tmpfs `/dev` with the default nodes and the `--device` ones, a private devpts,
/// shm, mqueue and, with a tty, the container's terminal: a pty of the new devpts, returned,
/// its slave bound at `/dev/console` as well.
pub fn mount(
    root: &InRoot,
    dev: &Target,
    spec: &ContainerSpec,
) -> anyhow::Result<Option<console::Pty>> {
    let nosuid = MsFlags::MS_NOSUID;
    let hidden = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    // Its own root's, with a user namespace of its own (else no one's there).
    let owner = spec.userns.owner_options();
    mounts::mount_on(
        "tmpfs",
        dev,
        Some("tmpfs"),
        nosuid | MsFlags::MS_STRICTATIME,
        Some(&format!("mode=755,size=65536k{owner}")),
    )?;
    // The tmpfs just mounted, as a root of its own: nothing in it comes from the image.
    let dev = FreshDir::reopen(root, Path::new("/dev"))?;
    // Rootless, no node can be made (the kernel refuses mknod in a user namespace): the
    // host's own are bound, which the user may open on the host anyway.
    let bound = crate::state::owner::rootless();
    for (name, major, minor) in devices::NODES {
        match bound {
            true => bind_host_node(&dev, name, &Path::new("/dev").join(name))?,
            false => dev.mknod(name, false, makedev(major.into(), minor.into()), 0o666)?,
        }
    }
    for device in &spec.devices {
        // Under /dev, as `Device::parse` made sure.
        let at = device
            .container
            .strip_prefix("/dev")
            .unwrap_or(&device.container)
            .to_string_lossy();
        if bound {
            bind_host_node(&dev, &at, &device.host)?;
            continue;
        }
        let rdev = makedev(
            device.rule.major.unwrap_or(0).into(),
            device.rule.minor.unwrap_or(0).into(),
        );
        dev.mknod(
            &at,
            device.rule.kind == crate::spec::device::Kind::Block,
            rdev,
            device.mode,
        )?;
    }
    // Each in a directory of its own: (directory, source, type, flags, options).
    let private = MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC;
    // New ptys are its root's, and the tty group's as a pty's group is (5 inside).
    let pts_owner = spec.userns.root_ids().map_or(String::new(), |(uid, gid)| {
        format!(",uid={uid},gid={}", gid + 5)
    });
    let pts_options = format!("newinstance,ptmxmode=0666,mode=0620{pts_owner}");
    let shm_options = format!(
        "mode=1777,size={}k{owner}",
        spec.shm_size.unwrap_or(64 << 20) / 1024
    );
    #[rustfmt::skip]
    let filesystems = [
        ("pts",    "devpts", "devpts", private, Some(pts_options.as_str())),
        ("shm",    "shm",    "tmpfs",  hidden,  Some(shm_options.as_str())),
        ("mqueue", "mqueue", "mqueue", hidden,  None),
    ];
    for (name, source, fstype, flags, options) in filesystems {
        let dir = dev.mkdir(name)?;
        let at = Path::new("/dev").join(name);
        mounts::mount_on(source, &Target::fd(&dir, &at), Some(fstype), flags, options)?;
    }
    for (name, target) in [
        ("ptmx", "pts/ptmx"),
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        dev.symlink(name, target)?;
    }
    if !spec.tty {
        return Ok(None);
    }
    console_pty(&dev).map(Some)
}

/// The host's device node `host` bound over a new empty file `name` in the fresh `/dev`.
fn bind_host_node(dev: &FreshDir, name: &str, host: &Path) -> anyhow::Result<()> {
    let target = dev.file(name)?;
    let at = Path::new("/dev").join(name);
    mounts::mount_on(
        &host.to_string_lossy(),
        &Target::fd(&target, &at),
        None,
        MsFlags::MS_BIND,
        None,
    )
}

/// A pty of the devpts mounted at `pts` in the fresh `/dev`, its slave bound at
/// `/dev/console`, as runc makes a container's console.
pub fn console_pty(dev: &FreshDir) -> anyhow::Result<console::Pty> {
    // The devpts just mounted over `pts` (the handle still names the directory under it).
    let pty = console::open_in(&dev.open("pts")?)?;
    let target = dev.file("console")?;
    let at = Path::new("/dev/console");
    let src = Target::fd(&pty.slave, at).mount_path();
    mounts::mount_on(
        &src.to_string_lossy(),
        &Target::fd(&target, at),
        None,
        MsFlags::MS_BIND,
        None,
    )?;
    Ok(pty)
}
