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

/// `prefix |` shows the last session beside this one; `prefix Tab` moves the focus between
/// the panes; `prefix X` closes the split.
#[test]
fn the_split_takes_the_last_session_and_tab_moves_the_focus() {
    let (mut app, _fake) = app();
    for name in ["a", "b"] {
        new_session(&mut app, &[(0, name)]);
    }
    prefix(&mut app, KeyCode::Char('|'));
    let split = app.split().expect("split");
    assert_eq!(app.selected().map(|s| s.name.as_str()), Some("b"));
    assert_eq!(
        app.sessions
            .iter()
            .find(|s| s.id == split.other)
            .map(|s| s.name.as_str()),
        Some("a")
    );
    prefix(&mut app, KeyCode::Tab);
    assert_eq!(app.selected().map(|s| s.name.as_str()), Some("a"));
    assert!(app.split().is_some_and(|s| !s.focus_first));
    prefix(&mut app, KeyCode::Char('X'));
    assert!(app.split().is_none());
}

/// `prefix "` lists every session; ↓ and Enter pick one, a digit picks by number.
#[test]
fn the_chooser_picks_by_arrows_or_number() {
    let (mut app, _fake) = app();
    for name in ["a", "b", "c"] {
        new_session(&mut app, &[(0, name)]);
    }
    prefix(&mut app, KeyCode::Char('"'));
    assert_eq!(app.mode, Mode::Choose(2));
    press(&mut app, &[KeyCode::Down, KeyCode::Enter]);
    assert_eq!(
        app.selected().map(|s| s.name.as_str()),
        Some("a"),
        "↓ wraps"
    );
    prefix(&mut app, KeyCode::Char('"'));
    press(&mut app, &[KeyCode::Char('2')]);
    assert_eq!(app.selected().map(|s| s.name.as_str()), Some("b"));
    assert_eq!(app.mode, Mode::Normal);
}

/// `prefix q`, then `e`: this dashboard's containers end, another's stay; `d` leaves all.
#[test]
fn quitting_ends_only_this_dashboards_containers() {
    let (mut app, fake) = app();
    new_session(&mut app, &[(0, "mine")]);
    fake.add("theirs", true);
    app.sync();
    prefix(&mut app, KeyCode::Char('q'));
    assert_eq!(app.mode, Mode::ConfirmQuit);
    press(&mut app, &[KeyCode::Char('e')]);
    assert!(app.quit && app.end_mine);
    app.end_mine();
    let left: Vec<String> = fake
        .records
        .borrow()
        .iter()
        .map(|r| r.name.clone())
        .collect();
    assert_eq!(left, ["theirs"]);
    assert!(
        fake.calls
            .borrow()
            .contains(&"remove mine true".to_string())
    );
}

/// An image in the fake store, tagged `tag`.
fn fake_image(fake: &Fake, tag: &str, id: char) -> crate::image::store::Image {
    let image = crate::image::store::Image {
        id: format!("sha256:{}", id.to_string().repeat(64)),
        tags: vec![format!("docker.io/library/{tag}")],
        digests: Vec::new(),
        layers: vec!["sha256:1".into(), "sha256:2".into()],
        size: 7_800_000,
        created: None,
        platform: "linux/amd64".into(),
        added_ms: fake.images.borrow().len() as u64,
    };
    fake.images.borrow_mut().push(image.clone());
    image
}

/// `prefix C` commits the selected session's container: a digest as its name is refused
/// under the field before anything runs; a good name commits, and the status line says what
/// was made.
#[test]
fn commit_asks_a_name_and_points_at_a_bad_one() {
    let (mut app, fake) = app();
    let image = fake_image(&fake, "alpine:3", 'a');
    fake.add("web", true);
    app.sync();
    app.sessions[0].spec.image = Some(crate::spec::ImageUse {
        reference: "alpine:3".into(),
        id: image.id.clone(),
        layers: image.layers.clone(),
        size: image.size,
        platform: image.platform.clone(),
        store: Default::default(),
        stop_signal: None,
    });
    prefix(&mut app, KeyCode::Char('C'));
    type_text(&mut app, &format!("x@sha256:{}", "0".repeat(64)));
    press(&mut app, &[KeyCode::Tab]);
    type_text(&mut app, "first cut");
    press(&mut app, &[KeyCode::Enter]);
    let Mode::Commit(form) = &app.mode else {
        panic!("the form closed: {:?}", app.mode);
    };
    assert_eq!(form.focus, crate::tui::ui::commit::IMAGE);
    assert!(
        form.error
            .as_ref()
            .is_some_and(|(f, e)| *f == 0 && e.contains("digest")),
        "{:?}",
        form.error
    );
    assert!(fake.calls.borrow().is_empty(), "nothing was committed");
    // Ctrl-U clears the name; a good one commits.
    app.handle_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    type_text(&mut app, "myapp:1");
    press(&mut app, &[KeyCode::Enter]);
    assert_eq!(app.mode, Mode::Normal);
    assert_eq!(
        fake.calls.borrow().as_slice(),
        ["commit web myapp:1 first cut"]
    );
    let said = app.status().0;
    assert!(said.contains("Committed web: image 200000000000"), "{said}");
}

/// A session that runs a directory, not an image, has nothing to commit on: said at once.
#[test]
fn commit_of_a_directory_session_says_why_not() {
    let (mut app, fake) = app();
    fake.add("plain", true);
    app.sync();
    prefix(&mut app, KeyCode::Char('C'));
    assert_eq!(app.mode, Mode::Normal);
    assert!(
        app.status().0.contains("runs a directory"),
        "{:?}",
        app.status()
    );
    assert!(fake.calls.borrow().is_empty());
}

/// `prefix I` lists every tag of every image, newest first, with the sessions using each;
/// Enter opens the new-session form on the chosen one.
#[test]
fn the_image_list_shows_users_and_starts_a_session_of_one() {
    let (mut app, fake) = app();
    let old = fake_image(&fake, "busybox:1", 'b');
    let mut new = fake_image(&fake, "alpine:3", 'a');
    new.tags.push("docker.io/library/alpine:latest".into());
    fake.images.borrow_mut()[1] = new.clone();
    fake.add("web", true);
    app.sync();
    app.sessions[0].spec.image = Some(crate::spec::ImageUse {
        reference: "busybox:1".into(),
        id: old.id.clone(),
        layers: old.layers.clone(),
        size: old.size,
        platform: old.platform.clone(),
        store: Default::default(),
        stop_signal: None,
    });
    prefix(&mut app, KeyCode::Char('I'));
    let Mode::Images(list) = &app.mode else {
        panic!("no image list: {:?}", app.mode);
    };
    let shown: Vec<(&str, &str, usize, String)> = list
        .rows
        .iter()
        .map(|r| {
            (
                r.reference.as_str(),
                r.size.as_str(),
                r.layers,
                r.users.join(","),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            ("alpine:3", "7.80MB", 2, String::new()),
            ("alpine:latest", "7.80MB", 2, String::new()),
            ("busybox:1", "7.80MB", 2, "web".to_string()),
        ]
    );
    press(&mut app, &[KeyCode::Up, KeyCode::Enter]);
    let Mode::NewSession(form) = &app.mode else {
        panic!("no form: {:?}", app.mode);
    };
    let image = crate::tui::ui::form::image_field();
    assert_eq!(
        (form.focus, form.values[image].text()),
        (image, "busybox:1")
    );
}

/// `x` on a container another user (or the command line) started asks first; any key but `y`
/// keeps it.
#[test]
fn removing_anothers_container_asks_first() {
    let (mut app, fake) = app();
    fake.add("theirs", false);
    app.sync();
    prefix(&mut app, KeyCode::Char('x'));
    assert_eq!(app.mode, Mode::ConfirmRemove);
    let said = app.status().0;
    assert!(
        said.contains("Remove theirs (not started from your dashboard)?"),
        "{said}"
    );
    press(&mut app, &[KeyCode::Char('n')]);
    assert_eq!(names(&app), ["theirs"]);
    assert!(fake.calls.borrow().is_empty(), "{:?}", fake.calls.borrow());
    prefix(&mut app, KeyCode::Char('x'));
    press(&mut app, &[KeyCode::Char('y')]);
    assert!(app.sessions.is_empty());
}

/// A dashboard opened again counts the containers its user's dashboard started as its own
/// (the record says who opened them): quitting with `e` ends those, and only those.
#[test]
fn a_reopened_dashboard_knows_its_own_sessions() {
    let (mut app, fake) = app();
    let mut ours = fake.add("ours", true);
    let theirs = fake.add("theirs", true);
    ours.detached = true;
    ours.opener = Some(crate::state::record::opener());
    let mut other_user = theirs.clone();
    other_user.detached = true;
    other_user.opener = Some(crate::state::record::opener() + 1);
    for r in fake.records.borrow_mut().iter_mut() {
        *r = match r.name.as_str() {
            "ours" => ours.clone(),
            _ => other_user.clone(),
        };
    }
    app.sync();
    let mine: Vec<(String, bool)> = app
        .sessions
        .iter()
        .map(|s| (s.name.clone(), s.mine()))
        .collect();
    assert_eq!(
        mine,
        [("ours".to_string(), true), ("theirs".to_string(), false)]
    );
    prefix(&mut app, KeyCode::Char('q'));
    assert_eq!(app.mode, Mode::ConfirmQuit);
    press(&mut app, &[KeyCode::Char('e')]);
    app.end_mine();
    assert!(
        fake.calls
            .borrow()
            .contains(&"remove ours true".to_string()),
        "{:?}",
        fake.calls.borrow()
    );
    assert!(!fake.calls.borrow().iter().any(|c| c.contains("theirs")));
}

/// Another's container ending says nothing on the status line (its list row says it); one of
/// ours says it once, in the words the list uses (OOM-killed, not exited 137).
#[test]
fn exit_notices_are_for_our_sessions_in_the_lists_words() {
    let (mut app, fake) = app();
    fake.add("theirs", true);
    app.sync();
    new_session(&mut app, &[(0, "ours")]);
    new_session(&mut app, &[(0, "looking")]);
    let id_of = |app: &App, name: &str| {
        app.sessions
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.id)
            .unwrap()
    };
    let theirs = id_of(&app, "theirs");
    app.on_session_event(crate::session::SessionEvent::Exited(theirs, Some(137)));
    assert_eq!(app.message, None, "another's exit took the status line");
    let ours = id_of(&app, "ours");
    for r in fake
        .records
        .borrow_mut()
        .iter_mut()
        .filter(|r| r.name == "ours")
    {
        r.status = crate::state::Status::Exited;
        r.exit_code = Some(137);
        r.oom_killed = true;
    }
    app.on_session_event(crate::session::SessionEvent::Exited(ours, Some(137)));
    let said = app.message.clone().unwrap_or_default();
    let row = app.rows().into_iter().find(|r| r.name == "ours").unwrap();
    assert!(said.contains("ours OOM-killed (137)"), "{said}");
    assert!(row.state.starts_with("OOM-killed (137)"), "{}", row.state);
}

/// The prefix pressed in the form out of habit edits nothing: what is typed next still goes
/// at the cursor, not at the start; the status line says how to leave.
#[test]
fn the_prefix_in_the_form_does_not_move_the_cursor() {
    let (mut app, _fake) = app();
    prefix(&mut app, KeyCode::Char('c'));
    type_text(&mut app, "web");
    app.handle_key(KeyEvent::new(KeyCode::Char('a'), KeyModifiers::CONTROL));
    assert!(
        app.status().0.contains("does nothing while typing"),
        "{:?}",
        app.status()
    );
    type_text(&mut app, "1");
    let Mode::NewSession(form) = &app.mode else {
        panic!("the form closed: {:?}", app.mode);
    };
    assert_eq!(form.values[0].text(), "web1");
}

/// `prefix` and an arrow focus the split's pane that way; toward the focused one, nothing.
#[test]
fn arrows_after_the_prefix_move_the_focus_between_panes() {
    let (mut app, _fake) = app();
    new_session(&mut app, &[(0, "left")]);
    new_session(&mut app, &[(0, "right")]);
    prefix(&mut app, KeyCode::Char('|'));
    let focused = |app: &App| app.selected().map(|s| s.name.clone()).unwrap_or_default();
    assert_eq!(focused(&app), "right");
    prefix(&mut app, KeyCode::Left);
    assert_eq!(
        focused(&app),
        "right",
        "the first pane holds the focused session"
    );
    prefix(&mut app, KeyCode::Right);
    assert_eq!(focused(&app), "left");
    prefix(&mut app, KeyCode::Right);
    assert_eq!(focused(&app), "left", "already in the second pane");
    prefix(&mut app, KeyCode::Up);
    assert_eq!(focused(&app), "right");
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
