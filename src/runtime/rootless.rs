//! Rootless: a user without root runs containers as root of a user namespace of their own,
//! as podman and rootless Docker do.
//!
//! The namespace maps the user's own uid and gid to 0 and their subordinate ranges
//! (`/etc/subuid`, `/etc/subgid`) to 1 and up. Only the setuid `newuidmap` and `newgidmap`
//! (the `uidmap` package) may write such maps for a user, and only for the ranges the
//! administrator gave them: the kernel lets an unprivileged process map its own id alone.
//! Every namespace a rootless container has is made inside this one, so its root holds
//! capabilities over them and over nothing of the host's; on the host, the container's
//! processes and files are the user's, or ids of the user's ranges.
//!
//! A container's helper enters it ([`enter`]) before it makes anything; `exec` joins the
//! container's ([`crate::runtime::tenant`]). The same mapping every time, so what one run
//! leaves in the user's store (an overlay's upper layer) is owned the same way in the next.

use crate::spec::userns::IdRange;
use anyhow::{Context, anyhow, bail};
use std::process::Command;

/// Why a user cannot run containers, or `None` if they can: root, or a user with ranges of
/// both kinds and the setuid helpers to map them.
pub fn unavailable() -> Option<String> {
    if !crate::state::owner::rootless() {
        return None;
    }
    if crate::state::owner::inside() {
        return None;
    }
    let user = user_name();
    if let Err(e) = mapping() {
        return Some(format!(
            "{e:#}: run as root (sudo), or give {user} subordinate ids once: \
             usermod --add-subuids 100000-165535 --add-subgids 100000-165535 {user}"
        ));
    }
    for tool in ["newuidmap", "newgidmap"] {
        if system_program(tool).is_none() {
            return Some(format!(
                "{tool} is missing: run as root (sudo), or install it (apt-get install uidmap)"
            ));
        }
    }
    None
}

/// What a rootless start cannot have, refused with the reason (before anything is made), and
/// its default network: pasta's where pasta can run, else loopback only (the default bridge
/// and its NAT are the host's).
pub fn admit(spec: &mut crate::spec::ContainerSpec) -> anyhow::Result<()> {
    use crate::spec::network::{DEFAULT_NETWORK, Mode, Protocol};
    use crate::spec::userns::UserNs;
    if !spec.limits.is_empty() {
        bail!(
            "resource limits need a cgroup of the container's own, which only root can make \
             here (no cgroup is delegated to {}): run without limits, or as root",
            user_name()
        );
    }
    if spec.userns != UserNs::Host {
        bail!(
            "--userns, --uidmap and --gidmap: a rootless container has its own user namespace already (the user's subordinate ids)"
        );
    }
    // A root filesystem whose owners the user's map lacks cannot be written through the
    // overlay (the kernel's "Value too large for defined data type" at the first copy-up):
    // its top directory tells, before anything is made.
    if let Some(rootfs) = &spec.rootfs {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(&rootfs.dir)
            .with_context(|| format!("--rootfs {}", rootfs.dir.display()))?;
        let map = mapping()?;
        let mapped = |id: u32, ranges: &[IdRange]| {
            ranges
                .iter()
                .any(|r| id >= r.outside && id - r.outside < r.count)
        };
        if !mapped(meta.uid(), &map.uids) || !mapped(meta.gid(), &map.gids) {
            bail!(
                "--rootfs {}: owned by {}:{}, which {}'s ids do not hold: chown it to the user \
                 (or unpack it as the user), or run as root",
                rootfs.dir.display(),
                meta.uid(),
                meta.gid(),
                user_name()
            );
        }
    }
    // The default network is pasta's where it can run: a user's own connections. Else
    // loopback only. A network of the user's (`network create`) is a bridge in their network
    // holder's namespace (see super::net::holder).
    let pasta = super::net::pasta::program().is_ok();
    match &spec.network.mode {
        Mode::Bridge(name) if name == DEFAULT_NETWORK && pasta => spec.network.mode = Mode::Pasta,
        Mode::Bridge(name) if name == DEFAULT_NETWORK && spec.network.publish.is_empty() => {
            spec.network.mode = Mode::None;
        }
        Mode::Bridge(name) if name == DEFAULT_NETWORK => {
            bail!("published ports need pasta for a rootless container (apt-get install passt)")
        }
        // Checked before a holder is started for it.
        Mode::Bridge(name) if super::net::defined::load(name).is_none() => {
            bail!("no such network: {name} (see `network ls`)")
        }
        Mode::Bridge(name)
            if spec
                .network
                .publish
                .iter()
                .any(|p| p.protocol != Protocol::Tcp) =>
        {
            bail!(
                "network {name}: a rootless container on a network of the user's publishes TCP \
                 ports only for now (take --network pasta for UDP)"
            )
        }
        _ => {}
    }
    if !spec.network.publish.is_empty()
        && !matches!(spec.network.mode, Mode::Pasta | Mode::Bridge(_))
    {
        bail!(
            "published ports need --network pasta, or a network of the user's, for a rootless container"
        );
    }
    if let Some(p) = spec.network.publish.iter().find(|p| p.host_port == 0) {
        bail!(
            "-p {}: a rootless container's published port needs its host port (-p HOST:{})",
            p.container_port,
            p.container_port
        );
    }
    Ok(())
}

/// The maps: the user's own ids to 0, their subordinate ranges from 1 on.
pub struct Mapping {
    pub uids: Vec<IdRange>,
    pub gids: Vec<IdRange>,
}

/// The user's mapping, or why they have none.
pub fn mapping() -> anyhow::Result<Mapping> {
    let uid = nix::unistd::getuid().as_raw();
    let gid = nix::unistd::getgid().as_raw();
    let name = user_name();
    let of = |file: &str, own: u32| -> anyhow::Result<Vec<IdRange>> {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let ranges = subordinate(&text, &name, uid);
        if ranges.is_empty() {
            bail!("{name} has no subordinate ids in {file}");
        }
        let mut inside = 1;
        let mut map = vec![IdRange {
            inside: 0,
            outside: own,
            count: 1,
        }];
        for (start, count) in ranges {
            map.push(IdRange {
                inside,
                outside: start,
                count,
            });
            inside += count;
        }
        Ok(map)
    };
    Ok(Mapping {
        uids: of("/etc/subuid", uid)?,
        gids: of("/etc/subgid", gid)?,
    })
}

/// The ranges `/etc/subuid` (or `subgid`) text gives the user named `name` (or numbered
/// `uid`), in the file's order: `NAME:START:COUNT` lines.
pub fn subordinate(text: &str, name: &str, uid: u32) -> Vec<(u32, u32)> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.trim().split(':');
            let (who, start, count) = (fields.next()?, fields.next()?, fields.next()?);
            let ours = who == name || who.parse::<u32>() == Ok(uid);
            let (start, count) = (start.parse::<u32>().ok()?, count.parse::<u32>().ok()?);
            (ours && count > 0 && start.checked_add(count).is_some()).then_some((start, count))
        })
        .collect()
}

/// Enters a new user namespace with the user's [`mapping`] and becomes its root. Forks (the
/// child runs `newuidmap` and `newgidmap` on us from outside): call it single-threaded.
pub fn enter() -> anyhow::Result<()> {
    use nix::sys::prctl;
    let mapping = mapping()?;
    let (newuidmap, newgidmap) = (tool("newuidmap")?, tool("newgidmap")?);
    let me = nix::unistd::getpid().as_raw();
    let (ready_r, ready_w) = nix::unistd::pipe().context("pipe")?;
    let child = match super::sys::fork()? {
        nix::unistd::ForkResult::Child => {
            drop(ready_w);
            // Until we have unshared (or failed to: the pipe closes unwritten).
            let mut byte = [0u8];
            let go = matches!(nix::unistd::read(&ready_r, &mut byte), Ok(1));
            // Both at once: each is a setuid program's exec, most of what entering costs.
            let mapped = go && {
                let uids = map_command(&newuidmap, me, &mapping.uids).spawn();
                let gids = map_command(&newgidmap, me, &mapping.gids).spawn();
                let ok = |c: std::io::Result<std::process::Child>| {
                    c.and_then(|mut c| c.wait()).is_ok_and(|s| s.success())
                };
                ok(uids) & ok(gids)
            };
            // SAFETY: _exit ends this forked child without running the parent's atexit work.
            unsafe { libc::_exit(i32::from(!mapped)) }
        }
        nix::unistd::ForkResult::Parent { child } => child,
    };
    drop(ready_r);
    // newuidmap writes our maps only if /proc/PID is the user's, which a process that is
    // not dumpable's is not: dumpable while it works, as nothing of a container exists yet.
    let dumpable = prctl::get_dumpable().unwrap_or(false);
    let _ = prctl::set_dumpable(true);
    let unshared = nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWUSER);
    if unshared.is_ok() {
        let _ = nix::unistd::write(&ready_w, &[1]);
    }
    drop(ready_w);
    let status = nix::sys::wait::waitpid(child, None);
    let _ = prctl::set_dumpable(dumpable);
    unshared.map_err(|e| {
        anyhow!(
            "cannot create a user namespace: {} (user.max_user_namespaces?)",
            e.desc()
        )
    })?;
    match status {
        Ok(nix::sys::wait::WaitStatus::Exited(_, 0)) => {}
        _ => bail!(
            "newuidmap or newgidmap refused {}'s subordinate ids (see /etc/subuid, /etc/subgid)",
            user_name()
        ),
    }
    become_root()?;
    if !dumpable {
        let _ = prctl::set_dumpable(false);
    }
    Ok(())
}

/// Joins the user namespace of a rootless container's process `pidfd` (its owner, the user,
/// may) and becomes its root, so the user is root over the container's other namespaces and
/// its files, whichever of the user's ids own them (`exec`, `cp`, `export`). Nothing for
/// root, or for a process already inside. Single-threaded callers only, as `setns` takes.
pub fn join_container(pidfd: &impl std::os::fd::AsFd) -> anyhow::Result<()> {
    if crate::state::as_root::needed() {
        super::namespaces::join_one(pidfd, super::namespaces::USER.flag)?;
        become_root()?;
    }
    Ok(())
}

/// Once in the user's namespace (entered, or joined by `exec`): its root's ids, and none of
/// the user's supplementary groups, which could still open the host's files; the
/// container's user gets its own groups as it is made.
pub fn become_root() -> anyhow::Result<()> {
    super::idmap::become_root()?;
    nix::unistd::setgroups(&[]).context("cannot drop the user's supplementary groups")
}

/// `newuidmap PID INSIDE OUTSIDE COUNT ...` (or `newgidmap`).
fn map_command(tool: &std::path::Path, pid: i32, ranges: &[IdRange]) -> Command {
    let mut cmd = Command::new(tool);
    cmd.arg(pid.to_string());
    for r in ranges {
        cmd.args([r.inside, r.outside, r.count].map(|n| n.to_string()));
    }
    cmd
}

fn tool(name: &str) -> anyhow::Result<std::path::PathBuf> {
    system_program(name).ok_or_else(|| anyhow!("{name} is missing (apt-get install uidmap)"))
}

/// A program of the system's directories only (the setuid map writers, pasta): a `PATH` the
/// user controls must not choose which program we trust with our maps or our network.
pub(crate) fn system_program(name: &str) -> Option<std::path::PathBuf> {
    ["/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin"]
        .iter()
        .map(|dir| std::path::Path::new(dir).join(name))
        .find(|path| path.is_file())
}

fn user_name() -> String {
    let uid = nix::unistd::getuid();
    nix::unistd::User::from_uid(uid)
        .ok()
        .flatten()
        .map_or_else(|| uid.to_string(), |u| u.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_users_ranges_are_found_by_name_or_number_in_order() {
        let text = "alice:100000:65536\nbob:165536:65536\n# note\n1001:300000:10\n\
                    alice:bad:1\nalice:500000:0\nalice:4294967295:2\nalice:600000:5\n";
        assert_eq!(
            subordinate(text, "alice", 1001),
            vec![(100000, 65536), (300000, 10), (600000, 5)]
        );
        assert_eq!(subordinate(text, "bob", 1002), vec![(165536, 65536)]);
        assert!(subordinate(text, "carol", 1003).is_empty());
    }
}
