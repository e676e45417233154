//! What a launcher and its helper tell each other, in files of the root-only state tree
//! ([`super::state`]) where nothing in a container can write: the spec going in, and the facts
//! of the ending coming back.
//!
//! Not the environment: it caps a variable at 128 KiB, and a container's argv may be longer.
//! Not the pty: a program in the container can print anything there, so nothing the launcher
//! believes (an OOM kill) may be read from it.

use super::spec::ContainerSpec;
use super::state;
use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

fn path(id: &str, what: &str) -> PathBuf {
    state::path(&format!("{id}.{what}"))
}

fn create_new(path: &PathBuf, bytes: &[u8]) -> anyhow::Result<()> {
    let mut file = state::make_in(|| {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
    })
    .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Removes a hand-off file, and the tree if that emptied it.
fn remove(path: &PathBuf) {
    let _ = std::fs::remove_file(path);
    state::remove_if_empty();
}

/// Writes the spec for the helper of container `spec.id` to read.
pub fn send_spec(spec: &ContainerSpec) -> anyhow::Result<()> {
    let json = serde_json::to_vec(spec).context("cannot serialize the container spec")?;
    let file = path(&spec.id, "spec");
    // Ids start with our pid: a file already there was left by a crashed launcher that had
    // the same pid, and is no one's now.
    let _ = std::fs::remove_file(&file);
    create_new(&file, &json)
}

/// Removes a spec no helper will read (its spawn failed).
pub fn discard_spec(id: &str) {
    remove(&path(id, "spec"));
}

/// The helper's side: reads the spec of container `id` and removes the file.
pub fn receive_spec(id: &str) -> anyhow::Result<ContainerSpec> {
    let file = path(id, "spec");
    let json = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()));
    remove(&file);
    serde_json::from_slice(&json?).context("invalid container spec")
}

/// How a container ended, beyond its exit status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ending {
    /// The OOM killer ended it.
    pub oom_killed: bool,
}

/// The helper's side: leaves the ending for a launcher that asked for it.
pub fn report_ending(id: &str, ending: Ending) {
    if let Ok(json) = serde_json::to_vec(&ending) {
        let _ = create_new(&path(id, "ending"), &json);
    }
}

/// The launcher's side, once the helper is reaped: the ending it left, removed as read.
pub fn take_ending(id: &str) -> Ending {
    let file = path(id, "ending");
    let ending = std::fs::read(&file)
        .ok()
        .and_then(|json| serde_json::from_slice(&json).ok())
        .unwrap_or_default();
    remove(&file);
    ending
}
