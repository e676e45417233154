//! One dashboard session: a container (any on the host, in our namespace) seen through its
//! monitor, or an `exec` shell into one; and the screen its output draws.
//!
//! A container's session is a client of its monitor ([`crate::client::Connection`]): the
//! monitor holds the pty, so the container outlives the dashboard, and a dashboard opened
//! later gets the screen back (the monitor replays it on attach). Its record is the truth
//! about its life; [`Session::refresh`] brings the session to it.
//!
//! An exec session runs `my-container-tui exec -it CONTAINER SHELL` through the re-exec path on
//! a portable-pty pseudo-terminal of its own, and ends with the dashboard (as `docker exec`
//! ends with its client).
//!
//! Reader threads feed bytes into a VT emulator (vt100) and raise a "dirty" flag; only the
//! rising edge is announced, so a flood of output costs one notice per frame drawn, not one
//! per read.

use crate::client::pace::{self, Pace};
use crate::client::{self, Connection, ops};
use crate::monitor::protocol::{Event, Request};
use crate::runtime::{ContainerSpec, Exit};
use crate::screen::Screen;
use crate::spec::run::Launch;
use crate::state::record::now_ms;
use crate::state::store::{self, NewRecord};
use crate::state::{Process, Record, Status};
use anyhow::anyhow;
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::waitpid;
use nix::unistd::Pid;
use portable_pty::{MasterPty, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

pub use crate::screen::SCROLLBACK;

/// The dashboard's `--history`, set once before its first session.
static HISTORY: AtomicUsize = AtomicUsize::new(SCROLLBACK);

/// Sets the lines of history every session made from now on keeps.
pub fn set_history(lines: usize) {
    HISTORY.store(lines, Ordering::Relaxed);
}

fn history() -> usize {
    HISTORY.load(Ordering::Relaxed)
}

/// What a session's threads tell the UI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEvent {
    /// New output was drawn into the session's screen.
    Output(u64),
    /// The session's container (or exec shell) ended with this exit code (128+N: signal N);
    /// `None` when its monitor went without saying (the record tells).
    Exited(u64, Option<u32>),
    /// The pull a pending session waited for ended: its image is in the store, or why not.
    Pulled(u64, Result<(), String>),
    /// A verb the dashboard asked of a session's container, done off its thread: what, and
    /// how it went.
    Done(u64, Verb, Result<(), String>),
    /// A commit of a session's container ended: the image made (its reference or id), or why
    /// not.
    Committed(u64, Result<String, String>),
}

/// What the dashboard asks of a container that can take a while (`start` waits for the
/// last run's clean-up, `rm` for the container to go).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Start,
    Remove,
}

/// Where a session's threads send their events.
pub type Notify = Arc<dyn Fn(SessionEvent) + Send + Sync>;

/// Where a session is in its life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Its PID 1 (the container's, for an exec session too) runs.
    Running { init: Option<Process> },
    /// Ended with this exit code (see [`Session::oom_killed`] for how).
    Exited { code: u32, after: Duration },
    /// No container yet: its image is being pulled (the progress is on its screen).
    Pulling { reference: String },
}

/// How the session reaches what it shows.
enum Link {
    /// A container's monitor; `None` while not attached (it runs in another terminal's
    /// foreground, or has ended).
    Monitor(Option<Connection>),
    /// An exec shell's pty, and the CLI process on it.
    Pty {
        master: Box<dyn MasterPty + Send>,
        writer: Box<dyn Write + Send>,
        pid: i32,
    },
}

/// What a session shows, and so what the dashboard may do with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionKind {
    /// A container under a monitor of its own; `mine` when this dashboard started it
    /// (quitting may end it).
    Container { mine: bool },
    /// A container in another terminal's foreground (`--run`): nothing to attach to.
    Foreground,
    /// A shell exec'd into a container, on this dashboard's pty (the dashboard's own).
    Exec,
    /// A container of the OCI runtime (`mct-runc`, driven by containerd), with its cgroup
    /// below the hierarchies' roots, and the sandbox id of its Kubernetes pod if the CRI made
    /// it. Its terminal is its runtime client's; the dashboard watches it.
    Oci {
        cgroup: std::path::PathBuf,
        sandbox: Option<String>,
        /// What its IMAGE column shows for a pod's member ([`PodMember::image_shown`]);
        /// `None` for the rest (their root).
        ///
        /// [`PodMember::image_shown`]: crate::oci::pod::PodMember::image_shown
        image: Option<String>,
    },
}

/// One session.
pub struct Session {
    pub id: u64,
    pub name: String,
    /// The container's id; for an exec session, the container it runs in.
    pub container: String,
    pub kind: SessionKind,
    pub spec: ContainerSpec,
    pub state: State,
    pub started: Instant,
    pub restart_count: u32,
    /// Its health check's verdict, while one runs (`starting`, `healthy`, `unhealthy`).
    pub health: Option<String>,
    /// When it ended (Unix ms), as its record says.
    pub finished: Option<u64>,
    screen: Arc<Mutex<Screen>>,
    flags: Arc<Flags>,
    oom: Arc<AtomicBool>,
    link: Link,
    size: (u16, u16),
}

fn pty_size((rows, cols): (u16, u16)) -> PtySize {
    PtySize {
        rows,
        cols,
        pixel_width: 0,
        pixel_height: 0,
    }
}

impl Session {
    fn new(id: u64, record: &Record, spec: ContainerSpec, size: (u16, u16), link: Link) -> Self {
        let mut session = Session::blank(id, &record.name, &record.id, spec, size, link);
        session.kind = match record.detached {
            // Ours when a dashboard of this user started it, this one or one before a detach.
            true => SessionKind::Container {
                mine: record.opener == Some(crate::state::record::opener()),
            },
            false => SessionKind::Foreground,
        };
        session
    }

    /// A session with an empty screen, not started, not ours, not in a foreground.
    fn blank(
        id: u64,
        name: &str,
        container: &str,
        spec: ContainerSpec,
        size: (u16, u16),
        link: Link,
    ) -> Self {
        Session {
            id,
            name: name.to_string(),
            container: container.to_string(),
            kind: SessionKind::Container { mine: false },
            spec,
            state: State::Exited {
                code: 0,
                after: Duration::ZERO,
            },
            started: Instant::now(),
            restart_count: 0,
            health: None,
            finished: None,
            screen: Arc::new(Mutex::new(Screen::new(size.0, size.1, history()))),
            flags: Arc::new(Flags::default()),
            oom: Arc::new(AtomicBool::new(false)),
            link,
            size,
        }
    }

    /// Starts `spec` as a new detached container under its own monitor, recorded as `launch`
    /// says (its name, stop signal and timeout, as `run -d` records them), and attaches to it.
    pub fn launch(
        id: u64,
        mut spec: ContainerSpec,
        launch: &Launch,
        size: (u16, u16),
        notify: Notify,
    ) -> anyhow::Result<Session> {
        crate::runtime::launch::prepare(&mut spec)?;
        let mut launch = launch.clone();
        launch.with_image_defaults(&spec);
        // A session is detached, kept when it ends, on a terminal whose input is its own.
        let new = NewRecord {
            detached: true,
            auto_remove: false,
            interactive: true,
            opener: Some(crate::state::record::opener()),
            ..NewRecord::of(&launch, true)
        };
        let record = client::launch(&spec, &new).map_err(|f| anyhow!(f.message))?;
        Session::of(id, &record, size, notify)
    }

    /// A session whose image is being pulled: no container yet, the pull's progress on its
    /// screen ([`Session::progress`]); the dashboard starts the container when the pull ends.
    pub fn pending(
        id: u64,
        name: &str,
        spec: ContainerSpec,
        size: (u16, u16),
        reference: &str,
    ) -> Session {
        let mut session = Session::blank(id, name, "", spec, size, Link::Monitor(None));
        session.state = State::Pulling {
            reference: reference.to_string(),
        };
        session.kind = SessionKind::Container { mine: true };
        session
    }

    /// Writes a line into the session's screen from another thread (a pull's progress).
    pub fn progress(&self, notify: Notify) -> impl Fn(&str) + Send + Sync + 'static {
        let (screen, flags, id) = (self.screen.clone(), self.flags.clone(), self.id);
        move |line: &str| {
            // Our words about a pull (a registry's among them), never commands to the screen.
            let line = crate::printable::escaped(line);
            lock(&screen).process(format!("{line}\r\n").as_bytes());
            flags.dirty.store(true, Ordering::Release);
            notify(SessionEvent::Output(id));
        }
    }

    /// The session of a container of the OCI runtime: watched, not attached (its stdio is
    /// its runtime client's, containerd's shim's).
    pub fn oci(
        id: u64,
        record: &crate::oci::state::Record,
        spec: ContainerSpec,
        size: (u16, u16),
    ) -> Self {
        let key = oci_key(record);
        let pod = crate::oci::pod::PodMember::of(&record.annotations);
        let name = pod.as_ref().map_or_else(|| record.id.clone(), |p| p.name());
        let mut session = Session::blank(id, &name, &key, spec, size, Link::Monitor(None));
        session.kind = SessionKind::Oci {
            cgroup: record.cgroup.clone(),
            sandbox: pod.as_ref().map(|p| p.sandbox.clone()),
            image: pod.as_ref().and_then(|p| p.image_shown()),
        };
        session.state = State::Running {
            init: Some(record.init),
        };
        let what = pod
            .as_ref()
            .map_or_else(|| "An OCI container".to_string(), |p| p.described());
        session.screen().process(
            format!(
                "{what} (bundle {}): its terminal belongs to the runtime's client (containerd's shim).\r\n\
                 The inspector shows its processes, namespaces and usage live.\r\n",
                record.bundle.display()
            )
            .as_bytes(),
        );
        session
    }

    /// What the list's IMAGE column shows: its image, root directory or `(host)`; for a
    /// Kubernetes pod's member, the image the kubelet asked for.
    pub fn image_shown(&self) -> String {
        match &self.kind {
            SessionKind::Oci {
                image: Some(image), ..
            } => image.clone(),
            _ => self.spec.root_shown(),
        }
    }

    /// The sandbox id of the Kubernetes pod its container belongs to.
    pub fn pod_sandbox(&self) -> Option<&str> {
        match &self.kind {
            SessionKind::Oci { sandbox, .. } => sandbox.as_deref(),
            _ => None,
        }
    }

    /// A shell exec'd into a container, not the container itself.
    pub fn is_exec(&self) -> bool {
        self.kind == SessionKind::Exec
    }

    /// This dashboard started it (a container it launched, or an exec shell on its pty).
    pub fn mine(&self) -> bool {
        matches!(
            self.kind,
            SessionKind::Container { mine: true } | SessionKind::Exec
        )
    }

    /// Its container runs in another terminal's foreground.
    pub fn is_foreground(&self) -> bool {
        self.kind == SessionKind::Foreground
    }

    /// An OCI runtime container's cgroup, below the hierarchies' roots.
    pub fn oci_cgroup(&self) -> Option<&std::path::Path> {
        match &self.kind {
            SessionKind::Oci { cgroup, .. } => Some(cgroup),
            _ => None,
        }
    }

    /// The cgroup below the hierarchies' roots that holds the session's container.
    pub fn cgroup_path(&self) -> std::path::PathBuf {
        match self.oci_cgroup() {
            Some(path) => path.to_path_buf(),
            None => std::path::Path::new(crate::runtime::cgroups::PARENT).join(&self.container),
        }
    }

    /// A session of `record`'s container attached to nothing, in the state its record says:
    /// what a backend without monitors shows (the dashboard's tests).
    pub fn unattached(id: u64, record: &Record, spec: ContainerSpec, size: (u16, u16)) -> Session {
        let mut session = Session::new(id, record, spec, size, Link::Monitor(None));
        session.state = match record.status {
            Status::Exited => State::Exited {
                code: record.exit_code.unwrap_or(0) as u32,
                after: Duration::ZERO,
            },
            _ => State::Running { init: record.init },
        };
        session
    }

    /// The session of an existing container, attached if it runs detached.
    pub fn of(id: u64, record: &Record, size: (u16, u16), notify: Notify) -> anyhow::Result<Self> {
        let spec = store::spec(&record.id)?;
        let mut session = Session::new(id, record, spec, size, Link::Monitor(None));
        if !record.detached {
            session.screen().process(
                b"This container runs in the foreground of another terminal: its output goes there.\r\n",
            );
        }
        session.refresh(record, &notify);
        Ok(session)
    }

    /// Brings the session to its container's record: running or exited, and attached
    /// whenever it runs under a monitor (again after a `start` from elsewhere).
    pub fn refresh(&mut self, record: &Record, notify: &Notify) {
        self.restart_count = record.restart_count;
        self.health = record.health.as_ref().map(|h| h.status.clone());
        self.finished = record.finished;
        if self.is_exec() {
            return;
        }
        match record.status {
            Status::Running | Status::Created => {
                if !self.is_running() {
                    self.started = record
                        .started
                        .map(|ms| {
                            Instant::now() - Duration::from_millis(now_ms().saturating_sub(ms))
                        })
                        .unwrap_or_else(Instant::now);
                }
                self.state = State::Running { init: record.init };
                self.oom.store(false, Ordering::Release);
                if record.detached && matches!(self.link, Link::Monitor(None)) {
                    self.attach(notify.clone());
                }
            }
            Status::Exited => {
                if record.oom_killed {
                    self.oom.store(true, Ordering::Release);
                }
                let code = record.exit_code.unwrap_or(-1) as u32;
                if !matches!(self.state, State::Exited { code: c, .. } if c == code) {
                    self.state = State::Exited {
                        code,
                        after: self.started.elapsed(),
                    };
                }
                if let Link::Monitor(conn) = &mut self.link {
                    *conn = None;
                }
            }
        }
    }

    /// Attaches to the container's monitor: its screen comes first, replayed, then every byte
    /// it writes.
    fn attach(&mut self, notify: Notify) {
        let Ok(record) = store::load(&self.container) else {
            return;
        };
        let Ok(conn) = Connection::open(&record) else {
            return;
        };
        let (rows, cols) = self.size;
        // The monitor gives the pty our size as we attach: the redraw that answers is ours.
        self.flags.quiet_until.store(
            crate::state::record::now_ms() + RESIZE_REDRAW_MS,
            Ordering::Release,
        );
        // The screen alone: its history is asked for once the session is shown
        // ([`Session::want_history`]), not parsed for every container the dashboard lists.
        let attached = conn.send(&Request::Attach {
            rows,
            cols,
            replay: true,
        });
        self.flags.history.store(NO_PAGE, Ordering::Release);
        let Ok(reader) = conn.try_clone() else { return };
        if attached.is_err() {
            return;
        }
        // A fresh screen: the monitor's replay draws it whole.
        *self.screen() = Screen::new(rows, cols, history());
        let (screen, flags, oom, id) = (
            self.screen.clone(),
            self.flags.clone(),
            self.oom.clone(),
            self.id,
        );
        let spawned = std::thread::Builder::new()
            .name(format!("attach-{id}"))
            .spawn(move || read_monitor(&reader, &screen, &flags, &oom, id, &notify));
        if spawned.is_ok() {
            self.link = Link::Monitor(Some(conn));
        }
    }

    /// A shell in the running container `parent` (`exec -it`), on a pty of its own.
    pub fn exec(
        id: u64,
        parent: &Session,
        shell: &str,
        size: (u16, u16),
        notify: Notify,
    ) -> anyhow::Result<Session> {
        let State::Running { init } = parent.state else {
            anyhow::bail!("{} is not running", parent.name);
        };
        let pair = native_pty_system()
            .openpty(pty_size(size))
            .map_err(|e| anyhow!("cannot open a pseudo-terminal: {e}"))?;
        let program = std::env::current_exe()?;
        let mut cmd = portable_pty::CommandBuilder::new(program);
        cmd.args(["exec", "-i", "-t", &parent.container, shell]);
        cmd.cwd("/");
        let child = pair
            .slave
            .spawn_command(cmd)
            .map_err(|e| anyhow!("cannot start exec: {e}"))?;
        drop(pair.slave);
        let pid = child
            .process_id()
            .ok_or_else(|| anyhow!("exec has no PID"))? as i32;
        drop(child);
        let mut reader = pair
            .master
            .try_clone_reader()
            .map_err(|e| anyhow!("pty reader: {e}"))?;
        let writer = pair
            .master
            .take_writer()
            .map_err(|e| anyhow!("pty writer: {e}"))?;
        let link = Link::Pty {
            master: pair.master,
            writer,
            pid,
        };
        let name = format!("{}/exec", parent.name);
        let mut session = Session::blank(
            id,
            &name,
            &parent.container,
            parent.spec.clone(),
            size,
            link,
        );
        session.kind = SessionKind::Exec;
        session.state = State::Running { init };
        session.spec.command = vec![shell.to_string()];
        let (screen, flags, out_notify) = (
            session.screen.clone(),
            session.flags.clone(),
            notify.clone(),
        );
        std::thread::Builder::new()
            .name(format!("pty-{id}"))
            .spawn(move || {
                let mut buf = vec![0u8; 64 * 1024];
                while let Ok(n) = reader.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    if flags.output(&screen, &buf[..n], true, None) {
                        out_notify(SessionEvent::Output(id));
                    }
                }
            })?;
        // Reap with waitpid rather than portable-pty's wait, which loses signal numbers.
        std::thread::Builder::new()
            .name(format!("wait-{id}"))
            .spawn(move || {
                let code = loop {
                    match waitpid(Pid::from_raw(pid), None) {
                        Err(nix::errno::Errno::EINTR) => continue,
                        Ok(status) => match Exit::from_wait(status) {
                            Some(exit) => break Some(exit.code() as u32),
                            None => continue,
                        },
                        Err(_) => break None,
                    }
                };
                notify(SessionEvent::Exited(id, code));
            })?;
        Ok(session)
    }

    /// The emulator's state, locked for reading or scrolling.
    pub fn screen(&self) -> MutexGuard<'_, Screen> {
        lock(&self.screen)
    }

    /// Asks the monitor for the lines that left the screen before the attach, a page at a
    /// time: the first as the session is shown (so a dashboard opened beside many containers
    /// parses the history only of those it shows), the next as its view (the wheel's, copy
    /// mode's) comes within two screens of the top of what has come; one page in flight.
    pub fn want_history(&self) {
        let Link::Monitor(Some(conn)) = &self.link else {
            return;
        };
        let asked = match self.flags.history.load(Ordering::Acquire) {
            NO_PAGE => true,
            MORE_PAGES => {
                let screen = self.screen();
                let rows = usize::from(screen.vt().size().0.get());
                screen.scrolled() + 2 * rows >= screen.history_len()
            }
            _ => false,
        };
        if asked {
            self.flags.history.store(PAGE_ASKED, Ordering::Release);
            let _ = conn.send(&Request::History);
        }
    }

    /// Its history is on its way: asked for and not come, or to be asked for (once a flood
    /// is over, or as the session is shown).
    pub fn history_coming(&self) -> bool {
        matches!(self.link, Link::Monitor(Some(_)))
            && matches!(
                self.flags.history.load(Ordering::Acquire),
                NO_PAGE | PAGE_ASKED | SKIPPED
            )
    }

    /// Copy mode is on this session (`true`) or not: while it is, no output is skipped for a
    /// redraw, and a history begun again is asked for at once.
    pub fn hold(&self, held: bool) {
        self.flags.held.store(held, Ordering::Release);
    }

    /// Takes the dirty flag: true when output arrived since the last call.
    pub fn take_dirty(&self) -> bool {
        self.flags.dirty.swap(false, Ordering::AcqRel)
    }

    /// The session's mark in the list, as tmux's window flags: `!` the bell rang, `#`
    /// output came, since it was last looked at.
    pub fn mark(&self) -> Option<char> {
        if self.flags.bell.load(Ordering::Acquire) {
            Some('!')
        } else if self.flags.activity.load(Ordering::Acquire) {
            Some('#')
        } else {
            None
        }
    }

    /// Starts logging its output to `path` (see [`open_log`]), or stops; returns whether it
    /// now logs.
    pub fn toggle_log(&self, path: &std::path::Path) -> std::io::Result<bool> {
        let mut log = self.flags.log.lock().unwrap_or_else(|e| e.into_inner());
        if log.take().is_some() {
            return Ok(false);
        }
        *log = Some(open_log(path)?);
        Ok(true)
    }

    /// Starts recording its output as an asciicast at `path` (opened as [`open_log`] opens a
    /// log, then emptied), or stops; returns whether it now records.
    pub fn toggle_cast(&self, path: &std::path::Path) -> std::io::Result<bool> {
        let mut cast = self.flags.cast.lock().unwrap_or_else(|e| e.into_inner());
        if cast.take().is_some() {
            return Ok(false);
        }
        let (rows, cols) = self.size;
        let file = open_log(path)?;
        file.set_len(0)?;
        *cast = Some(crate::cast::Cast::start(file, cols, rows)?);
        Ok(true)
    }

    /// It is being looked at: its marks go.
    pub fn seen(&self) {
        self.flags.activity.store(false, Ordering::Release);
        self.flags.bell.store(false, Ordering::Release);
    }

    /// Whether keys typed here reach something.
    pub fn attached(&self) -> bool {
        match &self.link {
            Link::Monitor(conn) => conn.is_some(),
            Link::Pty { .. } => self.is_running(),
        }
    }

    /// Sends input bytes (ignored when nothing is attached).
    pub fn write(&mut self, bytes: &[u8]) {
        match &mut self.link {
            Link::Monitor(Some(conn)) => {
                let _ = client::send_input(conn, bytes);
            }
            Link::Pty { writer, .. } => {
                let _ = writer.write_all(bytes).and_then(|()| writer.flush());
            }
            Link::Monitor(None) => {}
        }
    }

    /// Resizes the emulator and what it shows (the container gets SIGWINCH).
    pub fn resize(&mut self, rows: u16, cols: u16) {
        if self.size == (rows, cols) {
            return;
        }
        self.size = (rows, cols);
        self.screen().resize(rows, cols);
        if let Some(cast) = self
            .flags
            .cast
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
        {
            let _ = cast.resize(cols, rows);
        }
        // What the program draws again for the new size (a shell's prompt on SIGWINCH) is
        // ours, not its activity.
        self.flags.quiet_until.store(
            crate::state::record::now_ms() + RESIZE_REDRAW_MS,
            Ordering::Release,
        );
        match &self.link {
            Link::Monitor(Some(conn)) => {
                let _ = conn.send(&Request::Resize { rows, cols });
            }
            Link::Pty { master, .. } => {
                let _ = master.resize(pty_size((rows, cols)));
            }
            Link::Monitor(None) => {}
        }
    }

    pub fn is_running(&self) -> bool {
        matches!(self.state, State::Running { .. })
    }

    /// The container's PID 1 while it runs.
    pub fn init(&self) -> Option<Process> {
        match self.state {
            State::Running { init } => init,
            State::Exited { .. } | State::Pulling { .. } => None,
        }
    }

    /// Ends it: SIGKILL to the container's PID 1 (its whole PID namespace goes with it), or to
    /// the exec shell's process. The exit arrives as an event.
    pub fn kill(&self) {
        match &self.link {
            Link::Pty { pid, .. } => {
                let _ = kill(Pid::from_raw(*pid), Signal::SIGKILL);
            }
            Link::Monitor(_) if self.oci_cgroup().is_some() => {
                if let Some(init) = self.init() {
                    let _ = crate::runtime::pidfd::signal(init, libc::SIGKILL);
                }
            }
            Link::Monitor(_) => {
                if let Ok(record) = store::load(&self.container) {
                    let _ = ops::signal(&record, Signal::SIGKILL);
                }
            }
        }
    }

    /// Forgets a connection its monitor closed without an exit (it let a client go that fell
    /// too far behind, or it was killed): the next [`Session::refresh`] of a container that
    /// still runs attaches again, with its screen replayed.
    pub fn unlink(&mut self) {
        if let Link::Monitor(conn) = &mut self.link {
            *conn = None;
        }
    }

    /// Records an exit its threads reported.
    pub fn exited(&mut self, code: u32) {
        self.state = State::Exited {
            code,
            after: self.started.elapsed(),
        };
        if let Link::Monitor(conn) = &mut self.link {
            *conn = None;
        }
    }

    /// Whether the OOM killer ended it (known by the time the exit is).
    pub fn oom_killed(&self) -> bool {
        self.oom.load(Ordering::Acquire)
    }

    /// How it ended, in the one wording the list, the status line, the pane's banner and the
    /// exit notice share: `OOM-killed (137)`, `exited 137 (SIGKILL)`, `exited 0`; `None` while
    /// it runs.
    pub fn ending(&self) -> Option<String> {
        match self.state {
            State::Exited { code, .. } if self.oom_killed() => Some(format!("OOM-killed ({code})")),
            State::Exited { code, .. } => Some(describe_exit(code)),
            _ => None,
        }
    }
}

/// Where a session's reader is in a flood ([`crate::client::pace`]).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flood {
    /// Every byte is parsed.
    None,
    /// A redraw is asked for: the output before its `Skipped` goes unread.
    Skipping,
    /// Redrawn: the monitor sends a redraw a frame while the flood goes on, then the output
    /// again, which is parsed without history, since the lines of a flood come back from the
    /// log. Once it pauses (or every byte is wanted: see [`Flags::may_skip`]), the reader asks
    /// the monitor to mark its log there ([`Request::Mark`]), to begin the history's pages.
    Redrawn,
    /// The mark is asked for; the output is parsed meanwhile (it is before the mark).
    Marking,
}

/// Reads a monitor's events into a session until the container ends or the monitor goes:
/// output into the screen (past [`pace::BUDGET`] a frame, redraws instead), history pages
/// above it, the exit to the UI.
fn read_monitor(
    reader: &Connection,
    screen: &Mutex<Screen>,
    flags: &Flags,
    oom: &AtomicBool,
    id: u64,
    notify: &Notify,
) {
    // Output before the monitor's `Done` is its replay of history and screen: not activity.
    let mut replay = true;
    let mut pages = crate::screen::Pages::default();
    // The monitor takes redraws: it said `Skipped` at the attach.
    let mut redraws = false;
    let mut flood = Flood::None;
    let mut pace = Pace::new(Instant::now());
    // A redraw's screen comes next: the screen starts over with it, under the same lock (a
    // frame drawn between would show it blank), its history paused in a flood (`true`).
    let mut fresh: Option<bool> = None;
    loop {
        // Copy mode, a scroll back, a log or a recording begun mid-flood want every byte
        // from here: the monitor would otherwise go on sending redraws until the flood ends.
        if flood == Flood::Redrawn && (!flags.may_skip(screen) || !reader.wait(pace::QUIET)) {
            if reader.send(&Request::Mark).is_err() {
                break;
            }
            flood = Flood::Marking;
            continue;
        }
        let Some(event) = reader.recv() else { break };
        match event {
            Event::Skipped => {
                redraws = true;
                pages = crate::screen::Pages::default();
                // The attach's says the monitor redraws; a flood's begins the redraws, which
                // come once a frame until the flood is over.
                if matches!(flood, Flood::Skipping | Flood::Redrawn) {
                    flood = Flood::Redrawn;
                    // Not asked for again until the flood is over.
                    if matches!(
                        flags.history.load(Ordering::Acquire),
                        MORE_PAGES | ALL_PAGES
                    ) {
                        flags.history.store(SKIPPED, Ordering::Release);
                    }
                }
                fresh = Some(flood == Flood::Redrawn);
            }
            Event::Marked if flood == Flood::Marking => {
                flood = Flood::None;
                pages = crate::screen::Pages::default();
                lock(screen).resume_history();
                // A page asked for after the mark comes from it; the history had before the
                // flood comes back from it too, asked for now (or, never asked for, when the
                // session is shown).
                if matches!(
                    flags.history.load(Ordering::Acquire),
                    SKIPPED | MORE_PAGES | ALL_PAGES
                ) {
                    flags.history.store(PAGE_ASKED, Ordering::Release);
                    if reader.send(&Request::History).is_err() {
                        break;
                    }
                }
            }
            Event::Output(..) if flood == Flood::Skipping => {
                if flags.output_came() {
                    notify(SessionEvent::Output(id));
                }
            }
            Event::Output(_, bytes) => {
                if flags.output(screen, &bytes, !replay, fresh.take()) {
                    notify(SessionEvent::Output(id));
                }
                let now = Instant::now();
                if !replay
                    && redraws
                    && flood != Flood::Marking
                    && pace.parsed(bytes.len(), now, reader.wait(Duration::ZERO))
                    && flags.may_skip(screen)
                {
                    if reader.send(&Request::Redraw).is_err() {
                        break;
                    }
                    // Not sleeping out the frame: a reader that slept measured 14% slower
                    // floods (its monitor queued and dropped more, the pty drained later).
                    pace.redraw(now);
                    flood = Flood::Skipping;
                }
            }
            Event::History(part) => pages.part(&part),
            Event::HistoryEnd { start } => {
                let full = {
                    let mut screen = lock(screen);
                    pages.end(&mut screen, start);
                    screen.history_full()
                };
                let next = if start || full { ALL_PAGES } else { MORE_PAGES };
                flags.history.store(next, Ordering::Release);
                if flags.touched() {
                    notify(SessionEvent::Output(id));
                }
            }
            Event::Done => replay = false,
            Event::Exited {
                code,
                oom_killed,
                restarting,
            } => {
                oom.store(oom_killed, Ordering::Release);
                if !restarting {
                    notify(SessionEvent::Exited(id, Some(code as u32)));
                    return;
                }
            }
            Event::Marked | Event::Failed(_) => {}
        }
    }
    notify(SessionEvent::Exited(id, None));
}

/// How long after a resize the program's output is taken for its redraw (a shell answers
/// SIGWINCH within milliseconds; a dashboard opened again resizes every session once its list
/// is known, and must not mark them all `#`).
const RESIZE_REDRAW_MS: u64 = 300;

/// No page of history asked for since the attach.
const NO_PAGE: u8 = 0;
/// A page asked for and not yet come.
const PAGE_ASKED: u8 = 1;
/// The last page asked for has come, and there are older ones.
const MORE_PAGES: u8 = 2;
/// Every page has come, or as many as the history holds.
const ALL_PAGES: u8 = 3;
/// A flood is being redrawn: the history is asked for again once it is over ([`Flood`]).
const SKIPPED: u8 = 4;

/// What a session's reader threads raise for the UI, and where they log its output.
#[derive(Default)]
struct Flags {
    /// Output since the last frame drawn.
    dirty: AtomicBool,
    /// Output since the session was last looked at.
    activity: AtomicBool,
    /// How far its history before the attach has come ([`Session::want_history`]): one of
    /// [`NO_PAGE`], [`PAGE_ASKED`], [`MORE_PAGES`], [`ALL_PAGES`].
    history: std::sync::atomic::AtomicU8,
    /// The bell rang since the session was last looked at.
    bell: AtomicBool,
    /// Copy mode is on it ([`Session::hold`]): every line stays where it is, so no output
    /// is skipped.
    held: AtomicBool,
    /// Until when (Unix ms) output is the program's redraw after our resize, not activity.
    quiet_until: std::sync::atomic::AtomicU64,
    /// Where its output is logged too, while `prefix H` has it on (screen's `log`).
    log: Mutex<Option<std::fs::File>>,
    /// Its recording, while `prefix R` has it on.
    cast: Mutex<Option<crate::cast::Cast>>,
}

impl Flags {
    /// Feeds `bytes` to `screen` and raises the flags (`activity` only when `active`: not
    /// for a replay); true when it is to be announced ([`Flags::touched`]). With `fresh`, the
    /// screen starts over first, its history paused with `Some(true)`.
    fn output(
        &self,
        screen: &Mutex<Screen>,
        bytes: &[u8],
        active: bool,
        fresh: Option<bool>,
    ) -> bool {
        if active && let Some(file) = self.log.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            let _ = file.write_all(bytes);
        }
        if active && let Some(cast) = self.cast.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            let _ = cast.output(bytes);
        }
        let rang = {
            let mut screen = lock(screen);
            if let Some(paused) = fresh {
                screen.restart();
                if paused {
                    screen.pause_history();
                }
            }
            screen.process(bytes);
            screen.take_bell()
        };
        if rang && active {
            self.bell.store(true, Ordering::Release);
        }
        if active {
            self.output_came()
        } else {
            self.touched()
        }
    }

    /// Output came (parsed, or skipped for a redraw): activity, unless it is the program's
    /// redraw after our resize; true when it is to be announced ([`Flags::touched`]).
    fn output_came(&self) -> bool {
        if crate::state::record::now_ms() >= self.quiet_until.load(Ordering::Acquire) {
            self.activity.store(true, Ordering::Release);
        }
        self.touched()
    }

    /// Whether output may be skipped for a redraw: not while every byte is wanted (logged,
    /// recorded) or the lines on view must stay (scrolled back, copy mode).
    fn may_skip(&self, screen: &Mutex<Screen>) -> bool {
        !self.held.load(Ordering::Acquire)
            && self.log.lock().unwrap_or_else(|e| e.into_inner()).is_none()
            && self
                .cast
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .is_none()
            && lock(screen).scrolled() == 0
    }

    /// Marks the screen changed since the last frame; true on the rising edge (only that is
    /// announced: a flood costs one notice per frame, not one per read).
    fn touched(&self) -> bool {
        !self.dirty.swap(true, Ordering::AcqRel)
    }
}

fn lock(screen: &Mutex<Screen>) -> MutexGuard<'_, Screen> {
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

/// The `container` of an OCI container's session: its id, marked so that it never equals an
/// id of our own store's.
pub fn oci_key(record: &crate::oci::state::Record) -> String {
    format!("oci:{}", record.id)
}

/// A session log, opened for appending as root in a directory others may write to (the
/// working directory): created 0600 if missing; never through a symlink; never blocking on a
/// FIFO planted there; and refused unless it is a regular file of ours with one link, so that
/// another user's file (or a hard link to one of root's) never receives a session's output.
pub fn open_log(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    let file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK)
        .open(path)?;
    let meta = file.metadata()?;
    let refuse = |why: &str| {
        Err(std::io::Error::other(format!(
            "{}: {why}; not logging there",
            path.display()
        )))
    };
    if !meta.file_type().is_file() {
        return refuse("not a regular file");
    }
    if meta.uid() != nix::unistd::geteuid().as_raw() {
        return refuse("owned by another user");
    }
    if meta.nlink() != 1 {
        return refuse("a file with other links");
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_is_never_a_fifo_a_link_or_anothers_file() {
        let dir = std::env::temp_dir().join(format!("mct-log-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o666)).unwrap();
        // Without a reader a FIFO cannot be opened without blocking; with none, refused.
        assert!(open_log(&fifo).is_err());
        let target = dir.join("target");
        std::fs::write(&target, "").unwrap();
        std::os::unix::fs::symlink(&target, dir.join("link")).unwrap();
        assert!(open_log(&dir.join("link")).is_err());
        std::fs::hard_link(&target, dir.join("hard")).unwrap();
        assert!(open_log(&dir.join("hard")).is_err());
        let fresh = dir.join("fresh");
        open_log(&fresh).unwrap();
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        assert_eq!(
            std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o777,
            0o600
        );
        if nix::unistd::geteuid().is_root() {
            std::os::unix::fs::chown(&fresh, Some(65534), Some(65534)).unwrap();
            assert_eq!(std::fs::metadata(&fresh).unwrap().uid(), 65534);
            assert!(open_log(&fresh).is_err());
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The monitor's side of a reader's connection, played by the test.
    struct FakeMonitor(std::os::fd::OwnedFd);

    impl FakeMonitor {
        fn send(&self, event: &Event) {
            let message = event.encode();
            nix::sys::socket::send(
                std::os::fd::AsRawFd::as_raw_fd(&self.0),
                &message,
                nix::sys::socket::MsgFlags::empty(),
            )
            .unwrap();
        }

        /// A request the reader sent, if one has come.
        fn request(&self) -> Option<Request> {
            let mut buf = [0u8; 256];
            nix::sys::socket::recv(
                std::os::fd::AsRawFd::as_raw_fd(&self.0),
                &mut buf,
                nix::sys::socket::MsgFlags::MSG_DONTWAIT,
            )
            .ok()
            .and_then(|n| Request::decode(&buf[..n]))
        }
    }

    /// Runs `play` as the monitor of a reader ([`read_monitor`], on a thread of its own, into
    /// a 24x80 screen), then ends the container so that the reader returns, also when `play`
    /// fails an assertion (the reader would otherwise wait for it forever).
    fn against_fake_monitor(play: impl FnOnce(&FakeMonitor, &Mutex<Screen>, &Flags)) {
        use nix::sys::socket::{AddressFamily, SockFlag, SockType, socketpair};
        let (ours, theirs) = socketpair(
            AddressFamily::Unix,
            SockType::SeqPacket,
            None,
            SockFlag::SOCK_CLOEXEC,
        )
        .unwrap();
        let reader = crate::client::Connection::from_fd(ours);
        let monitor = FakeMonitor(theirs);
        let screen = Mutex::new(Screen::new(24, 80, 1000));
        let flags = Flags::default();
        let oom = AtomicBool::new(false);
        let notify: Notify = Arc::new(|_| {});
        std::thread::scope(|scope| {
            scope.spawn(|| read_monitor(&reader, &screen, &flags, &oom, 1, &notify));
            let played = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                play(&monitor, &screen, &flags)
            }));
            monitor.send(&Event::Exited {
                code: 0,
                oom_killed: false,
                restarting: false,
            });
            if let Err(failure) = played {
                std::panic::resume_unwind(failure);
            }
        });
    }

    /// A reader redrawn through a flood asks for the mark (and with it every byte) as soon as
    /// every byte is wanted, here a log begun with `prefix H`, though the monitor's redraws
    /// keep coming a frame apart; before, it waited for the flood's end, and the log had
    /// screens in place of the output.
    #[test]
    fn a_redrawn_reader_asks_for_the_mark_once_every_byte_is_wanted() {
        let output = |n: usize| {
            Event::Output(crate::monitor::protocol::Stream::Stdout, {
                let mut bytes = Vec::new();
                while bytes.len() < n {
                    bytes.extend_from_slice(format!("{}\r\n", bytes.len()).as_bytes());
                }
                bytes
            })
        };
        let log = std::env::temp_dir().join(format!("mct-redrawn-{}", std::process::id()));
        let mut marked = None;
        against_fake_monitor(|monitor, _, flags| {
            // The attach: this monitor redraws.
            monitor.send(&Event::Skipped);
            monitor.send(&Event::Done);
            // A flood, until the reader asks for a redraw.
            let asked = (0..1000).any(|_| {
                monitor.send(&output(60_000));
                std::thread::sleep(Duration::from_millis(1));
                monitor.request() == Some(Request::Redraw)
            });
            assert!(asked, "no redraw asked for through 60 MB");
            // Redraws a frame apart, as a monitor pacing it sends; a log begun after the
            // third.
            for frame in 0..60 {
                monitor.send(&Event::Skipped);
                monitor.send(&output(2_000));
                if frame == 3 {
                    *flags.log.lock().unwrap() = Some(open_log(&log).unwrap());
                }
                std::thread::sleep(pace::FRAME);
                while let Some(request) = monitor.request() {
                    if request == Request::Mark {
                        marked.get_or_insert(frame);
                    }
                }
                if marked.is_some() {
                    break;
                }
            }
        });
        let _ = std::fs::remove_file(&log);
        assert!(
            marked.is_some_and(|frame| frame >= 3),
            "the mark was asked for at frame {marked:?}, with the log begun at frame 3"
        );
    }

    /// A redraw replaces the screen in one step: until its screen has come, the one before
    /// stays (a frame drawn between showed the pane blank).
    #[test]
    fn a_redraw_replaces_the_screen_in_one_step() {
        let stdout = crate::monitor::protocol::Stream::Stdout;
        let mut meanwhile = String::new();
        against_fake_monitor(|monitor, screen, _| {
            let shows = |text: &str| {
                let deadline = Instant::now() + Duration::from_secs(5);
                while !lock(screen).vt().contents().contains(text) {
                    assert!(Instant::now() < deadline, "{text} never shown");
                    std::thread::sleep(Duration::from_millis(1));
                }
            };
            monitor.send(&Event::Skipped);
            monitor.send(&Event::Output(stdout, b"before".to_vec()));
            monitor.send(&Event::Done);
            shows("before");
            monitor.send(&Event::Skipped);
            std::thread::sleep(Duration::from_millis(50));
            meanwhile = lock(screen).vt().contents();
            monitor.send(&Event::Output(stdout, b"\x1b[H\x1b[2Jafter".to_vec()));
            shows("after");
        });
        assert!(meanwhile.contains("before"), "{meanwhile:?} while redrawn");
    }

    #[test]
    fn exits_read_like_a_shell_reports_them() {
        assert_eq!(describe_exit(0), "exited 0");
        assert_eq!(describe_exit(3), "exited 3");
        assert_eq!(describe_exit(137), "exited 137 (SIGKILL)");
        assert_eq!(describe_exit(130), "exited 130 (SIGINT)");
    }
}
