//! The dashboard's state: its sessions, the selection, the mode, and what the threads report.
//! What keys and clicks do is in `input`, what the containers do in `containers`, and what
//! is drawn in `view`; nothing here touches the terminal.

mod containers;
mod copying;
mod input;
mod mouse;
mod processes;
#[cfg(test)]
mod tests;
mod view;

pub use crate::tui::ui::form::FIELDS;
pub use containers::{FormError, form_run};

use super::encode::Prefix;
use super::sampler::{Sample, Watch};
use super::ui::form::FormView;
use crate::runtime::inspect::Inspection;
use crate::session::{Notify, Session, SessionEvent};
use std::collections::{HashMap, VecDeque};

/// What the keyboard is talking to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Keys go to the selected session's shell.
    Normal,
    /// The prefix was pressed; the next key is a command.
    Prefix,
    ConfirmKill,
    /// Asking whether to remove a container this dashboard's user did not start.
    ConfirmRemove,
    ConfirmQuit,
    /// The help overlay, scrolled this many lines down (a short window shows it in parts).
    Help(u16),
    NewSession(Box<FormView>),
    /// The commit form for the selected session's container.
    Commit(Box<crate::tui::ui::commit::CommitForm>),
    /// The image list.
    Images(Box<crate::tui::ui::images::ImageList>),
    /// Copy mode over the selected session's history and screen (how far back the view
    /// looks: its screen knows).
    Copy(Box<crate::tui::copy::Copy>),
    /// Typing the selected session's new name.
    Rename(String),
    /// Picking a session from the list of all of them; this row is highlighted.
    Choose(usize),
    /// Picking a copy to paste from the buffers; this row is highlighted.
    Buffers(usize),
    /// Keys move through the inspector's process list.
    Processes,
    /// Asking whether to signal this process (its PID and start time, its command).
    ConfirmSignal(crate::state::Process, String),
}

/// Sessions shown at once, each in a pane of its own (tmux's panes, over sessions): which, in
/// pane order, and how they share the terminal's place. The selected session is in one of
/// them: the focused pane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Panes {
    pub shown: Vec<u64>,
    pub layout: super::ui::PaneLayout,
    /// What is typed goes to every pane's session (tmux's synchronize-panes).
    pub synchronized: bool,
}

/// Copies kept for `prefix =`, as tmux's buffer-limit.
pub const BUFFERS: usize = 50;

/// CPU samples kept per session for the sparkline (one a second).
pub const HISTORY: usize = 60;

/// A session's latest usage sample and its recent CPU percentages.
#[derive(Debug, Clone, Default)]
pub struct UsageHistory {
    pub last: Sample,
    pub history: VecDeque<u64>,
}

pub struct App {
    pub sessions: Vec<Session>,
    pub selected: usize,
    /// The session selected before the current one (prefix twice goes back to it).
    last: Option<u64>,
    pub mode: Mode,
    /// The inspector opened or closed by `prefix i`; until then (`None`) it is open where it
    /// fits beside the shell and folded to a line in a narrow window, as the window changes.
    pub show_inspector: Option<bool>,
    /// The window, as last laid out (what `prefix i` toggles from, what the panes share).
    window: ratatui::layout::Rect,
    /// The selected session alone in the window (`prefix z`).
    pub zoomed: bool,
    pub host_view: bool,
    /// Sessions shown at once (as [`App::panes`] says while they are).
    pub panes: Option<Panes>,
    /// The inspector's process list: its order and selection.
    pub processes: super::ui::inspector::ProcessList,
    /// The latest inspection, and the session it belongs to.
    pub inspection: Option<(u64, Inspection)>,
    /// Counts the inspections received: the inspector panel is drawn again when it changes.
    inspection_drawn: u64,
    /// The inspector, the usage panel, the session list and the status line as last drawn
    /// (a paragraph's layout of the status line cost a third of an echo's frame).
    inspector_cache: std::cell::RefCell<super::ui::Cached>,
    usage_cache: std::cell::RefCell<super::ui::Cached>,
    list_cache: std::cell::RefCell<super::ui::Cached>,
    status_cache: std::cell::RefCell<super::ui::Cached>,
    /// Each shown session's pane as last drawn (a hash of its place, title and state): the
    /// same, only the rows its screen changed are drawn again.
    pane_keys: std::cell::RefCell<HashMap<u64, u64>>,
    pub prefix: Prefix,
    pub quit: bool,
    /// Quitting ends the containers this dashboard started (else they keep running).
    pub end_mine: bool,
    /// The signal that ended the dashboard, if one did.
    pub ended_by: Option<nix::sys::signal::Signal>,
    /// A one-off message for the status line (an error starting a session, ...).
    pub message: Option<String>,
    /// What copy mode copied last, for `prefix ]`.
    pub paste_buffer: Option<String>,
    /// What copy mode copied before, newest first, up to [`BUFFERS`] (tmux's buffer-limit):
    /// `prefix =` lists them to paste one.
    pub buffers: VecDeque<String>,
    /// Text for the outer terminal's clipboard (OSC 52), written out before the next frame.
    pub clipboard: Option<String>,
    /// Resource use per session id, with a short CPU history.
    pub usage: HashMap<u64, UsageHistory>,
    /// The run every new session starts from: the command line's run options, which the
    /// form's fields then apply to.
    pub template: crate::spec::options::Run,
    /// Where the dashboard was started (a relative rootfs or `-e KEY` is taken from there).
    pub host: crate::spec::options::Host,
    pty_size: (u16, u16),
    next_id: u64,
    notify: Notify,
    /// Sessions waiting for their image: what to start once it is pulled (the image request,
    /// the command typed).
    /// Sessions waiting for their image's pull: how each is to be run (its image request
    /// in it).
    pending: HashMap<u64, crate::spec::run::Launch>,
    /// A copy-mode search found nothing while the session's history was still coming: it is
    /// tried again as the history comes ([`App::retry_search`]).
    search_pending: bool,
    /// The host the sessions live on (the real one, or the tests' fake).
    backend: Box<dyn super::backend::Backend>,
    /// Verbs running off the UI thread (a start, a removal), joined before the dashboard goes.
    verbs: Vec<std::thread::JoinHandle<()>>,
    /// When this dashboard last changed its sessions itself (a launch, a removal, a rename):
    /// a listing begun before then is stale.
    changed: std::time::Instant,
}

impl App {
    pub fn new(prefix: Prefix, notify: Notify, backend: Box<dyn super::backend::Backend>) -> App {
        App {
            sessions: Vec::new(),
            selected: 0,
            last: None,
            mode: Mode::Normal,
            show_inspector: None,
            window: ratatui::layout::Rect::new(0, 0, super::ui::SIDE_BY_SIDE, 40),
            zoomed: false,
            host_view: false,
            processes: Default::default(),
            panes: None,
            inspection: None,
            inspection_drawn: 0,
            inspector_cache: Default::default(),
            usage_cache: Default::default(),
            list_cache: Default::default(),
            status_cache: Default::default(),
            pane_keys: Default::default(),
            prefix,
            quit: false,
            end_mine: false,
            ended_by: None,
            message: None,
            paste_buffer: None,
            buffers: VecDeque::new(),
            clipboard: None,
            usage: HashMap::new(),
            template: crate::spec::options::Run::new(String::new()),
            host: crate::spec::options::Host::current(),
            pty_size: (24, 80),
            next_id: 1,
            notify,
            pending: HashMap::new(),
            search_pending: false,
            backend,
            changed: std::time::Instant::now(),
            verbs: Vec::new(),
        }
    }

    /// The layout of a window of `area`: the panels, and the panes.
    pub fn areas(&self, area: ratatui::layout::Rect) -> super::ui::Areas {
        if self.zoomed {
            return super::ui::Areas::zoomed(area);
        }
        super::ui::Areas::tiled(
            area,
            self.sessions.len(),
            self.inspector_open(area.width),
            self.panes().map(|p| (p.layout, p.shown.len())),
        )
    }

    /// Whether the inspector is open in a window `width` wide.
    pub fn inspector_open(&self, width: u16) -> bool {
        self.show_inspector
            .unwrap_or(width >= super::ui::SIDE_BY_SIDE)
    }

    /// `prefix i`: the inspector closed if it is open in this window, else opened; the choice
    /// then holds whatever the window does.
    pub(super) fn toggle_inspector(&mut self) {
        self.show_inspector = Some(!self.inspector_open(self.window.width));
    }

    /// Gives every session's pty and screen the size of its pane: each shown session its own,
    /// every other the focused pane's (as it will be when switched to).
    pub fn resize(&mut self, areas: &super::ui::Areas) {
        self.window = ratatui::layout::Rect::new(
            0,
            0,
            areas.status.width,
            areas.status.bottom().saturating_sub(areas.sessions.top()),
        );
        let focused = super::ui::inside(self.focused_pane(areas));
        self.pty_size = focused;
        let shown = self.panes().map(|p| p.shown).unwrap_or_default();
        for s in &mut self.sessions {
            let (rows, cols) = match shown.iter().position(|id| *id == s.id) {
                Some(i) => super::ui::inside(areas.pane(i)),
                None => focused,
            };
            s.resize(rows, cols);
        }
    }

    /// The sessions shown at once, while two or more of them are listed, the selected one
    /// among them, and nothing is zoomed (the focused session is then alone; the panes come
    /// back with the zoom's end).
    pub fn panes(&self) -> Option<Panes> {
        let panes = self.panes.as_ref().filter(|_| !self.zoomed)?;
        let selected = self.selected()?.id;
        let shown: Vec<u64> = panes
            .shown
            .iter()
            .copied()
            .filter(|id| self.sessions.iter().any(|s| s.id == *id))
            .collect();
        (shown.len() >= 2 && shown.contains(&selected)).then(|| Panes {
            shown,
            ..panes.clone()
        })
    }

    /// Which pane the focus is in (the first with one session shown).
    pub fn focused_index(&self) -> usize {
        let selected = self.selected().map(|s| s.id);
        self.panes()
            .and_then(|p| p.shown.iter().position(|id| Some(*id) == selected))
            .unwrap_or(0)
    }

    /// The pane of the focused session.
    pub fn focused_pane(&self, areas: &super::ui::Areas) -> ratatui::layout::Rect {
        areas.pane(self.focused_index())
    }

    /// Moves the focus to pane `i` (its session becomes the selected one).
    pub(super) fn focus_pane(&mut self, i: usize) {
        let Some(id) = self.panes().and_then(|p| p.shown.get(i).copied()) else {
            return;
        };
        if let Some(index) = self.sessions.iter().position(|s| s.id == id) {
            self.select(index);
        }
    }

    pub fn selected(&self) -> Option<&Session> {
        self.sessions.get(self.selected)
    }

    pub(super) fn selected_mut(&mut self) -> Option<&mut Session> {
        self.sessions.get_mut(self.selected)
    }

    /// Selects session `index`. With panes, one shown keeps its pane and the focus moves
    /// there; one not shown takes the focused pane's place.
    pub(super) fn select(&mut self, index: usize) {
        if index >= self.sessions.len() || index == self.selected {
            return;
        }
        let (from, to) = (self.selected().map(|s| s.id), self.sessions[index].id);
        if let Some(current) = self.panes()
            && !current.shown.contains(&to)
            && let Some(panes) = &mut self.panes
        {
            for id in &mut panes.shown {
                if Some(*id) == from {
                    *id = to;
                }
            }
        }
        self.set_scroll(0);
        self.mode = Mode::Normal;
        self.last = from;
        self.processes.selected = 0;
        self.selected = index;
    }

    /// What the inspector thread should watch: the selected session, and every running
    /// session's cgroup.
    pub fn watch(&self) -> Watch {
        Watch {
            selected: self.selected().and_then(|s| Some((s.id, s.init()?))),
            running: self
                .sessions
                .iter()
                .filter_map(|s| Some((s.id, s.init()?, s.container.clone(), s.cgroup_path())))
                .collect(),
        }
    }

    /// Records a round of usage samples, keeping a short CPU history per session.
    pub fn on_usage(&mut self, samples: Vec<(u64, Sample)>) {
        for (id, sample) in samples {
            let entry = self.usage.entry(id).or_default();
            if let Some(cpu) = sample.cpu_percent {
                if entry.history.len() == HISTORY {
                    entry.history.pop_front();
                }
                entry.history.push_back(cpu.round() as u64);
            }
            entry.last = sample;
        }
    }

    pub fn any_running(&self) -> bool {
        self.sessions.iter().any(Session::is_running)
    }

    pub fn on_session_event(&mut self, event: SessionEvent) {
        if let SessionEvent::Pulled(id, result) = event {
            self.pulled(id, result);
            return;
        }
        if let SessionEvent::Done(id, verb, result) = event {
            self.done(id, verb, result);
            return;
        }
        if let SessionEvent::Committed(id, result) = event {
            self.committed(id, result);
            return;
        }
        if let SessionEvent::Exited(id, code) = event
            && let Some(s) = self.sessions.iter_mut().find(|s| s.id == id)
        {
            match (code, self.backend.record(&s.container)) {
                // A container's record says how it ended, and whether it was OOM-killed; one
                // still running lost only its connection, and is attached again.
                (_, Ok(record)) if !s.is_exec() => {
                    s.unlink();
                    s.refresh(&record, &self.notify);
                }
                (Some(code), _) => s.exited(code),
                (None, _) => s.exited(u32::MAX),
            }
            // An exit of one of ours where the user is not looking is said, once, on the
            // status line; another's shows in the list only (the key hints stay).
            let notice = s
                .mine()
                .then(|| s.ending())
                .flatten()
                .map(|e| format!(" {} {e}", s.name));
            if self.selected().is_some_and(|sel| sel.id != id) && notice.is_some() {
                self.message = notice;
            }
            if self.inspection.as_ref().is_some_and(|(i, _)| *i == id) {
                self.inspection = None;
            }
        }
    }

    pub fn on_inspection(&mut self, id: u64, inspection: Option<Box<Inspection>>) {
        let current = self.selected().map(|s| s.id);
        if current == Some(id) {
            self.inspection = inspection.map(|i| (id, *i));
            self.inspection_drawn += 1;
        }
    }
}
