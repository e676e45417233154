//! The status line: always the keys that matter now.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::widgets::Paragraph;

pub fn render(frame: &mut Frame, area: Rect, text: &str, alert: bool) {
    let style = if alert {
        Style::new().fg(Color::Black).bg(Color::Yellow)
    } else {
        Style::new().fg(Color::Black).bg(Color::Cyan)
    };
    frame.render_widget(Paragraph::new(text).style(style), area);
}

/// A line of information (the folded inspector), not the keys.
pub fn render_plain(frame: &mut Frame, area: Rect, text: &str) {
    frame.render_widget(
        Paragraph::new(text).style(Style::new().fg(Color::Cyan)),
        area,
    );
}
