//! One running container on its own pseudo-terminal, and the screen its output draws.
//!
//! A reader thread feeds the pty's bytes into a VT emulator (vt100) and raises a "dirty" flag;
//! only the rising edge is announced, so a flood of output costs one notice per frame drawn,
//! not one per read. A waiter thread reaps the helper and announces the exit.

use crate::runtime::launch::HelperCommand;
use crate::runtime::{ContainerSpec, Exit};
use anyhow::anyhow;
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::waitpid;
use nix::unistd::Pid;
use portable_pty::{MasterPty, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Lines of history each session keeps above its screen.
pub const SCROLLBACK: usize = 10_000;

/// What a session's threads tell the UI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEvent {
    /// New output was drawn into the session's screen.
    Output(u64),
    /// The session's container ended with this helper exit code (128+N: signal N).
    Exited(u64, u32),
}

/// Where a session's threads send their events.
pub type Notify = Arc<dyn Fn(SessionEvent) + Send + Sync>;

/// Where a session is in its life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    Running {
        helper_pid: i32,
    },
    /// Ended with this helper exit code (see [`Session::oom_killed`] for how).
    Exited {
        code: u32,
        after: Duration,
    },
}

/// One container session.
pub struct Session {
    pub id: u64,
    pub name: String,
    pub spec: ContainerSpec,
    pub state: State,
    pub started: Instant,
    screen: Arc<Mutex<vt100::Parser>>,
    dirty: Arc<AtomicBool>,
    /// Set by the waiter when the helper reported an OOM kill (in its ending file).
    oom: Arc<AtomicBool>,
    master: Box<dyn MasterPty + Send>,
    writer: Box<dyn Write + Send>,
}

impl Session {
    /// Starts `spec` through the re-exec helper on a new pty of `size`. Call it from the main
    /// thread: the helper dies with the thread that spawned it.
    pub fn start(
        id: u64,
        name: String,
        spec: ContainerSpec,
        size: PtySize,
        notify: Notify,
    ) -> anyhow::Result<Session> {
        let pair = native_pty_system()
            .openpty(size)
            .map_err(|e| anyhow!("cannot open a pseudo-terminal: {e}"))?;
        let helper = HelperCommand::new(&spec)?;
        helper.prepare_pty(&*pair.master);
        let child = pair
            .slave
            .spawn_command(helper.pty_command())
            .map_err(|e| anyhow!("cannot start the container helper: {e}"))?;
        let mut handoff = helper.into_handoff();
        drop(pair.slave);
        let helper_pid = child
            .process_id()
            .ok_or_else(|| anyhow!("the helper has no PID"))? as i32;
        let screen = Arc::new(Mutex::new(vt100::Parser::new(
            size.rows, size.cols, SCROLLBACK,
        )));
        let dirty = Arc::new(AtomicBool::new(false));
        let oom = Arc::new(AtomicBool::new(false));
        let mut reader = pair
            .master
            .try_clone_reader()
            .map_err(|e| anyhow!("pty reader: {e}"))?;
        let writer = pair
            .master
            .take_writer()
            .map_err(|e| anyhow!("pty writer: {e}"))?;
        {
            let (screen, dirty, notify) = (screen.clone(), dirty.clone(), notify.clone());
            std::thread::Builder::new()
                .name(format!("pty-{id}"))
                .spawn(move || {
                    let mut buf = vec![0u8; 64 * 1024];
                    while let Ok(n) = reader.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        lock(&screen).process(&buf[..n]);
                        if !dirty.swap(true, Ordering::AcqRel) {
                            notify(SessionEvent::Output(id));
                        }
                    }
                })?;
        }
        // Reap with waitpid rather than portable-pty's wait, which loses signal numbers.
        drop(child);
        let oom_flag = oom.clone();
        std::thread::Builder::new()
            .name(format!("wait-{id}"))
            .spawn(move || {
                let code = loop {
                    match waitpid(Pid::from_raw(helper_pid), None) {
                        Err(nix::errno::Errno::EINTR) => continue,
                        Ok(status) => match Exit::from_wait(status) {
                            Some(exit) => break exit.code() as u32,
                            None => continue,
                        },
                        Err(_) => break u32::MAX,
                    }
                };
                // Out of band: the helper's report, never anything seen on the pty.
                if handoff.ending().oom_killed {
                    oom_flag.store(true, Ordering::Release);
                }
                notify(SessionEvent::Exited(id, code));
            })?;
        Ok(Session {
            id,
            name,
            spec,
            state: State::Running { helper_pid },
            started: Instant::now(),
            screen,
            dirty,
            oom,
            master: pair.master,
            writer,
        })
    }

    /// The emulator's state, locked for reading or scrolling.
    pub fn screen(&self) -> MutexGuard<'_, vt100::Parser> {
        lock(&self.screen)
    }

    /// Takes the dirty flag: true when output arrived since the last call.
    pub fn take_dirty(&self) -> bool {
        self.dirty.swap(false, Ordering::AcqRel)
    }

    /// Sends input bytes to the container (ignored once it has exited).
    pub fn write(&mut self, bytes: &[u8]) {
        if self.is_running() {
            let _ = self
                .writer
                .write_all(bytes)
                .and_then(|()| self.writer.flush());
        }
    }

    /// Resizes both the pty (the container gets SIGWINCH) and the emulator.
    pub fn resize(&mut self, rows: u16, cols: u16) {
        if self.screen().screen().size() == (rows, cols) {
            return;
        }
        self.screen().screen_mut().set_size(rows, cols);
        let _ = self.master.resize(PtySize {
            rows,
            cols,
            pixel_width: 0,
            pixel_height: 0,
        });
    }

    pub fn is_running(&self) -> bool {
        matches!(self.state, State::Running { .. })
    }

    /// The helper's PID while running.
    pub fn helper_pid(&self) -> Option<i32> {
        match self.state {
            State::Running { helper_pid } => Some(helper_pid),
            State::Exited { .. } => None,
        }
    }

    /// Ends the container: SIGKILL to the helper, whose death takes PID 1 and with it the whole
    /// PID namespace. The waiter thread then reports the exit.
    pub fn kill(&self) {
        if let Some(pid) = self.helper_pid() {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }

    /// Records the exit the waiter thread reported.
    pub fn exited(&mut self, code: u32) {
        self.state = State::Exited {
            code,
            after: self.started.elapsed(),
        };
    }

    /// Whether the helper reported an OOM kill; known by the time the exit is.
    pub fn oom_killed(&self) -> bool {
        self.oom.load(Ordering::Acquire)
    }
}

fn lock(screen: &Mutex<vt100::Parser>) -> MutexGuard<'_, vt100::Parser> {
    // A reader thread that panicked mid-parse leaves a usable screen; keep drawing it.
    screen.lock().unwrap_or_else(|e| e.into_inner())
}

/// How an exit code reads: "exited 0", or "killed (SIGKILL)" for 128+N.
pub fn describe_exit(code: u32) -> String {
    match code
        .checked_sub(128)
        .and_then(|n| Signal::try_from(n as i32).ok())
    {
        Some(sig) if code > 128 => format!("exited {code} ({})", sig.as_str()),
        _ if code == u32::MAX => "exited (unknown)".to_string(),
        _ => format!("exited {code}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exits_read_like_a_shell_reports_them() {
        assert_eq!(describe_exit(0), "exited 0");
        assert_eq!(describe_exit(3), "exited 3");
        assert_eq!(describe_exit(137), "exited 137 (SIGKILL)");
        assert_eq!(describe_exit(130), "exited 130 (SIGINT)");
    }
}
