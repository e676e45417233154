//! The selected session's embedded terminal, drawn from its VT emulator's screen.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Color, Style};
use ratatui::widgets::Block;
use tui_term::widget::{Cursor, PseudoTerminal};

/// Draws `screen` in `area` with `title`; places the real cursor when `focused` and the
/// program shows one. `scrolled` is how many lines back the view is, shown in the title.
pub fn render(
    frame: &mut Frame,
    area: Rect,
    screen: &vt100::Screen,
    title: &str,
    focused: bool,
    scrolled: usize,
) {
    let mut title = format!(" {title} ");
    if scrolled > 0 {
        title.push_str(&format!("[scrollback: {scrolled} lines up] "));
    }
    let border = if focused {
        Style::new().fg(Color::Cyan)
    } else {
        Style::new()
    };
    let block = Block::bordered().title(title).border_style(border);
    let inner = block.inner(area);
    let mut cursor = Cursor::default();
    cursor.hide();
    frame.render_widget(
        PseudoTerminal::new(screen).block(block).cursor(cursor),
        area,
    );
    if focused && scrolled == 0 && !screen.hide_cursor() {
        let (row, col) = screen.cursor_position();
        if row < inner.height && col < inner.width {
            frame.set_cursor_position(Position::new(inner.x + col, inner.y + row));
        }
    }
}

/// Draws an empty pane that says how to start a session.
pub fn render_empty(frame: &mut Frame, area: Rect, hint: &str) {
    let block = Block::bordered().title(" no session ");
    frame.render_widget(ratatui::widgets::Paragraph::new(hint).block(block), area);
}
