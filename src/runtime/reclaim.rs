//! Releasing what containers held on the host, and the records' repairing view: the runtime
//! owns everything a run makes (cgroups, filesystem state, network leases), so it, not the
//! record store, gives them back.
//!
//! A record whose owner died is brought to the truth by [`crate::state::store::settle`] and
//! what its container held is released here, by whoever looks next ([`list`], [`find`]); a
//! cleaner [`sweep`]s after its own container's clean-up.

use super::cgroups::{self, Cgroup, Layout};
use crate::state::store::{self, Settled};
use crate::state::{Record, tree};

/// Every container on the host (all namespaces), newest first, each repaired if its owner
/// died.
pub fn list() -> Vec<Record> {
    let records = store::records();
    if !records.iter().any(store::repairable) {
        return records;
    }
    for record in records.iter().filter(|r| store::repairable(r)) {
        repair(&record.id);
    }
    store::records()
}

/// The containers of this process's namespace, newest first, each repaired if its owner died.
pub fn visible() -> Vec<Record> {
    let namespace = crate::state::record::namespace();
    list()
        .into_iter()
        .filter(|r| r.namespace == namespace)
        .collect()
}

/// The container a user named (its name, its id, or a unique prefix of its id) among this
/// namespace's, repaired.
pub fn find(name_or_id: &str) -> anyhow::Result<Record> {
    store::find_in(&visible(), name_or_id)
}

/// Brings one record whose owner died to the truth, and releases what its container held.
pub fn repair(id: &str) {
    match store::settle(id) {
        Settled::Fine => {}
        Settled::Remove => remove(id),
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

/// Releases what a container that has ended held on the host: its cgroup (when empty) and its
/// filesystem state.
pub fn release(id: &str) {
    if let Some(layout) = layout() {
        let cgroup = Cgroup::at(layout, id);
        if cgroup.is_empty() {
            let _ = cgroup.remove();
        }
    }
    tree::remove_fs(id);
}

/// Repairs every record whose owner died, and removes cgroups and network state no live
/// record owns: what crashed launchers and monitors left behind. Run by each cleaner after its
/// own container's clean-up, off every caller's path.
pub fn sweep() {
    store::remove_unrecorded();
    list();
    if let Some(layout) = layout() {
        // Read fresh for each cgroup, not from a list taken before; and one younger than the
        // grace may belong to a foreground run whose cleaner has not recorded it yet.
        cgroups::clean_stale(layout, |id, dir| {
            store::looks_like_id(id) && !store::owned(id) && store::older_than_grace(dir)
        });
    }
    super::net::attach::sweep();
    tree::remove_if_empty();
}

/// Renames container `id` (see [`store::rename`]) and the names its network leases give it.
pub fn rename(id: &str, name: &str) -> anyhow::Result<()> {
    let old = store::load(id)?.name;
    store::rename(id, name)?;
    super::net::attach::renamed(id, &old, name)
}
