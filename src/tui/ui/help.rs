//! The help overlay: every key, with the prefix as configured.

use super::centered;
use crate::tui::commands::{BINDINGS, OTHER};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

pub fn render(frame: &mut Frame, area: Rect, prefix: &str) {
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
    let popup = centered(area, width, lines.len() as u16 + 2);
    frame.render_widget(Clear, popup);
    let block = Block::bordered()
        .title(" Keys ")
        .title_bottom(" any key closes ");
    frame.render_widget(Paragraph::new(lines).block(block), popup);
}
