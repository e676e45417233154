//! `stop`, `kill`, `start`, `restart`, `wait`, `rm`, `rename`: changing a container's life.
//!
//! Signals go to PID 1 from here, through a pidfd opened on the recorded PID and start time
//! ([`crate::runtime::pidfd`]), so a stale record can never signal a process that took its PID
//! later; the monitor (or the foreground launcher) sees PID 1 end and records the exit.

use super::verbs::fail;
use crate::client::{self, Connection};
use crate::monitor::protocol::{Event, Request};
use crate::runtime::pidfd;
use crate::state::{Process, Record, Status, store};
use anyhow::{Context, anyhow, bail};
use nix::sys::signal::Signal;
use std::time::{Duration, Instant};

/// Containers named on the command line.
#[derive(Debug, clap::Args)]
pub struct Names {
    #[arg(required = true, value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct StopArgs {
    /// Seconds to wait for the container to end before SIGKILL
    #[arg(short = 't', long = "time", value_name = "SECS", default_value_t = 10)]
    time: u64,
    /// The signal to send first [default: the container's --stop-signal, else SIGTERM]
    #[arg(short, long, value_name = "SIGNAL", value_parser = parse_signal)]
    signal: Option<Signal>,
    #[command(flatten)]
    names: Names,
}

#[derive(Debug, clap::Args)]
pub struct KillArgs {
    /// The signal to send
    #[arg(short, long, value_name = "SIGNAL", default_value = "KILL", value_parser = parse_signal)]
    signal: Signal,
    #[command(flatten)]
    names: Names,
}

#[derive(Debug, clap::Args)]
pub struct RmArgs {
    /// Kill a running container first
    #[arg(short, long)]
    force: bool,
    /// Remove anonymous volumes too (containers here have none; named volumes stay, as in
    /// Docker)
    #[arg(short, long)]
    volumes: bool,
    #[command(flatten)]
    names: Names,
}

/// A signal as Docker takes it: `SIGTERM`, `TERM`, `term` or `15`.
pub fn parse_signal(text: &str) -> Result<Signal, String> {
    if let Ok(n) = text.parse::<i32>() {
        return Signal::try_from(n).map_err(|_| format!("invalid signal {text}"));
    }
    let upper = text.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    name.parse::<Signal>()
        .map_err(|_| format!("invalid signal {text}"))
}

/// Runs `each` for every name, printing the name on success (Docker's way); 1 if any failed.
fn for_each(names: &Names, mut each: impl FnMut(&str) -> anyhow::Result<()>) -> i32 {
    let mut code = 0;
    for name in &names.containers {
        match each(name) {
            Ok(()) => println!("{name}"),
            Err(e) => code = fail(format!("{e:#}")),
        }
    }
    code
}

/// Waits until `fd` (a pidfd) says its process ended, up to `patience`; true if it did.
fn ended(fd: &std::os::fd::OwnedFd, patience: Duration) -> bool {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use std::os::fd::AsFd;
    let deadline = Instant::now() + patience;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let millis = PollTimeout::try_from(left.as_millis().min(60_000) as i32)
            .unwrap_or(PollTimeout::MAX);
        let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, millis) {
            Ok(n) if n > 0 => return true,
            Err(nix::errno::Errno::EINTR) => continue,
            _ if Instant::now() >= deadline => return false,
            _ => {}
        }
    }
}

/// Waits until `cond` holds, up to `patience`.
fn until(patience: Duration, mut cond: impl FnMut() -> bool) -> bool {
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
fn recorded_end(id: &str) -> bool {
    store::load(id).map_or(true, |r| r.status != Status::Running)
}

/// Signals the running container's PID 1 and marks it stopped by the user (no restart policy
/// brings it back); the pidfd, to wait on, or `None` if it was not running.
fn signal(record: &Record, sig: Signal) -> anyhow::Result<Option<std::os::fd::OwnedFd>> {
    // Also between a restart policy's tries: the monitor then starts it no more.
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
    Ok(Some(fd))
}

/// Stops one container: its stop signal, then SIGKILL after `time`; returns once its end is
/// recorded.
fn stop_one(name: &str, time: u64, first: Option<Signal>) -> anyhow::Result<()> {
    let record = store::find(name)?;
    let first = first
        .or_else(|| Signal::try_from(record.stop_signal).ok())
        .unwrap_or(Signal::SIGTERM);
    if let Some(fd) = signal(&record, first)?
        && !ended(&fd, Duration::from_secs(time))
    {
        let _ = signal(&record, Signal::SIGKILL)?;
        ended(&fd, Duration::from_secs(10));
    }
    until(Duration::from_secs(10), || recorded_end(&record.id));
    Ok(())
}

pub fn stop(args: &StopArgs) -> i32 {
    for_each(&args.names, |name| stop_one(name, args.time, args.signal))
}

pub fn kill(args: &KillArgs) -> i32 {
    for_each(&args.names, |name| {
        let record = store::find(name)?;
        if record.status != Status::Running {
            bail!("cannot kill container {name}: it is not running");
        }
        let fd = signal(&record, args.signal)?;
        if args.signal == Signal::SIGKILL
            && let Some(fd) = fd
        {
            ended(&fd, Duration::from_secs(10));
            until(Duration::from_secs(10), || recorded_end(&record.id));
        }
        Ok(())
    })
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

/// Starts an exited (detached) container again under a new monitor.
fn start_one(name: &str) -> anyhow::Result<()> {
    let record = store::find(name)?;
    match record.status {
        Status::Running => return Ok(()),
        Status::Created => bail!("container {name} is being started by another process"),
        Status::Exited => {}
    }
    if !record.detached {
        bail!("container {name} ran in the foreground: it cannot be started again");
    }
    owner_gone(&record);
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
    client::start_monitor(&record.id).map_err(|f| {
        // It could not start: back to exited, with the code it failed with.
        let _ = store::update(&record.id, |r| {
            r.status = Status::Exited;
            r.exit_code = Some(f.code);
            r.owner = None;
        });
        anyhow!(f.message)
    })
}

pub fn start(names: &Names) -> i32 {
    for_each(names, start_one)
}

pub fn restart(args: &StopArgs) -> i32 {
    for_each(&args.names, |name| {
        stop_one(name, args.time, args.signal)?;
        start_one(name)
    })
}

/// Waits for one container to end; its exit code.
fn wait_one(name: &str) -> anyhow::Result<i32> {
    let record = store::find(name)?;
    if record.status == Status::Exited {
        return Ok(record.exit_code.unwrap_or(-1));
    }
    if let Ok(conn) = Connection::open(&record) {
        conn.send(&Request::Wait)?;
        while let Some(event) = conn.recv() {
            if let Event::Exited { code, .. } = event {
                return Ok(code);
            }
        }
    }
    // No monitor (a foreground container, or one that just ended): the record tells.
    until(Duration::from_secs(u64::MAX / 4), || recorded_end(&record.id));
    store::load(&record.id)
        .ok()
        .and_then(|r| r.exit_code)
        .with_context(|| format!("container {name} was removed when it ended"))
}

pub fn wait(names: &Names) -> i32 {
    let mut code = 0;
    for name in &names.containers {
        match wait_one(name) {
            Ok(exit) => println!("{exit}"),
            Err(e) => code = fail(format!("{e:#}")),
        }
    }
    code
}

pub fn rm(args: &RmArgs) -> i32 {
    for_each(&args.names, |name| {
        let record = store::find(name)?;
        if record.status == Status::Running {
            if !args.force {
                bail!(
                    "cannot remove container {name}: it is running (stop it first, or use rm -f)"
                );
            }
            if let Some(fd) = signal(&record, Signal::SIGKILL)? {
                ended(&fd, Duration::from_secs(10));
            }
        }
        owner_gone(&record);
        store::remove(&record.id);
        Ok(())
    })
}

pub fn rename(old: &str, new: &str) -> i32 {
    match store::find(old).and_then(|r| store::rename(&r.id, new)) {
        Ok(()) => 0,
        Err(e) => fail(format!("{e:#}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_read_as_docker_takes_them() {
        assert_eq!(parse_signal("SIGTERM"), Ok(Signal::SIGTERM));
        assert_eq!(parse_signal("term"), Ok(Signal::SIGTERM));
        assert_eq!(parse_signal("9"), Ok(Signal::SIGKILL));
        assert!(parse_signal("NOPE").is_err());
        assert!(parse_signal("999").is_err());
    }
}
