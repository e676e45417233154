//! `ps [-a] [-q] [--format json]`: the host's containers, newest first, as `docker ps`.

use super::error::Outcome;
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
    /// `table` (the default) or `json` (one object a line)
    #[arg(long, value_name = "FORMAT", default_value = "table")]
    format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Table,
    Json,
}

/// One row, as `docker ps --format json` names its fields.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Row {
    #[serde(rename = "ID")]
    id: String,
    names: String,
    image: String,
    command: String,
    created_at: String,
    running_for: String,
    state: &'static str,
    status: String,
    /// Published ports while it holds them (`0.0.0.0:8080->80/tcp`, comma separated).
    ports: String,
    pid: Option<i32>,
    exit_code: Option<i32>,
    restart_count: u32,
}

/// What the IMAGE column shows: the image, the rootfs directory, or the host's files.
pub fn image(spec: Option<&ContainerSpec>) -> String {
    spec.map_or_else(|| "(host)".into(), ContainerSpec::root_shown)
}

fn row(r: &Record, leases: &crate::runtime::net::leases::State) -> Row {
    let spec = store::spec(&r.id).ok();
    let ports = leases
        .lease_of(&r.id)
        .map(|(_, l)| {
            let all: Vec<String> = l.publish.iter().map(|p| p.to_string()).collect();
            all.join(", ")
        })
        .unwrap_or_default();
    Row {
        id: r.short_id().to_string(),
        names: r.name.clone(),
        image: image(spec.as_ref()),
        command: spec.map(|s| s.command.join(" ")).unwrap_or_default(),
        created_at: rfc3339(r.created),
        running_for: format!("{} ago", crate::state::record::ago(r.created)),
        state: r.status.as_str(),
        status: r.status_line(),
        ports,
        pid: r.init.map(|p| p.pid),
        exit_code: r.exit_code,
        restart_count: r.restart_count,
    }
}

/// The table's columns, as `docker ps` names them.
const HEADERS: [&str; 7] = [
    "CONTAINER ID",
    "IMAGE",
    "COMMAND",
    "CREATED",
    "STATUS",
    "PORTS",
    "NAMES",
];

/// One row's cells, in [`HEADERS`] order.
fn cells(r: &Row) -> [String; 7] {
    [
        r.id.clone(),
        // An image's reference whole, as Docker shows it; a rootfs directory cut.
        if r.image.starts_with('/') {
            cut(&r.image, 20)
        } else {
            r.image.clone()
        },
        format!("\"{}\"", cut(&r.command, 20)),
        r.running_for.clone(),
        r.status.clone(),
        r.ports.clone(),
        r.names.clone(),
    ]
}

/// Cuts `text` to `width` characters, marking the cut with `…`, as Docker does.
fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(width - 1).collect();
        s.push('…');
        s
    }
}

pub fn run(args: &Args) -> Outcome {
    let records: Vec<Record> = crate::runtime::reclaim::visible()
        .into_iter()
        .filter(|r| args.all || r.status == Status::Running)
        .collect();
    let leases = crate::runtime::net::leases::read();
    let mut out = String::new();
    if args.quiet {
        for r in &records {
            out.push_str(r.short_id());
            out.push('\n');
        }
    } else if args.format == Format::Json {
        for r in &records {
            out.push_str(&serde_json::to_string(&row(r, &leases)).unwrap_or_default());
            out.push('\n');
        }
    } else {
        let rows: Vec<Row> = records.iter().map(|r| row(r, &leases)).collect();
        let cells: Vec<[String; 7]> = rows.iter().map(cells).collect();
        let widths: Vec<usize> = HEADERS
            .iter()
            .enumerate()
            .map(|(i, h)| {
                cells
                    .iter()
                    .map(|c| c[i].chars().count())
                    .chain([h.len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |fields: &[String]| {
            let mut l = String::new();
            for (i, f) in fields.iter().enumerate() {
                if i + 1 == fields.len() {
                    l.push_str(f);
                } else {
                    l.push_str(&format!("{f:<w$}   ", w = widths[i]));
                }
            }
            l.push('\n');
            l
        };
        out.push_str(&line(&HEADERS.map(String::from)));
        for c in &cells {
            out.push_str(&line(c));
        }
    }
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    Ok(0)
}
