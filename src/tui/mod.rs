//! The dashboard: `sudo my-container-tui` with no command.
//!
//! It is a client: its sessions are the containers of the host (of our namespace), each held
//! by its own monitor, so they outlive the dashboard. `prefix d`, a signal, or a lost terminal
//! leaves them running; `prefix q` may end those it started. Opened again, it lists them with
//! their screens restored.
//!
//! One thread owns the [`App`] and the terminal; everything else (keyboard, each attachment,
//! each exit, the inspector, signals) arrives as an [`Event`] on one channel. A change after
//! a quiet spell is drawn at once (a typed key, then its echo: a terminal is judged by that);
//! output that keeps coming is coalesced, a session announcing new output once per frame
//! drawn, frames paced at about 60 per second (`Pacer`). About once a second the list is
//! brought to the container records.

pub mod app;
pub mod backend;
pub mod commands;
pub mod copy;
pub mod encode;
pub mod paint;
pub mod sampler;
pub mod ui;

use crate::client::pace::FRAME;
use crate::runtime::require_root;
use crate::session::SessionEvent;
use app::App;
use crossterm::event::{
    self as term_event, DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste,
    EnableMouseCapture,
};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use crossterm::{cursor, execute};
use encode::Prefix;
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::SignalFd;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use std::io::{IsTerminal, Stdout};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::{Duration, Instant};

/// Everything the dashboard reacts to.
pub enum Event {
    Input(term_event::Event),
    Session(SessionEvent),
    Inspector(sampler::Report),
    /// The host's containers, listed off the UI thread (the listing repairs records under the
    /// store's lock, which a launcher may hold), and when the listing began.
    Listing(backend::Listing, Instant),
    /// SIGTERM, SIGHUP, SIGINT or SIGQUIT: leave, as a detach does (a tmux client killed, or
    /// its terminal gone, leaves its sessions running).
    Terminate(Signal),
}

/// Frames that may be drawn back to back before pacing starts: a key and its echo, twice.
const BURST: f64 = 4.0;

/// When to draw: a token bucket. A frame costs a token, tokens come back at one per
/// [`FRAME`] up to [`BURST`]. Typing (a key drawn, then its echo a fraction of a millisecond
/// later) finds tokens and is drawn at once rather than waiting out a frame; output that
/// keeps coming runs the bucket dry and is drawn once per frame, so a flood costs 60 frames
/// a second and not one per read.
struct Pacer {
    tokens: f64,
    at: Instant,
}

impl Pacer {
    fn new() -> Pacer {
        Pacer {
            tokens: BURST,
            at: Instant::now(),
        }
    }

    fn tokens(&self) -> f64 {
        (self.tokens + self.at.elapsed().as_secs_f64() / FRAME.as_secs_f64()).min(BURST)
    }

    /// How long a pending frame must wait.
    fn wait(&self) -> Duration {
        FRAME.mul_f64((1.0 - self.tokens()).max(0.0))
    }

    fn drew(&mut self) {
        self.tokens = (self.tokens() - 1.0).max(0.0);
        self.at = Instant::now();
    }
}

/// Uptimes tick even when nothing else happens.
const TICK: Duration = Duration::from_secs(1);

/// The dashboard's own options (the containers' come from the run options, as a template).
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct Options {
    /// The dashboard's prefix key, as `C-<letter>`
    #[arg(long, value_name = "KEY", default_value = "C-a", value_parser = Prefix::parse)]
    pub prefix: Prefix,
    /// Lines of history each session keeps above its screen (tmux's history-limit)
    #[arg(long, value_name = "LINES", default_value_t = crate::session::SCROLLBACK)]
    pub history: usize,
}

/// Runs the dashboard; returns the process's exit code.
/// Every session starts from `template` (its command, hostname and name aside).
pub fn run(options: Options, template: crate::spec::options::Run) -> i32 {
    if let Err(e) = require_root() {
        crate::runtime::exit::print_error(&e.to_string());
        return crate::runtime::exit::RUNTIME_ERROR;
    }
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        crate::runtime::exit::print_error(
            "the dashboard needs a terminal; use --run CMD for headless runs",
        );
        return crate::runtime::exit::RUNTIME_ERROR;
    }
    crate::session::set_history(options.history);
    match dashboard(options.prefix, template) {
        Ok(code) => code,
        Err(e) => {
            crate::runtime::exit::print_error(&format!("{e:#}"));
            crate::runtime::exit::RUNTIME_ERROR
        }
    }
}

fn dashboard(prefix: Prefix, template: crate::spec::options::Run) -> anyhow::Result<i32> {
    // Block the terminating signals before any thread starts, so only the signal thread sees them.
    let mut mask = SigSet::empty();
    for s in [
        Signal::SIGTERM,
        Signal::SIGHUP,
        Signal::SIGINT,
        Signal::SIGQUIT,
    ] {
        mask.add(s);
    }
    mask.thread_block()?;
    let signals = SignalFd::new(&mask)?;
    let (tx, rx) = channel::<Event>();
    spawn_signal_thread(signals, tx.clone())?;
    spawn_input_thread(tx.clone())?;
    spawn_listing_thread(tx.clone())?;
    let inspect_tx = tx.clone();
    let inspector = sampler::spawn(move |report| {
        let _ = inspect_tx.send(Event::Inspector(report));
    })?;
    let session_tx = std::sync::Mutex::new(tx.clone());
    let notify: crate::session::Notify = Arc::new(move |e| {
        let _ = session_tx
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(Event::Session(e));
    });

    let mut terminal = TerminalGuard::enter()?;
    let mut app = App::new(prefix, notify, Box::new(backend::Host));
    app.template = template;
    let areas = app.areas(terminal.0.get_frame().area());
    app.resize(&areas);
    // The host's containers first; a shell of our own only when there are none.
    app.sync();
    if app.sessions.is_empty()
        && let Err(e) = app.start_session(Default::default())
    {
        app.message = Some(format!("cannot start a session: {}", e.message));
    }
    let result = event_loop(&mut app, &mut terminal.0, &rx, &inspector);
    if app.end_mine {
        app.end_mine();
    } else {
        app.detach();
    }
    drop(terminal);
    // Ended by a signal: say so in the exit status, as a shell would (128+N).
    result.map(|()| app.ended_by.map_or(0, |sig| 128 + sig as i32))
}

fn event_loop(
    app: &mut App,
    terminal: &mut Terminal<CrosstermBackend<Stdout>>,
    rx: &Receiver<Event>,
    inspector: &Sender<sampler::Watch>,
) -> anyhow::Result<()> {
    let mut pacer = Pacer::new();
    let mut painter = paint::Painter::default();
    let mut needs_draw = true;
    let mut watched = sampler::Watch::default();
    while !app.quit {
        let timeout = if needs_draw { pacer.wait() } else { TICK };
        match rx.recv_timeout(timeout) {
            Ok(event) => {
                needs_draw |= handle(app, terminal, &mut painter, event)?;
                while let Ok(event) = rx.try_recv() {
                    needs_draw |= handle(app, terminal, &mut painter, event)?;
                }
            }
            Err(RecvTimeoutError::Timeout) => needs_draw = true,
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if let Some(text) = app.clipboard.take() {
            // OSC 52: the outer terminal (through ssh and tmux too) puts it on its clipboard.
            use std::io::Write;
            let mut out = std::io::stdout();
            let _ = out
                .write_all(copy::osc52(&text).as_bytes())
                .and_then(|()| out.flush());
        }
        let target = app.watch();
        if target != watched {
            watched = target.clone();
            let _ = inspector.send(target);
        }
        if needs_draw && pacer.wait().is_zero() {
            app.retry_search();
            for s in &app.sessions {
                s.take_dirty();
            }
            let layout = app.layout(terminal.get_frame().area());
            painter.paint(terminal, layout, |frame, whole| app.paint(frame, whole))?;
            pacer.drew();
            needs_draw = false;
        }
    }
    Ok(())
}

/// Lists the host's containers every [`TICK`], off the UI thread, until the dashboard goes.
fn spawn_listing_thread(tx: Sender<Event>) -> std::io::Result<()> {
    use backend::Backend;
    std::thread::Builder::new()
        .name("listing".into())
        .spawn(move || {
            loop {
                std::thread::sleep(TICK);
                let taken = Instant::now();
                if tx
                    .send(Event::Listing(backend::Host.list(), taken))
                    .is_err()
                {
                    return;
                }
            }
        })
        .map(drop)
}

/// Acts on `event`; returns whether the screen needs drawing.
fn handle(
    app: &mut App,
    terminal: &mut Terminal<CrosstermBackend<Stdout>>,
    painter: &mut paint::Painter,
    event: Event,
) -> anyhow::Result<bool> {
    let mut redraw = true;
    match event {
        Event::Input(term_event::Event::Key(key))
            if key.kind != term_event::KeyEventKind::Release =>
        {
            redraw = app.handle_key(key)
        }
        Event::Input(term_event::Event::Paste(text)) => app.handle_paste(&text),
        Event::Input(term_event::Event::Mouse(mouse)) => {
            let areas = app.areas(terminal.get_frame().area());
            app.handle_mouse(mouse, &areas);
        }
        // The window's size, as the terminal says it on SIGWINCH: kept, not asked for again
        // (crossterm opens /dev/tty for each question) on every key.
        Event::Input(term_event::Event::Resize(cols, rows)) => {
            terminal.resize(ratatui::layout::Rect::new(0, 0, cols, rows))?;
            painter.cleared();
        }
        Event::Input(_) => {}
        Event::Session(e) => app.on_session_event(e),
        Event::Inspector(sampler::Report::Inspected(id, ins)) => app.on_inspection(id, ins),
        Event::Inspector(sampler::Report::Usage(samples)) => app.on_usage(samples),
        Event::Listing(listing, taken) => app.listed(listing, taken),
        Event::Terminate(sig) => {
            app.ended_by = Some(sig);
            app.quit = true;
        }
    }
    // Layout follows the window and the inspector toggle; the ptys follow the layout.
    let areas = app.areas(terminal.get_frame().area());
    app.resize(&areas);
    Ok(redraw)
}

fn spawn_signal_thread(signals: SignalFd, tx: Sender<Event>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            while let Ok(Some(info)) = signals.read_signal() {
                if let Ok(sig) = Signal::try_from(info.ssi_signo as i32)
                    && tx.send(Event::Terminate(sig)).is_err()
                {
                    return;
                }
            }
        })?;
    Ok(())
}

fn spawn_input_thread(tx: Sender<Event>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("input".into())
        .spawn(move || {
            while let Ok(event) = term_event::read() {
                if tx.send(Event::Input(event)).is_err() {
                    return;
                }
            }
        })?;
    Ok(())
}

/// The terminal in raw mode on the alternate screen with mouse and paste reporting; put back
/// as it was on drop, and by a panic hook if the dashboard panics.
struct TerminalGuard(Terminal<CrosstermBackend<Stdout>>);

impl TerminalGuard {
    fn enter() -> anyhow::Result<TerminalGuard> {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore_terminal();
            previous(info);
        }));
        enable_raw_mode()?;
        execute!(
            std::io::stdout(),
            EnterAlternateScreen,
            EnableMouseCapture,
            EnableBracketedPaste
        )?;
        // A fixed viewport, moved on each resize event: a fullscreen one asks the terminal
        // its size before every frame.
        let (cols, rows) = crossterm::terminal::size()?;
        Ok(TerminalGuard(Terminal::with_options(
            CrosstermBackend::new(std::io::stdout()),
            ratatui::TerminalOptions {
                viewport: ratatui::Viewport::Fixed(ratatui::layout::Rect::new(0, 0, cols, rows)),
            },
        )?))
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

fn restore_terminal() {
    let _ = execute!(
        std::io::stdout(),
        DisableBracketedPaste,
        DisableMouseCapture,
        LeaveAlternateScreen,
        cursor::Show
    );
    let _ = disable_raw_mode();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// After a quiet spell a key and its echo are drawn at once; output that keeps coming
    /// runs the bucket dry and waits for the next frame.
    #[test]
    fn the_pacer_draws_at_once_after_quiet_and_paces_a_flood() {
        let mut pacer = Pacer::new();
        for _ in 0..BURST as usize {
            assert!(pacer.wait().is_zero());
            pacer.drew();
        }
        let wait = pacer.wait();
        assert!(wait > FRAME / 2 && wait <= FRAME, "{wait:?}");
    }
}
