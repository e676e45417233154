//! Mounts inside the container's mount namespace: the one place that calls mount(2) and the
//! new mount API, with one error format (`cannot mount WHAT on WHERE: REASON`).
//!
//! The order matters: propagation is made private before anything is mounted, so that even
//! when the host's `/` is a shared mount (the systemd default) no mount of ours reaches it.
//! Targets inside a container's root are passed as [`super::rootpath`] handles, so a mount
//! lands on the inode that was resolved inside the root and never on a path a symlink swapped
//! in meanwhile (runc's answer to CVE-2021-30465).

use super::Sys;
use anyhow::Context;
use nix::mount::{MsFlags, mount};
use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

/// Makes `root` (a mount point) the process's `/`: `pivot_root(".", ".")` from inside it,
/// the old root stacked under it and detached at once (runc's way, which needs no directory
/// for the old root), and the working directory the new `/`.
pub fn pivot_into(root: &Path) -> anyhow::Result<()> {
    nix::unistd::chdir(root).with_sys(|| format!("chdir {}", root.display()))?;
    nix::unistd::pivot_root(".", ".").sys("pivot_root")?;
    nix::mount::umount2(".", nix::mount::MntFlags::MNT_DETACH).sys("cannot detach the old root")?;
    nix::unistd::chdir("/").sys("chdir /")
}

/// Where a mount goes: a host path we own, or a handle resolved inside a container's root.
pub enum Target<'a> {
    Path(&'a Path),
    Fd(std::os::fd::BorrowedFd<'a>, &'a Path),
}

impl<'a> Target<'a> {
    /// A handle, named `shown` in errors.
    pub fn fd(fd: &'a impl AsFd, shown: &'a Path) -> Target<'a> {
        Target::Fd(fd.as_fd(), shown)
    }

    /// The path mount(2) is given: the handle's magic link for a handle.
    pub fn mount_path(&self) -> PathBuf {
        match self {
            Target::Path(p) => p.to_path_buf(),
            Target::Fd(fd, _) => PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd())),
        }
    }

    pub fn shown(&self) -> &Path {
        match self {
            Target::Path(p) | Target::Fd(_, p) => p,
        }
    }
}

/// The mount calls the hardening makes, behind a trait: [`Kernel`] makes them; a recorder in
/// the tests lists them, so what is masked, and how, is tested without root.
pub trait Mounter {
    /// What is at `path`: `None` when nothing is, else whether it is a directory.
    fn kind(&self, path: &Path) -> Option<bool>;
    fn mount_on(
        &mut self,
        src: &str,
        target: &Target,
        fstype: Option<&str>,
        flags: MsFlags,
        data: Option<&str>,
    ) -> anyhow::Result<()>;
    fn remount_read_only(&mut self, target: &Target) -> anyhow::Result<()>;
}

/// The kernel: the mounts made.
pub struct Kernel;

impl Mounter for Kernel {
    fn kind(&self, path: &Path) -> Option<bool> {
        std::fs::metadata(path).ok().map(|m| m.is_dir())
    }

    fn mount_on(
        &mut self,
        src: &str,
        target: &Target,
        fstype: Option<&str>,
        flags: MsFlags,
        data: Option<&str>,
    ) -> anyhow::Result<()> {
        mount_on(src, target, fstype, flags, data)
    }

    fn remount_read_only(&mut self, target: &Target) -> anyhow::Result<()> {
        remount_read_only(target)
    }
}

/// mount(2), with the error naming what and where.
pub fn mount_on(
    src: &str,
    target: &Target,
    fstype: Option<&str>,
    flags: MsFlags,
    data: Option<&str>,
) -> anyhow::Result<()> {
    mount(Some(src), &target.mount_path(), fstype, flags, data).with_sys(|| {
        format!(
            "cannot mount {} on {}",
            fstype.unwrap_or(src),
            target.shown().display()
        )
    })
}

/// A bind mount of `source` (a path, or a descriptor's `/proc/self/fd` path) on `target`.
pub fn bind(source: &Path, target: &Target) -> anyhow::Result<()> {
    mount_on(
        &source.to_string_lossy(),
        target,
        None,
        MsFlags::MS_BIND,
        None,
    )
}

/// Makes every mount in this (new) mount namespace private, recursively.
pub fn make_private() -> anyhow::Result<()> {
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .sys("cannot make mounts private")
}

/// Mounts a fresh procfs on `target`, so the container sees only its own PID namespace.
pub fn mount_proc(target: &Target) -> anyhow::Result<()> {
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    mount_on("proc", target, Some("proc"), flags, None)
}

/// Makes the mount at `target` read-only, and nothing else about it (a read-only rootfs, `:ro`
/// volumes, the hardening's read-only paths, the cgroup tree).
pub fn remount_read_only(target: &Target) -> anyhow::Result<()> {
    set_read_only(target, true, false)
}

/// Makes `path` and every mount below it read-only, in one `mount_setattr(AT_RECURSIVE)`.
pub fn read_only_recursive(path: &Path) -> anyhow::Result<()> {
    set_read_only(&Target::Path(path), true, true)
}

/// Makes the mount at `target` writable again, and nothing else about it: a bind mount
/// inherits the read-only flag of the mount it was taken from (a `-v` source on the host's
/// read-only view), and a remount would also clear its `nosuid`, `nodev`, ...
pub fn read_write(target: &Target) -> anyhow::Result<()> {
    set_read_only(target, false, false)
}

/// The kernel's `struct mount_attr`, as `mount_setattr(2)` takes it.
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// `mount_setattr(2)` on `path` from `dirfd` (an empty path with `AT_EMPTY_PATH` names
/// `dirfd` itself): the one call that changes a mount's attributes.
fn mount_setattr(
    dirfd: libc::c_int,
    path: &CString,
    flags: libc::c_uint,
    attr: &MountAttr,
) -> std::io::Result<()> {
    // SAFETY: `path` is NUL-terminated and `attr` a live mount_attr of the size given.
    check(unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            dirfd,
            path.as_ptr(),
            flags,
            attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    })
}

/// `mount_setattr`, setting or clearing `MOUNT_ATTR_RDONLY` alone.
fn set_read_only(target: &Target, read_only: bool, recursive: bool) -> anyhow::Result<()> {
    const MOUNT_ATTR_RDONLY: u64 = 0x1;
    let (attr_set, attr_clr) = if read_only {
        (MOUNT_ATTR_RDONLY, 0)
    } else {
        (0, MOUNT_ATTR_RDONLY)
    };
    let attr = MountAttr {
        attr_set,
        attr_clr,
        propagation: 0,
        userns_fd: 0,
    };
    let flags = if recursive { libc::AT_RECURSIVE } else { 0 } as libc::c_uint;
    let c = CString::new(target.mount_path().as_os_str().as_encoded_bytes())?;
    mount_setattr(libc::AT_FDCWD, &c, flags, &attr).with_context(|| {
        let how = if read_only { "read-only" } else { "writable" };
        format!("cannot make {} {how}", target.shown().display())
    })
}

/// Whether our overlays keep their own attributes (opaque directories, redirects) as
/// `user.overlay.*` (the `userxattr` option) rather than `trusted.overlay.*`: a rootless user's
/// are mounted in their user namespace, where `trusted.*` takes the host's `CAP_SYS_ADMIN`.
/// The user's image store is written for the same namespace ([`opaque_xattr`]).
fn user_xattrs() -> bool {
    crate::state::owner::rootless()
}

/// The attribute that makes a directory of a layer opaque (it hides what the layers below
/// have there), in the namespace [`user_xattrs`] says our overlays read: what the unpacker
/// writes and every reader of a layer or an upper directory checks.
pub fn opaque_xattr() -> &'static str {
    match user_xattrs() {
        false => "trusted.overlay.opaque",
        true => "user.overlay.opaque",
    }
}

/// What an overlay is made of.
#[derive(Clone, Copy)]
pub struct Overlay<'a> {
    /// The read-only layers, top first.
    pub lowers: &'a [PathBuf],
    /// An image store's directory, under which every lower is a short link (see [`overlay`]).
    pub short: Option<&'a Path>,
    pub upper: &'a Path,
    pub work: &'a Path,
    /// A user namespace whose maps the lowers' owners are seen through (idmapped layers,
    /// [`idmapped`]): a container with a user namespace of its own sees its image's files as
    /// its own ids.
    pub idmap: Option<BorrowedFd<'a>>,
}

/// An overlay of `lowers` (read-only, top first) under `upper`, on `target`, built with the
/// new mount API so that each path is one `fsconfig` value: a `:` or `,` in a path can never
/// become another layer or another option, as it would in mount(2)'s option string.
///
/// `lowerdir+` (Linux 6.8) takes one layer per call, unsplit, and no page limit applies.
/// Before it, `lowerdir` splits on `:` unless escaped with `\\`, and kernels before 6.5 join
/// every value into one comma-separated option string of at most a page: a `,` cannot be
/// escaped there, so it is refused, and with `short` (an image store's directory, under which
/// every lower is a short link) the layers are given relative to it, from inside it, so that
/// 100+ layers fit the page as Docker's overlay2 fits them.
pub fn overlay(layers: &Overlay, target: &Path) -> anyhow::Result<()> {
    let Overlay {
        lowers,
        upper,
        work,
        ..
    } = *layers;
    let fail = || format!("cannot mount overlay on {}", target.display());
    let fs = fsopen("overlay").with_context(fail)?;
    if let Some(userns) = layers.idmap {
        // Each layer an idmapped copy of its directory, mounted (overlayfs takes a layer from
        // a mount of the caller's namespace, not a detached one) in the container's private
        // mount namespace beside the upper layer, and given whole (`lowerdir+`, Linux 6.8).
        let dir = upper.with_file_name("lower");
        for (i, lower) in lowers.iter().enumerate() {
            let at = dir.join(i.to_string());
            std::fs::create_dir_all(&at)
                .with_context(|| format!("cannot make {}", at.display()))?;
            bind_idmapped(lower, userns, &at)?;
            fsconfig_string(&fs, "lowerdir+", at.as_os_str().as_encoded_bytes()).with_context(
                || {
                    format!(
                        "cannot give the overlay an idmapped layer (Linux 6.8 takes them): {}",
                        lower.display()
                    )
                },
            )?;
        }
    } else {
        let mut added = 0;
        // MCT_OVERLAY_LEGACY=1 takes the old kernels' path on a new one (the tests use it).
        let legacy = std::env::var_os("MCT_OVERLAY_LEGACY").is_some();
        for lower in lowers.iter().filter(|_| !legacy) {
            if fsconfig_string(&fs, "lowerdir+", lower.as_os_str().as_encoded_bytes()).is_err() {
                break;
            }
            added += 1;
        }
        if added != lowers.len() {
            return overlay_legacy(layers, target);
        }
    }
    if user_xattrs() {
        fsconfig_flag(&fs, "userxattr").with_context(fail)?;
    }
    fsconfig_string(&fs, "upperdir", upper.as_os_str().as_encoded_bytes()).with_context(fail)?;
    fsconfig_string(&fs, "workdir", work.as_os_str().as_encoded_bytes()).with_context(fail)?;
    fsconfig_create(&fs).with_context(fail)?;
    let mnt = fsmount(&fs).with_context(fail)?;
    move_mount(&mnt, target).with_context(fail)
}

/// A copy of the mount of directory `path` (not what is mounted below it), mounted nowhere,
/// through which its files' owners show as user namespace `userns` maps them (an idmapped
/// mount): with `0 H N` a file of uid 0 on disk is H's, and so root's inside the namespace.
pub fn idmapped(path: &Path, userns: BorrowedFd) -> std::io::Result<OwnedFd> {
    let c = CString::new(path.as_os_str().as_encoded_bytes())?;
    idmapped_tree(libc::AT_FDCWD, &c, 0, userns)
}

/// [`idmapped`] of what descriptor `source` names (opened `O_PATH`: a volume's source).
pub fn idmapped_of(source: BorrowedFd, userns: BorrowedFd) -> std::io::Result<OwnedFd> {
    let empty = CString::default();
    idmapped_tree(
        source.as_raw_fd(),
        &empty,
        libc::AT_EMPTY_PATH as libc::c_uint,
        userns,
    )
}

fn idmapped_tree(
    dirfd: libc::c_int,
    path: &CString,
    flags: libc::c_uint,
    userns: BorrowedFd,
) -> std::io::Result<OwnedFd> {
    const OPEN_TREE_CLONE: libc::c_uint = 1;
    const MOUNT_ATTR_IDMAP: u64 = 0x0010_0000;
    // SAFETY: `path` is NUL-terminated; the flags make a detached clone, close-on-exec.
    let tree = syscall_fd(unsafe {
        libc::syscall(
            libc::SYS_open_tree,
            dirfd,
            path.as_ptr(),
            flags | OPEN_TREE_CLONE | libc::O_CLOEXEC as libc::c_uint,
        )
    })?;
    let attr = MountAttr {
        attr_set: MOUNT_ATTR_IDMAP,
        attr_clr: 0,
        propagation: 0,
        userns_fd: userns.as_raw_fd() as u64,
    };
    let empty = CString::default();
    mount_setattr(
        tree.as_raw_fd(),
        &empty,
        libc::AT_EMPTY_PATH as libc::c_uint,
        &attr,
    )?;
    Ok(tree)
}

/// Mounts an idmapped copy of directory `source` ([`idmapped`]) on `target`.
pub fn bind_idmapped(source: &Path, userns: BorrowedFd, target: &Path) -> anyhow::Result<()> {
    let mapped = idmapped(source, userns).with_context(|| {
        format!(
            "cannot map the owners of {} (idmapped mounts need Linux 5.12 and a filesystem that has them)",
            source.display()
        )
    })?;
    move_mount(&mapped, target).with_context(|| format!("cannot mount {}", target.display()))
}

/// An empty read-only tmpfs, mounted nowhere: the descriptor of its root.
pub fn detached_empty_tmpfs() -> std::io::Result<OwnedFd> {
    const MOUNT_ATTR_RDONLY: libc::c_uint = 0x1;
    let fs = fsopen("tmpfs")?;
    fsconfig_string(&fs, "size", b"4k")?;
    fsconfig_create(&fs)?;
    // SAFETY: `fs` is a created fs context; the attribute is fsmount's.
    syscall_fd(unsafe {
        libc::syscall(
            libc::SYS_fsmount,
            fs.as_raw_fd(),
            FSMOUNT_CLOEXEC,
            MOUNT_ATTR_RDONLY,
        )
    })
}

/// A read-only overlay of `lowers` (top first), mounted nowhere: the descriptor of its root,
/// which keeps it alive (as does any file opened through it) and is the only way in.
pub fn read_only_overlay(lowers: &[&Path]) -> std::io::Result<OwnedFd> {
    const MOUNT_ATTR_RDONLY: libc::c_uint = 0x1;
    const MOUNT_ATTR_NOSUID: libc::c_uint = 0x2;
    const MOUNT_ATTR_NODEV: libc::c_uint = 0x4;
    let fs = fsopen("overlay")?;
    for lower in lowers {
        fsconfig_string(&fs, "lowerdir+", lower.as_os_str().as_encoded_bytes())?;
    }
    fsconfig_create(&fs)?;
    let attrs = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
    // SAFETY: `fs` is a created fs context; the attributes are fsmount's.
    syscall_fd(unsafe { libc::syscall(libc::SYS_fsmount, fs.as_raw_fd(), FSMOUNT_CLOEXEC, attrs) })
}

/// Kernels before 6.8: mount(2) with one option page (fsconfig takes at most 256 bytes a
/// value, too few for layers). With `short`, from inside it, each layer by its short link.
fn overlay_legacy(layers: &Overlay, target: &Path) -> anyhow::Result<()> {
    let Overlay {
        lowers,
        short,
        upper,
        work,
        ..
    } = *layers;
    let fail = || format!("cannot mount overlay on {}", target.display());
    let relative = short.filter(|base| lowers.iter().all(|l| l.starts_with(base)));
    let mut data = b"lowerdir=".to_vec();
    for (i, lower) in lowers.iter().enumerate() {
        let shown = match relative {
            Some(base) => lower.strip_prefix(base).unwrap_or(lower),
            None => lower.as_path(),
        };
        let escaped = legacy_lowerdir(shown.as_os_str().as_encoded_bytes()).ok_or_else(|| {
            anyhow::anyhow!(
                "rootfs {}: a ',' in its path needs Linux 6.8 or later (overlayfs lowerdir+)",
                lower.display()
            )
        })?;
        if i > 0 {
            data.push(b':');
        }
        data.extend(escaped);
    }
    for (key, path) in [(",upperdir=", upper), (",workdir=", work)] {
        let bytes = path.as_os_str().as_encoded_bytes();
        if bytes.contains(&b',') || bytes.contains(&b':') {
            anyhow::bail!(
                "{}: the overlay's own directories may not hold ',' or ':'",
                path.display()
            );
        }
        data.extend_from_slice(key.as_bytes());
        data.extend_from_slice(bytes);
    }
    if user_xattrs() {
        data.extend_from_slice(b",userxattr");
    }
    if data.len() >= 4096 {
        anyhow::bail!(
            "{} layers do not fit this kernel's overlayfs options (one page); Linux 6.8 or later takes any number",
            lowers.len()
        );
    }
    let back = std::env::current_dir().unwrap_or_else(|_| "/".into());
    if let Some(base) = relative {
        nix::unistd::chdir(base).with_context(fail)?;
    }
    let data = <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(&data);
    let done = nix::mount::mount(
        Some("overlay"),
        target,
        Some("overlay"),
        MsFlags::empty(),
        Some(data),
    );
    if relative.is_some() {
        let _ = nix::unistd::chdir(&back);
    }
    done.map_err(|e| anyhow::anyhow!("{}: {}", fail(), e.desc()))
}

/// One layer as the old `lowerdir` option takes it: `:` and `\\` escaped with `\\`; `None`
/// when the path holds a `,`, which no escape protects on kernels that join options.
fn legacy_lowerdir(path: &[u8]) -> Option<Vec<u8>> {
    if path.contains(&b',') {
        return None;
    }
    let mut escaped = Vec::with_capacity(path.len());
    for &b in path {
        if b == b':' || b == b'\\' {
            escaped.push(b'\\');
        }
        escaped.push(b);
    }
    Some(escaped)
}

fn syscall_fd(rc: libc::c_long) -> std::io::Result<OwnedFd> {
    if rc < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: the syscall returned a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(rc as i32) })
}

fn check(rc: libc::c_long) -> std::io::Result<()> {
    if rc < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(())
    }
}

fn fsopen(fstype: &str) -> std::io::Result<OwnedFd> {
    let name = CString::new(fstype)?;
    // SAFETY: `name` is NUL-terminated; FSOPEN_CLOEXEC is the only flag.
    syscall_fd(unsafe { libc::syscall(libc::SYS_fsopen, name.as_ptr(), 1 as libc::c_uint) })
}

fn fsconfig_string(fs: &OwnedFd, key: &str, value: &[u8]) -> std::io::Result<()> {
    const FSCONFIG_SET_STRING: libc::c_uint = 1;
    if value.contains(&0) {
        return Err(std::io::Error::from(std::io::ErrorKind::InvalidInput));
    }
    let key = CString::new(key)?;
    let value = CString::new(value)?;
    // SAFETY: `fs` is an fs context descriptor; key and value are NUL-terminated strings.
    check(unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs.as_raw_fd(),
            FSCONFIG_SET_STRING,
            key.as_ptr(),
            value.as_ptr(),
            0,
        )
    })
}

fn fsconfig_flag(fs: &OwnedFd, key: &str) -> std::io::Result<()> {
    const FSCONFIG_SET_FLAG: libc::c_uint = 0;
    let key = CString::new(key)?;
    // SAFETY: `fs` is an fs context descriptor; key is NUL-terminated, a flag takes no value.
    check(unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs.as_raw_fd(),
            FSCONFIG_SET_FLAG,
            key.as_ptr(),
            std::ptr::null::<libc::c_void>(),
            0,
        )
    })
}

fn fsconfig_create(fs: &OwnedFd) -> std::io::Result<()> {
    const FSCONFIG_CMD_CREATE: libc::c_uint = 6;
    // SAFETY: `fs` is an fs context descriptor; CMD_CREATE takes no key or value.
    check(unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs.as_raw_fd(),
            FSCONFIG_CMD_CREATE,
            std::ptr::null::<libc::c_char>(),
            std::ptr::null::<libc::c_void>(),
            0,
        )
    })
}

const FSMOUNT_CLOEXEC: libc::c_uint = 1;

fn fsmount(fs: &OwnedFd) -> std::io::Result<OwnedFd> {
    // SAFETY: `fs` is a created fs context; no attributes.
    syscall_fd(unsafe { libc::syscall(libc::SYS_fsmount, fs.as_raw_fd(), FSMOUNT_CLOEXEC, 0) })
}

/// Attaches detached mount `mnt` on what descriptor `target` names (a handle resolved in a
/// root: no path is walked again).
pub fn move_mount_onto(mnt: &OwnedFd, target: BorrowedFd) -> std::io::Result<()> {
    const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 4;
    const MOVE_MOUNT_T_EMPTY_PATH: libc::c_uint = 0x40;
    // SAFETY: both descriptors are open; the empty paths name them.
    check(unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            mnt.as_raw_fd(),
            c"".as_ptr(),
            target.as_raw_fd(),
            c"".as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH,
        )
    })
}

fn move_mount(mnt: &OwnedFd, target: &Path) -> std::io::Result<()> {
    const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 4;
    let to = CString::new(target.as_os_str().as_encoded_bytes())?;
    // SAFETY: `mnt` is a detached mount; the empty source path names it; `to` is NUL-terminated.
    check(unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            mnt.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_lowerdir_escapes_separators_and_refuses_commas() {
        assert_eq!(legacy_lowerdir(b"/a/b").as_deref(), Some(&b"/a/b"[..]));
        assert_eq!(
            legacy_lowerdir(br"/a:b\c").as_deref(),
            Some(&br"/a\:b\\c"[..])
        );
        assert_eq!(legacy_lowerdir(b"/a,upperdir=/x"), None);
    }
}
