//! The dashboard's logic through the fake backend: keys, the form, the selection, renames and
//! removals, with no root, namespace or terminal.

use super::{App, Mode};
use crate::tui::backend::fake::Fake;
use crate::tui::encode::Prefix;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

thread_local! {
    /// What the sessions and the backend report, as the dashboard's event loop would get it.
    static EVENTS: std::cell::RefCell<Vec<crate::session::SessionEvent>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

fn app() -> (App, Fake) {
    let fake = Fake::default();
    // The fake reports on the test's own thread: the events wait here for the next key.
    let notify: crate::session::Notify = std::sync::Arc::new(|event| {
        let _ = EVENTS.try_with(|events| events.borrow_mut().push(event));
    });
    let app = App::new(Prefix('a'), notify, Box::new(fake.clone()));
    (app, fake)
}

/// Hands the reported events to the app, as the event loop does between keys.
fn pump(app: &mut App) {
    for event in EVENTS.with(|events| std::mem::take(&mut *events.borrow_mut())) {
        app.on_session_event(event);
    }
}

fn press(app: &mut App, keys: &[KeyCode]) {
    for &code in keys {
        app.handle_key(KeyEvent::new(code, KeyModifiers::NONE));
        pump(app);
    }
}

fn prefix(app: &mut App, code: KeyCode) {
    app.handle_key(KeyEvent::new(KeyCode::Char('a'), KeyModifiers::CONTROL));
    press(app, &[code]);
}

/// An exited session started again through `prefix r`, and removed through `prefix x`.
#[test]
fn restart_and_remove_go_through_the_backend() {
    let (mut app, fake) = app();
    fake.add("done", false);
    app.sync();
    prefix(&mut app, KeyCode::Char('r'));
    assert!(fake.calls.borrow().contains(&"start done".to_string()));
    assert!(app.sessions[0].is_running(), "the listing after the start");
    app.sessions[0].exited(0);
    prefix(&mut app, KeyCode::Char('x'));
    // Not started here: asked first.
    assert_eq!(app.mode, Mode::ConfirmRemove);
    press(&mut app, &[KeyCode::Char('y')]);
    assert!(
        fake.calls
            .borrow()
            .contains(&"remove done false".to_string())
    );
    assert!(app.sessions.is_empty());
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, &[KeyCode::Char(c)]);
    }
}

/// `prefix c`, then the form's fields as typed (by Tab), then Enter.
fn new_session(app: &mut App, fields: &[(usize, &str)]) {
    prefix(app, KeyCode::Char('c'));
    let mut at = 0;
    for &(field, text) in fields {
        while at < field {
            press(app, &[KeyCode::Tab]);
            at += 1;
        }
        type_text(app, text);
    }
    press(app, &[KeyCode::Enter]);
}

fn names(app: &App) -> Vec<String> {
    app.sessions.iter().map(|s| s.name.clone()).collect()
}

#[test]
fn enter_on_the_form_starts_a_shell_session_of_ours() {
    let (mut app, fake) = app();
    new_session(&mut app, &[]);
    assert_eq!(app.mode, Mode::Normal);
    assert_eq!(names(&app), ["session-1"]);
    assert!(app.sessions[0].mine());
    let calls = fake.calls.borrow();
    assert!(calls[0].starts_with("launch session-1 /"), "{calls:?}");
}

#[test]
fn a_bad_value_puts_the_cursor_on_its_field() {
    let (mut app, fake) = app();
    let memory = crate::tui::ui::form::field("memory");
    // Typed in Memory, then the cursor moved on before Enter.
    prefix(&mut app, KeyCode::Char('c'));
    for _ in 0..memory {
        press(&mut app, &[KeyCode::Tab]);
    }
    type_text(&mut app, "lots");
    press(&mut app, &[KeyCode::Tab, KeyCode::Tab, KeyCode::Enter]);
    let Mode::NewSession(form) = &app.mode else {
        panic!("the form closed: {:?}", app.mode);
    };
    assert_eq!(form.focus, memory);
    assert_eq!(
        form.error_at,
        Some(memory),
        "the error is drawn under its field"
    );
    assert!(
        form.error.as_deref().is_some_and(|e| e.contains("lots")),
        "{:?}",
        form.error
    );
    assert!(fake.calls.borrow().is_empty(), "nothing was started");
}

#[test]
fn the_forms_name_and_command_reach_the_backend() {
    let (mut app, fake) = app();
    new_session(&mut app, &[(0, "web"), (2, "echo hi")]);
    assert_eq!(names(&app), ["web"]);
    assert_eq!(fake.calls.borrow()[0], "launch web /bin/sh -c echo hi");
}

#[test]
fn sync_lists_other_containers_and_drops_removed_ones() {
    let (mut app, fake) = app();
    let theirs = fake.add("theirs", true);
    app.sync();
    assert_eq!(names(&app), ["theirs"]);
    assert!(!app.sessions[0].mine());
    fake.records.borrow_mut().retain(|r| r.id != theirs.id);
    app.sync();
    assert!(app.sessions.is_empty());
}

#[test]
fn a_running_session_is_not_removed() {
    let (mut app, fake) = app();
    new_session(&mut app, &[]);
    prefix(&mut app, KeyCode::Char('x'));
    assert!(
        app.message
            .as_deref()
            .is_some_and(|m| m.contains("kill it first")),
        "{:?}",
        app.message
    );
    assert_eq!(fake.calls.borrow().len(), 1, "only the launch");
}

/// After `x`, the selection stays among this dashboard's sessions: a second `x` never
/// reaches a container someone else started.
#[test]
fn the_selection_after_a_removal_stays_among_ours() {
    let (mut app, fake) = app();
    new_session(&mut app, &[(0, "mine-1")]);
    fake.add("theirs", false);
    app.sync();
    new_session(&mut app, &[(0, "mine-2")]);
    assert_eq!(names(&app), ["mine-1", "theirs", "mine-2"]);
    assert_eq!(app.selected, 2);
    app.sessions[2].exited(0);
    prefix(&mut app, KeyCode::Char('x'));
    assert_eq!(names(&app), ["mine-1", "theirs"]);
    assert_eq!(app.selected().map(|s| s.name.as_str()), Some("mine-1"));
    assert!(
        fake.calls
            .borrow()
            .contains(&"remove mine-2 false".to_string())
    );
}

#[test]
fn next_previous_and_last_move_the_selection() {
    let (mut app, _fake) = app();
    for name in ["a", "b", "c"] {
        new_session(&mut app, &[(0, name)]);
    }
    assert_eq!(app.selected, 2);
    prefix(&mut app, KeyCode::Char('n'));
    assert_eq!(app.selected, 0, "next wraps around");
    prefix(&mut app, KeyCode::Char('p'));
    assert_eq!(app.selected, 2);
    prefix(&mut app, KeyCode::Char('2'));
    assert_eq!(app.selected, 1);
    // The prefix twice: back to the one selected before.
    for _ in 0..2 {
        app.handle_key(KeyEvent::new(KeyCode::Char('a'), KeyModifiers::CONTROL));
    }
    assert_eq!(app.selected, 2);
    prefix(&mut app, KeyCode::Char('9'));
    assert_eq!(app.message.as_deref(), Some(" No session 9"));
}

#[test]
fn rename_goes_through_the_backend_and_renames_its_exec_shells() {
    let (mut app, fake) = app();
    new_session(&mut app, &[(0, "old")]);
    prefix(&mut app, KeyCode::Char('e'));
    assert_eq!(names(&app), ["old", "old/exec"]);
    prefix(&mut app, KeyCode::Char('1'));
    prefix(&mut app, KeyCode::Char('A'));
    app.handle_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    type_text(&mut app, "new");
    press(&mut app, &[KeyCode::Enter]);
    assert_eq!(names(&app), ["new", "new/exec"]);
    assert!(fake.calls.borrow().contains(&"rename new".to_string()));
}

#[test]
fn an_unknown_prefix_key_says_so() {
    let (mut app, _fake) = app();
    prefix(&mut app, KeyCode::Char('Z'));
    assert!(
        app.message
            .as_deref()
            .is_some_and(|m| m.contains("no such command")),
        "{:?}",
        app.message
    );
}

/// A listing begun before a launch (made off the UI thread) does not drop the new session;
/// one begun after is applied.
#[test]
fn a_stale_listing_does_not_drop_a_new_session() {
    let (mut app, fake) = app();
    let before = std::time::Instant::now();
    let stale = crate::tui::backend::Listing::default();
    new_session(&mut app, &[(0, "fresh")]);
    app.listed(stale, before);
    assert_eq!(names(&app), ["fresh"]);
    fake.records.borrow_mut().clear();
    app.listed(
        crate::tui::backend::Listing::default(),
        std::time::Instant::now(),
    );
    assert!(app.sessions.is_empty());
}

/// A click on a row of the session list selects that session.
#[test]
fn a_click_in_the_list_selects_its_session() {
    use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    let (mut app, _fake) = app();
    for name in ["a", "b", "c"] {
        new_session(&mut app, &[(0, name)]);
    }
    let areas = app.areas(ratatui::layout::Rect::new(0, 0, 160, 45));
    // The list's first row of sessions is under its border and header.
    let row = (areas.sessions.y..areas.sessions.bottom())
        .find(|&row| {
            crate::tui::ui::sessions::row_at(areas.sessions, 3, app.selected, row) == Some(0)
        })
        .expect("a row for the first session");
    app.handle_mouse(
        MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: areas.sessions.x + 2,
            row,
            modifiers: KeyModifiers::NONE,
        },
        &areas,
    );
    assert_eq!(app.selected().map(|s| s.name.as_str()), Some("a"));
}

/// The names of the sessions shown in panes, in pane order.
fn shown(app: &App) -> Vec<String> {
    let ids = app.panes().map(|p| p.shown).unwrap_or_default();
    ids.iter()
        .filter_map(|id| app.sessions.iter().find(|s| s.id == *id))
        .map(|s| s.name.clone())
        .collect()
}

fn focused(app: &App) -> String {
    app.selected().map(|s| s.name.clone()).unwrap_or_default()
}

/// `prefix |` shows the last session beside this one; `prefix Tab` moves the focus between
/// the panes, then to the process list and round; `prefix X` closes the panes.
#[test]
fn a_pane_takes_the_last_session_and_tab_moves_the_focus() {
    let (mut app, _fake) = app();
    for name in ["a", "b"] {
        new_session(&mut app, &[(0, name)]);
    }
    prefix(&mut app, KeyCode::Char('|'));
    assert_eq!(shown(&app), ["b", "a"]);
    assert_eq!(focused(&app), "b");
    prefix(&mut app, KeyCode::Tab);
    assert_eq!(focused(&app), "a");
    assert_eq!(app.focused_index(), 1);
    prefix(&mut app, KeyCode::Char('X'));
    assert!(app.panes().is_none());
}

/// Three and more sessions: each `prefix |` adds one not shown yet, `prefix Space` goes
/// round the layouts, the arrows move the focus the way they point in a tiled grid, and
/// selecting a session not shown puts it in the focused pane.
#[test]
fn panes_tile_any_number_of_sessions_and_arrows_follow_the_grid() {
    let (mut app, _fake) = app();
    for name in ["a", "b", "c", "d", "e"] {
        new_session(&mut app, &[(0, name)]);
    }
    let areas = app.areas(ratatui::layout::Rect::new(0, 0, 200, 50));
    app.resize(&areas);
    for _ in 0..3 {
        prefix(&mut app, KeyCode::Char('|'));
    }
    assert_eq!(shown(&app), ["e", "d", "a", "b"]);
    let layout = |app: &App| app.panes().map(|p| p.layout);
    assert_eq!(
        layout(&app),
        Some(crate::tui::ui::PaneLayout::EvenHorizontal)
    );
    prefix(&mut app, KeyCode::Char(' '));
    assert_eq!(layout(&app), Some(crate::tui::ui::PaneLayout::EvenVertical));
    prefix(&mut app, KeyCode::Char(' '));
    assert_eq!(layout(&app), Some(crate::tui::ui::PaneLayout::Tiled));
    assert!(app.status().0.contains("tiled"), "{:?}", app.status());
    // Tiled, 2x2: e d / a b.
    prefix(&mut app, KeyCode::Right);
    assert_eq!(focused(&app), "d");
    prefix(&mut app, KeyCode::Down);
    assert_eq!(focused(&app), "b");
    prefix(&mut app, KeyCode::Left);
    assert_eq!(focused(&app), "a");
    prefix(&mut app, KeyCode::Left);
    assert_eq!(focused(&app), "a", "no pane further left: no wrapping");
    prefix(&mut app, KeyCode::Up);
    assert_eq!(focused(&app), "e");
    // `prefix 1` (a) is shown: the focus moves to its pane...
    prefix(&mut app, KeyCode::Char('1'));
    assert_eq!(app.focused_index(), 2);
    // ...and `prefix 3` (c), not shown, takes the focused pane's place.
    prefix(&mut app, KeyCode::Char('3'));
    assert_eq!(shown(&app), ["e", "d", "c", "b"]);
    assert_eq!(focused(&app), "c");
}

/// The chooser's Space shows the highlighted session in a pane, or no more; the focused one
/// stays. A pane too small to use is refused with the reason.
#[test]
fn the_chooser_picks_the_sessions_shown_and_small_panes_are_refused() {
    let (mut app, _fake) = app();
    for name in ["a", "b", "c", "d"] {
        new_session(&mut app, &[(0, name)]);
    }
    prefix(&mut app, KeyCode::Char('3'));
    prefix(&mut app, KeyCode::Char('"'));
    press(&mut app, &[KeyCode::Home, KeyCode::Char(' ')]);
    assert_eq!(shown(&app), ["c", "a"]);
    assert_eq!(app.mode, Mode::Choose(0), "the chooser stays open");
    press(&mut app, &[KeyCode::Down, KeyCode::Char(' ')]);
    assert_eq!(shown(&app), ["c", "a", "b"]);
    assert_eq!(app.rows()[1].pane, Some(3));
    press(&mut app, &[KeyCode::Home, KeyCode::Char(' ')]);
    assert_eq!(shown(&app), ["c", "b"]);
    press(
        &mut app,
        &[KeyCode::Down, KeyCode::Down, KeyCode::Char(' ')],
    );
    assert!(app.status().0.contains("stays shown"), "{:?}", app.status());
    press(&mut app, &[KeyCode::Esc]);
    // In an 80x24 window, a fourth pane side by side would be too narrow: tiled instead; and
    // at 60x15 no third pane at all.
    let area = ratatui::layout::Rect::new(0, 0, 80, 24);
    let areas = app.areas(area);
    app.resize(&areas);
    prefix(&mut app, KeyCode::Char('|'));
    prefix(&mut app, KeyCode::Char('|'));
    assert_eq!(shown(&app).len(), 4);
    assert_eq!(
        app.panes().map(|p| p.layout),
        Some(crate::tui::ui::PaneLayout::Tiled)
    );
    let small = ratatui::layout::Rect::new(0, 0, 60, 15);
    prefix(&mut app, KeyCode::Char('X'));
    prefix(&mut app, KeyCode::Char('|'));
    let areas = app.areas(small);
    app.resize(&areas);
    prefix(&mut app, KeyCode::Char('|'));
    assert!(app.status().0.contains("No room"), "{:?}", app.status());
    assert_eq!(shown(&app).len(), 2);
}

/// `prefix =` lists the copies kept, newest first: `d` drops one, Enter makes one what
/// `prefix ]` pastes; with none, it says how to copy.
#[test]
fn the_buffer_list_drops_and_picks_copies() {
    let (mut app, _fake) = app();
    new_session(&mut app, &[]);
    prefix(&mut app, KeyCode::Char('='));
    assert!(
        app.status().0.contains("Nothing copied yet"),
        "{:?}",
        app.status()
    );
    app.buffers
        .extend(["newest".to_string(), "middle".into(), "oldest".into()]);
    prefix(&mut app, KeyCode::Char('='));
    assert_eq!(app.mode, Mode::Buffers(0));
    press(&mut app, &[KeyCode::Down, KeyCode::Char('d')]);
    assert_eq!(app.buffers, ["newest", "oldest"]);
    assert_eq!(app.mode, Mode::Buffers(1));
    press(&mut app, &[KeyCode::Enter]);
    assert_eq!(app.mode, Mode::Normal);
    assert_eq!(app.paste_buffer.as_deref(), Some("oldest"));
}

/// Paints `app`'s frame over the last one (as the dashboard does) on `painted`, draws it whole
/// on `whole` (as ratatui's own `Terminal::draw` would), and asserts both show the same.
fn same_frames(
    app: &App,
    painter: &mut crate::tui::paint::Painter,
    painted: &mut ratatui::Terminal<ratatui::backend::TestBackend>,
    whole: &mut ratatui::Terminal<ratatui::backend::TestBackend>,
    after: &str,
) {
    use ratatui::backend::Backend;
    let area = whole.get_frame().area();
    painter
        .paint(painted, app.layout(area), |f, w| app.paint(f, w))
        .unwrap();
    whole.draw(|f| app.draw(f)).unwrap();
    assert_eq!(
        painted.backend().buffer(),
        whole.backend().buffer(),
        "after {after}"
    );
    assert_eq!(
        painted.backend_mut().get_cursor_position().unwrap(),
        whole.backend_mut().get_cursor_position().unwrap(),
        "the cursor after {after}"
    );
}

/// Frames painted over the last one, where only what changed is drawn (an echo's frame
/// draws one row of one pane), show what frames drawn whole show: through output in one
/// pane and another, a flood that scrolls, panes added, copy mode, the inspector folded,
/// an overlay opened and closed.
#[test]
fn frames_drawn_in_parts_show_what_whole_frames_show() {
    let (mut app, _fake) = app();
    for name in ["a", "b", "c"] {
        new_session(&mut app, &[(0, name)]);
    }
    let area = ratatui::layout::Rect::new(0, 0, 150, 45);
    let backend = || ratatui::Terminal::new(ratatui::backend::TestBackend::new(150, 45)).unwrap();
    let (mut painted, mut whole) = (backend(), backend());
    let mut painter = crate::tui::paint::Painter::default();
    let mut step = |app: &mut App, after: &str| {
        app.resize(&app.areas(area));
        same_frames(app, &mut painter, &mut painted, &mut whole, after);
    };
    step(&mut app, "the first frame");
    let output = |app: &App, i: usize, bytes: &[u8]| app.sessions[i].screen().process(bytes);
    output(
        &app,
        app.selected,
        b"$ ls\r\nfile\r\n\x1b[1;32mgreen\x1b[m $ ",
    );
    step(&mut app, "output");
    for key in ["~", "~", "\x08 \x08", "中"] {
        output(&app, app.selected, key.as_bytes());
        step(&mut app, &format!("the echo of {key:?}"));
    }
    prefix(&mut app, KeyCode::Char('|'));
    step(&mut app, "a second pane");
    let other = (app.selected + 1) % app.sessions.len();
    output(&app, other, b"in the other pane\r\n");
    output(&app, app.selected, b"x");
    step(&mut app, "output in both panes");
    let flood: String = (0..200).map(|i| format!("line {i}\r\n")).collect();
    output(&app, app.selected, flood.as_bytes());
    step(&mut app, "a flood");
    prefix(&mut app, KeyCode::Char('['));
    press(&mut app, &[KeyCode::Up, KeyCode::PageUp]);
    step(&mut app, "copy mode, looking back");
    press(&mut app, &[KeyCode::Char('q')]);
    step(&mut app, "copy mode left");
    // Copy mode on the live screen: its cursor and selection go when it is left.
    prefix(&mut app, KeyCode::Char('['));
    press(
        &mut app,
        &[KeyCode::Char('v'), KeyCode::Left, KeyCode::Left],
    );
    step(&mut app, "a selection on the live screen");
    press(&mut app, &[KeyCode::Char('q')]);
    step(&mut app, "copy mode left without scrolling");
    prefix(&mut app, KeyCode::Char('n'));
    output(&app, app.selected, b"after the switch");
    step(&mut app, "the next session");
    prefix(&mut app, KeyCode::Char('i'));
    step(&mut app, "the inspector toggled");
    prefix(&mut app, KeyCode::Char('?'));
    step(&mut app, "help");
    press(&mut app, &[KeyCode::Char('q')]);
    output(&app, app.selected, b"\r\nback");
    step(&mut app, "help closed");
    prefix(&mut app, KeyCode::Char('X'));
    step(&mut app, "back to one pane");
}

/// An OCI container the CRI made for pod `pod`: its sandbox (`container` None) or one of its
/// containers, created at second `at`.
fn pod_member(pod: &str, container: Option<&str>, at: u32) -> crate::oci::state::Record {
    let mut annotations = std::collections::HashMap::from([
        (
            "io.kubernetes.cri.sandbox-id".to_string(),
            format!("sandbox-{pod}"),
        ),
        (
            "io.kubernetes.cri.sandbox-name".to_string(),
            pod.to_string(),
        ),
        (
            "io.kubernetes.cri.sandbox-namespace".to_string(),
            "default".to_string(),
        ),
    ]);
    let kind = match container {
        None => "sandbox",
        Some(name) => {
            annotations.insert("io.kubernetes.cri.container-name".into(), name.into());
            annotations.insert("io.kubernetes.cri.image-name".into(), format!("{name}:1"));
            "container"
        }
    };
    annotations.insert("io.kubernetes.cri.container-type".into(), kind.into());
    crate::oci::state::Record {
        id: format!("{pod}-{}", container.unwrap_or("sandbox")),
        init: crate::state::process::Process { pid: 1, start: 0 },
        bundle: "/b".into(),
        rootfs: "/b/rootfs".into(),
        created: format!("2026-12-05T00:00:{at:02}Z"),
        annotations,
        cgroup: "/k8s".into(),
        cgroup_made: vec![],
        own_pid_namespace: true,
    }
}

/// Kubernetes pods' containers, listed in whatever order the runtime's root gives them and
/// arriving over several listings, read as groups: each pod's sandbox, then its containers.
#[test]
fn a_pods_containers_are_listed_under_its_sandbox() {
    let (mut app, fake) = app();
    fake.add("mine", false);
    fake.oci.borrow_mut().extend([
        pod_member("db", Some("postgres"), 5),
        pod_member("web", Some("nginx"), 3),
        pod_member("web", None, 1),
        pod_member("db", None, 4),
    ]);
    app.sync();
    // The selection stays on what it was on as sessions arrive above it.
    app.selected = app.sessions.iter().position(|s| s.name == "db").unwrap();
    fake.oci.borrow_mut().extend([
        pod_member("web", Some("sidecar"), 6),
        pod_member("plain", None, 7),
    ]);
    fake.oci
        .borrow_mut()
        .last_mut()
        .unwrap()
        .annotations
        .clear();
    app.sync();
    let names: Vec<&str> = app.sessions.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "mine",
            "web",
            "web/nginx",
            "web/sidecar",
            "db",
            "db/postgres",
            "plain-sandbox"
        ]
    );
    assert_eq!(app.sessions[app.selected].name, "db");
    // The IMAGE column: what the kubelet asked for, not the bundle's root.
    let images: Vec<String> = app.rows().into_iter().map(|r| r.image).collect();
    assert_eq!(images[1..4], ["(pod sandbox)", "nginx:1", "sidecar:1"]);
    // Not a pod's: its spec's root, as before (the fake's spec has none).
    assert_eq!(images[6], "(host)");
}
