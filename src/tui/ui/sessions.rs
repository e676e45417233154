//! The session list: name, state, container hostname, address, image, host PID of PID 1,
//! uptime and usage.

use crate::spec::limits::human;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::{Block, Cell, Row, Table, TableState};
use std::time::Duration;

/// One line of the list.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRow {
    /// tmux's window flag: `#` output, `!` the bell, since it was last looked at.
    pub mark: Option<char>,
    /// The pane it is shown in (1-based), with several sessions shown.
    pub pane: Option<usize>,
    pub name: String,
    pub running: bool,
    /// "running", "exited 0", "exited 137 (SIGKILL)", ...
    pub state: String,
    pub hostname: String,
    /// Its address on its bridge network, or its network mode (`none`, `host`).
    pub ip: String,
    /// The image (`alpine:latest`), the rootfs directory, or `(host)`.
    pub image: String,
    /// Published ports (`0.0.0.0:8080->80/tcp, ...`), empty for none.
    pub ports: String,
    pub init_pid: Option<i32>,
    pub uptime: Duration,
    /// CPU in percent of one core, over the last second.
    pub cpu_percent: Option<f64>,
    pub memory: Option<u64>,
    pub memory_limit: Option<u64>,
    pub pids: Option<u64>,
}

impl std::hash::Hash for SessionRow {
    /// What the row shows: the uptime to the second, the CPU by its bits.
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (
            self.mark,
            self.pane,
            &self.name,
            self.running,
            &self.state,
            &self.hostname,
            &self.ip,
            &self.image,
            &self.ports,
        )
            .hash(state);
        (
            self.init_pid,
            self.uptime.as_secs(),
            self.cpu_percent.map(f64::to_bits),
            self.memory,
            self.memory_limit,
            self.pids,
        )
            .hash(state)
    }
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

/// The list's columns: header, least width, and when each gives way in a narrow window (the
/// highest first; 0 never).
const COLUMNS: [(&str, u16, u8); 12] = [
    ("#", 3, 0),
    ("NAME", 14, 0),
    ("STATE", 22, 0),
    ("HOSTNAME", 16, 1),
    ("IP", 15, 5),
    ("IMAGE", 16, 7),
    ("PORTS", 5, 8),
    ("PID 1 ON HOST", 13, 6),
    ("UPTIME", 8, 3),
    ("CPU", 5, 3),
    ("MEMORY", 19, 2),
    ("PIDS", 5, 4),
];

/// The columns that take the width left over, in this order, each up to its longest cell:
/// STATE, NAME, IMAGE, PORTS, HOSTNAME (what gets cut when they are kept narrow). NAME before
/// IMAGE: it is what a row is known by (a pod's `POD/CONTAINER` runs long), where an image
/// or a bundle's rootfs path can take all there is.
const GROWING: [usize; 5] = [2, 1, 5, 6, 3];

/// The text of column `i` in `row` (what its width must hold).
fn cell(row: &SessionRow, n: usize, i: usize) -> String {
    match i {
        0 => match row.mark {
            Some(mark) => format!("{}{mark}", n + 1),
            None => (n + 1).to_string(),
        },
        1 => row.name.clone(),
        2 => row.state.clone(),
        3 => row.hostname.clone(),
        4 => row.ip.clone(),
        5 => row.image.clone(),
        6 if row.ports.is_empty() => "-".into(),
        6 => row.ports.clone(),
        7 => row.init_pid.map_or_else(|| "-".into(), |p| p.to_string()),
        8 => format_uptime(row.uptime),
        9 => row
            .cpu_percent
            .map_or_else(|| "-".into(), |c| format!("{c:.0}%")),
        10 => format_memory(row.memory, row.memory_limit),
        _ => row.pids.map_or_else(|| "-".into(), |p| p.to_string()),
    }
}

/// The columns (indices into [`COLUMNS`]) that fit in `width`, with their widths: whole
/// columns give way, least useful first, rather than the last ones being cut; the width left
/// goes to the [`GROWING`] columns as far as their cells need it.
fn fitting(width: u16, rows: &[SessionRow]) -> Vec<(usize, u16)> {
    let mut kept: Vec<usize> = (0..COLUMNS.len()).collect();
    // Borders, the highlight symbol, and a space between columns.
    let need = |kept: &[usize]| -> u16 { 4 + kept.iter().map(|&i| COLUMNS[i].1 + 1).sum::<u16>() };
    while need(&kept) > width {
        let Some(at) = kept
            .iter()
            .enumerate()
            .filter(|(_, i)| COLUMNS[**i].2 > 0)
            .max_by_key(|(_, i)| COLUMNS[**i].2)
            .map(|(at, _)| at)
        else {
            break;
        };
        kept.remove(at);
    }
    let mut spare = width.saturating_sub(need(&kept));
    let mut widths: Vec<(usize, u16)> = kept.iter().map(|&i| (i, COLUMNS[i].1)).collect();
    for grow in GROWING {
        let Some(column) = widths.iter_mut().find(|(i, _)| *i == grow) else {
            continue;
        };
        let longest = rows
            .iter()
            .enumerate()
            .map(|(n, r)| cell(r, n, grow).chars().count() as u16)
            .max()
            .unwrap_or(0);
        let more = longest.saturating_sub(column.1).min(spare);
        column.1 += more;
        spare -= more;
    }
    widths
}

pub fn render(frame: &mut Frame, area: Rect, rows: &[SessionRow], selected: usize) {
    let kept = fitting(area.width, rows);
    let header = Row::new(kept.iter().map(|&(i, _)| COLUMNS[i].0))
        .style(Style::new().add_modifier(Modifier::BOLD));
    let body = rows.iter().enumerate().map(|(n, r)| {
        let style = |i: usize| match i {
            0 if r.mark.is_some() => Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            2 if r.running => Style::new().fg(Color::Green),
            2 => Style::new().fg(Color::DarkGray),
            _ => Style::new(),
        };
        Row::new(
            kept.iter()
                .map(|&(i, _)| Cell::from(cell(r, n, i)).style(style(i)))
                .collect::<Vec<_>>(),
        )
    });
    // Rows the list cannot show are said in its title, above and below.
    let (shown, first) = (visible(area), offset(rows.len(), selected, visible(area)));
    let title = match rows.len() > shown {
        false => " Sessions ".to_string(),
        true => format!(
            " Sessions {}-{} of {}{}{} ",
            first + 1,
            (first + shown).min(rows.len()),
            rows.len(),
            if first > 0 { " ↑" } else { "" },
            if first + shown < rows.len() {
                " ↓"
            } else {
                ""
            },
        ),
    };
    let table = Table::new(body, kept.iter().map(|&(_, w)| Constraint::Length(w)))
        .header(header)
        .block(Block::bordered().title(title))
        .row_highlight_style(Style::new().add_modifier(Modifier::REVERSED))
        .highlight_symbol("▶ ");
    let mut state = TableState::default()
        .with_offset(first)
        .with_selected((!rows.is_empty()).then_some(selected));
    frame.render_stateful_widget(table, area, &mut state);
}

/// Rows of sessions the list in `area` shows (its border and header aside).
fn visible(area: Rect) -> usize {
    usize::from(area.height.saturating_sub(3))
}

/// The first row shown: the list scrolls only as far as it must to show the selected row.
/// Computed here, not left to the table, so a click maps back to the row under it.
pub fn offset(rows: usize, selected: usize, visible: usize) -> usize {
    selected
        .min(rows.saturating_sub(1))
        .saturating_sub(visible.saturating_sub(1))
}

/// The row index (0-based) of a click at screen row `y` in the list drawn in `area` with
/// `selected` selected, if it hit a session.
pub fn row_at(area: Rect, rows: usize, selected: usize, y: u16) -> Option<usize> {
    let first = area.y + 2; // border, header
    let shown =
        (y >= first && y < area.bottom().saturating_sub(1)).then(|| usize::from(y - first))?;
    let row = offset(rows, selected, visible(area)) + shown;
    (row < rows).then_some(row)
}

/// The list of every session to pick from (prefix `"`), over the dashboard, `row` highlighted.
pub fn render_chooser(frame: &mut Frame, area: Rect, rows: &[SessionRow], row: usize) {
    let height = (rows.len() as u16 + 2)
        .min(area.height.saturating_sub(2))
        .max(3);
    let popup = super::centered(area, 84, height);
    let lines: Vec<Row> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            Row::new([
                Cell::from((i + 1).to_string()),
                Cell::from(r.pane.map(|p| format!("pane {p}")).unwrap_or_default()),
                Cell::from(r.name.clone()),
                Cell::from(r.state.clone()),
                Cell::from(r.hostname.clone()),
            ])
        })
        .collect();
    let table = Table::new(
        lines,
        [
            Constraint::Length(3),
            Constraint::Length(7),
            Constraint::Length(20),
            Constraint::Length(28),
            Constraint::Min(10),
        ],
    )
    .block(Block::bordered().title(" Sessions: Enter picks, Space shows in a pane, Esc leaves "))
    .row_highlight_style(Style::new().add_modifier(Modifier::REVERSED));
    let shown = usize::from(popup.height.saturating_sub(2));
    let mut state = TableState::default()
        .with_offset(offset(rows.len(), row, shown))
        .with_selected(Some(row));
    frame.render_widget(ratatui::widgets::Clear, popup);
    frame.render_stateful_widget(table, popup, &mut state);
}
