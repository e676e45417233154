//! An OCI bundle (`config.json` + a root filesystem) as a container to start: what the
//! runc-compatible CLI ([`crate::oci`]) runs.
//!
//! `config.json` is read with the `oci-spec` crate. What it shares with a container of ours
//! (command, environment, working directory, terminal, hostname, root, resource limits) goes
//! into the same [`ContainerSpec`] the rest of the tool uses; what only a bundle says (its
//! namespace list, its mount list, capability sets, rlimits, sysctls, hooks) stays in the parsed
//! config, which [`init`] follows step by step. Anything this runtime cannot do is refused by
//! [`Bundle::load`], naming the field: a runtime that silently skipped a field would run a
//! container other than the one asked for.

pub mod hooks;
pub mod init;
pub mod mounts;
pub mod seccomp;

use crate::spec::ContainerSpec;
use crate::spec::device::{Kind, Rule};
use crate::spec::limits::{CPU_PERIOD_US, Limits};
use crate::spec::rootfs::{Rootfs, Writes};
use anyhow::{Context, anyhow, bail};
use oci_spec::runtime::{LinuxNamespaceType, LinuxResources, Spec};
use std::path::{Path, PathBuf};

/// One bundle, checked and ready to start.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// The bundle directory, absolute.
    pub dir: PathBuf,
    /// The container's root, absolute (`root.path` joined to the bundle when relative).
    pub rootfs: PathBuf,
    /// `config.json` as parsed.
    pub config: Spec,
    /// What the bundle shares with a container of ours.
    pub spec: ContainerSpec,
    /// `linux.cgroupsPath`, relative to each hierarchy's root (`/default/ID` from containerd);
    /// without one, `my-container-tui/ID`.
    pub cgroup: PathBuf,
    /// `linux.resources.devices`, the device controller's rules in order (`None`: no rules).
    pub device_rules: Option<Vec<Rule>>,
}

/// The namespace kinds a bundle may ask for, with the clone flag of each.
pub const NAMESPACES: [(LinuxNamespaceType, nix::sched::CloneFlags); 6] = [
    (
        LinuxNamespaceType::Mount,
        nix::sched::CloneFlags::CLONE_NEWNS,
    ),
    (
        LinuxNamespaceType::Uts,
        nix::sched::CloneFlags::CLONE_NEWUTS,
    ),
    (
        LinuxNamespaceType::Ipc,
        nix::sched::CloneFlags::CLONE_NEWIPC,
    ),
    (
        LinuxNamespaceType::Network,
        nix::sched::CloneFlags::CLONE_NEWNET,
    ),
    (
        LinuxNamespaceType::Cgroup,
        nix::sched::CloneFlags::CLONE_NEWCGROUP,
    ),
    (
        LinuxNamespaceType::Pid,
        nix::sched::CloneFlags::CLONE_NEWPID,
    ),
];

/// The mount types [`mounts`] knows how to make.
pub const MOUNT_TYPES: [&str; 9] = [
    "bind", "proc", "sysfs", "tmpfs", "devpts", "mqueue", "cgroup", "cgroup2", "none",
];

/// Refuses a field that is set, naming it.
fn unsupported(field: &str) -> anyhow::Error {
    anyhow!("config.json: {field} is not supported by this runtime")
}

impl Bundle {
    /// Reads `dir/config.json` for container `id`, and refuses what cannot be run.
    pub fn load(dir: &Path, id: &str) -> anyhow::Result<Bundle> {
        let dir = std::path::absolute(dir).context("bundle path")?;
        let path = dir.join("config.json");
        let text = read_json_file(&path)?;
        let config: Spec = serde_json::from_slice(&text)
            .with_context(|| format!("{}: not a valid OCI runtime config", path.display()))?;
        Bundle::from_config(dir, config, id)
    }

    /// [`Bundle::load`] of an already parsed config.
    pub fn from_config(dir: PathBuf, config: Spec, id: &str) -> anyhow::Result<Bundle> {
        validate_id(id)?;
        check_supported(&config)?;
        let root = config
            .root()
            .as_ref()
            .ok_or_else(|| anyhow!("config.json: root is required"))?;
        let rootfs = dir.join(root.path());
        if !rootfs.is_dir() {
            bail!("root.path {}: not a directory", rootfs.display());
        }
        let process = config
            .process()
            .as_ref()
            .ok_or_else(|| anyhow!("config.json: process is required"))?;
        let command = process.args().clone().unwrap_or_default();
        if command.is_empty() {
            bail!("config.json: process.args must not be empty");
        }
        let cwd = process.cwd().clone();
        if !cwd.is_absolute() {
            bail!("config.json: process.cwd {cwd:?} is not an absolute path");
        }
        let mut spec = ContainerSpec::new(id.to_string(), command, cwd);
        spec.env = process.env().clone().unwrap_or_default();
        spec.tty = process.terminal().unwrap_or(false);
        spec.hostname = config.hostname().clone().unwrap_or_default();
        spec.rootfs = Some(Rootfs {
            dir: rootfs.clone(),
            mode: match root.readonly() {
                Some(true) => Writes::ReadOnly,
                _ => Writes::Persist,
            },
            layers: None,
        });
        let linux = config.linux().as_ref();
        let resources = linux.and_then(|l| l.resources().as_ref());
        spec.limits = resources.map(limits).transpose()?.unwrap_or_default();
        let device_rules = resources
            .map(device_rules)
            .transpose()?
            .flatten()
            .map(|rules| with_defaults(rules, linux));
        let cgroup = match linux.and_then(|l| l.cgroups_path().as_ref()) {
            Some(path) => relative_cgroup(path)?,
            None => Path::new(super::cgroups::PARENT).join(id),
        };
        for kv in &spec.env {
            crate::spec::validate_env(kv).map_err(anyhow::Error::new)?;
        }
        Ok(Bundle {
            dir,
            rootfs,
            config,
            spec,
            cgroup,
            device_rules,
        })
    }

    /// Whether the config asks for a new namespace of `kind` (`Some(None)`), to join one
    /// (`Some(Some(path))`), or neither, keeping the runtime's (`None`).
    pub fn namespace(&self, kind: LinuxNamespaceType) -> Option<Option<PathBuf>> {
        self.config
            .linux()
            .as_ref()?
            .namespaces()
            .as_ref()?
            .iter()
            .find(|ns| ns.typ() == kind)
            .map(|ns| ns.path().clone())
    }
}

/// A config's `linux.uidMappings` and `gidMappings`, as the maps of a user namespace.
pub fn id_maps(linux: &oci_spec::runtime::Linux) -> crate::spec::userns::UserNs {
    use crate::spec::userns::{IdRange, UserNs};
    let ranges = |maps: &Option<Vec<oci_spec::runtime::LinuxIdMapping>>| -> Vec<IdRange> {
        maps.iter()
            .flatten()
            .map(|m| IdRange {
                inside: m.container_id(),
                outside: m.host_id(),
                count: m.size(),
            })
            .collect()
    };
    UserNs::Map {
        uids: ranges(linux.uid_mappings()),
        gids: ranges(linux.gid_mappings()),
    }
}

/// runc's rule for ids: letters, digits, `_`, `+`, `-` and `.`, not `.` or `..`.
pub fn validate_id(id: &str) -> anyhow::Result<()> {
    let ok = !id.is_empty()
        && id != "."
        && id != ".."
        && id.len() <= 1024
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+-.".contains(c));
    if !ok {
        bail!("invalid container id {id:?}: use letters, digits, '_', '+', '-' and '.'");
    }
    Ok(())
}

/// `cgroupsPath` below the roots: absolute paths lose their `/`; `..` is refused (a path
/// outside the hierarchy would move the container into another's cgroup); systemd's
/// `slice:prefix:name` form is refused (no `--systemd-cgroup`).
fn relative_cgroup(path: &Path) -> anyhow::Result<PathBuf> {
    let text = path.to_string_lossy();
    if !text.starts_with('/') && text.split(':').count() == 3 {
        bail!(
            "linux.cgroupsPath {text:?} is a systemd slice path; this runtime drives cgroupfs only (no --systemd-cgroup)"
        );
    }
    let mut rel = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::Normal(p) => rel.push(p),
            std::path::Component::RootDir | std::path::Component::CurDir => {}
            _ => bail!("linux.cgroupsPath {text:?} must not contain '..'"),
        }
    }
    if rel.as_os_str().is_empty() {
        bail!("linux.cgroupsPath {text:?} names the root cgroup");
    }
    Ok(rel)
}

/// `linux.resources` as our limits: memory (limit, swap, reservation, swappiness, kernel TCP,
/// the OOM killer), pids, CPU quota, period, shares and cpuset, huge pages. Anything else set
/// is refused by `check_supported`.
pub fn limits(resources: &LinuxResources) -> anyhow::Result<Limits> {
    let mut limits = Limits::default();
    if let Some(memory) = resources.memory() {
        limits.memory = memory.limit().filter(|&l| l > 0).map(|l| l as u64);
        limits.memory_swap = memory.swap().filter(|&s| s != 0);
        limits.memory_reservation = memory.reservation().filter(|&r| r > 0).map(|r| r as u64);
        limits.memory_swappiness = memory.swappiness();
        limits.kernel_tcp = memory.kernel_tcp().filter(|&k| k > 0).map(|k| k as u64);
        limits.oom_kill_disable = memory.disable_oom_killer().unwrap_or(false);
        // `kernel` is not kept: kernels since 5.16 ignore a kernel memory limit (and 6.1+
        // has no file for it on v2), so runc 1.2 ignores it too (`create` and `update` warn: `oci::verbs::warn_unapplied`).
    }
    for h in resources.hugepage_limits().iter().flatten() {
        limits
            .hugepages
            .push((h.page_size().clone(), h.limit().max(0) as u64));
    }
    if let Some(pids) = resources.pids() {
        limits.pids = (pids.limit() > 0).then_some(pids.limit() as u64);
    }
    if let Some(cpu) = resources.cpu() {
        limits.cpu_shares = cpu.shares().filter(|&s| s > 0);
        limits.cpu_quota_us = cpu.quota().filter(|&q| q > 0).map(|q| q as u64);
        limits.cpu_period_us = cpu.period().filter(|&p| p > 0 && p != CPU_PERIOD_US);
        let list = |l: &Option<String>| l.clone().filter(|l| !l.is_empty());
        limits.cpuset_cpus = list(cpu.cpus());
        limits.cpuset_mems = list(cpu.mems());
    }
    limits
        .validate()
        .map_err(|e| anyhow!("linux.resources: {e}"))?;
    Ok(limits)
}

/// `linux.resources.devices` in order, as the device controller's allow list. A deny rule is
/// only understood first and for everything (`{"allow": false, "access": "rwm"}`, which is
/// what our controller starts from); other deny rules are refused.
fn device_rules(resources: &LinuxResources) -> anyhow::Result<Option<Vec<Rule>>> {
    let Some(list) = resources.devices() else {
        return Ok(None);
    };
    let mut rules = Vec::new();
    for (i, d) in list.iter().enumerate() {
        let kind = match d.typ().map(|t| t.as_str().to_string()).as_deref() {
            None | Some("a") => Kind::All,
            Some("c") => Kind::Char,
            Some("b") => Kind::Block,
            Some(other) => bail!("linux.resources.devices[{i}]: unknown type {other:?}"),
        };
        let access = d.access().clone().unwrap_or_else(|| "rwm".into());
        if !d.allow() {
            let everything = kind == Kind::All && d.major().is_none() && d.minor().is_none();
            if everything && i == 0 {
                continue;
            }
            bail!(
                "linux.resources.devices[{i}]: a deny rule other than the first, for all devices, is not supported"
            );
        }
        let mut bits = 0;
        for c in access.chars() {
            bits |= match c {
                'r' => crate::spec::device::READ,
                'w' => crate::spec::device::WRITE,
                'm' => crate::spec::device::MKNOD,
                _ => bail!("linux.resources.devices[{i}]: unknown access {access:?}"),
            };
        }
        rules.push(Rule {
            kind,
            major: d.major().map(|m| m as u32),
            minor: d.minor().map(|m| m as u32),
            access: bits,
        });
    }
    Ok(Some(rules))
}

/// The bundle's rules, then what runc allows every container (the default nodes, ptys) and
/// the nodes `linux.devices` asks to be made: a node in `/dev` that its own container may not
/// open would be no use.
fn with_defaults(mut rules: Vec<Rule>, linux: Option<&oci_spec::runtime::Linux>) -> Vec<Rule> {
    rules.extend(super::devices::rules(&[]));
    for d in linux
        .and_then(|l| l.devices().as_ref())
        .into_iter()
        .flatten()
    {
        let kind = match d.typ() {
            oci_spec::runtime::LinuxDeviceType::B => Kind::Block,
            oci_spec::runtime::LinuxDeviceType::C | oci_spec::runtime::LinuxDeviceType::U => {
                Kind::Char
            }
            // A FIFO is no device: the controller has no say over it.
            _ => continue,
        };
        rules.push(Rule {
            kind,
            major: Some(d.major() as u32),
            minor: Some(d.minor() as u32),
            access: crate::spec::device::READ
                | crate::spec::device::WRITE
                | crate::spec::device::MKNOD,
        });
    }
    rules
}

/// The most we read of a `config.json` or a `process.json`: real ones are kilobytes (a
/// large seccomp profile, a few hundred); a 200 MiB one would cost a gigabyte to parse.
pub const CONFIG_LIMIT: u64 = 8 << 20;

/// A JSON file of the bundle's, read whole unless larger than [`CONFIG_LIMIT`].
pub fn read_json_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    use std::io::Read;
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(CONFIG_LIMIT + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.len() as u64 > CONFIG_LIMIT {
        bail!(
            "{} is larger than {} MiB",
            path.display(),
            CONFIG_LIMIT >> 20
        );
    }
    Ok(bytes)
}

/// Everything set that this runtime cannot honour, named.
fn check_supported(config: &Spec) -> anyhow::Result<()> {
    if let Some(process) = config.process() {
        if process
            .apparmor_profile()
            .as_ref()
            .is_some_and(|p| !p.is_empty())
        {
            return Err(unsupported("process.apparmorProfile"));
        }
        if process
            .selinux_label()
            .as_ref()
            .is_some_and(|p| !p.is_empty())
        {
            return Err(unsupported("process.selinuxLabel"));
        }
        if process.io_priority().is_some() {
            return Err(unsupported("process.ioPriority"));
        }
        if process.scheduler().is_some() {
            return Err(unsupported("process.scheduler"));
        }
        if process.exec_cpu_affinity().is_some() {
            return Err(unsupported("process.execCPUAffinity"));
        }
        if process.command_line().is_some() {
            return Err(unsupported("process.commandLine (Windows)"));
        }
    }
    if config.solaris().is_some() {
        return Err(unsupported("solaris"));
    }
    if config.windows().is_some() {
        return Err(unsupported("windows"));
    }
    if config.vm().is_some() {
        return Err(unsupported("vm"));
    }
    let hooks = config.hooks().as_ref();
    if hooks.is_some_and(|h| h.create_container().as_ref().is_some_and(|v| !v.is_empty())) {
        return Err(unsupported("hooks.createContainer"));
    }
    for mount in config.mounts().iter().flatten() {
        let kind = mount.typ().as_deref().unwrap_or("none");
        let bind = mount
            .options()
            .iter()
            .flatten()
            .any(|o| o == "bind" || o == "rbind");
        if !bind && !MOUNT_TYPES.contains(&kind) {
            return Err(anyhow!(
                "config.json: mounts: type {kind:?} at {} is not supported by this runtime (supported: {})",
                mount.destination().display(),
                MOUNT_TYPES.join(", ")
            ));
        }
        if mount.uid_mappings().is_some() || mount.gid_mappings().is_some() {
            return Err(unsupported("mounts[].uidMappings (idmapped mounts)"));
        }
    }
    let Some(linux) = config.linux() else {
        return Ok(());
    };
    let some = |v: bool, field: &str| if v { Err(unsupported(field)) } else { Ok(()) };
    let mapped = linux.uid_mappings().as_ref().is_some_and(|m| !m.is_empty())
        || linux.gid_mappings().as_ref().is_some_and(|m| !m.is_empty());
    let user = linux
        .namespaces()
        .iter()
        .flatten()
        .find(|ns| ns.typ() == LinuxNamespaceType::User);
    match (user.map(|ns| ns.path().is_some()), mapped) {
        (None, true) => {
            bail!("config.json: linux.uidMappings need a user namespace in linux.namespaces")
        }
        (Some(true), true) => bail!(
            "config.json: linux.uidMappings are for a new user namespace, not one given by path"
        ),
        (Some(false), false) => {
            bail!("config.json: a new user namespace needs linux.uidMappings and linux.gidMappings")
        }
        (Some(false), true) => id_maps(linux)
            .check()
            .map_err(|e| anyhow!("config.json: linux.uidMappings: {e}"))?,
        _ => {}
    }
    some(linux.intel_rdt().is_some(), "linux.intelRdt")?;
    some(linux.personality().is_some(), "linux.personality")?;
    some(linux.time_offsets().is_some(), "linux.timeOffsets")?;
    some(linux.memory_policy().is_some(), "linux.memoryPolicy")?;
    some(linux.net_devices().is_some(), "linux.netDevices")?;
    some(
        linux.mount_label().as_ref().is_some_and(|l| !l.is_empty()),
        "linux.mountLabel (SELinux)",
    )?;
    for ns in linux.namespaces().iter().flatten() {
        if ns.typ() != LinuxNamespaceType::User
            && !NAMESPACES.iter().any(|(kind, _)| *kind == ns.typ())
        {
            return Err(anyhow!(
                "config.json: linux.namespaces: a {} namespace is not supported by this runtime",
                serde_json::to_value(ns.typ())
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default()
            ));
        }
    }
    let has_uts = linux
        .namespaces()
        .iter()
        .flatten()
        .any(|ns| ns.typ() == LinuxNamespaceType::Uts);
    if config.hostname().as_ref().is_some_and(|h| !h.is_empty()) && !has_uts {
        bail!("config.json: hostname needs a uts namespace of the container's own");
    }
    if let Some(r) = linux.resources() {
        some(r.block_io().is_some(), "linux.resources.blockIO")?;
        some(r.network().is_some(), "linux.resources.network")?;
        some(
            r.rdma().as_ref().is_some_and(|h| !h.is_empty()),
            "linux.resources.rdma",
        )?;
        some(
            r.unified().as_ref().is_some_and(|h| !h.is_empty()),
            "linux.resources.unified",
        )?;
        if let Some(cpu) = r.cpu() {
            some(
                cpu.realtime_runtime().is_some(),
                "linux.resources.cpu.realtimeRuntime",
            )?;
            some(
                cpu.realtime_period().is_some(),
                "linux.resources.cpu.realtimePeriod",
            )?;
            some(cpu.idle().is_some(), "linux.resources.cpu.idle")?;
        }
    }
    if let Some(seccomp) = linux.seccomp() {
        seccomp::check(seccomp)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroup_paths() {
        assert_eq!(
            relative_cgroup(Path::new("/default/t1")).unwrap(),
            Path::new("default/t1")
        );
        assert_eq!(relative_cgroup(Path::new("a/b")).unwrap(), Path::new("a/b"));
        assert!(relative_cgroup(Path::new("/a/../../b")).is_err());
        assert!(relative_cgroup(Path::new("system.slice:docker:abc")).is_err());
        assert!(relative_cgroup(Path::new("/")).is_err());
    }

    #[test]
    fn ids() {
        for good in ["t1", "a.b-c_d+e", &"x".repeat(64)] {
            assert!(validate_id(good).is_ok(), "{good}");
        }
        for bad in ["", ".", "..", "a/b", "a b", "é"] {
            assert!(validate_id(bad).is_err(), "{bad}");
        }
    }

    fn config(extra: serde_json::Value) -> Spec {
        let mut base = serde_json::json!({
            "ociVersion": "1.0.2",
            "process": {"user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "/"},
            "root": {"path": "rootfs"},
            "linux": {"namespaces": [{"type": "mount"}, {"type": "pid"}]},
        });
        merge(&mut base, extra);
        serde_json::from_value(base).unwrap()
    }

    fn merge(base: &mut serde_json::Value, extra: serde_json::Value) {
        match (base, extra) {
            (serde_json::Value::Object(b), serde_json::Value::Object(e)) => {
                for (k, v) in e {
                    merge(b.entry(k).or_insert(serde_json::Value::Null), v);
                }
            }
            (b, e) => *b = e,
        }
    }

    fn error(extra: serde_json::Value) -> String {
        format!("{:#}", check_supported(&config(extra)).unwrap_err())
    }

    #[test]
    fn refusals_name_the_field() {
        let e = error(serde_json::json!({"process": {"apparmorProfile": "x"}}));
        assert!(e.contains("process.apparmorProfile"), "{e}");
        let e = error(
            serde_json::json!({"linux": {"uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}]}}),
        );
        assert!(e.contains("linux.uidMappings"), "{e}");
        let e = error(serde_json::json!({"linux": {"namespaces": [{"type": "user"}]}}));
        assert!(e.contains("user"), "{e}");
        let e = error(
            serde_json::json!({"mounts": [{"destination": "/x", "type": "nfs", "source": "h:/x"}]}),
        );
        assert!(e.contains("\"nfs\""), "{e}");
        let e = error(serde_json::json!({"linux": {"resources": {"blockIO": {"weight": 10}}}}));
        assert!(e.contains("linux.resources.blockIO"), "{e}");
        let e = error(serde_json::json!({"hostname": "h"}));
        assert!(e.contains("uts"), "{e}");
        assert!(check_supported(&config(serde_json::json!({}))).is_ok());
    }

    #[test]
    fn resources_become_limits() {
        let c = config(serde_json::json!({"linux": {"resources": {
            "memory": {"limit": 67108864},
            "pids": {"limit": 50},
            "cpu": {"quota": 50000, "period": 200000, "shares": 512},
        }}}));
        let l = limits(c.linux().as_ref().unwrap().resources().as_ref().unwrap()).unwrap();
        assert_eq!(l.memory, Some(64 << 20));
        assert_eq!(l.pids, Some(50));
        assert_eq!(l.cpu_quota_us, Some(50_000));
        assert_eq!(l.cpu_period_us, Some(200_000));
        assert_eq!(l.cpu_shares, Some(512));
    }
}
