//! What each key, paste and click does to the dashboard's state.

use super::{App, Mode};
use crate::session::Session;
use crate::tui::commands::{self, Command};
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
        let app_cursor = session.screen().vt().application_cursor();
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
            KeyCode::Left | KeyCode::Right if form.focus == IMAGE => {
                form.pick_image(key.code == KeyCode::Right)
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
                    let bracketed = s.screen().vt().bracketed_paste();
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
}
