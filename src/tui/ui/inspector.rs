//! The inspector: what the selected container sees beside what the host sees: hostnames,
//! namespace ids, network interfaces and counters, and processes with their PID inside and
//! on the host.

use crate::runtime::cgroups::limits::human;
use crate::runtime::inspect::{Inspection, NamespaceRow, ProcessInfo};
use crate::runtime::net::view::{Interface, NetView};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Row, Table};

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
) {
    let Some(ins) = inspection else {
        let block = Block::bordered().title(" Inspector ");
        frame.render_widget(
            Paragraph::new("No running session selected.").block(block),
            area,
        );
        return;
    };
    let caps_len = ins.security.capability_names().join(" ").len() as u16;
    // Word wrapping may need a line more than the length alone says.
    let caps_lines = caps_len / area.width.saturating_sub(2).max(1) + 2;
    let network_lines = ins
        .network
        .as_ref()
        .map_or(1, |n| (2 * network_rows(n).len()).max(1));
    let [names, security, namespaces, network, processes] = Layout::vertical([
        Constraint::Length(4),
        Constraint::Length(mounts.len() as u16 + 3 + caps_lines),
        Constraint::Length(ins.namespaces.len() as u16 + 3),
        Constraint::Length(network_lines as u16 + 3),
        Constraint::Min(4),
    ])
    .areas(area);
    render_hostnames(frame, names, ins);
    render_security(frame, security, ins, mounts);
    render_namespaces(frame, namespaces, &ins.namespaces);
    render_network(frame, network, ins.network.as_ref());
    render_processes(frame, processes, ins, host_view);
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

fn process_row(p: &ProcessInfo, host_view: bool) -> Row<'static> {
    let cpid = p.container_pid.map(|c| c.to_string()).unwrap_or_default();
    let cells = if host_view {
        [
            p.host_pid.to_string(),
            cpid,
            p.user.clone(),
            p.state.to_string(),
            p.command.clone(),
        ]
    } else {
        [
            cpid,
            p.host_pid.to_string(),
            p.user.clone(),
            p.state.to_string(),
            p.command.clone(),
        ]
    };
    let row = Row::new(cells);
    if host_view && p.container_pid.is_some() {
        row.style(Style::new().fg(Color::Green).add_modifier(Modifier::BOLD))
    } else {
        row
    }
}

fn render_processes(frame: &mut Frame, area: Rect, ins: &Inspection, host_view: bool) {
    let (rows, header, title): (Vec<Row>, [&str; 5], String) = if host_view {
        let rows = ins.processes.iter().map(|p| process_row(p, true)).collect();
        let inside = ins
            .processes
            .iter()
            .filter(|p| p.container_pid.is_some())
            .count();
        (
            rows,
            ["HOST", "CTR", "USER", "S", "COMMAND"],
            format!(
                " Host processes: {} ({} in container) ",
                ins.processes.len(),
                inside
            ),
        )
    } else {
        let inside = ins.container_processes();
        let title = format!(" Container processes: {} ", inside.len());
        (
            inside.into_iter().map(|p| process_row(p, false)).collect(),
            ["PID", "HOST PID", "USER", "S", "COMMAND"],
            title,
        )
    };
    let table = Table::new(
        rows,
        [
            Constraint::Length(7),
            Constraint::Length(8),
            Constraint::Length(8),
            Constraint::Length(1),
            Constraint::Min(8),
        ],
    )
    .header(Row::new(header).style(BOLD))
    .block(Block::bordered().title(title));
    frame.render_widget(table, area);
}
