//! The messages between a container's monitor and its clients (the CLI, dashboards), one per
//! datagram on the monitor's `SOCK_SEQPACKET` socket.
//!
//! A message is a tag byte and a body: the terminal's bytes travel raw (a JSON array of
//! numbers would quadruple them); everything else is JSON of the typed variant. Both sides go
//! through [`Request::encode`]/[`Request::decode`] and [`Event::encode`]/[`Event::decode`],
//! never through ad-hoc bytes.

use serde::{Deserialize, Serialize};

/// The largest message: a read from the pty is cut to this, so it always fits a datagram.
pub const MAX_MESSAGE: usize = 64 * 1024;

/// A frame: a screen is drawn at most this often while output keeps coming, by a dashboard
/// and by a monitor redrawing a client that fell behind ([`Request::Redraw`]).
pub const FRAME: std::time::Duration = std::time::Duration::from_millis(16);

/// Runs `receive` with room for one message (and a byte more, to see one cut short), kept for
/// the thread's next: a fresh zeroed 64 KiB for each message was a cost on every keystroke's
/// way, on both sides of the socket.
pub fn with_inbox<R>(receive: impl FnOnce(&mut [u8]) -> R) -> R {
    thread_local! {
        static INBOX: std::cell::RefCell<Vec<u8>> =
            std::cell::RefCell::new(vec![0u8; MAX_MESSAGE + 1]);
    }
    INBOX.with_borrow_mut(|buf| receive(buf))
}

/// Which of the container's output streams bytes came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// What a client asks of a monitor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    /// Send me the container's output from now on (and first, with `replay`, escape sequences
    /// that redraw its terminal as it is), at this window size. The lines that left its
    /// screen before are [`Request::History`]'s.
    Attach { rows: u16, cols: u16, replay: bool },
    /// Bytes for the container's stdin.
    #[serde(skip)]
    Input(Vec<u8>),
    /// The attached window's new size.
    Resize { rows: u16, cols: u16 },
    /// End of input (a pipe's end-of-file; a terminal gets its EOF character instead).
    CloseStdin,
    /// Tell me when the container has ended (an [`Event::Exited`]).
    Wait,
    /// Send me the next page of the lines that left the screen before I attached, newest
    /// page first: the raw output the log holds before the last page sent (the first: before
    /// my attach), as [`Event::History`] parts and an [`Event::HistoryEnd`]. A dashboard asks
    /// for a session's first page once it shows it, and for more as its view nears the top.
    History,
    /// I am behind: drop the output queued for me, and send an [`Event::Skipped`] and the
    /// screen as it is now instead; then, while the output goes on, a redraw like it at most
    /// once a [`FRAME`] rather than the output, and the output again once a frame has passed
    /// without any (tmux redraws a client that cannot keep up rather than sending it every
    /// byte). Only to a monitor that said [`Event::Skipped`] at the attach: an older one
    /// would not answer.
    Redraw,
    /// My screen has every byte sent before this: begin my history's pages here (answered in
    /// order with an [`Event::Marked`]). Redraws end here, with a last one if output came
    /// since the one before. A dashboard asks once a flood it was redrawn through
    /// is over, having kept no history meanwhile.
    Mark,
}

/// What a monitor tells a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    /// The container wrote this.
    #[serde(skip)]
    Output(Stream, Vec<u8>),
    /// Part of a page of the output before the attach ([`Request::History`]).
    #[serde(skip)]
    History(Vec<u8>),
    /// The page is whole; `start`: it began at the log's start, there is no more.
    HistoryEnd { start: bool },
    /// What follows redraws the screen on a fresh terminal, then goes on with the output, and
    /// [`Request::History`]'s pages begin here again: output before it (not yet drawn) was
    /// skipped. First in an attach's answer (which says this monitor takes
    /// [`Request::Redraw`]), then in each redraw's.
    Skipped,
    /// [`Request::History`]'s pages begin here ([`Request::Mark`]).
    Marked,
    /// The request was done.
    Done,
    /// The request failed.
    Failed(String),
    /// PID 1 ended: its exit status (128+N for signal N) and whether the OOM killer did it.
    /// `restarting` when the restart policy starts it again.
    Exited {
        code: i32,
        oom_killed: bool,
        restarting: bool,
    },
}

const JSON: u8 = b'{';
const INPUT: u8 = 0;
const STDOUT: u8 = 1;
const STDERR: u8 = 2;
const HISTORY: u8 = 3;

fn json<T: Serialize>(value: &T) -> Vec<u8> {
    // Our own plain enums always serialize.
    let mut out = vec![JSON];
    out.extend(serde_json::to_vec(value).unwrap_or_default());
    out
}

fn tagged(tag: u8, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + 1);
    out.push(tag);
    out.extend_from_slice(bytes);
    out
}

impl Request {
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Request::Input(bytes) => tagged(INPUT, bytes),
            other => json(other),
        }
    }

    pub fn decode(message: &[u8]) -> Option<Request> {
        match message.split_first()? {
            (&INPUT, bytes) => Some(Request::Input(bytes.to_vec())),
            (&JSON, body) => serde_json::from_slice(body).ok(),
            _ => None,
        }
    }
}

/// Whether an encoded event is output (what [`Request::Redraw`] drops from a queue).
pub fn is_output(message: &[u8]) -> bool {
    matches!(message.first(), Some(&STDOUT | &STDERR))
}

impl Event {
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Event::Output(Stream::Stdout, bytes) => tagged(STDOUT, bytes),
            Event::Output(Stream::Stderr, bytes) => tagged(STDERR, bytes),
            Event::History(bytes) => tagged(HISTORY, bytes),
            other => json(other),
        }
    }

    pub fn decode(message: &[u8]) -> Option<Event> {
        match message.split_first()? {
            (&STDOUT, bytes) => Some(Event::Output(Stream::Stdout, bytes.to_vec())),
            (&STDERR, bytes) => Some(Event::Output(Stream::Stderr, bytes.to_vec())),
            (&HISTORY, bytes) => Some(Event::History(bytes.to_vec())),
            (&JSON, body) => serde_json::from_slice(body).ok(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_survives_the_wire() {
        for request in [
            Request::Attach {
                rows: 24,
                cols: 80,
                replay: true,
            },
            Request::Input(b"ls\r\x00\xff".to_vec()),
            Request::Resize { rows: 1, cols: 2 },
            Request::CloseStdin,
            Request::Wait,
            Request::History,
            Request::Redraw,
            Request::Mark,
        ] {
            assert_eq!(Request::decode(&request.encode()), Some(request));
        }
        for event in [
            Event::Output(Stream::Stdout, b"{not json".to_vec()),
            Event::Output(Stream::Stderr, vec![]),
            Event::History(b"\x1b[1mold\r\n".to_vec()),
            Event::History(vec![]),
            Event::HistoryEnd { start: true },
            Event::Skipped,
            Event::Marked,
            Event::Done,
            Event::Failed("no".into()),
            Event::Exited {
                code: 137,
                oom_killed: true,
                restarting: false,
            },
        ] {
            let message = event.encode();
            assert_eq!(is_output(&message), matches!(event, Event::Output(..)));
            assert_eq!(Event::decode(&message), Some(event));
        }
        assert_eq!(Request::decode(b""), None);
        assert_eq!(Event::decode(b"\x07x"), None);
    }
}
