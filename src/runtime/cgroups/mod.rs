//! Control groups: one per container, under a parent of our own (`my-container-tui/<id>`), on
//! cgroup v2, v1 and hybrid hosts alike.
//!
//! | layout | controllers used, each in its own hierarchy on v1 |
//! |---|---|
//! | v2 (unified) | memory, pids, cpu: `memory.max`, `memory.swap.max`, `pids.max`, `cpu.max`, `cpu.weight`; devices by a BPF program |
//! | v1 or hybrid | memory, pids, cpu, cpuacct, devices: `memory.limit_in_bytes`, `memory.memsw.limit_in_bytes`, `pids.max`, `cpu.cfs_quota_us`, `cpu.shares`, `devices.deny`/`devices.allow` |
//!
//! What differs between the two is said once, in `v1.rs` and `v2.rs`, behind one trait.
//! A hybrid host (v1 controllers plus a cgroup2 mount that holds none of ours) is driven as v1.
//! The container's init joins its cgroup before it creates its namespaces, so every process of
//! the container is inside from its first instruction; a cleaner process removes the cgroup
//! when the helper is gone (exited or killed), and cgroups left by a crash are removed at the
//! next start.

mod v1;
mod v2;

use crate::spec::device::Rule;
use crate::spec::limits::Limits;
use anyhow::{Context, anyhow, bail};
use std::path::{Path, PathBuf};

/// Set to `1` to use a hybrid host's cgroup2 mount rather than its v1 hierarchies.
pub const UNIFIED_VAR: &str = "MY_CONTAINER_TUI_CGROUP_UNIFIED";

/// Our parent cgroup, in each hierarchy.
pub const PARENT: &str = "my-container-tui";

/// A controller we use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Controller {
    Memory,
    Pids,
    Cpu,
    CpuAcct,
    /// v1 only: on v2 device access is a BPF program attached to the cgroup.
    Devices,
    /// Pausing (`oci pause`): v1's freezer hierarchy, v2's `cgroup.freeze`.
    Freezer,
    /// CPUs and memory nodes (an OCI bundle's `linux.resources.cpu.cpus` and `mems`).
    Cpuset,
    /// Huge pages (an OCI bundle's `hugepageLimits`).
    Hugetlb,
}

/// Where the host keeps its cgroups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    /// One unified hierarchy for every controller.
    V2 { root: PathBuf },
    /// A hierarchy per controller (two may share one, e.g. `cpu,cpuacct`).
    V1 {
        hierarchies: Vec<(Vec<Controller>, PathBuf)>,
    },
}

impl Layout {
    /// Reads the layout from this process's mount table. On a hybrid host,
    /// [`UNIFIED_VAR`]`=1` drives the cgroup2 mount instead of the v1 hierarchies (without
    /// controllers there, only devices and joining work, so no limits).
    pub fn detect() -> anyhow::Result<Layout> {
        let table = std::fs::read_to_string("/proc/self/mountinfo")
            .context("cannot read the mount table")?;
        if std::env::var_os(UNIFIED_VAR).is_some_and(|v| v == "1") {
            let root = cgroup_mounts(&table).find(|m| m.v2).ok_or_else(|| {
                anyhow!("{UNIFIED_VAR}=1, but this host mounts no cgroup2 filesystem")
            })?;
            return Ok(Layout::V2 {
                root: root.point.into(),
            });
        }
        Layout::from_mountinfo(&table)
    }

    /// The layout a mount table describes: v1 if any of our controllers is on a v1 hierarchy,
    /// else v2 if cgroup2 is mounted.
    pub fn from_mountinfo(table: &str) -> anyhow::Result<Layout> {
        let mut hierarchies: Vec<(Vec<Controller>, PathBuf)> = Vec::new();
        let mut unified = None;
        for mount in cgroup_mounts(table) {
            if mount.v2 {
                unified.get_or_insert_with(|| PathBuf::from(mount.point));
                continue;
            }
            let controllers: Vec<Controller> = mount
                .options
                .split(',')
                .filter_map(|o| match o {
                    "memory" => Some(Controller::Memory),
                    "pids" => Some(Controller::Pids),
                    "cpu" => Some(Controller::Cpu),
                    "cpuacct" => Some(Controller::CpuAcct),
                    "devices" => Some(Controller::Devices),
                    "freezer" => Some(Controller::Freezer),
                    "cpuset" => Some(Controller::Cpuset),
                    "hugetlb" => Some(Controller::Hugetlb),
                    _ => None,
                })
                .collect();
            let seen = hierarchies.iter().any(|(_, p)| p == Path::new(mount.point));
            if !controllers.is_empty() && !seen {
                hierarchies.push((controllers, PathBuf::from(mount.point)));
            }
        }
        match (hierarchies.is_empty(), unified) {
            (false, _) => Ok(Layout::V1 { hierarchies }),
            (true, Some(root)) => Ok(Layout::V2 { root }),
            (true, None) => {
                bail!(
                    "no cgroup filesystem is mounted (cgroup v1 or v2 is needed for resource limits)"
                )
            }
        }
    }

    /// `v2`, or `v1` (which covers hybrid hosts).
    pub fn name(&self) -> &'static str {
        match self {
            Layout::V2 { .. } => "v2",
            Layout::V1 { .. } => "v1",
        }
    }

    fn roots(&self) -> Vec<(Vec<Controller>, PathBuf)> {
        match self {
            Layout::V2 { root } => vec![(
                vec![
                    Controller::Memory,
                    Controller::Pids,
                    Controller::Cpu,
                    Controller::CpuAcct,
                    Controller::Devices,
                    Controller::Freezer,
                    Controller::Cpuset,
                    Controller::Hugetlb,
                ],
                root.clone(),
            )],
            Layout::V1 { hierarchies } => hierarchies.clone(),
        }
    }
}

/// What a container is using now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// CPU time used so far, in nanoseconds.
    pub cpu_ns: Option<u64>,
    pub memory: Option<u64>,
    pub memory_limit: Option<u64>,
    pub pids: Option<u64>,
}

/// One container's cgroup: a directory in each hierarchy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cgroup {
    layout: Layout,
    dirs: Vec<(Vec<Controller>, PathBuf)>,
    /// The ancestors its creation made (an OCI `cgroupsPath` several levels below a root),
    /// deepest first: removed with it where empty. An ancestor that was there (a kubelet's
    /// pod cgroup, containerd's namespace) is never removed.
    made: Vec<PathBuf>,
}

/// What differs between cgroup v1 and v2: which file holds what, and how a value is spelled
/// there. One implementation in `v1.rs`, one in `v2.rs`; [`Cgroup`] says everything else once.
trait Version: std::fmt::Debug + Sync {
    /// Before a container's directory is made at `root/rel` (v2 makes the ancestors and
    /// delegates controllers down to them: memory, pids, cpu, and the `extra` ones asked).
    fn prepare(&self, _root: &Path, _rel: &Path, _extra: &[&str]) {}
    /// Memory limit and memory plus swap (`-1`: unlimited swap), both in bytes.
    fn memory(&self, dir: &Path, memory: u64, swap_total: i64) -> anyhow::Result<()>;
    /// The soft limit the kernel reclaims toward under pressure (`--memory-reservation`).
    fn memory_reservation(&self, dir: &Path, bytes: u64) -> anyhow::Result<()>;
    /// CPU quota per period, both in microseconds.
    fn cpu_quota(&self, dir: &Path, quota_us: u64, period_us: u64) -> anyhow::Result<()>;
    /// The limit of huge pages of `size` (`2MB`), in bytes.
    fn hugetlb(&self, dir: &Path, size: &str, bytes: u64) -> anyhow::Result<()>;
    /// The cpuset: CPUs and memory nodes, each left as it is when `None`.
    fn cpuset(&self, dir: &Path, cpus: Option<&str>, mems: Option<&str>) -> anyhow::Result<()>;
    /// Docker's `--cpu-shares`.
    fn cpu_shares(&self, dir: &Path, shares: u64) -> anyhow::Result<()>;
    /// Device access: nothing but `rules`.
    fn devices(&self, dir: &Path, rules: &[Rule]) -> anyhow::Result<()>;
    /// OOM kills so far, from the memory controller's directory.
    fn oom_kills(&self, memory: &Path) -> Option<u64>;
    /// CPU time, memory and processes now.
    fn usage(&self, cg: &Cgroup) -> Usage;
    /// Freezes (or thaws) every process in the freezer's directory.
    fn freeze(&self, dir: &Path, frozen: bool) -> anyhow::Result<()>;
    /// Whether the directory's processes are frozen now.
    fn frozen(&self, dir: &Path) -> bool;
}

use crate::state::kernfile;

pub(super) fn write(path: &Path, value: &str) -> anyhow::Result<()> {
    std::fs::write(path, value)
        .with_context(|| format!("cannot write {value:?} to {}", path.display()))
}

pub(super) fn read_u64(path: &Path) -> Option<u64> {
    kernfile::read(path).ok()?.trim().parse().ok()
}

/// The number after `key` in a flat keyed file such as `memory.events`.
pub(super) fn keyed(path: &Path, key: &str) -> Option<u64> {
    kernfile::read(path)
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(' ')?.trim().parse().ok())
}

impl Cgroup {
    /// The cgroup named `id`, whether or not it exists.
    pub fn at(layout: &Layout, id: &str) -> Cgroup {
        Cgroup::at_path(layout, &Path::new(PARENT).join(id))
    }

    /// The cgroup at `rel` below each hierarchy's root (an OCI bundle's `cgroupsPath`), whether
    /// or not it exists. `rel` must be a plain relative path (see `relative_path`).
    pub fn at_path(layout: &Layout, rel: &Path) -> Cgroup {
        Cgroup {
            layout: layout.clone(),
            dirs: layout
                .roots()
                .into_iter()
                .map(|(c, root)| (c, root.join(rel)))
                .collect(),
            made: Vec::new(),
        }
    }

    /// The same cgroup, knowing the ancestors its creation made ([`Cgroup::made`], as kept
    /// in a record), to remove them with it.
    pub fn with_made(mut self, made: Vec<PathBuf>) -> Cgroup {
        self.made = made;
        self
    }

    /// The ancestors [`Cgroup::create_at`] made, deepest first.
    pub fn made(&self) -> &[PathBuf] {
        &self.made
    }

    /// Creates the cgroup named `id` (and our parent, when missing) in the hierarchies that
    /// `limits` and the usage figures need: memory, pids and cpuacct always, cpu for CPU limits,
    /// devices when `devices` restricts device access. Each hierarchy costs a mkdir, an attach
    /// and an rmdir per container on v1 hosts.
    pub fn create(
        layout: &Layout,
        id: &str,
        limits: &Limits,
        devices: Option<&[Rule]>,
    ) -> anyhow::Result<Cgroup> {
        let rel = Path::new(PARENT).join(id);
        Cgroup::create_at(layout, &rel, limits, devices, false)
    }

    /// [`Cgroup::create`] at `rel` below the roots, with the freezer too when `freezer` (an
    /// OCI container, which `pause` may freeze), and every missing ancestor made.
    pub fn create_at(
        layout: &Layout,
        rel: &Path,
        limits: &Limits,
        devices: Option<&[Rule]>,
        freezer: bool,
    ) -> anyhow::Result<Cgroup> {
        let cpu = limits.cpu_quota_us.is_some() || limits.cpu_shares.is_some();
        let mut cgroup = Cgroup::at_path(layout, rel);
        let wanted = |c: &Controller| match c {
            Controller::Cpu => cpu,
            Controller::Devices => devices.is_some(),
            Controller::Freezer => freezer,
            Controller::Cpuset => limits.cpuset(),
            Controller::Hugetlb => !limits.hugepages.is_empty(),
            _ => true,
        };
        cgroup
            .dirs
            .retain(|(controllers, _)| controllers.iter().any(wanted));
        let extra: Vec<&str> = [
            ("cpuset", limits.cpuset()),
            ("hugetlb", !limits.hugepages.is_empty()),
        ]
        .iter()
        .filter(|(_, asked)| *asked)
        .map(|(name, _)| *name)
        .collect();
        // The ancestors missing now are those this creation makes (v2's `prepare` makes its
        // own first), so that they alone go with the cgroup.
        let mut ancestors_made = Vec::new();
        let note_missing = |dir: &Path, made: &mut Vec<PathBuf>| {
            for ancestor in dir.parent().into_iter().flat_map(Path::ancestors) {
                if ancestor.exists() {
                    break;
                }
                if !made.iter().any(|m| m == ancestor) {
                    made.push(ancestor.to_path_buf());
                }
            }
        };
        for (_, root) in layout.roots() {
            note_missing(&root.join(rel), &mut ancestors_made);
            cgroup.version().prepare(&root, rel, &extra);
        }
        for (_, dir) in &cgroup.dirs {
            // Another container's clean-up may remove our parent between the two mkdirs.
            let mut made = Err(std::io::Error::from(std::io::ErrorKind::NotFound));
            for _ in 0..3 {
                if let Some(parent) = dir.parent() {
                    note_missing(dir, &mut ancestors_made);
                    let _ = std::fs::create_dir_all(parent);
                }
                made = std::fs::create_dir(dir);
                if !matches!(&made, Err(e) if e.kind() == std::io::ErrorKind::NotFound) {
                    break;
                }
            }
            if let Err(e) = made {
                cgroup.made = ancestors_made;
                let _ = cgroup.remove();
                return Err(e).with_context(|| format!("cannot create cgroup {}", dir.display()));
            }
        }
        // Deepest first, as they are removed.
        ancestors_made.sort_by_key(|a| std::cmp::Reverse(a.components().count()));
        cgroup.made = ancestors_made;
        if let Some(rules) = devices {
            let applied = match cgroup.dir(Controller::Devices) {
                Some(dir) => cgroup.version().devices(dir, rules),
                None => Err(anyhow!(
                    "this host mounts no devices cgroup controller to restrict device access (--privileged runs without)"
                )),
            };
            if let Err(e) = applied {
                let _ = cgroup.remove();
                return Err(e);
            }
        }
        Ok(cgroup)
    }

    /// The host's layout this cgroup lives in.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    pub(super) fn dir(&self, controller: Controller) -> Option<&Path> {
        self.dirs
            .iter()
            .find(|(c, _)| c.contains(&controller))
            .map(|(_, d)| d.as_path())
    }

    /// The file layout of this cgroup's host.
    fn version(&self) -> &'static dyn Version {
        match self.layout {
            Layout::V2 { .. } => &v2::V2,
            Layout::V1 { .. } => &v1::V1,
        }
    }

    /// Writes the limits into the controllers' files.
    pub fn apply(&self, limits: &Limits) -> anyhow::Result<()> {
        let need = |c: Controller, what: &str| {
            self.dir(c).ok_or_else(|| {
                anyhow!("{what} needs the {c:?} cgroup controller, which this host does not mount")
            })
        };
        let version = self.version();
        if let Some(memory) = limits.memory {
            // Docker's default when only --memory is given: as much swap as memory.
            let swap_total = limits.memory_swap.unwrap_or(2 * memory as i64);
            version.memory(need(Controller::Memory, "--memory")?, memory, swap_total)?;
        }
        if let Some(bytes) = limits.memory_reservation {
            let dir = need(Controller::Memory, "--memory-reservation")?;
            version.memory_reservation(dir, bytes)?;
        }
        // Settings only cgroup v1's memory controller has: where it has no file for one,
        // left, as runc leaves them on v2 ([`Cgroup::unapplied`] says which).
        for (file, what, value) in v1_memory(limits) {
            let Some(value) = value else { continue };
            let path = need(Controller::Memory, what)?.join(file);
            if path.exists() {
                write(&path, &value)?;
            }
        }
        if let Some(pids) = limits.pids {
            let dir = need(Controller::Pids, "--pids-limit")?;
            write(&dir.join("pids.max"), &pids.to_string())?;
        }
        if let Some(quota) = limits.cpu_quota_us {
            let period = limits.cpu_period();
            version.cpu_quota(need(Controller::Cpu, "--cpus")?, quota, period)?;
        }
        if !limits.hugepages.is_empty() {
            let dir = need(Controller::Hugetlb, "a huge page limit")?;
            for (size, bytes) in &limits.hugepages {
                version.hugetlb(dir, size, *bytes)?;
            }
        }
        if limits.cpuset() {
            let dir = need(Controller::Cpuset, "a cpuset")?;
            let (cpus, mems) = (limits.cpuset_cpus.as_deref(), limits.cpuset_mems.as_deref());
            version.cpuset(dir, cpus, mems)?;
        }
        if let Some(shares) = limits.cpu_shares {
            version.cpu_shares(need(Controller::Cpu, "--cpu-shares")?, shares)?;
        }
        Ok(())
    }

    /// The `cgroup.procs` files a process writes "0" into to join.
    pub fn procs_files(&self) -> Vec<PathBuf> {
        self.dirs
            .iter()
            .map(|(_, d)| d.join("cgroup.procs"))
            .collect()
    }

    /// The directories that exist now (not every hierarchy has one: see [`Cgroup::create`]).
    pub fn existing_dirs(&self) -> Vec<&Path> {
        self.dirs
            .iter()
            .map(|(_, d)| d.as_path())
            .filter(|d| d.exists())
            .collect()
    }

    /// True while any of its directories exists.
    pub fn exists(&self) -> bool {
        !self.existing_dirs().is_empty()
    }

    /// True when no process is left in any of the directories (or they are gone).
    pub fn is_empty(&self) -> bool {
        self.procs_files().iter().all(|f| {
            kernfile::read(f)
                .map(|s| s.trim().is_empty())
                .unwrap_or(true)
        })
    }

    /// How many times the OOM killer struck inside.
    pub fn oom_kills(&self) -> u64 {
        self.dir(Controller::Memory)
            .and_then(|dir| self.version().oom_kills(dir))
            .unwrap_or(0)
    }

    /// Current CPU time, memory and process count; a limit of 2^60 or more is no limit.
    pub fn usage(&self) -> Usage {
        let mut usage = self.version().usage(self);
        usage.memory_limit = usage.memory_limit.filter(|&l| l < (1 << 60));
        usage
    }

    /// `update` of a running container: `limits` applied, after the v1 hierarchies they need
    /// and the container was not made in (cpu without CPU limits, cpuset) are made and its
    /// processes moved in, as `pause` does for the freezer.
    pub fn apply_running(&self, limits: &Limits) -> anyhow::Result<()> {
        let cpu = limits.cpu_quota_us.is_some() || limits.cpu_shares.is_some();
        let missing: Vec<PathBuf> = [
            (Controller::Cpu, cpu),
            (Controller::Cpuset, limits.cpuset()),
        ]
        .into_iter()
        .filter(|(_, wanted)| *wanted)
        .filter_map(|(c, _)| self.dir(c))
        .filter(|d| !d.exists())
        .map(Path::to_path_buf)
        .collect();
        if matches!(self.layout, Layout::V1 { .. }) {
            for dir in &missing {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create cgroup {}", dir.display()))?;
            }
        }
        self.apply(limits)?;
        if matches!(self.layout, Layout::V1 { .. }) {
            for dir in &missing {
                self.gather_into(dir)?;
            }
        }
        Ok(())
    }

    /// SIGKILLs every process inside (thawed first, if paused) until none is left, or a
    /// second has passed: a container whose processes do not die with its PID 1 (`--pid
    /// host`).
    pub fn kill_all(&self) {
        if self.frozen() {
            let _ = self.freeze(false);
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
        loop {
            let pids = self.pids();
            if pids.is_empty() || std::time::Instant::now() >= deadline {
                return;
            }
            for pid in pids {
                // Pinned by a pidfd, then checked to be inside still: a PID read from the
                // list may have been given to another process since.
                let Some(process) = crate::state::Process::of(pid) else {
                    continue;
                };
                let Ok(fd) = crate::runtime::pidfd::open(process) else {
                    continue;
                };
                if self.pids().contains(&pid) {
                    let _ = crate::runtime::pidfd::send(&fd, libc::SIGKILL);
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    /// Pauses (or resumes) every process inside.
    pub fn freeze(&self, frozen: bool) -> anyhow::Result<()> {
        let dir = self.dir(Controller::Freezer).ok_or_else(|| {
            anyhow!("pausing needs the freezer cgroup controller, which this host does not mount")
        })?;
        if frozen && !dir.exists() {
            self.gather_into(dir)?;
        }
        self.version().freeze(dir, frozen)
    }

    /// On v1, our own containers join only the hierarchies their limits need at start (a
    /// mkdir, a join and an rmdir each): `pause` (the freezer) and `update` (cpu, cpuset) make
    /// the cgroup `dir` later and move every process in, again until a listing finds none
    /// outside (a process forked meanwhile by one not yet moved is born outside; one forked by
    /// a moved one, inside).
    fn gather_into(&self, dir: &Path) -> anyhow::Result<()> {
        let members = |d: &Path| -> Vec<i32> {
            std::fs::read_to_string(d.join("cgroup.procs"))
                .unwrap_or_default()
                .lines()
                .filter_map(|l| l.trim().parse().ok())
                .collect()
        };
        let all = self
            .dirs
            .iter()
            .find(|(_, d)| d != dir && d.exists())
            .map(|(_, d)| d.clone())
            .ok_or_else(|| anyhow!("the container's cgroup is gone"))?;
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create cgroup {}", dir.display()))?;
        for _ in 0..100 {
            let inside = members(dir);
            let outside: Vec<i32> = members(&all)
                .into_iter()
                .filter(|p| !inside.contains(p))
                .collect();
            if outside.is_empty() {
                return Ok(());
            }
            for pid in outside {
                // One that ended meanwhile cannot be moved, and need not be.
                let _ = write(&dir.join("cgroup.procs"), &pid.to_string());
            }
        }
        bail!("the container's processes kept forking while being paused")
    }

    /// Whether the cgroup's processes are frozen.
    pub fn frozen(&self) -> bool {
        self.dir(Controller::Freezer)
            .is_some_and(|dir| self.version().frozen(dir))
    }

    /// The processes inside (host PIDs), from the first hierarchy that has the cgroup.
    pub fn pids(&self) -> Vec<i32> {
        self.procs_files()
            .iter()
            .find_map(|f| kernfile::read(f).ok())
            .map(|s| s.lines().filter_map(|l| l.trim().parse().ok()).collect())
            .unwrap_or_default()
    }

    /// Bytes read from and written to block devices: v2's `io.stat`; on v1, where our
    /// containers have no blkio hierarchy (one more directory and join per start), the sum of
    /// `/proc/PID/io` over the processes inside now (what ended is not counted).
    pub fn block_io(&self) -> Option<(u64, u64)> {
        let field = |text: &str, key: &str| -> u64 {
            text.split_whitespace()
                .filter_map(|w| w.strip_prefix(key)?.parse::<u64>().ok())
                .sum()
        };
        match self.layout {
            Layout::V2 { .. } => {
                let dir = self.dirs.first().map(|(_, d)| d)?;
                let stat = std::fs::read_to_string(dir.join("io.stat")).ok()?;
                Some((field(&stat, "rbytes="), field(&stat, "wbytes=")))
            }
            Layout::V1 { .. } => {
                let (mut read, mut written) = (0, 0);
                for pid in self.pids() {
                    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).unwrap_or_default();
                    read += field(&io.replace(": ", ":"), "read_bytes:");
                    written += field(&io.replace(": ", ":"), "write_bytes:");
                }
                Some((read, written))
            }
        }
    }

    /// The OCI memory settings among `limits` that [`Cgroup::apply`] leaves, this host's
    /// memory controller having no file for them (cgroup v2), for the caller to say so.
    pub fn unapplied(&self, limits: &Limits) -> Vec<&'static str> {
        let Some(dir) = self.dir(Controller::Memory) else {
            return Vec::new();
        };
        v1_memory(limits)
            .into_iter()
            .filter(|(file, _, value)| value.is_some() && !dir.join(file).exists())
            .map(|(_, what, _)| what)
            .collect()
    }

    /// Removes the directories (they must be empty of processes), then, where no other
    /// container uses them, our parent ([`PARENT`]) and the ancestors its creation made.
    pub fn remove(&self) -> anyhow::Result<()> {
        let mut first_error = None;
        for (_, dir) in &self.dirs {
            match std::fs::remove_dir(dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    first_error
                        .get_or_insert(format!("cannot remove cgroup {}: {e}", dir.display()));
                }
            }
            if let Some(parent) = dir.parent()
                && parent.file_name().is_some_and(|name| name == PARENT)
            {
                let _ = std::fs::remove_dir(parent);
            }
        }
        for ancestor in &self.made {
            let _ = std::fs::remove_dir(ancestor);
        }
        first_error.map_or(Ok(()), |e| Err(anyhow!(e)))
    }
}

/// The memory settings only cgroup v1 has: (its file, the OCI field, the value asked).
fn v1_memory(limits: &Limits) -> [(&'static str, &'static str, Option<String>); 3] {
    [
        (
            "memory.swappiness",
            "swappiness",
            limits.memory_swappiness.map(|s| s.to_string()),
        ),
        (
            "memory.kmem.tcp.limit_in_bytes",
            "kernelTCP",
            limits.kernel_tcp.map(|b| b.to_string()),
        ),
        (
            "memory.oom_control",
            "disableOOMKiller",
            limits.oom_kill_disable.then(|| "1".to_string()),
        ),
    ]
}

/// Mount options of the host's cgroup mounts that are not a hierarchy's controllers.
const NOT_CONTROLLERS: [&str; 11] = [
    "rw",
    "ro",
    "xattr",
    "clone_children",
    "noprefix",
    "nsdelegate",
    "memory_recursiveprot",
    "memory_localevents",
    "memory_hugetlb_accounting",
    "favordynmods",
    "cpuset_v2_mode",
];

/// The host's cgroup mounts under `/sys/fs/cgroup`, to mount the same hierarchies in a
/// container: (path below `/sys/fs/cgroup`, `cgroup` or `cgroup2`, the controllers to name).
pub fn mounted_hierarchies() -> Vec<(PathBuf, String, String)> {
    hierarchies_in(&std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default())
}

/// [`mounted_hierarchies`] of a mount table.
fn hierarchies_in(table: &str) -> Vec<(PathBuf, String, String)> {
    let mut out: Vec<(PathBuf, String, String)> = Vec::new();
    for mount in cgroup_mounts(table) {
        let Ok(rel) = Path::new(mount.point).strip_prefix("/sys/fs/cgroup") else {
            continue;
        };
        let (fstype, controllers) = if mount.v2 {
            ("cgroup2", String::new())
        } else {
            let names: Vec<&str> = mount
                .options
                .split(',')
                .filter(|o| !NOT_CONTROLLERS.contains(o))
                .collect();
            ("cgroup", names.join(","))
        };
        out.retain(|(r, _, _)| r != rel);
        out.push((rel.to_path_buf(), fstype.to_string(), controllers));
    }
    out
}

/// One cgroup or cgroup2 mount of a mount table (`/proc/self/mountinfo`).
struct CgroupMount<'a> {
    point: &'a str,
    v2: bool,
    /// The super options: the controllers of a v1 hierarchy, among others.
    options: &'a str,
}

/// The cgroup mounts of a mount table: the one reading of its lines that the layout, the
/// container's view of its hierarchies and the [`UNIFIED_VAR`] choice all use.
fn cgroup_mounts(table: &str) -> impl Iterator<Item = CgroupMount<'_>> {
    table.lines().filter_map(|line| {
        let fields: Vec<&str> = line.split(' ').collect();
        let dash = fields.iter().position(|f| *f == "-")?;
        let v2 = match *fields.get(dash + 1)? {
            "cgroup" => false,
            "cgroup2" => true,
            _ => return None,
        };
        Some(CgroupMount {
            point: fields.get(4)?,
            v2,
            options: fields.get(dash + 3).copied().unwrap_or(""),
        })
    })
}

/// Removes our cgroups that `stale` says no live container owns (what a crashed launcher or
/// monitor left behind), when no process is left in them.
pub fn clean_stale(layout: &Layout, stale: impl Fn(&str, &Path) -> bool) {
    for (_, root) in layout.roots() {
        for entry in std::fs::read_dir(root.join(PARENT))
            .into_iter()
            .flatten()
            .flatten()
        {
            let id = entry.file_name().to_string_lossy().into_owned();
            if entry.path().is_dir() && stale(&id, &entry.path()) {
                let cgroup = Cgroup::at(layout, &id);
                if cgroup.is_empty() {
                    let _ = cgroup.remove();
                }
            }
        }
    }
}

/// Runs `f` with container `id`'s processes frozen if it is `running` and not paused already
/// (`commit` reads a still root, as Docker's `commit --pause` does), thawed after whatever `f`
/// did.
pub fn still<T>(id: &str, running: bool, f: impl FnOnce() -> T) -> T {
    let cgroup = Layout::detect()
        .ok()
        .map(|layout| Cgroup::at(&layout, id))
        .filter(|c| running && !c.frozen());
    let frozen = cgroup.as_ref().is_some_and(|c| c.freeze(true).is_ok());
    let out = f();
    if frozen && let Some(cgroup) = cgroup {
        let _ = cgroup.freeze(false);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";
    const UNIFIED: &str = "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n";
    const COMOUNTED: &str =
        "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n";

    #[test]
    fn hybrid_hosts_are_driven_as_v1() {
        let layout = Layout::from_mountinfo(HYBRID).unwrap();
        assert_eq!(layout.name(), "v1");
        let Layout::V1 { hierarchies } = &layout else {
            panic!()
        };
        assert_eq!(
            hierarchies.len(),
            4,
            "cpu, cpuacct, memory, pids; not name=systemd"
        );
        let cg = Cgroup::at(&layout, "42-1");
        assert_eq!(
            cg.dir(Controller::Memory),
            Some(Path::new("/sys/fs/cgroup/memory/my-container-tui/42-1"))
        );
        assert_eq!(cg.procs_files().len(), 4);
    }

    #[test]
    fn unified_hosts_are_v2_with_one_directory() {
        let layout = Layout::from_mountinfo(UNIFIED).unwrap();
        assert_eq!(
            layout,
            Layout::V2 {
                root: "/sys/fs/cgroup".into()
            }
        );
        let cg = Cgroup::at(&layout, "7-2");
        assert_eq!(
            cg.procs_files(),
            vec![PathBuf::from(
                "/sys/fs/cgroup/my-container-tui/7-2/cgroup.procs"
            )]
        );
        assert_eq!(cg.dir(Controller::CpuAcct), cg.dir(Controller::Cpu));
    }

    #[test]
    fn comounted_controllers_share_a_directory() {
        let layout = Layout::from_mountinfo(COMOUNTED).unwrap();
        let cg = Cgroup::at(&layout, "1-1");
        assert_eq!(cg.dir(Controller::Cpu), cg.dir(Controller::CpuAcct));
        assert_eq!(cg.dir(Controller::Memory), None);
        assert!(
            cg.apply(&Limits {
                memory: Some(64 << 20),
                ..Limits::default()
            })
            .is_err()
        );
    }

    #[test]
    fn a_container_mounts_the_same_hierarchies() {
        let v1 = hierarchies_in(HYBRID);
        let names: Vec<(&str, &str, &str)> = v1
            .iter()
            .map(|(r, f, o)| (r.to_str().unwrap(), f.as_str(), o.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("cpu", "cgroup", "cpu"),
                ("cpuacct", "cgroup", "cpuacct"),
                ("memory", "cgroup", "memory"),
                ("pids", "cgroup", "pids"),
                ("systemd", "cgroup", "name=systemd"),
                ("unified", "cgroup2", ""),
            ]
        );
        let v2 = hierarchies_in(UNIFIED);
        assert_eq!(v2, [(PathBuf::new(), "cgroup2".to_string(), String::new())]);
        let both = hierarchies_in(COMOUNTED);
        assert_eq!(both[0].2, "cpu,cpuacct");
    }

    #[test]
    fn no_cgroups_is_an_error() {
        assert!(Layout::from_mountinfo("22 27 0:21 / /proc rw - proc proc rw\n").is_err());
    }

    /// The v2 path on a fixture tree: limits land in the right files, usage and OOM kills read
    /// back from them. (This host's controllers are all bound to v1, so limits are not tested
    /// live on v2; the device program and joining are, on the host's cgroup2 mount.)
    #[test]
    fn v2_files_on_a_fixture_tree() {
        let root = std::env::temp_dir().join(format!("mct-cgv2-fixture-{}", std::process::id()));
        let layout = Layout::V2 { root: root.clone() };
        let cg = Cgroup::create(&layout, "9-1", &Limits::default(), None).unwrap();
        let dir = root.join(PARENT).join("9-1");
        std::fs::write(dir.join("memory.swap.max"), "max").unwrap();
        cg.apply(&Limits {
            memory: Some(64 << 20),
            memory_swap: Some(96 << 20),
            pids: Some(20),
            cpu_quota_us: Some(20_000),
            cpu_period_us: Some(50_000),
            cpu_shares: Some(1024),
            cpuset_cpus: Some("0".into()),
            cpuset_mems: None,
            memory_reservation: None,
            // v1's alone: left here, not written as new files, and said to be.
            memory_swappiness: Some(10),
            kernel_tcp: Some(1 << 20),
            oom_kill_disable: true,
            hugepages: vec![("2MB".into(), 0)],
        })
        .unwrap();
        for v1_only in [
            "memory.swappiness",
            "memory.kmem.tcp.limit_in_bytes",
            "memory.oom_control",
        ] {
            assert!(!dir.join(v1_only).exists(), "{v1_only}");
        }
        let v1_alone = Limits {
            memory_swappiness: Some(10),
            kernel_tcp: Some(1 << 20),
            oom_kill_disable: true,
            ..Limits::default()
        };
        assert_eq!(
            cg.unapplied(&v1_alone),
            ["swappiness", "kernelTCP", "disableOOMKiller"]
        );
        let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
        assert_eq!(read("memory.max"), (64u64 << 20).to_string());
        assert_eq!(read("memory.swap.max"), (32u64 << 20).to_string());
        assert_eq!(read("pids.max"), "20");
        assert_eq!(read("cpu.max"), "20000 50000");
        assert_eq!(read("cpuset.cpus"), "0");
        assert_eq!(read("hugetlb.2MB.max"), "0");
        assert_eq!(read("cpu.weight"), "39");
        std::fs::write(
            dir.join("memory.events"),
            "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n",
        )
        .unwrap();
        std::fs::write(dir.join("memory.current"), "1234\n").unwrap();
        std::fs::write(dir.join("pids.current"), "3\n").unwrap();
        std::fs::write(dir.join("cpu.stat"), "usage_usec 1500\nuser_usec 1000\n").unwrap();
        assert_eq!(cg.oom_kills(), 1);
        let usage = cg.usage();
        assert_eq!(
            (usage.memory, usage.memory_limit, usage.pids, usage.cpu_ns),
            (Some(1234), Some(64 << 20), Some(3), Some(1_500_000))
        );
        assert!(cg.is_empty());
        std::fs::remove_dir_all(&root).unwrap();
    }
}
