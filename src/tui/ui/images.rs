//! The image list (prefix `I`): the store's images with their size, layers and the sessions
//! that use each, over the dashboard. Enter opens the new-session form on the chosen image.

use super::centered;
use crate::printable::cut;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::widgets::{Block, Cell, Clear, Row, Table, TableState};

/// One image as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRow {
    /// The name the form takes (`alpine:3.19`), or the short id of an untagged image.
    pub reference: String,
    pub id: String,
    /// Decimal, as `images` prints it (`7.80MB`).
    pub size: String,
    pub layers: usize,
    /// `3 hours ago`.
    pub created: String,
    /// The sessions whose container runs it, by name.
    pub users: Vec<String>,
}

/// The list and its highlighted row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageList {
    pub rows: Vec<ImageRow>,
    pub selected: usize,
}

impl ImageList {
    /// ↑/↓ wrap round; Home/End go to the ends.
    pub fn step(&mut self, by: isize) {
        let n = self.rows.len().max(1) as isize;
        self.selected = (self.selected as isize + by).rem_euclid(n) as usize;
    }

    pub fn chosen(&self) -> Option<&ImageRow> {
        self.rows.get(self.selected)
    }
}

/// The list over `area`, as wide as the window allows up to 120 columns.
pub fn render(frame: &mut Frame, area: Rect, list: &ImageList) {
    let height = (list.rows.len().max(1) as u16 + 3)
        .min(area.height.saturating_sub(2))
        .max(4);
    let popup = centered(area, 120.min(area.width.saturating_sub(2)), height);
    let rows: Vec<Row> = match list.rows.is_empty() {
        true => vec![Row::new([Cell::from(
            "No images: pull, build, load or import one (or give one in the new-session form)",
        )])],
        false => list
            .rows
            .iter()
            .map(|r| {
                let users = match r.users.len() {
                    0 => "-".to_string(),
                    _ => r.users.join(", "),
                };
                Row::new([
                    Cell::from(r.reference.clone()),
                    Cell::from(r.id.clone()),
                    Cell::from(r.size.clone()),
                    Cell::from(r.layers.to_string()),
                    Cell::from(cut(&r.created, 16)),
                    Cell::from(users),
                ])
            })
            .collect(),
    };
    let widths = match list.rows.is_empty() {
        true => vec![Constraint::Min(10)],
        false => vec![
            Constraint::Min(24),
            Constraint::Length(12),
            Constraint::Length(9),
            Constraint::Length(6),
            Constraint::Length(16),
            Constraint::Fill(1),
        ],
    };
    let mut table = Table::new(rows, widths)
        .block(Block::bordered().title(" Images: Enter starts a session of one · Esc leaves "))
        .row_highlight_style(Style::new().add_modifier(Modifier::REVERSED));
    if !list.rows.is_empty() {
        table = table.header(
            Row::new(["IMAGE", "ID", "SIZE", "LAYERS", "CREATED", "USED BY"])
                .style(Style::new().add_modifier(Modifier::BOLD)),
        );
    }
    let shown = usize::from(popup.height.saturating_sub(3));
    let mut state = TableState::default()
        .with_offset(super::sessions::offset(
            list.rows.len(),
            list.selected,
            shown,
        ))
        .with_selected((!list.rows.is_empty()).then_some(list.selected));
    frame.render_widget(Clear, popup);
    frame.render_stateful_widget(table, popup, &mut state);
}
