//! The commit form (prefix `C`): the image name to give the selected session's container
//! once committed, and a message for its history. An error is drawn under the field it is
//! about, with the cursor there.

use super::centered;
use super::form::Input;
use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

/// The fields: label, and what an empty one means.
pub const FIELDS: [(&str, &str); 2] = [
    ("Image", "(untagged: the image id only) e.g. myapp:1"),
    ("Message", "(none) e.g. added the config"),
];
pub const IMAGE: usize = 0;
pub const MESSAGE: usize = 1;

const LABEL: u16 = 9;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommitForm {
    /// The session committed (its name, for the title).
    pub name: String,
    pub values: [Input; FIELDS.len()],
    pub focus: usize,
    /// The field an error is about, and the error.
    pub error: Option<(usize, String)>,
}

impl CommitForm {
    pub fn new(name: &str) -> CommitForm {
        CommitForm {
            name: name.to_string(),
            ..CommitForm::default()
        }
    }

    pub fn focused(&mut self) -> &mut Input {
        &mut self.values[self.focus]
    }

    pub fn text(&self, field: usize) -> Option<String> {
        Some(self.values[field].text().trim().to_string()).filter(|t| !t.is_empty())
    }
}

pub fn render(frame: &mut Frame, area: Rect, form: &CommitForm) {
    let width = 90.min(area.width.saturating_sub(2));
    // The error wraps under its field: none of it is cut.
    let error_lines = form.error.as_ref().map_or(0, |(_, e)| {
        ((e.chars().count() as u16 + LABEL + 2).div_ceil(width.saturating_sub(2).max(1))).max(1)
    });
    let popup = centered(area, width, FIELDS.len() as u16 + 3 + error_lines);
    frame.render_widget(Clear, popup);
    let mut lines = Vec::new();
    let mut cursor = None;
    for (i, (label, empty)) in FIELDS.iter().enumerate() {
        let focused = i == form.focus;
        let label_style = match focused {
            true => Style::new().add_modifier(Modifier::BOLD).fg(Color::Cyan),
            false => Style::new(),
        };
        let input = &form.values[i];
        let value = match input.text().is_empty() {
            true => Span::styled(*empty, Style::new().fg(Color::DarkGray)),
            false => Span::raw(input.text().to_string()),
        };
        if focused {
            let x = popup.x + 1 + LABEL + input.cursor() as u16;
            cursor = Some(Position::new(
                x.min(popup.right().saturating_sub(2)),
                popup.y + 1 + lines.len() as u16,
            ));
        }
        lines.push(Line::from(vec![
            Span::styled(format!("{label:<8} "), label_style),
            value,
        ]));
        if let Some((field, error)) = &form.error
            && *field == i
        {
            lines.push(Line::styled(
                format!("{:<8} ↑ {error}", ""),
                Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            ));
        }
    }
    lines.push(Line::styled(
        "Tab: field · Enter: commit · Esc: cancel",
        Style::new().fg(Color::DarkGray),
    ));
    let block = Block::bordered().title(format!(" Commit {} to an image ", form.name));
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
