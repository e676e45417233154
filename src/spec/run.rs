//! How a container is run, beside what it is: foreground or detached, its name, restart policy,
//! stop signal, and the image it is asked to be made of (resolved by [`crate::image`]).

use super::platform::Platform;
use nix::sys::signal::Signal;
use serde::{Deserialize, Serialize};

/// `--log-driver` and `--log-opt`: what a detached container's monitor keeps of its output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Logging {
    /// `json-file` (Docker's fields, `logs` reads them) or `none` (nothing kept).
    pub keep: bool,
    /// `max-size`: a file is rotated past this many bytes.
    pub max_size: u64,
    /// `max-file`: how many files are kept, the current one included (at least 1).
    pub max_files: u32,
}

impl Default for Logging {
    /// 8 MiB in two files (Docker's json-file keeps everything unless told; a container that
    /// prints forever should not fill the host's `/run`).
    fn default() -> Self {
        Logging {
            keep: true,
            max_size: 8 << 20,
            max_files: 2,
        }
    }
}

impl Logging {
    /// The drivers `--log-driver` takes.
    pub const DRIVERS: [&str; 2] = ["json-file", "none"];

    /// Applies one `--log-opt KEY=VALUE` (json-file's `max-size`, `max-file`).
    pub fn apply_option(&mut self, text: &str) -> Result<(), String> {
        let bad = |why: &str| format!("invalid --log-opt {text:?}: {why}");
        match text.split_once('=') {
            Some(("max-size", size)) => {
                self.max_size = super::limits::parse_bytes(size).map_err(|e| bad(&e))?;
                Ok(())
            }
            Some(("max-file", n)) => {
                self.max_files = n
                    .parse()
                    .ok()
                    .filter(|n| (1..=100).contains(n))
                    .ok_or_else(|| bad("a number of files, 1 to 100"))?;
                Ok(())
            }
            _ => Err(bad("json-file takes max-size=SIZE and max-file=N")),
        }
    }
}

/// `--restart`: what the monitor does when PID 1 ends (Docker's policies).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "name")]
pub enum RestartPolicy {
    #[default]
    No,
    /// Restart after a non-zero exit, at most `max` times (0: no limit).
    OnFailure {
        max: u32,
    },
    Always,
    /// As `always`, but not after the user stopped it.
    UnlessStopped,
}

impl RestartPolicy {
    /// Parses Docker's `no`, `on-failure[:N]`, `always`, `unless-stopped`.
    pub fn parse(text: &str) -> Result<RestartPolicy, String> {
        match text.split_once(':') {
            None if text == "no" => Ok(RestartPolicy::No),
            None if text == "always" => Ok(RestartPolicy::Always),
            None if text == "unless-stopped" => Ok(RestartPolicy::UnlessStopped),
            None if text == "on-failure" => Ok(RestartPolicy::OnFailure { max: 0 }),
            Some(("on-failure", n)) => n
                .parse()
                .map(|max| RestartPolicy::OnFailure { max })
                .map_err(|_| format!("invalid restart count {n:?}")),
            _ => Err(format!(
                "invalid restart policy {text:?} (no, on-failure[:N], always, unless-stopped)"
            )),
        }
    }

    /// Whether a container that ended with `code`, restarted `count` times so far, starts
    /// again. A container the user stopped never does (Docker restarts `always` ones only when
    /// the daemon restarts, which we have not).
    pub fn restarts(self, code: i32, count: u32, stopped_by_user: bool) -> bool {
        if stopped_by_user {
            return false;
        }
        match self {
            RestartPolicy::No => false,
            RestartPolicy::OnFailure { max } => code != 0 && (max == 0 || count < max),
            RestartPolicy::Always | RestartPolicy::UnlessStopped => true,
        }
    }
}

impl std::fmt::Display for RestartPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RestartPolicy::No => f.write_str("no"),
            RestartPolicy::OnFailure { max: 0 } => f.write_str("on-failure"),
            RestartPolicy::OnFailure { max } => write!(f, "on-failure:{max}"),
            RestartPolicy::Always => f.write_str("always"),
            RestartPolicy::UnlessStopped => f.write_str("unless-stopped"),
        }
    }
}

/// A signal as Docker takes it: `SIGTERM`, `TERM`, `term` or `15`.
pub fn parse_signal(text: &str) -> Result<Signal, String> {
    if let Ok(n) = text.parse::<i32>() {
        return Signal::try_from(n).map_err(|_| format!("invalid signal {text}"));
    }
    let upper = text.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    name.parse::<Signal>()
        .map_err(|_| format!("invalid signal {text}"))
}

/// How a container is run: in the foreground (removed when it ends) or detached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    pub detach: bool,
    pub name: Option<String>,
    pub auto_remove: bool,
    pub interactive: bool,
    pub restart: RestartPolicy,
    /// `--stop-signal`; else the image's `StopSignal`, else SIGTERM.
    pub stop_signal: Option<nix::sys::signal::Signal>,
    /// `--stop-timeout`: seconds `stop` waits before SIGKILL, unless `stop -t` says.
    pub stop_timeout: Option<u32>,
    /// `--cidfile`: where the container's id is written as it is created.
    pub cidfile: Option<std::path::PathBuf>,
    /// `--image`: resolved (pulled if need be) just before the container starts.
    pub image: Option<ImageRequest>,
}

impl Launch {
    /// The image's defaults for how it is run, where the options gave none: its
    /// `StopSignal` (an image's word we cannot say is no signal).
    pub fn with_image_defaults(&mut self, spec: &super::ContainerSpec) {
        if self.stop_signal.is_none() {
            self.stop_signal = spec
                .image
                .as_ref()
                .and_then(|i| i.stop_signal.as_deref())
                .and_then(|s| parse_signal(s).ok());
        }
    }
}

/// `--pull`: when `--image` pulls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PullPolicy {
    /// Pull every time, even when the store has the image.
    Always,
    /// Pull only when the store lacks it (Docker's default).
    #[default]
    Missing,
    /// Never pull: the image must be in the store.
    Never,
}

impl PullPolicy {
    /// The words `--pull` takes.
    pub const WORDS: [&str; 3] = ["always", "missing", "never"];

    pub fn parse(text: &str) -> Result<PullPolicy, String> {
        match text {
            "always" => Ok(PullPolicy::Always),
            "missing" => Ok(PullPolicy::Missing),
            "never" => Ok(PullPolicy::Never),
            _ => Err(format!(
                "invalid pull policy {text:?} (always, missing, never)"
            )),
        }
    }
}

/// What the command line asked of an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRequest {
    pub reference: String,
    pub pull: PullPolicy,
    pub platform: Option<Platform>,
    /// `--entrypoint` (empty: none at all).
    pub entrypoint: Option<String>,
    /// The command line's command, as typed (empty: the image's Cmd runs).
    pub command: Vec<String>,
    /// `-w` was given.
    pub workdir_given: bool,
    /// `--insecure-registry` hosts.
    pub insecure: Vec<String>,
}

/// The `KEY=VALUE` lines of an `--env-file` (as Docker reads one: `#` lines and blank ones
/// skipped, the value kept as written, quotes included; `KEY` alone is taken from the host).
pub fn read_env_file(path: &std::path::Path) -> Result<Vec<String>, String> {
    use std::io::Read;
    const MOST: u64 = 1 << 20;
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MOST + 1).read_to_string(&mut text))
        .map_err(|e| format!("cannot read env file {}: {e}", path.display()))?;
    if text.len() as u64 > MOST {
        return Err(format!("env file {} is larger than 1 MiB", path.display()));
    }
    let mut pairs = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let key = line.split_once('=').map_or(line, |(k, _)| k);
        if key.is_empty() || key.contains(char::is_whitespace) {
            return Err(format!(
                "env file {} line {}: invalid variable name {key:?}",
                path.display(),
                n + 1
            ));
        }
        pairs.push(line.to_string());
    }
    Ok(pairs)
}

/// Whether `word`, first after `run`, is an image (Docker's `run IMAGE [CMD]`) rather than a
/// host command (the seed's `run CMD`): it is not a path (`/…`, `./…`, `../…`) nor an option
/// nor a shell line, and it is either written as only a reference is written (with a tag
/// `name:tag`, a digest `name@sha256:…`, or a registry `host.domain/…`, `host:port/…`,
/// `localhost/…`) or the name of an image the store holds (`in_store`, asked only then).
pub fn names_image(word: &str, in_store: impl FnOnce(&str) -> bool) -> bool {
    if word.is_empty()
        || word.starts_with(['/', '.', '-'])
        || word.contains(|c: char| c.is_whitespace() || c.is_control())
    {
        return false;
    }
    let name = match word.split_once('@') {
        Some(_) => return true,
        None => word,
    };
    let last = name.rsplit('/').next().unwrap_or(name);
    let registry = name
        .split_once('/')
        .is_some_and(|(first, _)| first.contains(['.', ':']) || first == "localhost");
    last.contains(':') || registry || in_store(word)
}

#[cfg(test)]
mod tests {
    use super::names_image;

    #[test]
    fn the_first_word_is_an_image_by_its_form_or_the_store() {
        let store = |w: &str| ["alpine", "team/app"].contains(&w);
        for image in [
            "alpine",
            "team/app",
            "alpine:3.19",
            "busybox@sha256:0000",
            "127.0.0.1:5000/bb",
            "registry.example.com/x/y",
            "localhost/bb",
        ] {
            assert!(names_image(image, store), "{image}");
        }
        for command in [
            "ps",
            "hostname",
            "/bin/bash",
            "./script",
            "../x:1",
            "bin/tool",
            "-la",
            "ps aux",
            "",
        ] {
            assert!(!names_image(command, store), "{command}");
        }
    }

    #[test]
    fn the_store_is_asked_only_for_a_bare_name() {
        let asked = std::cell::Cell::new(0);
        let store = |_: &str| {
            asked.set(asked.get() + 1);
            false
        };
        assert!(names_image("alpine:3", store));
        assert!(!names_image("/bin/sh", store));
        assert_eq!(asked.get(), 0);
        assert!(!names_image("true", store));
        assert_eq!(asked.get(), 1);
    }
}

/// `--health-cmd` and friends, or an image's `Healthcheck`: how the monitor checks a running
/// container, with Docker's defaults and Docker's meaning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Healthcheck {
    /// The command's argv: `CMD-SHELL`'s line is `["/bin/sh", "-c", LINE]`.
    pub test: Vec<String>,
    pub interval_ms: u64,
    pub timeout_ms: u64,
    /// Failures within this first while do not count.
    pub start_period_ms: u64,
    /// Consecutive failures that make it unhealthy.
    pub retries: u32,
}

impl Default for Healthcheck {
    fn default() -> Self {
        Healthcheck {
            test: Vec::new(),
            interval_ms: 30_000,
            timeout_ms: 30_000,
            start_period_ms: 0,
            retries: 3,
        }
    }
}

impl Healthcheck {
    /// An image config's `Healthcheck` (Docker's JSON: `Test`, and durations in
    /// nanoseconds): `None` for `["NONE"]` or an empty test.
    pub fn from_image(value: &serde_json::Value) -> Option<Healthcheck> {
        let test: Vec<String> = value
            .get("Test")?
            .as_array()?
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        let argv = Healthcheck::argv(&test)?;
        let ms = |key: &str, default: u64| {
            value
                .get(key)
                .and_then(serde_json::Value::as_u64)
                .filter(|ns| *ns > 0)
                .map_or(default, |ns| ns / 1_000_000)
        };
        let defaults = Healthcheck::default();
        Some(Healthcheck {
            test: argv,
            interval_ms: ms("Interval", defaults.interval_ms),
            timeout_ms: ms("Timeout", defaults.timeout_ms),
            start_period_ms: ms("StartPeriod", defaults.start_period_ms),
            retries: value
                .get("Retries")
                .and_then(serde_json::Value::as_u64)
                .filter(|r| *r > 0)
                .map_or(defaults.retries, |r| r.min(u64::from(u32::MAX)) as u32),
        })
    }

    /// Docker's `Test` forms: `["CMD", argv...]`, `["CMD-SHELL", line]`; `NONE` and anything
    /// else: no check.
    fn argv(test: &[String]) -> Option<Vec<String>> {
        match test.split_first()? {
            (kind, rest) if kind == "CMD" && !rest.is_empty() => Some(rest.to_vec()),
            (kind, [line]) if kind == "CMD-SHELL" => {
                Some(vec!["/bin/sh".into(), "-c".into(), line.clone()])
            }
            _ => None,
        }
    }
}

/// A duration as Docker's `--health-*` flags take it (`30s`, `1m30s`, `500ms`), at least 1 ms.
pub fn parse_duration_ms(text: &str) -> Result<u64, String> {
    humantime::parse_duration(text)
        .ok()
        .map(|d| d.as_millis() as u64)
        .filter(|ms| *ms > 0)
        .ok_or_else(|| format!("invalid duration {text:?}: e.g. 30s, 1m30s, 500ms"))
}
