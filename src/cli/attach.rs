//! `attach CONTAINER`: this terminal on a detached container's, through its monitor, until
//! the container ends (its exit code is ours) or the detach keys, Ctrl-p Ctrl-q, are typed.

use super::error::{CliError, Outcome};
use crate::client::{Connection, send_input};
use crate::headless::raw::RawMode;
use crate::monitor::protocol::{Event, Request, Stream};
use crate::state::Status;
use std::io::{IsTerminal, Read, Write};
use std::sync::mpsc;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The keys that detach, Docker's form: `ctrl-<letter>` or a character, comma separated
    /// (`ctrl-a,d`); empty: none [default: ctrl-p,ctrl-q]
    #[arg(long, value_name = "KEYS", default_value = "ctrl-p,ctrl-q", value_parser = parse_keys)]
    detach_keys: DetachKeys,
    container: String,
}

/// The byte sequence that detaches (none: typing never detaches).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetachKeys(Vec<u8>);

/// Parses `--detach-keys` as Docker does: `ctrl-a`…`ctrl-z`, `ctrl-@`, `ctrl-[`, `ctrl-\\`,
/// `ctrl-]`, `ctrl-^`, `ctrl-_`, or one plain character, comma separated.
fn parse_keys(text: &str) -> Result<DetachKeys, String> {
    let mut keys = Vec::new();
    for key in text.split(',').filter(|k| !k.is_empty()) {
        let byte = match key.strip_prefix("ctrl-") {
            Some(c) if c.len() == 1 => match c.as_bytes()[0].to_ascii_lowercase() {
                b @ b'a'..=b'z' => b - b'a' + 1,
                b'@' => 0,
                b @ (b'[' | b'\\' | b']' | b'^' | b'_') => b - b'@',
                _ => return Err(format!("invalid detach key {key:?}")),
            },
            None if key.len() == 1 && key.is_ascii() => key.as_bytes()[0],
            _ => {
                return Err(format!(
                    "invalid detach key {key:?} (ctrl-<letter> or one character)"
                ));
            }
        };
        keys.push(byte);
    }
    Ok(DetachKeys(keys))
}

enum Ending {
    Exited(i32),
    Detached,
}

/// The window size to ask for: this terminal's, or 80x24.
fn size() -> (u16, u16) {
    let (cols, rows) = crossterm::terminal::size().unwrap_or((80, 24));
    (rows, cols)
}

/// Splits input at the detach keys: the bytes to send, and whether the keys were typed. The
/// start of the sequence at the end of a read waits in `held` (how much of it matched) for
/// the next bytes; a sequence that breaks off is sent as typed.
fn scan(keys: &DetachKeys, held: &mut usize, input: &[u8]) -> (Vec<u8>, bool) {
    let keys = &keys.0;
    let mut out = Vec::with_capacity(input.len() + keys.len());
    for &b in input {
        if keys.is_empty() {
            out.push(b);
            continue;
        }
        if b == keys[*held] {
            *held += 1;
            if *held == keys.len() {
                return (out, true);
            }
            continue;
        }
        out.extend_from_slice(&keys[..*held]);
        *held = usize::from(b == keys[0]);
        if *held == 0 {
            out.push(b);
        }
    }
    (out, false)
}

pub fn run(args: &Args) -> Outcome {
    let record = crate::runtime::reclaim::find(&args.container)?;
    if record.status != Status::Running || !record.detached {
        return Err(CliError::msg(format!(
            "cannot attach to container {}: it is not a running detached container",
            record.name
        )));
    }
    let conn = Connection::open(&record)?;
    let (rows, cols) = size();
    let attach = Request::Attach {
        rows,
        cols,
        // The screen as it is; what left it before is the container's log.
        replay: record.tty,
    };
    let (tx, rx) = mpsc::channel();
    let (reader, writer) = match (conn.send(&attach), conn.try_clone()) {
        (Ok(()), Ok(w)) => (conn, w),
        (Err(e), _) | (_, Err(e)) => return Err(e.into()),
    };
    let raw = if record.tty && std::io::stdin().is_terminal() {
        RawMode::enable()
    } else {
        None
    };
    // Window changes: a thread of its own waits for SIGWINCH (blocked in every thread).
    let mut winch = nix::sys::signal::SigSet::empty();
    winch.add(nix::sys::signal::Signal::SIGWINCH);
    let _ = winch.thread_block();
    if let Ok(resizer) = writer.try_clone() {
        std::thread::spawn(move || {
            while winch.wait().is_ok() {
                let (rows, cols) = size();
                let _ = resizer.send(&Request::Resize { rows, cols });
            }
        });
    }
    let detach_tx = tx.clone();
    let tty = record.tty;
    let keys = args.detach_keys.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        let mut held = 0;
        let mut stdin = std::io::stdin().lock();
        loop {
            match stdin.read(&mut buf) {
                Ok(0) | Err(_) => {
                    if !tty {
                        let _ = writer.send(&Request::CloseStdin);
                    }
                    return;
                }
                Ok(n) => {
                    let (bytes, detach) = scan(&keys, &mut held, &buf[..n]);
                    if !bytes.is_empty() && send_input(&writer, &bytes).is_err() {
                        return;
                    }
                    if detach {
                        let _ = detach_tx.send(Ending::Detached);
                        return;
                    }
                }
            }
        }
    });
    std::thread::spawn(move || {
        let mut out = std::io::stdout();
        let mut err = std::io::stderr();
        while let Some(event) = reader.recv() {
            match event {
                Event::Output(Stream::Stdout, bytes) => {
                    let _ = out.write_all(&bytes).and_then(|()| out.flush());
                }
                Event::Output(Stream::Stderr, bytes) => {
                    let _ = err.write_all(&bytes).and_then(|()| err.flush());
                }
                Event::Exited { code, .. } => {
                    let _ = tx.send(Ending::Exited(code));
                    return;
                }
                Event::Done
                | Event::Failed(_)
                | Event::History(_)
                | Event::HistoryEnd { .. }
                | Event::Skipped
                | Event::Marked => {}
            }
        }
        // The monitor went without a word: it was killed, and the container with it.
        let _ = tx.send(Ending::Exited(137));
    });
    let outcome = rx.recv().unwrap_or(Ending::Detached);
    drop(raw);
    match outcome {
        Ending::Exited(code) => Ok(code),
        Ending::Detached => {
            if record.tty {
                eprintln!();
            }
            Ok(0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detach_keys_are_taken_and_a_lone_ctrl_p_passes() {
        let keys = parse_keys("ctrl-p,ctrl-q").unwrap();
        assert_eq!(keys, DetachKeys(vec![0x10, 0x11]));
        let mut held = 0;
        assert_eq!(
            scan(&keys, &mut held, b"ab\x10\x11cd"),
            (b"ab".to_vec(), true)
        );
        let mut held = 0;
        assert_eq!(scan(&keys, &mut held, b"a\x10"), (b"a".to_vec(), false));
        assert_eq!(scan(&keys, &mut held, b"x"), (b"\x10x".to_vec(), false));
        let mut held = 0;
        assert_eq!(scan(&keys, &mut held, b"\x10"), (vec![], false));
        assert_eq!(scan(&keys, &mut held, b"\x11"), (vec![], true));
        let mut held = 0;
        assert_eq!(
            scan(&keys, &mut held, b"\x10\x10\x11"),
            (b"\x10".to_vec(), true)
        );
    }

    #[test]
    fn other_detach_keys_and_none() {
        let keys = parse_keys("ctrl-a,d").unwrap();
        assert_eq!(keys, DetachKeys(vec![0x01, b'd']));
        let mut held = 0;
        assert_eq!(scan(&keys, &mut held, b"xd\x01d"), (b"xd".to_vec(), true));
        let none = parse_keys("").unwrap();
        let mut held = 0;
        assert_eq!(
            scan(&none, &mut held, b"\x10\x11"),
            (b"\x10\x11".to_vec(), false)
        );
        assert!(parse_keys("ctrl-1").is_err() && parse_keys("ab").is_err());
        assert_eq!(parse_keys("ctrl-[").unwrap(), DetachKeys(vec![0x1b]));
    }
}
