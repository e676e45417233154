//! The session list: name, state, container hostname, address, image, host PID of PID 1,
//! uptime and usage.

use crate::runtime::cgroups::limits::human;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::{Block, Cell, Row, Table, TableState};
use std::time::Duration;

/// One line of the list.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRow {
    pub name: String,
    pub running: bool,
    /// "running", "exited 0", "exited 137 (SIGKILL)", ...
    pub state: String,
    pub hostname: String,
    /// Its address on its bridge network, or its network mode (`none`, `host`).
    pub ip: String,
    /// The image (`alpine:latest`), the rootfs directory, or `(host)`.
    pub image: String,
    pub init_pid: Option<i32>,
    pub uptime: Duration,
    /// CPU in percent of one core, over the last second.
    pub cpu_percent: Option<f64>,
    pub memory: Option<u64>,
    pub memory_limit: Option<u64>,
    pub pids: Option<u64>,
}

/// `12 MiB`, or `12 MiB / 64 MiB` against a limit; `-` when unknown.
pub fn format_memory(used: Option<u64>, limit: Option<u64>) -> String {
    match (used, limit) {
        (Some(u), Some(l)) => format!("{} / {}", human(u), human(l)),
        (Some(u), None) => human(u),
        _ => "-".into(),
    }
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
    let header = Row::new([
        "#",
        "NAME",
        "STATE",
        "HOSTNAME",
        "IP",
        "IMAGE",
        "PID 1 ON HOST",
        "UPTIME",
        "CPU",
        "MEMORY",
        "PIDS",
    ])
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
            Cell::from(r.ip.clone()),
            Cell::from(r.image.clone()),
            Cell::from(
                r.init_pid
                    .map(|p| p.to_string())
                    .unwrap_or_else(|| "-".into()),
            ),
            Cell::from(format_uptime(r.uptime)),
            Cell::from(
                r.cpu_percent
                    .map(|c| format!("{c:.0}%"))
                    .unwrap_or_else(|| "-".into()),
            ),
            Cell::from(format_memory(r.memory, r.memory_limit)),
            Cell::from(r.pids.map(|p| p.to_string()).unwrap_or_else(|| "-".into())),
        ])
    });
    let table = Table::new(
        body,
        [
            Constraint::Length(3),
            Constraint::Length(14),
            Constraint::Length(22),
            Constraint::Length(16),
            Constraint::Length(15),
            Constraint::Length(16),
            Constraint::Length(13),
            Constraint::Length(8),
            Constraint::Length(5),
            Constraint::Length(19),
            Constraint::Length(5),
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
