//! The kernel's views in a container: a fresh read-only sysfs, and the container's own cgroups
//! read-only at `/sys/fs/cgroup`.

use super::cgroups;
use super::mounts::{self, Target};
use super::rootpath::{FreshDir, InRoot};
use nix::mount::MsFlags;
use std::path::Path;

/// A fresh read-only sysfs on `sys`, with the container's own cgroups read-only at
/// `/sys/fs/cgroup` (through its cgroup namespace, each hierarchy shows the container's
/// cgroup as its root), so programs that size themselves from their cgroup see their limits.
///
/// Without `fresh`, the sysfs already at `sys` stays: the host's view in the host's network
/// namespace (`--network host`), where a new sysfs would be that same one again, which the
/// kernel refuses on the mount point it is already on.
pub fn mount(root: &InRoot, sys: &Target, shown: &Path, fresh: bool) -> anyhow::Result<()> {
    let ro = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC | MsFlags::MS_RDONLY;
    let hierarchies = cgroups::mounted_hierarchies();
    if fresh {
        mounts::mount_on("sysfs", sys, Some("sysfs"), ro, None)?;
    }
    let cgroup_dir = shown.join("fs/cgroup");
    let Ok(target) = root.plain_dir(&cgroup_dir) else {
        return Ok(());
    };
    if hierarchies.is_empty() {
        return Ok(());
    }
    let rw = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    match hierarchies.as_slice() {
        [(rel, fstype, options)] if rel.as_os_str().is_empty() => {
            let t = Target::fd(&target, &cgroup_dir);
            return mounts::mount_on(fstype, &t, Some(fstype), ro, Some(options));
        }
        _ => {}
    }
    let t = Target::fd(&target, &cgroup_dir);
    mounts::mount_on("tmpfs", &t, Some("tmpfs"), rw, Some("mode=755,size=64k"))?;
    let tree = FreshDir::reopen(root, &cgroup_dir)?;
    for (rel, fstype, options) in &hierarchies {
        let dir = tree.mkdir(&rel.to_string_lossy())?;
        let shown = cgroup_dir.join(rel);
        mounts::mount_on(
            fstype,
            &Target::fd(&dir, &shown),
            Some(fstype),
            ro,
            Some(options),
        )?;
    }
    drop(tree);
    let t = root.plain_dir(&cgroup_dir)?;
    mounts::remount_read_only(&Target::fd(&t, &cgroup_dir))
}
