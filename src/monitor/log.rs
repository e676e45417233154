//! A container's log: Docker's json-file fields, one JSON object a line
//! (`{"log":"text\n","stream":"stdout","time":"2026-11-28T22:31:28.123Z"}`), in
//! `containers/<id>/log.json`, rotated to `log.json.1`, `.2`, ... past `--log-opt max-size`
//! (8 MiB unless told), `max-file` files kept (2 unless told), so a container that prints
//! forever holds at most their product; with `--log-driver none`, nothing. Unlike Docker's, an entry is one read of the
//! container's output, not one line: a flood of short lines costs one JSON object a read, and
//! [`lines`] splits them for `logs` (every line of a read has that read's time).
//!
//! The monitor writes it; `logs` reads it, after the container has ended too.

use super::protocol::Stream;
use crate::state::record::{now_ms, rfc3339};
use crate::state::tree;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write};
use std::path::PathBuf;

/// The most rotated files `logs` looks for (`--log-opt max-file` is at most 100).
const MOST_FILES: u32 = 100;

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub log: String,
    pub stream: Stream,
    pub time: String,
}

/// The current log file of container `id`.
pub fn path(id: &str) -> PathBuf {
    tree::container(id).join("log.json")
}

/// The `n`th rotated file (1 the newest).
fn rotated(id: &str, n: u32) -> PathBuf {
    tree::container(id).join(format!("log.json.{n}"))
}

/// The monitor's end: appends output, a line per entry (a chunk that does not end a line
/// becomes an entry of its own, as in Docker).
pub struct Writer {
    id: String,
    file: Option<std::fs::File>,
    written: u64,
    logging: crate::spec::run::Logging,
}

impl Writer {
    pub fn open(id: &str, logging: &crate::spec::run::Logging) -> Writer {
        let file = logging.keep.then(|| open_append(id)).flatten();
        let written = file
            .as_ref()
            .and_then(|f| f.metadata().ok())
            .map_or(0, |m| m.len());
        Writer {
            id: id.to_string(),
            file,
            written,
            logging: logging.clone(),
        }
    }

    /// Logs `bytes` the container wrote on `stream` (invalid UTF-8 is replaced, as Docker does).
    pub fn write(&mut self, stream: Stream, bytes: &[u8]) {
        if self.file.is_none() {
            return;
        }
        let entry = Entry {
            log: String::from_utf8_lossy(bytes).into_owned(),
            stream,
            time: rfc3339(now_ms()),
        };
        let mut out = Vec::with_capacity(bytes.len() + 64);
        if serde_json::to_writer(&mut out, &entry).is_err() {
            return;
        }
        out.push(b'\n');
        if self.written + out.len() as u64 > self.logging.max_size && self.written > 0 {
            self.rotate();
        }
        if let Some(file) = &mut self.file
            && file.write_all(&out).is_ok()
        {
            self.written += out.len() as u64;
        }
    }

    /// `log.json` becomes `log.json.1`, each older one moves up, and the one past
    /// `max-file` goes.
    fn rotate(&mut self) {
        self.file = None;
        let keep = self.logging.max_files;
        if keep <= 1 {
            let _ = std::fs::remove_file(path(&self.id));
        } else {
            let _ = std::fs::remove_file(rotated(&self.id, keep - 1));
            for n in (1..keep - 1).rev() {
                let _ = std::fs::rename(rotated(&self.id, n), rotated(&self.id, n + 1));
            }
            let _ = std::fs::rename(path(&self.id), rotated(&self.id, 1));
        }
        self.file = open_append(&self.id);
        self.written = 0;
    }
}

fn open_append(id: &str) -> Option<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path(id))
        .ok()
}

/// Every entry logged so far, oldest first (the rotated file's first), and the offset in the
/// current file to follow from ([`read_from`]).
pub fn read_all(id: &str) -> (Vec<Entry>, u64) {
    let mut entries = Vec::new();
    for n in (1..MOST_FILES).rev() {
        if let Ok(file) = std::fs::File::open(rotated(id, n)) {
            entries.extend(parse(std::io::BufReader::new(file)));
        }
    }
    let (more, offset) = read_from(id, 0);
    entries.extend(more);
    (entries, offset)
}

/// The entries logged after `offset` in the current file, and the offset after them.
pub fn read_from(id: &str, offset: u64) -> (Vec<Entry>, u64) {
    let mut entries = Vec::new();
    let Ok(mut file) = std::fs::File::open(path(id)) else {
        return (entries, offset);
    };
    let len = file.metadata().map_or(0, |m| m.len());
    // Rotated under us: start the new file from its beginning.
    let offset = if len < offset { 0 } else { offset };
    use std::io::{Read, Seek, SeekFrom};
    if file.seek(SeekFrom::Start(offset)).is_err() {
        return (entries, offset);
    }
    let mut text = Vec::new();
    let _ = file.read_to_end(&mut text);
    // Only whole lines: one being written now is read on the next turn.
    let whole = text.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    entries.extend(parse(&text[..whole]));
    (entries, offset + whole as u64)
}

/// What the container wrote last, from the newest `bytes` of its log files (the rotated one's
/// end too, if the current one is shorter), as the raw output, from the first line that starts
/// whole: the history a client that attaches later replays, read from the log rather than kept
/// twice in memory (or made on every read the container does).
pub fn tail(id: &str, bytes: u64) -> Vec<u8> {
    use std::io::{Read, Seek, SeekFrom};
    let mut out = Vec::new();
    let mut left = bytes;
    let mut cut = false;
    for file in [rotated(id, 1), path(id)].iter().rev() {
        let Ok(mut f) = std::fs::File::open(file) else {
            continue;
        };
        let len = f.metadata().map_or(0, |m| m.len());
        let from = len.saturating_sub(left);
        left -= len - from;
        cut = from > 0;
        let mut text = Vec::new();
        if f.seek(SeekFrom::Start(from)).is_ok() {
            let _ = f.read_to_end(&mut text);
        }
        // From the first whole JSON line when the read began inside one.
        let start = match from {
            0 => 0,
            _ => text
                .iter()
                .position(|b| *b == b'\n')
                .map_or(text.len(), |i| i + 1),
        };
        let mut older: Vec<u8> = parse(&text[start..])
            .flat_map(|e| e.log.into_bytes())
            .collect();
        older.extend_from_slice(&out);
        out = older;
        if left == 0 {
            break;
        }
    }
    // The output itself from its first whole line: an escape sequence cut in two would draw
    // garbage.
    if cut {
        let start = out
            .iter()
            .position(|b| *b == b'\n')
            .map_or(out.len(), |i| i + 1);
        out.drain(..start);
    }
    out
}

/// The entries split into lines (the last of an entry may be a partial one), each with its
/// entry's stream and time: what `logs` prints, and what `--tail` counts.
pub fn lines(entries: Vec<Entry>) -> Vec<Entry> {
    entries
        .into_iter()
        .flat_map(|e| {
            e.log
                .split_inclusive('\n')
                .map(|line| Entry {
                    log: line.to_string(),
                    stream: e.stream,
                    time: e.time.clone(),
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

fn parse(reader: impl BufRead) -> impl Iterator<Item = Entry> {
    reader
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| serde_json::from_str(&l).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_keep_their_stream_and_escapes() {
        let entry = Entry {
            log: "a \"b\"\x1b[0m\n".into(),
            stream: Stream::Stderr,
            time: rfc3339(0),
        };
        let line = serde_json::to_string(&entry).unwrap();
        assert!(line.contains("\"stream\":\"stderr\""), "{line}");
        let parsed: Vec<Entry> = parse(format!("{line}\nnot json\n").as_bytes()).collect();
        assert_eq!(parsed, std::slice::from_ref(&entry));
        let read = Entry {
            log: "one\ntwo\npart".into(),
            ..entry
        };
        let split: Vec<String> = lines(vec![read]).into_iter().map(|e| e.log).collect();
        assert_eq!(split, ["one\n", "two\n", "part"]);
    }
}
