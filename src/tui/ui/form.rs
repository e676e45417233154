//! The new-session form: each field with a default so Enter alone starts a shell; the image
//! field picks from the local images. Besides what the session is (name, hostname, command,
//! root, image, network, ports), what it may use (memory, CPUs) and gets (environment,
//! volumes, working directory): the command line's options, per session.

use super::centered;
use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use crate::spec::options::{FORM, form_label};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// How many fields the form has: one per entry of the option table's [`FORM`].
pub const FIELDS: usize = FORM.len();

/// The field of option `long` (or of the command, [`crate::spec::options::COMMAND`]).
pub fn field(long: &str) -> usize {
    FORM.iter().position(|l| *l == long).unwrap_or(0)
}

/// The image field's index.
pub fn image_field() -> usize {
    field("image")
}

/// Label column width (the label and a space).
const LABEL: u16 = 11;

/// A line of text with a cursor (a character index), edited as a shell's line is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Input {
    text: String,
    cursor: usize,
}

impl Input {
    pub fn new(text: &str) -> Input {
        Input {
            text: text.to_string(),
            cursor: text.chars().count(),
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// The byte offset of character `at`.
    fn byte(&self, at: usize) -> usize {
        self.text
            .char_indices()
            .nth(at)
            .map_or(self.text.len(), |(i, _)| i)
    }

    pub fn insert(&mut self, text: &str) {
        let at = self.byte(self.cursor);
        self.text.insert_str(at, text);
        self.cursor += text.chars().count();
    }

    pub fn backspace(&mut self) {
        if self.cursor > 0 {
            self.cursor -= 1;
            let at = self.byte(self.cursor);
            self.text.remove(at);
        }
    }

    pub fn delete(&mut self) {
        if self.cursor < self.text.chars().count() {
            let at = self.byte(self.cursor);
            self.text.remove(at);
        }
    }

    pub fn left(&mut self) {
        self.cursor = self.cursor.saturating_sub(1);
    }

    pub fn right(&mut self) {
        self.cursor = (self.cursor + 1).min(self.text.chars().count());
    }

    pub fn home(&mut self) {
        self.cursor = 0;
    }

    pub fn end(&mut self) {
        self.cursor = self.text.chars().count();
    }

    /// The keys a shell's line takes (←/→, Home/End, Backspace/Delete, C-u C-w C-k C-a C-e,
    /// typed characters); returns whether `key` was one of them. Every text field of the
    /// dashboard edits through here.
    pub fn edit(&mut self, key: &KeyEvent) -> bool {
        match key.code {
            KeyCode::Left => self.left(),
            KeyCode::Right => self.right(),
            KeyCode::Home => self.home(),
            KeyCode::End => self.end(),
            KeyCode::Backspace => self.backspace(),
            KeyCode::Delete => self.delete(),
            KeyCode::Char(c) if key.modifiers.contains(KeyModifiers::CONTROL) => match c {
                'u' => self.kill_before(),
                'w' => self.kill_word(),
                'k' => self.kill_after(),
                'a' => self.home(),
                'e' => self.end(),
                _ => return false,
            },
            KeyCode::Char(c) => self.insert(c.encode_utf8(&mut [0; 4])),
            _ => return false,
        }
        true
    }

    /// Ctrl-U: everything before the cursor goes.
    pub fn kill_before(&mut self) {
        let at = self.byte(self.cursor);
        self.text.replace_range(..at, "");
        self.cursor = 0;
    }

    /// Ctrl-K: everything from the cursor on goes.
    pub fn kill_after(&mut self) {
        let at = self.byte(self.cursor);
        self.text.truncate(at);
    }

    /// Ctrl-W: the word before the cursor goes, and the blanks after it.
    pub fn kill_word(&mut self) {
        let chars: Vec<char> = self.text.chars().collect();
        let mut start = self.cursor;
        while start > 0 && chars[start - 1].is_whitespace() {
            start -= 1;
        }
        while start > 0 && !chars[start - 1].is_whitespace() {
            start -= 1;
        }
        let (from, to) = (self.byte(start), self.byte(self.cursor));
        self.text.replace_range(from..to, "");
        self.cursor = start;
    }
}

/// What the form holds: typed values, the defaults shown when a value is empty, the focus,
/// and the last error.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormView {
    pub values: [Input; FIELDS],
    pub defaults: [String; FIELDS],
    pub focus: usize,
    pub error: Option<String>,
    /// The field the error is about: it is drawn under that field (else at the foot).
    pub error_at: Option<usize>,
    /// The images in the store, for the image field's ←/→.
    pub images: Vec<String>,
}

impl FormView {
    /// ←/→ on the image field: the next (or previous) local image, then none again.
    pub fn pick_image(&mut self, forward: bool) {
        if self.images.is_empty() {
            return;
        }
        let n = self.images.len() as isize + 1;
        let at = self
            .images
            .iter()
            .position(|i| *i == self.values[image_field()].text())
            .map_or(n - 1, |p| p as isize);
        let next = (at + if forward { 1 } else { -1 }).rem_euclid(n) as usize;
        self.values[image_field()] = Input::new(self.images.get(next).map_or("", String::as_str));
    }

    /// The typed values, as the session is started from them.
    pub fn texts(&self) -> [String; FIELDS] {
        std::array::from_fn(|i| self.values[i].text().to_string())
    }

    pub fn focused(&mut self) -> &mut Input {
        &mut self.values[self.focus]
    }
}

/// The form over `area`: as wide as its longest line (a value, a default, the error) and the
/// window allow, so nothing typed and no reason given is cut.
pub fn render(frame: &mut Frame, area: Rect, form: &FormView) {
    let longest = (0..FIELDS)
        .map(|i| {
            form.values[i]
                .text()
                .chars()
                .count()
                .max(form.defaults[i].chars().count())
        })
        .max()
        .unwrap_or(0) as u16;
    let width = (LABEL + longest + 3)
        .max(64)
        .max(
            form.error
                .as_ref()
                .map_or(0, |e| e.chars().count() as u16 + 2)
                .min(100),
        )
        .min(area.width.saturating_sub(2));
    let inner_width = width.saturating_sub(2);
    let local = if form.images.is_empty() {
        "no local images (an image given here is pulled)".to_string()
    } else {
        format!("←/→ picks: {}", form.images.join(", "))
    };
    let error_style = Style::new().fg(Color::Red).add_modifier(Modifier::BOLD);
    let at_field = form.error.as_ref().zip(form.error_at);
    let (footer, footer_style) = match &form.error {
        Some(e) if at_field.is_none() => (e.clone(), error_style),
        _ => (
            "Tab/↑/↓: field · ←/→ Home/End C-u C-w C-k: edit · Enter: start · Esc: cancel"
                .to_string(),
            Style::new().fg(Color::DarkGray),
        ),
    };
    let wrapped = |text: &str| {
        (text.chars().count() as u16)
            .div_ceil(inner_width.max(1))
            .max(1)
    };
    let under = |e: &str| format!("{:<10} ↑ {e}", "");
    let error_lines = at_field.map_or(0, |(e, _)| wrapped(&under(e)));
    let height = FIELDS as u16 + 2 + wrapped(&local) + wrapped(&footer) + error_lines;
    let popup = centered(area, width, height);
    frame.render_widget(Clear, popup);
    let mut lines = Vec::new();
    let mut cursor = None;
    // The screen row (in the form) the next field is drawn on.
    let mut row = 0u16;
    for (i, label) in FORM.iter().map(|l| form_label(l)).enumerate() {
        let focused = i == form.focus;
        let label_style = if focused {
            Style::new().add_modifier(Modifier::BOLD).fg(Color::Cyan)
        } else {
            Style::new()
        };
        let input = &form.values[i];
        let value = if input.text().is_empty() {
            Span::styled(form.defaults[i].clone(), Style::new().fg(Color::DarkGray))
        } else {
            Span::raw(input.text().to_string())
        };
        if focused {
            let x = popup.x + 1 + LABEL + input.cursor() as u16;
            cursor = Some(Position::new(
                x.min(popup.right().saturating_sub(2)),
                popup.y + 1 + row,
            ));
        }
        lines.push(Line::from(vec![
            Span::styled(format!("{label:<10} "), label_style),
            value,
        ]));
        if let Some((e, _)) = at_field.filter(|(_, at)| *at == i) {
            // Under the field it is about, where the cursor is.
            let text = under(e);
            row += wrapped(&text);
            lines.push(Line::styled(text, error_style));
        }
        row += 1;
    }
    lines.push(Line::styled(local, Style::new().fg(Color::DarkGray)));
    lines.push(Line::styled(footer, footer_style));
    let block = Block::bordered().title(" New session ");
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        popup,
    );
    if let Some(c) = cursor {
        frame.set_cursor_position(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn editing_moves_and_cuts_as_a_shell_line() {
        let mut input = Input::new("echo hello world");
        input.kill_word();
        assert_eq!(input.text(), "echo hello ");
        input.home();
        input.right();
        input.insert("X");
        assert_eq!((input.text(), input.cursor()), ("eXcho hello ", 2));
        input.backspace();
        input.delete();
        assert_eq!(input.text(), "eho hello ");
        input.end();
        input.left();
        input.kill_before();
        assert_eq!((input.text(), input.cursor()), (" ", 0));
        let mut wide = Input::new("né");
        wide.left();
        wide.insert("ä");
        wide.kill_after();
        assert_eq!(wide.text(), "nä");
    }
}
