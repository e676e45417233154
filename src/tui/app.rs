//! The dashboard's state and what each key, click and event does to it. Drawing reads this
//! state; nothing here touches the terminal.

use super::commands::{self, Command};
use super::inspector::{Sample, Watch};
use super::keys::{self, Prefix};
use super::ui::form::{FormView, LABELS};
use super::ui::sessions::SessionRow;
use super::ui::usage::UsageView;
use super::ui::{self, Areas};
use crate::client::ops;
use crate::runtime::ContainerSpec;
use crate::runtime::inspect::Inspection;
use crate::runtime::rootfs::{Rootfs, Writes};
use crate::runtime::rootpath::InRoot;
use crate::session::{Notify, Session, SessionEvent, State, describe_exit};
use crate::state::store;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use std::collections::{HashMap, VecDeque};
use std::path::Path;

/// What the keyboard is talking to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Keys go to the selected session's shell.
    Normal,
    /// The prefix was pressed; the next key is a command.
    Prefix,
    ConfirmKill,
    ConfirmQuit,
    Help,
    NewSession(Box<FormView>),
    /// Looking back through the selected session's scrollback, this many lines up.
    Scroll(usize),
}

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
    pub mode: Mode,
    pub show_inspector: bool,
    pub host_view: bool,
    /// The latest inspection, and the session it belongs to.
    pub inspection: Option<(u64, Inspection)>,
    pub prefix: Prefix,
    pub quit: bool,
    /// Quitting ends the containers this dashboard started (else they keep running).
    pub end_mine: bool,
    /// The signal that ended the dashboard, if one did.
    pub ended_by: Option<nix::sys::signal::Signal>,
    /// A one-off message for the status line (an error starting a session, ...).
    pub message: Option<String>,
    /// Resource use per session id, with a short CPU history.
    pub usage: HashMap<u64, UsageHistory>,
    /// Limits every new session gets (from the command line).
    pub template: ContainerSpec,
    pty_size: (u16, u16),
    next_id: u64,
    notify: Notify,
}

impl App {
    pub fn new(prefix: Prefix, notify: Notify) -> App {
        App {
            sessions: Vec::new(),
            selected: 0,
            mode: Mode::Normal,
            show_inspector: true,
            host_view: false,
            inspection: None,
            prefix,
            quit: false,
            end_mine: false,
            ended_by: None,
            message: None,
            usage: HashMap::new(),
            template: ContainerSpec::new(Vec::new(), "/".into()),
            pty_size: (24, 80),
            next_id: 1,
            notify,
        }
    }

    /// The command a new session runs unless told: `$SHELL`, else bash, else sh, whichever
    /// exists in the container's root (`rootfs`, or the host's `/`).
    pub fn default_command(rootfs: Option<&Rootfs>) -> String {
        // Looked up inside the image, its links followed as the container would follow them:
        // an image's `/bin/bash -> /etc/shadow` must not make us probe the host's file.
        let root = rootfs.map_or(Path::new("/"), |r| r.dir.as_path());
        let image = InRoot::open(root, Path::new("/")).ok();
        let exists = |p: &str| image.as_ref().is_some_and(|i| i.resolves(Path::new(p)));
        std::env::var("SHELL")
            .ok()
            .filter(|s| s.starts_with('/'))
            .into_iter()
            .chain(["/bin/bash".to_string()])
            .find(|s| exists(s))
            .unwrap_or_else(|| "/bin/sh".to_string())
    }

    /// The first `session-N` that no container of our namespace is named.
    fn free_number(&self) -> u64 {
        let taken: Vec<String> = store::visible().into_iter().map(|r| r.name).collect();
        (self.next_id..)
            .find(|n| !taken.contains(&format!("session-{n}")))
            .unwrap_or(self.next_id)
    }

    fn defaults(&self) -> [String; 4] {
        let n = self.free_number();
        let rootfs = match &self.template.rootfs {
            Some(r) => r.dir.display().to_string(),
            None => "(none: the host's files)".to_string(),
        };
        let shell = App::default_command(self.template.rootfs.as_ref());
        [
            format!("session-{n}"),
            format!("my-container-{n}"),
            shell,
            rootfs,
        ]
    }

    /// Starts a session; empty fields take their defaults.
    pub fn start_session(&mut self, values: [String; 4]) -> Result<(), String> {
        let [name, hostname, command, rootfs] = values;
        let defaults = self.defaults();
        let pick = |v: String, d: &String| {
            if v.trim().is_empty() {
                d.clone()
            } else {
                v.trim().to_string()
            }
        };
        let mut spec = self.template.clone();
        if !rootfs.trim().is_empty() {
            let dir = std::env::current_dir()
                .unwrap_or_else(|_| "/".into())
                .join(rootfs.trim());
            spec.rootfs = Some(Rootfs {
                dir,
                mode: Writes::Overlay,
            });
            spec.workdir = "/".into();
        }
        // The default shell is looked up in the root this session gets.
        let shell = App::default_command(spec.rootfs.as_ref());
        let (name, hostname, command) = (
            pick(name, &defaults[0]),
            pick(hostname, &defaults[1]),
            pick(command, &shell),
        );
        spec.command = ContainerSpec::command_from_words(vec![command]);
        spec.id = crate::state::record::new_id();
        spec.hostname = hostname;
        spec.tty = true;
        spec.term = Some("xterm-256color".into());
        spec.validate().map_err(|e| e.to_string())?;
        let id = self.next_id;
        let session = Session::launch(id, &name, spec, self.pty_size, self.notify.clone())
            .map_err(|e| format!("{e:#}"))?;
        self.next_id += 1;
        self.sessions.push(session);
        self.selected = self.sessions.len() - 1;
        Ok(())
    }

    /// Brings the list to the store: every container of our namespace is a session (new ones,
    /// started elsewhere, appear; removed ones go), each as its record says.
    pub fn sync(&mut self) {
        let records = store::visible();
        let notify = self.notify.clone();
        self.sessions
            .retain(|s| records.iter().any(|r| r.id == s.container));
        for s in &mut self.sessions {
            if let Some(r) = records.iter().find(|r| r.id == s.container) {
                s.refresh(r, &notify);
            }
        }
        // Oldest first, as they were made.
        for r in records.iter().rev() {
            if !self.sessions.iter().any(|s| !s.exec && s.container == r.id) {
                match Session::of(self.next_id, r, self.pty_size, notify.clone()) {
                    Ok(s) => {
                        self.next_id += 1;
                        self.sessions.push(s);
                    }
                    Err(e) => self.message = Some(format!("{}: {e:#}", r.name)),
                }
            }
        }
        self.selected = self.selected.min(self.sessions.len().saturating_sub(1));
    }

    /// Opens another shell in the selected container, listed under it.
    fn exec_selected(&mut self) {
        let Some(parent) = self.selected().filter(|s| s.is_running()) else {
            self.message = Some("no running container selected".into());
            return;
        };
        let shell = App::default_command(parent.spec.rootfs.as_ref());
        let at = self
            .sessions
            .iter()
            .rposition(|s| s.container == parent.container)
            .unwrap_or(self.selected)
            + 1;
        match Session::exec(
            self.next_id,
            parent,
            &shell,
            self.pty_size,
            self.notify.clone(),
        ) {
            Ok(s) => {
                self.next_id += 1;
                self.sessions.insert(at, s);
                self.selected = at;
            }
            Err(e) => self.message = Some(format!("exec failed: {e:#}")),
        }
    }

    /// Gives every session's pty and screen the size of the terminal pane.
    pub fn resize(&mut self, rows: u16, cols: u16) {
        self.pty_size = (rows, cols);
        for s in &mut self.sessions {
            s.resize(rows, cols);
        }
    }

    pub fn selected(&self) -> Option<&Session> {
        self.sessions.get(self.selected)
    }

    fn selected_mut(&mut self) -> Option<&mut Session> {
        self.sessions.get_mut(self.selected)
    }

    fn select(&mut self, index: usize) {
        if index < self.sessions.len() {
            if index != self.selected {
                self.set_scroll(0);
                self.mode = Mode::Normal;
            }
            self.selected = index;
        }
    }

    /// What the inspector thread should watch: the selected session, and every running
    /// session's cgroup.
    pub fn watch(&self) -> Watch {
        Watch {
            selected: self.selected().and_then(|s| Some((s.id, s.init()?))),
            running: self
                .sessions
                .iter()
                .filter_map(|s| Some((s.id, s.init()?, s.container.clone())))
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
        if let SessionEvent::Exited(id, code) = event
            && let Some(s) = self.sessions.iter_mut().find(|s| s.id == id)
        {
            match (code, store::load(&s.container)) {
                // A container's record says how it ended, and whether it was OOM-killed.
                (_, Ok(record)) if !s.exec => s.refresh(&record, &self.notify),
                (Some(code), _) => s.exited(code),
                (None, _) => s.exited(u32::MAX),
            }
            if self.inspection.as_ref().is_some_and(|(i, _)| *i == id) {
                self.inspection = None;
            }
        }
    }

    pub fn on_inspection(&mut self, id: u64, inspection: Option<Inspection>) {
        let current = self.selected().map(|s| s.id);
        if current == Some(id) {
            self.inspection = inspection.map(|i| (id, i));
        }
    }

    fn set_scroll(&mut self, lines: usize) {
        if let Some(s) = self.selected() {
            s.screen().screen_mut().set_scrollback(lines);
        }
    }

    /// Scrolls the selected session's view by `delta` lines (positive: back in time), and
    /// returns the offset the emulator settled on.
    fn scroll_by(&mut self, delta: isize) -> usize {
        let Some(s) = self.selected() else { return 0 };
        let mut parser = s.screen();
        let current = parser.screen().scrollback();
        parser
            .screen_mut()
            .set_scrollback(current.saturating_add_signed(delta));
        parser.screen().scrollback()
    }

    pub fn handle_key(&mut self, key: KeyEvent) {
        self.message = None;
        match std::mem::replace(&mut self.mode, Mode::Normal) {
            Mode::Normal => self.key_normal(key),
            Mode::Prefix => self.key_prefix(key),
            Mode::ConfirmKill => {
                if matches!(key.code, KeyCode::Char('y' | 'Y'))
                    && let Some(s) = self.selected()
                {
                    s.kill();
                }
            }
            Mode::ConfirmQuit => match key.code {
                KeyCode::Char('e' | 'E' | 'y' | 'Y') => {
                    self.end_mine = true;
                    self.quit = true;
                }
                KeyCode::Char('d' | 'D') => self.quit = true,
                _ => {}
            },
            Mode::Help => {}
            Mode::NewSession(form) => self.key_form(form, key),
            Mode::Scroll(_) => self.key_scroll(key),
        }
    }

    fn key_normal(&mut self, key: KeyEvent) {
        if self.prefix.matches(&key) {
            self.mode = Mode::Prefix;
            return;
        }
        let Some(session) = self.selected_mut().filter(|s| s.attached()) else {
            return;
        };
        let app_cursor = session.screen().screen().application_cursor();
        if let Some(bytes) = keys::encode(&key, app_cursor) {
            session.write(&bytes);
        }
    }

    fn key_prefix(&mut self, key: KeyEvent) {
        if self.prefix.matches(&key) {
            // Prefix twice: back to the last session would be tmux's; screen sends nothing.
            return;
        }
        let Some(command) = commands::command(key.code) else {
            return;
        };
        match command {
            Command::New => {
                self.mode = Mode::NewSession(Box::new(FormView {
                    defaults: self.defaults(),
                    ..FormView::default()
                }));
            }
            Command::Next if !self.sessions.is_empty() => {
                self.select((self.selected + 1) % self.sessions.len())
            }
            Command::Previous if !self.sessions.is_empty() => {
                self.select((self.selected + self.sessions.len() - 1) % self.sessions.len())
            }
            Command::Select(n) => self.select(n),
            Command::Kill if self.selected().is_some_and(Session::is_running) => {
                self.mode = Mode::ConfirmKill
            }
            Command::Exec => self.exec_selected(),
            Command::Restart => self.restart_selected(),
            Command::Remove => self.remove_selected(),
            Command::Inspector => self.show_inspector = !self.show_inspector,
            Command::HostView => self.host_view = !self.host_view,
            Command::Scrollback if self.selected().is_some() => self.mode = Mode::Scroll(0),
            Command::Help => self.mode = Mode::Help,
            Command::Quit => {
                if self.sessions.iter().any(|s| s.mine && s.is_running()) {
                    self.mode = Mode::ConfirmQuit;
                } else {
                    self.end_mine = true;
                    self.quit = true;
                }
            }
            Command::Detach => self.quit = true,
            Command::SendPrefix => {
                let byte = self.prefix.byte();
                if let Some(s) = self.selected_mut() {
                    s.write(&[byte]);
                }
            }
            Command::Next
            | Command::Previous
            | Command::Kill
            | Command::Scrollback
            | Command::Cancel => {}
        }
    }

    /// Starts the selected exited container again (`start`), under a new monitor.
    fn restart_selected(&mut self) {
        let Some(s) = self.selected() else { return };
        if s.is_running() {
            self.message = Some(format!("{} is still running", s.name));
            return;
        }
        if s.exec {
            self.message = Some(format!(
                "{} has ended: {} e opens another",
                s.name, self.prefix
            ));
            return;
        }
        let started = store::load(&s.container).and_then(|r| ops::start(&r));
        match started {
            Ok(()) => self.sync(),
            Err(e) => self.message = Some(format!("restart failed: {e:#}")),
        }
    }

    /// Removes the selected exited session (and its container, as `rm`).
    fn remove_selected(&mut self) {
        match self.selected() {
            Some(s) if s.is_running() => {
                self.message = Some(format!("{} is running: kill it first", s.name))
            }
            Some(s) => {
                if !s.exec
                    && let Ok(record) = store::load(&s.container)
                    && let Err(e) = ops::remove(&record, false)
                {
                    self.message = Some(format!("{e:#}"));
                    return;
                }
                self.sessions.remove(self.selected);
                self.selected = self.selected.min(self.sessions.len().saturating_sub(1));
            }
            None => {}
        }
    }

    fn key_form(&mut self, mut form: Box<FormView>, key: KeyEvent) {
        match key.code {
            KeyCode::Esc => return,
            KeyCode::Enter => match self.start_session(form.values.clone()) {
                Ok(()) => return,
                Err(e) => form.error = Some(e),
            },
            KeyCode::Tab | KeyCode::Down => form.focus = (form.focus + 1) % LABELS.len(),
            KeyCode::BackTab | KeyCode::Up => {
                form.focus = (form.focus + LABELS.len() - 1) % LABELS.len()
            }
            KeyCode::Backspace => {
                form.values[form.focus].pop();
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                form.values[form.focus].push(c)
            }
            _ => {}
        }
        self.mode = Mode::NewSession(form);
    }

    fn key_scroll(&mut self, key: KeyEvent) {
        let page = self.pty_size.0 as isize;
        let offset = match key.code {
            KeyCode::Up | KeyCode::Char('k') => self.scroll_by(1),
            KeyCode::Down | KeyCode::Char('j') => self.scroll_by(-1),
            KeyCode::PageUp => self.scroll_by(page),
            KeyCode::PageDown => self.scroll_by(-page),
            KeyCode::Char('g') | KeyCode::Home => self.scroll_by(isize::MAX / 2),
            KeyCode::Char('G') | KeyCode::End => self.scroll_by(isize::MIN / 2),
            KeyCode::Char('q') | KeyCode::Esc => {
                self.set_scroll(0);
                return;
            }
            _ => self.scroll_by(0),
        };
        self.mode = Mode::Scroll(offset);
    }

    pub fn handle_paste(&mut self, text: &str) {
        match &mut self.mode {
            Mode::NewSession(form) => form.values[form.focus].push_str(text.trim_end_matches('\n')),
            Mode::Normal => {
                if let Some(s) = self.selected_mut() {
                    let bracketed = s.screen().screen().bracketed_paste();
                    s.write(&keys::paste(text, bracketed));
                }
            }
            _ => {}
        }
    }

    pub fn handle_mouse(&mut self, mouse: MouseEvent, areas: &Areas) {
        match mouse.kind {
            MouseEventKind::Down(MouseButton::Left) => {
                if let Some(i) =
                    ui::sessions::row_at(areas.sessions, self.sessions.len(), mouse.row)
                    && mouse.column >= areas.sessions.x
                    && mouse.column < areas.sessions.right()
                {
                    self.select(i);
                }
            }
            MouseEventKind::ScrollUp if matches!(self.mode, Mode::Normal | Mode::Scroll(_)) => {
                let offset = self.scroll_by(3);
                self.mode = Mode::Scroll(offset);
            }
            MouseEventKind::ScrollDown if matches!(self.mode, Mode::Scroll(_)) => {
                let offset = self.scroll_by(-3);
                self.mode = if offset == 0 {
                    Mode::Normal
                } else {
                    Mode::Scroll(offset)
                };
            }
            _ => {}
        }
    }

    /// What the status line says now, and whether it is asking something.
    pub fn status(&self) -> (String, bool) {
        let p = self.prefix;
        let name = self.selected().map(|s| s.name.clone()).unwrap_or_default();
        match &self.mode {
            _ if self.message.is_some() => (self.message.clone().unwrap_or_default(), true),
            Mode::Normal if self.sessions.is_empty() => (
                format!(" No sessions. {p} c: new session · {p} q: quit · {p} ?: help"),
                false,
            ),
            Mode::Normal => (commands::everyday_status(&p.to_string()), false),
            Mode::Prefix => (commands::prefix_status(), false),
            Mode::ConfirmKill => (
                format!(" Kill {name}? Its container and every process in it end. (y/n)"),
                true,
            ),
            Mode::ConfirmQuit => (
                " Quit? e: end the sessions started here · d: leave them running · any other key: stay".to_string(),
                true,
            ),
            Mode::Help => (" Any key closes the help.".to_string(), false),
            Mode::NewSession(_) => (
                " New session: Tab next field · Enter start · Esc cancel".to_string(),
                false,
            ),
            Mode::Scroll(n) => (
                format!(
                    " Scrollback ({n} lines up): Up/Down PgUp/PgDn g/G · q or Esc: back to the shell"
                ),
                false,
            ),
        }
    }

    /// The session list's rows.
    pub fn rows(&self) -> Vec<SessionRow> {
        self.sessions
            .iter()
            .map(|s| {
                let (state, uptime) = match &s.state {
                    State::Running { .. } if s.foreground => {
                        ("running (foreground)".to_string(), s.started.elapsed())
                    }
                    State::Running { .. } if s.restart_count > 0 => (
                        format!("running (restarts {})", s.restart_count),
                        s.started.elapsed(),
                    ),
                    State::Running { .. } => ("running".to_string(), s.started.elapsed()),
                    State::Exited { code, after } if s.oom_killed() => {
                        (format!("OOM-killed ({code}){}", ended_ago(s)), *after)
                    }
                    State::Exited { code, after } => {
                        (format!("{}{}", describe_exit(*code), ended_ago(s)), *after)
                    }
                };
                let sample = self
                    .usage
                    .get(&s.id)
                    .filter(|_| s.is_running())
                    .map(|u| u.last)
                    .unwrap_or_default();
                SessionRow {
                    name: s.name.clone(),
                    running: s.is_running(),
                    state,
                    hostname: s.spec.hostname.clone(),
                    init_pid: sample.init_pid,
                    uptime,
                    cpu_percent: sample.cpu_percent,
                    memory: sample.usage.memory,
                    memory_limit: sample.usage.memory_limit,
                    pids: sample.usage.pids,
                }
            })
            .collect()
    }

    /// The selected session's usage panel.
    fn usage_view(&self) -> UsageView {
        let Some(u) = self
            .selected()
            .filter(|s| s.is_running())
            .and_then(|s| self.usage.get(&s.id))
        else {
            return UsageView::default();
        };
        UsageView {
            cpu_percent: u.last.cpu_percent,
            memory: u.last.usage.memory,
            memory_limit: u.last.usage.memory_limit,
            pids: u.last.usage.pids,
            history: u.history.iter().copied().collect(),
        }
    }

    /// Draws everything.
    pub fn draw(&self, frame: &mut Frame) {
        let area = frame.area();
        if ui::too_small(area) {
            ui::draw_too_small(frame, &self.prefix.to_string());
            return;
        }
        let areas = Areas::new(area, self.sessions.len(), self.show_inspector);
        ui::sessions::render(frame, areas.sessions, &self.rows(), self.selected);
        let focused = matches!(self.mode, Mode::Normal | Mode::Scroll(_));
        match self.selected() {
            Some(s) => {
                let parser = s.screen();
                let title = format!(
                    "{}: {} @ {} [{}]",
                    self.selected + 1,
                    s.name,
                    s.spec.hostname,
                    s.spec.command.join(" ")
                );
                let scrolled = parser.screen().scrollback();
                ui::terminal::render(
                    frame,
                    areas.terminal,
                    parser.screen(),
                    &title,
                    focused,
                    scrolled,
                );
            }
            None => ui::terminal::render_empty(
                frame,
                areas.terminal,
                &format!("{} c starts a container shell.", self.prefix),
            ),
        }
        if let Some(area) = areas.inspector {
            let [usage_area, inspector_area] =
                Layout::vertical([Constraint::Length(5), Constraint::Min(0)]).areas(area);
            ui::usage::render(frame, usage_area, &self.usage_view());
            let ins = self
                .inspection
                .as_ref()
                .filter(|(id, _)| Some(*id) == self.selected().map(|s| s.id));
            let mounts = self
                .selected()
                .map(|s| mounts_of(&s.spec))
                .unwrap_or_default();
            ui::inspector::render(
                frame,
                inspector_area,
                ins.map(|(_, i)| i),
                self.host_view,
                &mounts,
            );
        }
        let (text, alert) = self.status();
        ui::status::render(frame, areas.status, &text, alert);
        match &self.mode {
            Mode::Help => ui::help::render(frame, area, &self.prefix.to_string()),
            Mode::NewSession(form) => ui::form::render(frame, area, form),
            _ => {}
        }
    }

    /// Ends and removes every container this dashboard started, and its exec shells.
    pub fn end_mine(&self) {
        for s in self.sessions.iter().filter(|s| s.exec) {
            s.kill();
        }
        for s in self.sessions.iter().filter(|s| s.mine && !s.exec) {
            if let Ok(record) = store::load(&s.container) {
                let _ = ops::remove(&record, true);
            }
        }
    }

    /// Ends the exec shells (they live on this dashboard's ptys); containers keep running.
    pub fn detach(&self) {
        for s in self.sessions.iter().filter(|s| s.exec) {
            s.kill();
        }
    }
}

/// ", 3 minutes ago" after an exit, from the record's time of it.
fn ended_ago(s: &Session) -> String {
    s.finished
        .map(|ms| format!(", {} ago", crate::state::record::ago(ms)))
        .unwrap_or_default()
}

/// The inspector's lines for a container's root and volumes.
fn mounts_of(spec: &ContainerSpec) -> Vec<String> {
    use crate::runtime::volumes::Volume;
    let root = match &spec.rootfs {
        None if spec.hardening.host_writable() => "root  the host's / (read-write)".to_string(),
        None => "root  the host's / (read-only)".to_string(),
        Some(r) => {
            let how = match r.mode {
                Writes::Overlay => "overlay",
                Writes::Persist => "persistent",
                Writes::ReadOnly => "read-only",
            };
            format!("root  {} ({how})", r.dir.display())
        }
    };
    let volumes = spec.volumes.iter().map(|v| match v {
        Volume::Bind {
            src,
            dst,
            read_only,
        } => {
            format!(
                "vol   {} <- {}{}",
                dst.display(),
                src.display(),
                if *read_only { " (ro)" } else { "" }
            )
        }
        Volume::Tmpfs {
            dst,
            read_only,
            data,
            ..
        } => format!(
            "tmpfs {} {data}{}",
            dst.display(),
            if *read_only { " (ro)" } else { "" }
        ),
    });
    std::iter::once(root).chain(volumes).collect()
}
