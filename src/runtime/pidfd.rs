//! Reaching a process by pidfd, after checking it is the one we mean (its start time): a
//! signal sent by PID alone could reach a process that took the PID after ours ended.

use crate::state::Process;
use nix::errno::Errno;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// A pidfd for `process`, if it still runs.
pub fn open(process: Process) -> nix::Result<OwnedFd> {
    // SAFETY: pidfd_open takes a PID and flags and returns a new descriptor, or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, process.pid, 0) };
    if fd < 0 {
        return Err(Errno::last());
    }
    // SAFETY: the syscall returned a new descriptor that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    // Checked after the open: the descriptor now pins whichever process had the PID, and the
    // start time says whether that is ours.
    if !process.alive() {
        return Err(Errno::ESRCH);
    }
    Ok(fd)
}

/// Sends signal `signal` to `process`.
pub fn signal(process: Process, signal: i32) -> nix::Result<()> {
    send(&open(process)?, signal)
}

/// Sends signal `signal` to the process `fd` (a pidfd) pins.
pub fn send(fd: &OwnedFd, signal: i32) -> nix::Result<()> {
    // SAFETY: pidfd_send_signal reads no memory when info is null.
    let done = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            fd.as_raw_fd(),
            signal,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    if done < 0 { Err(Errno::last()) } else { Ok(()) }
}

/// Waits until `fd` (a pidfd) says its process ended, up to `patience`; true if it did.
pub fn ended(fd: &OwnedFd, patience: std::time::Duration) -> bool {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use std::os::fd::AsFd;
    let deadline = std::time::Instant::now() + patience;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let millis =
            PollTimeout::try_from(left.as_millis().min(60_000) as i32).unwrap_or(PollTimeout::MAX);
        let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, millis) {
            Ok(n) if n > 0 => return true,
            Err(Errno::EINTR) => continue,
            _ if std::time::Instant::now() >= deadline => return false,
            _ => {}
        }
    }
}
