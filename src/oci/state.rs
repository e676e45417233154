//! What the OCI CLI knows of one container: `<root>/<id>/state.json`, written by `create` and
//! read by every other verb, beside the exec fifo and a copy of the bundle's `config.json`
//! (so `exec` and `delete` do not depend on the bundle still being there).
//!
//! The status is never stored: it is read off the kernel each time (runc's way), so a
//! container whose init died unseen is simply `stopped`:
//!
//! | status | when |
//! |---|---|
//! | created | init lives and the exec fifo is still there (init is parked on it) |
//! | running | init lives, the fifo is gone, the cgroup is not frozen |
//! | paused  | init lives and the cgroup is frozen |
//! | stopped | init is gone |

use crate::runtime::cgroups::{Cgroup, Layout};
use crate::state::Process;
use anyhow::{Context, anyhow};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// runc's default is `/run/runc`; ours differs so that the two never share records.
pub const DEFAULT_ROOT: &str = "/run/mct-runc";

/// The record of one container.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    /// The container's init, by host PID and start time.
    pub init: Process,
    pub bundle: PathBuf,
    pub rootfs: PathBuf,
    /// RFC 3339, as runc prints it.
    pub created: String,
    pub annotations: HashMap<String, String>,
    /// `cgroupsPath` below the hierarchies' roots.
    pub cgroup: PathBuf,
    /// The cgroup's ancestors its creation made, removed with it ([`Cgroup::made`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cgroup_made: Vec<PathBuf>,
    /// Whether init has a PID namespace of its own (then `kill` of it ends every process).
    pub own_pid_namespace: bool,
}

/// A container's status, as runc spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Created,
    Running,
    Paused,
    Stopped,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopped => "stopped",
        }
    }
}

/// One `--root`.
#[derive(Debug, Clone)]
pub struct Root(pub PathBuf);

impl Root {
    pub fn dir(&self, id: &str) -> PathBuf {
        self.0.join(id)
    }

    /// The record of `id`, or the error runc gives for an unknown id.
    pub fn load(&self, id: &str) -> anyhow::Result<Record> {
        crate::runtime::bundle::validate_id(id)?;
        let path = self.dir(id).join("state.json");
        let text =
            std::fs::read_to_string(&path).map_err(|_| anyhow!("container {id} does not exist"))?;
        serde_json::from_str(&text).with_context(|| format!("{}: corrupt record", path.display()))
    }

    /// Every container with a record, sorted by id.
    pub fn list(&self) -> Vec<Record> {
        let mut out: Vec<Record> = std::fs::read_dir(&self.0)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| self.load(&e.file_name().to_string_lossy()).ok())
            .collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }

    /// Writes `record` (temporary file, then rename: a reader never sees half of it).
    pub fn save(&self, record: &Record) -> anyhow::Result<()> {
        let dir = self.dir(&record.id);
        let tmp = dir.join("state.json.tmp");
        std::fs::write(&tmp, serde_json::to_vec(record)?)
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        std::fs::rename(&tmp, dir.join("state.json")).context("cannot save the record")
    }

    pub fn fifo(&self, id: &str) -> PathBuf {
        self.dir(id).join("exec.fifo")
    }

    /// The bundle's config as `create` saw it.
    pub fn config(&self, id: &str) -> anyhow::Result<oci_spec::runtime::Spec> {
        let path = self.dir(id).join("config.json");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        Ok(serde_json::from_str(&text)?)
    }
}

impl Record {
    pub fn cgroup(&self) -> Option<Cgroup> {
        Layout::detect().ok().map(|layout| {
            Cgroup::at_path(&layout, &self.cgroup).with_made(self.cgroup_made.clone())
        })
    }

    /// The status now (see the module's table).
    pub fn status(&self, root: &Root) -> Status {
        if !self.init.alive() {
            return Status::Stopped;
        }
        if root.fifo(&self.id).exists() {
            return Status::Created;
        }
        if self.cgroup().is_some_and(|cg| cg.frozen()) {
            return Status::Paused;
        }
        Status::Running
    }

    /// The state as the runtime spec defines it (and runc prints it).
    pub fn state_json(&self, status: Status) -> serde_json::Value {
        let pid = match status {
            Status::Stopped => 0,
            _ => self.init.pid,
        };
        serde_json::json!({
            "ociVersion": "1.0.2",
            "id": self.id,
            "pid": pid,
            "status": status.name(),
            "bundle": self.bundle,
            "rootfs": self.rootfs,
            "created": self.created,
            "owner": "",
            "annotations": self.annotations,
        })
    }
}

/// Where containerd's runc shim keeps the runtime's state for containerd namespace NS:
/// `/run/containerd/runc/NS` (the shim passes it as `--root`).
pub const CONTAINERD_ROOTS: &str = "/run/containerd/runc";

/// The containerd namespace its CRI plugin (Kubernetes') keeps every pod's containers in.
pub const CRI_NAMESPACE: &str = "k8s.io";

/// The roots a dashboard of our namespace NS (`MCT_NAMESPACE`, as containerd's) looks in:
/// containerd's root for NS; in the default namespace, ours and the CRI's too (on a
/// Kubernetes node, its pods). A record of another runtime's (runc's own `state.json`) does
/// not parse as ours and is skipped.
pub fn known_roots() -> Vec<Root> {
    let namespace = crate::state::record::namespace();
    let mut roots = vec![Root(Path::new(CONTAINERD_ROOTS).join(&namespace))];
    if namespace == crate::state::record::DEFAULT_NAMESPACE {
        roots.push(Root(PathBuf::from(DEFAULT_ROOT)));
        roots.push(Root(Path::new(CONTAINERD_ROOTS).join(CRI_NAMESPACE)));
    }
    roots
}

/// Every OCI container of the [`known_roots`], with its status.
pub fn all_known() -> Vec<(Root, Record, Status)> {
    let mut out = Vec::new();
    for root in known_roots() {
        for record in root.list() {
            let status = record.status(&root);
            out.push((root.clone(), record, status));
        }
    }
    out
}
