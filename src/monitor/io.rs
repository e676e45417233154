//! The container's side of its monitor: the helper started on a portable-pty pseudo-terminal
//! (with a tty) or on pipes (without), and the bytes that flow through them.
//!
//! With a tty the monitor also keeps a vt100 screen of everything the container drew, so a
//! client that attaches later (a dashboard reopened after a detach) gets the screen back whole:
//! a full-screen program on the alternate screen, and under it the main screen as it was when
//! the program switched (vt100 keeps that grid to itself, so it is copied at the switch).

use super::protocol::{MAX_MESSAGE, Stream};
use crate::runtime::ContainerSpec;
use crate::runtime::handoff::HandOff;
use crate::runtime::launch::HelperCommand;
use crate::screen::Screen;
use anyhow::{Context, anyhow};
use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use portable_pty::{MasterPty, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::process::Stdio;

/// One start of the container: its helper and the descriptors to it.
pub struct Run {
    pub helper: nix::unistd::Pid,
    /// Kept until the helper is reaped: the spec is read from it, the ending left in it.
    pub handoff: HandOff,
    pub io: Io,
    pub input: Input,
    /// Where the helper hands over the container's own pty, until it has.
    pub console: Option<Console>,
}

/// The socket the helper hands the container's pty master to (runc's console socket), in the
/// container's state directory (root's alone): the one connection taken is the helper's, told
/// by its credentials.
pub struct Console {
    listener: std::os::unix::net::UnixListener,
    path: std::path::PathBuf,
}

impl Console {
    fn bind(id: &str) -> anyhow::Result<Console> {
        let path = crate::state::tree::container(id).join("tty.sock");
        let _ = std::fs::remove_file(&path);
        let listener = crate::state::tree::SocketPath::new(&path)
            .and_then(|short| std::os::unix::net::UnixListener::bind(&short.path))
            .with_context(|| format!("cannot listen on {}", path.display()))?;
        listener.set_nonblocking(true)?;
        Ok(Console { listener, path })
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.listener.as_fd()
    }

    /// The master the helper (`helper`, and no other process) sent, if it has connected.
    fn take(&self, helper: nix::unistd::Pid) -> Option<std::os::fd::OwnedFd> {
        let (stream, _) = self.listener.accept().ok()?;
        let peer =
            nix::sys::socket::getsockopt(&stream, nix::sys::socket::sockopt::PeerCredentials)
                .ok()?;
        if peer.pid() != helper.as_raw() {
            return None;
        }
        // The helper sends as soon as it connects; one that never did must not hold the
        // monitor (and every client of it) up.
        stream.set_nonblocking(false).ok()?;
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(2)))
            .ok()?;
        crate::runtime::console::receive(&stream.into())
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Run {
    /// The helper connected to the console socket: the container's pty master, from now on
    /// read and written here directly, at the screen's size, with what was typed meanwhile.
    pub fn take_console(&mut self) {
        let Some(console) = &self.console else { return };
        let Some(master) = console.take(self.helper) else {
            return;
        };
        // The socket goes (and its file with it): nothing else is ever taken from it.
        self.console = None;
        let file = std::fs::File::from(master);
        nonblocking(file.as_fd());
        if let Io::Tty {
            container, keeper, ..
        } = &mut self.io
        {
            let (rows, cols) = keeper.size;
            crate::runtime::sys::set_winsize(file.as_fd(), rows, cols);
            if let Ok(writer) = file.try_clone() {
                self.input.attach(writer);
            }
            *container = Some(file);
        }
    }
}

/// The most input held for a container that is not reading it; more is dropped (a client that
/// pastes faster than the container reads must not grow the monitor without bound).
const MAX_PENDING: usize = 8 << 20;

/// Where clients' input goes: the pty, or the stdin pipe. Never blocking: what the container
/// does not take yet waits in `pending`, written as the descriptor becomes writable, so a
/// container that does not read its input cannot stall its monitor (and its output). Until
/// the container's own pty is handed over, input waits for it.
pub struct Input {
    fd: Option<std::fs::File>,
    pending: Vec<u8>,
    tty: bool,
    /// End of input was asked for: close once what waits is written.
    closing: bool,
}

impl Input {
    fn new(fd: Option<std::fs::File>, tty: bool) -> Input {
        if let Some(f) = &fd {
            nonblocking(f.as_fd());
        }
        Input {
            fd,
            pending: Vec::new(),
            tty,
            closing: false,
        }
    }

    /// Input that waits for the container's own pty, handed over later ([`Input::attach`]).
    fn awaiting() -> Input {
        Input {
            fd: None,
            pending: Vec::new(),
            tty: true,
            closing: false,
        }
    }

    /// The container's pty master arrived: what waited goes to it.
    fn attach(&mut self, fd: std::fs::File) {
        self.fd = Some(fd);
        self.flush();
    }

    /// Queues `bytes` for the container and writes what it takes now.
    pub fn write(&mut self, bytes: &[u8]) {
        if (self.fd.is_none() && !self.tty) || self.closing {
            return;
        }
        let room = MAX_PENDING.saturating_sub(self.pending.len());
        self.pending
            .extend_from_slice(&bytes[..bytes.len().min(room)]);
        self.flush();
    }

    /// Writes what waits until the descriptor takes no more.
    pub fn flush(&mut self) {
        let Some(fd) = &mut self.fd else { return };
        while !self.pending.is_empty() {
            match fd.write(&self.pending) {
                Ok(n) => {
                    self.pending.drain(..n);
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                // The container closed its end (or its pty is gone): nothing more goes in.
                Err(_) => {
                    self.pending.clear();
                    self.fd = None;
                    return;
                }
            }
        }
        if self.closing && !self.tty {
            self.fd = None;
        }
    }

    /// End of input: a pipe closes (once what waits is written); a terminal gets its EOF
    /// character.
    pub fn close(&mut self) {
        if self.tty {
            self.write(b"\x04");
        } else {
            self.closing = true;
            self.flush();
        }
    }

    /// The descriptor to wait on for room, while input waits.
    pub fn waiting(&self) -> Option<BorrowedFd<'_>> {
        self.fd
            .as_ref()
            .filter(|_| !self.pending.is_empty())
            .map(AsFd::as_fd)
    }
}

/// The container's stdio, as the monitor holds it.
pub enum Io {
    Tty {
        master: Box<dyn MasterPty + Send>,
        reader: std::fs::File,
        /// What the container drew (the lines it pushed off the top are in its log).
        /// The screen a later client gets, kept off the read path.
        keeper: Keeper,
        open: bool,
        /// The container's own pty master, once the helper has handed it over: what the
        /// container writes comes from here (the helper's pty says only what the helper does).
        container: Option<std::fs::File>,
    },
    Pipes {
        stdout: Option<std::process::ChildStdout>,
        stderr: Option<std::process::ChildStderr>,
    },
}

fn nonblocking(fd: BorrowedFd<'_>) {
    if let Ok(flags) = fcntl(fd, FcntlArg::F_GETFL) {
        let flags = OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK;
        let _ = fcntl(fd, FcntlArg::F_SETFL(flags));
    }
}

/// Starts the helper for `spec`: on a pty of `rows`x`cols` when the spec has a tty, else on
/// pipes (stdin a pipe only when `interactive`, else `/dev/null`).
pub fn start(spec: &ContainerSpec, rows: u16, cols: u16, interactive: bool) -> anyhow::Result<Run> {
    let mut helper = HelperCommand::new(spec)?;
    if spec.tty {
        // The container's own pty comes here rather than through a relay in the helper.
        let console = match helper.relays_console() {
            true => Some(Console::bind(&spec.id)?),
            false => None,
        };
        if let Some(c) = &console {
            helper.hand_console_to(&c.path);
        }
        let size = PtySize {
            rows,
            cols,
            pixel_width: 0,
            pixel_height: 0,
        };
        let pair = native_pty_system()
            .openpty(size)
            .map_err(|e| anyhow!("cannot open a pseudo-terminal: {e}"))?;
        helper.prepare_pty(&*pair.master);
        let child = pair
            .slave
            .spawn_command(helper.pty_command())
            .map_err(|e| anyhow!("cannot start the container helper: {e}"))?;
        drop(pair.slave);
        let pid = child
            .process_id()
            .ok_or_else(|| anyhow!("the helper has no PID"))?;
        let fd = pair
            .master
            .as_raw_fd()
            .ok_or_else(|| anyhow!("the pty has no descriptor"))?;
        // SAFETY: the master stays open as long as `master`, which the Io holds; the reader is a
        // duplicate of it, owned by the File.
        let reader = std::fs::File::from(
            unsafe { BorrowedFd::borrow_raw(fd) }
                .try_clone_to_owned()
                .context("pty reader")?,
        );
        nonblocking(reader.as_fd());
        let input = match console {
            Some(_) => Input::awaiting(),
            None => Input::new(Some(reader.try_clone().context("pty writer")?), true),
        };
        Ok(Run {
            helper: nix::unistd::Pid::from_raw(pid as i32),
            handoff: helper.into_handoff(),
            input,
            console,
            io: Io::Tty {
                master: pair.master,
                reader,
                keeper: Keeper::spawn(rows, cols),
                open: true,
                container: None,
            },
        })
    } else {
        let mut cmd = helper.std_command();
        cmd.stdin(if interactive {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = cmd.spawn().context("cannot start the container helper")?;
        let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
        for fd in stdout
            .iter()
            .map(AsFd::as_fd)
            .chain(stderr.iter().map(AsFd::as_fd))
        {
            nonblocking(fd);
        }
        Ok(Run {
            helper: nix::unistd::Pid::from_raw(child.id() as i32),
            handoff: helper.into_handoff(),
            input: Input::new(
                child
                    .stdin
                    .take()
                    .map(|s| std::fs::File::from(std::os::fd::OwnedFd::from(s))),
                false,
            ),
            console: None,
            io: Io::Pipes { stdout, stderr },
        })
    }
}

/// A descriptor the container's output comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The helper's pty (the container's too, when it has no pty of its own).
    Pty,
    /// The container's own pty, handed over.
    Console,
    Stdout,
    Stderr,
}

impl Source {
    /// The stream its bytes are logged and sent as.
    pub fn stream(self) -> Stream {
        match self {
            Source::Stderr => Stream::Stderr,
            _ => Stream::Stdout,
        }
    }
}

impl Io {
    /// The descriptors that may have output.
    pub fn outputs(&self) -> Vec<(BorrowedFd<'_>, Source)> {
        match self {
            Io::Tty {
                reader,
                open,
                container,
                ..
            } => container
                .iter()
                .map(|c| (c.as_fd(), Source::Console))
                .chain(open.then(|| (reader.as_fd(), Source::Pty)))
                .collect(),
            Io::Pipes { stdout, stderr, .. } => stdout
                .iter()
                .map(|o| (o.as_fd(), Source::Stdout))
                .chain(stderr.iter().map(|e| (e.as_fd(), Source::Stderr)))
                .collect(),
        }
    }

    /// Every source, for the last reads once the container has ended.
    pub const SOURCES: [Source; 4] = [Source::Console, Source::Pty, Source::Stdout, Source::Stderr];

    /// Reads what `stream` has now: `Some(bytes)` (empty when nothing waits), or `None` once it
    /// has ended (and stops watching it). It reads until the stream is empty or a message is
    /// full: a pty hands out a few KiB a read, and a flood would otherwise cost a log write, a
    /// screen update and a send per read.
    pub fn read(&mut self, source: Source) -> Option<Vec<u8>> {
        // Grown as it fills: a keystroke's echo is a few bytes, and zeroing a whole message's
        // worth for each read was a cost on its way.
        let mut buf = vec![0u8; 4096];
        let mut len = 0;
        let mut ended = false;
        while len < MAX_MESSAGE - 1 {
            if len == buf.len() {
                buf.resize((buf.len() * 2).min(MAX_MESSAGE - 1), 0);
            }
            let result = match (&mut *self, source) {
                (Io::Tty { reader, open, .. }, Source::Pty) if *open => {
                    reader.read(&mut buf[len..])
                }
                (
                    Io::Tty {
                        container: Some(c), ..
                    },
                    Source::Console,
                ) => c.read(&mut buf[len..]),
                (
                    Io::Pipes {
                        stdout: Some(o), ..
                    },
                    Source::Stdout,
                ) => o.read(&mut buf[len..]),
                (
                    Io::Pipes {
                        stderr: Some(e), ..
                    },
                    Source::Stderr,
                ) => e.read(&mut buf[len..]),
                _ => return None,
            };
            match result {
                Ok(n) if n > 0 => len += n,
                Err(e) if e.raw_os_error() == Some(Errno::EAGAIN as i32) => break,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                // End of file, or EIO from a pty whose every slave has closed.
                _ => {
                    ended = true;
                    break;
                }
            }
        }
        buf.truncate(len);
        if ended {
            match (&mut *self, source) {
                (Io::Tty { container, .. }, Source::Console) => *container = None,
                (Io::Tty { open, .. }, _) => *open = false,
                (Io::Pipes { stdout, .. }, Source::Stdout) => *stdout = None,
                (Io::Pipes { stderr, .. }, _) => *stderr = None,
            }
            if len == 0 {
                return None;
            }
        }
        Some(buf)
    }

    /// Keeps what the container drew (bytes [`Io::read`] returned) in the screen a later
    /// client gets: after the clients have it, so the screen's parse is not in their way.
    pub fn keep(&mut self, bytes: &[u8]) {
        if let Io::Tty { keeper, .. } = self {
            keeper.keep(bytes);
        }
    }

    pub fn resize(&mut self, rows: u16, cols: u16) {
        if let Io::Tty {
            master,
            keeper,
            container,
            ..
        } = self
        {
            keeper.resize(rows, cols);
            // The container's own pty: it gets SIGWINCH from this.
            if let Some(c) = container {
                crate::runtime::sys::set_winsize(c.as_fd(), rows, cols);
            }
            let _ = master.resize(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            });
        }
    }

    /// It keeps a screen to redraw ([`Io::replay`]): the container has a terminal.
    pub fn redraws(&self) -> bool {
        matches!(self, Io::Tty { .. })
    }

    /// [`Io::replay`], answered later (by the screen's thread): `None` without a terminal.
    pub fn replay_later(&self) -> Option<std::sync::mpsc::Receiver<Vec<u8>>> {
        match self {
            Io::Tty { keeper, .. } => Some(keeper.replay_later()),
            Io::Pipes { .. } => None,
        }
    }

    /// Escape sequences that redraw the terminal as the container left it (none without one).
    pub fn replay(&self) -> Vec<u8> {
        match self {
            Io::Tty { keeper, .. } => keeper.replay(),
            Io::Pipes { .. } => Vec::new(),
        }
    }
}

/// The screen a client that attaches later gets, fed on a thread of its own: the read that
/// drains the container's pty sends the bytes to the clients, logs them and hands them here,
/// so a flood is not held up by a second emulator's parse (a third of the monitor's time).
/// The channel keeps the order: a replay is answered after every byte handed over before it.
pub struct Keeper {
    to: std::sync::mpsc::SyncSender<Keep>,
    /// The screen's size, as last set.
    size: (u16, u16),
}

/// Reads the screen's thread may be behind by.
const KEEP_QUEUE: usize = 32;

enum Keep {
    Bytes(Vec<u8>),
    Resize(u16, u16),
    Replay(std::sync::mpsc::Sender<Vec<u8>>),
}

impl Keeper {
    fn spawn(rows: u16, cols: u16) -> Keeper {
        // A bounded queue: a container that writes faster than the screen parses (`yes`)
        // waits for it, rather than growing the monitor (a read is at most a message).
        let (to, from) = std::sync::mpsc::sync_channel(KEEP_QUEUE);
        // No history of its own: it is in the log, which a client's replay reads.
        let mut screen = Screen::new(rows, cols, 0);
        let mut main = None;
        let mut flow = Flow::default();
        // Without the thread (no memory for its stack) a later client gets a blank screen and
        // the container runs on regardless.
        let _ = std::thread::Builder::new()
            .name("screen".into())
            .spawn(move || {
                for keep in from {
                    match keep {
                        Keep::Bytes(bytes) => feed(&mut screen, &mut main, &bytes, &mut flow),
                        Keep::Resize(rows, cols) => screen.resize(rows, cols),
                        Keep::Replay(answer) => {
                            let _ = answer.send(replay(&screen, main.as_deref()));
                        }
                    }
                }
            });
        Keeper {
            to,
            size: (rows, cols),
        }
    }

    fn keep(&self, bytes: &[u8]) {
        let _ = self.to.send(Keep::Bytes(bytes.to_vec()));
    }

    fn resize(&mut self, rows: u16, cols: u16) {
        self.size = (rows, cols);
        let _ = self.to.send(Keep::Resize(rows, cols));
    }

    /// [`replay`] of the screen once it has every byte kept so far.
    fn replay(&self) -> Vec<u8> {
        self.replay_later().recv().unwrap_or_default()
    }

    /// The same, made on the screen's thread while the monitor goes on: where the answer
    /// is not awaited (a dashboard's redraw, many a second in a flood, each waiting for the
    /// screen's thread to catch up while nothing read the pty).
    fn replay_later(&self) -> std::sync::mpsc::Receiver<Vec<u8>> {
        let (answer, answered) = std::sync::mpsc::channel();
        let _ = self.to.send(Keep::Replay(answer));
        answered
    }
}

/// The sequences that switch to the alternate screen (xterm's three forms).
const ENTER_ALTERNATE: [&[u8]; 3] = [b"\x1b[?1049h", b"\x1b[?1047h", b"\x1b[?47h"];

/// What redraws `screen` on a fresh terminal of its size: the main screen under the alternate
/// one when a program is on it, then what is shown, cursor and modes.
fn replay(screen: &Screen, main: Option<&[u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    let screen = screen.vt();
    if screen.alternate_screen() {
        out.extend(main.into_iter().flatten());
        out.extend_from_slice(ENTER_ALTERNATE[0]);
    }
    out.extend(screen.state_formatted().into_bytes());
    out
}

/// Feeds `bytes` to the screen, less the plain lines [`scrolled_past`] finds: those leave
/// nothing on it while every line feed scrolls (no scroll region on the screen in use) and
/// the bytes fed so far end outside an escape sequence ([`Flow`]).
fn feed(screen: &mut Screen, main: &mut Option<Vec<u8>>, bytes: &[u8], flow: &mut Flow) {
    let rows = usize::from(screen.vt().size().0.get());
    let alternate = screen.vt().alternate_screen();
    let skip = match flow.scrolls(alternate) {
        true => scrolled_past(bytes, rows),
        false => None,
    };
    match skip {
        Some(skip) => {
            feed_all(screen, main, &bytes[..skip.start]);
            feed_all(screen, main, &bytes[skip.end..]);
        }
        None => feed_all(screen, main, bytes),
    }
    flow.after(bytes, rows);
}

/// What skipping lines needs to know of the bytes fed so far, read off them as they pass:
/// whether they end inside an escape sequence, and whether either screen (the main or the
/// alternate, each its own, as vt100 keeps them) has a scroll region, where a line feed
/// below the region does not scroll and a skipped line could have stayed.
pub struct Flow {
    ground: bool,
    alternate: bool,
    region: [bool; 2],
    /// The last bytes fed: a sequence split between two reads is read whole.
    tail: Vec<u8>,
}

impl Default for Flow {
    fn default() -> Flow {
        Flow {
            ground: true,
            alternate: false,
            region: [false; 2],
            tail: Vec::new(),
        }
    }
}

impl Flow {
    /// Whether a line feed scrolls wherever the cursor is on the screen in use.
    fn scrolls(&self, alternate: bool) -> bool {
        self.ground && !self.region[usize::from(alternate)]
    }

    fn after(&mut self, bytes: &[u8], rows: usize) {
        // The tail joined on only when a sequence may have begun in it.
        let joined;
        let text: &[u8] = match self.tail.contains(&0x1b) {
            true => {
                joined = [self.tail.as_slice(), bytes].concat();
                &joined
            }
            false => bytes,
        };
        let mut at = 0;
        while let Some(esc) = text[at..].iter().position(|&b| b == 0x1b) {
            let start = at + esc + 1;
            at = start;
            match text.get(start) {
                // RIS: a fresh terminal.
                Some(b'c') => *self = Flow::default(),
                Some(b'[') => {
                    let private = text.get(start + 1) == Some(&b'?');
                    let from = start + 1 + usize::from(private);
                    let end = text[from..]
                        .iter()
                        .position(|b| !(b.is_ascii_digit() || *b == b';'))
                        .map(|n| from + n);
                    let Some(end) = end else { break };
                    let params = std::str::from_utf8(&text[from..end]).unwrap_or("");
                    match (private, text[end]) {
                        (false, b'r') => {
                            self.region[usize::from(self.alternate)] = !full_screen(params, rows)
                        }
                        (true, b'h' | b'l') if is_alternate_switch(params) => {
                            self.alternate = text[end] == b'h'
                        }
                        _ => {}
                    }
                    at = end;
                }
                _ => {}
            }
        }
        self.tail = text[text.len().saturating_sub(32)..].to_vec();
        self.ground = ends_in_ground(self.ground, bytes);
    }
}

/// Whether DECSTBM's parameters (`top;bottom`, either left out) give the whole screen.
fn full_screen(params: &str, rows: usize) -> bool {
    let mut it = params.split(';');
    let mut number = || it.next().filter(|p| !p.is_empty()).map(str::parse::<usize>);
    let (top, bottom) = (number(), number());
    let top_is_first = matches!(top, None | Some(Ok(1)));
    let bottom_is_last = match bottom {
        None => true,
        Some(Ok(b)) => b >= rows,
        Some(Err(_)) => false,
    };
    top_is_first && bottom_is_last
}

/// Whether private modes `params` switch between the main and the alternate screen.
fn is_alternate_switch(params: &str) -> bool {
    params
        .split(';')
        .any(|p| matches!(p, "1049" | "1047" | "47"))
}

/// In a read that ends with more lines than the screen has rows, the plain lines before
/// those: text, `\r`, `\n`, tabs, backspaces and bells, no escape sequence nor charset
/// switch. Whatever row the cursor is on, the last `rows` line feeds scroll every such line
/// off a screen that keeps no history (a monitor's copy: its history is in the log), and they
/// change no mode, attribute or charset. Parsing them was most of a flood's cost (`seq`, a
/// build's log) for nothing. What is left starts after a line that ended in `\r\n`, so at
/// the left edge, as it would have. Only for a read that starts outside an escape sequence.
fn scrolled_past(bytes: &[u8], rows: usize) -> Option<std::ops::Range<usize>> {
    // The line feed that `rows` more follow: the lines after it are what the screen shows.
    let cut = bytes
        .iter()
        .enumerate()
        .rev()
        .filter(|(_, b)| **b == b'\n')
        .nth(rows)?
        .0;
    if cut == 0 || bytes[cut - 1] != b'\r' {
        return None;
    }
    let plain =
        |b: &u8| (*b >= 0x20 && *b != 0x7f) || matches!(*b, b'\r' | b'\n' | b'\t' | 0x08 | 0x07);
    bytes[..cut].iter().all(plain).then_some(0..cut + 1)
}

/// Whether `bytes`, fed after bytes that ended outside an escape sequence (`ground`) or in
/// one, end outside one: their last ESC is followed by what ends its sequence (a final byte
/// after a CSI's `[`, a byte of 0x30-0x7e after an ESC, or BEL ending a string). Near enough:
/// a wrong `false` only costs the skipping of one read.
fn ends_in_ground(ground: bool, bytes: &[u8]) -> bool {
    let Some(esc) = bytes.iter().rposition(|&b| b == 0x1b) else {
        return ground;
    };
    let after = &bytes[esc + 1..];
    match after.first() {
        None => false,
        Some(b'[') => after[1..].iter().any(|b| (0x40..=0x7e).contains(b)),
        Some(b']' | b'P' | b'_' | b'^') => after.contains(&0x07),
        Some(_) => after.iter().any(|b| (0x30..=0x7e).contains(b)),
    }
}

/// Feeds `bytes` to the screen, copying the main screen first if they switch to the
/// alternate one. (A switch split across two reads is not seen: the main screen is then not
/// replayed under the program, which only matters to a client that attaches meanwhile.)
fn feed_all(screen: &mut Screen, main: &mut Option<Vec<u8>>, bytes: &[u8]) {
    if !screen.vt().alternate_screen()
        && let Some(at) = ENTER_ALTERNATE
            .iter()
            .filter_map(|seq| bytes.windows(seq.len()).position(|w| w == *seq))
            .min()
    {
        screen.process(&bytes[..at]);
        *main = Some(screen.vt().state_formatted().into_bytes());
        screen.process(&bytes[at..]);
        return;
    }
    screen.process(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client that replays the monitor's bytes sees the program, and after it leaves, the
    /// shell's screen as it was.
    #[test]
    fn the_main_screen_survives_under_a_full_screen_program() {
        let mut screen = Screen::new(5, 20, 100);
        let mut main = None;
        feed(
            &mut screen,
            &mut main,
            b"marker-42\r\n$ top\r\n\x1b[?1049h\x1b[HTOP",
            &mut Flow::default(),
        );
        let mut client = Screen::new(5, 20, 100);
        client.process(&replay(&screen, main.as_deref()));
        assert!(client.vt().contents().contains("TOP"));
        assert!(!client.vt().contents().contains("marker-42"));
        client.process(b"\x1b[?1049l");
        assert!(client.vt().contents().contains("marker-42"));
    }

    /// Skipping the plain lines a read scrolls past leaves the monitor's screen exactly as
    /// parsing every byte does: floods that start mid-screen, after colours, inside a scroll
    /// region, with tabs and long wrapping lines, their reads cut anywhere (inside escape
    /// sequences too), at several sizes.
    #[test]
    fn lines_scrolled_past_are_skipped_without_changing_the_screen() {
        let mut streams: Vec<Vec<u8>> = Vec::new();
        let lines = |n: usize, f: &dyn Fn(usize) -> String| -> Vec<u8> {
            (0..n).flat_map(|i| f(i).into_bytes()).collect()
        };
        streams.push(lines(3000, &|i| format!("{i}\r\n")));
        let mut colours = b"$ ls\r\n\x1b[1;32mgreen\x1b[m \x1b[4munder".to_vec();
        colours.extend(lines(500, &|i| format!("\tcol {i}\x08x\r\n")));
        colours.extend(b"\x1b[7mlast\x1b[m and a prompt $ ");
        streams.push(colours);
        // A bottom bar outside a scroll region (apt's progress), the log scrolling above it.
        let mut region = b"\x1b[2J\x1b[1;8r\x1b[10;1HProgress: [ 40%]\x1b[8;1H".to_vec();
        region.extend(lines(400, &|i| format!("Unpacking package-{i} ...\r\n")));
        streams.push(region);
        // The cursor below a scroll region, on the last row: line feeds do not scroll there,
        // and each line is written over the last (its longer predecessors' ends showing).
        let mut below = b"\x1b[2J\x1b[1;3r\x1b[999;1H".to_vec();
        below.extend(lines(300, &|i| format!("{}\r\n", "b".repeat((i * 7) % 50))));
        streams.push(below);
        // Lines wider than the screen, an OSC title, a sequence split everywhere.
        let mut wide = b"\x1b]0;title\x07".to_vec();
        wide.extend(lines(300, &|i| format!("{}\r\n", "w".repeat(i % 70))));
        wide.extend(lines(200, &|i| format!("\x1b[3{}m{i}\x1b[m\r\n", i % 8)));
        wide.extend(lines(200, &|i| format!("{i}\r\n")));
        streams.push(wide);
        for stream in &streams {
            for (rows, cols) in [(5, 20), (24, 80), (37, 98)] {
                for chunk in [1, 7, 100, 4096, 65535] {
                    let mut whole = Screen::new(rows, cols, 0);
                    whole.process(stream);
                    let mut kept = Screen::new(rows, cols, 0);
                    let (mut main, mut flow) = (None, Flow::default());
                    for part in stream.chunks(chunk) {
                        feed(&mut kept, &mut main, part, &mut flow);
                    }
                    assert_eq!(
                        kept.vt().state_formatted(),
                        whole.vt().state_formatted(),
                        "{rows}x{cols}, reads of {chunk}"
                    );
                    assert_eq!(kept.vt().contents(), whole.vt().contents());
                }
            }
        }
        // A full-screen program's region is its screen's: back on the main one, a flood is
        // skipped again; a region on the main screen stops it until reset.
        let mut flow = Flow::default();
        flow.after(b"\x1b[?1049h\x1b[1;20r\x1b[", 24);
        flow.after(b"Hvim\x1b[?1049l$ ", 24);
        assert!(flow.scrolls(false) && !flow.scrolls(true));
        flow.after(b"\x1b[2;23r", 24);
        assert!(!flow.scrolls(false));
        flow.after(b"\x1b[r", 24);
        assert!(flow.scrolls(false));
        // And it does skip: a flood read whole parses a screenful.
        let flood = lines(3000, &|i| format!("{i}\r\n"));
        let skip = scrolled_past(&flood, 37).unwrap();
        assert!(
            flood.len() - skip.end < 37 * 8,
            "{skip:?} of {}",
            flood.len()
        );
    }

    /// A client that attaches later gets the screen as it is, and the lines that left it (the
    /// log's, `Request::History`) as its own history, colours kept: it scrolls back through
    /// what came before it.
    #[test]
    fn a_later_client_gets_the_history_then_the_screen() {
        let mut written = b"\x1b[31mred\x1b[m\r\n".to_vec();
        for i in 1..=12 {
            written.extend(format!("line {i}\r\n").as_bytes());
        }
        written.extend(b"$ ");
        // The monitor keeps the screen alone; the output is in its log.
        let mut screen = Screen::new(5, 20, 0);
        let mut main = None;
        feed(&mut screen, &mut main, &written, &mut Flow::default());
        // What a client that saw it all would hold.
        let mut witness = Screen::new(5, 20, 100);
        witness.process(&written);
        let mut client = Screen::new(5, 20, 100);
        client.process(&replay(&screen, main.as_deref()));
        // Two pages, the log's entries cut inside a line.
        let mut pages = crate::screen::Pages::default();
        pages.part(&written[40..]);
        pages.end(&mut client, false);
        pages.part(&written[..40]);
        pages.end(&mut client, true);
        assert_eq!(client.text_lines(), witness.text_lines());
        assert_eq!(client.history_len(), witness.history_len());
        assert_eq!(client.vt().cursor_position(), screen.vt().cursor_position());
        assert_eq!(client.vt().contents(), screen.vt().contents());
        assert!(client.text_lines()[0].contains("red"));
        // Without history (`attach` from the command line): the screen alone.
        let mut plain = Screen::new(5, 20, 100);
        plain.process(&replay(&screen, main.as_deref()));
        assert_eq!(plain.history_len(), 0);
        assert_eq!(plain.vt().contents(), screen.vt().contents());
    }
}
