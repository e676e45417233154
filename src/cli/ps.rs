//! `ps [-a] [-q] [--filter KEY=VALUE] [--format FORMAT]`: the host's containers, newest first,
//! as `docker ps`.

use super::error::{CliError, Outcome};
use super::template::Format;
use crate::runtime::ContainerSpec;
use crate::state::record::rfc3339;
use crate::state::{Record, Status, store};
use serde::Serialize;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Show every container (default: running ones)
    #[arg(short, long)]
    all: bool,
    /// Print ids only
    #[arg(short, long)]
    quiet: bool,
    /// Show the last created container only (any state)
    #[arg(short = 'l', long)]
    latest: bool,
    /// Show the N last created containers (any state)
    #[arg(short = 'n', long, value_name = "N")]
    last: Option<usize>,
    /// Keep only containers that match: id=, name=, label=KEY[=VALUE], status=, exited=,
    /// ancestor=IMAGE, network=, volume=, health=starting|healthy|unhealthy|none (one key
    /// given twice: either value)
    #[arg(short, long, value_name = "FILTER")]
    filter: Vec<Filter>,
    /// `table` (the default), `json` (one object a line), or a Go template
    /// (`{{.Names}}\t{{.Status}}`, `table {{.ID}}\t{{.Image}}`)
    #[arg(long, value_name = "FORMAT", default_value = "table")]
    format: Format,
}

/// One `--filter KEY=VALUE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    key: &'static str,
    value: String,
}

/// The keys `ps --filter` takes.
const FILTER_KEYS: [&str; 9] = [
    "id", "name", "label", "status", "exited", "ancestor", "network", "volume", "health",
];

/// The states `status=` may name, as Docker's.
const STATES: [&str; 7] = [
    "created",
    "restarting",
    "running",
    "removing",
    "paused",
    "exited",
    "dead",
];

impl std::str::FromStr for Filter {
    type Err = String;

    fn from_str(text: &str) -> Result<Filter, String> {
        let (key, value) = text
            .split_once('=')
            .ok_or_else(|| format!("bad format of filter {text:?} (expected name=value)"))?;
        let key = FILTER_KEYS
            .iter()
            .find(|k| **k == key.trim().to_lowercase())
            .ok_or_else(|| format!("invalid filter {key:?} ({})", FILTER_KEYS.join(", ")))?;
        if *key == "status" && !STATES.contains(&value) {
            return Err(format!(
                "invalid filter 'status={value}' ({})",
                STATES.join(", ")
            ));
        }
        Ok(Filter {
            key,
            value: value.to_string(),
        })
    }
}

/// Whether `r` passes `filters`: every key given matches one of its values (Docker's rule).
fn passes(filters: &[Filter], r: &Record, spec: Option<&ContainerSpec>, paused: bool) -> bool {
    FILTER_KEYS.iter().all(|key| {
        let mut values = filters.iter().filter(|f| f.key == *key).peekable();
        values.peek().is_none() || values.any(|f| matches(f, r, spec, paused))
    })
}

fn matches(f: &Filter, r: &Record, spec: Option<&ContainerSpec>, paused: bool) -> bool {
    let v = f.value.as_str();
    match f.key {
        "id" => r.id.starts_with(v),
        "name" => r.name.contains(v),
        "health" => match &r.health {
            Some(h) if r.status == Status::Running => h.status == v,
            _ => v == "none",
        },
        "status" if paused => v == "paused",
        "status" => r.state() == v,
        "exited" => r.status == Status::Exited && r.exit_code.is_some_and(|c| c.to_string() == v),
        "label" => spec.is_some_and(|s| match v.split_once('=') {
            Some((key, value)) => s.labels.get(key).is_some_and(|l| l == value),
            None => s.labels.contains_key(v),
        }),
        "ancestor" => spec.and_then(|s| s.image.as_ref()).is_some_and(|i| {
            let full = |text: &str| {
                crate::image::reference::Ref::parse(text)
                    .map(|r| r.to_string())
                    .ok()
            };
            i.reference == v
                || full(&i.reference).is_some_and(|f| Some(&f) == full(v).as_ref())
                || i.id.strip_prefix("sha256:").is_some_and(|hex| {
                    hex.starts_with(v.strip_prefix("sha256:").unwrap_or(v)) && v.len() >= 4
                })
        }),
        "network" => spec.is_some_and(|s| s.network.mode_shown() == v),
        "volume" => spec.is_some_and(|s| {
            s.volumes.iter().any(|vol| {
                vol.dst().to_str() == Some(v)
                    || match vol {
                        crate::spec::volume::Volume::Named { name, .. } => name == v,
                        crate::spec::volume::Volume::Bind { src, .. } => {
                            src.to_str() == Some(v)
                                || super::volume::name_of(src) == Some(v.to_string())
                        }
                        _ => false,
                    }
            })
        }),
        _ => false,
    }
}

/// One row, as `docker ps --format` names its fields (`{{.Names}}`); `json` prints it whole.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Row {
    #[serde(rename = "ID")]
    id: String,
    names: String,
    /// The image's reference whole, as Docker shows it; a rootfs directory cut.
    image: String,
    /// Quoted and cut to 20 characters, as Docker's.
    command: String,
    created_at: String,
    running_for: String,
    state: &'static str,
    status: String,
    /// Published ports while it holds them (`0.0.0.0:8080->80/tcp`, comma separated).
    ports: String,
    /// `KEY=VALUE` pairs, comma separated.
    labels: String,
    /// Volume names and bind sources, comma separated.
    mounts: String,
    networks: String,
    pid: Option<i32>,
    exit_code: Option<i32>,
    restart_count: u32,
}

/// What the IMAGE column shows: the image, the rootfs directory, or the host's files.
pub fn image(spec: Option<&ContainerSpec>) -> String {
    spec.map_or_else(|| "(host)".into(), ContainerSpec::root_shown)
}

fn row(
    r: &Record,
    spec: Option<&ContainerSpec>,
    leases: &crate::runtime::net::leases::State,
    paused: bool,
) -> Row {
    let ports = leases
        .lease_of(&r.id)
        .map(|(_, l)| l.ports_shown())
        .unwrap_or_default();
    let image = image(spec);
    let joined = |items: Vec<String>| items.join(",");
    Row {
        id: r.short_id().to_string(),
        names: r.name.clone(),
        image: match image.starts_with('/') {
            true => crate::printable::cut(&image, 20),
            false => image,
        },
        command: format!(
            "\"{}\"",
            crate::printable::cut(&spec.map(|s| s.command.join(" ")).unwrap_or_default(), 20)
        ),
        created_at: rfc3339(r.created),
        running_for: format!("{} ago", crate::state::record::ago(r.created)),
        state: if paused { "paused" } else { r.state() },
        status: match paused {
            true => format!("{} (Paused)", r.status_line()),
            false => r.status_line(),
        },
        ports,
        labels: joined(
            spec.map(|s| s.labels.iter().map(|(k, v)| format!("{k}={v}")).collect())
                .unwrap_or_default(),
        ),
        mounts: joined(
            spec.map(|s| s.volumes.iter().filter_map(mount_name).collect())
                .unwrap_or_default(),
        ),
        networks: spec.map(|s| s.network.mode_shown()).unwrap_or_default(),
        pid: r.init.map(|p| p.pid),
        exit_code: r.exit_code,
        restart_count: r.restart_count,
    }
}

/// A volume as `ps`'s MOUNTS shows it: its name, or its source.
fn mount_name(v: &crate::spec::volume::Volume) -> Option<String> {
    use crate::spec::volume::Volume;
    match v {
        Volume::Named { name, .. } => Some(name.clone()),
        Volume::Bind { src, .. } => {
            Some(super::volume::name_of(src).unwrap_or_else(|| src.display().to_string()))
        }
        Volume::Tmpfs { .. } => None,
    }
}

/// The default table, as `docker ps` prints it.
const TABLE: &str =
    "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";

/// Docker's column header of each field.
pub const HEADERS: [(&str, &str); 6] = [
    ("ID", "CONTAINER ID"),
    ("RunningFor", "CREATED"),
    ("CreatedAt", "CREATED AT"),
    ("ExitCode", "EXIT CODE"),
    ("RestartCount", "RESTARTS"),
    ("Pid", "PID"),
];

/// Whether running container `r` is paused (its freezer cgroup says so).
fn is_paused(layout: &Option<crate::runtime::cgroups::Layout>, r: &Record) -> bool {
    r.status == Status::Running
        && layout
            .as_ref()
            .is_some_and(|l| crate::runtime::cgroups::Cgroup::at(l, &r.id).frozen())
}

pub fn run(args: &Args) -> Outcome {
    let layout = crate::runtime::cgroups::Layout::detect().ok();
    let mut records: Vec<(Record, Option<ContainerSpec>, bool)> =
        crate::runtime::reclaim::visible()
            .into_iter()
            .filter(|r| {
                args.all || args.latest || args.last.is_some() || r.status == Status::Running
            })
            .map(|r| {
                let spec = store::spec(&r.id).ok();
                let paused = is_paused(&layout, &r);
                (r, spec, paused)
            })
            .filter(|(r, spec, paused)| passes(&args.filter, r, spec.as_ref(), *paused))
            .collect();
    if let Some(n) = args.last.or(args.latest.then_some(1)) {
        records.truncate(n);
    }
    let out = if args.quiet {
        records
            .iter()
            .map(|(r, _, _)| format!("{}\n", r.short_id()))
            .collect()
    } else {
        let leases = crate::runtime::net::leases::read();
        let rows: Vec<serde_json::Value> = records
            .iter()
            .map(|(r, spec, paused)| {
                serde_json::to_value(row(r, spec.as_ref(), &leases, *paused)).unwrap_or_default()
            })
            .collect();
        args.format
            .rows(&rows, TABLE, &HEADERS)
            .map_err(CliError::msg)?
    };
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    Ok(0)
}
