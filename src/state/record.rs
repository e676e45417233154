//! One container's record (`containers/<id>/state.json`): who it is, where it is in its life,
//! who owns that life, and how it ended. Plain data; [`super::store`] reads and writes it.

use super::process::Process;
use crate::spec::run::RestartPolicy;
use serde::{Deserialize, Serialize};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Where a container is in its life (Docker's words).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Recorded; its owner has not started it yet.
    Created,
    /// PID 1 runs (or is being started).
    Running,
    /// PID 1 ended; [`Record::exit_code`] says how.
    Exited,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Exited => "exited",
        }
    }
}

/// A container's health, as its monitor's checks found it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// `starting`, `healthy` or `unhealthy`.
    pub status: String,
    pub failing_streak: u32,
    /// The last checks, oldest first (five at most).
    pub log: Vec<HealthCheck>,
}

/// One health check's run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthCheck {
    pub start: String,
    pub end: String,
    pub exit_code: i32,
    /// What it printed, up to 4 KiB.
    pub output: String,
}

/// One container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// 64 hex digits; also the name of its cgroup and its state directory.
    pub id: String,
    /// Unique among the containers of its namespace.
    pub name: String,
    /// The namespace it was made in (`MCT_NAMESPACE`, as containerd's): `ps`, names and the
    /// dashboard see one namespace at a time.
    #[serde(default = "default_namespace")]
    pub namespace: String,
    pub status: Status,
    /// The process that owns the container's life, and whose death ends it: its monitor (a
    /// detached container), the foreground helper, or the launcher while it is being made.
    pub owner: Option<Process>,
    /// The container's PID 1, as the host sees it, while it runs.
    pub init: Option<Process>,
    pub exit_code: Option<i32>,
    pub oom_killed: bool,
    /// Unix times in milliseconds.
    pub created: u64,
    pub started: Option<u64>,
    pub finished: Option<u64>,
    /// Started by a monitor (`run -d`, the dashboard), not in the foreground.
    pub detached: bool,
    /// Removed when it ends (`--rm`, and every foreground run).
    pub auto_remove: bool,
    /// It has a terminal (its monitor holds the pty).
    pub tty: bool,
    /// Its stdin stays open for clients to write to (`-i`), rather than `/dev/null`.
    #[serde(default)]
    pub interactive: bool,
    pub restart: RestartPolicy,
    pub restart_count: u32,
    /// `stop` or `kill` ended it: no restart policy brings it back.
    pub stopped_by_user: bool,
    /// The signal `stop` sends first (`--stop-signal`).
    #[serde(default = "sigterm")]
    pub stop_signal: i32,
    /// Its health, while a health check runs for it (Docker's `State.Health`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<Health>,
    /// Seconds `stop` waits for it before SIGKILL (`--stop-timeout`), unless `stop -t` says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_timeout: Option<u32>,
    /// The user whose dashboard started it ([`opener`]): a dashboard of theirs opened later
    /// counts it among its own sessions (quitting with `e` ends it), as before a detach.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opener: Option<u32>,
}

fn default_namespace() -> String {
    DEFAULT_NAMESPACE.to_string()
}

/// The namespace containers live in unless `MCT_NAMESPACE` names another.
pub const DEFAULT_NAMESPACE: &str = "default";

/// The namespace this process works in: `MCT_NAMESPACE`, else [`DEFAULT_NAMESPACE`].
pub fn namespace() -> String {
    std::env::var("MCT_NAMESPACE")
        .ok()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(default_namespace)
}

/// Who is running the tool: the user behind `sudo` (`SUDO_UID`), else the real uid. A
/// dashboard's sessions are its user's, across detaching and opening again.
pub fn opener() -> u32 {
    std::env::var("SUDO_UID")
        .ok()
        .and_then(|u| u.parse().ok())
        .unwrap_or_else(|| nix::unistd::getuid().as_raw())
}

fn sigterm() -> i32 {
    libc::SIGTERM
}

/// Now, in Unix milliseconds.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// A Unix millisecond time as RFC 3339 (UTC), as Docker prints times.
pub fn rfc3339(ms: u64) -> String {
    humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(ms)).to_string()
}

/// How long ago an RFC 3339 time (an image's `created`) was: "2 hours ago", or "N/A" for none
/// or one that does not parse.
pub fn since(rfc3339: Option<&str>) -> String {
    rfc3339
        .and_then(|c| humantime::parse_rfc3339_weak(c).ok())
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or("N/A".to_string(), |d| {
            format!("{} ago", ago(d.as_millis() as u64))
        })
}

/// How long ago, in Docker's words: "3 seconds", "5 minutes", "2 hours", "4 days".
pub fn ago(ms: u64) -> String {
    let secs = now_ms().saturating_sub(ms) / 1000;
    let (n, unit) = match secs {
        s if s < 60 => (s, "second"),
        s if s < 3600 => (s / 60, "minute"),
        s if s < 86_400 => (s / 3600, "hour"),
        s => (s / 86_400, "day"),
    };
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

impl Record {
    /// The 12-digit id `ps` shows.
    pub fn short_id(&self) -> &str {
        &self.id[..12.min(self.id.len())]
    }

    /// `ps`'s STATUS column: "Up 5 minutes", "Exited (137) 3 seconds ago", "Created".
    /// Docker's state word: `created` (made by `create`, never started, or being started),
    /// `running`, `exited`.
    pub fn state(&self) -> &'static str {
        match self.status {
            Status::Exited if self.started.is_none() => "created",
            status => status.as_str(),
        }
    }

    pub fn status_line(&self) -> String {
        let line = self.status_words();
        match (&self.health, self.status) {
            (Some(h), Status::Running) if h.status == "starting" => {
                format!("{line} (health: starting)")
            }
            (Some(h), Status::Running) => format!("{line} ({})", h.status),
            _ => line,
        }
    }

    fn status_words(&self) -> String {
        match self.status {
            Status::Created => "Created".into(),
            Status::Exited if self.started.is_none() => "Created".into(),
            Status::Running => format!("Up {}", ago(self.started.unwrap_or(self.created))),
            Status::Exited => format!(
                "Exited ({}) {} ago",
                self.exit_code.unwrap_or(-1),
                ago(self.finished.unwrap_or(self.created))
            ),
        }
    }
}

/// A fresh container id: 32 random bytes in hex, like Docker's.
pub fn new_id() -> String {
    crate::spec::names::random_id()
}

/// A name for a container given none: Docker's adjective_noun form.
pub fn new_name() -> String {
    const ADJECTIVES: [&str; 16] = [
        "brave", "calm", "eager", "fancy", "gentle", "happy", "jolly", "keen", "lucid", "merry",
        "nimble", "proud", "quiet", "swift", "tender", "witty",
    ];
    const NOUNS: [&str; 16] = [
        "babbage", "curie", "darwin", "euler", "fermi", "gauss", "hopper", "knuth", "lovelace",
        "noether", "pascal", "ritchie", "shannon", "thompson", "turing", "wozniak",
    ];
    let id = new_id();
    let n = u32::from_str_radix(&id[..8], 16).unwrap_or(0) as usize;
    format!(
        "{}_{}_{}",
        ADJECTIVES[n % 16],
        NOUNS[(n / 16) % 16],
        &id[8..12]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_policies_read_and_decide_as_dockers() {
        assert_eq!(RestartPolicy::parse("no"), Ok(RestartPolicy::No));
        assert_eq!(
            RestartPolicy::parse("on-failure:3"),
            Ok(RestartPolicy::OnFailure { max: 3 })
        );
        assert!(RestartPolicy::parse("sometimes").is_err());
        assert!(RestartPolicy::parse("on-failure:x").is_err());
        let three = RestartPolicy::OnFailure { max: 3 };
        assert!(three.restarts(1, 2, false));
        assert!(!three.restarts(1, 3, false));
        assert!(!three.restarts(0, 0, false));
        assert!(RestartPolicy::Always.restarts(0, 100, false));
        assert!(!RestartPolicy::Always.restarts(0, 0, true));
        assert_eq!(three.to_string(), "on-failure:3");
    }

    #[test]
    fn ids_and_names() {
        use crate::spec::names::validate_name;
        let id = new_id();
        assert_eq!(id.len(), 64);
        assert_ne!(id, new_id());
        assert!(validate_name(&new_name()).is_ok());
        assert!(validate_name("web.1_a-b").is_ok());
        assert!(validate_name("-x").is_err());
        assert!(validate_name("a/b").is_err());
        assert!(validate_name("").is_err());
    }
}
