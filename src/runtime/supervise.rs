//! Waiting for a child while forwarding signals to it: the one loop shared by the headless CLI
//! (child: the helper), the helper (child: the container's PID 1) and `--init` (child: the
//! command, with every orphan in the container reaped on the way).
//!
//! Signals are blocked and read from a signalfd, so there are no async handlers and no races
//! between "child exited" and "signal arrived".

use super::console::Relay;
use super::exit::Exit;
use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{SigHandler, SigSet, SigmaskHow, Signal, kill, signal, sigprocmask};
use nix::sys::signalfd::SignalFd;
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;
use std::os::fd::AsFd;

/// The signals a user sends to stop or poke a container; passed on to the child unchanged.
pub const FORWARDED: [Signal; 6] = [
    Signal::SIGTERM,
    Signal::SIGINT,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
];

/// Owns the blocked signal mask and the signalfd that reads it.
pub struct Supervisor {
    fd: SignalFd,
    /// Done once when the wait has been quiet this long (no signal, no terminal bytes): what
    /// a waiter does for a long wait only, off the path of a child that ends at once.
    quiet: std::cell::Cell<Option<QuietAction>>,
}

/// How long a wait is to be quiet, and what is done then.
type QuietAction = (std::time::Duration, fn());

impl Supervisor {
    /// Blocks [`FORWARDED`], `SIGCHLD` and `extra` in the calling thread (threads spawned later
    /// inherit the mask). Call it before starting the child so no `SIGCHLD` can be missed.
    pub fn new(extra: &[Signal]) -> nix::Result<Supervisor> {
        let mut mask = SigSet::empty();
        for s in FORWARDED.iter().chain(extra).chain([&Signal::SIGCHLD]) {
            mask.add(*s);
        }
        // SAFETY: setting SIG_DFL installs no handler; SIGCHLD must not be SIG_IGN or children
        // would be reaped behind our back.
        unsafe { signal(Signal::SIGCHLD, SigHandler::SigDfl) }?;
        mask.thread_block()?;
        Ok(Supervisor {
            fd: SignalFd::new(&mask)?,
            quiet: Default::default(),
        })
    }

    /// Has the next wait do `action` once, when it has waited `after` with nothing to do.
    pub fn when_quiet(&self, after: std::time::Duration, action: fn()) {
        self.quiet.set(Some((after, action)));
    }

    /// How long to wait for a signal or terminal bytes: until the quiet action is due, or
    /// for ever.
    fn patience(&self) -> PollTimeout {
        self.quiet.get().map_or(PollTimeout::NONE, |(after, _)| {
            PollTimeout::try_from(after).unwrap_or(PollTimeout::MAX)
        })
    }

    /// Polls `fds` until one is ready, or until the quiet action is due (and done then);
    /// whether one is ready (an interrupted poll: not yet).
    fn poll_or_quiet(&self, fds: &mut [PollFd]) -> nix::Result<bool> {
        match poll(fds, self.patience()) {
            Err(Errno::EINTR) => Ok(false),
            Err(e) => Err(e),
            Ok(0) => {
                if let Some((_, action)) = self.quiet.take() {
                    action();
                }
                Ok(false)
            }
            Ok(_) => Ok(true),
        }
    }

    /// Waits until `child` ends, forwarding [`FORWARDED`] signals to it and handing any other
    /// blocked signal to `other`. With `reap_all`, every other child that ends is reaped too
    /// (the duty of a PID 1).
    pub fn wait(&self, child: Pid, reap_all: bool, other: impl FnMut(Signal)) -> nix::Result<Exit> {
        self.wait_relaying(child, reap_all, other, None)
    }

    /// [`Self::wait`], copying the container's terminal through `relay` meanwhile, and what it
    /// wrote last once it has ended.
    pub fn wait_relaying(
        &self,
        child: Pid,
        reap_all: bool,
        mut other: impl FnMut(Signal),
        mut relay: Option<&mut Relay>,
    ) -> nix::Result<Exit> {
        let target = if reap_all { None } else { Some(child) };
        // Children are looked at first, then only after a SIGCHLD: not once per chunk of
        // terminal output the relay copies.
        let mut children_changed = true;
        loop {
            while std::mem::take(&mut children_changed) {
                match waitpid(target, Some(WaitPidFlag::WNOHANG)) {
                    Ok(WaitStatus::StillAlive) => break,
                    Ok(status) => {
                        if status.pid() == Some(child)
                            && let Some(exit) = Exit::from_wait(status)
                        {
                            if let Some(relay) = relay.as_deref_mut() {
                                relay.drain();
                            }
                            return Ok(exit);
                        }
                        // Another child reaped (or a stop): look again.
                        children_changed = true;
                    }
                    Err(Errno::EINTR) => children_changed = true,
                    Err(e) => return Err(e),
                }
            }
            if let Some(relay) = relay.as_deref_mut() {
                // Wait for a signal or terminal bytes, whichever comes first.
                let watched = relay.watch();
                let mut fds = vec![PollFd::new(self.fd.as_fd(), PollFlags::POLLIN)];
                fds.extend(watched.iter().map(|(fd, flags)| PollFd::new(*fd, *flags)));
                if !self.poll_or_quiet(&mut fds)? {
                    continue;
                }
                let events: Vec<PollFlags> = fds
                    .iter()
                    .map(|f| f.revents().unwrap_or(PollFlags::empty()))
                    .collect();
                drop(fds);
                drop(watched);
                relay.ready(&events[1..]);
                if events[0].is_empty() {
                    continue;
                }
            } else if self.quiet.get().is_some()
                && !self.poll_or_quiet(&mut [PollFd::new(self.fd.as_fd(), PollFlags::POLLIN)])?
            {
                continue;
            }
            let Some(info) = self.fd.read_signal()? else {
                continue;
            };
            let Ok(sig) = Signal::try_from(info.ssi_signo as i32) else {
                continue;
            };
            if sig == Signal::SIGCHLD {
                children_changed = true;
            } else if FORWARDED.contains(&sig) {
                // The child may already be gone; its exit is picked up on the next turn.
                let _ = kill(child, sig);
            } else if sig == Signal::SIGWINCH
                && let Some(relay) = relay.as_deref_mut()
            {
                relay.resize();
            } else {
                other(sig);
            }
        }
    }
}

/// Puts every signal back to its default disposition and unblocks all of them: what the
/// container's command must start with, whatever the tool inherited (Rust ignores SIGPIPE).
pub fn reset_for_exec() {
    for sig in Signal::iterator() {
        if sig != Signal::SIGKILL && sig != Signal::SIGSTOP {
            // SAFETY: SIG_DFL installs no handler; failures (none expected) are harmless.
            let _ = unsafe { signal(sig, SigHandler::SigDfl) };
        }
    }
    let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None);
}
