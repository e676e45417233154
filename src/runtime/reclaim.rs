//! Releasing what containers held on the host, and the records' repairing view: the runtime
//! owns everything a run makes (cgroups, filesystem state, network leases), so it, not the
//! record store, gives them back.
//!
//! Each run's cleaner releases what its own run made, and nothing else: a container's end
//! costs the same on a host of a thousand. A record whose owner died is brought to the truth
//! by [`crate::state::store::settle`], and what its container held released here, by whoever
//! looks next ([`list`], [`find`]): one look at its owner's `/proc/PID/stat` per record. What
//! else a crash left (a cgroup or a lease no record names, a directory without its record)
//! is found by a [`sweep`] alone, which runs when a look finds such a mark, off the looker's
//! path ([`sweep_later`]), and on `system prune`.

use super::cgroups::{self, Cgroup, Layout};
use super::rootless;
use crate::state::as_root;
use crate::state::store::{self, Settled};
use crate::state::{Record, tree};
use std::sync::atomic::{AtomicBool, Ordering};

/// Every container on the host (all namespaces), newest first, each repaired if its owner
/// died (as written otherwise: a foreground container's PID 1 is looked for by
/// [`store::with_init`], for those shown).
pub fn list() -> Vec<Record> {
    let (records, unrecorded) = store::scan();
    let repairable: Vec<&Record> = records.iter().filter(|r| store::repairable(r)).collect();
    if unrecorded || !repairable.is_empty() {
        sweep_later();
    }
    if repairable.is_empty() {
        return records;
    }
    for record in repairable {
        repair(&record.id);
    }
    store::records()
}

/// The hidden verb of [`sweep_later`]'s process.
pub const SWEEP_ARG: &str = "__sweep";

/// Set in the sweep's own process: what it finds it cleans itself.
static SWEEPING: AtomicBool = AtomicBool::new(false);

/// Starts a [`sweep`] in a process of its own (`my-container-tui __sweep`: its own session,
/// the lowest priority, nothing inherited), once per process: a look at the records found
/// the mark of a crash, and what else the crash left is no record's. The caller does not wait.
pub fn sweep_later() {
    static STARTED: AtomicBool = AtomicBool::new(false);
    if SWEEPING.load(Ordering::Relaxed) || STARTED.swap(true, Ordering::Relaxed) {
        return;
    }
    use std::os::unix::process::CommandExt;
    let spawned = std::process::Command::new("/proc/self/exe")
        .arg(SWEEP_ARG)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .process_group(0)
        .spawn();
    // Reaped off the caller's path; a caller that exits first leaves it to init.
    if let Ok(mut child) = spawned {
        let _ = std::thread::Builder::new()
            .name("sweep".into())
            .spawn(move || child.wait());
    }
}

/// `my-container-tui __sweep`: [`sweep`] at the lowest priority, then exit.
pub fn sweep_main() -> ! {
    SWEEPING.store(true, Ordering::Relaxed);
    let _ = nix::unistd::setsid();
    // Rootless, what a crash left may hold files of the user's subordinate ids (a container
    // user's writes), which only the user namespace's root may remove; and the user's
    // networks are in their holder's namespaces, where its user namespace's root finds them.
    if crate::state::as_root::needed() && !super::net::holder::join_if_running() {
        let _ = rootless::enter();
    }
    // SAFETY: setpriority reads no memory; who 0 is this process.
    unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 19) };
    sweep();
    std::process::exit(0)
}

/// The containers of this process's namespace, newest first, each repaired if its owner died.
/// A foreground container's PID 1 is looked for (they are the ones a caller shows).
pub fn visible() -> Vec<Record> {
    let namespace = crate::state::record::namespace();
    list()
        .into_iter()
        .filter(|r| r.namespace == namespace)
        .map(store::with_init)
        .collect()
}

/// The container a user named (its name, its id, or a unique prefix of its id) among this
/// namespace's, repaired.
pub fn find(name_or_id: &str) -> anyhow::Result<Record> {
    // A name or a whole id: one record read, through the name index.
    let namespace = crate::state::record::namespace();
    if let Some(record) = store::named(&namespace, name_or_id) {
        if !store::repairable(&record) {
            return Ok(record);
        }
        repair(&record.id);
        sweep_later();
        if let Some(record) = store::named(&namespace, name_or_id) {
            return Ok(record);
        }
    }
    // A prefix of an id, or a name the index lost: every record.
    store::find_in(&visible(), name_or_id)
}

/// Brings one record whose owner died to the truth, and releases what its container held.
pub fn repair(id: &str) {
    match store::settle(id) {
        Settled::Fine => {}
        Settled::Remove(record) => {
            release(id);
            store::forget_settled(id, &record);
        }
        Settled::Release => release(id),
    }
}

/// Removes the container's record and everything of it (which must have ended).
pub fn remove(id: &str) {
    release(id);
    store::forget(id);
}

/// The host's cgroup layout, read once a process (its mount table's cgroup lines do not
/// change under us; a cleaner would otherwise parse it twice on its way out).
fn layout() -> Option<&'static Layout> {
    static LAYOUT: std::sync::OnceLock<Option<Layout>> = std::sync::OnceLock::new();
    LAYOUT.get_or_init(|| Layout::detect().ok()).as_ref()
}

/// Releases what a container that has ended held on the host: its cgroup (when empty), its
/// filesystem state and its network lease.
pub fn release(id: &str) {
    if let Some(layout) = layout() {
        let cgroup = Cgroup::at(layout, id);
        if cgroup.is_empty() {
            let _ = cgroup.remove();
        }
    }
    tree::remove_fs(id);
    // What the container's users wrote is owned by the user's subordinate ids, and the
    // overlay's work directory is the kernel's (mode 0): the user removes neither as
    // themselves.
    if as_root::needed() && tree::path(id).exists() {
        as_root::run(as_root::Task::RemoveFs, id.as_ref());
    }
    super::net::attach::release(id);
}

/// [`as_root::Task::RemoveFs`], in the user's namespace: only a container id (what
/// [`crate::state::record::new_id`] makes) names a directory here.
pub fn remove_fs_task(id: &std::ffi::OsStr) -> anyhow::Result<()> {
    tree::remove_fs(as_root::container_id(id)?);
    Ok(())
}

/// Repairs every record whose owner died, and removes cgroups and network state no live
/// record owns: what crashed launchers, monitors and cleaners left behind. Costs a look at
/// every container's record and cgroup: run off every caller's path ([`sweep_later`]), or by
/// `system prune`.
pub fn sweep() {
    store::remove_unrecorded();
    store::remove_dangling_names();
    list();
    if let Some(layout) = layout() {
        // Read fresh for each cgroup, not from a list taken before; and one younger than the
        // grace may belong to a foreground run whose cleaner has not recorded it yet.
        cgroups::clean_stale(layout, |id, dir| {
            store::looks_like_id(id) && !store::owned(id) && store::older_than_grace(dir)
        });
    }
    super::net::attach::sweep();
    crate::state::idmaps::sweep();
    tree::remove_if_empty();
}

/// Renames container `id` (see [`store::rename`]) and the names its network leases give it.
pub fn rename(id: &str, name: &str) -> anyhow::Result<()> {
    let old = store::load(id)?.name;
    store::rename(id, name)?;
    super::net::attach::renamed(id, &old, name)
}
