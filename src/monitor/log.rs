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

/// A place in the log: a byte offset in one file, named by its inode so that it survives
/// the rotations that rename the file under it. Always the start of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    dev: u64,
    ino: u64,
    offset: u64,
}

/// A page of the log before a [`Mark`]: the raw output of its entries, oldest first, and the
/// mark of its first entry (`None`: the page began at the log's start).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Page {
    pub output: Vec<u8>,
    pub before: Option<Mark>,
}

impl Writer {
    /// Where the next entry will be written: what a client attaching now has not been sent
    /// yet lies after it, the history it may ask for ([`page`]) before it.
    pub fn mark(&self) -> Option<Mark> {
        use std::os::unix::fs::MetadataExt;
        let meta = self.file.as_ref()?.metadata().ok()?;
        Some(Mark {
            dev: meta.dev(),
            ino: meta.ino(),
            offset: self.written,
        })
    }
}

/// The entries in about `bytes` of container `id`'s log before `before`, from the first whole
/// one: a page of the history a client pages back through, read from the log rather than
/// kept twice in memory. A page never spans two files: at a file's start the next page is
/// the older file's end. `None` when the file `before` names has been rotated away.
pub fn page(id: &str, before: Mark, bytes: u64) -> Option<Page> {
    let files = std::iter::once(path(id)).chain((1..MOST_FILES).map(|n| rotated(id, n)));
    page_in(files, before, bytes)
}

fn page_in(files: impl Iterator<Item = PathBuf>, before: Mark, bytes: u64) -> Option<Page> {
    use std::io::{Read, Seek, SeekFrom};
    use std::os::unix::fs::MetadataExt;
    let mut files = files.map_while(|p| {
        let f = std::fs::File::open(p).ok()?;
        let meta = f.metadata().ok()?;
        Some((f, meta))
    });
    let (mut file, meta) = files
        .by_ref()
        .find(|(_, m)| (m.dev(), m.ino()) == (before.dev, before.ino))?;
    let mut end = before.offset.min(meta.len());
    let mut mark = before;
    if end == 0 {
        // This file's start: the older one's end, if one is kept.
        let Some((older, meta)) = files.next() else {
            return Some(Page::default());
        };
        (file, end) = (older, meta.len());
        mark = Mark {
            dev: meta.dev(),
            ino: meta.ino(),
            offset: end,
        };
    }
    // Back from the end until the window holds an entry's start (an entry is one read of
    // the container's output, escaped: it may be longer than a page).
    let mut window = bytes.max(1);
    loop {
        let from = end.saturating_sub(window);
        let mut text = vec![0; (end - from) as usize];
        if file.seek(SeekFrom::Start(from)).is_err() || file.read_exact(&mut text).is_err() {
            return Some(Page::default());
        }
        let start = match from {
            0 => Some(0),
            _ => text.iter().position(|b| *b == b'\n').map(|i| i + 1),
        };
        match start {
            Some(start) if from + (start as u64) < end || from == 0 => {
                let output = parse(&text[start..])
                    .flat_map(|e| e.log.into_bytes())
                    .collect();
                let first = from + start as u64;
                let before = (first > 0 || files.next().is_some()).then_some(Mark {
                    offset: first,
                    ..mark
                });
                return Some(Page { output, before });
            }
            _ => window = window.saturating_mul(2),
        }
    }
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

    /// Pages back from a mark: each starts at an entry, the next ends where it began, an entry
    /// longer than a page comes whole, the rotated file's end follows the current file's
    /// start, and the log's start ends it. Every byte comes once.
    #[test]
    fn pages_go_back_through_the_rotated_files_once() {
        let dir = std::env::temp_dir().join(format!("mct-log-pages-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let entry = |text: String| {
            let e = Entry {
                log: text,
                stream: Stream::Stdout,
                time: rfc3339(0),
            };
            format!("{}\n", serde_json::to_string(&e).unwrap())
        };
        let mut older = String::new();
        let mut expected = String::new();
        for i in 0..50 {
            let text = format!("old {i}\r\n");
            older.push_str(&entry(text.clone()));
            expected.push_str(&text);
        }
        let long = "x".repeat(3000);
        let mut current = entry(long.clone());
        expected.push_str(&long);
        for i in 0..50 {
            let text = format!("new {i}\r\n");
            current.push_str(&entry(text.clone()));
            expected.push_str(&text);
        }
        let (now, rotated) = (dir.join("log.json"), dir.join("log.json.1"));
        std::fs::write(&rotated, &older).unwrap();
        std::fs::write(&now, &current).unwrap();
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(&now).unwrap();
        let mut mark = Some(Mark {
            dev: meta.dev(),
            ino: meta.ino(),
            offset: meta.len(),
        });
        let mut got: Vec<u8> = Vec::new();
        let mut pages = 0;
        while let Some(before) = mark {
            let page = page_in([now.clone(), rotated.clone()].into_iter(), before, 500).unwrap();
            assert!(!page.output.is_empty(), "page {pages} is empty");
            got.splice(0..0, page.output);
            mark = page.before;
            pages += 1;
        }
        assert_eq!(String::from_utf8(got).unwrap(), expected);
        assert!(pages > 10, "{pages} pages of 500 bytes");
        // A file rotated away: nothing.
        let gone = Mark {
            ino: 0,
            ..mark.unwrap_or(Mark {
                dev: 0,
                ino: 0,
                offset: 0,
            })
        };
        assert_eq!(page_in([now.clone()].into_iter(), gone, 500), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

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
