//! What each key and paste does to the dashboard's state: the shell's keys, the prefix's
//! commands, the form, renaming and the session chooser. Copy mode, the process list and
//! the mouse have modules of their own.

use super::{App, Mode};
use crate::session::Session;
use crate::tui::commands::{self, Command};
use crate::tui::copy::Copy;
use crate::tui::encode;
use crate::tui::ui::commit::{self, CommitForm};
use crate::tui::ui::form::{FIELDS, FormView, image_field};
use crate::tui::ui::images::ImageList;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

impl App {
    /// Acts on `key`; returns whether anything drawn changed. A key that only went to the
    /// shell changes nothing until its echo comes, and drawing a frame for it would make the
    /// echo wait for that frame.
    pub fn handle_key(&mut self, key: KeyEvent) -> bool {
        self.rebase_copy();
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
            Mode::ConfirmRemove => {
                if matches!(key.code, KeyCode::Char('y' | 'Y')) {
                    self.remove_selected(true);
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
            // ↑/↓ and the page keys scroll a help taller than the window; any other key closes.
            Mode::Help(top) => match key.code {
                KeyCode::Down | KeyCode::PageDown => self.mode = Mode::Help(top.saturating_add(5)),
                KeyCode::Up | KeyCode::PageUp => self.mode = Mode::Help(top.saturating_sub(5)),
                _ => {}
            },
            Mode::NewSession(form) => self.key_form(form, key),
            Mode::Commit(form) => self.key_commit(form, key),
            Mode::Images(list) => self.key_images(list, key),
            Mode::Copy(copy) => self.key_copy(copy, key),
            Mode::Rename(name) => self.key_rename(name, key),
            Mode::Choose(row) => self.key_choose(row, key),
            Mode::Buffers(row) => self.key_buffers(row, key),
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
        let Some(bytes) = encode::encode(&key, app_cursor) else {
            return false;
        };
        session.write(&bytes);
        // Synchronized: the same key to the other panes' sessions, encoded for each one's
        // cursor mode.
        for other in self.synchronized_others() {
            let app_cursor = other.screen().vt().application_cursor();
            if let Some(bytes) = encode::encode(&key, app_cursor) {
                other.write(&bytes);
            }
        }
        true
    }

    /// The other panes' sessions while input is synchronized, those that can take input.
    fn synchronized_others(&mut self) -> impl Iterator<Item = &mut Session> {
        let selected = self.selected().map(|s| s.id);
        let shown = self
            .panes()
            .filter(|p| p.synchronized)
            .map(|p| p.shown)
            .unwrap_or_default();
        self.sessions
            .iter_mut()
            .filter(move |s| Some(s.id) != selected && shown.contains(&s.id) && s.attached())
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
                    encode::describe(&key)
                ));
                return;
            }
        };
        match command {
            Command::New => self.open_form(None),
            Command::Commit => match self.selected() {
                Some(s) if s.spec.image.is_none() => {
                    self.message = Some(format!(
                        " {} runs a directory, not an image: import the directory as an image to build on it",
                        s.name
                    ))
                }
                Some(s) => self.mode = Mode::Commit(Box::new(CommitForm::new(&s.name))),
                None => self.message = Some(format!(" No session to commit: {p} c starts one")),
            },
            Command::Images => self.mode = Mode::Images(Box::new(self.image_list())),
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
                Some(s) if s.is_exec() => {
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
            Command::Remove => self.remove_selected(false),
            Command::Inspector => self.toggle_inspector(),
            Command::HostView => self.host_view = !self.host_view,
            Command::Log => {
                self.toggle_file("log", ["Logging", "logging", "log"], Session::toggle_log)
            }
            Command::Record => self.toggle_file(
                "cast",
                ["Recording", "recording", "record"],
                Session::toggle_cast,
            ),
            Command::AddPane(layout) => self.add_pane(layout),
            Command::NextLayout => match self.panes() {
                // The next layout round (tmux's next-layout) in which every pane keeps a
                // usable size.
                Some(panes) => {
                    let place = self.areas(self.window).terminal;
                    let n = panes.shown.len();
                    let mut next = panes.layout.next();
                    while next != panes.layout && !crate::tui::ui::fits(place, n, next) {
                        next = next.next();
                    }
                    if let Some(stored) = &mut self.panes {
                        stored.layout = next;
                    }
                    self.message = Some(format!(" Layout: {}", next.name()));
                }
                None => {
                    self.message = Some(format!(" One session shown: {p} | or {p} - adds a pane"))
                }
            },
            Command::Unsplit => self.panes = None,
            Command::Zoom => self.zoomed = !self.zoomed,
            Command::Synchronize => match (self.panes().is_some(), &mut self.panes) {
                (true, Some(panes)) => panes.synchronized = !panes.synchronized,
                _ => {
                    self.message = Some(format!(
                        " Synchronized input is for panes: {p} | or {p} - shows another session"
                    ))
                }
            },
            Command::FocusPane { dx, dy } => {
                let areas = self.areas(self.window);
                if let Some(i) =
                    crate::tui::ui::neighbour(&areas.panes, self.focused_index(), (dx, dy))
                {
                    self.focus_pane(i);
                }
            }
            // The next pane; after the last, the process list (whose Tab goes on to the first).
            Command::Focus
                if self
                    .panes()
                    .is_some_and(|p| self.focused_index() + 1 < p.shown.len()) =>
            {
                self.focus_pane(self.focused_index() + 1)
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
                self.mode = Mode::Copy(Box::new(Copy {
                    base: self.first_line(),
                    ..Copy::at_bottom(&lines)
                }));
            }
            Command::Paste => match (self.paste_buffer.clone(), self.selected_mut()) {
                (Some(text), Some(s)) if s.attached() => {
                    let bracketed = s.screen().vt().bracketed_paste();
                    s.write(&encode::paste(&text, bracketed));
                }
                (None, _) => {
                    self.message = Some(format!(" Nothing copied yet: {p} [ then v and y copy"))
                }
                _ => {}
            },
            Command::Buffers if self.buffers.is_empty() => {
                self.message = Some(format!(" Nothing copied yet: {p} [ then v and y copy"))
            }
            Command::Buffers => self.mode = Mode::Buffers(0),
            Command::Help => self.mode = Mode::Help(0),
            Command::Quit => {
                if self.sessions.iter().any(|s| s.mine() && s.is_running()) {
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

    /// `prefix H` and `prefix R`: the selected session's output to `my-container-tui-NAME.EXT`
    /// in the working directory through `toggle`, or no more; the status line says which, in
    /// `words` (doing, done, do).
    fn toggle_file(
        &mut self,
        ext: &str,
        [doing, done, verb]: [&str; 3],
        toggle: fn(&Session, &std::path::Path) -> std::io::Result<bool>,
    ) {
        let Some(s) = self.selected() else { return };
        let path = std::path::PathBuf::from(format!(
            "my-container-tui-{}.{ext}",
            s.name.replace('/', "-")
        ));
        self.message = Some(match toggle(s, &path) {
            Ok(true) => format!(" {doing} {} to {}", s.name, path.display()),
            Ok(false) => format!(" Stopped {done} {}", s.name),
            Err(e) => format!(" Cannot {verb} to {}: {e}", path.display()),
        });
    }

    /// The prefix pressed while typing in a form or a prompt: out of habit, to leave or to
    /// switch. It edits nothing (as `Ctrl-a` it would move the cursor home, and what is typed
    /// next would land at the start); the status line says how to leave.
    fn prefix_while_typing(&mut self, key: &KeyEvent) -> bool {
        if !self.prefix.matches(key) {
            return false;
        }
        self.message = Some(format!(
            " {} does nothing while typing: Esc leaves · Home goes to the start",
            self.prefix
        ));
        true
    }

    fn key_form(&mut self, mut form: Box<FormView>, key: KeyEvent) {
        if self.prefix_while_typing(&key) {
            self.mode = Mode::NewSession(form);
            return;
        }
        match key.code {
            KeyCode::Esc => return,
            KeyCode::Enter => match self.start_session(form.texts()) {
                Ok(()) => return,
                Err(e) => {
                    if let Some(field) = e.field {
                        form.focus = field;
                    }
                    form.error_at = e.field;
                    form.error = Some(e.message);
                }
            },
            KeyCode::Tab | KeyCode::Down => form.focus = (form.focus + 1) % FIELDS,
            KeyCode::BackTab | KeyCode::Up => form.focus = (form.focus + FIELDS - 1) % FIELDS,
            KeyCode::Left | KeyCode::Right if form.focus == image_field() => {
                form.pick_image(key.code == KeyCode::Right)
            }
            _ => {
                form.focused().edit(&key);
            }
        }
        self.mode = Mode::NewSession(form);
    }

    fn key_commit(&mut self, mut form: Box<CommitForm>, key: KeyEvent) {
        if self.prefix_while_typing(&key) {
            self.mode = Mode::Commit(form);
            return;
        }
        match key.code {
            KeyCode::Esc => return,
            KeyCode::Enter => match self.commit_selected(&form) {
                Ok(()) => return,
                Err((field, e)) => {
                    form.focus = field;
                    form.error = Some((field, e));
                }
            },
            KeyCode::Tab | KeyCode::Down | KeyCode::BackTab | KeyCode::Up => {
                form.focus = (form.focus + 1) % commit::FIELDS.len()
            }
            _ => {
                if form.focused().edit(&key) {
                    form.error = None;
                }
            }
        }
        self.mode = Mode::Commit(form);
    }

    fn key_images(&mut self, mut list: Box<ImageList>, key: KeyEvent) {
        match key.code {
            KeyCode::Esc | KeyCode::Char('q') => return,
            KeyCode::Enter => {
                if let Some(row) = list.chosen() {
                    self.open_form(Some(&row.reference));
                }
                return;
            }
            KeyCode::Up | KeyCode::Char('k') => list.step(-1),
            KeyCode::Down | KeyCode::Char('j') => list.step(1),
            KeyCode::Home | KeyCode::Char('g') => list.selected = 0,
            KeyCode::End | KeyCode::Char('G') => list.selected = list.rows.len().saturating_sub(1),
            _ => {}
        }
        self.mode = Mode::Images(list);
    }

    fn key_rename(&mut self, mut name: String, key: KeyEvent) {
        if self.prefix_while_typing(&key) {
            self.mode = Mode::Rename(name);
            return;
        }
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

    /// The buffer list: Enter pastes the highlighted copy into the selected session (and makes
    /// it what `prefix ]` pastes), `d` drops it.
    fn key_buffers(&mut self, row: usize, key: KeyEvent) {
        let n = self.buffers.len();
        if n == 0 {
            return;
        }
        let row = match key.code {
            KeyCode::Esc | KeyCode::Char('q') => return,
            KeyCode::Enter => {
                let text = self.buffers[row.min(n - 1)].clone();
                self.paste_buffer = Some(text.clone());
                if let Some(s) = self.selected_mut().filter(|s| s.attached()) {
                    let bracketed = s.screen().vt().bracketed_paste();
                    s.write(&encode::paste(&text, bracketed));
                }
                return;
            }
            KeyCode::Char('d') => {
                self.buffers.remove(row.min(n - 1));
                if self.buffers.is_empty() {
                    return;
                }
                row.min(self.buffers.len() - 1)
            }
            KeyCode::Up | KeyCode::Char('k') => (row + n - 1) % n,
            KeyCode::Down | KeyCode::Char('j') => (row + 1) % n,
            _ => row,
        };
        self.mode = Mode::Buffers(row);
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
            KeyCode::Char(' ') => {
                self.toggle_pane(row);
                row
            }
            KeyCode::Up | KeyCode::Char('k') => (row + n - 1) % n,
            KeyCode::Down | KeyCode::Char('j') => (row + 1) % n,
            KeyCode::Home | KeyCode::Char('g') => 0,
            KeyCode::End | KeyCode::Char('G') => n - 1,
            _ => row,
        };
        self.mode = Mode::Choose(row);
    }

    /// `prefix |` and `prefix -`: the session selected before (else the next one not shown)
    /// in a pane of its own beside the shown ones, the panes laid out as `layout` (with every
    /// session shown, the layout alone changes); refused when a pane would be too small.
    fn add_pane(&mut self, layout: crate::tui::ui::PaneLayout) {
        let p = self.prefix;
        let Some(current) = self.selected().map(|s| s.id) else {
            return;
        };
        let mut shown = self
            .panes()
            .map(|p| p.shown)
            .unwrap_or_else(|| vec![current]);
        let free = |id: &u64| !shown.contains(id) && self.sessions.iter().any(|s| s.id == *id);
        let next = self.last.filter(free).or_else(|| {
            let n = self.sessions.len();
            (1..n)
                .map(|k| self.sessions[(self.selected + k) % n].id)
                .find(free)
        });
        match next {
            Some(next) => shown.push(next),
            // Every session shown already: the keys still choose the layout.
            None if self.panes().is_some_and(|x| x.layout != layout) => {}
            None => {
                self.message = Some(format!(" Every session is shown: {p} c starts another"));
                return;
            }
        }
        self.show(shown, layout);
    }

    /// The chooser's Space: session `index` shown in a pane of its own, or no more.
    fn toggle_pane(&mut self, index: usize) {
        let (Some(current), Some(id)) = (
            self.selected().map(|s| s.id),
            self.sessions.get(index).map(|s| s.id),
        ) else {
            return;
        };
        let (mut shown, layout) = match self.panes() {
            Some(p) => (p.shown, p.layout),
            None => (vec![current], crate::tui::ui::PaneLayout::Tiled),
        };
        match shown.iter().position(|x| *x == id) {
            // The focused session stays: hiding it would leave the focus nowhere.
            Some(_) if id == current => {
                self.message = Some(" The focused session stays shown: pick another".into())
            }
            Some(i) => {
                shown.remove(i);
                self.show(shown, layout);
            }
            None => {
                shown.push(id);
                self.show(shown, layout);
            }
        }
    }

    /// `shown` in panes laid out as `layout`, if each pane keeps a usable size (a pane too
    /// small is refused on the status line; fewer than two shown is one session alone).
    fn show(&mut self, shown: Vec<u64>, layout: crate::tui::ui::PaneLayout) {
        let place = self.areas(self.window).terminal;
        let synchronized = self.panes.as_ref().is_some_and(|p| p.synchronized);
        let layout = [layout, crate::tui::ui::PaneLayout::Tiled]
            .into_iter()
            .find(|l| crate::tui::ui::fits(place, shown.len(), *l));
        match layout {
            _ if shown.len() < 2 => self.panes = None,
            Some(layout) => {
                self.panes = Some(super::Panes {
                    shown,
                    layout,
                    synchronized,
                })
            }
            None => {
                self.message = Some(format!(
                    " No room for a pane more: {} z zooms one, {} X shows one alone",
                    self.prefix, self.prefix
                ))
            }
        }
    }

    pub fn handle_paste(&mut self, text: &str) {
        match &mut self.mode {
            Mode::NewSession(form) => form.focused().insert(text.trim_end_matches('\n')),
            Mode::Commit(form) => form.focused().insert(text.trim_end_matches('\n')),
            Mode::Normal => {
                if let Some(s) = self.selected_mut() {
                    let bracketed = s.screen().vt().bracketed_paste();
                    s.write(&encode::paste(text, bracketed));
                }
                for other in self.synchronized_others() {
                    let bracketed = other.screen().vt().bracketed_paste();
                    other.write(&encode::paste(text, bracketed));
                }
            }
            _ => {}
        }
    }
}
