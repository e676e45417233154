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
    /// Write the output as an asciicast v2 recording (`asciinema play` plays it), timed as it
    /// was logged, for an 80x24 terminal unless --size says otherwise
    #[arg(long)]
    asciicast: bool,
    /// The recording's terminal size, COLSxROWS
    #[arg(long, value_name = "COLSxROWS", default_value = "80x24", value_parser = parse_size, requires = "asciicast")]
    size: (u16, u16),
    container: String,
}

fn parse_size(text: &str) -> Result<(u16, u16), String> {
    text.split_once('x')
        .and_then(|(c, r)| Some((c.parse().ok()?, r.parse().ok()?)))
        .filter(|&(c, r)| c > 0 && r > 0)
        .ok_or_else(|| format!("{text:?} is not a size: COLSxROWS, as 120x40"))
}

/// `entries` as an asciicast on stdout, each at its time after the first's.
fn print_cast(entries: &[Entry], (cols, rows): (u16, u16)) -> std::io::Result<()> {
    let seconds = |e: &Entry| {
        humantime::parse_rfc3339_weak(&e.time)
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs_f64())
    };
    let first = entries.iter().find_map(seconds).unwrap_or(0.0);
    let mut cast = crate::cast::Cast::start(std::io::stdout().lock(), cols, rows)?;
    let mut last = 0.0f64;
    for e in entries {
        // Never back in time, whatever a log's clock did.
        last = seconds(e).map_or(last, |s| (s - first).max(last));
        cast.output_at(last, e.log.as_bytes())?;
    }
    cast.finish().map(drop)
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
    if args.asciicast && (args.follow || args.timestamps) {
        return Err(CliError::msg(
            "--asciicast writes a finished recording: without --follow or --timestamps",
        ));
    }
    let (entries, mut offset) = log::read_all(&record.id);
    let mut entries = log::lines(entries);
    entries.retain(|e| within(e, args));
    if let Some(n) = tail {
        let skip = entries.len().saturating_sub(n);
        entries.drain(..skip);
    }
    if args.asciicast {
        print_cast(&entries, args.size).map_err(|e| CliError::msg(format!("{e}")))?;
        return Ok(0);
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
