//! What the CLI and the dashboard do to containers, shared: start a detached one under its
//! monitor ([`launch`], [`start`]), talk to its monitor ([`Connection`]), and change its life
//! ([`ops`]: signal, stop, remove).

mod connection;
pub mod ops;
pub mod pace;

pub use connection::{Connection, send_input};
pub use ops::start;

use crate::monitor::{MONITOR_ARG, Ready};
use crate::runtime::ContainerSpec;
use crate::runtime::exit::RUNTIME_ERROR;
use crate::state::store::{self, NewRecord};
use crate::state::{Record, Status};
use anyhow::Context;
use std::io::BufRead;

/// A failure with the exit code the CLI should end with.
#[derive(Debug)]
pub struct Failure {
    pub code: i32,
    pub message: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

impl Failure {
    pub fn runtime(e: anyhow::Error) -> Failure {
        Failure {
            code: RUNTIME_ERROR,
            message: format!("{e:#}"),
        }
    }
}

/// Records `spec` and starts it under a monitor of its own, which outlives us; returns once
/// the command runs (or with why it could not, and nothing of it left).
pub fn launch(spec: &ContainerSpec, new: &NewRecord) -> Result<Record, Failure> {
    let record = store::create(spec, new).map_err(Failure::runtime)?;
    let started = start_monitor(&record.id);
    // It never ran: nothing of it stays (its monitor left it exited, or never took it over).
    if started.is_err() && store::load(&record.id).is_ok_and(|r| r.status != Status::Running) {
        crate::runtime::reclaim::remove(&record.id);
    }
    started?;
    store::load(&record.id).map_err(Failure::runtime)
}

/// Records `spec` as Docker's `create` leaves a container: made, never started (`start` starts
/// it under a monitor), owned by nobody.
pub fn create(spec: &ContainerSpec, new: &NewRecord) -> Result<Record, Failure> {
    let record = store::create(spec, new).map_err(Failure::runtime)?;
    store::update(&record.id, |r| {
        r.status = Status::Exited;
        r.owner = None;
    })
    .map_err(Failure::runtime)
}

/// Starts the monitor of the `created` container `id` and waits for its [`Ready`] line.
pub fn start_monitor(id: &str) -> Result<(), Failure> {
    use std::os::unix::process::CommandExt;
    let program = std::env::current_exe()
        .context("cannot find this program's executable")
        .map_err(Failure::runtime)?;
    // What the monitor itself says (a panic, say) goes to a file beside its record, never to
    // our stderr: it outlives us, and would hold our caller's pipe open.
    let said = crate::state::tree::container(id).join("monitor.log");
    let stderr = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&said)
        .map(std::process::Stdio::from)
        .unwrap_or_else(|_| std::process::Stdio::null());
    let mut cmd = std::process::Command::new(program);
    cmd.arg0("my-container-tui")
        .arg(MONITOR_ARG)
        .arg(id)
        .current_dir("/")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(stderr);
    // SAFETY: between fork and exec the child makes only async-signal-safe calls (setsid,
    // fork, _exit). The monitor is forked once more so that it is nobody's child here: we may
    // exit at once, or live on (a dashboard) without a zombie to reap.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            match libc::fork() {
                -1 => Err(std::io::Error::last_os_error()),
                0 => Ok(()),
                _ => libc::_exit(0),
            }
        });
    }
    let mut child = cmd
        .spawn()
        .context("cannot start the container's monitor")
        .map_err(Failure::runtime)?;
    let stdout = child.stdout.take();
    let _ = child.wait();
    let mut line = String::new();
    if let Some(out) = stdout {
        let _ = std::io::BufReader::new(out).read_line(&mut line);
    }
    match serde_json::from_str::<Ready>(&line) {
        Ok(Ready::Started) => Ok(()),
        Ok(Ready::Failed { code, message }) => Err(Failure { code, message }),
        Err(_) => {
            let last = std::fs::read_to_string(&said).unwrap_or_default();
            let last = last.lines().last().unwrap_or("no reason given");
            Err(Failure {
                code: RUNTIME_ERROR,
                message: format!(
                    "the container's monitor ended before it started the container: {last}"
                ),
            })
        }
    }
}
