//! Copy mode and history: the view scrolled back, the cursor and selection moved by keys,
//! and what a copy does (the paste buffer, the outer terminal's clipboard).

use super::{App, Mode};
use crate::session::Session;
use crate::tui::copy::{Copy, Outcome, Pos};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

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

    /// The text's first line's number now: where copy mode's positions count from.
    pub(super) fn first_line(&self) -> i64 {
        self.selected().map_or(0, |s| s.screen().first_line())
    }

    /// Copy mode's positions moved with their lines, should history have come or gone.
    pub(super) fn rebase_copy(&mut self) {
        let first = self.first_line();
        if let Mode::Copy(copy) = &mut self.mode {
            copy.rebase(first);
        }
    }

    pub(super) fn key_copy(&mut self, mut copy: Box<Copy>, key: KeyEvent) {
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
            KeyCode::Char('v') if key.modifiers.contains(KeyModifiers::CONTROL) => '\x16',
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
        self.search_pending = false;
        match copy.key(c, &lines, page) {
            Outcome::Leave => {
                self.set_scroll(0);
                return;
            }
            Outcome::Copied(text) => return self.copied(text),
            Outcome::NotFound(text) => self.not_found(&text),
            Outcome::Stay => {}
        }
        self.follow_cursor(copy.cursor.0);
        self.mode = Mode::Copy(copy);
    }

    /// A search found nothing: said so, or, while the session's history is still coming (a
    /// flood's lines come back from the log once it is over; a session just shown asks for
    /// its first page), said to wait and tried again as it comes.
    fn not_found(&mut self, text: &str) {
        if self.selected().is_some_and(Session::history_coming) {
            self.search_pending = true;
            self.message = Some(format!(
                " Searching for {text}: the history is still coming"
            ));
        } else {
            self.message = Some(format!(" Not found: {text}"));
        }
    }

    /// Tries a search that found nothing again ([`App::not_found`]), before a frame is drawn:
    /// the history may have come since.
    pub fn retry_search(&mut self) {
        if !std::mem::take(&mut self.search_pending) {
            return;
        }
        self.rebase_copy();
        let page = usize::from(self.pty_size.0.max(1));
        let Some(lines) = self.selected().map(|s| s.screen().text_lines()) else {
            return;
        };
        let Mode::Copy(copy) = &mut self.mode else {
            return;
        };
        match copy.key('n', &lines, page) {
            Outcome::NotFound(text) => self.not_found(&text),
            _ => {
                let line = copy.cursor.0;
                self.message = None;
                self.follow_cursor(line);
            }
        }
    }

    /// Copy mode copied `text`: to the clipboard and the paste buffer; back to the shell.
    pub(super) fn copied(&mut self, text: String) {
        self.message = Some(format!(
            " Copied {} characters: {} ] pastes them",
            text.chars().count(),
            self.prefix
        ));
        self.paste_buffer = Some(text.clone());
        self.buffers.push_front(text.clone());
        self.buffers.truncate(super::BUFFERS);
        self.clipboard = Some(text);
        self.set_scroll(0);
        self.mode = Mode::Normal;
    }

    /// Scrolls the view so that text line `line` (0: the oldest line of history) is shown.
    pub(super) fn follow_cursor(&mut self, line: usize) {
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
    pub(super) fn text_pos(&self, col: u16, row: u16) -> Option<Pos> {
        let s = self.selected()?;
        let screen = s.screen();
        let history = screen.history_len();
        let first = history - screen.scrolled().min(history);
        Some((first + usize::from(row), usize::from(col)))
    }
}
