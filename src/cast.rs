//! Recording a session as asciinema's asciicast v2 (`asciinema play` plays it): a JSON header
//! line, then one JSON array a line for each piece of output (`[seconds, "o", text]`) and each
//! resize (`[seconds, "r", "COLSxROWS"]`). Written by hand: the format is three line shapes,
//! and no crate writes it that is worth a dependency.

use std::io::Write;
use std::time::Instant;

/// A recording in progress, written to `W` (a file; stdout for `logs --asciicast`).
pub struct Cast<W: Write = std::fs::File> {
    file: W,
    start: Instant,
    /// The start of a UTF-8 character a read cut in two: JSON strings take whole characters.
    carry: Vec<u8>,
}

impl<W: Write> Cast<W> {
    /// Starts a recording of a `cols`x`rows` terminal in `file`.
    pub fn start(file: W, cols: u16, rows: u16) -> std::io::Result<Cast<W>> {
        let mut cast = Cast {
            file,
            start: Instant::now(),
            carry: Vec::new(),
        };
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let header = serde_json::json!({
            "version": 2,
            "width": cols,
            "height": rows,
            "timestamp": timestamp,
            "env": { "TERM": "xterm-256color" },
        });
        writeln!(cast.file, "{header}")?;
        Ok(cast)
    }

    fn event(&mut self, at: f64, kind: &str, data: &str) -> std::io::Result<()> {
        let line = serde_json::to_string(&(at, kind, data)).map_err(std::io::Error::other)?;
        writeln!(self.file, "{line}")
    }

    /// Output the session drew, now: whole characters, a cut one's start kept for the next.
    pub fn output(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.output_at(self.start.elapsed().as_secs_f64(), bytes)
    }

    /// Output drawn `at` seconds into the recording (a log's entries, replayed).
    pub fn output_at(&mut self, at: f64, bytes: &[u8]) -> std::io::Result<()> {
        let mut all = std::mem::take(&mut self.carry);
        all.extend_from_slice(bytes);
        let mut text = String::with_capacity(all.len());
        let mut rest = &all[..];
        loop {
            match std::str::from_utf8(rest) {
                Ok(s) => {
                    text.push_str(s);
                    break;
                }
                Err(e) => {
                    let (good, bad) = rest.split_at(e.valid_up_to());
                    text.push_str(std::str::from_utf8(good).unwrap_or_default());
                    match e.error_len() {
                        // Not UTF-8 at all: shown as the replacement character.
                        Some(n) => {
                            text.push('\u{fffd}');
                            rest = &bad[n..];
                        }
                        None => {
                            self.carry = bad.to_vec();
                            break;
                        }
                    }
                }
            }
        }
        if text.is_empty() {
            return Ok(());
        }
        self.event(at, "o", &text)
    }

    /// The terminal took a new size.
    pub fn resize(&mut self, cols: u16, rows: u16) -> std::io::Result<()> {
        self.event(
            self.start.elapsed().as_secs_f64(),
            "r",
            &format!("{cols}x{rows}"),
        )
    }

    /// What was written, flushed.
    pub fn finish(mut self) -> std::io::Result<W> {
        self.file.flush()?;
        Ok(self.file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A header, then output with a character cut across two reads joined whole, invalid bytes
    /// replaced, and a resize: every line JSON of asciicast v2's shape.
    #[test]
    fn a_recording_is_asciicast_v2() {
        let dir = std::env::temp_dir().join(format!("mct-cast-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s.cast");
        let file = std::fs::File::create(&path).unwrap();
        let mut cast = Cast::start(file, 80, 24).unwrap();
        let e_acute = "é".as_bytes();
        cast.output(&[b"caf".as_slice(), &e_acute[..1]].concat())
            .unwrap();
        cast.output(&[&e_acute[1..], b"\r\n\xff!".as_slice()].concat())
            .unwrap();
        cast.resize(100, 30).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0]["version"], 2);
        assert_eq!(
            (lines[0]["width"].as_u64(), lines[0]["height"].as_u64()),
            (Some(80), Some(24))
        );
        assert_eq!(lines[1][1], "o");
        assert_eq!(lines[1][2], "caf");
        assert_eq!(lines[2][2], "é\r\n\u{fffd}!");
        assert_eq!(
            (lines[3][1].as_str(), lines[3][2].as_str()),
            (Some("r"), Some("100x30"))
        );
        assert!(lines[3][0].as_f64().unwrap() >= lines[1][0].as_f64().unwrap());
    }
}
