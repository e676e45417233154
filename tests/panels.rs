//! Snapshot tests of each dashboard panel, drawn with ratatui's TestBackend from fixture data:
//! no container, no root needed. `cargo insta review` after an intended change.

use my_container_tui::runtime::inspect::{Inspection, NamespaceRow, ProcessInfo, Security};
use my_container_tui::runtime::net::view::{Interface, NetView};
use my_container_tui::tui::ui::{self, form::FormView, sessions::SessionRow};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use std::time::Duration;

fn draw(width: u16, height: u16, f: impl FnOnce(&mut ratatui::Frame)) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(f).unwrap();
    terminal.backend().to_string()
}

fn rows() -> Vec<SessionRow> {
    vec![
        SessionRow {
            mark: None,
            pane: None,
            name: "session-1".into(),
            running: true,
            state: "running".into(),
            hostname: "my-container-1".into(),
            ip: "172.17.0.2".into(),
            image: "host".into(),
            ports: "0.0.0.0:8080->80/tcp".into(),
            init_pid: Some(4242),
            uptime: Duration::from_secs(3725),
            cpu_percent: Some(12.4),
            memory: Some(13 << 20),
            memory_limit: Some(64 << 20),
            pids: Some(3),
        },
        SessionRow {
            mark: Some('!'),
            pane: None,
            name: "build".into(),
            running: false,
            state: "exited 137 (SIGKILL)".into(),
            hostname: "builder".into(),
            ip: "none".into(),
            image: "alpine:latest".into(),
            ports: String::new(),
            init_pid: None,
            uptime: Duration::from_secs(75),
            cpu_percent: None,
            memory: None,
            memory_limit: None,
            pids: None,
        },
        SessionRow {
            mark: Some('#'),
            pane: None,
            name: "hog".into(),
            running: false,
            state: "OOM-killed (137)".into(),
            hostname: "my-container-3".into(),
            ip: "-".into(),
            image: "/srv/busybox".into(),
            ports: String::new(),
            init_pid: None,
            uptime: Duration::from_secs(4),
            cpu_percent: None,
            memory: None,
            memory_limit: None,
            pids: None,
        },
    ]
}

fn process(host_pid: i32, container_pid: Option<i32>, state: char, command: &str) -> ProcessInfo {
    ProcessInfo {
        host_pid,
        container_pid,
        host_ppid: 1,
        user: "root".into(),
        state,
        command: command.into(),
        ..Default::default()
    }
}

fn inspection() -> Inspection {
    let ns = |kind: &'static str, c: u64, h: u64| NamespaceRow {
        kind,
        container: Some(format!("{kind}:[{c}]")),
        host: Some(format!("{kind}:[{h}]")),
    };
    Inspection {
        init_pid: 4242,
        hostname: Some("my-container-1".into()),
        host_hostname: "laptop".into(),
        processes: vec![
            process(1, None, 'S', "/sbin/init"),
            process(4240, None, 'S', "my-container-tui"),
            process(4241, None, 'S', "my-container-tui __helper"),
            process(4242, Some(1), 'S', "/bin/bash"),
            process(4250, Some(7), 'R', "ps aux"),
        ],
        namespaces: vec![
            ns("pid", 4026532177, 4026531836),
            ns("uts", 4026532179, 4026531838),
            ns("mnt", 4026532178, 4026531832),
            ns("net", 4026532181, 4026531833),
            ns("ipc", 4026532180, 4026531839),
            ns("cgroup", 4026532250, 4026531835),
            ns("user", 4026531837, 4026531837),
            ns("time", 4026531834, 4026531834),
        ],
        security: Security {
            cap_eff: 0xa80425fb,
            no_new_privs: true,
            seccomp: 2,
            uid_map: vec![(0, 0, u32::MAX)],
        },
        network: None,
    }
}

fn interface(
    name: &str,
    address: Option<&str>,
    rx: u64,
    tx: u64,
    rates: Option<(u64, u64)>,
) -> Interface {
    Interface {
        name: name.into(),
        addresses: address.map(String::from).into_iter().collect(),
        rx_bytes: rx,
        tx_bytes: tx,
        rx_rate: rates.map(|r| r.0),
        tx_rate: rates.map(|r| r.1),
    }
}

/// A bridged container that downloaded 3 MiB: its eth0 received what the host's veth sent.
fn network() -> NetView {
    NetView {
        mode: "bridge".into(),
        inside: vec![
            interface("lo", Some("127.0.0.1/8"), 0, 0, Some((0, 0))),
            interface(
                "eth0",
                Some("172.17.0.2/16"),
                3 << 20,
                40 << 10,
                Some((512 << 10, 6 << 10)),
            ),
        ],
        host_veth: Some(interface(
            "vethfb8c5916e01",
            None,
            40 << 10,
            3 << 20,
            Some((6 << 10, 512 << 10)),
        )),
        bridge: Some(interface(
            "mct0",
            Some("172.17.0.1/16"),
            40 << 10,
            3 << 20,
            None,
        )),
        at: std::time::Instant::now(),
    }
}

#[test]
fn session_list() {
    insta::assert_snapshot!(draw(156, 7, |f| ui::sessions::render(
        f,
        f.area(),
        &rows(),
        0
    )));
}

/// The width a wide window has beyond the columns' least goes to what would be cut (state,
/// image, ports, name); a list taller than its place says what is hidden.
#[test]
fn a_wide_session_list_shows_whole_cells_and_says_what_is_hidden() {
    let mut rows = rows();
    rows[1].state = "exited 137 (SIGKILL) 3 minutes ago".into();
    rows[1].image = "registry.example.com/team/app:1".into();
    rows[0].ports = "0.0.0.0:8080->80/tcp".into();
    let wide = draw(200, 7, |f| ui::sessions::render(f, f.area(), &rows, 0));
    for whole in [
        "exited 137 (SIGKILL) 3 minutes ago",
        "registry.example.com/team/app:1",
        "0.0.0.0:8080->80/tcp",
        "PORTS",
    ] {
        assert!(wide.contains(whole), "{whole:?} whole in:\n{wide}");
    }
    // Two rows shown of three, the selection on the last: the first is hidden above.
    let short = draw(120, 5, |f| ui::sessions::render(f, f.area(), &rows, 2));
    assert!(short.contains("Sessions 2-3 of 3 ↑"), "{short}");
    let top = draw(120, 5, |f| ui::sessions::render(f, f.area(), &rows, 0));
    assert!(top.contains("Sessions 1-2 of 3 ↓"), "{top}");
}

/// At 80x24 the list keeps to three rows (a quarter of the window), six at 50 rows.
#[test]
fn a_short_window_gives_the_list_fewer_rows() {
    let small = ui::Areas::new(Rect::new(0, 0, 80, 24), 8, true);
    assert_eq!(small.sessions.height, 3 + 3);
    let tall = ui::Areas::new(Rect::new(0, 0, 200, 50), 8, true);
    assert_eq!(tall.sessions.height, 6 + 3);
}

#[test]
fn session_list_rows_are_clickable() {
    let area = Rect::new(0, 0, 100, 6);
    assert_eq!(ui::sessions::row_at(area, 2, 0, 1), None, "header");
    assert_eq!(ui::sessions::row_at(area, 2, 0, 2), Some(0));
    assert_eq!(ui::sessions::row_at(area, 2, 0, 3), Some(1));
    assert_eq!(
        ui::sessions::row_at(area, 2, 0, 4),
        None,
        "below the last session"
    );
}

/// With 12 sessions in a list that shows 6 and the last selected, the list has scrolled: a
/// click on a row selects the session drawn on it (it used to ignore the scroll).
#[test]
fn a_click_in_a_scrolled_list_selects_the_row_under_it() {
    let rows: Vec<SessionRow> = (1..=12)
        .map(|i| SessionRow {
            name: format!("s-{i:02}"),
            ..rows()[0].clone()
        })
        .collect();
    let area = Rect::new(0, 0, 156, 9);
    for selected in [0, 5, 6, 11] {
        let drawn = draw(156, 9, |f| ui::sessions::render(f, area, &rows, selected));
        for (y, line) in drawn.lines().enumerate() {
            let hit = ui::sessions::row_at(area, rows.len(), selected, y as u16);
            let shown = rows.iter().position(|r| line.contains(&r.name));
            assert_eq!(hit, shown, "selected {selected}, row {y}: {line}");
        }
    }
}

#[test]
fn inspector_container_view() {
    let ins = inspection();
    let mounts = vec![
        "root  /srv/images/busybox (overlay)".to_string(),
        "vol   /data <- /home/me/data (ro)".to_string(),
    ];
    insta::assert_snapshot!(draw(50, 34, |f| ui::inspector::render(
        f,
        f.area(),
        Some(&ins),
        false,
        &mounts,
        &Default::default()
    )));
}

/// A container with a user namespace of its own: its uid map, inside beside the host's ids.
#[test]
fn inspector_shows_a_user_namespaces_ids() {
    let mut ins = inspection();
    ins.security.uid_map = vec![(0, 2147483648, 65536)];
    let mounts = vec!["root  the host's / (read-only)".to_string()];
    insta::assert_snapshot!(draw(60, 34, |f| ui::inspector::render(
        f,
        f.area(),
        Some(&ins),
        false,
        &mounts,
        &Default::default()
    )));
}

/// A short inspector keeps its process list whole (its rows before any panel) and folds what
/// does not fit to a line each, never an empty box.
#[test]
fn a_short_inspector_folds_panels_and_keeps_the_processes() {
    let ins = inspection();
    let mounts = vec!["root  /srv/images/busybox (overlay)".to_string()];
    let drawn = draw(56, 14, |f| {
        ui::inspector::render(f, f.area(), Some(&ins), false, &mounts, &Default::default())
    });
    assert!(
        drawn.contains("ps aux") && drawn.contains("/bin/bas"),
        "{drawn}"
    );
    assert!(drawn.contains("▸ Namespaces"), "{drawn}");
    assert!(
        !drawn.contains("┌ Namespaces"),
        "no box too small for its rows:\n{drawn}"
    );
}

#[test]
fn inspector_host_view_marks_container_processes() {
    let ins = inspection();
    let mounts = vec!["root  the host's / (read-only)".to_string()];
    insta::assert_snapshot!(draw(50, 34, |f| ui::inspector::render(
        f,
        f.area(),
        Some(&ins),
        true,
        &mounts,
        &Default::default()
    )));
}

#[test]
fn inspector_network_inside_beside_the_host() {
    let mut ins = inspection();
    ins.processes.truncate(0);
    ins.network = Some(network());
    insta::assert_snapshot!(draw(56, 40, |f| ui::inspector::render(
        f,
        f.area(),
        Some(&ins),
        false,
        &vec!["root  the host's / (read-only)".to_string()],
        &Default::default()
    )));
}

#[test]
fn inspector_without_a_session() {
    insta::assert_snapshot!(draw(40, 4, |f| ui::inspector::render(
        f,
        f.area(),
        None,
        false,
        &Vec::new(),
        &Default::default()
    )));
}

#[test]
fn terminal_pane_shows_the_emulated_screen() {
    let mut screen = my_container_tui::screen::Screen::new(4, 30, 100);
    screen.process(b"root@my-container-1:/# echo hi\r\nhi\r\n\x1b[1mbold\x1b[0m $ ");
    insta::assert_snapshot!(draw(32, 6, |f| {
        let area = f.area();
        let drawn = ui::terminal::render(
            f.buffer_mut(),
            area,
            &mut screen,
            "1: session-1",
            true,
            None,
            true,
        );
        if let Some(at) = drawn.cursor {
            f.set_cursor_position(at);
        }
    }));
}

#[test]
fn usage_panel_with_cpu_history() {
    let view = ui::usage::UsageView {
        cpu_percent: Some(20.0),
        memory: Some(3 << 19),
        memory_limit: Some(32 << 20),
        pids: Some(7),
        history: vec![0, 5, 20, 20, 19, 21, 100, 50, 20],
    };
    insta::assert_snapshot!(draw(50, 5, |f| ui::usage::render(f, f.area(), &view)));
}

#[test]
fn memory_reads_against_its_limit() {
    use ui::sessions::format_memory;
    assert_eq!(
        format_memory(Some(3 << 19), Some(32 << 20)),
        "1.5 MiB / 32 MiB"
    );
    assert_eq!(format_memory(Some(2048), None), "2 KiB");
    assert_eq!(format_memory(None, Some(1)), "-");
}

#[test]
fn help_overlay() {
    insta::assert_snapshot!(draw(110, 30, |f| ui::help::render(
        f,
        f.area(),
        "Ctrl-a",
        0
    )));
}

#[test]
fn new_session_form() {
    let typed = [
        "web",
        "",
        "",
        "/srv/busybox",
        "",
        "app",
        "8080:80",
        "256m",
        "",
        "",
        "",
        "",
    ];
    let form = FormView {
        values: typed.map(ui::form::Input::new),
        defaults: [
            "session-3".into(),
            "my-container-3".into(),
            "/bin/bash".into(),
            "(none: the host's files)".into(),
            "(none)".into(),
            "bridge".into(),
            "(none) e.g. 8080:80 53:53/udp".into(),
            "(no limit) e.g. 256m".into(),
            "(no limit) e.g. 0.5".into(),
            "(none more) e.g. DEBUG=1 LANG=C.UTF-8".into(),
            "(none more) e.g. /srv/data:/data:ro".into(),
            "/".into(),
        ],
        focus: 1,
        error: None,
        error_at: None,
        images: vec!["alpine:latest".into(), "debian:minbase".into()],
    };
    insta::assert_snapshot!(draw(80, 18, |f| ui::form::render(f, f.area(), &form)));
    // A long reason is shown whole, wrapped, not cut at the form's edge.
    let failed = FormView {
        error: Some(
            "the container name \"web\" is already in use by container 0123456789ab; \
             choose another name or remove that container first"
                .into(),
        ),
        error_at: Some(0),
        focus: 0,
        ..form
    };
    // Under the name it is about, wrapped, whole.
    insta::assert_snapshot!(
        "form_error_under_its_field",
        draw(80, 20, |f| ui::form::render(f, f.area(), &failed))
    );
}

#[test]
fn image_list() {
    use ui::images::{ImageList, ImageRow};
    let row = |reference: &str, layers, users: &[&str]| ImageRow {
        reference: reference.into(),
        id: "8eab2ce337ec".into(),
        size: "1.98MB".into(),
        layers,
        created: "2 hours ago".into(),
        users: users.iter().map(|u| u.to_string()).collect(),
    };
    let list = ImageList {
        rows: vec![
            row("snap:1", 2, &[]),
            row("base:1", 1, &["session-1", "web"]),
        ],
        selected: 1,
    };
    insta::assert_snapshot!(draw(100, 10, |f| ui::images::render(f, f.area(), &list)));
    let empty = draw(100, 10, |f| {
        ui::images::render(f, f.area(), &ImageList::default())
    });
    assert!(empty.contains("No images: pull, build"), "{empty}");
}

#[test]
fn commit_form_says_an_error_under_its_field() {
    use ui::commit::CommitForm;
    let mut form = CommitForm::new("session-1");
    form.values[0] = ui::form::Input::new("x@sha256:00");
    form.error = Some((
        0,
        "invalid reference format: a digest is 64 hex digits".into(),
    ));
    insta::assert_snapshot!(draw(80, 10, |f| ui::commit::render(f, f.area(), &form)));
}

#[test]
fn status_line() {
    insta::assert_snapshot!(draw(60, 1, |f| ui::status::render(
        f,
        f.area(),
        " Kill session-1? (y/n)",
        true
    )));
}

#[test]
fn too_small_terminal_gets_a_message() {
    assert!(ui::too_small(Rect::new(0, 0, 59, 30)));
    assert!(!ui::too_small(Rect::new(0, 0, 60, 15)));
    insta::assert_snapshot!(draw(40, 3, |f| ui::draw_too_small(f, "Ctrl-b")));
}

#[test]
fn layout_gives_the_terminal_most_of_the_space() {
    let areas = ui::Areas::new(Rect::new(0, 0, 160, 45), 2, true);
    assert_eq!(areas.sessions.height, 5);
    assert_eq!(areas.terminal.width, 104);
    assert_eq!(areas.pty_size(), (37, 102));
    let without = ui::Areas::new(Rect::new(0, 0, 160, 45), 2, false);
    assert_eq!(without.inspector, None);
    assert_eq!(without.pty_size(), (37, 158));
}

/// Below 138 columns the shell keeps the width: at 80x24 it gets 78 columns (it got 38),
/// with the inspector below it when opened, else folded to a line.
#[test]
fn a_narrow_window_puts_the_inspector_below_the_terminal() {
    for width in [80, 100, 120, 137] {
        let open = ui::Areas::new(Rect::new(0, 0, width, 24), 1, true);
        assert_eq!(open.pty_size().1, width - 2, "{width} columns");
        let inspector = open.inspector.expect("the inspector is open");
        assert!(inspector.y >= open.terminal.bottom(), "below the terminal");
        let folded = ui::Areas::new(Rect::new(0, 0, width, 24), 1, false);
        assert_eq!(folded.summary.map(|s| s.height), Some(1));
        assert_eq!(folded.pty_size(), (24 - 4 - 1 - 1 - 2, width - 2));
    }
    let wide = ui::Areas::new(Rect::new(0, 0, 138, 24), 1, true);
    assert_eq!(
        wide.pty_size().1,
        80,
        "beside, the terminal keeps 80 columns"
    );
}

/// At 100 columns whole columns give way (the image, PID 1 on the host, the address) and
/// memory is shown whole; it used to be cut. At 80 the name, state and hostname stay.
#[test]
fn a_narrow_session_list_keeps_memory_whole() {
    let drawn = draw(100, 7, |f| ui::sessions::render(f, f.area(), &rows(), 0));
    assert!(drawn.contains("MEMORY"), "{drawn}");
    assert!(drawn.contains("13 MiB / 64 MiB"), "{drawn}");
    let drawn = draw(80, 7, |f| ui::sessions::render(f, f.area(), &rows(), 0));
    assert!(drawn.contains("exited 137 (SIGKILL)"), "{drawn}");
    assert!(drawn.contains("my-container-1"), "{drawn}");
}

/// 41 processes in a list that shows 7: the title says which are shown and that more
/// follow; focused, the list scrolls to the selected row; sorted by memory, the largest
/// first; in the host view, the container's processes come first whatever their PIDs.
#[test]
fn the_process_list_scrolls_sorts_and_puts_the_container_first() {
    use ui::inspector::{ProcessList, Sort, ordered};
    let mut ins = inspection();
    ins.processes = (1..=41)
        .map(|i| ProcessInfo {
            rss_kib: (i as u64 * 37) % 101,
            ..process(5000 + i, Some(i), 'S', &format!("worker-{i}"))
        })
        .chain([process(10, None, 'S', "host-daemon")])
        .collect();
    let area = Rect::new(0, 0, 56, 40);
    let mounts = vec!["root  the host's / (read-only)".to_string()];
    let drawn = draw(56, 40, |f| {
        ui::inspector::render(f, area, Some(&ins), false, &mounts, &ProcessList::default())
    });
    assert!(drawn.contains("of 41 ↓"), "{drawn}");
    let focused = ProcessList {
        selected: 30,
        focused: true,
        sort: Sort::Pid,
    };
    let drawn = draw(56, 40, |f| {
        ui::inspector::render(f, area, Some(&ins), false, &mounts, &focused)
    });
    assert!(
        drawn.contains("worker-31"),
        "the selected row is shown:\n{drawn}"
    );
    assert!(!drawn.contains("worker-1 "), "the list scrolled:\n{drawn}");
    let by_memory = ordered(&ins, false, Sort::Memory);
    assert!(by_memory.windows(2).all(|w| w[0].rss_kib >= w[1].rss_kib));
    let host = ordered(&ins, true, Sort::Pid);
    assert_eq!(host.len(), 42);
    assert_eq!(
        host.last().map(|p| p.host_pid),
        Some(10),
        "the host's after the container's"
    );
}

/// In a 24-row window the help shows a part, says which, and scrolls to the rest.
#[test]
fn a_short_window_scrolls_the_help() {
    use my_container_tui::tui::commands::{BINDINGS, OTHER};
    let total = BINDINGS.len() + OTHER.len();
    let top = draw(110, 24, |f| ui::help::render(f, f.area(), "Ctrl-a", 0));
    assert!(top.contains(&format!("lines 1-22 of {total}")), "{top}");
    assert!(top.contains("Ctrl-a c "), "{top}");
    let rest = draw(110, 24, |f| ui::help::render(f, f.area(), "Ctrl-a", 100));
    assert!(rest.contains("any other key"), "{rest}");
    assert!(
        rest.contains(&format!("lines {}-{total} of {total}", total - 21)),
        "{rest}"
    );
}
