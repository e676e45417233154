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

/// A form of text fields as drawn: the one renderer the new-session form and the commit form
/// go through.
pub struct Fields<'a> {
    pub title: String,
    /// Each field: its label, what it holds, and what an empty one shows (greyed).
    pub fields: Vec<(&'a str, &'a Input, &'a str)>,
    /// The label column's width.
    pub label: u16,
    pub focus: usize,
    /// The error, and the field it is about (drawn under it), or `None` (drawn at the foot).
    pub error: Option<(Option<usize>, &'a str)>,
    /// Lines under the fields, greyed: what keys do, what there is to pick.
    pub notes: Vec<String>,
    /// The least width, before the window's.
    pub width: u16,
}

/// Draws `form` over `area`: as wide as its longest line (a value, what an empty one shows,
/// the error) and the window allow, so nothing typed and no reason given is cut; an error
/// under its field, wrapped, the cursor on the focused field.
pub fn render_fields(frame: &mut Frame, area: Rect, form: &Fields) {
    let longest = form
        .fields
        .iter()
        .map(|(_, input, empty)| input.text().chars().count().max(empty.chars().count()))
        .max()
        .unwrap_or(0) as u16;
    let width = (form.label + longest + 3)
        .max(form.width)
        .max(
            form.error
                .map_or(0, |(_, e)| e.chars().count() as u16 + 2)
                .min(100),
        )
        .min(area.width.saturating_sub(2));
    let inner_width = width.saturating_sub(2);
    let wrapped = |text: &str| {
        (text.chars().count() as u16)
            .div_ceil(inner_width.max(1))
            .max(1)
    };
    let error_style = Style::new().fg(Color::Red).add_modifier(Modifier::BOLD);
    let under = |e: &str| {
        format!(
            "{:<w$} ↑ {e}",
            "",
            w = usize::from(form.label.saturating_sub(1))
        )
    };
    let at_field = form.error.and_then(|(at, e)| Some((at?, e)));
    let at_foot = form.error.filter(|(at, _)| at.is_none()).map(|(_, e)| e);
    let height = form.fields.len() as u16
        + 2
        + form.notes.iter().map(|n| wrapped(n)).sum::<u16>()
        + at_field.map_or(0, |(_, e)| wrapped(&under(e)))
        + at_foot.map_or(0, wrapped);
    let popup = centered(area, width, height);
    frame.render_widget(Clear, popup);
    let mut lines = Vec::new();
    let mut cursor = None;
    // The screen row (in the form) the next field is drawn on.
    let mut row = 0u16;
    for (i, (label, input, empty)) in form.fields.iter().enumerate() {
        let focused = i == form.focus;
        let label_style = match focused {
            true => Style::new().add_modifier(Modifier::BOLD).fg(Color::Cyan),
            false => Style::new(),
        };
        let value = match input.text().is_empty() {
            true => Span::styled(empty.to_string(), Style::new().fg(Color::DarkGray)),
            false => Span::raw(input.text().to_string()),
        };
        if focused {
            let x = popup.x + 1 + form.label + input.cursor() as u16;
            cursor = Some(Position::new(
                x.min(popup.right().saturating_sub(2)),
                popup.y + 1 + row,
            ));
        }
        lines.push(Line::from(vec![
            Span::styled(
                format!(
                    "{label:<w$} ",
                    w = usize::from(form.label.saturating_sub(1))
                ),
                label_style,
            ),
            value,
        ]));
        row += 1;
        if let Some((_, e)) = at_field.filter(|(at, _)| *at == i) {
            // Under the field it is about, where the cursor is.
            let text = under(e);
            row += wrapped(&text);
            lines.push(Line::styled(text, error_style));
        }
    }
    for note in &form.notes {
        lines.push(Line::styled(note.clone(), Style::new().fg(Color::DarkGray)));
    }
    if let Some(e) = at_foot {
        lines.push(Line::styled(e.to_string(), error_style));
    }
    frame.render_widget(
        Paragraph::new(lines)
            .block(Block::bordered().title(form.title.clone()))
            .wrap(Wrap { trim: false }),
        popup,
    );
    if let Some(c) = cursor {
        frame.set_cursor_position(c);
    }
}

/// The new-session form over `area`.
pub fn render(frame: &mut Frame, area: Rect, form: &FormView) {
    let local = match form.images.is_empty() {
        true => "no local images (an image given here is pulled)".to_string(),
        false => format!("←/→ picks: {}", form.images.join(", ")),
    };
    let mut notes = vec![local];
    if form.error.is_none() || form.error_at.is_some() {
        notes.push(
            "Tab/↑/↓: field · ←/→ Home/End C-u C-w C-k: edit · Enter: start · Esc: cancel"
                .to_string(),
        );
    }
    let labels: Vec<&str> = FORM.iter().map(|l| form_label(l)).collect();
    render_fields(
        frame,
        area,
        &Fields {
            title: " New session ".to_string(),
            fields: (0..FIELDS)
                .map(|i| (labels[i], &form.values[i], form.defaults[i].as_str()))
                .collect(),
            label: LABEL,
            focus: form.focus,
            error: form.error.as_deref().map(|e| (form.error_at, e)),
            notes,
            width: 64,
        },
    );
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
