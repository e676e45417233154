//! The inspector's own thread: about once a second (and at once when what it watches changes)
//! it inspects the selected container and samples every running session's cgroup and PID 1, so
//! that reading
//! `/proc` and cgroupfs never holds up keys or drawing. It enters containers' UTS namespaces to
//! read their hostnames, which only this thread does.

use crate::runtime::cgroups::{Cgroup, Layout, Usage};
use crate::runtime::inspect::{Inspection, Users, hostnames_of};
use crate::runtime::net::view::NetView;
use crate::state::Process;
use std::collections::HashMap;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::{Duration, Instant};

const PERIOD: Duration = Duration::from_secs(1);

/// What to watch: the selected session `(id, its container's PID 1)`, and every running
/// session's `(id, PID 1, container id, cgroup below the hierarchies' roots)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Watch {
    pub selected: Option<(u64, Process)>,
    pub running: Vec<(u64, Process, String, std::path::PathBuf)>,
}

/// One session's resource use at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sample {
    /// The container's PID 1 as the host numbers it.
    pub init_pid: Option<i32>,
    pub usage: Usage,
    /// CPU used since the previous sample, in percent of one core.
    pub cpu_percent: Option<f64>,
    /// Its address on its bridge network, while it holds one.
    pub ip: Option<std::net::Ipv4Addr>,
    /// Its published ports, as its lease holds them (`0.0.0.0:8080->80/tcp`).
    pub ports: String,
    /// Its hostname as its UTS namespace says now.
    pub hostname: Option<String>,
}

/// What the thread reports.
pub enum Report {
    /// Boxed: an inspection is large, and most reports are usage.
    Inspected(u64, Option<Box<Inspection>>),
    Usage(Vec<(u64, Sample)>),
}

/// Starts the thread; send it what to watch. It ends when the returned sender is dropped.
pub fn spawn(report: impl Fn(Report) + Send + 'static) -> std::io::Result<Sender<Watch>> {
    let (tx, rx) = channel();
    std::thread::Builder::new()
        .name("inspector".into())
        .spawn(move || watch(rx, report))?;
    Ok(tx)
}

fn watch(rx: Receiver<Watch>, report: impl Fn(Report)) {
    let users = Users::load();
    let layout = Layout::detect().ok();
    let mut target = Watch::default();
    let mut last_cpu: HashMap<u64, (u64, Instant)> = HashMap::new();
    // The selected session's last network look, for its rates.
    let mut last_net: Option<(u64, NetView)> = None;
    // Each process's CPU time at the last inspection, by (PID, start time), for its CPU%.
    let mut last_ticks: HashMap<(i32, u64), u64> = HashMap::new();
    let mut last_at = Instant::now();
    let hz = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .unwrap_or(100) as f64;
    loop {
        match rx.recv_timeout(PERIOD) {
            Ok(t) => target = t,
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        if let Some((id, init)) = target.selected {
            let mut inspection = Inspection::take(init, &users);
            let container = target.running.iter().find(|(i, _, _, _)| *i == id);
            if let (Some(ins), Some((_, _, name, _))) = (inspection.as_mut(), container) {
                let mut net = NetView::take(init.pid, name);
                if let (Some(now), Some((before_id, before))) = (net.as_mut(), &last_net)
                    && *before_id == id
                {
                    now.rates_since(before);
                }
                last_net = net.clone().map(|n| (id, n));
                ins.network = net;
            }
            if let Some(ins) = inspection.as_mut() {
                let wall = last_at.elapsed().as_secs_f64();
                let mut ticks = HashMap::new();
                for p in &mut ins.processes {
                    let key = (p.host_pid, p.start);
                    p.cpu_permille = last_ticks.get(&key).filter(|_| wall > 0.0).map(|before| {
                        (1000.0 * p.cpu_ticks.saturating_sub(*before) as f64 / hz / wall) as u32
                    });
                    ticks.insert(key, p.cpu_ticks);
                }
                last_ticks = ticks;
                last_at = Instant::now();
            }
            report(Report::Inspected(id, inspection.map(Box::new)));
        }
        let leases = crate::runtime::net::leases::read();
        let pids: Vec<i32> = target
            .running
            .iter()
            .filter(|(_, init, _, _)| init.alive())
            .map(|(_, init, _, _)| init.pid)
            .collect();
        let mut hostnames = hostnames_of(&pids);
        let now = Instant::now();
        let samples = target
            .running
            .iter()
            .map(|(id, init, name, cgroup)| {
                let init_pid = init.alive().then_some(init.pid);
                let usage = layout
                    .as_ref()
                    .map(|l| Cgroup::at_path(l, cgroup).usage())
                    .unwrap_or_default();
                let cpu_percent = usage.cpu_ns.and_then(|ns| {
                    let (prev_ns, prev_at) = last_cpu.insert(*id, (ns, now))?;
                    let wall = now.duration_since(prev_at).as_nanos() as f64;
                    (wall > 0.0).then(|| 100.0 * ns.saturating_sub(prev_ns) as f64 / wall)
                });
                let lease = leases.lease_of(name).map(|(_, l)| l);
                let ip = lease.map(|l| l.ip);
                let ports = lease.map(|l| l.ports_shown()).unwrap_or_default();
                let hostname = init_pid.and_then(|pid| hostnames.remove(&pid));
                (
                    *id,
                    Sample {
                        init_pid,
                        usage,
                        cpu_percent,
                        ip,
                        ports,
                        hostname,
                    },
                )
            })
            .collect();
        last_cpu.retain(|id, _| target.running.iter().any(|(i, _, _, _)| i == id));
        report(Report::Usage(samples));
    }
}
