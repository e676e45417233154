//! Default hardening, the same defaults Docker, runc and crun publish: Docker's 14 capabilities,
//! `no_new_privs`, a seccomp filter refusing the syscalls a container has no business making,
//! masked and read-only paths under /proc and /sys, and no inherited file descriptor beyond
//! 0, 1 and 2. `--privileged` turns all of it off.

use super::mounts::{self, Target};
use super::process::{Becoming, Caps};
use crate::spec::hardening::{Hardening, parse_cap};
use caps::{CapSet, Capability, CapsHashSet};
use nix::mount::MsFlags;
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule,
};
use std::path::Path;

/// Docker's default capability set.
pub const DEFAULT_CAPS: [Capability; 14] = [
    Capability::CAP_CHOWN,
    Capability::CAP_DAC_OVERRIDE,
    Capability::CAP_FSETID,
    Capability::CAP_FOWNER,
    Capability::CAP_MKNOD,
    Capability::CAP_NET_RAW,
    Capability::CAP_SETGID,
    Capability::CAP_SETUID,
    Capability::CAP_SETFCAP,
    Capability::CAP_SETPCAP,
    Capability::CAP_NET_BIND_SERVICE,
    Capability::CAP_SYS_CHROOT,
    Capability::CAP_KILL,
    Capability::CAP_AUDIT_WRITE,
];

/// Files hidden behind /dev/null, directories behind an empty read-only tmpfs.
pub const MASKED: [&str; 12] = [
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/proc/interrupts",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// Paths that stay visible but read-only.
pub const READ_ONLY: [&str; 5] = [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

impl Hardening {
    /// The capability set the command runs with, by Docker's arithmetic: `--cap-add ALL`
    /// is every capability this process holds, less the dropped ones; `--cap-drop ALL` starts
    /// from nothing and adds the added ones; otherwise the defaults, less the dropped, plus the
    /// added. The order of the flags does not matter.
    pub fn capabilities(&self) -> Result<CapsHashSet, String> {
        let parse = |names: &[String]| -> Result<(bool, CapsHashSet), String> {
            let mut all = false;
            let mut set = CapsHashSet::new();
            for name in names {
                match parse_cap(name)? {
                    Some(cap) => {
                        set.insert(cap);
                    }
                    None => all = true,
                }
            }
            Ok((all, set))
        };
        let (add_all, add) = parse(&self.cap_add)?;
        let (drop_all, drop) = parse(&self.cap_drop)?;
        let set: CapsHashSet = if add_all {
            let held = caps::read(None, CapSet::Bounding).unwrap_or_else(|_| caps::all());
            held.difference(&drop).copied().collect()
        } else if drop_all {
            add
        } else {
            DEFAULT_CAPS
                .into_iter()
                .filter(|c| !drop.contains(c))
                .chain(add)
                .collect()
        };
        Ok(set)
    }
}

/// The paths of the unix sockets bound in this network namespace (the host's, read before
/// the container leaves it), from `/proc/self/net/unix`; abstract ones (which a container in
/// its own network namespace cannot reach) aside.
pub fn host_sockets() -> Vec<std::path::PathBuf> {
    let table = std::fs::read_to_string("/proc/self/net/unix").unwrap_or_default();
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            // Seven fields, then the path (which may hold spaces).
            let mut rest = line.trim_start();
            for _ in 0..7 {
                let end = rest.find(' ')?;
                rest = rest[end..].trim_start();
            }
            rest.starts_with('/')
                .then(|| std::path::PathBuf::from(rest))
        })
        .collect()
}

/// Hides the host's unix sockets that the container's view (`root`, which shows the host's
/// `host_dir`) would show: each behind /dev/null, so `connect(2)` finds no socket there. A
/// read-only mount does not stop a connect, and a socket in the working directory or a home
/// directory (a tmux server's, a database's) would run commands on the host.
pub fn mask_host_sockets<P: AsRef<Path>>(
    root: &super::rootpath::InRoot,
    host_dir: &Path,
    sockets: &[P],
) -> anyhow::Result<()> {
    mask_host_sockets_with(&mut mounts::Kernel, root, host_dir, sockets)
}

/// [`mask_host_sockets`] through `mounter`.
pub fn mask_host_sockets_with<P: AsRef<Path>>(
    mounter: &mut dyn mounts::Mounter,
    root: &super::rootpath::InRoot,
    host_dir: &Path,
    sockets: &[P],
) -> anyhow::Result<()> {
    for socket in sockets {
        let Ok(inside) = socket.as_ref().strip_prefix(host_dir) else {
            continue;
        };
        let inside = Path::new("/").join(inside);
        if let Some(handle) = root.socket(&inside) {
            let target = Target::fd(&handle, &inside);
            mounter.mount_on("/dev/null", &target, None, MsFlags::MS_BIND, None)?;
        }
    }
    Ok(())
}

/// Hides [`MASKED`] and makes [`READ_ONLY`] read-only, in the container's mount namespace
/// (after the root is entered: these are paths of the container's own procfs and sysfs).
pub fn protect_paths() -> anyhow::Result<()> {
    protect(&MASKED, &READ_ONLY)
}

/// Hides `masked` (files behind /dev/null, directories behind an empty read-only tmpfs) and
/// makes `read_only` read-only; paths that do not exist are skipped. An OCI bundle's
/// `maskedPaths` and `readonlyPaths` come here as they are.
pub fn protect(masked: &[&str], read_only: &[&str]) -> anyhow::Result<()> {
    protect_with(&mut mounts::Kernel, masked, read_only)
}

/// [`protect`] through `mounter`.
pub fn protect_with(
    mounter: &mut dyn mounts::Mounter,
    masked: &[&str],
    read_only: &[&str],
) -> anyhow::Result<()> {
    for &path in masked {
        let p = Path::new(path);
        let target = Target::Path(p);
        match mounter.kind(p) {
            None => continue,
            Some(true) => mounter.mount_on(
                "tmpfs",
                &target,
                Some("tmpfs"),
                MsFlags::MS_RDONLY,
                Some("size=0"),
            )?,
            Some(false) => mounter.mount_on("/dev/null", &target, None, MsFlags::MS_BIND, None)?,
        }
    }
    for &path in read_only {
        let p = Path::new(path);
        if mounter.kind(p).is_none() {
            continue;
        }
        let flags = MsFlags::MS_BIND | MsFlags::MS_REC;
        mounter.mount_on(path, &Target::Path(p), None, flags, None)?;
        mounter.remount_read_only(&Target::Path(p))?;
    }
    Ok(())
}

/// What a spec's process becomes: Docker's capabilities (less and plus what the user
/// changed), `no_new_privs` and our seccomp filters, unless `--privileged`; the `-u` user and
/// its groups (none: root, with the caller's groups cleared); runc's umask.
pub fn becoming(
    hardening: &Hardening,
    user: Option<&super::user::User>,
    cwd: std::path::PathBuf,
) -> anyhow::Result<Becoming> {
    let root = user.is_none_or(|u| u.uid.is_root());
    let (caps, no_new_privs, seccomp) = match hardening.privileged {
        true => (None, false, Vec::new()),
        false => {
            let keep = hardening.capabilities().map_err(anyhow::Error::msg)?;
            let seccomp = match hardening.seccomp_unconfined {
                true => Vec::new(),
                false => seccomp_filters()?.to_vec(),
            };
            (
                Some(Caps::docker(keep, root)),
                !hardening.new_privileges,
                seccomp,
            )
        }
    };
    Ok(Becoming {
        rlimits: Vec::new(),
        uid: user.map(|u| u.uid),
        gid: user.map(|u| u.gid),
        groups: user.map(|u| u.groups.clone()).unwrap_or_default(),
        umask: 0o022,
        caps,
        no_new_privs,
        seccomp,
        cwd,
    })
}

/// The resource a `--ulimit` names (one of [`crate::spec::limits::Ulimit::NAMES`]).
pub fn resource(name: &str) -> anyhow::Result<nix::sys::resource::Resource> {
    use nix::sys::resource::Resource;
    Ok(match name {
        "as" => Resource::RLIMIT_AS,
        "core" => Resource::RLIMIT_CORE,
        "cpu" => Resource::RLIMIT_CPU,
        "data" => Resource::RLIMIT_DATA,
        "fsize" => Resource::RLIMIT_FSIZE,
        "locks" => Resource::RLIMIT_LOCKS,
        "memlock" => Resource::RLIMIT_MEMLOCK,
        "msgqueue" => Resource::RLIMIT_MSGQUEUE,
        "nice" => Resource::RLIMIT_NICE,
        "nofile" => Resource::RLIMIT_NOFILE,
        "nproc" => Resource::RLIMIT_NPROC,
        "rss" => Resource::RLIMIT_RSS,
        "rtprio" => Resource::RLIMIT_RTPRIO,
        "rttime" => Resource::RLIMIT_RTTIME,
        "sigpending" => Resource::RLIMIT_SIGPENDING,
        "stack" => Resource::RLIMIT_STACK,
        other => anyhow::bail!("unknown resource limit {other:?}"),
    })
}

/// Syscalls refused with EPERM, as Docker's default profile refuses them.
const REFUSED: &[i64] = &[
    libc::SYS_mount,
    libc::SYS_umount2,
    libc::SYS_pivot_root,
    libc::SYS_kexec_load,
    libc::SYS_kexec_file_load,
    libc::SYS_init_module,
    libc::SYS_finit_module,
    libc::SYS_delete_module,
    libc::SYS_reboot,
    libc::SYS_swapon,
    libc::SYS_swapoff,
    libc::SYS_bpf,
    libc::SYS_perf_event_open,
    libc::SYS_keyctl,
    libc::SYS_add_key,
    libc::SYS_request_key,
    libc::SYS_acct,
    libc::SYS_settimeofday,
    libc::SYS_clock_settime,
    libc::SYS_clock_adjtime,
    libc::SYS_adjtimex,
    libc::SYS_syslog,
    libc::SYS_quotactl,
    libc::SYS_open_by_handle_at,
    libc::SYS_userfaultfd,
    libc::SYS_setns,
    libc::SYS_fsopen,
    libc::SYS_fsconfig,
    libc::SYS_fsmount,
    libc::SYS_fspick,
    libc::SYS_move_mount,
    libc::SYS_open_tree,
    libc::SYS_mount_setattr,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_iopl,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_ioperm,
];

/// The namespace flags `clone` and `unshare` may not be given.
const NAMESPACE_FLAGS: [i32; 8] = [
    libc::CLONE_NEWNS,
    libc::CLONE_NEWUTS,
    libc::CLONE_NEWIPC,
    libc::CLONE_NEWUSER,
    libc::CLONE_NEWPID,
    libc::CLONE_NEWNET,
    libc::CLONE_NEWCGROUP,
    libc::CLONE_NEWTIME,
];

/// The default filters: refuse the syscalls of `REFUSED` and namespace flags to `clone` and `unshare` with
/// EPERM; answer `clone3` with ENOSYS so libc falls back to `clone`, whose flags a filter can
/// see. Two filters, since each has one action for what it matches; the kernel runs both.
pub fn seccomp_filters() -> anyhow::Result<[BpfProgram; 2]> {
    let err = |e: seccompiler::BackendError| anyhow::anyhow!("seccomp filter: {e}");
    let any_ns_flag = || -> anyhow::Result<Vec<SeccompRule>> {
        NAMESPACE_FLAGS
            .iter()
            .map(|&f| {
                let f = f as u64;
                SeccompCondition::new(0, SeccompCmpArgLen::Qword, SeccompCmpOp::MaskedEq(f), f)
                    .and_then(|c| SeccompRule::new(vec![c]))
                    .map_err(err)
            })
            .collect()
    };
    let mut refuse: std::collections::BTreeMap<i64, Vec<SeccompRule>> =
        REFUSED.iter().map(|&nr| (nr, Vec::new())).collect();
    refuse.insert(libc::SYS_unshare, any_ns_flag()?);
    refuse.insert(libc::SYS_clone, any_ns_flag()?);
    let arch = std::env::consts::ARCH
        .try_into()
        .map_err(|_| anyhow::anyhow!("seccomp: unsupported architecture"))?;
    let eperm = SeccompAction::Errno(libc::EPERM as u32);
    let main = SeccompFilter::new(refuse, SeccompAction::Allow, eperm, arch).map_err(err)?;
    let enosys = SeccompAction::Errno(libc::ENOSYS as u32);
    let clone3 = [(libc::SYS_clone3, Vec::new())].into_iter().collect();
    let clone3 = SeccompFilter::new(clone3, SeccompAction::Allow, enosys, arch).map_err(err)?;
    Ok([
        main.try_into().map_err(err)?,
        clone3.try_into().map_err(err)?,
    ])
}

#[cfg(test)]
mod mounter_tests {
    use super::*;
    use mounts::Mounter;

    /// The host as the paths in `dirs` and `files` say, and every mount asked for.
    #[derive(Default)]
    struct Recorder {
        dirs: Vec<&'static str>,
        files: Vec<&'static str>,
        calls: Vec<String>,
    }

    impl Mounter for Recorder {
        fn kind(&self, path: &Path) -> Option<bool> {
            let is = |list: &[&str]| list.iter().any(|p| Path::new(p) == path);
            match (is(&self.dirs), is(&self.files)) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            }
        }

        fn mount_on(
            &mut self,
            src: &str,
            target: &Target,
            fstype: Option<&str>,
            flags: MsFlags,
            data: Option<&str>,
        ) -> anyhow::Result<()> {
            self.calls.push(format!(
                "mount {src} on {} type {} {} {}",
                target.shown().display(),
                fstype.unwrap_or("-"),
                format!("{flags:?}")
                    .trim_start_matches("MsFlags(")
                    .trim_end_matches(')'),
                data.unwrap_or("-")
            ));
            Ok(())
        }

        fn remount_read_only(&mut self, target: &Target) -> anyhow::Result<()> {
            self.calls
                .push(format!("read-only {}", target.shown().display()));
            Ok(())
        }
    }

    /// Directories get an empty read-only tmpfs, files /dev/null, read-only paths a bind
    /// made read-only; what does not exist is skipped, and nothing else is mounted.
    #[test]
    fn protect_masks_and_makes_read_only_what_exists() {
        let mut host = Recorder {
            dirs: vec!["/proc/acpi", "/proc/sys"],
            files: vec!["/proc/kcore"],
            ..Recorder::default()
        };
        protect_with(
            &mut host,
            &["/proc/acpi", "/proc/kcore", "/proc/missing"],
            &["/proc/sys", "/proc/gone"],
        )
        .unwrap();
        assert_eq!(
            host.calls,
            [
                "mount tmpfs on /proc/acpi type tmpfs MS_RDONLY size=0",
                "mount /dev/null on /proc/kcore type - MS_BIND -",
                "mount /proc/sys on /proc/sys type - MS_BIND | MS_REC -",
                "read-only /proc/sys",
            ]
        );
    }

    /// A host socket seen through the root (a rootfs directory's, or the host's `/`) is
    /// covered with /dev/null at its path inside; one outside the root's directory, one no
    /// longer there, or a plain file where the socket was, is left alone.
    #[test]
    fn host_sockets_inside_the_root_are_masked() {
        let dir = std::env::temp_dir().join(format!("mct-mask-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("run")).unwrap();
        let _listener = std::os::unix::net::UnixListener::bind(dir.join("run/app.sock")).unwrap();
        std::fs::write(dir.join("run/not-a-socket"), "").unwrap();
        let root = crate::runtime::rootpath::InRoot::open(&dir, Path::new("/")).unwrap();
        let mut host = Recorder::default();
        let sockets = [
            dir.join("run/app.sock"),
            dir.join("run/not-a-socket"),
            dir.join("run/gone.sock"),
            std::path::PathBuf::from("/elsewhere/x.sock"),
        ];
        mask_host_sockets_with(&mut host, &root, &dir, &sockets).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(
            host.calls,
            ["mount /dev/null on /run/app.sock type - MS_BIND -"]
        );
    }

    /// The default lists: every masked path Docker masks is masked when present.
    #[test]
    fn the_defaults_mask_every_listed_path() {
        let mut host = Recorder {
            files: MASKED.to_vec(),
            dirs: READ_ONLY.to_vec(),
            ..Recorder::default()
        };
        protect_with(&mut host, &MASKED, &READ_ONLY).unwrap();
        for path in MASKED {
            assert!(
                host.calls
                    .contains(&format!("mount /dev/null on {path} type - MS_BIND -")),
                "{path} not masked: {:?}",
                host.calls
            );
        }
        for path in READ_ONLY {
            assert!(host.calls.contains(&format!("read-only {path}")), "{path}");
        }
    }
}
