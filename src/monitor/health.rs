//! The health check of a running container, run by its monitor with Docker's timing: the
//! check's command `exec`'d into the container every interval (the first one interval after
//! the start), failed when it exits non-zero or outlives its timeout; `retries` failures in a
//! row, outside the start period, make the container unhealthy, one success healthy again.
//!
//! The check runs as `my-container-tui exec` (the one way into a container, hardened as every
//! exec is), a child of the monitor reaped on its SIGCHLD, its output to a file of the
//! container's (read back, 4 KiB at most, escaped when shown: it is the container's to say).

use crate::spec::run::Healthcheck;
use crate::state::record::{Health, HealthCheck, now_ms, rfc3339};
use crate::state::{store, tree};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How many checks the record keeps.
const KEPT: usize = 5;
/// The most of a check's output kept.
const OUTPUT: u64 = 4096;

/// One container's checks.
pub struct Checker {
    id: String,
    check: Healthcheck,
    started: Instant,
    next: Instant,
    running: Option<(Child, Instant, u64)>,
}

impl Checker {
    /// Checks for container `id`, which has just started: `starting` until the first result.
    pub fn start(id: &str, check: &Healthcheck) -> Checker {
        let now = Instant::now();
        let _ = store::update(id, |r| {
            r.health = Some(Health {
                status: "starting".into(),
                ..r.health.clone().unwrap_or_default()
            });
        });
        Checker {
            id: id.to_string(),
            check: check.clone(),
            started: now,
            next: now + Duration::from_millis(check.interval_ms),
            running: None,
        }
    }

    /// How long the monitor may wait before the next thing to do: the next check, or the
    /// running one's deadline.
    pub fn patience(&self) -> Duration {
        let at = match &self.running {
            Some((_, since, _)) => *since + Duration::from_millis(self.check.timeout_ms),
            None => self.next,
        };
        at.saturating_duration_since(Instant::now())
    }

    fn output_path(&self) -> std::path::PathBuf {
        tree::container(&self.id).join("health.out")
    }

    /// Does what is due: reaps a check that ended (or kills one past its timeout) and records
    /// it, starts the next one when its time has come.
    pub fn turn(&mut self) {
        if let Some((child, since, started_ms)) = &mut self.running {
            let timeout = Duration::from_millis(self.check.timeout_ms);
            let code = match child.try_wait() {
                Ok(Some(status)) => Some(status.code().unwrap_or(-1)),
                Ok(None) if since.elapsed() >= timeout => {
                    let _ = child.kill();
                    let _ = child.wait();
                    Some(-1)
                }
                Ok(None) => None,
                Err(_) => Some(-1),
            };
            if let Some(code) = code {
                let started_ms = *started_ms;
                let timed_out = code == -1 && since.elapsed() >= timeout;
                self.running = None;
                self.record(code, started_ms, timed_out);
            }
        }
        if self.running.is_none() && Instant::now() >= self.next {
            self.next = Instant::now() + Duration::from_millis(self.check.interval_ms);
            self.running = self.spawn().map(|c| (c, Instant::now(), now_ms()));
        }
    }

    fn spawn(&self) -> Option<Child> {
        let out = std::fs::File::create(self.output_path()).ok()?;
        let err = out.try_clone().ok()?;
        let namespace = store::load(&self.id).ok()?.namespace;
        Command::new(std::env::current_exe().ok()?)
            .arg("exec")
            .arg(&self.id)
            .args(&self.check.test)
            .env("MCT_NAMESPACE", namespace)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .ok()
    }

    /// Records a check's end: its exit code (-1: it could not run or timed out).
    fn record(&self, code: i32, started_ms: u64, timed_out: bool) {
        use std::io::Read;
        let mut output = String::new();
        if let Ok(file) = std::fs::File::open(self.output_path()) {
            let mut bytes = Vec::new();
            let _ = file.take(OUTPUT).read_to_end(&mut bytes);
            output = String::from_utf8_lossy(&bytes).into_owned();
        }
        let _ = std::fs::remove_file(self.output_path());
        if timed_out {
            output = format!(
                "Health check exceeded timeout ({} ms)",
                self.check.timeout_ms
            );
        }
        let starting = self.started.elapsed() < Duration::from_millis(self.check.start_period_ms);
        let retries = self.check.retries;
        let before = store::load(&self.id)
            .ok()
            .and_then(|r| r.health.map(|h| h.status));
        let updated = store::update(&self.id, |r| {
            let mut health = r.health.clone().unwrap_or_default();
            if code == 0 {
                health.status = "healthy".into();
                health.failing_streak = 0;
            } else if !(starting && health.status == "starting") {
                health.failing_streak += 1;
                if health.failing_streak >= retries {
                    health.status = "unhealthy".into();
                }
            }
            health.log.push(HealthCheck {
                start: rfc3339(started_ms),
                end: rfc3339(now_ms()),
                exit_code: code,
                output,
            });
            let over = health.log.len().saturating_sub(KEPT);
            health.log.drain(..over);
            r.health = Some(health);
        });
        if let Ok(record) = &updated
            && record.health.as_ref().map(|h| &h.status) != before.as_ref()
            && let Some(h) = &record.health
        {
            crate::state::events::record(&format!("health_status: {}", h.status), record, None);
        }
    }

    /// The container ended: a check still running is ended too.
    pub fn stop(&mut self) {
        if let Some((mut child, _, _)) = self.running.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_file(self.output_path());
    }
}
