//! The small syscalls every path into a container makes, each written once: joining a
//! cgroup, closing or marking descriptors, putting a descriptor on stdio, a terminal's size,
//! and fork, whose single-threaded precondition is checked here rather than commented at
//! each caller.

use super::Sys;
use anyhow::Context;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::path::{Path, PathBuf};

/// Moves the calling process into a cgroup: `0` written to each of its `cgroup.procs` files
/// (one per v1 hierarchy, one on v2). Done first by every process entering a container, so
/// everything it later starts is counted and limited.
pub fn join_cgroup(procs: &[PathBuf]) -> anyhow::Result<()> {
    for file in procs {
        std::fs::write(file, "0")
            .with_context(|| format!("cannot join cgroup {}", file.display()))?;
    }
    Ok(())
}

/// Every descriptor from 3 up is closed when the process execs (`close_range` with
/// `CLOSE_RANGE_CLOEXEC`): the command inherits only stdio, whatever a library opened.
pub fn cloexec_from_3() -> anyhow::Result<()> {
    // SAFETY: close_range with CLOSE_RANGE_CLOEXEC only sets flags on descriptors.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3u32,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
    if rc < 0 {
        return Err(std::io::Error::last_os_error()).context("close_range");
    }
    Ok(())
}

/// Closes descriptors `from..=to` now (`close_range`); errors are ignored, as there is
/// nothing to do about a descriptor that would not close.
pub fn close_range(from: u32, to: u32) {
    // SAFETY: close_range closes descriptors only; the caller owns none in the range.
    unsafe { libc::syscall(libc::SYS_close_range, from, to, 0u32) };
}

/// Closes every descriptor above the standard three but those in `keep`: what a process
/// forked to outlive its parent's work (a cleaner, a proxy, the network holder) must not hold
/// of its parent's (a pipe whose end another waits on, a lock, a port).
pub fn close_all_but(keep: &[RawFd]) {
    let mut keep: Vec<RawFd> = keep.iter().copied().filter(|&fd| fd > 2).collect();
    keep.sort_unstable();
    let mut from = 3;
    for fd in keep {
        if fd > from {
            close_range(from as u32, fd as u32 - 1);
        }
        from = fd + 1;
    }
    close_range(from as u32, u32::MAX);
}

/// Puts `fd` on standard descriptor `target` (0, 1 or 2).
pub fn dup_onto(fd: BorrowedFd<'_>, target: i32) -> anyhow::Result<()> {
    // SAFETY: dup2 onto a standard descriptor touches no memory of ours.
    if unsafe { libc::dup2(fd.as_raw_fd(), target) } < 0 {
        return Err(std::io::Error::last_os_error()).with_context(|| format!("dup2 onto {target}"));
    }
    Ok(())
}

/// Sets a terminal's size (`TIOCSWINSZ` on its pty master or slave).
pub fn set_winsize(tty: BorrowedFd<'_>, rows: u16, cols: u16) {
    let size = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads the winsize we pass a pointer to.
    unsafe { libc::ioctl(tty.as_raw_fd(), libc::TIOCSWINSZ, &size) };
}

/// The number of threads this process has (`/proc/self/task`), if it can be read.
fn threads() -> Option<usize> {
    std::fs::read_dir(Path::new("/proc/self/task"))
        .ok()
        .map(|d| d.count())
}

/// `fork(2)` for a process with one thread, checked: the child of a multi-threaded process
/// may find a lock held by a thread that does not exist there, and deadlock on its first
/// allocation. Every fork into a container goes through here.
pub fn fork() -> anyhow::Result<nix::unistd::ForkResult> {
    let threads = threads();
    if threads.is_some_and(|n| n != 1) {
        anyhow::bail!(
            "internal error: fork from a process with {} threads",
            threads.unwrap_or(0)
        );
    }
    // SAFETY: the process has one thread (checked above), so the child inherits no lock held
    // by another thread and may allocate.
    unsafe { nix::unistd::fork() }.sys("fork")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test harness runs tests on threads: a fork here is refused, not made.
    #[test]
    fn fork_refuses_a_threaded_process() {
        let other = std::thread::spawn(|| std::thread::sleep(std::time::Duration::from_secs(1)));
        let refused = fork().expect_err("forked with two threads");
        assert!(refused.to_string().contains("threads"), "{refused}");
        other.join().unwrap();
    }
}
