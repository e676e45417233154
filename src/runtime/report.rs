//! How a forked child tells its parent why it could not start the command.
//!
//! The child holds the write end of a close-on-exec pipe: a successful `execve` closes it with
//! nothing written, a failure writes one byte of exit code and a one-line message. The parent
//! reads to end-of-file, so it never hangs on a child that died or succeeded.
//!
//! A second pipe, the lifeline, goes the other way: the parent holds its write end and never
//! writes. A child that finds it hung up knows its parent died before `PR_SET_PDEATHSIG` was in
//! place, and must not go on as an orphan.

use nix::fcntl::OFlag;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::unistd::pipe2;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};

/// The child's end: where a failure is written before the child exits.
pub struct Reporter(File);

/// The parent's end: reads the child's failure, if any.
pub struct Receiver(File);

/// A new report channel, close-on-exec at both ends.
pub fn channel() -> nix::Result<(Receiver, Reporter)> {
    let (r, w) = pipe2(OFlag::O_CLOEXEC)?;
    Ok((Receiver(File::from(r)), Reporter(File::from(w))))
}

impl Reporter {
    /// Sends `code` and `message` to the parent and exits with `code`.
    pub fn fail(mut self, code: i32, message: &str) -> ! {
        let mut buf = Vec::with_capacity(message.len() + 1);
        buf.push(code as u8);
        buf.extend_from_slice(message.as_bytes());
        let _ = self.0.write_all(&buf);
        std::process::exit(code)
    }
}

impl Receiver {
    /// Blocks until the child has exec'd (`None`) or reported a failure (`Some`).
    pub fn read(mut self) -> Option<(i32, String)> {
        let mut buf = Vec::new();
        let _ = self.0.read_to_end(&mut buf);
        let (&code, msg) = buf.split_first()?;
        Some((i32::from(code), String::from_utf8_lossy(msg).into_owned()))
    }
}

/// A lifeline: `(child's read end, parent's write end)`.
pub fn lifeline() -> nix::Result<(OwnedFd, OwnedFd)> {
    pipe2(OFlag::O_CLOEXEC)
}

/// True when every write end of the lifeline is closed, i.e. the parent is gone.
pub fn parent_gone(read_end: &OwnedFd) -> bool {
    let mut fds = [PollFd::new(read_end.as_fd(), PollFlags::POLLIN)];
    !matches!(poll(&mut fds, PollTimeout::ZERO), Ok(0))
}
