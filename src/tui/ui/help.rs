//! The help overlay: every key, with the prefix as configured.

use super::centered;
use crate::tui::commands::{BINDINGS, OTHER};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

/// The help over `area`, its lines from `top` on when the window is too short for all of them.
pub fn render(frame: &mut Frame, area: Rect, prefix: &str, top: u16) {
    let rows = BINDINGS
        .iter()
        .map(|b| (b.keys, b.help))
        .chain(OTHER.iter().copied());
    let lines: Vec<Line> = rows
        .map(|(keys, what)| {
            Line::from(vec![
                Span::styled(
                    format!("{:<20}", keys.replace("{p}", prefix)),
                    Style::new().add_modifier(Modifier::BOLD),
                ),
                Span::raw(what.replace("{p}", prefix)),
            ])
        })
        .collect();
    // As wide as the longest line, so no key's help is cut where the window has room.
    let width = lines.iter().map(|l| l.width()).max().unwrap_or(0) as u16 + 2;
    let total = lines.len() as u16;
    let popup = centered(area, width, total + 2);
    let shown = popup.height.saturating_sub(2);
    let top = top.min(total.saturating_sub(shown));
    frame.render_widget(Clear, popup);
    let bottom = match total > shown {
        true => format!(
            " lines {}-{} of {total}: ↑/↓ scroll · any other key closes ",
            top + 1,
            top + shown
        ),
        false => " any key closes ".to_string(),
    };
    let block = Block::bordered().title(" Keys ").title_bottom(bottom);
    frame.render_widget(Paragraph::new(lines).block(block).scroll((top, 0)), popup);
}
