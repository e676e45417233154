//! What the dashboard draws from its state: the status line, the session rows, the panels.

use super::{App, Mode};
use crate::runtime::ContainerSpec;
use crate::session::{Session, State};
use crate::spec::rootfs::Writes;
use crate::tui::commands;
use crate::tui::paint::Painted;
use crate::tui::ui;
use crate::tui::ui::sessions::SessionRow;
use crate::tui::ui::usage::UsageView;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};

impl App {
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
            Mode::Normal => match self.selected().map(|s| &s.state) {
                // The line follows the selected session's state: an ended one takes r and x.
                Some(State::Exited { .. }) => (
                    format!(
                        " {name}: {} · {p} r restart · {p} x remove · {p} c new · {p} ? help",
                        self.selected().and_then(Session::ending).unwrap_or_default()
                    ),
                    false,
                ),
                _ => (commands::everyday_status(&p.to_string()), false),
            },
            Mode::Prefix => (commands::prefix_status(), false),
            Mode::ConfirmKill => (
                format!(
                    " Kill {name}{}? Its container and every process in it end. (y/n)",
                    self.started_elsewhere()
                ),
                true,
            ),
            Mode::ConfirmRemove => (
                format!(
                    " Remove {name}{}? Its container and its writable layer go. (y/n)",
                    self.started_elsewhere()
                ),
                true,
            ),
            Mode::ConfirmQuit => (
                " Quit? e: end the sessions started here · d: leave them running · any other key: stay".to_string(),
                true,
            ),
            Mode::Help(_) => (
                " ↑/↓ scroll the help · any other key closes it".to_string(),
                false,
            ),
            Mode::NewSession(_) => (
                " New session: Tab next field · Enter start · Esc cancel".to_string(),
                false,
            ),
            Mode::Commit(_) => (
                format!(" Commit {name}: Tab next field · Enter commit · Esc cancel"),
                false,
            ),
            Mode::Images(_) => (
                " Images: ↑/↓ pick · Enter: a new session of it · Esc: back".to_string(),
                false,
            ),
            Mode::Copy(copy) => match &copy.typing {
                Some((forward, text)) => (
                    format!(
                        " Search {}: {text}█  (Enter finds · Esc cancels)",
                        if *forward { "down" } else { "up" }
                    ),
                    true,
                ),
                None => (
                    format!(
                        " Copy mode ({} lines up): arrows/hjkl PgUp/PgDn g/G · / ? n N search · {} · q leave",
                        self.selected().map_or(0, |s| s.screen().scrolled()),
                        if copy.anchor.is_some() { "y/Enter copy · Esc unselect" } else { "v select" }
                    ),
                    false,
                ),
            },
            Mode::Rename(text) => (
                format!(" Rename {name} to: {text}█  (Enter renames · Esc cancels)"),
                true,
            ),
            Mode::Processes => (
                " Processes: ↑/↓ PgUp/PgDn Home/End · s sort (PID, CPU, memory) · k signal · Esc or Tab: back to the shell".to_string(),
                false,
            ),
            Mode::ConfirmSignal(process, command) => (
                format!(
                    " Signal PID {} ({command})? t: SIGTERM · 9: SIGKILL · any other key: no",
                    process.pid
                ),
                true,
            ),
            Mode::Buffers(_) => (
                " Copies: Up/Down, Enter pastes · d drops · Esc: back".to_string(),
                false,
            ),
            Mode::Choose(_) => (
                " Pick a session: Up/Down, Enter or its number · Esc: back".to_string(),
                false,
            ),
        }
    }

    /// Said when asking about a container this dashboard's user did not start.
    fn started_elsewhere(&self) -> &'static str {
        match self.selected().is_some_and(Session::mine) {
            true => "",
            false => " (not started from your dashboard)",
        }
    }

    /// The session list's rows.
    pub fn rows(&self) -> Vec<SessionRow> {
        let shown = self.panes().map(|p| p.shown).unwrap_or_default();
        self.sessions
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let (state, uptime) = match &s.state {
                    State::Running { .. } if s.is_foreground() => {
                        ("running (foreground)".to_string(), s.started.elapsed())
                    }
                    State::Running { .. } if s.restart_count > 0 => (
                        format!("running (restarts {})", s.restart_count),
                        s.started.elapsed(),
                    ),
                    State::Running { .. } => match &s.health {
                        Some(h) if h == "starting" => (
                            "running (health: starting)".to_string(),
                            s.started.elapsed(),
                        ),
                        Some(h) => (format!("running ({h})"), s.started.elapsed()),
                        None => ("running".to_string(), s.started.elapsed()),
                    },
                    State::Exited { after, .. } => (
                        format!("{}{}", s.ending().unwrap_or_default(), ended_ago(s)),
                        *after,
                    ),
                    State::Pulling { .. } => ("pulling its image".to_string(), s.started.elapsed()),
                };
                let sample = self
                    .usage
                    .get(&s.id)
                    .filter(|_| s.is_running())
                    .map(|u| u.last.clone())
                    .unwrap_or_default();
                SessionRow {
                    mark: (i != self.selected && !shown.contains(&s.id))
                        .then(|| s.mark())
                        .flatten(),
                    pane: shown.iter().position(|id| *id == s.id).map(|p| p + 1),
                    name: s.name.clone(),
                    running: s.is_running(),
                    state,
                    hostname: self.hostname_of(s),
                    ip: match (sample.ip, s.spec.network.bridge()) {
                        (Some(ip), _) => ip.to_string(),
                        (None, Some(_)) => "-".into(),
                        (None, None) => s.spec.network.mode_shown(),
                    },
                    image: match &s.state {
                        State::Pulling { reference } => reference.clone(),
                        _ => s.image_shown(),
                    },
                    ports: sample.ports.clone(),
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

    /// The session's hostname as its container sees it now (`hostname foo` inside shows),
    /// else the one it was started with.
    pub(super) fn hostname_of(&self, s: &Session) -> String {
        self.usage
            .get(&s.id)
            .filter(|_| s.is_running())
            .and_then(|u| u.last.hostname.clone())
            .unwrap_or_else(|| s.spec.hostname.clone())
    }

    /// The inspector folded to a line: the selected container's hostname beside the host's,
    /// its PID 1 on the host, its CPU and memory.
    fn summary(&self) -> String {
        let p = self.prefix;
        let Some(s) = self.selected() else {
            return format!(" {p} i: inspector");
        };
        let u = self.usage.get(&s.id).filter(|_| s.is_running());
        // The host's name as the inspector last read it: nothing is read on the drawing path.
        let host = self
            .inspection
            .as_ref()
            .filter(|(id, _)| *id == s.id)
            .map_or("?", |(_, ins)| ins.host_hostname.as_str());
        let mut parts = vec![format!(" {} (host: {host})", self.hostname_of(s))];
        if let Some(pid) = u.and_then(|u| u.last.init_pid) {
            parts.push(format!("PID 1 = {pid} on the host"));
        }
        if let Some(cpu) = u.and_then(|u| u.last.cpu_percent) {
            parts.push(format!("CPU {cpu:.0}%"));
        }
        if let Some(u) = u.filter(|u| u.last.usage.memory.is_some()) {
            parts.push(ui::sessions::format_memory(
                u.last.usage.memory,
                u.last.usage.memory_limit,
            ));
        }
        parts.push(format!("{p} i: inspector"));
        parts.join(" · ")
    }

    /// The selected session's usage panel.
    pub(super) fn usage_view(&self) -> UsageView {
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

    /// Draws everything, on a blank frame (as ratatui's `Terminal::draw` gives one).
    pub fn draw(&self, frame: &mut Frame) {
        if let Some(at) = self.paint(frame, true).cursor {
            frame.set_cursor_position(at);
        }
    }

    /// What the frame's layout depends on (the window, the panels' places, the mode): a
    /// frame whose key differs from the last is drawn whole ([`crate::tui::paint`]). `None`
    /// while an overlay is open: it covers panels drawn under it, so each of its frames is
    /// drawn whole.
    pub fn layout(&self, area: ratatui::layout::Rect) -> Option<u64> {
        let overlay = matches!(
            self.mode,
            Mode::Help(_)
                | Mode::NewSession(_)
                | Mode::Commit(_)
                | Mode::Images(_)
                | Mode::Choose(_)
                | Mode::Buffers(_)
        );
        (!overlay).then(|| ui::key_of((area, self.areas(area), ui::too_small(area))))
    }

    /// Draws the frame: whole on a blank buffer, or (not `whole`) over the last frame, where
    /// only what changed is drawn again. Says where it drew and where the cursor goes.
    pub fn paint(&self, frame: &mut Frame, whole: bool) -> Painted {
        let area = frame.area();
        let mut painted = Painted::default();
        if ui::too_small(area) {
            ui::draw_too_small(frame, &self.prefix.to_string());
            painted.damage.push(area);
            return painted;
        }
        let areas = self.areas(area);
        // Copy mode holds its session's lines where they are.
        let copying = matches!(self.mode, Mode::Copy(_));
        for (i, s) in self.sessions.iter().enumerate() {
            s.hold(copying && i == self.selected);
        }
        // A session shown is looked at: its activity mark goes, and its history is fetched.
        if let Some(s) = self.selected() {
            s.seen();
            s.want_history();
        }
        let rows = self.rows();
        painted.damage.extend(self.list_cache.borrow_mut().draw(
            frame,
            areas.sessions,
            ui::key_of((&rows, self.selected)),
            whole,
            |frame| ui::sessions::render(frame, areas.sessions, &rows, self.selected),
        ));
        let focused = matches!(self.mode, Mode::Normal | Mode::Copy(_));
        // Its positions as of this frame's text (history may have come since the last key).
        let copy = match &self.mode {
            Mode::Copy(copy) => {
                let mut copy = copy.as_ref().clone();
                copy.rebase(self.first_line());
                Some(copy)
            }
            _ => None,
        };
        let pane = self.focused_pane(&areas);
        let selected = self.selected().map(|s| s.id);
        let shown = self.panes().map(|p| p.shown).unwrap_or_default();
        // A session not in a pane this frame is drawn whole when it is again: its place
        // holds another's cells by then.
        self.pane_keys
            .borrow_mut()
            .retain(|id, _| shown.contains(id) || Some(*id) == selected);
        for (at, id) in shown.iter().enumerate() {
            if Some(*id) == selected {
                continue;
            }
            if let Some(i) = self.sessions.iter().position(|s| s.id == *id) {
                self.sessions[i].seen();
                self.sessions[i].want_history();
                let drawn = self.draw_session(frame, areas.pane(at), i, false, None, whole);
                painted.damage.extend(drawn.damage);
            }
        }
        match self.selected() {
            Some(_) => {
                let drawn =
                    self.draw_session(frame, pane, self.selected, focused, copy.as_ref(), whole);
                painted.damage.extend(drawn.damage);
                painted.cursor = drawn.cursor;
            }
            None => {
                ui::terminal::render_empty(
                    frame,
                    areas.terminal,
                    &format!("{} c starts a container shell.", self.prefix),
                );
                painted.damage.push(areas.terminal);
            }
        }
        if let Some(area) = areas.inspector {
            let [usage_area, inspector_area] = inspector_parts(area);
            let usage = self.usage_view();
            painted.damage.extend(self.usage_cache.borrow_mut().draw(
                frame,
                usage_area,
                ui::key_of(&usage),
                whole,
                |frame| ui::usage::render(frame, usage_area, &usage),
            ));
            let ins = self
                .inspection
                .as_ref()
                .filter(|(id, _)| Some(*id) == self.selected().map(|s| s.id));
            let mounts = self
                .selected()
                .map(|s| mounts_of(&s.spec))
                .unwrap_or_default();
            let list = ui::inspector::ProcessList {
                focused: matches!(self.mode, Mode::Processes | Mode::ConfirmSignal(..)),
                ..self.processes
            };
            let key = ui::key_of((
                self.inspection_drawn,
                ins.map(|(id, _)| *id),
                self.host_view,
                &mounts,
                list,
            ));
            painted
                .damage
                .extend(self.inspector_cache.borrow_mut().draw(
                    frame,
                    inspector_area,
                    key,
                    whole,
                    |frame| {
                        ui::inspector::render(
                            frame,
                            inspector_area,
                            ins.map(|(_, i)| i),
                            self.host_view,
                            &mounts,
                            &list,
                        )
                    },
                ));
        }
        if let Some(area) = areas.summary {
            crate::screen::clear(frame.buffer_mut(), area);
            ui::status::render_plain(frame, area, &self.summary());
            painted.damage.push(area);
        }
        let (text, alert) = self.status();
        let fitted = matches!(self.mode, Mode::Normal) && !alert;
        painted.damage.extend(self.status_cache.borrow_mut().draw(
            frame,
            areas.status,
            ui::key_of((&text, alert, fitted)),
            whole,
            |frame| {
                let text = match fitted {
                    true => commands::fit(&text, usize::from(area.width)),
                    false => text.clone(),
                };
                ui::status::render(frame, areas.status, &text, alert)
            },
        ));
        match &self.mode {
            Mode::Help(top) => ui::help::render(frame, area, &self.prefix.to_string(), *top),
            Mode::NewSession(form) => ui::form::render(frame, area, form),
            Mode::Commit(form) => ui::commit::render(frame, area, form),
            Mode::Images(list) => ui::images::render(frame, area, list),
            Mode::Choose(row) => ui::sessions::render_chooser(frame, area, &self.rows(), *row),
            Mode::Buffers(row) => {
                let buffers: Vec<&str> = self.buffers.iter().map(String::as_str).collect();
                ui::buffers::render(frame, area, &buffers, *row)
            }
            _ => {}
        }
        painted
    }
}

impl App {
    /// Session `index` in `pane`: its screen, title, and the way on when it has ended; all
    /// of it when `whole` or when its title or place changed, else the rows its screen
    /// changed.
    fn draw_session(
        &self,
        frame: &mut Frame,
        pane: ratatui::layout::Rect,
        index: usize,
        focused: bool,
        copy: Option<&crate::tui::copy::Copy>,
        whole: bool,
    ) -> ui::terminal::PaneDrawn {
        let s = &self.sessions[index];
        let mut title = format!(
            "{}: {} @ {} [{}]",
            index + 1,
            s.name,
            self.hostname_of(s),
            s.spec.command.join(" ")
        );
        // Every pane says first (a narrow pane cuts its title's end) that what is typed goes
        // to each. A zoomed one says so too.
        if self.panes().is_some_and(|p| p.synchronized) {
            title.insert_str(0, "[sync] ");
        }
        if self.zoomed {
            title.insert_str(0, &format!("[zoom: {} z back] ", self.prefix));
        }
        let ending = s.ending();
        let mut screen = s.screen();
        let key = ui::key_of((
            pane,
            &title,
            focused,
            screen.scrolled(),
            &ending,
            copy.is_some(),
        ));
        // An ended session's banner lies over its last row: drawn whole, as it changes
        // little.
        let again =
            whole || ending.is_some() || self.pane_keys.borrow_mut().insert(s.id, key) != Some(key);
        let drawn = ui::terminal::render(
            frame.buffer_mut(),
            pane,
            &mut screen,
            &title,
            focused,
            copy,
            again,
        );
        if let Some(ending) = ending {
            // The screen stays as the program left it; the way on is said on it.
            let p = self.prefix;
            let text = format!(" {ending} — {p} r restart · {p} x remove ");
            ui::terminal::render_banner(frame, pane, &text);
        }
        drawn
    }
}

/// The inspector's place split: the usage panel on top, the inspector's panels under it. A
/// short place (the inspector below the shell in a small window) gives the usage panel's
/// rows to the process list: the list row's usage columns say the same.
pub(super) fn inspector_parts(area: ratatui::layout::Rect) -> [ratatui::layout::Rect; 2] {
    let usage = if area.height >= 5 + 8 { 5 } else { 0 };
    Layout::vertical([Constraint::Length(usage), Constraint::Min(0)]).areas(area)
}

/// ", 3 minutes ago" after an exit, from the record's time of it.
fn ended_ago(s: &Session) -> String {
    s.finished
        .map(|ms| format!(", {} ago", crate::state::record::ago(ms)))
        .unwrap_or_default()
}

/// `sha256:0123456789ab` of a digest.
fn short_digest(digest: &str) -> String {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    format!("sha256:{}", &hex[..hex.len().min(12)])
}

/// The inspector's lines for a container's root and volumes.
pub(super) fn mounts_of(spec: &ContainerSpec) -> Vec<String> {
    use crate::spec::volume::Volume;
    let root = match &spec.rootfs {
        Some(r) if spec.image.is_some() => {
            let image = spec.image.as_ref().expect("checked");
            let how = if r.mode == Writes::ReadOnly {
                "read-only"
            } else {
                "overlay"
            };
            format!(
                "image {} {} ({}, {}, {how})",
                image.reference,
                short_digest(&image.id),
                crate::printable::counted(image.layers.len(), "layer"),
                crate::spec::limits::decimal(image.size),
            )
        }
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
            ..
        } => {
            format!(
                "vol   {} <- {}{}",
                dst.display(),
                src.display(),
                if *read_only { " (ro)" } else { "" }
            )
        }
        Volume::Named {
            name,
            dst,
            read_only,
        } => format!(
            "vol   {} <- {name}{}",
            dst.display(),
            if *read_only { " (ro)" } else { "" }
        ),
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
