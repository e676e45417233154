//! A container's monitor (`my-container-tui __monitor <id>`): the small process, one per
//! detached container, that outlives whoever started it (conmon's job for podman, the shim's
//! for containerd).
//!
//! It owns the container's life: it starts the helper (on a pty it holds, or on pipes), logs
//! every byte the container writes ([`log`]), keeps its screen, serves clients on
//! `containers/<id>/sock` ([`protocol`]), reaps the helper and records the exit, and applies
//! the restart policy. Its death is the container's: the helper dies with it (`PDEATHSIG`),
//! PID 1 with the helper, and the helper's cleaner marks the record exited and releases the
//! cgroup and the filesystem.
//!
//! The launcher (`run -d`, a dashboard) reads one [`Ready`] line from the monitor's stdout:
//! the command started, or why it could not.

pub mod clients;
mod health;
pub mod io;
pub mod log;
pub mod protocol;

use crate::runtime::exit::{Exit, RUNTIME_ERROR};
use crate::state::record::now_ms;
use crate::state::{Process, Record, Status, store};
use clients::{Client, Due, Paced};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use protocol::{Event, Request, Stream};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

/// How often the loop looks for a redraw's screen while one is being made (a few hundred
/// microseconds' work on the screen's thread, once it has caught up).
const REDRAW_POLL: Duration = Duration::from_millis(1);

/// How much of the log a page of history is ([`Request::History`]): about 2,000 lines of 90
/// columns, a few screens for the wheel or copy mode to scroll through before the next.
const HISTORY_PAGE: u64 = 256 << 10;

/// The hidden first argument that runs the monitor.
pub const MONITOR_ARG: &str = "__monitor";

/// What the monitor tells its launcher, on one line of its stdout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Ready {
    /// The command runs.
    Started,
    /// It could not start: the exit code and the one-line error.
    Failed { code: i32, message: String },
}

/// A terminal size before any client has attached.
const DEFAULT_SIZE: (u16, u16) = (24, 80);

/// The re-exec entry; never returns.
pub fn main() -> ! {
    let id = std::env::args().nth(2).unwrap_or_default();
    // Nothing the launcher had open stays open here for the container's life.
    crate::runtime::sys::close_range(3, u32::MAX);
    let mut ready = Some(std::io::stdout());
    let code = match Monitor::new(&id) {
        Ok(mut monitor) => monitor.serve(&mut ready),
        Err(e) => {
            tell(
                &mut ready,
                Ready::Failed {
                    code: RUNTIME_ERROR,
                    message: format!("{e:#}"),
                },
            );
            // The record is not ours to remove (it may be another monitor's): the launcher
            // that started us decides.
            RUNTIME_ERROR
        }
    };
    std::process::exit(code)
}

/// Tells the launcher, once.
fn tell(ready: &mut Option<std::io::Stdout>, what: Ready) {
    if let Some(mut out) = ready.take() {
        let mut line = serde_json::to_vec(&what).unwrap_or_default();
        line.push(b'\n');
        let _ = out.write_all(&line).and_then(|()| out.flush());
        // Nothing more goes to the launcher's pipe: it may be gone already.
        if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
            use std::os::fd::AsRawFd;
            // SAFETY: dup2 onto stdout touches no memory of ours.
            unsafe { libc::dup2(null.as_raw_fd(), 1) };
        }
    }
}

/// How long after a burst of work (an attach, a flood of output) the monitor gives back what
/// it brought in: code the container's quiet life does not run, and buffers a flood grew.
const SETTLE_DELAY: Duration = Duration::from_secs(2);

struct Monitor {
    id: String,
    spec: crate::runtime::ContainerSpec,
    interactive: bool,
    signals: SignalFd,
    listener: std::os::fd::OwnedFd,
    clients: Vec<Client>,
    log: log::Writer,
    size: (u16, u16),
    /// When to give back what the last burst of work brought in (a start, an attach's
    /// replay): [`crate::runtime::resident::settle`].
    settle_at: Option<Instant>,
}

impl Monitor {
    /// Takes the container's record over (it must still be `created`, and its launcher's).
    fn new(id: &str) -> anyhow::Result<Monitor> {
        let spec = store::spec(id)?;
        let me = Process::me();
        let mut taken = false;
        let record = store::update(id, |r| {
            if r.status == Status::Created {
                r.owner = Some(me);
                taken = true;
            }
        })?;
        if !taken {
            anyhow::bail!("container {} is already started", record.name);
        }
        let mut mask = SigSet::empty();
        for s in [
            Signal::SIGCHLD,
            Signal::SIGTERM,
            Signal::SIGINT,
            Signal::SIGHUP,
        ] {
            mask.add(s);
        }
        mask.thread_block()
            .map_err(|e| anyhow::anyhow!("sigprocmask: {}", e.desc()))?;
        let signals = SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
            .map_err(|e| anyhow::anyhow!("signalfd: {}", e.desc()))?;
        let listener = clients::listen_at(&store::socket(id))
            .map_err(|e| anyhow::anyhow!("cannot listen on the control socket: {}", e.desc()))?;
        let log = log::Writer::open(id, &spec.logging);
        Ok(Monitor {
            id: id.to_string(),
            interactive: record.interactive,
            spec,
            signals,
            listener,
            clients: Vec::new(),
            log,
            size: DEFAULT_SIZE,
            settle_at: None,
        })
    }

    /// Runs the container until it ends for good; the monitor's exit code.
    fn serve(&mut self, ready: &mut Option<std::io::Stdout>) -> i32 {
        let mut backoff = Duration::from_millis(100);
        loop {
            let started_at = Instant::now();
            let (code, oom_killed, failure) = match self.run_once(ready) {
                Ok(ending) => ending,
                Err(e) => (RUNTIME_ERROR, false, Some(format!("{e:#}"))),
            };
            if let Some(message) = &failure
                && ready.is_some()
            {
                // It never ran: recorded as exited with the failure's code, for the launcher
                // to remove (`run -d`: nothing of it stays) or keep (`start` of a container
                // that ran before, as Docker keeps it).
                let _ = self.record_exit(code, false, true);
                tell(
                    ready,
                    Ready::Failed {
                        code,
                        message: message.clone(),
                    },
                );
                return code;
            }
            let record = self.record_exit(code, oom_killed, false);
            let restarting = record
                .as_ref()
                .is_ok_and(|r| r.restart.restarts(code, r.restart_count, r.stopped_by_user));
            self.broadcast_exit(code, oom_killed, restarting);
            if !restarting {
                break;
            }
            // Docker's back-off: doubling from 100 ms, back to 100 ms after a good run.
            if started_at.elapsed() > Duration::from_secs(10) {
                backoff = Duration::from_millis(100);
            }
            if !self.pause(backoff) {
                break;
            }
            backoff = (backoff * 2).min(Duration::from_secs(60));
            let again = store::update(&self.id, |r| {
                if !r.stopped_by_user {
                    r.restart_count += 1;
                    r.status = Status::Created;
                }
            });
            if !again.is_ok_and(|r| r.status == Status::Created) {
                break;
            }
        }
        self.finish();
        0
    }

    /// Records PID 1's end; with `released`, the record is no longer this monitor's (a start
    /// that failed: its launcher removes or keeps it).
    fn record_exit(&self, code: i32, oom_killed: bool, released: bool) -> anyhow::Result<Record> {
        let record = store::update(&self.id, |r| {
            r.status = Status::Exited;
            r.exit_code = Some(code);
            r.oom_killed = oom_killed;
            r.finished = Some(now_ms());
            r.init = None;
            if released {
                r.owner = None;
            }
        })?;
        if oom_killed {
            crate::state::events::record("oom", &record, None);
        }
        crate::state::events::record("die", &record, Some(code));
        Ok(record)
    }

    /// Serves clients for `wait` (a restart's back-off); false when told to stop meanwhile.
    fn pause(&mut self, wait: Duration) -> bool {
        let until = Instant::now() + wait;
        while Instant::now() < until {
            let left = until.saturating_duration_since(Instant::now());
            self.poll_once(None, left);
            if store::load(&self.id).is_ok_and(|r| r.stopped_by_user) {
                return false;
            }
        }
        true
    }

    /// Starts the container once and serves it to its end: (exit code, OOM, why it never
    /// started).
    fn run_once(
        &mut self,
        ready: &mut Option<std::io::Stdout>,
    ) -> anyhow::Result<(i32, bool, Option<String>)> {
        // The last run's clean-up is awaited by the helper, on the container's run lock.
        let (rows, cols) = self.size;
        let mut run = io::start(&self.spec, rows, cols, self.interactive)?;
        let mut started = false;
        let mut checker: Option<health::Checker> = None;
        let exit = loop {
            let patience = checker
                .as_ref()
                .map_or(Duration::from_secs(3600), |c| c.patience());
            let patience = self.settle_at.map_or(patience, |at| {
                patience.min(at.saturating_duration_since(Instant::now()))
            });
            let turn = self.poll_once(Some(&mut run), patience);
            if self.settle_at.is_some_and(|at| at <= Instant::now()) {
                self.settle_at = None;
                crate::runtime::resident::settle();
            }
            if turn.started && !started {
                started = true;
                // The record says it runs, and which process PID 1 is (its start time tells a
                // reused PID apart).
                let helper = Process::of(run.helper.as_raw());
                let init = helper.and_then(crate::state::process::pid1_below);
                if let Ok(record) = store::update(&self.id, |r| {
                    r.status = Status::Running;
                    r.init = init;
                    r.started = Some(now_ms());
                }) {
                    crate::state::events::record("start", &record, None);
                }
                tell(ready, Ready::Started);
                // What starting it took (the spec's parse, the helper's launch, the code that
                // ran them) is given back as the monitor settles into the container's life.
                self.settle_at = Some(Instant::now());
                checker = self
                    .spec
                    .health
                    .as_ref()
                    .filter(|h| !h.test.is_empty() && !self.spec.no_healthcheck)
                    .map(|h| health::Checker::start(&self.id, h));
            }
            if let Some(exit) = turn.exited {
                break exit;
            }
            if let Some(checker) = &mut checker {
                checker.turn();
            }
        };
        if let Some(checker) = &mut checker {
            checker.stop();
        }
        // What the container wrote last.
        for source in io::Io::SOURCES {
            while let Some(bytes) = run.io.read(source) {
                if bytes.is_empty() {
                    break;
                }
                self.output(source.stream(), &bytes);
                run.io.keep(&bytes);
            }
        }
        // The screen a paced client has must be the last.
        for i in 0..self.clients.len() {
            self.unpace(i, Some(&mut run));
        }
        let ending = run.handoff.ending();
        let failure = ending.failure.filter(|_| !started);
        Ok((exit.code(), ending.oom_killed, failure))
    }

    /// One turn of the loop: waits up to `timeout` for a signal, a client, or the container's
    /// output, and handles what came.
    fn poll_once(&mut self, mut run: Option<&mut io::Run>, timeout: Duration) -> Turn {
        let mut turn = Turn::default();
        let (outputs, started_fd, input_fd, console_fd): (Vec<_>, _, _, _) = match run.as_deref() {
            Some(r) => (
                r.io.outputs(),
                Some(r.handoff.started()),
                r.input.waiting(),
                r.console.as_ref().map(io::Console::fd),
            ),
            None => (Vec::new(), None, None, None),
        };
        let mut fds = vec![
            PollFd::new(self.signals.as_fd(), PollFlags::POLLIN),
            PollFd::new(self.listener.as_fd(), PollFlags::POLLIN),
        ];
        let console_at = fds.len();
        if let Some(fd) = console_fd {
            fds.push(PollFd::new(fd, PollFlags::POLLIN));
        }
        let started_at = fds.len();
        if let Some(fd) = started_fd {
            fds.push(PollFd::new(fd, PollFlags::POLLIN));
        }
        let input_at = fds.len();
        if let Some(fd) = input_fd {
            fds.push(PollFd::new(fd, PollFlags::POLLOUT));
        }
        let outputs_at = fds.len();
        fds.extend(
            outputs
                .iter()
                .map(|(fd, _)| PollFd::new(*fd, PollFlags::POLLIN)),
        );
        let clients_at = fds.len();
        for c in &self.clients {
            let mut flags = PollFlags::POLLIN;
            if c.wants_to_write() {
                flags |= PollFlags::POLLOUT;
            }
            fds.push(PollFd::new(c.fd(), flags));
        }
        // A redraw's screen comes from another thread, which does not wake this poll; a paced
        // client's next redraw is due on time.
        let timeout = match self.clients.iter().any(Client::redrawing) {
            true => timeout.min(REDRAW_POLL),
            false => timeout,
        };
        let now = Instant::now();
        let timeout = self
            .clients
            .iter()
            .filter_map(|c| c.paced)
            .map(|p| (p.at + protocol::FRAME).saturating_duration_since(now))
            .fold(timeout, Duration::min);
        let millis = timeout.as_millis().min(i32::MAX as u128) as i32;
        if poll(
            &mut fds,
            PollTimeout::try_from(millis).unwrap_or(PollTimeout::MAX),
        )
        .is_err()
        {
            return turn;
        }
        let ready: Vec<PollFlags> = fds
            .iter()
            .map(|f| f.revents().unwrap_or(PollFlags::empty()))
            .collect();
        let sources: Vec<io::Source> = outputs.iter().map(|(_, s)| *s).collect();
        let console_ready = console_fd.is_some() && !ready[console_at].is_empty();
        drop(fds);
        drop(outputs);
        if let Some(fd) = started_fd
            && !ready[started_at].is_empty()
        {
            // Taken, so the pipe is not ready again.
            let _ = nix::unistd::read(fd, &mut [0u8; 16]);
            turn.started = true;
        }
        let input_ready = input_fd.is_some() && !ready[input_at].is_empty();
        if let Some(run) = run.as_deref_mut() {
            if console_ready {
                run.take_console();
            }
            if input_ready {
                run.input.flush();
            }
            for (i, source) in sources.iter().enumerate() {
                if !ready[outputs_at + i].is_empty()
                    && let Some(bytes) = run.io.read(*source)
                    && !bytes.is_empty()
                {
                    self.output(source.stream(), &bytes);
                    run.io.keep(&bytes);
                    // A full read is a flood: settled once it has been over a while.
                    if bytes.len() >= protocol::MAX_MESSAGE / 2 {
                        self.settle_at = Some(Instant::now() + SETTLE_DELAY);
                    }
                }
            }
        }
        if !ready[1].is_empty() {
            clients::accept_all(&self.listener, &mut self.clients);
        }
        for i in 0..self.clients.len().min(ready.len() - clients_at) {
            if ready[clients_at + i].contains(PollFlags::POLLOUT) {
                self.clients[i].flush();
            }
            if ready[clients_at + i].is_empty() {
                continue;
            }
            for request in self.clients[i].receive() {
                self.handle(i, request, run.as_deref_mut());
            }
        }
        self.pace(run.as_deref_mut());
        for c in &mut self.clients {
            c.redrawn(false);
        }
        self.clients.retain(|c| !c.gone);
        if !ready[0].is_empty() {
            while let Ok(Some(info)) = self.signals.read_signal() {
                let Ok(sig) = Signal::try_from(info.ssi_signo as i32) else {
                    continue;
                };
                if sig != Signal::SIGCHLD {
                    // A signal to the monitor is meant for the container.
                    self.signal(sig);
                    continue;
                }
                if let Some(run) = run.as_deref() {
                    match waitpid(run.helper, Some(WaitPidFlag::WNOHANG)) {
                        Ok(WaitStatus::StillAlive) | Err(_) => {}
                        Ok(status) => turn.exited = Exit::from_wait(status),
                    }
                }
            }
        }
        turn
    }

    /// Handles one request.
    fn handle(&mut self, i: usize, request: Request, run: Option<&mut io::Run>) {
        match request {
            Request::Attach { rows, cols, replay } => {
                self.clients[i].attached = true;
                self.clients[i].history = self.log.mark();
                self.resize(rows, cols);
                if let Some(run) = run {
                    run.io.resize(rows, cols);
                    if replay {
                        // A screen that can be redrawn begins with a `Skipped`, which says
                        // this monitor takes `Redraw`s.
                        if run.io.redraws() {
                            self.clients[i].send(&Event::Skipped);
                        }
                        // In messages of the largest size, all before the `Done` that ends
                        // the replay.
                        for part in run.io.replay().chunks(protocol::MAX_MESSAGE - 1) {
                            self.clients[i].send(&Event::Output(Stream::Stdout, part.to_vec()));
                        }
                    }
                }
                self.clients[i].send(&Event::Done);
                // An attach runs code the container's life does not (the replay, a client's
                // protocol): given back once the client has settled in.
                self.settle_at = Some(Instant::now() + SETTLE_DELAY);
            }
            Request::Input(bytes) => {
                if let Some(run) = run {
                    run.input.write(&bytes);
                }
            }
            Request::History => {
                // The page before the last one this client was sent (the first: before
                // its attach); none when the log's start has been sent.
                let page = self.clients[i]
                    .history
                    .take()
                    .and_then(|before| log::page(&self.id, before, HISTORY_PAGE))
                    .unwrap_or_default();
                for part in page.output.chunks(protocol::MAX_MESSAGE - 1) {
                    self.clients[i].send(&Event::History(part.to_vec()));
                }
                self.clients[i].history = page.before;
                self.clients[i].send(&Event::HistoryEnd {
                    start: page.before.is_none(),
                });
            }
            Request::Resize { rows, cols } => {
                self.resize(rows, cols);
                if let Some(run) = run {
                    run.io.resize(rows, cols);
                }
            }
            Request::CloseStdin => {
                if let Some(run) = run {
                    run.input.close();
                }
            }
            Request::Wait => self.clients[i].waiting = true,
            Request::Redraw => {
                self.redraw(i, run, false);
            }
            Request::Mark => {
                self.unpace(i, run);
                // What it was sent so far (or will be, behind a redraw) is in the log before
                // this.
                self.clients[i].history = self.log.mark();
                self.clients[i].send(&Event::Marked);
            }
        }
    }

    /// Sends client `i` a redraw in place of the output queued for it, and paces it (see
    /// [`clients::Paced`]); false when the container has no screen to send, or a redraw is on
    /// its way. With `wait`, one on its way is sent first (it has not what came since).
    fn redraw(&mut self, i: usize, run: Option<&mut io::Run>, wait: bool) -> bool {
        let client = &mut self.clients[i];
        if client.redrawing() {
            if !wait {
                return false;
            }
            client.redrawn(true);
        }
        let Some(screen) = run.and_then(|run| run.io.replay_later()) else {
            return false;
        };
        client.skip_output();
        // The log and the screen have had the same bytes (each read is logged before the
        // screen's thread is handed it), so the screen and the history's pages meet here.
        client.history = self.log.mark();
        client.send(&Event::Skipped);
        client.redraw_with(screen);
        client.paced = Some(Paced::new(Instant::now()));
        true
    }

    /// Redraws the paced clients due a redraw, and sends the others output again.
    fn pace(&mut self, mut run: Option<&mut io::Run>) {
        let now = Instant::now();
        for i in 0..self.clients.len() {
            let paced = match self.clients[i].paced.and_then(|p| p.due(now)) {
                None => true,
                // The last one is still on its way: the next turn's.
                Some(Due::Redraw) if self.clients[i].redrawing() => true,
                // False with no screen to send: the output goes again.
                Some(Due::Redraw) => self.redraw(i, run.as_deref_mut(), false),
                Some(Due::Output) => false,
            };
            if !paced {
                self.clients[i].paced = None;
            }
        }
    }

    /// Ends client `i`'s redraws: a last one if output came since the one before, then the
    /// output again.
    fn unpace(&mut self, i: usize, run: Option<&mut io::Run>) {
        if self.clients[i].paced.is_some_and(|p| p.behind) {
            self.redraw(i, run, true);
        }
        self.clients[i].paced = None;
    }

    /// The size the next start of the container's pty gets.
    fn resize(&mut self, rows: u16, cols: u16) {
        if rows > 0 && cols > 0 {
            self.size = (rows, cols);
        }
    }

    /// Passes a signal sent to the monitor on to PID 1 (named by pid and start time, through
    /// a pidfd: never a process that took its PID later).
    fn signal(&self, signal: Signal) {
        if let Ok(Some(init)) = store::load(&self.id).map(|r| r.init) {
            let _ = crate::runtime::pidfd::signal(init, signal as i32);
        }
    }

    /// What the container wrote: to the attached clients first (a keystroke's echo waits for
    /// nothing else), then to the log.
    fn output(&mut self, stream: Stream, bytes: &[u8]) {
        let event = Event::Output(stream, bytes.to_vec());
        for c in self.clients.iter_mut().filter(|c| c.attached) {
            match &mut c.paced {
                Some(paced) => paced.behind = true,
                None => c.send(&event),
            }
        }
        self.log.write(stream, bytes);
    }

    fn broadcast_exit(&mut self, code: i32, oom_killed: bool, restarting: bool) {
        let event = Event::Exited {
            code,
            oom_killed,
            restarting,
        };
        for c in self.clients.iter_mut().filter(|c| c.attached || c.waiting) {
            // The run is over: its screen's thread answers or has ended.
            c.redrawn(true);
            c.send(&event);
        }
    }

    /// The container has ended for good: last words to clients, the socket closed, and the
    /// record removed if it was to be (the cleaner releases the rest).
    fn finish(&mut self) {
        for c in &mut self.clients {
            c.finish(Duration::from_secs(2));
        }
        let _ = std::fs::remove_file(store::socket(&self.id));
        if store::load(&self.id).is_ok_and(|r| r.auto_remove) {
            crate::runtime::reclaim::remove(&self.id);
        }
    }
}

/// What one turn of the loop saw.
#[derive(Default)]
struct Turn {
    started: bool,
    exited: Option<Exit>,
}
