//! A bundle's root and `mounts` list, made in the container's (new, private) mount namespace,
//! in the order listed, every destination resolved inside the root ([`InRoot`]): a rootfs
//! whose `/proc` or `/dev` is a symlink to the host's leads nowhere outside.

use super::Bundle;
use crate::runtime::Sys;
use crate::runtime::console;
use crate::runtime::devices;
use crate::runtime::kernelfs;
use crate::runtime::mounts::{self, Target};
use crate::runtime::rootpath::{FreshDir, InRoot};
use anyhow::{Context, anyhow, bail};
use nix::mount::{MsFlags, mount};
use nix::sys::stat::{SFlag, makedev};
use oci_spec::runtime::LinuxDeviceType;
use std::path::{Path, PathBuf};

/// A mount entry's options, split as mount(2) takes them.
#[derive(Debug, PartialEq, Eq)]
pub struct Options {
    pub flags: MsFlags,
    /// Flags to set on the mount after it is made (`ro` on a bind mount takes a remount).
    pub propagation: MsFlags,
    pub bind: bool,
    pub recursive: bool,
    /// Everything else, comma-joined, for the filesystem (`mode=755`, `size=65536k`).
    pub data: String,
}

/// Splits `options` into flags and filesystem data, as runc's `parseMountOptions`.
pub fn parse_options(options: &[String]) -> Options {
    let mut out = Options {
        flags: MsFlags::empty(),
        propagation: MsFlags::empty(),
        bind: false,
        recursive: false,
        data: String::new(),
    };
    let mut data = Vec::new();
    for option in options {
        let (set, flag) = match option.as_str() {
            "ro" => (true, MsFlags::MS_RDONLY),
            "rw" => (false, MsFlags::MS_RDONLY),
            "nosuid" => (true, MsFlags::MS_NOSUID),
            "suid" => (false, MsFlags::MS_NOSUID),
            "nodev" => (true, MsFlags::MS_NODEV),
            "dev" => (false, MsFlags::MS_NODEV),
            "noexec" => (true, MsFlags::MS_NOEXEC),
            "exec" => (false, MsFlags::MS_NOEXEC),
            "sync" => (true, MsFlags::MS_SYNCHRONOUS),
            "async" => (false, MsFlags::MS_SYNCHRONOUS),
            "dirsync" => (true, MsFlags::MS_DIRSYNC),
            "remount" => (true, MsFlags::MS_REMOUNT),
            "mand" => (true, MsFlags::MS_MANDLOCK),
            "nomand" => (false, MsFlags::MS_MANDLOCK),
            "atime" => (false, MsFlags::MS_NOATIME),
            "noatime" => (true, MsFlags::MS_NOATIME),
            "diratime" => (false, MsFlags::MS_NODIRATIME),
            "nodiratime" => (true, MsFlags::MS_NODIRATIME),
            "relatime" => (true, MsFlags::MS_RELATIME),
            "norelatime" => (false, MsFlags::MS_RELATIME),
            "strictatime" => (true, MsFlags::MS_STRICTATIME),
            "nostrictatime" => (false, MsFlags::MS_STRICTATIME),
            "bind" => {
                out.bind = true;
                continue;
            }
            "rbind" => {
                out.bind = true;
                out.recursive = true;
                continue;
            }
            other => {
                if let Some(p) = propagation(other) {
                    out.propagation |= p;
                } else if other != "defaults" {
                    data.push(other.to_string());
                }
                continue;
            }
        };
        if set {
            out.flags |= flag;
        } else {
            out.flags &= !flag;
        }
    }
    out.data = data.join(",");
    out
}

/// A propagation option (`rootfsPropagation` or a mount's) as its flags.
pub fn propagation(name: &str) -> Option<MsFlags> {
    Some(match name {
        "private" => MsFlags::MS_PRIVATE,
        "rprivate" => MsFlags::MS_PRIVATE | MsFlags::MS_REC,
        "shared" => MsFlags::MS_SHARED,
        "rshared" => MsFlags::MS_SHARED | MsFlags::MS_REC,
        "slave" => MsFlags::MS_SLAVE,
        "rslave" => MsFlags::MS_SLAVE | MsFlags::MS_REC,
        "unbindable" => MsFlags::MS_UNBINDABLE,
        "runbindable" => MsFlags::MS_UNBINDABLE | MsFlags::MS_REC,
        _ => return None,
    })
}

/// Builds the root from the bundle and pivots into it. With a terminal, the pty made in the
/// container's devpts comes back (its slave bound at `/dev/console`).
pub fn enter(bundle: &Bundle) -> anyhow::Result<Option<console::Pty>> {
    let linux = bundle.config.linux().as_ref();
    let root_propagation = match linux.and_then(|l| l.rootfs_propagation().as_ref()) {
        Some(name) => Some(
            propagation(name)
                .ok_or_else(|| anyhow!("linux.rootfsPropagation {name:?} is not a propagation"))?,
        ),
        None => None,
    };
    // runc's order. Every mount a slave of the host's (or as rootfsPropagation says): what the
    // host mounts later under a volume's source still reaches the container (Kubernetes'
    // HostToContainer), and nothing mounted here reaches the host unless the bundle asks for
    // shared (Bidirectional, which containerd gives privileged pods alone).
    let initial = root_propagation.unwrap_or(MsFlags::MS_SLAVE | MsFlags::MS_REC);
    mount(None::<&str>, "/", None::<&str>, initial, None::<&str>)
        .sys("cannot set the mounts' propagation")?;
    let root = &bundle.rootfs;
    parent_mount_unshared(root, initial)?;
    // The root as a mount point of its own, so pivot_root takes it.
    mount(
        Some(root),
        root,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .with_sys(|| format!("cannot bind the root {}", root.display()))?;
    let image = InRoot::open(root, Path::new("/"))?;
    let mut dev_is_ours = false;
    let mut pts = false;
    for m in bundle.config.mounts().iter().flatten() {
        let dest = Path::new("/").join(m.destination());
        let kind = m.typ().as_deref().unwrap_or("none");
        let options = parse_options(m.options().as_deref().unwrap_or_default());
        let source = m.source().clone().unwrap_or_else(|| PathBuf::from(kind));
        check_proc_destination(&image, &dest, kind)
            .with_context(|| format!("mounts: {kind} on {}", dest.display()))?;
        let made = if options.bind || kind == "bind" {
            bind(bundle, &image, &source, &dest, &options)
        } else if kind == "cgroup" || kind == "cgroup2" {
            cgroup(&image, &dest, &options)
        } else {
            filesystem(&image, kind, &source, &dest, &options)
        };
        made.with_context(|| format!("mounts: {kind} on {}", dest.display()))?;
        if dest == Path::new("/dev") && kind == "tmpfs" {
            dev_is_ours = true;
        }
        if dest == Path::new("/dev/pts") {
            pts = true;
        }
    }
    let pty = if dev_is_ours {
        populate_dev(bundle, &image, pts)?
    } else {
        None
    };
    drop(image);
    mounts::pivot_into(root)?;
    if bundle.config.root().as_ref().and_then(|r| r.readonly()) == Some(true) {
        mounts::remount_read_only(&Target::Path(Path::new("/")))?;
    }
    // Shared or unbindable asked for the root itself: only now that it is `/` (before, it
    // would have reached the host's namespace through a shared parent). Private and slave
    // were set before anything was mounted.
    if let Some(flags) = root_propagation
        && !flags.intersects(MsFlags::MS_PRIVATE | MsFlags::MS_SLAVE)
    {
        mount(None::<&str>, "/", None::<&str>, flags, None::<&str>)
            .sys("cannot set the root's propagation")?;
    }
    Ok(pty)
}

/// Makes the mount holding `root` private (a slave, when `/` was made one): pivot_root
/// refuses a shared parent, and the root's bind mount would otherwise propagate into the
/// host's namespace. `root` need not be a mount point: the nearest mount above it is.
fn parent_mount_unshared(root: &Path, initial: MsFlags) -> anyhow::Result<()> {
    let flags = match initial.contains(MsFlags::MS_SLAVE) {
        true => MsFlags::MS_SLAVE,
        false => MsFlags::MS_PRIVATE,
    };
    let mut at = root;
    loop {
        match mount(None::<&str>, at, None::<&str>, flags, None::<&str>) {
            Ok(()) => return Ok(()),
            // EINVAL: not a mount point; the one above is tried.
            Err(nix::errno::Errno::EINVAL) if at != Path::new("/") => {
                at = at.parent().unwrap_or(Path::new("/"));
            }
            Err(e) => {
                return Err(e).with_sys(|| {
                    format!("cannot make the mount above {} private", root.display())
                });
            }
        }
    }
}

/// The files of `/proc` a mount may cover (runc's list: what lxcfs provides, and
/// `ns_last_pid` for checkpoint tools); `/proc` itself takes only a proc mount.
const PROC_ALLOWED: [&str; 10] = [
    "/proc/cpuinfo",
    "/proc/diskstats",
    "/proc/meminfo",
    "/proc/stat",
    "/proc/swaps",
    "/proc/uptime",
    "/proc/loadavg",
    "/proc/slabinfo",
    "/proc/net/dev",
    "/proc/sys/kernel/ns_last_pid",
];

/// `dest` with `.` and `..` taken lexically, as the root resolves them.
fn lexical(dest: &Path) -> PathBuf {
    let mut clean = PathBuf::from("/");
    for c in dest.components() {
        match c {
            std::path::Component::ParentDir => {
                clean.pop();
            }
            std::path::Component::Normal(n) => clean.push(n),
            _ => {}
        }
    }
    clean
}

/// Refuses a mount inside `/proc` but for [`PROC_ALLOWED`] (a bind of the host's `/proc/sys`
/// over the container's would hand it the host's sysctls), whether the destination says
/// `/proc` or reaches the container's procfs through a symlink in the root.
fn check_proc_destination(image: &InRoot, dest: &Path, kind: &str) -> anyhow::Result<()> {
    let clean = lexical(dest);
    if clean == Path::new("/proc") {
        return match kind {
            "proc" => Ok(()),
            _ => bail!("/proc may only be mounted as proc"),
        };
    }
    if PROC_ALLOWED.iter().any(|p| clean == Path::new(p)) {
        return Ok(());
    }
    let on_proc = clean.starts_with("/proc")
        || image
            .resolved_fs_type(dest)
            .is_some_and(|t| t == nix::sys::statfs::PROC_SUPER_MAGIC);
    if on_proc {
        bail!(
            "{} cannot be mounted because it is inside /proc",
            dest.display()
        );
    }
    Ok(())
}

/// A bind mount of a host path (relative ones are the bundle's), then the flags asked for,
/// which a bind mount takes only on a remount.
fn bind(
    bundle: &Bundle,
    image: &InRoot,
    source: &Path,
    dest: &Path,
    options: &Options,
) -> anyhow::Result<()> {
    let source = bundle.dir.join(source);
    let meta =
        std::fs::metadata(&source).with_context(|| format!("bind source {}", source.display()))?;
    let target = if meta.is_dir() {
        image.existing_or_new_dir(dest)?
    } else {
        image.file_on_image(dest)?
    };
    let t = Target::fd(&target, dest);
    let mut flags = MsFlags::MS_BIND;
    if options.recursive {
        flags |= MsFlags::MS_REC;
    }
    mounts::mount_on(&source.to_string_lossy(), &t, None, flags, None)?;
    let extra = options.flags & !MsFlags::MS_REMOUNT;
    if !extra.is_empty() {
        let flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | extra;
        let again = image.plain_dir(dest).or_else(|_| image.file(dest))?;
        mounts::mount_on("none", &Target::fd(&again, dest), None, flags, None)?;
    }
    set_propagation(image, dest, options.propagation)
}

/// A filesystem of the kernel's (proc, sysfs, tmpfs, devpts, mqueue).
fn filesystem(
    image: &InRoot,
    kind: &str,
    source: &Path,
    dest: &Path,
    options: &Options,
) -> anyhow::Result<()> {
    if kind == "none" {
        bail!("a mount of type none must be a bind mount");
    }
    let target = image.existing_or_new_dir(dest)?;
    let t = Target::fd(&target, dest);
    let data = (!options.data.is_empty()).then_some(options.data.as_str());
    let made = mounts::mount_on(
        &source.to_string_lossy(),
        &t,
        Some(kind),
        options.flags,
        data,
    );
    match made {
        // sysfs in the runtime's network namespace: the kernel may refuse a second
        // instance; the host's, bound read-only, shows the same.
        Err(_) if kind == "sysfs" => {
            mounts::mount_on("/sys", &t, None, MsFlags::MS_BIND | MsFlags::MS_REC, None)?;
            let again = image.plain_dir(dest)?;
            mounts::read_only_recursive(&Target::fd(&again, dest).mount_path())?;
        }
        other => other?,
    }
    set_propagation(image, dest, options.propagation)
}

/// The container's cgroups, through its cgroup namespace, the same way as our own
/// containers get them ([`kernelfs`]).
fn cgroup(image: &InRoot, dest: &Path, options: &Options) -> anyhow::Result<()> {
    let Some(parent) = dest.parent().and_then(|p| p.parent()) else {
        bail!("a cgroup mount must be at .../fs/cgroup");
    };
    if !dest.ends_with("fs/cgroup") {
        bail!("a cgroup mount must be at .../fs/cgroup");
    }
    image.existing_or_new_dir(dest)?;
    let sys = image.plain_dir(parent)?;
    kernelfs::mount(image, &Target::fd(&sys, parent), parent, false)?;
    if !options.flags.contains(MsFlags::MS_RDONLY) {
        // kernelfs mounts it read-only, as Docker does; a bundle asking rw gets rw.
        let again = image.plain_dir(dest)?;
        mounts::read_write(&Target::fd(&again, dest))?;
    }
    Ok(())
}

fn set_propagation(image: &InRoot, dest: &Path, flags: MsFlags) -> anyhow::Result<()> {
    if flags.is_empty() {
        return Ok(());
    }
    let again = image.plain_dir(dest).or_else(|_| image.file(dest))?;
    let path = Target::fd(&again, dest).mount_path();
    mount(None::<&str>, &path, None::<&str>, flags, None::<&str>)
        .with_sys(|| format!("cannot set the propagation of {}", dest.display()))
}

/// runc's `/dev` on a tmpfs: the default nodes, the config's `linux.devices`, the standard
/// symlinks, and the console.
fn populate_dev(
    bundle: &Bundle,
    image: &InRoot,
    pts: bool,
) -> anyhow::Result<Option<console::Pty>> {
    let dev = FreshDir::reopen(image, Path::new("/dev"))?;
    for (name, major, minor) in devices::NODES {
        dev.mknod(name, false, makedev(major.into(), minor.into()), 0o666)?;
    }
    let linux = bundle.config.linux().as_ref();
    for d in linux
        .and_then(|l| l.devices().as_ref())
        .iter()
        .copied()
        .flatten()
    {
        let Ok(name) = d.path().strip_prefix("/dev") else {
            bail!("linux.devices: {} is not under /dev", d.path().display());
        };
        let kind = match d.typ() {
            LinuxDeviceType::B => SFlag::S_IFBLK,
            LinuxDeviceType::C | LinuxDeviceType::U => SFlag::S_IFCHR,
            LinuxDeviceType::P => SFlag::S_IFIFO,
            other => bail!(
                "linux.devices: {}: type {other:?} is not supported",
                d.path().display()
            ),
        };
        let name = name.to_string_lossy();
        let name = name.trim_start_matches('/');
        if name.is_empty() || name.split('/').any(|p| p == ".." || p == ".") {
            bail!(
                "linux.devices: {} is not a node under /dev",
                d.path().display()
            );
        }
        let mode = d.file_mode().unwrap_or(0o666);
        let rdev = makedev(d.major() as u64, d.minor() as u64);
        // A default node listed again is the same node. A listed ptmx (Kubernetes lists
        // every node of the host's /dev for a privileged container) gives way to the link
        // into the container's own devpts, as in runc: a node 5:2 opens the host's.
        let replaced = pts && name == "ptmx";
        if !replaced && devices::NODES.iter().all(|(n, _, _)| *n != name) {
            dev.make_node(name, kind, rdev, mode)?;
        }
        if !replaced && (d.uid().is_some() || d.gid().is_some()) {
            dev.chown(name, d.uid(), d.gid())?;
        }
    }
    for (name, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        dev.symlink(name, target)?;
    }
    if pts {
        dev.symlink("ptmx", "pts/ptmx")?;
    }
    if !bundle.spec.tty {
        return Ok(None);
    }
    if !pts {
        bail!("process.terminal needs a devpts mount at /dev/pts");
    }
    crate::runtime::devfs::console_pty(&dev).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(list: &[&str]) -> Options {
        parse_options(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn options_split_into_flags_and_data() {
        let o = opts(&["nosuid", "strictatime", "mode=755", "size=65536k"]);
        assert_eq!(o.flags, MsFlags::MS_NOSUID | MsFlags::MS_STRICTATIME);
        assert_eq!(o.data, "mode=755,size=65536k");
        let o = opts(&["rbind", "ro", "rprivate"]);
        assert!(o.bind && o.recursive);
        assert_eq!(o.flags, MsFlags::MS_RDONLY);
        assert_eq!(o.propagation, MsFlags::MS_PRIVATE | MsFlags::MS_REC);
        let o = opts(&["ro", "rw"]);
        assert!(o.flags.is_empty());
    }
}
