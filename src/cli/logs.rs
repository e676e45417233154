//! `logs [-f] [--tail N] [-t] CONTAINER`: what the container wrote, stdout to stdout and
//! stderr to stderr, from its monitor's log; after it ended too.

use super::error::{CliError, Outcome};
use crate::monitor::log::{self, Entry};
use crate::monitor::protocol::Stream;
use crate::state::{Status, store};
use std::io::Write;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Keep printing what the container writes until it ends
    #[arg(short, long)]
    follow: bool,
    /// Only the last N lines (`all` for every line)
    #[arg(short = 'n', long, value_name = "N", default_value = "all")]
    tail: String,
    /// Put each line's time (RFC 3339) before it
    #[arg(short, long)]
    timestamps: bool,
    /// Only lines written since then: RFC 3339 (2026-12-05T10:00:00Z), Unix seconds, or a
    /// while ago (42s, 10m, 1h30m)
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    since: Option<std::time::SystemTime>,
    /// Only lines written before then (the same forms)
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    until: Option<std::time::SystemTime>,
    container: String,
}

/// `--since`/`--until`'s time, as Docker takes it: RFC 3339 (a date alone is midnight UTC),
/// Unix seconds with an optional fraction, or a duration back from now.
pub(crate) fn parse_time(text: &str) -> Result<std::time::SystemTime, String> {
    let now = std::time::SystemTime::now();
    if let Ok(ago) = humantime::parse_duration(text) {
        return Ok(now - ago);
    }
    if let Ok(at) = humantime::parse_rfc3339_weak(text) {
        return Ok(at);
    }
    if let Ok(at) = humantime::parse_rfc3339_weak(&format!("{text}T00:00:00Z")) {
        return Ok(at);
    }
    match text.parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs >= 0.0 => {
            Ok(std::time::UNIX_EPOCH + Duration::from_secs_f64(secs))
        }
        _ => Err(format!(
            "{text:?} is not a time: RFC 3339, Unix seconds, or a duration such as 10m"
        )),
    }
}

/// Whether `entry` was written within `since..until`.
fn within(entry: &Entry, args: &Args) -> bool {
    let Ok(at) = humantime::parse_rfc3339_weak(&entry.time) else {
        return true;
    };
    args.since.is_none_or(|s| at >= s) && args.until.is_none_or(|u| at < u)
}

fn print(entries: &[Entry], timestamps: bool) {
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr().lock();
    for e in entries {
        let sink: &mut dyn Write = match e.stream {
            Stream::Stdout => &mut out,
            Stream::Stderr => &mut err,
        };
        if timestamps {
            let _ = write!(sink, "{} ", e.time);
        }
        let _ = sink.write_all(e.log.as_bytes());
    }
    let _ = out.flush();
    let _ = err.flush();
}

pub fn run(args: &Args) -> Outcome {
    let tail: Option<usize> = match args.tail.as_str() {
        "all" => None,
        n => match n.parse() {
            Ok(n) => Some(n),
            Err(_) => {
                return Err(CliError::msg(format!(
                    "invalid --tail {n:?}: a number or all"
                )));
            }
        },
    };
    let record = crate::runtime::reclaim::find(&args.container)?;
    if !record.detached {
        return Err(CliError::msg(format!(
            "container {} runs in the foreground: its output goes to its terminal, not a log",
            record.name
        )));
    }
    if store::spec(&record.id).is_ok_and(|s| !s.logging.keep) {
        return Err(CliError::msg(format!(
            "container {} runs with --log-driver none: its output is not kept, so it cannot be read",
            record.name
        )));
    }
    let (entries, mut offset) = log::read_all(&record.id);
    let mut entries = log::lines(entries);
    entries.retain(|e| within(e, args));
    if let Some(n) = tail {
        let skip = entries.len().saturating_sub(n);
        entries.drain(..skip);
    }
    print(&entries, args.timestamps);
    if !args.follow {
        return Ok(0);
    }
    loop {
        // Read the state first: what was logged before the end is then read below.
        let running = store::load(&record.id)
            .is_ok_and(|r| r.status != Status::Exited || r.owner.is_some_and(|o| o.alive()));
        let (more, next) = log::read_from(&record.id, offset);
        offset = next;
        let mut more = log::lines(more);
        more.retain(|e| within(e, args));
        print(&more, args.timestamps);
        if !running
            || args
                .until
                .is_some_and(|u| std::time::SystemTime::now() >= u)
        {
            return Ok(0);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
