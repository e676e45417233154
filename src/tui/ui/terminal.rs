//! The selected session's embedded terminal, drawn from its screen (emulator and history).

use crate::screen::Screen;
use crate::tui::copy::Copy;
use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::style::Modifier;
use ratatui::style::{Color, Style};
use ratatui::widgets::Block;

/// What drawing a pane did: the places it drew, and where the real cursor goes in it.
#[derive(Debug, Default)]
pub struct PaneDrawn {
    pub damage: Vec<Rect>,
    pub cursor: Option<Position>,
}

/// Draws `screen` in `area` with `title`: all of it when told `again` (the frame is drawn
/// whole, or the pane's title or place changed), else only the rows its screen changed
/// since it was last drawn there. Places the real cursor when `focused`, the view is on the
/// live screen, and the program shows one. In copy mode, its cursor and selection are
/// drawn over the text (the pane drawn again each frame).
pub fn render(
    buf: &mut Buffer,
    area: Rect,
    screen: &mut Screen,
    title: &str,
    focused: bool,
    copy: Option<&Copy>,
    again: bool,
) -> PaneDrawn {
    let scrolled = screen.scrolled();
    let inner = Block::bordered().inner(area);
    let again = again || copy.is_some();
    let damage = if again {
        let mut title = format!(" {title} ");
        if scrolled > 0 {
            title.push_str(&format!("[scrollback: {scrolled} lines up] "));
        }
        let border = if focused {
            Style::new().fg(Color::Cyan)
        } else {
            Style::new()
        };
        draw_border(buf, area, &title, border);
        screen.render_changes(inner, buf, true);
        vec![area]
    } else {
        screen.render_changes(inner, buf, false)
    };
    if let Some(copy) = copy {
        highlight(buf, inner, screen, copy);
        return PaneDrawn {
            damage,
            cursor: None,
        };
    }
    let vt = screen.vt();
    let cursor = (focused && scrolled == 0 && !vt.hide_cursor())
        .then(|| vt.cursor_position())
        .filter(|(row, col)| *row < inner.height && *col < inner.width)
        .map(|(row, col)| Position::new(inner.x + col, inner.y + row));
    PaneDrawn { damage, cursor }
}

/// The pane's border with `title` on its top line, as `Block::bordered()` draws it, but
/// touching the border's cells alone: a block styles every cell of its area first, which for
/// a pane redrawn on every keystroke's echo was a fifth of the frame. (Its inside is the
/// screen's to clear and draw.)
fn draw_border(buf: &mut Buffer, area: Rect, title: &str, style: Style) {
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
    // Each cell afresh: a pane drawn over its last frame keeps no colour of an old focus.
    for (x, y, symbol) in edges.chain(corners) {
        buf[(x, y)].reset();
        buf[(x, y)].set_symbol(symbol).set_style(style);
    }
    buf.set_stringn(left + 1, top, title, usize::from(area.width - 2), style);
}

/// Draws an empty pane that says how to start a session.
pub fn render_empty(frame: &mut Frame, area: Rect, hint: &str) {
    crate::screen::clear(frame.buffer_mut(), area);
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
fn highlight(buf: &mut Buffer, inner: Rect, screen: &Screen, copy: &Copy) {
    let history = screen.history_len();
    let first = history - screen.scrolled().min(history);
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
