//! The cleaner: a small process forked by the helper that outlives it.
//!
//! It waits for the helper to go (its pipe hangs up), whether the helper exited or was killed
//! (with the tool, by SIGKILL), waits for the cgroup to empty, removes it and the container's
//! filesystem state, brings the record to the truth if its owner died too ([`crate::runtime::reclaim::repair`]),
//! and exits. Removing here rather than in the helper also takes the rmdirs off the path a
//! caller waits on. It touches its own container's things alone: its cost does not grow with
//! the host.

use super::Sys;
use super::cgroups::Cgroup;
use crate::spec::ContainerSpec;
use crate::spec::run::RestartPolicy;
use crate::state::store::NewRecord;
use crate::state::{Process, Status, store, tree};
use nix::fcntl::OFlag;
use nix::unistd::{ForkResult, pipe2, setsid};
use std::io::Read;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

/// How long the cleaner waits for a killed container's processes to be gone.
const PATIENCE: Duration = Duration::from_secs(10);

/// What a container may leave on the host until it is cleaned: its cgroup and its filesystem
/// state (the overlay's upper layer), whether or not they exist yet, and its record.
pub struct Leftovers {
    pub cgroup: Option<Cgroup>,
    /// The container's id.
    pub id: String,
    /// A foreground run that its launcher did not record (no `--name` to check): the cleaner
    /// records it, owned by the launcher, off the start-up's path, and removes the record
    /// once the launcher is gone too.
    pub record: Option<(ContainerSpec, Process)>,
    /// On a bridge network: its lease, veth, and perhaps its network's bridge and rules.
    pub bridged: bool,
    /// Without a PID namespace of its own (`--pid host`), its processes do not die with its
    /// PID 1: the cleaner kills what is left in its cgroup once the helper is gone.
    pub kill_all: bool,
}

impl Leftovers {
    /// True while a process of the container is still alive (as far as the cgroup tells).
    fn busy(&self) -> bool {
        self.cgroup.as_ref().is_some_and(|cg| !cg.is_empty())
    }

    /// Removes the cgroup (which must be empty of processes) and the filesystem state, unless
    /// the container is kept for a `start` or a restart: detached, not `--rm`, and its monitor
    /// alive or its exit recorded (Docker keeps a stopped container's writable layer until
    /// `rm`). A killed monitor keeps nothing.
    pub fn remove(&self) {
        if let Some(cg) = &self.cgroup {
            let _ = cg.remove();
        }
        if self.bridged {
            super::net::attach::release(&self.id);
        }
        let kept = store::load(&self.id).is_ok_and(|r| {
            r.detached
                && !r.auto_remove
                && (r.owner.is_some_and(|o| o.alive()) || r.status == Status::Exited)
        });
        if !kept {
            tree::remove_fs(&self.id);
        }
    }
}

/// Forks the cleaner for `leftovers`, which need not exist yet. Keep the returned pipe end
/// open for as long as the helper lives. The cleaner keeps `run_lock` (a recorded
/// container's) until its clean-up is done: the container's next run waits for it. The
/// calling process must be single-threaded ([`super::sys::fork`] refuses otherwise).
pub fn spawn(leftovers: &Leftovers, run_lock: Option<RawFd>) -> anyhow::Result<OwnedFd> {
    let (read_end, write_end) = pipe2(OFlag::O_CLOEXEC).sys("pipe")?;
    match super::sys::fork()? {
        ForkResult::Parent { .. } => Ok(write_end),
        ForkResult::Child => {
            drop(write_end);
            // Its own session, no terminal, nothing inherited but the pipe: it must hold up no
            // pipeline and get no terminal's signals.
            let _ = setsid();
            if let Ok(null) = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open("/dev/null")
            {
                for fd in 0..3 {
                    let _ = super::sys::dup_onto(null.as_fd(), fd);
                }
            }
            let mut keep = vec![read_end.as_raw_fd()];
            keep.extend(run_lock);
            super::sys::close_all_but(&keep);
            // Background work: the lowest priority, so it does not take a CPU from the
            // launcher it outlives, which is finishing just as it wakes.
            // SAFETY: setpriority reads no memory; who 0 is this process.
            unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 19) };
            // The record this cleaner made, if it made one (an unnamed foreground run's).
            let mut recorded = None;
            if let Some((spec, owner)) = &leftovers.record {
                let new = NewRecord {
                    name: None,
                    detached: false,
                    auto_remove: true,
                    tty: spec.tty,
                    interactive: false,
                    restart: RestartPolicy::No,
                    stop_signal: libc::SIGTERM,
                    stop_timeout: None,
                    opener: None,
                };
                recorded = store::create_owned(spec, &new, *owner).ok();
            }
            // A container that lives on leaves its cleaner waiting: what the fork brought
            // along is given back then, not while the start-up it shares the CPU with goes on.
            if !hangs_up_within(read_end.as_fd(), super::resident::SETTLE_AFTER) {
                super::resident::settle();
            }
            let mut pipe = std::fs::File::from(read_end);
            let _ = pipe.read(&mut [0u8; 1]);
            if leftovers.kill_all
                && let Some(cg) = &leftovers.cgroup
            {
                cg.kill_all();
            }
            // An empty cgroup does not prove the container gone: its PID 1, dying of its
            // parent's death, may still be joining a hierarchy as the first rmdir runs (that
            // one then fails, busy). So again until every directory is gone.
            let start = Instant::now();
            loop {
                while leftovers.busy() && start.elapsed() < PATIENCE {
                    std::thread::sleep(Duration::from_millis(10));
                }
                leftovers.remove();
                let gone = leftovers.cgroup.as_ref().is_none_or(|cg| !cg.exists());
                if gone || start.elapsed() >= PATIENCE {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            if let Some((_, owner)) = &leftovers.record {
                // The launcher exits just after its helper: its record goes with it.
                if let Ok(fd) = super::pidfd::open(*owner) {
                    super::pidfd::ended(&fd, PATIENCE);
                }
            }
            if let Some(fd) = run_lock {
                // SAFETY: the helper's run lock, inherited, kept by close_range, not closed.
                drop(unsafe { OwnedFd::from_raw_fd(fd) });
            }
            crate::runtime::reclaim::repair(&leftovers.id);
            // A directory of the container's without its record is this run's own leftover
            // (the helper made its overlay state there after the record had gone).
            if !store::exists(&leftovers.id) {
                store::forget(&leftovers.id);
                // Its launcher's removal may have raced the recording (removing the directory
                // just after the record went in): the name it was given goes too.
                if let Some(record) = &recorded {
                    store::forget_name(record);
                }
            }
            // A network without containers (ours was its last, or a cleaner killed in its
            // linger left it): it stays up for the linger (the next container may come at
            // once), and is taken down then, unless one came. One read of the lease record;
            // nothing else of the host is looked at: what crashes left is a sweep's
            // (`reclaim::sweep_later`), not every container's end.
            if super::net::attach::idle() {
                std::thread::sleep(super::net::leases::LINGER);
                super::net::attach::down_idle();
            }
            tree::remove_if_empty();
            std::process::exit(0)
        }
    }
}

/// Whether `pipe` hangs up (or is readable) within `patience`.
fn hangs_up_within(pipe: std::os::fd::BorrowedFd<'_>, patience: Duration) -> bool {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    let timeout = PollTimeout::try_from(patience).unwrap_or(PollTimeout::MAX);
    let mut fds = [PollFd::new(pipe, PollFlags::POLLIN)];
    !matches!(poll(&mut fds, timeout), Ok(0))
}
