//! The container records on this host: the one place that makes, finds, changes and removes
//! them, and that decides what is stale.
//!
//! Every change is a read-modify-write under one lock (`flock` on `containers/`), and every
//! write replaces `state.json` by rename, so a reader never sees half a record. Liveness is
//! the owner's: a record whose owner is gone (its PID dead, or reused by a process with another
//! start time) is repaired by whoever looks next ([`settle`] here brings the record to the
//! truth; [`crate::runtime::reclaim`] releases what the container held on the host).

use super::process::Process;
use super::record::{Record, Status, now_ms};
use super::tree;
use crate::spec::ContainerSpec;
use crate::spec::names::validate_name;
use crate::spec::run::{Launch, RestartPolicy};
use anyhow::{Context, anyhow, bail};
use nix::fcntl::{Flock, FlockArg};
use std::path::{Path, PathBuf};

/// The record file in a container's directory.
const STATE: &str = "state.json";
/// The spec the container runs, as its launcher gave it.
const SPEC: &str = "spec.json";
/// The directories of a container's anonymous volumes, one a line, when it has any: read by
/// [`forget`] without parsing the spec. Paths, not names: whoever removes the record may run
/// with another store (`--root`) than the one the volumes were made in.
const ANONYMOUS: &str = "anonymous";

/// The lock held across a read-modify-write of records.
struct Lock(#[allow(dead_code)] Flock<std::fs::File>);

/// Takes the lock (the tree must exist).
fn lock() -> std::io::Result<Lock> {
    let dir = std::fs::File::open(tree::containers())?;
    Flock::lock(dir, FlockArg::LockExclusive)
        .map(Lock)
        .map_err(|(_, e)| std::io::Error::from(e))
}

/// How a new container is to be recorded.
pub struct NewRecord<'a> {
    pub name: Option<&'a str>,
    pub detached: bool,
    pub auto_remove: bool,
    pub tty: bool,
    pub interactive: bool,
    pub restart: RestartPolicy,
    pub stop_signal: i32,
    pub stop_timeout: Option<u32>,
    /// A dashboard's user, for a container it starts ([`super::record::opener`]).
    pub opener: Option<u32>,
}

impl<'a> NewRecord<'a> {
    /// What the store records of a container run as `launch` says.
    pub fn of(launch: &'a Launch, tty: bool) -> NewRecord<'a> {
        NewRecord {
            name: launch.name.as_deref(),
            detached: launch.detach,
            auto_remove: launch.auto_remove,
            tty,
            interactive: launch.interactive,
            restart: launch.restart,
            stop_signal: launch
                .stop_signal
                .unwrap_or(nix::sys::signal::Signal::SIGTERM) as i32,
            stop_timeout: launch.stop_timeout,
            opener: None,
        }
    }
}

/// Records `spec` (whose `id` must be fresh) as a new container owned by the calling process,
/// `created`. Fails (runtime error) when the name is taken.
pub fn create(spec: &ContainerSpec, new: &NewRecord) -> anyhow::Result<Record> {
    create_owned(spec, new, Process::me())
}

/// True when container `id` has a record.
pub fn exists(id: &str) -> bool {
    tree::container(id).join(STATE).exists()
}

/// [`create`], owned by `owner`.
pub fn create_owned(
    spec: &ContainerSpec,
    new: &NewRecord,
    owner: Process,
) -> anyhow::Result<Record> {
    let name = match new.name {
        Some(name) => {
            validate_name(name).map_err(anyhow::Error::msg)?;
            name.to_string()
        }
        None => super::record::new_name(),
    };
    // A foreground run starts at once, its launcher the owner; a detached one is `created`
    // until its monitor says it runs.
    let record = Record {
        id: spec.id.clone(),
        name,
        namespace: super::record::namespace(),
        owner: Some(owner),
        status: if new.detached {
            Status::Created
        } else {
            Status::Running
        },
        init: None,
        exit_code: None,
        oom_killed: false,
        created: now_ms(),
        started: (!new.detached).then(now_ms),
        finished: None,
        detached: new.detached,
        auto_remove: new.auto_remove,
        tty: new.tty,
        interactive: new.interactive,
        restart: new.restart,
        restart_count: 0,
        stopped_by_user: false,
        stop_signal: new.stop_signal,
        stop_timeout: new.stop_timeout,
        health: None,
        opener: new.opener,
    };
    let dir = tree::container(&record.id);
    let spec_json = serde_json::to_vec(spec).context("cannot serialize the spec")?;
    let clash = tree::make_in(|| {
        let _lock = lock()?;
        // Only names need the lock: ids are random.
        if let Some(other) = holder(&record.namespace, &record.name) {
            return Ok(Some(other.short_id().to_string()));
        }
        // The directory may be there already, without a record: a foreground run's helper
        // makes its overlay state before the cleaner records it.
        match std::fs::create_dir(&dir) {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && !exists(&record.id) => {}
            made => made?,
        }
        std::fs::write(dir.join(SPEC), &spec_json)?;
        if !spec.anonymous.is_empty() {
            std::fs::write(dir.join(ANONYMOUS), anonymous_dirs(spec).join("\n"))?;
        }
        write(&record)?;
        super::name_index::set(&record.namespace, &record.name, &record.id)?;
        Ok(None)
    })
    .with_context(|| format!("cannot record container {}", record.name))?;
    if let Some(other) = clash {
        bail!(
            "the container name \"{}\" is already in use by container {other}: remove or rename that container to reuse the name",
            record.name
        );
    }
    if let Some(image) = &spec.image {
        // The record names the image's layers now: the start-up's pin on them can go.
        super::pins::remove(&image.store, &record.id);
    }
    super::events::record("create", &record, None);
    // A foreground run is recorded as it starts.
    if record.status == Status::Running {
        super::events::record("start", &record, None);
    }
    Ok(record)
}

/// Replaces the record's file by rename.
fn write(record: &Record) -> std::io::Result<()> {
    let dir = tree::container(&record.id);
    let tmp = dir.join(".state.json.new");
    std::fs::write(&tmp, serde_json::to_vec_pretty(record)?)?;
    std::fs::rename(&tmp, dir.join(STATE))
}

/// The record of container `id`, as written last. A foreground container's PID 1 is found
/// below its launcher when asked for (its start-up does not stop to write it down).
pub fn load(id: &str) -> anyhow::Result<Record> {
    read(id).map(with_init)
}

/// The record of container `id` as written (a foreground container's PID 1 not looked for).
fn read(id: &str) -> anyhow::Result<Record> {
    let path = tree::container(id).join(STATE);
    let json = std::fs::read(&path).with_context(|| format!("no such container: {id}"))?;
    serde_json::from_slice(&json).with_context(|| format!("{} is damaged", path.display()))
}

/// `record` with its PID 1, found below its launcher for a foreground container (whose
/// start-up does not stop to write it down): a walk of two generations of `/proc`, done for
/// the containers a caller shows or acts on, never for a whole listing.
pub fn with_init(mut record: Record) -> Record {
    if !record.detached && record.status == Status::Running && record.init.is_none() {
        record.init = record.owner.and_then(super::process::pid1_below);
    }
    record
}

/// The spec container `id` runs.
pub fn spec(id: &str) -> anyhow::Result<ContainerSpec> {
    let path = tree::container(id).join(SPEC);
    let json = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_slice(&json).with_context(|| format!("{} is damaged", path.display()))
}

/// Replaces container `id`'s spec (`update`'s new limits), atomically.
pub fn set_spec(id: &str, spec: &ContainerSpec) -> anyhow::Result<()> {
    let dir = tree::container(id);
    let tmp = dir.join(".spec.json.new");
    std::fs::write(&tmp, serde_json::to_vec(spec)?).context("cannot write the spec")?;
    std::fs::rename(&tmp, dir.join(SPEC)).context("cannot write the spec")
}

/// Changes container `id`'s record under the lock; returns the record as written.
pub fn update(id: &str, change: impl FnOnce(&mut Record)) -> anyhow::Result<Record> {
    let _lock = lock().context("cannot lock the container records")?;
    let mut record = read(id)?;
    change(&mut record);
    write(&record).with_context(|| format!("cannot write container {id}'s record"))?;
    Ok(with_init(record))
}

/// Renames a container; the new name must be free.
pub fn rename(id: &str, name: &str) -> anyhow::Result<()> {
    validate_name(name).map_err(anyhow::Error::msg)?;
    let _lock = lock().context("cannot lock the container records")?;
    let namespace = super::record::namespace();
    if let Some(other) = holder(&namespace, name).filter(|o| o.id != id) {
        bail!(
            "the container name \"{name}\" is already in use by container {}",
            other.short_id()
        );
    }
    let mut record = read(id)?;
    let old = std::mem::replace(&mut record.name, name.to_string());
    write(&record).context("cannot write the record")?;
    super::name_index::unset(&record.namespace, &old, id);
    super::name_index::set(&record.namespace, name, id).context("cannot index the new name")?;
    super::events::record("rename", &record, None);
    Ok(())
}

/// Every record, as written (unrepaired: [`crate::runtime::reclaim`] lists them repaired);
/// none when the tree does not exist.
pub fn records() -> Vec<Record> {
    scan().0
}

/// Every record, as written (a foreground container's PID 1 not looked for: see
/// [`with_init`]), and whether a container directory without a record older than [`GRACE`]
/// was seen: the mark of a crash, which only a sweep cleans.
pub fn scan() -> (Vec<Record>, bool) {
    let mut unrecorded = false;
    let mut records: Vec<Record> = std::fs::read_dir(tree::containers())
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            let record = read(&name).ok();
            if record.is_none() && looks_like_id(&name) && !e.path().join(STATE).exists() {
                unrecorded |= older_than_grace(&e.path());
            }
            record
        })
        .collect();
    records.sort_by_key(|r| std::cmp::Reverse(r.created));
    (records, unrecorded)
}

/// The container that holds `name` in `namespace`, one whose owner lives or that has ended
/// (a record whose owner died gives its name up): through the index, one link and one record;
/// a name too long for it, by every record.
fn holder(namespace: &str, name: &str) -> Option<Record> {
    let holds = |r: &Record| r.name == name && r.namespace == namespace && !repairable(r);
    match super::name_index::link(namespace, name) {
        Some(_) => super::name_index::lookup(namespace, name)
            .and_then(|id| read(&id).ok())
            .filter(holds),
        None => records().into_iter().find(holds),
    }
}

/// The container named `name` (or whose id `name` is, or is the one id of this namespace
/// that starts with it) in `namespace`: through the name index, or the directory's listing
/// and the records of the ids that match. `None` when none of these finds one (a name the
/// index lost, an ambiguous prefix: the caller reads every record then).
pub fn named(namespace: &str, name: &str) -> Option<Record> {
    let here = |r: &Record| r.namespace == namespace;
    if let Some(r) = super::name_index::lookup(namespace, name)
        .and_then(|id| read(&id).ok())
        .filter(|r| r.name == name && here(r))
    {
        return Some(with_init(r));
    }
    let hex = !name.is_empty() && name.len() <= 64 && name.bytes().all(|b| b.is_ascii_hexdigit());
    if !hex {
        return None;
    }
    let mut matching = std::fs::read_dir(tree::containers())
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(name))
        .filter_map(|e| read(&e.file_name().to_string_lossy()).ok())
        .filter(here);
    match (matching.next(), matching.next()) {
        (Some(one), None) => Some(with_init(one)),
        _ => None,
    }
}

/// True when the record claims a life its owner no longer has.
pub fn repairable(record: &Record) -> bool {
    record.status != Status::Exited && !record.owner.as_ref().is_some_and(Process::alive)
}

/// Removes the container's record and directory only, leaving its cgroup to the cleaner that
/// owns it (which [`crate::runtime::reclaim::remove`] releases too): what a foreground launcher does once its helper is reaped, off the cleaner's
/// path and cheaply (no cgroup lookup on the way to the caller's exit).
pub fn forget(id: &str) {
    let record = read(id).ok();
    if let Some(r) = &record
        && let Ok(_lock) = lock()
    {
        super::name_index::unset(&r.namespace, &r.name, id);
    }
    discard(id, record.as_ref());
}

/// Drops the index's links whose containers have no record (a sweep's).
pub fn remove_dangling_names() {
    if !super::name_index::dir().exists() {
        return;
    }
    // The lock lives on `containers/`, which goes with the last record: made again to lock.
    if let Ok(_lock) = tree::make_in(lock) {
        super::name_index::remove_dangling();
    }
    tree::remove_if_empty();
}

/// Drops `record`'s name from the index if it still points at it (its record is gone).
pub fn forget_name(record: &Record) {
    if let Ok(_lock) = lock() {
        super::name_index::unset(&record.namespace, &record.name, &record.id);
    }
    tree::remove_if_empty();
}

/// [`forget`] for a record [`settle`] has already taken out of the listing (`record`, as it
/// was then).
pub fn forget_settled(id: &str, record: &Record) {
    discard(id, Some(record));
}

/// Removes container `id`'s directory, and with its `record` (if it was read) what goes with
/// it: its anonymous volumes if it was to be removed on its end, its events.
fn discard(id: &str, record: Option<&Record>) {
    // A container removed on its end (`--rm`, a foreground run) takes its anonymous volumes
    // along, as Docker's; one removed by `rm` keeps them unless `rm -v` ([`remove_volumes`]).
    if record.is_some_and(|r| r.auto_remove) {
        remove_volumes(id);
    }
    if let Some(record) = record {
        // A foreground run's end is seen here first (its owner never records it).
        if record.status == Status::Running {
            super::events::record("die", record, record.exit_code);
        }
        super::events::record("destroy", record, None);
    }
    super::idmaps::release(id);
    let _ = std::fs::remove_dir_all(tree::container(id));
    tree::remove_if_empty();
    // A run that ended before it was recorded still held its image's layers by a pin.
    super::pins::remove(Path::new(""), id);
}

/// The volume directories of `spec`'s anonymous volumes, as its (resolved) binds name them.
fn anonymous_dirs(spec: &ContainerSpec) -> Vec<String> {
    spec.volumes
        .iter()
        .filter_map(|v| match v {
            crate::spec::volume::Volume::Bind { src, .. } => src.parent(),
            _ => None,
        })
        .filter(|dir| {
            dir.file_name()
                .is_some_and(|n| spec.anonymous.iter().any(|a| n == a.as_str()))
        })
        .map(|dir| dir.display().to_string())
        .collect()
}

/// Removes container `id`'s anonymous volumes (`rm -v`); it must have ended.
pub fn remove_volumes(id: &str) {
    let Ok(dirs) = std::fs::read_to_string(tree::container(id).join(ANONYMOUS)) else {
        return;
    };
    for dir in dirs.lines() {
        super::volumes::remove_dir(Path::new(dir));
    }
}

/// What a record whose owner died needs, once brought to the truth by [`settle`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// Its owner lives, or it had ended: nothing.
    Fine,
    /// Half-made, or to be removed when it ended: its record is out of the listing already
    /// (as it was, here); remove the rest and what it held ([`forget_settled`]).
    Remove(Box<Record>),
    /// Marked exited 137 (as Docker reports a killed container): release what it held.
    Release,
}

/// Brings one record whose owner died to the truth, under the lock: a half-made one (or one
/// to be removed) is left for the caller to remove, a running one is marked exited. What it
/// held on the host is the caller's to release ([`crate::runtime::reclaim::repair`]).
pub fn settle(id: &str) -> Settled {
    // Looked at first without the lock, which launchers starting containers wait for.
    if !read(id).is_ok_and(|r| repairable(&r)) {
        return Settled::Fine;
    }
    let Ok(_lock) = lock() else {
        return Settled::Fine;
    };
    let Ok(mut record) = read(id) else {
        return Settled::Fine;
    };
    if !repairable(&record) {
        return Settled::Fine;
    }
    if record.status == Status::Created || record.auto_remove {
        // Out of the listing here, under the lock: a monitor about to take a created record
        // over (its launcher killed just after spawning it) finds none and gives up, instead
        // of starting a container whose record is going; and no one lists a record half
        // removed.
        let _ = std::fs::remove_file(tree::container(id).join(STATE));
        super::name_index::unset(&record.namespace, &record.name, id);
        return Settled::Remove(Box::new(record));
    }
    record.status = Status::Exited;
    record.exit_code.get_or_insert(137);
    record.finished.get_or_insert_with(now_ms);
    record.init = None;
    record.owner = None;
    let _ = write(&record);
    Settled::Release
}

/// The container a user named among `records`: its full name, its full id, or a unique prefix
/// of its id.
pub fn find_in(records: &[Record], name_or_id: &str) -> anyhow::Result<Record> {
    if let Some(r) = records
        .iter()
        .find(|r| r.name == name_or_id || r.id == name_or_id)
    {
        return Ok(r.clone());
    }
    let matches: Vec<&Record> = records
        .iter()
        .filter(|r| !name_or_id.is_empty() && r.id.starts_with(name_or_id))
        .collect();
    match matches.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(anyhow!("no such container: {name_or_id}")),
        _ => Err(anyhow!(
            "multiple containers match the id prefix {name_or_id}: give more of it"
        )),
    }
}

/// True when cgroup `id` (or another thing named by a container id) belongs to a container
/// whose owner lives.
pub fn owned(id: &str) -> bool {
    read(id).is_ok_and(|r| r.owner.as_ref().is_some_and(Process::alive))
}

/// How long a cgroup or directory without a record is left alone: a foreground run is
/// recorded by its cleaner, just after its helper has started making them.
pub const GRACE: std::time::Duration = std::time::Duration::from_secs(30);

/// True when `path` was last changed more than [`GRACE`] ago.
pub fn older_than_grace(path: &std::path::Path) -> bool {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > GRACE))
}

/// Removes container directories without a record file, older than [`GRACE`]: what a crash
/// left. (A record that cannot be read is left alone: it may name a container that runs.)
pub fn remove_unrecorded() {
    let unrecorded = || -> Vec<PathBuf> {
        std::fs::read_dir(tree::containers())
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| {
                looks_like_id(&e.file_name().to_string_lossy())
                    && !e.path().join(STATE).exists()
                    && older_than_grace(&e.path())
            })
            .map(|e| e.path())
            .collect()
    };
    // Looked for first without the lock (launchers starting containers wait for it), then
    // again under it.
    if unrecorded().is_empty() {
        return;
    }
    let Ok(_lock) = lock() else { return };
    for dir in unrecorded() {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// True for names of the form [`super::record::new_id`] makes: what we did not name, we do
/// not remove.
pub fn looks_like_id(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The path of the container's control socket (its monitor listens there).
pub fn socket(id: &str) -> PathBuf {
    tree::container(id).join("ctl.sock")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::record::new_id;

    #[test]
    fn only_our_ids_are_swept() {
        assert!(looks_like_id(&new_id()));
        assert!(!looks_like_id("1234-1"));
        assert!(!looks_like_id("docker"));
    }
}
