//! What each key, paste and click does to the dashboard's state.

use super::{App, Mode};
use crate::session::Session;
use crate::tui::commands::{self, Command};
use crate::tui::copy::{Copy, Outcome};
use crate::tui::keys;
use crate::tui::ui::form::{FormView, IMAGE, LABELS};
use crate::tui::ui::{self, Areas};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};

impl App {
    pub(super) fn set_scroll(&mut self, lines: usize) {
        if let Some(s) = self.selected() {
            s.screen().scroll_to(lines);
        }
    }

    /// Scrolls the selected session's view by `delta` lines (positive: back in time), and
    /// returns the offset the emulator settled on.
    pub(super) fn scroll_by(&mut self, delta: isize) -> usize {
        let Some(s) = self.selected() else { return 0 };
        s.screen().scroll_by(delta)
    }

    /// Acts on `key`; returns whether anything drawn changed. A key that only went to the
    /// shell changes nothing until its echo comes, and drawing a frame for it would make the
    /// echo wait for that frame.
    pub fn handle_key(&mut self, key: KeyEvent) -> bool {
        let had_message = self.message.take().is_some();
        let mut forwarded = false;
        match std::mem::replace(&mut self.mode, Mode::Normal) {
            Mode::Normal => forwarded = self.key_normal(key),
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
            Mode::Copy(copy) => self.key_copy(copy, key),
            Mode::Rename(name) => self.key_rename(name, key),
            Mode::Choose(row) => self.key_choose(row, key),
            Mode::Processes => self.key_processes(key),
            Mode::ConfirmSignal(process, _) => self.signal_process(process, key),
        }
        !forwarded || had_message || self.message.is_some() || self.mode != Mode::Normal
    }

    /// Returns whether the key went to the shell.
    fn key_normal(&mut self, key: KeyEvent) -> bool {
        if self.prefix.matches(&key) {
            self.mode = Mode::Prefix;
            return false;
        }
        let p = self.prefix;
        let Some(session) = self.selected_mut() else {
            return false;
        };
        if !session.attached() {
            // Typed keys reach nothing: say why rather than swallow them.
            if !session.is_running() {
                self.message = Some(format!(
                    " {} has exited: {p} r restarts it · {p} x removes it",
                    session.name
                ));
            }
            return false;
        }
        let app_cursor = session.screen().vt().application_cursor();
        match keys::encode(&key, app_cursor) {
            Some(bytes) => {
                session.write(&bytes);
                true
            }
            None => false,
        }
    }

    fn key_prefix(&mut self, key: KeyEvent) {
        let p = self.prefix;
        let command = match commands::command(key.code) {
            // Prefix twice: back to the session selected before, as screen's C-a C-a.
            _ if self.prefix.matches(&key) => Command::Last,
            Some(command) => command,
            None => {
                self.message = Some(format!(
                    " {p} {}: no such command · {p} ? lists them",
                    keys::describe(&key)
                ));
                return;
            }
        };
        match command {
            Command::New => {
                self.mode = Mode::NewSession(Box::new(FormView {
                    defaults: self.defaults(),
                    images: App::local_images(),
                    ..FormView::default()
                }));
            }
            Command::Next if !self.sessions.is_empty() => {
                self.select((self.selected + 1) % self.sessions.len())
            }
            Command::Previous if !self.sessions.is_empty() => {
                self.select((self.selected + self.sessions.len() - 1) % self.sessions.len())
            }
            Command::Select(n) if n >= self.sessions.len() => {
                self.message = Some(format!(" No session {}", n + 1));
            }
            Command::Select(n) => self.select(n),
            Command::Last => match self
                .last
                .and_then(|id| self.sessions.iter().position(|s| s.id == id))
            {
                Some(i) => self.select(i),
                None => self.message = Some(" No session was selected before this one".into()),
            },
            Command::Choose if !self.sessions.is_empty() => self.mode = Mode::Choose(self.selected),
            Command::Rename => match self.selected() {
                Some(s) if s.exec => {
                    self.message = Some(" An exec shell has no name of its own".into())
                }
                Some(s) => self.mode = Mode::Rename(s.name.clone()),
                None => {}
            },
            Command::Kill if self.selected().is_some_and(Session::is_running) => {
                self.mode = Mode::ConfirmKill
            }
            Command::Kill => {
                if let Some(s) = self.selected() {
                    self.message = Some(format!(
                        " {} is not running: {p} r restarts it · {p} x removes it",
                        s.name
                    ));
                }
            }
            Command::Exec => self.exec_selected(),
            Command::Restart => self.restart_selected(),
            Command::Remove => self.remove_selected(),
            Command::Inspector => self.show_inspector = !self.show_inspector,
            Command::HostView => self.host_view = !self.host_view,
            Command::Log => {
                if let Some(s) = self.selected() {
                    let path = std::path::PathBuf::from(format!(
                        "my-container-tui-{}.log",
                        s.name.replace('/', "-")
                    ));
                    self.message = Some(match s.toggle_log(&path) {
                        Ok(true) => format!(" Logging {} to {}", s.name, path.display()),
                        Ok(false) => format!(" Stopped logging {}", s.name),
                        Err(e) => format!(" Cannot log to {}: {e}", path.display()),
                    });
                }
            }
            Command::SplitSideBySide | Command::SplitStacked => {
                let how = match command {
                    Command::SplitStacked => crate::tui::ui::Split::Stacked,
                    _ => crate::tui::ui::Split::SideBySide,
                };
                let current = self.selected().map(|s| s.id);
                // The other pane: the session selected before, else the next one.
                let other = self
                    .last
                    .filter(|id| Some(*id) != current && self.sessions.iter().any(|s| s.id == *id))
                    .or_else(|| {
                        let n = self.sessions.len();
                        (n > 1).then(|| self.sessions[(self.selected + 1) % n].id)
                    });
                match other {
                    Some(other) => {
                        self.split = Some(crate::tui::app::SplitView {
                            how,
                            other,
                            focus_first: true,
                        })
                    }
                    None => {
                        self.message =
                            Some(format!(" A split shows two sessions: {p} c starts another"))
                    }
                }
            }
            Command::Unsplit => self.split = None,
            Command::Focus if self.split().is_some_and(|s| s.focus_first) => self.swap_focus(),
            Command::Focus if self.split().is_some() => {
                self.swap_focus();
                if self.inspection.is_some() {
                    self.mode = Mode::Processes;
                }
            }
            Command::Focus if self.inspection.is_some() => self.mode = Mode::Processes,
            Command::Focus => {
                self.message =
                    Some(" No process list: the inspector shows a running session".into())
            }
            Command::Scrollback if self.selected().is_some() => {
                let lines = self
                    .selected()
                    .map(|s| s.screen().text_lines())
                    .unwrap_or_default();
                self.mode = Mode::Copy(Box::new(Copy::at_bottom(&lines)));
            }
            Command::Paste => match (self.paste_buffer.clone(), self.selected_mut()) {
                (Some(text), Some(s)) if s.attached() => {
                    let bracketed = s.screen().vt().bracketed_paste();
                    s.write(&keys::paste(&text, bracketed));
                }
                (None, _) => {
                    self.message = Some(format!(" Nothing copied yet: {p} [ then v and y copy"))
                }
                _ => {}
            },
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
            Command::Next | Command::Previous | Command::Choose | Command::Scrollback => {
                self.message = Some(format!(" No sessions: {p} c starts one"))
            }
            Command::Cancel => {}
        }
    }

    fn key_form(&mut self, mut form: Box<FormView>, key: KeyEvent) {
        match key.code {
            KeyCode::Esc => return,
            KeyCode::Enter => match self.start_session(form.texts()) {
                Ok(()) => return,
                Err(e) => form.error = Some(e),
            },
            KeyCode::Tab | KeyCode::Down => form.focus = (form.focus + 1) % LABELS.len(),
            KeyCode::BackTab | KeyCode::Up => {
                form.focus = (form.focus + LABELS.len() - 1) % LABELS.len()
            }
            KeyCode::Left | KeyCode::Right if form.focus == IMAGE => {
                form.pick_image(key.code == KeyCode::Right)
            }
            KeyCode::Left => form.focused().left(),
            KeyCode::Right => form.focused().right(),
            KeyCode::Home => form.focused().home(),
            KeyCode::End => form.focused().end(),
            KeyCode::Backspace => form.focused().backspace(),
            KeyCode::Delete => form.focused().delete(),
            KeyCode::Char(c) if key.modifiers.contains(KeyModifiers::CONTROL) => match c {
                'u' => form.focused().kill_before(),
                'w' => form.focused().kill_word(),
                'k' => form.focused().kill_after(),
                'a' => form.focused().home(),
                'e' => form.focused().end(),
                _ => {}
            },
            KeyCode::Char(c) => form.focused().insert(c.encode_utf8(&mut [0; 4])),
            _ => {}
        }
        self.mode = Mode::NewSession(form);
    }

    fn key_copy(&mut self, mut copy: Box<Copy>, key: KeyEvent) {
        let page = usize::from(self.pty_size.0.max(1));
        let c = match key.code {
            KeyCode::Up => 'k',
            KeyCode::Down => 'j',
            KeyCode::Left => 'h',
            KeyCode::Right => 'l',
            KeyCode::PageUp => '\x02',
            KeyCode::PageDown => '\x06',
            KeyCode::Char('b') if key.modifiers.contains(KeyModifiers::CONTROL) => '\x02',
            KeyCode::Char('f') if key.modifiers.contains(KeyModifiers::CONTROL) => '\x06',
            KeyCode::Home => 'g',
            KeyCode::End => 'G',
            KeyCode::Enter => '\n',
            KeyCode::Esc => '\x1b',
            KeyCode::Backspace => '\x08',
            KeyCode::Char(c) => c,
            _ => return self.mode = Mode::Copy(copy),
        };
        let lines = match self.selected() {
            Some(s) => s.screen().text_lines(),
            None => return,
        };
        match copy.key(c, &lines, page) {
            Outcome::Leave => {
                self.set_scroll(0);
                return;
            }
            Outcome::Copied(text) => return self.copied(text),
            Outcome::NotFound(text) => self.message = Some(format!(" Not found: {text}")),
            Outcome::Stay => {}
        }
        self.follow_cursor(copy.cursor.0);
        self.mode = Mode::Copy(copy);
    }

    /// Copy mode copied `text`: to the clipboard and the paste buffer; back to the shell.
    fn copied(&mut self, text: String) {
        self.message = Some(format!(
            " Copied {} characters: {} ] pastes them",
            text.chars().count(),
            self.prefix
        ));
        self.paste_buffer = Some(text.clone());
        self.clipboard = Some(text);
        self.set_scroll(0);
        self.mode = Mode::Normal;
    }

    /// Scrolls the view so that text line `line` (0: the oldest line of history) is shown.
    fn follow_cursor(&mut self, line: usize) {
        let Some(s) = self.selected() else { return };
        let mut screen = s.screen();
        let history = screen.history_len();
        let rows = usize::from(screen.vt().size().0.get());
        let first = history - screen.scrolled().min(history);
        let first = if line < first {
            line
        } else if line >= first + rows {
            line + 1 - rows
        } else {
            first
        };
        screen.scroll_to(history.saturating_sub(first));
    }

    /// The text line and column under a screen cell of the terminal pane's inside.
    fn text_pos(&self, col: u16, row: u16) -> Option<crate::tui::copy::Pos> {
        let s = self.selected()?;
        let screen = s.screen();
        let history = screen.history_len();
        let first = history - screen.scrolled().min(history);
        Some((first + usize::from(row), usize::from(col)))
    }

    /// The process selected in the inspector's list, in the order drawn.
    fn selected_process(&self) -> Option<(crate::state::Process, String)> {
        let (_, ins) = self.inspection.as_ref()?;
        let rows = crate::tui::ui::inspector::ordered(ins, self.host_view, self.processes.sort);
        let p = rows.get(self.processes.selected.min(rows.len().saturating_sub(1)))?;
        Some((
            crate::state::Process {
                pid: p.host_pid,
                start: p.start,
            },
            p.command.clone(),
        ))
    }

    fn key_processes(&mut self, key: KeyEvent) {
        let count = self.inspection.as_ref().map_or(0, |(_, ins)| {
            crate::tui::ui::inspector::ordered(ins, self.host_view, self.processes.sort).len()
        });
        let last = count.saturating_sub(1);
        let list = &mut self.processes;
        let page = 10;
        match key.code {
            KeyCode::Esc | KeyCode::Tab | KeyCode::Char('q') => return,
            KeyCode::Up => list.selected = list.selected.min(last).saturating_sub(1),
            KeyCode::Down => list.selected = (list.selected + 1).min(last),
            KeyCode::PageUp => list.selected = list.selected.min(last).saturating_sub(page),
            KeyCode::PageDown => list.selected = (list.selected + page).min(last),
            KeyCode::Home | KeyCode::Char('g') => list.selected = 0,
            KeyCode::End | KeyCode::Char('G') => list.selected = last,
            KeyCode::Char('s') => list.sort = list.sort.next(),
            KeyCode::Char('k') => {
                if let Some((process, command)) = self.selected_process() {
                    self.mode = Mode::ConfirmSignal(process, command);
                    return;
                }
            }
            _ => {}
        }
        self.mode = Mode::Processes;
    }

    /// After the question: the signal chosen goes to the process if it is still the one
    /// listed (its PID not reused since).
    fn signal_process(&mut self, process: crate::state::Process, key: KeyEvent) {
        use nix::sys::signal::Signal;
        let signal = match key.code {
            KeyCode::Char('t' | 'T' | 'y' | 'Y') => Signal::SIGTERM,
            KeyCode::Char('9') => Signal::SIGKILL,
            _ => {
                self.mode = Mode::Processes;
                return;
            }
        };
        self.message = Some(match process.alive() {
            true => match nix::sys::signal::kill(nix::unistd::Pid::from_raw(process.pid), signal) {
                Ok(()) => format!(" Sent {} to PID {}", signal.as_str(), process.pid),
                Err(e) => format!(" Cannot signal PID {}: {e}", process.pid),
            },
            false => format!(" PID {} has already ended", process.pid),
        });
        self.mode = Mode::Processes;
    }

    fn key_rename(&mut self, mut name: String, key: KeyEvent) {
        match key.code {
            KeyCode::Esc => return,
            KeyCode::Enter => {
                if let Err(e) = self.rename_selected(name.trim()) {
                    self.message = Some(format!(" Cannot rename: {e:#}"));
                }
                return;
            }
            KeyCode::Backspace => {
                name.pop();
            }
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => name.clear(),
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => name.push(c),
            _ => {}
        }
        self.mode = Mode::Rename(name);
    }

    fn key_choose(&mut self, row: usize, key: KeyEvent) {
        let n = self.sessions.len().max(1);
        let row = match key.code {
            KeyCode::Esc | KeyCode::Char('q') => return,
            KeyCode::Enter => {
                self.select(row);
                return;
            }
            KeyCode::Char(d @ '0'..='9') => {
                let i = d.to_digit(10).unwrap_or(0) as usize;
                self.select(if i == 0 { 9 } else { i - 1 });
                return;
            }
            KeyCode::Up | KeyCode::Char('k') => (row + n - 1) % n,
            KeyCode::Down | KeyCode::Char('j') => (row + 1) % n,
            KeyCode::Home | KeyCode::Char('g') => 0,
            KeyCode::End | KeyCode::Char('G') => n - 1,
            _ => row,
        };
        self.mode = Mode::Choose(row);
    }

    pub fn handle_paste(&mut self, text: &str) {
        match &mut self.mode {
            Mode::NewSession(form) => form.focused().insert(text.trim_end_matches('\n')),
            Mode::Normal => {
                if let Some(s) = self.selected_mut() {
                    let bracketed = s.screen().vt().bracketed_paste();
                    s.write(&keys::paste(text, bracketed));
                }
            }
            _ => {}
        }
    }

    /// A click in the list selects; in the terminal pane, what the program there asked for:
    /// its mouse reports (in its own coordinates) when it turned reporting on, arrow keys for
    /// the wheel on the alternate screen (less, vim, as tmux does), else the wheel scrolls
    /// back through history.
    pub fn handle_mouse(&mut self, mouse: MouseEvent, areas: &Areas) {
        // A click in the split's other pane moves the focus there first.
        if let (Some(_), Some(second), MouseEventKind::Down(MouseButton::Left)) =
            (self.split(), areas.second, mouse.kind)
        {
            let other_pane = match self.focused_pane(areas) == second {
                true => areas.terminal,
                false => second,
            };
            if other_pane.contains(ratatui::layout::Position::new(mouse.column, mouse.row)) {
                self.swap_focus();
                return;
            }
        }
        let inner = ratatui::widgets::Block::bordered().inner(self.focused_pane(areas));
        let at = ratatui::layout::Position::new(mouse.column, mouse.row);
        if self.mode == Mode::Normal
            && inner.contains(at)
            && let Some(s) = self.selected_mut().filter(|s| s.attached())
        {
            let (mode, encoding, alternate, app_cursor) = {
                let screen = s.screen();
                let vt = screen.vt();
                (
                    vt.mouse_protocol_mode(),
                    vt.mouse_protocol_encoding(),
                    vt.alternate_screen(),
                    vt.application_cursor(),
                )
            };
            if mode != vt100::MouseProtocolMode::None {
                let (col, row) = (mouse.column - inner.x, mouse.row - inner.y);
                if let Some(bytes) = keys::encode_mouse(&mouse, col, row, mode, encoding) {
                    s.write(&bytes);
                }
                return;
            }
            let arrow = match mouse.kind {
                MouseEventKind::ScrollUp => Some(KeyCode::Up),
                MouseEventKind::ScrollDown => Some(KeyCode::Down),
                _ => None,
            };
            if alternate && let Some(code) = arrow {
                let key = KeyEvent::new(code, KeyModifiers::NONE);
                if let Some(bytes) = keys::encode(&key, app_cursor) {
                    s.write(&bytes.repeat(3));
                }
                return;
            }
        }
        // A drag over the text selects it and copies it on release, as in tmux.
        if matches!(self.mode, Mode::Normal | Mode::Copy(_)) && inner.width > 0 && inner.height > 0
        {
            let col = mouse.column.clamp(inner.x, inner.right() - 1) - inner.x;
            let row = mouse.row.clamp(inner.y, inner.bottom() - 1) - inner.y;
            let pos = self.text_pos(col, row);
            match (&mut self.mode, mouse.kind, pos) {
                (_, MouseEventKind::Down(MouseButton::Left), Some(pos)) if inner.contains(at) => {
                    self.mode = Mode::Copy(Box::new(Copy {
                        cursor: pos,
                        anchor: Some(pos),
                        ..Copy::default()
                    }));
                    return;
                }
                (Mode::Copy(copy), MouseEventKind::Drag(MouseButton::Left), Some(pos)) => {
                    copy.cursor = pos;
                    return;
                }
                (Mode::Copy(copy), MouseEventKind::Up(MouseButton::Left), _)
                    if copy.anchor.is_some() =>
                {
                    let selection = copy.selection().filter(|(from, to)| from != to);
                    match selection {
                        Some((from, to)) => {
                            let lines = self
                                .selected()
                                .map(|s| s.screen().text_lines())
                                .unwrap_or_default();
                            self.copied(crate::tui::copy::text_between(&lines, from, to));
                        }
                        None => {
                            self.set_scroll(0);
                            self.mode = Mode::Normal;
                        }
                    }
                    return;
                }
                _ => {}
            }
        }
        match mouse.kind {
            MouseEventKind::Down(MouseButton::Left) => {
                if areas.inspector.is_some_and(|a| a.contains(at)) && self.inspection.is_some() {
                    self.mode = Mode::Processes;
                    return;
                }
                if let Some(i) = ui::sessions::row_at(
                    areas.sessions,
                    self.sessions.len(),
                    self.selected,
                    mouse.row,
                ) && mouse.column >= areas.sessions.x
                    && mouse.column < areas.sessions.right()
                {
                    self.select(i);
                }
            }
            MouseEventKind::ScrollUp | MouseEventKind::ScrollDown
                if matches!(self.mode, Mode::Normal | Mode::Copy(_)) =>
            {
                let up = mouse.kind == MouseEventKind::ScrollUp;
                let offset = self.scroll_by(if up { 3 } else { -3 });
                let mut copy = match std::mem::replace(&mut self.mode, Mode::Normal) {
                    Mode::Copy(copy) => copy,
                    _ => {
                        let lines = self
                            .selected()
                            .map(|s| s.screen().text_lines())
                            .unwrap_or_default();
                        Box::new(Copy::at_bottom(&lines))
                    }
                };
                if offset == 0 && !up && copy.anchor.is_none() {
                    return;
                }
                // The cursor stays in the view the wheel moved.
                if let (Some(top), Some(bottom)) = (
                    self.text_pos(0, 0),
                    self.text_pos(0, self.pty_size.0.saturating_sub(1)),
                ) {
                    copy.cursor.0 = copy.cursor.0.clamp(top.0, bottom.0);
                }
                self.mode = Mode::Copy(copy);
            }
            _ => {}
        }
    }
}
