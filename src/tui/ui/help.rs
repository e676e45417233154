//! The help overlay: every key, with the prefix as configured.

use super::centered;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

/// The key table, as (keys, what they do); `{p}` stands for the prefix.
pub const KEYS: [(&str, &str); 16] = [
    (
        "{p} c",
        "new session (form: name, hostname, command, rootfs)",
    ),
    ("{p} n, {p} p", "next / previous session"),
    ("{p} 0-9", "select session 1-10 (0 is the tenth)"),
    ("{p} k", "kill the session's container (asks y/n)"),
    ("{p} r", "restart an exited session"),
    ("{p} x", "remove an exited session from the list"),
    ("{p} i", "show / hide the inspector"),
    (
        "{p} h",
        "inspector: container processes / all host processes",
    ),
    (
        "{p} [",
        "scrollback: Up/Down, PgUp/PgDn, g/G, q or Esc to leave",
    ),
    ("{p} ?", "this help"),
    (
        "{p} q",
        "quit, ending every session (asks y/n while any runs)",
    ),
    ("{p} a", "send a literal {p} to the shell"),
    ("{p} Esc", "cancel the prefix"),
    ("mouse click", "select a session in the list"),
    ("mouse wheel", "scroll back through the terminal"),
    ("any other key", "goes to the selected session's shell"),
];

pub fn render(frame: &mut Frame, area: Rect, prefix: &str) {
    let lines: Vec<Line> = KEYS
        .iter()
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
    let popup = centered(area, 80, KEYS.len() as u16 + 2);
    frame.render_widget(Clear, popup);
    let block = Block::bordered()
        .title(" Keys ")
        .title_bottom(" any key closes ");
    frame.render_widget(Paragraph::new(lines).block(block), popup);
}
