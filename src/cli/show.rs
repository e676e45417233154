//! `inspect`, `top`, `stats`: read-only views of containers, from their records, their specs,
//! `/proc` and their cgroups. Nothing here is read from what a container prints.

use super::error::{CliError, Outcome, fail};
use super::ps::image;
use super::template::Format;
use crate::runtime::cgroups::{Cgroup, Layout, Usage};
use crate::runtime::inspect::{NAMESPACE_KINDS, Users, processes};
use crate::spec::limits::{decimal, human};
use crate::spec::volume::Volume;
use crate::state::record::rfc3339;
use crate::state::{Record, Status, store};
use serde_json::{Value, json};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

fn inspect_one(record: &Record) -> anyhow::Result<Value> {
    let spec = store::spec(&record.id)?;
    let pid = record.init.filter(|p| p.alive()).map(|p| p.pid);
    let namespaces: serde_json::Map<String, Value> = pid
        .map(|pid| {
            NAMESPACE_KINDS
                .iter()
                .map(|k| (k.to_string(), json!(format!("/proc/{pid}/ns/{k}"))))
                .collect()
        })
        .unwrap_or_default();
    let cgroups: Vec<String> = Layout::detect()
        .map(|l| {
            Cgroup::at(&l, &record.id)
                .existing_dirs()
                .iter()
                .map(|d| d.display().to_string())
                .collect()
        })
        .unwrap_or_default();
    let mounts: Vec<Value> = spec
        .volumes
        .iter()
        .map(|v| match v {
            Volume::Bind {
                src,
                dst,
                read_only,
                ..
            } => json!({
                "Type": if super::volume::name_of(src).is_some() { "volume" } else { "bind" },
                "Name": super::volume::name_of(src),
                "Source": src, "Destination": dst, "RW": !read_only,
            }),
            Volume::Named {
                name,
                dst,
                read_only,
            } => json!({
                "Type": "volume", "Name": name, "Source": crate::state::volumes::data_dir(name),
                "Destination": dst, "RW": !read_only,
            }),
            Volume::Tmpfs { dst, read_only, .. } => {
                json!({"Type": "tmpfs", "Source": "", "Destination": dst, "RW": !read_only})
            }
        })
        .collect();
    let limits = &spec.limits;
    Ok(json!({
        "Id": record.id,
        "Name": record.name,
        "Created": rfc3339(record.created),
        "Path": spec.command.first(),
        "Args": spec.command.get(1..),
        "State": {
            "Status": record.state(),
            "Running": record.status == Status::Running,
            "Pid": pid.unwrap_or(0),
            "ExitCode": record.exit_code.unwrap_or(0),
            "OOMKilled": record.oom_killed,
            "StartedAt": record.started.map(rfc3339),
            "FinishedAt": record.finished.map(rfc3339),
            "Health": record.health.as_ref().map(|h| json!({
                "Status": h.status,
                "FailingStreak": h.failing_streak,
                "Log": h.log.iter().map(|c| json!({
                    "Start": c.start, "End": c.end, "ExitCode": c.exit_code, "Output": c.output,
                })).collect::<Vec<_>>(),
            })),
        },
        "RestartCount": record.restart_count,
        "Image": image(Some(&spec)),
        "LogPath": record.detached.then(|| crate::monitor::log::path(&record.id)),
        "Config": {
            "Hostname": spec.hostname,
            "Cmd": spec.command,
            "Env": spec.environment(),
            "WorkingDir": spec.workdir,
            "Tty": spec.tty,
            "OpenStdin": record.interactive,
            "StopTimeout": record.stop_timeout,
            "Labels": spec.labels,
            "Healthcheck": spec.health.as_ref().map(|h| json!({
                "Test": h.test, "Interval": h.interval_ms * 1_000_000,
                "Timeout": h.timeout_ms * 1_000_000, "StartPeriod": h.start_period_ms * 1_000_000,
                "Retries": h.retries,
            })),
            "StopSignal": nix::sys::signal::Signal::try_from(record.stop_signal).map(|s| s.as_str()).ok(),
        },
        "HostConfig": {
            "AutoRemove": record.auto_remove,
            "RestartPolicy": {"Name": record.restart.to_string()},
            "Privileged": spec.hardening.privileged,
            "CapAdd": spec.hardening.cap_add,
            "CapDrop": spec.hardening.cap_drop,
            "Memory": limits.memory.unwrap_or(0),
            "MemorySwap": limits.memory_swap.unwrap_or(0),
            "PidsLimit": limits.pids,
            "CpuQuota": limits.cpu_quota_us,
            "CpuShares": limits.cpu_shares.unwrap_or(0),
            "Devices": spec.devices,
            "ReadonlyRootfs": spec.rootfs.as_ref().is_some_and(|r| r.mode == crate::spec::rootfs::Writes::ReadOnly),
            "UsernsMode": if spec.userns.own() { "private" } else { "" },
        },
        // Podman's: `CONTAINER:HOST:COUNT` ranges of its user namespace (none: the host's).
        "IDMappings": id_mappings(&spec.userns),
        "Namespaces": namespaces,
        "Cgroups": cgroups,
        "Mounts": mounts,
        "NetworkSettings": network_settings(&record.id, &spec),
    }))
}

fn id_mappings(userns: &crate::spec::userns::UserNs) -> Value {
    let shown = |ranges: &[crate::spec::userns::IdRange]| -> Vec<String> {
        ranges
            .iter()
            .map(|r| format!("{}:{}:{}", r.inside, r.outside, r.count))
            .collect()
    };
    match userns {
        crate::spec::userns::UserNs::Map { uids, gids } => {
            json!({"UidMap": shown(uids), "GidMap": shown(gids)})
        }
        _ => Value::Null,
    }
}

/// Docker's `NetworkSettings`: the mode, and while the container holds a lease its address,
/// gateway, bridge, host veth and published ports (with the host port taken for `-p PORT`).
fn network_settings(id: &str, spec: &crate::runtime::ContainerSpec) -> Value {
    let up = crate::runtime::net::leases::read();
    let lease = up.lease_of(id);
    let ports: Vec<String> = match lease {
        Some((_, l)) => l.publish.iter().map(|p| p.to_string()).collect(),
        None => spec.network.publish.iter().map(|p| p.to_string()).collect(),
    };
    json!({
        "Mode": spec.network.mode_shown(),
        "IPAddress": lease.map(|(_, l)| l.ip.to_string()).unwrap_or_default(),
        "IPPrefixLen": lease.map(|(n, _)| n.subnet.prefix).unwrap_or(0),
        "Gateway": lease.map(|(n, _)| n.subnet.gateway().to_string()).unwrap_or_default(),
        "Bridge": lease.map(|(n, _)| n.bridge.clone()).unwrap_or_default(),
        "HostVeth": lease.map(|(_, l)| l.veth.clone()).unwrap_or_default(),
        "Aliases": spec.network.aliases,
        "Ports": ports,
    })
}

/// `inspect [--format TEMPLATE] CONTAINER...`.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// A Go template applied to each container's JSON (`{{.State.Pid}}`), or `json`
    #[arg(short, long, value_name = "FORMAT")]
    format: Option<Format>,
    #[arg(required = true, value_name = "CONTAINER")]
    containers: Vec<String>,
}

pub fn inspect(args: &InspectArgs) -> Outcome {
    let mut code = 0;
    let mut out = Vec::new();
    for name in &args.containers {
        match crate::runtime::reclaim::find(name).and_then(|r| inspect_one(&r)) {
            Ok(v) => out.push(v),
            Err(e) => code = fail(format!("{e:#}")),
        }
    }
    let text = match &args.format {
        // Docker's: a template prints once per container, each ended by a newline.
        Some(Format::Template(t)) => {
            let mut text = String::new();
            for v in &out {
                text.push_str(&t.render(v).map_err(CliError::msg)?);
                text.push('\n');
            }
            text
        }
        _ => format!(
            "{}\n",
            serde_json::to_string_pretty(&Value::Array(out)).unwrap_or_default()
        ),
    };
    print!("{text}");
    Ok(code)
}

/// `diff CONTAINER`: what it changed in its root, `A`/`C`/`D` and the path, from its overlay's
/// upper layer against its image's layers (or its rootfs directory).
pub fn diff(name: &str) -> Outcome {
    let record = crate::runtime::reclaim::find(name)?;
    print!("{}", crate::image::changes::listing(&record.id)?);
    Ok(0)
}

/// The running container's PID 1 as the host numbers it.
fn init_of(record: &Record) -> anyhow::Result<i32> {
    record
        .init
        .filter(|p| record.status == Status::Running && p.alive())
        .map(|p| p.pid)
        .ok_or_else(|| anyhow::anyhow!("container {} is not running", record.name))
}

/// `top CONTAINER [ps OPTIONS]`: its processes, PID inside beside PID on the host; with `ps`
/// options, as Docker does it, the host's `ps` with them, cut to the container's rows.
pub fn top(name: &str, ps_options: &[String]) -> Outcome {
    let init = crate::runtime::reclaim::find(name).and_then(|r| init_of(&r))?;
    let users = Users::load();
    let mut rows: Vec<_> = processes(init, &users)
        .into_iter()
        .filter(|p| p.container_pid.is_some())
        .collect();
    rows.sort_by_key(|p| p.container_pid);
    // What a container's processes are called is theirs to say: escaped.
    let shown = |text: &str| crate::printable::escaped(text).into_owned();
    if !ps_options.is_empty() {
        let pids: Vec<String> = rows.iter().map(|p| p.host_pid.to_string()).collect();
        return host_ps(ps_options, &pids, shown);
    }
    let mut lines = vec!["PID\tHOST PID\tUSER\tSTAT\tCOMMAND".to_string()];
    for p in rows {
        lines.push(format!(
            "{}\t{}\t{}\t{}\t{}",
            p.container_pid.unwrap_or(0),
            p.host_pid,
            shown(&p.user),
            p.state,
            shown(&p.command).replace('\t', " ")
        ));
    }
    print!("{}", super::template::aligned(&lines));
    Ok(0)
}

/// The host's `ps OPTIONS`, its header and the rows whose PID column is one of `pids`.
fn host_ps(options: &[String], pids: &[String], shown: impl Fn(&str) -> String) -> Outcome {
    let out = std::process::Command::new("ps")
        .args(options)
        .output()
        .map_err(|e| CliError::msg(format!("cannot run ps: {e}")))?;
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr);
        return Err(CliError::msg(format!(
            "ps {}: {}",
            options.join(" "),
            why.lines().next().unwrap_or("failed")
        )));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let header = lines.next().unwrap_or("");
    let Some(column) = header.split_whitespace().position(|h| h == "PID") else {
        return Err(CliError::msg(format!(
            "ps {} prints no PID column to find the container's processes by",
            options.join(" ")
        )));
    };
    println!("{}", shown(header));
    for line in lines.filter(|l| {
        l.split_whitespace()
            .nth(column)
            .is_some_and(|pid| pids.iter().any(|p| p == pid))
    }) {
        println!("{}", shown(line));
    }
    Ok(0)
}

#[derive(Debug, clap::Args)]
pub struct StatsArgs {
    /// Print one sample and exit
    #[arg(long)]
    no_stream: bool,
    /// Every container, not only running ones
    #[arg(short, long)]
    all: bool,
    /// `table` (the default), `json` (one object a line), or a Go template
    /// (`{{.Name}}\t{{.MemUsage}}`)
    #[arg(long, value_name = "FORMAT", default_value = "table")]
    format: Format,
    /// Containers [default: every running one]
    #[arg(value_name = "CONTAINER")]
    containers: Vec<String>,
}

/// Bytes received and sent on every interface but loopback, in the namespace of `pid`.
fn net_io(pid: i32) -> Option<(u64, u64)> {
    // Interface names are the container's to choose, in any bytes: read as bytes.
    let text = crate::state::kernfile::read(format!("/proc/{pid}/net/dev")).ok()?;
    let mut total = (0, 0);
    for line in text.lines().skip(2) {
        let (name, rest) = line.split_once(':')?;
        if name.trim() == "lo" {
            continue;
        }
        let fields: Vec<u64> = rest
            .split_whitespace()
            .filter_map(|f| f.parse().ok())
            .collect();
        total.0 += fields.first().copied().unwrap_or(0);
        total.1 += fields.get(8).copied().unwrap_or(0);
    }
    Some(total)
}

fn sample(layout: &Option<Layout>, record: &Record) -> Usage {
    layout
        .as_ref()
        .map(|l| Cgroup::at(l, &record.id).usage())
        .unwrap_or_default()
}

/// `docker stats`' default columns.
const STATS_TABLE: &str = "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}";

/// Docker's header of each `stats` field.
const STATS_HEADERS: [(&str, &str); 8] = [
    ("ID", "CONTAINER ID"),
    ("Container", "CONTAINER"),
    ("CPUPerc", "CPU %"),
    ("MemUsage", "MEM USAGE / LIMIT"),
    ("MemPerc", "MEM %"),
    ("NetIO", "NET I/O"),
    ("BlockIO", "BLOCK I/O"),
    ("PIDs", "PIDS"),
];

/// The host's memory: the limit `stats` shows for a container without one, as Docker's.
fn host_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib: u64 = info
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// Bytes as Docker's `stats` writes memory: binary units, no blank (`1.5MiB`).
fn binary(bytes: u64) -> String {
    human(bytes).replace(' ', "")
}

pub fn stats(args: &StatsArgs) -> Outcome {
    let layout = Layout::detect().ok();
    let records: Vec<Record> = if args.containers.is_empty() {
        crate::runtime::reclaim::visible()
            .into_iter()
            .filter(|r| args.all || r.status == Status::Running)
            .collect()
    } else {
        let mut found = Vec::new();
        for name in &args.containers {
            match crate::runtime::reclaim::find(name) {
                Ok(r) => found.push(r),
                Err(e) => return Err(e.into()),
            }
        }
        found
    };
    let host_memory = host_memory();
    let mut before: Vec<(Usage, Instant)> = records
        .iter()
        .map(|r| (sample(&layout, r), Instant::now()))
        .collect();
    loop {
        // CPU is a rate: two samples a second apart, as docker stats takes them.
        std::thread::sleep(Duration::from_secs(1));
        let mut rows = Vec::new();
        for (i, r) in records.iter().enumerate() {
            let now = sample(&layout, r);
            let (prev, at) = before[i];
            let cpu = match (now.cpu_ns, prev.cpu_ns) {
                (Some(n), Some(p)) => {
                    100.0 * n.saturating_sub(p) as f64 / at.elapsed().as_nanos().max(1) as f64
                }
                _ => 0.0,
            };
            before[i] = (now, Instant::now());
            let running = r.status == Status::Running;
            let memory = now.memory.filter(|_| running).unwrap_or(0);
            let limit = now.memory_limit.or(host_memory).unwrap_or(0);
            let pair = |io: Option<(u64, u64)>| {
                let (a, b) = io.unwrap_or((0, 0));
                format!("{} / {}", decimal(a), decimal(b))
            };
            let net = r
                .init
                .filter(|p| running && p.alive())
                .and_then(|p| net_io(p.pid));
            let block = layout
                .as_ref()
                .filter(|_| running)
                .and_then(|l| Cgroup::at(l, &r.id).block_io());
            rows.push(json!({
                "ID": r.short_id(),
                "Container": r.short_id(),
                "Name": r.name,
                "CPUPerc": format!("{cpu:.2}%"),
                "MemUsage": format!("{} / {}", binary(memory), binary(limit)),
                "MemPerc": format!("{:.2}%", 100.0 * memory as f64 / limit.max(1) as f64),
                "NetIO": pair(net),
                "BlockIO": pair(block),
                "PIDs": now.pids.filter(|_| running).unwrap_or(0),
            }));
        }
        let out = args
            .format
            .rows(&rows, STATS_TABLE, &STATS_HEADERS)
            .map_err(CliError::msg)?;
        // A stream redraws in place, as Docker's does on a terminal.
        let clear = match !args.no_stream && std::io::stdout().is_terminal() {
            true => "\x1b[2J\x1b[H",
            false => "",
        };
        print!("{clear}{out}");
        if args.no_stream {
            return Ok(0);
        }
    }
}
