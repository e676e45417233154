//! `stop`, `kill`, `start`, `restart`, `wait`, `rm`, `rename`: changing a container's life,
//! through [`crate::client::ops`], which the dashboard uses too.

use super::error::{Outcome, fail};
use crate::client::{Connection, ops};
use crate::monitor::protocol::{Event, Request};
use crate::runtime::pidfd;
use crate::spec::run::parse_signal;
use crate::state::{Record, Status, store};
use anyhow::{Context, bail};
use nix::sys::signal::Signal;
use std::time::Duration;

/// Containers named on the command line.
#[derive(Debug, clap::Args)]
pub struct Names {
    #[arg(required = true, value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct StopArgs {
    /// Seconds to wait for the container to end before SIGKILL [default: its --stop-timeout,
    /// else 10]
    #[arg(short = 't', long = "time", value_name = "SECS")]
    time: Option<u64>,
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
    /// Remove its anonymous volumes too (`-v /dst`, an image's Volumes; named ones stay)
    #[arg(short, long)]
    volumes: bool,
    #[command(flatten)]
    names: Names,
}

/// Runs `each` for every name at once (two stops wait out their timeouts together, not one
/// after the other), then prints each name on success in the order given (Docker's way); 1 if
/// any failed.
fn for_each(names: &Names, each: impl Fn(&Record) -> anyhow::Result<()> + Sync) -> Outcome {
    let results: Vec<anyhow::Result<()>> = std::thread::scope(|scope| {
        let each = &each;
        let running: Vec<_> = names
            .containers
            .iter()
            .map(|name| {
                scope.spawn(move || crate::runtime::reclaim::find(name).and_then(|r| each(&r)))
            })
            .collect();
        running
            .into_iter()
            .map(|t| {
                t.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("the verb's thread panicked")))
            })
            .collect()
    });
    let mut code = 0;
    for (name, result) in names.containers.iter().zip(results) {
        match result {
            Ok(()) => println!("{name}"),
            Err(e) => code = fail(format!("{e:#}")),
        }
    }
    Ok(code)
}

/// How long `stop` waits: `-t`, else the container's `--stop-timeout`, else Docker's 10 s.
fn stop_time(args: &StopArgs, r: &Record) -> Duration {
    let secs = args.time.or(r.stop_timeout.map(u64::from)).unwrap_or(10);
    Duration::from_secs(secs)
}

pub fn stop(args: &StopArgs) -> Outcome {
    for_each(&args.names, |r| {
        ops::stop(r, stop_time(args, r), args.signal)
    })
}

pub fn kill(args: &KillArgs) -> Outcome {
    for_each(&args.names, |r| {
        if r.status != Status::Running {
            bail!("cannot kill container {}: it is not running", r.name);
        }
        if args.signal == Signal::SIGKILL {
            ops::kill(r)
        } else {
            ops::signal(r, args.signal).map(drop)
        }
    })
}

pub fn start(names: &Names) -> Outcome {
    for_each(names, ops::start)
}

pub fn restart(args: &StopArgs) -> Outcome {
    for_each(&args.names, |r| {
        ops::stop(r, stop_time(args, r), args.signal)?;
        ops::start(&store::load(&r.id)?)
    })
}

/// Waits for one container to end; its exit code.
fn wait_one(name: &str) -> anyhow::Result<i32> {
    let record = crate::runtime::reclaim::find(name)?;
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
    // No monitor (a foreground container, or one that just ended): wait for its PID 1 to
    // end, then for the record to say so.
    if let Some(fd) = record.init.and_then(|p| pidfd::open(p).ok()) {
        // As long as it takes (a century is as long as it takes here).
        pidfd::ended(&fd, Duration::from_secs(100 * 365 * 86_400));
    }
    ops::until(Duration::from_secs(10), || ops::recorded_end(&record.id));
    store::load(&record.id)
        .ok()
        .and_then(|r| r.exit_code)
        .with_context(|| format!("container {name} was removed when it ended"))
}

pub fn wait(names: &Names) -> Outcome {
    let mut code = 0;
    for name in &names.containers {
        match wait_one(name) {
            Ok(exit) => println!("{exit}"),
            Err(e) => code = fail(format!("{e:#}")),
        }
    }
    Ok(code)
}

pub fn rm(args: &RmArgs) -> Outcome {
    for_each(&args.names, |r| ops::remove(r, args.force, args.volumes))
}

pub fn pause(names: &Names) -> Outcome {
    for_each(names, |r| ops::pause(r, true))
}

pub fn unpause(names: &Names) -> Outcome {
    for_each(names, |r| ops::pause(r, false))
}

/// `port CONTAINER [PORT[/PROTO]]`: its published ports, as Docker prints them
/// (`80/tcp -> 0.0.0.0:8080`), from the lease it holds (a `-p PORT` shows the host port taken).
pub fn port(container: &str, private: Option<&str>) -> Outcome {
    let record = crate::runtime::reclaim::find(container)?;
    let leases = crate::runtime::net::leases::read();
    let Some((_, lease)) = leases.lease_of(&record.id) else {
        return Err(super::error::CliError::msg(format!(
            "container {} publishes no port (it is not running on a bridge)",
            record.name
        )));
    };
    let wanted = |p: &crate::spec::network::Publish| match private {
        None => true,
        Some(text) => {
            let (port, proto) = text.split_once('/').unwrap_or((text, "tcp"));
            port == p.container_port.to_string() && proto == p.protocol.name()
        }
    };
    let mut out = String::new();
    for p in lease.publish.iter().filter(|p| wanted(p)) {
        let ip = p.host_ip.unwrap_or(std::net::Ipv4Addr::UNSPECIFIED);
        match private {
            Some(_) => out.push_str(&format!("{ip}:{}\n", p.host_port)),
            None => out.push_str(&format!(
                "{}/{} -> {ip}:{}\n",
                p.container_port,
                p.protocol.name(),
                p.host_port
            )),
        }
    }
    if out.is_empty()
        && let Some(text) = private
    {
        return Err(super::error::CliError::msg(format!(
            "no public port '{text}' published for {}",
            record.name
        )));
    }
    print!("{out}");
    Ok(0)
}

pub fn rename(old: &str, new: &str) -> Outcome {
    match crate::runtime::reclaim::find(old)
        .and_then(|r| crate::runtime::reclaim::rename(&r.id, new))
    {
        Ok(()) => Ok(0),
        Err(e) => Err(e.into()),
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
