//! Changing a container's life: signal, stop, start again, remove. The CLI verbs and the
//! dashboard's keys both come here.
//!
//! Signals go to PID 1 through a pidfd opened on the recorded PID and start time
//! ([`crate::runtime::pidfd`]), so a stale record can never signal a process that took its PID
//! later; the container's owner (its monitor, or the foreground launcher) sees PID 1 end and
//! records the exit.

use crate::runtime::pidfd::{self, ended};
use crate::state::{Process, Record, Status, store};
use anyhow::{anyhow, bail};
use nix::sys::signal::Signal;
use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

/// Waits until `cond` holds, up to `patience`; whether it did.
pub fn until(patience: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + patience;
    while !cond() {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    true
}

/// True once the record no longer says running (its owner recorded the exit, or removed it).
pub fn recorded_end(id: &str) -> bool {
    store::load(id).map_or(true, |r| r.status != Status::Running)
}

/// Signals the container's PID 1 and marks it stopped by the user, so no restart policy
/// brings it back (also between a policy's tries); the pidfd to wait on, or `None` if it was
/// not running.
pub fn signal(record: &Record, sig: Signal) -> anyhow::Result<Option<OwnedFd>> {
    let record = store::update(&record.id, |r| r.stopped_by_user = true)?;
    if record.status != Status::Running {
        return Ok(None);
    }
    let Some(init) = record.init else {
        return Ok(None);
    };
    let fd = match pidfd::open(init) {
        Ok(fd) => fd,
        Err(nix::errno::Errno::ESRCH) => return Ok(None),
        Err(e) => bail!("cannot reach container {}: {}", record.name, e.desc()),
    };
    pidfd::signal(init, sig as i32)
        .map_err(|e| anyhow!("cannot signal container {}: {}", record.name, e.desc()))?;
    // A paused container's processes act on a SIGKILL only once thawed (v1's freezer).
    if sig == Signal::SIGKILL {
        thaw(&record);
    }
    Ok(Some(fd))
}

/// Stops a container: its stop signal (or `first`), then SIGKILL after `time`; returns once
/// its end is recorded.
pub fn stop(record: &Record, time: Duration, first: Option<Signal>) -> anyhow::Result<()> {
    let first = first
        .or_else(|| Signal::try_from(record.stop_signal).ok())
        .unwrap_or(Signal::SIGTERM);
    thaw(record);
    if let Some(fd) = signal(record, first)?
        && !ended(&fd, time)
    {
        let _ = signal(record, Signal::SIGKILL)?;
        ended(&fd, Duration::from_secs(10));
    }
    until(Duration::from_secs(10), || recorded_end(&record.id));
    Ok(())
}

/// Pauses (or resumes) every process of a running container: its cgroup's freezer (`docker
/// pause`).
pub fn pause(record: &Record, paused: bool) -> anyhow::Result<()> {
    if record.status != Status::Running {
        bail!("container {} is not running", record.name);
    }
    let cgroup = cgroup_of(record)?;
    match (paused, cgroup.frozen()) {
        (true, true) => bail!("container {} is already paused", record.name),
        (false, false) => bail!("container {} is not paused", record.name),
        _ => cgroup.freeze(paused)?,
    }
    let action = if paused { "pause" } else { "unpause" };
    crate::state::events::record(action, record, None);
    Ok(())
}

/// `update`: the limits set in `limits` (the rest kept) applied to a running container's
/// cgroup and recorded in its spec, and a new restart policy recorded.
pub fn update(
    record: &Record,
    limits: &crate::spec::limits::Limits,
    restart: Option<crate::spec::run::RestartPolicy>,
) -> anyhow::Result<()> {
    let mut spec = store::spec(&record.id)?;
    let now = &mut spec.limits;
    macro_rules! take {
        ($($field:ident),*) => { $( if limits.$field.is_some() { now.$field = limits.$field.clone(); } )* };
    }
    take!(
        memory,
        memory_swap,
        memory_reservation,
        cpu_quota_us,
        cpu_shares,
        pids,
        cpuset_cpus,
        cpuset_mems
    );
    now.validate().map_err(anyhow::Error::msg)?;
    if record.status == Status::Running {
        let cgroup = cgroup_of(record)?;
        if !cgroup.exists() {
            bail!("container {} has no cgroup to update", record.name);
        }
        cgroup.apply_running(now)?;
    }
    store::set_spec(&record.id, &spec)?;
    if let Some(policy) = restart {
        if policy != crate::spec::run::RestartPolicy::No && record.auto_remove {
            bail!("--restart cannot be set on a container removed when it ends (--rm)");
        }
        store::update(&record.id, |r| r.restart = policy)?;
    }
    Ok(())
}

/// Whether a running container is paused.
pub fn paused(record: &Record) -> bool {
    record.status == Status::Running && cgroup_of(record).is_ok_and(|c| c.frozen())
}

fn cgroup_of(record: &Record) -> anyhow::Result<crate::runtime::cgroups::Cgroup> {
    let layout = crate::runtime::cgroups::Layout::detect()?;
    Ok(crate::runtime::cgroups::Cgroup::at(&layout, &record.id))
}

/// Lets a paused container run again, so a signal sent to it is acted on (`stop`, a SIGKILL
/// from `kill` or `rm -f`).
fn thaw(record: &Record) {
    if let Ok(cgroup) = cgroup_of(record)
        && cgroup.frozen()
    {
        let _ = cgroup.freeze(false);
    }
}

/// SIGKILLs a running container and waits until its end is recorded.
pub fn kill(record: &Record) -> anyhow::Result<()> {
    if let Some(fd) = signal(record, Signal::SIGKILL)? {
        ended(&fd, Duration::from_secs(10));
        until(Duration::from_secs(10), || recorded_end(&record.id));
    }
    Ok(())
}

/// Waits until the process that owned the container's last run is gone (a monitor that is
/// finishing still holds the socket path), so a new one can take it over.
fn owner_gone(record: &Record) -> bool {
    until(Duration::from_secs(10), || {
        store::load(&record.id)
            .ok()
            .and_then(|r| r.owner)
            .is_none_or(|o| !o.alive())
    })
}

/// Starts an exited detached container again under a new monitor.
pub fn start(record: &Record) -> anyhow::Result<()> {
    let name = &record.name;
    match record.status {
        Status::Running => return Ok(()),
        Status::Created => bail!("container {name} is being started by another process"),
        Status::Exited => {}
    }
    if !record.detached {
        bail!("container {name} ran in the foreground: it cannot be started again");
    }
    owner_gone(record);
    let me = Process::me();
    let mut taken = false;
    store::update(&record.id, |r| {
        if r.status == Status::Exited && !r.owner.is_some_and(|o| o.alive()) {
            r.status = Status::Created;
            r.owner = Some(me);
            r.stopped_by_user = false;
            r.exit_code = None;
            r.oom_killed = false;
            taken = true;
        }
    })?;
    if !taken {
        bail!("container {name} is being started by another process");
    }
    super::start_monitor(&record.id).map_err(|f| {
        // It could not start: back to exited, with the code it failed with.
        let _ = store::update(&record.id, |r| {
            r.status = Status::Exited;
            r.exit_code = Some(f.code);
            r.owner = None;
        });
        anyhow!(f.message)
    })
}

/// Removes a container; a running one only with `force` (SIGKILL first); with `volumes`, its
/// anonymous volumes too (`rm -v`).
pub fn remove(record: &Record, force: bool, volumes: bool) -> anyhow::Result<()> {
    if record.status == Status::Running {
        if !force {
            bail!(
                "cannot remove container {}: it is running (stop it first, or use rm -f)",
                record.name
            );
        }
        if let Some(fd) = signal(record, Signal::SIGKILL)? {
            ended(&fd, Duration::from_secs(10));
        }
    }
    owner_gone(record);
    if volumes {
        store::remove_volumes(&record.id);
    }
    crate::runtime::reclaim::remove(&record.id);
    Ok(())
}
