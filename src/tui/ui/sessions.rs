//! The session list: name, state, container hostname, host PID of PID 1, uptime.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::{Block, Cell, Row, Table, TableState};
use std::time::Duration;

/// One line of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub name: String,
    pub running: bool,
    /// "running", "exited 0", "exited 137 (SIGKILL)", ...
    pub state: String,
    pub hostname: String,
    pub init_pid: Option<i32>,
    pub uptime: Duration,
}

/// `1:02:03` or `2:03`.
pub fn format_uptime(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

pub fn render(frame: &mut Frame, area: Rect, rows: &[SessionRow], selected: usize) {
    let header = Row::new(["#", "NAME", "STATE", "HOSTNAME", "PID 1 ON HOST", "UPTIME"])
        .style(Style::new().add_modifier(Modifier::BOLD));
    let body = rows.iter().enumerate().map(|(i, r)| {
        let state_style = if r.running {
            Style::new().fg(Color::Green)
        } else {
            Style::new().fg(Color::DarkGray)
        };
        Row::new([
            Cell::from((i + 1).to_string()),
            Cell::from(r.name.clone()),
            Cell::from(r.state.clone()).style(state_style),
            Cell::from(r.hostname.clone()),
            Cell::from(
                r.init_pid
                    .map(|p| p.to_string())
                    .unwrap_or_else(|| "-".into()),
            ),
            Cell::from(format_uptime(r.uptime)),
        ])
    });
    let table = Table::new(
        body,
        [
            Constraint::Length(3),
            Constraint::Length(16),
            Constraint::Length(22),
            Constraint::Length(20),
            Constraint::Length(14),
            Constraint::Length(9),
        ],
    )
    .header(header)
    .block(Block::bordered().title(" Sessions "))
    .row_highlight_style(Style::new().add_modifier(Modifier::REVERSED))
    .highlight_symbol("▶ ");
    let mut state = TableState::default().with_selected((!rows.is_empty()).then_some(selected));
    frame.render_stateful_widget(table, area, &mut state);
}

/// The row index (0-based) of a click at screen row `y`, if it hit a session.
pub fn row_at(area: Rect, rows: usize, y: u16) -> Option<usize> {
    let first = area.y + 2; // border, header
    (y >= first && y < first + rows as u16 && y < area.bottom() - 1).then(|| usize::from(y - first))
}
