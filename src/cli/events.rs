//! `events [--since T] [--until T] [--filter KEY=VALUE] [--format FORMAT]`: what happened to
//! this namespace's containers, from the journal ([`crate::state::events`]), then as it
//! happens, until `--until` (or for ever), as `docker events`.

use super::error::{CliError, Outcome};
use super::template::Format;
use crate::state::events::{Event, Follower};
use serde_json::json;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Show events since then (RFC 3339, Unix seconds, or a while ago: 10m), then follow
    #[arg(long, value_name = "TIME", value_parser = super::logs::parse_time)]
    since: Option<SystemTime>,
    /// Stop at then (the same forms); with --since, print what happened between and exit
    #[arg(long, value_name = "TIME", value_parser = super::logs::parse_time)]
    until: Option<SystemTime>,
    /// Keep only: container=NAME|ID, event=ACTION, type=container (a key given twice: either)
    #[arg(short, long, value_name = "FILTER")]
    filter: Vec<String>,
    /// A Go template over Docker's fields (`{{.Action}} {{.Actor.Attributes.name}}`), or json
    #[arg(long, value_name = "FORMAT")]
    format: Option<Format>,
}

fn ms(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Whether `event` passes the filters (each key given must match one of its values).
fn passes(filters: &[(String, String)], event: &Event) -> bool {
    ["container", "event", "type"].iter().all(|key| {
        let mut values = filters.iter().filter(|(k, _)| k == key).peekable();
        values.peek().is_none()
            || values.any(|(_, v)| match *key {
                "container" => event.name == *v || event.id.starts_with(v.as_str()),
                "event" => event.action == *v || event.action.starts_with(&format!("{v}:")),
                _ => v == "container",
            })
    })
}

/// Docker's event object, what templates and `json` see.
fn docker(event: &Event) -> serde_json::Value {
    let mut attributes = json!({ "name": event.name });
    if let Some(code) = event.exit_code {
        attributes["exitCode"] = json!(code.to_string());
    }
    json!({
        "status": event.action, "id": event.id, "Type": "container", "Action": event.action,
        "Actor": { "ID": event.id, "Attributes": attributes },
        "scope": "local", "time": event.time_ms / 1000,
        "timeNano": u128::from(event.time_ms) * 1_000_000,
    })
}

/// Docker's line: `TIME container ACTION ID (name=NAME, exitCode=N)`.
fn line(event: &Event) -> String {
    let time = crate::state::record::rfc3339(event.time_ms);
    let mut attributes = vec![format!("name={}", event.name)];
    if let Some(code) = event.exit_code {
        attributes.push(format!("exitCode={code}"));
    }
    format!(
        "{time} container {} {} ({})",
        event.action,
        event.id,
        attributes.join(", ")
    )
}

pub fn run(args: &Args) -> Outcome {
    let mut filters = Vec::new();
    for f in &args.filter {
        match f.split_once('=') {
            Some((k @ ("container" | "event" | "type"), v)) => {
                filters.push((k.to_string(), v.to_string()))
            }
            _ => {
                return Err(CliError::runtime(format!(
                    "invalid filter {f:?} (container=, event=, type=)"
                )));
            }
        }
    }
    let namespace = crate::state::record::namespace();
    let since = args.since.map(ms);
    let until = args.until.map(ms);
    let mut follower = Follower::open(since.is_some());
    let mut out = std::io::stdout().lock();
    loop {
        for event in follower.read() {
            if event.namespace != namespace
                || since.is_some_and(|s| event.time_ms < s)
                || !passes(&filters, &event)
            {
                continue;
            }
            if until.is_some_and(|u| event.time_ms >= u) {
                return Ok(0);
            }
            let text = match &args.format {
                None | Some(Format::Table) => line(&event),
                Some(Format::Json) => docker(&event).to_string(),
                Some(Format::Template(t)) => t.render(&docker(&event)).map_err(CliError::msg)?,
            };
            use std::io::Write;
            if writeln!(out, "{}", crate::printable::escaped(&text))
                .and_then(|()| out.flush())
                .is_err()
            {
                return Ok(0);
            }
        }
        if until.is_some_and(|u| ms(SystemTime::now()) >= u) {
            return Ok(0);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
