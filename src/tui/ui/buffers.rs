//! The buffer list (prefix `=`, tmux's choose-buffer): what copy mode copied, newest first,
//! each as its size and its first line, to paste one.

use super::centered;
use crate::printable::{cut, escaped};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::widgets::{Block, Cell, Clear, Row, Table, TableState};

/// The list over `area`, `row` highlighted.
pub fn render(frame: &mut Frame, area: Rect, buffers: &[&str], row: usize) {
    let height = (buffers.len() as u16 + 2)
        .min(area.height.saturating_sub(2))
        .max(3);
    let popup = centered(area, 80.min(area.width.saturating_sub(2)), height);
    let rows: Vec<Row> = buffers
        .iter()
        .enumerate()
        .map(|(i, text)| {
            // The copy is a container's output: shown with its controls made visible.
            let first = text.lines().next().unwrap_or("");
            Row::new([
                Cell::from(i.to_string()),
                Cell::from(format!("{} chars", text.chars().count())),
                Cell::from(cut(&escaped(first), 60)),
            ])
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Length(3),
            Constraint::Length(12),
            Constraint::Min(10),
        ],
    )
    .block(Block::bordered().title(" Copies: Enter pastes · d drops · Esc leaves "))
    .row_highlight_style(Style::new().add_modifier(Modifier::REVERSED));
    let shown = usize::from(popup.height.saturating_sub(2));
    let mut state = TableState::default()
        .with_offset(super::sessions::offset(buffers.len(), row, shown))
        .with_selected(Some(row));
    frame.render_widget(Clear, popup);
    frame.render_stateful_widget(table, popup, &mut state);
}
