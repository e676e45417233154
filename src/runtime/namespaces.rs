//! The Linux namespaces a container gets, and the one place that calls `unshare(2)`.

use nix::sched::{CloneFlags, unshare};

/// A kind of namespace: its `/proc/<pid>/ns/` name, its clone flag and the kernel option
/// that provides it (for the error message on kernels built without it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Namespace {
    pub name: &'static str,
    pub flag: CloneFlags,
    pub config: &'static str,
}

const fn ns(name: &'static str, flag: CloneFlags, config: &'static str) -> Namespace {
    Namespace { name, flag, config }
}

pub const PID: Namespace = ns("pid", CloneFlags::CLONE_NEWPID, "CONFIG_PID_NS");
pub const UTS: Namespace = ns("uts", CloneFlags::CLONE_NEWUTS, "CONFIG_UTS_NS");
pub const MOUNT: Namespace = ns("mnt", CloneFlags::CLONE_NEWNS, "CONFIG_NAMESPACES");
pub const NET: Namespace = ns("net", CloneFlags::CLONE_NEWNET, "CONFIG_NET_NS");
pub const IPC: Namespace = ns("ipc", CloneFlags::CLONE_NEWIPC, "CONFIG_IPC_NS");
pub const CGROUP: Namespace = ns("cgroup", CloneFlags::CLONE_NEWCGROUP, "CONFIG_CGROUPS");

/// A user namespace (`--userns`): joined by PID 1 and `exec`, made by the helper.
pub const USER: Namespace = ns("user", CloneFlags::CLONE_NEWUSER, "CONFIG_USER_NS");

/// Every kind of namespace a container can have (besides a user namespace, [`USER`]).
pub const ALL: [Namespace; 6] = [MOUNT, UTS, IPC, NET, CGROUP, PID];

/// The kind whose clone flag is `flag`.
pub fn by_flag(flag: CloneFlags) -> Option<Namespace> {
    ALL.into_iter().chain([USER]).find(|ns| ns.flag == flag)
}

/// Every namespace a container makes for itself: not PID, which the helper creates for its
/// child alone, nor net, which the helper makes (or finds) and PID 1 joins ([`join_one`]).
/// Mount comes before the others so a failure there leaves nothing mounted anywhere.
pub const CONTAINER_OWN: [Namespace; 4] = [MOUNT, UTS, IPC, CGROUP];

/// What `exec` joins of a running container besides its PID namespace (which it joins before
/// forking, as only children enter one): the rest of [`CONTAINER_OWN`] and the network.
pub const JOINED_BY_EXEC: CloneFlags = CloneFlags::CLONE_NEWNS
    .union(CloneFlags::CLONE_NEWUTS)
    .union(CloneFlags::CLONE_NEWIPC)
    .union(CloneFlags::CLONE_NEWNET)
    .union(CloneFlags::CLONE_NEWCGROUP);

/// Unshares one namespace, naming it (and the kernel option behind it) on failure.
pub fn enter_new(ns: Namespace) -> anyhow::Result<()> {
    unshare(ns.flag).map_err(|e| match e {
        nix::errno::Errno::EINVAL => anyhow::anyhow!(
            "cannot create a {} namespace: this kernel lacks support for it ({})",
            ns.name,
            ns.config
        ),
        e => anyhow::anyhow!("cannot create a {} namespace: {}", ns.name, e.desc()),
    })
}

/// Joins the namespace of kind `flag` that `fd` is (a `/proc/PID/ns/*` file, a bind of
/// one, or a pidfd), naming the kind on failure. Every entering of a namespace goes through
/// here or [`join`].
pub fn join_one(fd: &impl std::os::fd::AsFd, flag: CloneFlags) -> anyhow::Result<()> {
    nix::sched::setns(fd, flag).map_err(|e| {
        let name = by_flag(flag).map_or("requested", |ns| ns.name);
        anyhow::anyhow!("cannot join the {name} namespace: {}", e.desc())
    })
}

/// Joins the namespaces in `flags` of the process `pidfd` names, all at once (`setns(2)` on a
/// pidfd): `exec`'s way into a running container.
pub fn join(pidfd: &impl std::os::fd::AsFd, flags: CloneFlags) -> anyhow::Result<()> {
    nix::sched::setns(pidfd, flags)
        .map_err(|e| anyhow::anyhow!("cannot join the container's namespaces: {}", e.desc()))
}

/// The namespace of kind `ns` of running container `name`'s PID 1 (`--ipc container:NAME`,
/// `--pid container:NAME`, `--network container:NAME`), opened; checked to be that process's
/// still once open (its PID and start time), so a PID taken over meanwhile is never joined.
pub fn of_container(name: &str, ns: Namespace) -> anyhow::Result<std::os::fd::OwnedFd> {
    use anyhow::Context;
    let record = super::reclaim::find(name)?;
    let init = record
        .init
        .filter(|p| p.alive())
        .ok_or_else(|| anyhow::anyhow!("container {} is not running", record.name))?;
    let fd = std::fs::File::open(format!("/proc/{}/ns/{}", init.pid, ns.name))
        .map(std::os::fd::OwnedFd::from)
        .with_context(|| {
            format!(
                "cannot open the {} namespace of container {}",
                ns.name, record.name
            )
        })?;
    if !init.alive() {
        anyhow::bail!("container {} is not running", record.name);
    }
    Ok(fd)
}
