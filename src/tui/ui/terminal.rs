//! The selected session's embedded terminal, drawn from its screen (emulator and history).

use crate::screen::Screen;
use crate::tui::copy::Copy;
use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::Modifier;
use ratatui::style::{Color, Style};
use ratatui::widgets::Block;

/// Draws `screen` in `area` with `title`; places the real cursor when `focused`, the view is
/// on the live screen, and the program shows one. In copy mode, its cursor and selection
/// are drawn over the text.
pub fn render(
    frame: &mut Frame,
    area: Rect,
    screen: &Screen,
    title: &str,
    focused: bool,
    copy: Option<&Copy>,
) {
    let scrolled = screen.scrolled();
    let mut title = format!(" {title} ");
    if scrolled > 0 {
        title.push_str(&format!("[scrollback: {scrolled} lines up] "));
    }
    let border = if focused {
        Style::new().fg(Color::Cyan)
    } else {
        Style::new()
    };
    let inner = Block::bordered().inner(area);
    draw_border(frame.buffer_mut(), area, &title, border);
    screen.render(inner, frame.buffer_mut());
    if let Some(copy) = copy {
        highlight(frame, inner, screen, copy);
        return;
    }
    let vt = screen.vt();
    if focused && scrolled == 0 && !vt.hide_cursor() {
        let (row, col) = vt.cursor_position();
        if row < inner.height && col < inner.width {
            frame.set_cursor_position(Position::new(inner.x + col, inner.y + row));
        }
    }
}

/// The pane's border with `title` on its top line, as `Block::bordered()` draws it, but
/// touching the border's cells alone: a block styles every cell of its area first, which for
/// a pane redrawn on every keystroke's echo was a fifth of the frame.
fn draw_border(buf: &mut ratatui::buffer::Buffer, area: Rect, title: &str, style: Style) {
    let area = area.intersection(buf.area);
    if area.width < 2 || area.height < 2 {
        return;
    }
    let set = ratatui::symbols::border::PLAIN;
    let (left, right, top, bottom) = (area.left(), area.right() - 1, area.top(), area.bottom() - 1);
    let edges = (left + 1..right)
        .flat_map(|x| {
            [
                (x, top, set.horizontal_top),
                (x, bottom, set.horizontal_bottom),
            ]
        })
        .chain(
            (top + 1..bottom)
                .flat_map(|y| [(left, y, set.vertical_left), (right, y, set.vertical_right)]),
        );
    let corners = [
        (left, top, set.top_left),
        (right, top, set.top_right),
        (left, bottom, set.bottom_left),
        (right, bottom, set.bottom_right),
    ];
    for (x, y, symbol) in edges.chain(corners) {
        buf[(x, y)].set_symbol(symbol).set_style(style);
    }
    buf.set_stringn(left + 1, top, title, usize::from(area.width - 2), style);
}

/// Draws an empty pane that says how to start a session.
pub fn render_empty(frame: &mut Frame, area: Rect, hint: &str) {
    let block = Block::bordered().title(" no session ");
    frame.render_widget(ratatui::widgets::Paragraph::new(hint).block(block), area);
}

/// A line across the bottom of the pane's inside (an ended session's way on).
pub fn render_banner(frame: &mut Frame, area: Rect, text: &str) {
    let inner = Block::bordered().inner(area);
    if inner.height == 0 {
        return;
    }
    let line = Rect::new(inner.x, inner.bottom() - 1, inner.width, 1);
    frame.render_widget(
        ratatui::widgets::Paragraph::new(text)
            .style(Style::new().fg(Color::Black).bg(Color::Yellow)),
        line,
    );
}

/// Copy mode's selection (reversed) and cursor (yellow) over the text drawn in `inner`.
fn highlight(frame: &mut Frame, inner: Rect, screen: &Screen, copy: &Copy) {
    let history = screen.history_len();
    let first = history - screen.scrolled().min(history);
    let buf = frame.buffer_mut();
    for y in 0..inner.height {
        let line = first + usize::from(y);
        for x in 0..inner.width {
            let pos = (line, usize::from(x));
            let selected = copy.selects(pos);
            let style = if pos == copy.cursor {
                Style::new().bg(Color::Yellow).fg(Color::Black)
            } else if selected {
                Style::new().add_modifier(Modifier::REVERSED)
            } else {
                continue;
            };
            if let Some(cell) = buf.cell_mut((inner.x + x, inner.y + y)) {
                cell.set_style(style);
            }
        }
    }
}
