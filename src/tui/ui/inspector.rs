//! The inspector: what the selected container sees beside what the host sees: hostnames,
//! namespace ids, network interfaces and counters, and processes with their PID inside and
//! on the host.

use crate::runtime::inspect::{Inspection, NamespaceRow, ProcessInfo};
use crate::runtime::net::view::{Interface, NetView};
use crate::spec::limits::human;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Row, Table, TableState};

const BOLD: Style = Style::new().add_modifier(Modifier::BOLD);

/// Draws the inspector for `inspection`, or a placeholder while there is none. With
/// `host_view`, the process table lists every host process, the container's marked.
/// What the inspector shows of the container's filesystem, from its spec: its root and its
/// volumes, one line each.
pub type Mounts = Vec<String>;

pub fn render(
    frame: &mut Frame,
    area: Rect,
    inspection: Option<&Inspection>,
    host_view: bool,
    mounts: &Mounts,
    list: &ProcessList,
) {
    let Some(ins) = inspection else {
        let block = Block::bordered().title(" Inspector ");
        frame.render_widget(
            Paragraph::new("No running session selected.").block(block),
            area,
        );
        return;
    };
    let sections = sections(area, ins, mounts, host_view);
    for (panel, place) in PANELS.into_iter().zip(sections.panels) {
        match place {
            Place::Whole(at) => match panel {
                Panel::Hostnames => render_hostnames(frame, at, ins),
                Panel::Security => render_security(frame, at, ins, mounts),
                Panel::Namespaces => render_namespaces(frame, at, &ins.namespaces),
                Panel::Network => render_network(frame, at, ins.network.as_ref()),
            },
            Place::Folded(at) => frame.render_widget(
                Paragraph::new(Line::from(vec![
                    Span::styled(format!("▸ {} ", panel.title()), BOLD),
                    Span::raw(folded(panel, ins, mounts)),
                ])),
                at,
            ),
            Place::Hidden => {}
        }
    }
    render_processes(frame, sections.processes, ins, host_view, list);
}

/// The inspector's panels above the process list, top down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Panel {
    Hostnames,
    Security,
    Namespaces,
    Network,
}

const PANELS: [Panel; 4] = [
    Panel::Hostnames,
    Panel::Security,
    Panel::Namespaces,
    Panel::Network,
];

/// Which panels keep their room when there is not enough for all, first first: what the
/// container sees beside the host (hostname, namespaces), its root and privileges, then its
/// interfaces (folded, the line still gives its mode and address).
const PRIORITY: [Panel; 4] = [
    Panel::Hostnames,
    Panel::Namespaces,
    Panel::Security,
    Panel::Network,
];

impl Panel {
    fn title(self) -> &'static str {
        match self {
            Panel::Hostnames => "Hostname",
            Panel::Security => "Filesystem and privileges",
            Panel::Namespaces => "Namespaces",
            Panel::Network => "Network",
        }
    }
}

/// Where a panel goes: its whole box, one summary line, or nowhere (no line left).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Whole(Rect),
    Folded(Rect),
    Hidden,
}

struct Sections {
    /// In [`PANELS`]' order.
    panels: [Place; 4],
    processes: Rect,
}

/// A folded panel's line: what matters of it.
fn folded(panel: Panel, ins: &Inspection, mounts: &Mounts) -> String {
    match panel {
        Panel::Hostnames => format!(
            "{} (host {})",
            ins.hostname.as_deref().unwrap_or("?"),
            ins.host_hostname
        ),
        Panel::Security => {
            let root = mounts.first().map_or("", String::as_str);
            format!(
                "{root} · caps {:x} · seccomp {}{}",
                ins.security.cap_eff,
                if ins.security.seccomp == 2 {
                    "filter"
                } else {
                    "off"
                },
                match ins.security.host_ids() {
                    true => "",
                    false => " · own uids",
                }
            )
        }
        Panel::Namespaces => {
            let own = ins.namespaces.iter().filter(|r| r.isolated()).count();
            format!("{own} own, {} the host's", ins.namespaces.len() - own)
        }
        Panel::Network => match &ins.network {
            None => "-".to_string(),
            Some(n) => {
                let address = n
                    .inside
                    .iter()
                    .find(|i| i.name != "lo")
                    .and_then(|i| i.addresses.first().cloned());
                format!("{} {}", n.mode, address.unwrap_or_default())
            }
        },
    }
}

/// The inspector's places in `area`. The process list comes first: it gets a floor (its rows,
/// up to eight, with its border and header) before any other panel is placed; then each panel
/// gets one summary line while lines remain, then, in [`PRIORITY`], its whole box where it fits
/// in what is left (the privileges, last, what is left if that is five lines); the process
/// list takes whatever remains.
fn sections(area: Rect, ins: &Inspection, mounts: &Mounts, host_view: bool) -> Sections {
    let caps_len = ins.security.capability_names().join(" ").len() as u16;
    // Word wrapping may need a line more than the length alone says.
    let caps_lines = caps_len / area.width.saturating_sub(2).max(1) + 2;
    let network_lines = ins
        .network
        .as_ref()
        .map_or(1, |n| (2 * network_rows(n).len()).max(1));
    let whole = |panel: Panel| -> u16 {
        match panel {
            Panel::Hostnames => 4,
            Panel::Security => mounts.len() as u16 + 4 + caps_lines,
            Panel::Namespaces => ins.namespaces.len() as u16 + 3,
            Panel::Network => network_lines as u16 + 3,
        }
    };
    let processes = ordered(ins, host_view, Sort::Pid).len().clamp(1, 8) as u16;
    let mut left = area.height.saturating_sub(processes + 3);
    let mut heights = [0u16; 4];
    let mut folded = [false; 4];
    let index = |panel: Panel| PANELS.iter().position(|p| *p == panel).unwrap_or(0);
    // Every panel a line first, as far as they go; then, in priority, its whole box.
    for panel in PRIORITY {
        if left > 0 {
            (heights[index(panel)], folded[index(panel)]) = (1, true);
            left -= 1;
        }
    }
    for panel in PRIORITY {
        let at = index(panel);
        let more = whole(panel).saturating_sub(1);
        if !folded[at] {
            continue;
        }
        if more <= left {
            (heights[at], folded[at]) = (whole(panel), false);
            left -= more;
        } else if panel == Panel::Security && left + 1 >= 5 {
            // Its last lines are the capability names: cut, it still says root, volumes
            // and the masks.
            (heights[at], folded[at]) = (left + 1, false);
            left = 0;
        }
    }
    let mut y = area.y;
    let panels = std::array::from_fn(|i| {
        let height = heights[i];
        let rect = Rect::new(area.x, y, area.width, height);
        y += height;
        match (height, folded[i]) {
            (0, _) => Place::Hidden,
            (_, true) => Place::Folded(rect),
            _ => Place::Whole(rect),
        }
    });
    let processes = Rect::new(area.x, y, area.width, area.bottom().saturating_sub(y));
    Sections { panels, processes }
}

/// The row of the process list (in [`ordered`]'s order) drawn at screen row `y` of the
/// inspector in `area`, the list scrolled to show `list.selected`.
pub fn process_at(
    area: Rect,
    ins: &Inspection,
    mounts: &Mounts,
    host_view: bool,
    list: &ProcessList,
    y: u16,
) -> Option<usize> {
    let table = sections(area, ins, mounts, host_view).processes;
    let first = table.y + 2; // border, header
    if y < first || y >= table.bottom().saturating_sub(1) {
        return None;
    }
    let rows = ordered(ins, host_view, list.sort).len();
    let visible = usize::from(table.height.saturating_sub(3));
    let offset = super::sessions::offset(rows, list.selected.min(rows.saturating_sub(1)), visible);
    let row = offset + usize::from(y - first);
    (row < rows).then_some(row)
}

/// Root, volumes, and PID 1's capabilities, no_new_privs and seccomp mode (read live).
fn render_security(frame: &mut Frame, area: Rect, ins: &Inspection, mounts: &Mounts) {
    let sec = &ins.security;
    let caps = sec.capability_names();
    let seccomp = match sec.seccomp {
        0 => "off",
        1 => "strict",
        _ => "filter",
    };
    let mut lines: Vec<Line> = mounts.iter().map(|m| Line::raw(m.clone())).collect();
    lines.push(Line::from(vec![
        Span::styled("caps ", BOLD),
        Span::raw(format!("{:x}", sec.cap_eff)),
        Span::styled("  no_new_privs ", BOLD),
        Span::raw(if sec.no_new_privs { "1" } else { "0" }),
        Span::styled("  seccomp ", BOLD),
        Span::raw(seccomp),
    ]));
    lines.push(Line::raw(caps.join(" ")));
    lines.push(Line::from(vec![
        Span::styled("uids ", BOLD),
        Span::raw(sec.describe_uids()),
    ]));
    let paragraph = Paragraph::new(lines).wrap(ratatui::widgets::Wrap { trim: true });
    frame.render_widget(
        paragraph.block(Block::bordered().title(" Filesystem and privileges ")),
        area,
    );
}

fn render_hostnames(frame: &mut Frame, area: Rect, ins: &Inspection) {
    let container = ins.hostname.as_deref().unwrap_or("?");
    let lines = vec![
        Line::from(vec![Span::styled("container ", BOLD), Span::raw(container)]),
        Line::from(vec![
            Span::styled("host      ", BOLD),
            Span::raw(ins.host_hostname.as_str()),
        ]),
    ];
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" Hostname ")),
        area,
    );
}

/// The number inside `pid:[4026531836]`.
fn ns_id(link: Option<&String>) -> String {
    link.and_then(|l| l.split('[').nth(1))
        .map(|l| l.trim_end_matches(']').to_string())
        .unwrap_or_else(|| "-".into())
}

fn render_namespaces(frame: &mut Frame, area: Rect, rows: &[NamespaceRow]) {
    let body = rows.iter().map(|r| {
        let (mark, style) = if r.isolated() {
            ("own", Style::new().fg(Color::Green))
        } else {
            ("host's", Style::new().fg(Color::Yellow))
        };
        Row::new([
            r.kind.to_string(),
            ns_id(r.container.as_ref()),
            ns_id(r.host.as_ref()),
            mark.to_string(),
        ])
        .style(style)
    });
    let table = Table::new(
        body,
        [
            Constraint::Length(7),
            Constraint::Length(11),
            Constraint::Length(11),
            Constraint::Min(6),
        ],
    )
    .header(Row::new(["NS", "CONTAINER", "HOST", ""]).style(BOLD))
    .block(Block::bordered().title(" Namespaces "));
    frame.render_widget(table, area);
}

/// The network's rows, two lines each (the name over its side, the counters over their
/// rates): the container's own interfaces, then the host's end of its veth and its bridge.
fn network_rows(net: &NetView) -> Vec<Row<'static>> {
    let rate = |r: Option<u64>| r.map_or("-".to_string(), |r| format!("{}/s", human(r)));
    let row = |side: &str, i: &Interface, note: &str, style: Style| {
        let address = match (i.addresses.first(), note.is_empty()) {
            (Some(a), _) => a.clone(),
            (None, false) => note.to_string(),
            (None, true) => "-".into(),
        };
        Row::new([
            format!("{}\n {side}", i.name),
            address,
            format!("{}\n{}", human(i.rx_bytes), rate(i.rx_rate)),
            format!("{}\n{}", human(i.tx_bytes), rate(i.tx_rate)),
        ])
        .height(2)
        .style(style)
    };
    let inside = Style::new().fg(Color::Green);
    let host = Style::new().fg(Color::Yellow);
    let mut rows: Vec<Row> = net
        .inside
        .iter()
        .map(|i| row("container", i, "", inside))
        .collect();
    let bridge = net
        .bridge
        .as_ref()
        .map(|b| b.name.clone())
        .unwrap_or_default();
    if let Some(veth) = &net.host_veth {
        rows.push(row("host", veth, &format!("on {bridge}"), host));
    }
    if let Some(b) = &net.bridge {
        rows.push(row("host", b, "", host));
    }
    rows
}

fn render_network(frame: &mut Frame, area: Rect, net: Option<&NetView>) {
    let (rows, title) = match net {
        None => (Vec::new(), " Network ".to_string()),
        Some(n) if n.mode == "host" => (
            vec![Row::new(["(the host's)", "", "", ""])],
            " Network: host ".to_string(),
        ),
        Some(n) => (network_rows(n), format!(" Network: {} ", n.mode)),
    };
    let table = Table::new(
        rows,
        [
            Constraint::Length(15),
            Constraint::Length(16),
            Constraint::Length(10),
            Constraint::Min(8),
        ],
    )
    .header(Row::new(["IFACE", "ADDRESS", "RX", "TX"]).style(BOLD))
    .block(Block::bordered().title(title));
    frame.render_widget(table, area);
}

/// How the process list is ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Sort {
    #[default]
    Pid,
    Cpu,
    Memory,
}

impl Sort {
    pub fn next(self) -> Sort {
        match self {
            Sort::Pid => Sort::Cpu,
            Sort::Cpu => Sort::Memory,
            Sort::Memory => Sort::Pid,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Sort::Pid => "PID",
            Sort::Cpu => "CPU",
            Sort::Memory => "memory",
        }
    }
}

/// The process list as the user left it: its order, and the selected row while the list has
/// the keyboard.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ProcessList {
    pub sort: Sort,
    pub selected: usize,
    pub focused: bool,
}

/// The process list's rows in the order drawn: the container's processes (alone, or first in
/// the host view, the host's after them), each group ordered by `sort`.
pub fn ordered(ins: &Inspection, host_view: bool, sort: Sort) -> Vec<&ProcessInfo> {
    let mut rows: Vec<&ProcessInfo> = ins
        .processes
        .iter()
        .filter(|p| host_view || p.container_pid.is_some())
        .collect();
    rows.sort_by(|a, b| {
        let group = b.container_pid.is_some().cmp(&a.container_pid.is_some());
        let by = match sort {
            Sort::Pid => a
                .container_pid
                .cmp(&b.container_pid)
                .then(a.host_pid.cmp(&b.host_pid)),
            Sort::Cpu => b.cpu_permille.cmp(&a.cpu_permille),
            Sort::Memory => b.rss_kib.cmp(&a.rss_kib),
        };
        group.then(by).then(a.host_pid.cmp(&b.host_pid))
    });
    rows
}

fn process_row(p: &ProcessInfo, host_view: bool) -> Row<'static> {
    let cpid = p.container_pid.map(|c| c.to_string()).unwrap_or_default();
    let (first, second) = match host_view {
        true => (p.host_pid.to_string(), cpid),
        false => (cpid, p.host_pid.to_string()),
    };
    let cpu = p
        .cpu_permille
        .map_or("-".to_string(), |c| format!("{}.{}", c / 10, c % 10));
    let row = Row::new([
        first,
        second,
        p.user.clone(),
        p.state.to_string(),
        cpu,
        human(p.rss_kib << 10),
        p.command.clone(),
    ]);
    if host_view && p.container_pid.is_some() {
        row.style(Style::new().fg(Color::Green).add_modifier(Modifier::BOLD))
    } else {
        row
    }
}

fn render_processes(
    frame: &mut Frame,
    area: Rect,
    ins: &Inspection,
    host_view: bool,
    list: &ProcessList,
) {
    let rows = ordered(ins, host_view, list.sort);
    let inside = rows.iter().filter(|p| p.container_pid.is_some()).count();
    let (header, what) = match host_view {
        true => (
            ["HOST", "CTR", "USER", "S", "CPU%", "MEM", "COMMAND"],
            format!("Host processes: {} ({inside} in container)", rows.len()),
        ),
        false => (
            ["PID", "HOST PID", "USER", "S", "CPU%", "MEM", "COMMAND"],
            format!("Container processes: {}", rows.len()),
        ),
    };
    // Border, header: what is left shows rows; the title says which when not all fit.
    let visible = usize::from(area.height.saturating_sub(3));
    let selected = list.selected.min(rows.len().saturating_sub(1));
    let offset = super::sessions::offset(rows.len(), selected, visible);
    let mut title = format!(" {what} · by {} ", list.sort.name());
    if rows.len() > visible {
        let last = (offset + visible).min(rows.len());
        let more = if last < rows.len() { " ↓" } else { "" };
        title.push_str(&format!("· {}-{last} of {}{more} ", offset + 1, rows.len()));
    }
    let border = match list.focused {
        true => Style::new().fg(Color::Cyan),
        false => Style::new(),
    };
    let table = Table::new(
        rows.iter().map(|p| process_row(p, host_view)),
        [
            Constraint::Length(7),
            Constraint::Length(8),
            Constraint::Length(8),
            Constraint::Length(1),
            Constraint::Length(5),
            Constraint::Length(8),
            Constraint::Min(8),
        ],
    )
    .header(Row::new(header).style(BOLD))
    .block(Block::bordered().title(title).border_style(border))
    .row_highlight_style(Style::new().add_modifier(Modifier::REVERSED));
    let mut state = TableState::default()
        .with_offset(offset)
        .with_selected(list.focused.then_some(selected));
    frame.render_stateful_widget(table, area, &mut state);
}
