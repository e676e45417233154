//! What happened to containers, for `events`: one JSON object a line in
//! `/run/my-container-tui/events.json`, appended by whoever made it happen (the store at
//! create and destroy, the monitor at start, die, oom and health changes, `pause`, `rename`).
//! One `write` with `O_APPEND` a line, so lines of several writers never interleave; past
//! [`KEEP`] bytes the file is cut to its newer half.
//!
//! It lives as long as the tree does: written only where the tree exists (an event is about a
//! container, whose directory is in it), and removed with the tree once the last container
//! is gone ([`super::tree::remove_if_empty`]), so a host with no container keeps nothing. A
//! follower holds the file open and drains it before it moves to a new one.

use super::record::now_ms;
use super::tree;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::PathBuf;

/// The most the journal holds before its older half goes.
const KEEP: u64 = 1 << 20;

/// One event, in Docker's words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Unix milliseconds.
    pub time_ms: u64,
    /// `create`, `start`, `die`, `oom`, `destroy`, `pause`, `unpause`, `rename`,
    /// `health_status: healthy`.
    pub action: String,
    pub id: String,
    pub name: String,
    /// The namespace the container is in (`events` shows its own).
    pub namespace: String,
    /// `die`'s exit code, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
}

/// The journal's path.
pub fn path() -> PathBuf {
    tree::root().join("events.json")
}

/// Appends `action` for `record`'s container; never fails its caller (an event lost is better
/// than a container not started), and never makes the tree.
pub fn record(action: &str, record: &super::Record, exit_code: Option<i32>) {
    let event = Event {
        time_ms: now_ms(),
        action: action.to_string(),
        id: record.id.clone(),
        name: record.name.clone(),
        namespace: record.namespace.clone(),
        exit_code,
    };
    let Ok(mut line) = serde_json::to_vec(&event) else {
        return;
    };
    line.push(b'\n');
    if !tree::root().is_dir() {
        return;
    }
    let opened = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path());
    if let Ok(mut file) = opened {
        let _ = file.write_all(&line);
        if file.metadata().is_ok_and(|m| m.len() > KEEP) {
            trim();
        }
    }
}

/// Cuts the journal to its newer half (at a line's start), replacing it by rename.
fn trim() {
    let Ok(text) = std::fs::read(path()) else {
        return;
    };
    let half = text.len() / 2;
    let start = text[half..]
        .iter()
        .position(|b| *b == b'\n')
        .map_or(text.len(), |i| half + i + 1);
    let tmp = path().with_extension("json.new");
    if std::fs::write(&tmp, &text[start..]).is_ok() {
        let _ = std::fs::rename(&tmp, path());
    }
}

/// A reader of the journal that follows it across its cuts and removals: it keeps the file
/// it has open until that is drained and another is at the path.
pub struct Follower {
    file: Option<std::fs::File>,
    pending: Vec<u8>,
}

impl Follower {
    /// From the journal's start (`from_start`), or from its end: only what comes next.
    pub fn open(from_start: bool) -> Follower {
        use std::io::{Seek, SeekFrom};
        let mut file = std::fs::File::open(path()).ok();
        if !from_start && let Some(f) = &mut file {
            let _ = f.seek(SeekFrom::End(0));
        }
        Follower {
            file,
            pending: Vec::new(),
        }
    }

    /// The whole lines written since the last call.
    pub fn read(&mut self) -> Vec<Event> {
        use std::os::unix::fs::MetadataExt;
        let mut events = self.drain();
        // Drained: a new journal at the path (cut, or made again after the tree went) is
        // read from its start.
        let current = std::fs::metadata(path()).ok().map(|m| (m.dev(), m.ino()));
        let ours = self
            .file
            .as_ref()
            .and_then(|f| f.metadata().ok())
            .map(|m| (m.dev(), m.ino()));
        if current.is_some() && current != ours {
            self.file = std::fs::File::open(path()).ok();
            self.pending.clear();
            events.extend(self.drain());
        }
        events
    }

    fn drain(&mut self) -> Vec<Event> {
        use std::io::Read;
        let Some(file) = &mut self.file else {
            return Vec::new();
        };
        let _ = file.read_to_end(&mut self.pending);
        let whole = self
            .pending
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |i| i + 1);
        let lines: Vec<u8> = self.pending.drain(..whole).collect();
        lines
            .split(|b| *b == b'\n')
            .filter_map(|line| serde_json::from_slice(line).ok())
            .collect()
    }
}
