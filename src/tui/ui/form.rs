//! The new-session form: name, hostname, command and root filesystem, each with a default so
//! Enter alone starts a shell.

use super::centered;
use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

/// The form's labels, in field order.
pub const LABELS: [&str; 4] = ["Name", "Hostname", "Command", "Rootfs"];

/// What the form holds: typed values, the defaults shown when a value is empty, the focus,
/// and the last error.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormView {
    pub values: [String; 4],
    pub defaults: [String; 4],
    pub focus: usize,
    pub error: Option<String>,
}

pub fn render(frame: &mut Frame, area: Rect, form: &FormView) {
    let popup = centered(area, 64, 8);
    frame.render_widget(Clear, popup);
    let mut lines = Vec::new();
    let mut cursor = None;
    for (i, label) in LABELS.iter().enumerate() {
        let focused = i == form.focus;
        let label_style = if focused {
            Style::new().add_modifier(Modifier::BOLD).fg(Color::Cyan)
        } else {
            Style::new()
        };
        let value = if form.values[i].is_empty() {
            Span::styled(form.defaults[i].clone(), Style::new().fg(Color::DarkGray))
        } else {
            Span::raw(form.values[i].clone())
        };
        if focused {
            let x = popup.x + 1 + 11 + form.values[i].chars().count() as u16;
            cursor = Some(Position::new(
                x.min(popup.right().saturating_sub(2)),
                popup.y + 1 + i as u16,
            ));
        }
        lines.push(Line::from(vec![
            Span::styled(format!("{label:<10} "), label_style),
            value,
        ]));
    }
    lines.push(Line::raw(""));
    match &form.error {
        Some(e) => lines.push(Line::styled(e.clone(), Style::new().fg(Color::Red))),
        None => lines.push(Line::styled(
            "Tab: next field · Enter: start · Esc: cancel",
            Style::new().fg(Color::DarkGray),
        )),
    }
    let block = Block::bordered().title(" New session ");
    frame.render_widget(Paragraph::new(lines).block(block), popup);
    if let Some(c) = cursor {
        frame.set_cursor_position(c);
    }
}
