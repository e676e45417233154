//! The verbs on an existing container (start, state, kill, delete, ps, pause, resume,
//! update, events) and the ones on none (features, list, spec).

use super::state::{Record, Root, Status};
use crate::runtime::bundle::hooks;
use crate::runtime::cgroups::Cgroup;
use crate::runtime::pidfd;
use crate::spec::limits::Limits;
use anyhow::{Context, anyhow, bail};
use nix::sys::signal::Signal;
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::Duration;

/// `start`: releases init from the exec fifo, then runs the poststart hooks.
pub fn start(root: &Root, id: &str) -> anyhow::Result<()> {
    let record = root.load(id)?;
    match record.status(root) {
        Status::Created => {}
        Status::Stopped => bail!("cannot start a container that has stopped"),
        other => bail!("cannot start an already {} container", other.name()),
    }
    let fifo = root.fifo(id);
    // Init holds the fifo open to read, parked on it: without a reader (init gone) the
    // non-blocking open fails with ENXIO.
    let opened = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&fifo);
    let mut file = match opened {
        Ok(file) => file,
        Err(e) if e.raw_os_error() == Some(libc::ENXIO) || !record.init.alive() => {
            let _ = std::fs::remove_file(&fifo);
            bail!("the container's init ended before it could start");
        }
        Err(e) => return Err(e).with_context(|| format!("cannot open {}", fifo.display())),
    };
    file.write_all(b"0")
        .context("cannot release the container's init")?;
    std::fs::remove_file(&fifo).context("cannot remove the exec fifo")?;
    let config = root.config(id)?;
    if let Some(list) = config.hooks().as_ref().and_then(|h| h.poststart().as_ref()) {
        let state = record.state_json(Status::Running).to_string();
        // The runtime spec: a failed poststart hook is a warning; the container runs on.
        if let Err(e) = hooks::run(list, &state, "poststart") {
            eprintln!("{}: warning: {e:#}", super::RUNC_NAME);
        }
    }
    Ok(())
}

/// `state`: the runtime spec's state JSON.
pub fn state(root: &Root, id: &str) -> anyhow::Result<()> {
    let record = root.load(id)?;
    let json = record.state_json(record.status(root));
    println!("{}", serde_json::to_string_pretty(&json)?);
    Ok(())
}

/// A signal as runc takes it: a number, `KILL`, or `SIGKILL` (Docker's spellings too, so
/// the CLI's parser).
pub fn parse_signal(text: &str) -> anyhow::Result<Signal> {
    crate::spec::run::parse_signal(text).map_err(anyhow::Error::msg)
}

/// `kill`: the signal to init, or with `all` to every process of the container's cgroup.
pub fn kill(root: &Root, id: &str, signal: &str, all: bool) -> anyhow::Result<()> {
    let record = root.load(id)?;
    let signal = parse_signal(signal)?;
    if record.status(root) == Status::Stopped {
        bail!("container not running");
    }
    if all {
        signal_all(&record, signal);
        return Ok(());
    }
    pidfd::signal(record.init, signal as i32)
        .map_err(|e| anyhow!("cannot signal the container's init: {}", e.desc()))
}

/// Every process of the cgroup, frozen first (so none forks past the list) when the signal
/// is SIGKILL, thawed after.
fn signal_all(record: &Record, signal: Signal) {
    let Some(cgroup) = record.cgroup() else {
        return;
    };
    let freeze = signal == Signal::SIGKILL && cgroup.freeze(true).is_ok();
    for pid in cgroup.pids() {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), signal);
    }
    if freeze || cgroup.frozen() {
        let _ = cgroup.freeze(false);
    }
}

/// `delete`: a stopped container's cgroup and record; with `force`, any container, killed
/// first. A created one (parked on its fifo) needs no force, as with runc.
pub fn delete(root: &Root, id: &str, force: bool) -> anyhow::Result<()> {
    crate::runtime::bundle::validate_id(id)?;
    let record = match root.load(id) {
        Ok(record) => record,
        Err(_) if force => {
            // A create that failed half-way leaves at most its directory.
            let _ = std::fs::remove_dir_all(root.dir(id));
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    let status = record.status(root);
    if matches!(status, Status::Running | Status::Paused) && !force {
        bail!(
            "cannot delete container {id} that is not stopped: {}",
            status.name()
        );
    }
    let cgroup = record.cgroup();
    if status != Status::Stopped || cgroup.as_ref().is_some_and(|c| !c.is_empty()) {
        signal_all(&record, Signal::SIGKILL);
        let _ = pidfd::signal(record.init, Signal::SIGKILL as i32);
    }
    if let Ok(fd) = pidfd::open(record.init) {
        pidfd::ended(&fd, Duration::from_secs(10));
    }
    if let Some(cgroup) = &cgroup {
        let mut removed = cgroup.remove();
        for _ in 0..200 {
            if removed.is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
            signal_all(&record, Signal::SIGKILL);
            removed = cgroup.remove();
        }
        removed?;
    }
    if let Ok(config) = root.config(id)
        && let Some(list) = config.hooks().as_ref().and_then(|h| h.poststop().as_ref())
    {
        let state = record.state_json(Status::Stopped).to_string();
        if let Err(e) = hooks::run(list, &state, "poststop") {
            eprintln!("{}: warning: {e:#}", super::RUNC_NAME);
        }
    }
    std::fs::remove_dir_all(root.dir(id)).context("cannot remove the container's state")
}

/// `ps`: host PIDs of the container's processes, as JSON or as ps(1)'s table.
pub fn ps(root: &Root, id: &str, format: &str, ps_args: &[String]) -> anyhow::Result<()> {
    let record = root.load(id)?;
    let pids = record.cgroup().map(|c| c.pids()).unwrap_or_default();
    match format {
        "json" => {
            println!("{}", serde_json::to_string(&pids)?);
            Ok(())
        }
        "table" => {
            let args = if ps_args.is_empty() {
                vec!["-ef".to_string()]
            } else {
                ps_args.to_vec()
            };
            let out = std::process::Command::new("ps")
                .args(&args)
                .output()
                .context("cannot run ps")?;
            let text = String::from_utf8_lossy(&out.stdout);
            let mut lines = text.lines();
            let header = lines.next().unwrap_or_default();
            let column = header
                .split_whitespace()
                .position(|h| h == "PID")
                .ok_or_else(|| anyhow!("ps printed no PID column"))?;
            println!("{header}");
            for line in lines {
                let pid = line
                    .split_whitespace()
                    .nth(column)
                    .and_then(|p| p.parse().ok());
                if pid.is_some_and(|p: i32| pids.contains(&p)) {
                    println!("{line}");
                }
            }
            Ok(())
        }
        other => bail!("invalid format option {other:?}: table or json"),
    }
}

/// `pause` (`freeze`) and `resume`.
pub fn pause(root: &Root, id: &str, freeze: bool) -> anyhow::Result<()> {
    let record = root.load(id)?;
    let status = record.status(root);
    match (freeze, status) {
        (true, Status::Running) | (false, Status::Paused) => {}
        (true, other) | (false, other) => {
            bail!(
                "container {id} is {}, not {}",
                other.name(),
                if freeze { "running" } else { "paused" }
            )
        }
    }
    let cgroup = record
        .cgroup()
        .ok_or_else(|| anyhow!("no cgroup filesystem"))?;
    cgroup.freeze(freeze)
}

/// `update`'s flags, each over `--resources`.
pub struct UpdateFlags {
    pub memory: Option<i64>,
    pub pids_limit: Option<i64>,
    pub cpu_quota: Option<i64>,
    pub cpu_period: Option<u64>,
    pub cpu_share: Option<u64>,
}

/// `update`: new limits, from `linux.resources` JSON (a file, or `-` for stdin) and flags.
pub fn update(
    root: &Root,
    id: &str,
    resources: Option<&Path>,
    flags: &UpdateFlags,
) -> anyhow::Result<()> {
    let record = root.load(id)?;
    if record.status(root) == Status::Stopped {
        bail!("container {id} is stopped");
    }
    let mut json: serde_json::Value = match resources {
        Some(p) if p == Path::new("-") => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text)?;
            serde_json::from_str(&text).context("--resources: not JSON")?
        }
        Some(p) => serde_json::from_str(&std::fs::read_to_string(p)?)
            .with_context(|| format!("{}: not JSON", p.display()))?,
        None => serde_json::json!({}),
    };
    let set = |json: &mut serde_json::Value, a: &str, b: &str, v: serde_json::Value| {
        json[a][b] = v;
    };
    if let Some(m) = flags.memory {
        set(&mut json, "memory", "limit", m.into());
    }
    if let Some(p) = flags.pids_limit {
        set(&mut json, "pids", "limit", p.into());
    }
    if let Some(q) = flags.cpu_quota {
        set(&mut json, "cpu", "quota", q.into());
    }
    if let Some(p) = flags.cpu_period {
        set(&mut json, "cpu", "period", p.into());
    }
    if let Some(s) = flags.cpu_share {
        set(&mut json, "cpu", "shares", s.into());
    }
    let resources: oci_spec::runtime::LinuxResources =
        serde_json::from_value(json).context("--resources: not linux.resources")?;
    let limits = crate::runtime::bundle::limits(&resources)?;
    let cgroup = record
        .cgroup()
        .ok_or_else(|| anyhow!("no cgroup filesystem"))?;
    cgroup.apply(&limits)?;
    warn_unapplied(&cgroup, Some(&resources), &limits);
    Ok(())
}

/// Says which of `resources` were let through without effect, as runc does: a kernel memory
/// limit (kernels since 5.16 ignore one; runc 1.2 ignores it too), and on cgroup v2 the
/// memory settings only v1 has.
pub(super) fn warn_unapplied(
    cgroup: &Cgroup,
    resources: Option<&oci_spec::runtime::LinuxResources>,
    limits: &Limits,
) {
    if let Some(kernel) = resources
        .and_then(|r| r.memory().as_ref())
        .and_then(|m| m.kernel())
        .filter(|&k| k > 0)
    {
        eprintln!(
            "{}: warning: linux.resources.memory.kernel {kernel} is ignored: kernels since \
             5.16 no longer limit kernel memory",
            super::RUNC_NAME
        );
    }
    for what in cgroup.unapplied(limits) {
        eprintln!(
            "{}: warning: linux.resources.memory.{what} is ignored: this host's memory \
             controller (cgroup v2) has no such setting",
            super::RUNC_NAME
        );
    }
}

/// `events`: usage as runc's stats event, once (`--stats`) or every `interval` until the
/// container stops.
pub fn events(root: &Root, id: &str, once: bool, interval: Duration) -> anyhow::Result<()> {
    loop {
        let record = root.load(id)?;
        if record.status(root) == Status::Stopped {
            if once {
                bail!("container {id} is stopped");
            }
            return Ok(());
        }
        let usage = record.cgroup().map(|c| c.usage()).unwrap_or_default();
        let event = serde_json::json!({
            "type": "stats",
            "id": id,
            "data": {
                "cpu": {"usage": {"total": usage.cpu_ns.unwrap_or(0)}},
                "memory": {"usage": {
                    "usage": usage.memory.unwrap_or(0),
                    "limit": usage.memory_limit.unwrap_or(0),
                }},
                "pids": {"current": usage.pids.unwrap_or(0)},
            }
        });
        println!("{event}");
        if once {
            return Ok(());
        }
        std::thread::sleep(interval);
    }
}

/// `features`: what this runtime supports, in runc's format (runtime-spec's features.md).
pub fn features() -> anyhow::Result<()> {
    let namespaces: Vec<String> = crate::runtime::bundle::NAMESPACES
        .iter()
        .filter_map(|(kind, _)| serde_json::to_value(kind).ok())
        .filter_map(|v| v.as_str().map(String::from))
        .collect();
    let caps: Vec<String> = caps::all().iter().map(|c| c.to_string()).collect();
    let mut caps = caps;
    caps.sort();
    let json = serde_json::json!({
        "ociVersionMin": "1.0.0",
        "ociVersionMax": "1.1.0",
        "hooks": ["prestart", "createRuntime", "startContainer", "poststart", "poststop"],
        "mountOptions": [
            "async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec",
            "mand", "noatime", "nodev", "nodiratime", "noexec", "nomand", "norelatime",
            "nostrictatime", "nosuid", "private", "rbind", "relatime", "remount",
            "rprivate", "rshared", "rslave", "runbindable", "ro", "rw", "shared", "slave",
            "strictatime", "suid", "sync", "unbindable",
        ],
        "linux": {
            "namespaces": namespaces,
            "capabilities": caps,
            "cgroup": {"v1": true, "v2": true, "systemd": false, "systemdUser": false},
            "seccomp": {
                "enabled": true,
                "actions": [
                    "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL",
                    "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG",
                    "SCMP_ACT_TRACE", "SCMP_ACT_TRAP",
                ],
                "operators": [
                    "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE",
                    "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE",
                ],
                "archs": [format!("SCMP_ARCH_{}", std::env::consts::ARCH.to_ascii_uppercase())],
            },
            "apparmor": {"enabled": false},
            "selinux": {"enabled": false},
        },
        "annotations": {
            "org.opencontainers.runc.checkpoint.enabled": "false",
        },
    });
    println!("{}", serde_json::to_string_pretty(&json)?);
    Ok(())
}

/// `list`: the containers of `root`.
pub fn list(root: &Root, format: &str, quiet: bool) -> anyhow::Result<()> {
    let records = root.list();
    if quiet {
        for r in &records {
            println!("{}", r.id);
        }
        return Ok(());
    }
    match format {
        "json" => {
            let all: Vec<serde_json::Value> = records
                .iter()
                .map(|r| r.state_json(r.status(root)))
                .collect();
            println!("{}", serde_json::to_string(&all)?);
        }
        "table" => {
            println!(
                "{:<20} {:<8} {:<10} {:<40} {:<32} OWNER",
                "ID", "PID", "STATUS", "BUNDLE", "CREATED"
            );
            for r in &records {
                let status = r.status(root);
                let pid = if status == Status::Stopped {
                    0
                } else {
                    r.init.pid
                };
                println!(
                    "{:<20} {:<8} {:<10} {:<40} {:<32} root",
                    r.id,
                    pid,
                    status.name(),
                    r.bundle.display(),
                    r.created
                );
            }
        }
        other => bail!("invalid format option {other:?}: table or json"),
    }
    Ok(())
}

/// `spec`: a default `config.json` in `bundle`, never over an existing one.
pub fn spec(bundle: &Path) -> anyhow::Result<()> {
    let path = bundle.join("config.json");
    if path.exists() {
        bail!("File {} exists. Remove it first", path.display());
    }
    let mut config = oci_spec::runtime::Spec::default();
    config.set_hostname(Some("mct".into()));
    if let Some(process) = config.process_mut() {
        process.set_terminal(Some(true));
    }
    std::fs::write(&path, serde_json::to_string_pretty(&config)? + "\n")
        .with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_by_number_and_name() {
        assert_eq!(parse_signal("9").unwrap(), Signal::SIGKILL);
        assert_eq!(parse_signal("KILL").unwrap(), Signal::SIGKILL);
        assert_eq!(parse_signal("SIGTERM").unwrap(), Signal::SIGTERM);
        assert_eq!(parse_signal("term").unwrap(), Signal::SIGTERM);
        assert!(parse_signal("NOPE").is_err());
        assert!(parse_signal("99").is_err());
    }
}
