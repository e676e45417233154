//! The container's terminal: a pty of the container's own devpts, as runc gives it (`tty`
//! answers `/dev/pts/0`, `ps` names it), relayed by the helper to the pty the launcher gave us.
//!
//! Why a second pty: the launcher's (portable-pty's, on the host's devpts) cannot appear in the
//! container's fresh devpts instance, and binding the host's `/dev/pts` in would show every
//! host terminal. So the container's init opens a pty in its own devpts, makes the slave its
//! controlling terminal and stdio, and sends the master to the helper over a socket
//! (`SCM_RIGHTS`); the helper puts its own terminal in raw mode, copies bytes both ways and
//! passes window sizes on. The container never holds a descriptor of the host's devpts.

use super::Sys;
use anyhow::Context;
use nix::fcntl::{OFlag, openat};
use nix::poll::PollFlags;
use nix::sys::socket::{
    AddressFamily, ControlMessage, ControlMessageOwned, MsgFlags, SockFlag, SockType, recvmsg,
    sendmsg, socketpair,
};
use nix::sys::stat::Mode;
use std::io::{IoSlice, IoSliceMut, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// A pty of the container's devpts: the master goes to the helper, the slave stays.
pub struct Pty {
    pub master: OwnedFd,
    pub slave: OwnedFd,
}

/// Opens a new pty in the devpts instance whose root is `pts`.
pub fn open_in(pts: &impl AsFd) -> anyhow::Result<Pty> {
    let flags = OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC;
    let master = openat(pts, "ptmx", flags, Mode::empty()).sys("cannot open /dev/pts/ptmx")?;
    let unlock: libc::c_int = 0;
    // SAFETY: TIOCSPTLCK reads the int we pass a pointer to; `master` is an open pty master.
    if unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSPTLCK, &unlock) } < 0 {
        return Err(std::io::Error::last_os_error()).context("cannot unlock the pty");
    }
    // SAFETY: TIOCGPTPEER opens the master's slave and returns a new descriptor, or -1.
    let slave = unsafe {
        libc::ioctl(
            master.as_raw_fd(),
            libc::TIOCGPTPEER,
            libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
        )
    };
    if slave < 0 {
        return Err(std::io::Error::last_os_error()).context("cannot open the pty's slave");
    }
    // SAFETY: the ioctl returned a new descriptor that nothing else owns.
    let slave = unsafe { OwnedFd::from_raw_fd(slave) };
    Ok(Pty { master, slave })
}

/// The socket pair the master travels on: (the helper's end, init's end).
pub fn channel() -> nix::Result<(OwnedFd, OwnedFd)> {
    socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
}

/// Init's side: sends the master, or `None` when the container keeps the launcher's pty (a
/// view without its own `/dev`).
pub fn send(socket: &OwnedFd, master: Option<&OwnedFd>) -> anyhow::Result<()> {
    let fds: Vec<RawFd> = master.iter().map(|m| m.as_raw_fd()).collect();
    let cmsgs: Vec<ControlMessage> = if fds.is_empty() {
        Vec::new()
    } else {
        vec![ControlMessage::ScmRights(&fds)]
    };
    let payload = [IoSlice::new(&[1u8])];
    sendmsg::<()>(
        socket.as_raw_fd(),
        &payload,
        &cmsgs,
        MsgFlags::empty(),
        None,
    )
    .sys("cannot pass the container's terminal to the helper")?;
    Ok(())
}

/// The helper's side: the master init sent, if any (none either when init keeps the launcher's
/// pty or when it failed before it could send).
pub fn receive(socket: &OwnedFd) -> Option<OwnedFd> {
    let mut byte = [0u8; 1];
    let mut iov = [IoSliceMut::new(&mut byte)];
    let mut space = nix::cmsg_space!([RawFd; 1]);
    let msg = recvmsg::<()>(
        socket.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )
    .ok()?;
    for cmsg in msg.cmsgs().ok()? {
        if let ControlMessageOwned::ScmRights(fds) = cmsg
            && let Some(&fd) = fds.first()
        {
            // SAFETY: the kernel installed this descriptor for us with the message.
            return Some(unsafe { OwnedFd::from_raw_fd(fd) });
        }
    }
    None
}

/// The helper's side, under a monitor: the container's pty master handed to the monitor's
/// console socket at `path` (runc's `--console-socket`), so that the monitor reads and writes
/// it directly. A keystroke then crosses one pty and no relay: the helper's own terminal and
/// its copying loop are out of the way.
pub fn hand_over(path: &std::path::Path, master: &OwnedFd) -> anyhow::Result<()> {
    let socket = crate::state::tree::SocketPath::new(path)
        .and_then(|short| std::os::unix::net::UnixStream::connect(&short.path))
        .with_context(|| {
            format!(
                "cannot reach the monitor's console socket {}",
                path.display()
            )
        })?;
    let socket: OwnedFd = socket.into();
    send(&socket, Some(master))
}

/// exec's side, already in the container's mount namespace: a new pty of the container's
/// devpts becomes our terminal, its master sent down `socket` (to whoever relays it).
pub fn take_new(socket: Option<&OwnedFd>) -> anyhow::Result<()> {
    let pts = nix::fcntl::open(
        "/dev/pts",
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .sys("cannot open the container's /dev/pts")?;
    let pty = open_in(&pts)?;
    if let Some(socket) = socket {
        send(socket, Some(&pty.master))?;
    }
    drop(pty.master);
    take(pty.slave)
}

/// Init's side: the slave becomes stdin, stdout, stderr and the controlling terminal.
pub fn take(slave: OwnedFd) -> anyhow::Result<()> {
    for fd in 0..3 {
        super::sys::dup_onto(slave.as_fd(), fd)
            .context("cannot give the terminal to the command")?;
    }
    drop(slave);
    take_controlling_tty()
}

/// Makes stdin our controlling terminal (we are a session leader without one).
pub fn take_controlling_tty() -> anyhow::Result<()> {
    // SAFETY: TIOCSCTTY takes an int argument and touches no memory of ours; fd 0 is open.
    if unsafe { libc::ioctl(0, libc::TIOCSCTTY, 1) } < 0 {
        return Err(std::io::Error::last_os_error())
            .context("cannot make the pty the controlling terminal");
    }
    Ok(())
}

/// Puts the launcher's pty (given its master or slave) in raw mode: when the container has a
/// pty of its own, that one does the line discipline. The launcher does it before it starts
/// the helper, so no byte it sends (its EOF character, say) is ever taken by this pty's line
/// discipline.
pub fn make_raw(pty: BorrowedFd<'_>) {
    if let Ok(mut mode) = nix::sys::termios::tcgetattr(pty) {
        nix::sys::termios::cfmakeraw(&mut mode);
        let _ = nix::sys::termios::tcsetattr(pty, nix::sys::termios::SetArg::TCSANOW, &mode);
    }
}

/// Pipes standing in for our stdin, stdout and stderr (by descriptor number).
#[derive(Default)]
pub struct Pipes(pub [Option<OwnedFd>; 3]);

/// Those of our stdin, stdout and stderr that are terminals, as pipes (stdin only with
/// `stdin`): the ends for the process that would have had them, and ours, for
/// [`Relay::pipes`]. A process holding our terminal could keep reading what the user types
/// into their host shell after it returned, so a command without a terminal of its own never
/// gets ours (Docker relays the same way).
pub fn terminal_pipes(stdin: bool) -> nix::Result<(Pipes, Pipes)> {
    let (mut theirs, mut ours) = (Pipes::default(), Pipes::default());
    for fd in 0..3 {
        // SAFETY: isatty only queries the descriptor.
        let terminal = unsafe { libc::isatty(fd) } == 1;
        if !terminal || (fd == 0 && !stdin) {
            continue;
        }
        let (r, w) = nix::unistd::pipe2(OFlag::O_CLOEXEC)?;
        let (their_end, our_end) = if fd == 0 { (r, w) } else { (w, r) };
        theirs.0[fd as usize] = Some(their_end);
        ours.0[fd as usize] = Some(our_end);
    }
    Ok((theirs, ours))
}

/// The copying between our own stdio and a container's process: its pty master (the helper,
/// `exec -t`), or the pipes that stand in for a terminal we will not hand it (`exec` without
/// `-t`). Everything is non-blocking: output is read until empty and written out at once;
/// input the container is not reading yet waits in `pending` (and no more is read from our
/// side meanwhile), so neither direction can stall the other, and nothing a process left
/// behind holds open can keep us waiting once the command has ended.
pub struct Relay {
    /// Our stdin, unbuffered.
    ours_in: std::fs::File,
    /// Where our input goes: the pty master, or the command's stdin pipe.
    input: Option<std::fs::File>,
    /// What the container writes, where it goes, and whether it is still open.
    outputs: Vec<(std::fs::File, std::fs::File, bool)>,
    /// Input read from our side that the container has not taken yet.
    pending: Vec<u8>,
    /// False once our side has hung up (or the container's input has).
    input_open: bool,
    /// The pty, for window sizes (none for pipes).
    pty: Option<std::os::fd::RawFd>,
    /// The end of our input reaches a pty as its end-of-file character.
    eof_as_ctrl_d: bool,
}

fn nonblocking(fd: &OwnedFd) -> std::io::Result<()> {
    nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_SETFL(OFlag::O_NONBLOCK))?;
    Ok(())
}

fn ours(fd: BorrowedFd<'_>) -> std::io::Result<std::fs::File> {
    Ok(fd.try_clone_to_owned()?.into())
}

impl Relay {
    /// The container's pty master to our stdin and stdout; gives the pty our window size.
    pub fn new(master: OwnedFd) -> std::io::Result<Relay> {
        nonblocking(&master)?;
        let output = master.try_clone()?;
        let relay = Relay {
            ours_in: ours(std::io::stdin().as_fd())?,
            pty: Some(master.as_raw_fd()),
            input: Some(master.into()),
            outputs: vec![(output.into(), ours(std::io::stdout().as_fd())?, true)],
            pending: Vec::new(),
            input_open: true,
            eof_as_ctrl_d: false,
        };
        relay.resize();
        Ok(relay)
    }

    /// The end of our input (piped into `run -t`) reaches the container's pty as `Ctrl-D`,
    /// its end-of-file character, as a user ends typed input.
    pub fn eof_as_ctrl_d(mut self) -> Relay {
        self.eof_as_ctrl_d = true;
        self
    }

    /// Pipes in place of our stdin, stdout and stderr (each only if given): our ends, from
    /// [`terminal_pipes`].
    pub fn pipes(ends: Pipes) -> std::io::Result<Relay> {
        let [stdin, stdout, stderr] = ends.0;
        let mut outputs = Vec::new();
        for (pipe, to) in [
            (stdout, std::io::stdout().as_fd()),
            (stderr, std::io::stderr().as_fd()),
        ] {
            if let Some(pipe) = pipe {
                nonblocking(&pipe)?;
                outputs.push((pipe.into(), ours(to)?, true));
            }
        }
        if let Some(pipe) = &stdin {
            nonblocking(pipe)?;
        }
        Ok(Relay {
            ours_in: ours(std::io::stdin().as_fd())?,
            input_open: stdin.is_some(),
            input: stdin.map(Into::into),
            outputs,
            pending: Vec::new(),
            pty: None,
            eof_as_ctrl_d: false,
        })
    }

    /// Passes our window size on (on SIGWINCH): the container gets its own SIGWINCH.
    pub fn resize(&self) {
        let Some(pty) = self.pty else { return };
        let mut size: libc::winsize = libc::winsize {
            ws_row: 0,
            ws_col: 0,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCGWINSZ writes a winsize into `size`; fd 0 is open.
        if unsafe { libc::ioctl(0, libc::TIOCGWINSZ, &mut size) } == 0 {
            // SAFETY: `pty` is the relayed master, open for as long as the relay is.
            let pty = unsafe { std::os::fd::BorrowedFd::borrow_raw(pty) };
            super::sys::set_winsize(pty, size.ws_row, size.ws_col);
        }
    }

    fn reading_ours(&self) -> bool {
        self.input_open && self.pending.is_empty()
    }

    /// What to wait for: our side readable (unless input is pending), the container's input
    /// writable while input is pending, and each of its open outputs readable.
    pub fn watch(&self) -> Vec<(BorrowedFd<'_>, PollFlags)> {
        let mut fds = Vec::with_capacity(2 + self.outputs.len());
        if self.reading_ours() {
            fds.push((self.ours_in.as_fd(), PollFlags::POLLIN));
        }
        if let Some(input) = self.input.as_ref().filter(|_| !self.pending.is_empty()) {
            fds.push((input.as_fd(), PollFlags::POLLOUT));
        }
        for (from, _, open) in &self.outputs {
            if *open {
                fds.push((from.as_fd(), PollFlags::POLLIN));
            }
        }
        fds
    }

    /// Acts on what [`Self::watch`]'s descriptors reported, in the same order.
    pub fn ready(&mut self, events: &[PollFlags]) {
        let mut events = events.iter().copied();
        let reading = self.reading_ours();
        let writing = self.input.is_some() && !self.pending.is_empty();
        let open: Vec<usize> = (0..self.outputs.len())
            .filter(|&i| self.outputs[i].2)
            .collect();
        let ours_ready = if reading { events.next() } else { None };
        let input_ready = if writing { events.next() } else { None };
        if ours_ready.is_some_and(|e| !e.is_empty()) {
            self.input();
        }
        if input_ready.is_some_and(|e| e.intersects(PollFlags::POLLOUT | PollFlags::POLLERR)) {
            self.flush_input();
        }
        for i in open {
            let e = events.next().unwrap_or(PollFlags::empty());
            if e.intersects(PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR) {
                self.output(i);
            }
        }
    }

    /// Reads what our side has for the container and passes on what it takes.
    fn input(&mut self) {
        let mut buf = [0u8; 16 * 1024];
        match self.ours_in.read(&mut buf) {
            Ok(0) | Err(_) => {
                self.input_open = false;
                // End of our input is the end of the command's: a pipe closes; a pty's
                // end-of-file is the user's to type, unless asked ([`Relay::eof_as_ctrl_d`]).
                match (self.pty, self.eof_as_ctrl_d) {
                    (None, _) => self.input = None,
                    (Some(_), true) => {
                        self.pending.push(0x04);
                        self.flush_input();
                    }
                    (Some(_), false) => {}
                }
            }
            Ok(n) => {
                self.pending.extend_from_slice(&buf[..n]);
                self.flush_input();
            }
        }
    }

    /// Writes pending input until the container takes no more.
    fn flush_input(&mut self) {
        let Some(input) = self.input.as_mut() else {
            self.pending.clear();
            return;
        };
        while !self.pending.is_empty() {
            match input.write(&self.pending) {
                Ok(n) => {
                    self.pending.drain(..n);
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                Err(_) => {
                    self.pending.clear();
                    self.input_open = false;
                    return;
                }
            }
        }
    }

    /// Copies everything output `i` holds now to our side, in one write: a pty hands out a
    /// few KiB a read, and a flood would otherwise cost a write (and a wake-up of whoever
    /// reads us) per read. Returns how much it copied.
    fn output(&mut self, i: usize) -> usize {
        let (from, to, open) = &mut self.outputs[i];
        let mut buf = vec![0u8; 64 * 1024];
        let mut len = 0;
        while len < buf.len() {
            match from.read(&mut buf[len..]) {
                Ok(0) => {
                    *open = false;
                    break;
                }
                Ok(n) => len += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                // EIO: every slave is closed, the container has ended.
                Err(_) => {
                    *open = false;
                    break;
                }
            }
        }
        if len > 0 {
            let _ = to.write_all(&buf[..len]);
        }
        len
    }

    /// After the container ended: what it wrote last, still in the pty or the pipes, goes
    /// out too; nothing more is waited for.
    pub fn drain(&mut self) {
        for i in 0..self.outputs.len() {
            while self.outputs[i].2 && self.output(i) > 0 {}
        }
    }
}
