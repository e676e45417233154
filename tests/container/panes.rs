//! The dashboard as a terminal, judged as tmux is: input that arrives whole, a resize that
//! loses nothing, history, the mouse, and the prefix keys.

use crate::root_tests;
use crate::support::*;
use crate::tmux::Tmux;
use libtest_mimic::Trial;

pub fn tests() -> Vec<Trial> {
    root_tests![
        a_burst_of_input_over_1024_bytes_arrives_whole,
        shrinking_the_window_keeps_the_newest_lines,
        prefix_keys_as_screen_has_them,
        an_exited_session_keeps_its_screen_and_says_how_to_go_on,
        a_narrow_window_gives_the_shell_the_width,
        the_form_edits_with_a_cursor_and_takes_per_session_options,
        the_mouse_reaches_programs_that_ask_for_it,
        a_process_is_signalled_from_the_inspectors_list,
        background_sessions_show_activity_bells_and_exits,
        prefix_h_logs_a_sessions_output_to_a_file,
        copy_mode_searches_selects_copies_and_pastes,
        a_split_shows_two_sessions_each_at_its_own_size,
        a_synchronized_split_types_into_both_sessions,
        prefix_r_records_a_session_as_an_asciicast,
        zoom_gives_one_session_the_window,
        four_sessions_tile_and_a_synchronized_probe_runs_in_each,
    ]
}

/// The lines of the embedded terminal pane (the part right of its left border) that are a
/// number alone.
fn numbers_shown(screen: &str) -> Vec<u32> {
    screen
        .lines()
        .filter_map(|l| l.strip_prefix('│'))
        .filter_map(|l| l.split('│').next()?.trim().parse().ok())
        .collect()
}

/// 2,500 typed bytes and the Enter after them, in one write (a fast typist, or a paste
/// without bracketed-paste markers): every byte reaches the shell with no later key.
/// crossterm's default reader returned one event per 1 KiB read and waited for the terminal
/// to become readable again, which it already was: the rest waited for the next key.
fn a_burst_of_input_over_1024_bytes_arrives_whole(t: &Ctx) -> TestResult {
    let tmux = Tmux::start(t, 150, 45)?;
    tmux.wait_for("root@my-container-1")?;
    let burst = format!("s={}; echo len=${{#s}}\r", "x".repeat(2500));
    tmux.run(&["send-keys", "-t", "main", "-l", &burst])?;
    tmux.wait_for("len=2500")?;
    tmux.quit()
}

/// At 160x45, `seq 1 30`; the window shrunk to 100x20 and grown back: every line is still
/// on the screen or in its history (tmux keeps them; rows a shrink pushes off the top go to
/// history, not away).
fn shrinking_the_window_keeps_the_newest_lines(t: &Ctx) -> TestResult {
    let tmux = Tmux::start(t, 160, 45)?;
    tmux.wait_for("root@my-container-1")?;
    tmux.line("clear; seq 1 30")?;
    tmux.wait_for("\n│30 ")?;
    tmux.run(&["resize-window", "-t", "main", "-x", "100", "-y", "20"])?;
    wait_until("the dashboard to draw at 100x20", || {
        tmux.screen().lines().count() <= 20 && numbers_shown(&tmux.screen()).contains(&30)
    })?;
    tmux.run(&["resize-window", "-t", "main", "-x", "160", "-y", "45"])?;
    wait_until("the dashboard to draw at 160x45", || {
        tmux.screen().lines().count() == 45
    })?;
    // Grown back, the screen takes its lines back from history, as tmux does: the prompt
    // stays at the bottom under the lines before it, no blank rows above it.
    wait_until("the lines pulled back above the prompt", || {
        let shown = tmux.screen();
        let pane: Vec<&str> = shown.lines().filter(|l| l.starts_with('│')).collect();
        let at = |n: u32| pane.iter().position(|l| l.starts_with(&format!("│{n} ")));
        matches!((at(29), at(30)), (Some(a), Some(b)) if b == a + 1)
            && at(1).is_some()
            && pane
                .iter()
                .position(|l| l.contains("root@my-container-1"))
                .unwrap_or(0)
                > at(30).unwrap_or(usize::MAX)
    })?;
    // What is not on the screen (none, here: the pane holds all 30) is in the history: read
    // it page by page from its top.
    let mut seen = numbers_shown(&tmux.screen());
    if (1..=30).any(|n| !seen.contains(&n)) {
        tmux.keys(&["C-a", "["])?;
        tmux.keys(&["g"])?;
        tmux.wait_for("[scrollback:")?;
        // The position in the title says where a page is; each PageDown waits for it to
        // move (a loaded machine may draw late: reading a page twice must not stand for the
        // next).
        let position = |screen: &str| {
            screen
                .split("[scrollback:")
                .nth(1)
                .and_then(|rest| rest.split(']').next())
                .map(str::to_string)
        };
        for _ in 0..40 {
            let screen = tmux.screen();
            seen.extend(numbers_shown(&screen));
            let Some(at) = position(&screen) else {
                break;
            };
            tmux.keys(&["PageDown"])?;
            wait_until("the next page", || {
                position(&tmux.screen()) != Some(at.clone())
            })?;
        }
        tmux.keys(&["q"])?;
    }
    let lost: Vec<u32> = (1..=30).filter(|n| !seen.contains(n)).collect();
    ensure(
        lost.is_empty(),
        format!("lines {lost:?} are gone; the screen:\n{}", tmux.screen()),
    )?;
    tmux.quit()
}

/// GNU screen's keys: prefix twice goes back to the last session, `"` lists them to pick
/// from, `A` renames; a missing session or an unknown key says so rather than nothing.
fn prefix_keys_as_screen_has_them(t: &Ctx) -> TestResult {
    let tmux = Tmux::start(t, 150, 45)?;
    tmux.wait_for("root@my-container-1")?;
    tmux.second_session()?;
    tmux.keys(&["C-a", "C-a"])?;
    tmux.wait_for("1: session-1 @ my-container-1")?;
    tmux.keys(&["C-a", "C-a"])?;
    tmux.wait_for("2: session-2 @ my-container-2")?;
    tmux.keys(&["C-a", "5"])?;
    tmux.wait_for("No session 5")?;
    tmux.keys(&["C-a", "y"])?;
    tmux.wait_for("Ctrl-a y: no such command")?;
    tmux.keys(&["C-a", "A"])?;
    tmux.wait_for("Rename session-2 to:")?;
    tmux.keys(&["C-u"])?;
    tmux.run(&["send-keys", "-t", "main", "-l", "web"])?;
    tmux.keys(&["Enter"])?;
    tmux.wait_for("2: web @ my-container-2")?;
    let names = std::process::Command::new(BIN)
        .args(["ps", "--format", "json"])
        .envs(t.env())
        .output()
        .map_err(|e| e.to_string())?;
    let names = String::from_utf8_lossy(&names.stdout).into_owned();
    ensure(
        names.contains("\"Names\":\"web\""),
        format!("the container is not renamed: {names}"),
    )?;
    tmux.keys(&["C-a", "\""])?;
    tmux.wait_for("Sessions: Enter picks")?;
    tmux.keys(&["Up", "Enter"])?;
    tmux.wait_for("1: session-1 @ my-container-1")?;
    tmux.quit()
}

/// A session whose shell exits keeps the screen it left, says "exited N" with the keys that
/// go on (in the pane and the status line), and answers typed keys and `prefix k` with why
/// nothing happens.
fn an_exited_session_keeps_its_screen_and_says_how_to_go_on(t: &Ctx) -> TestResult {
    let tmux = Tmux::start(t, 150, 45)?;
    tmux.wait_for("root@my-container-1")?;
    tmux.line("echo last-words-$((40+2)); exit 3")?;
    tmux.wait_for("exited 3 — Ctrl-a r restart · Ctrl-a x remove")?;
    let screen = tmux.wait_for("session-1: exited 3 · Ctrl-a r restart")?;
    ensure(
        screen.contains("last-words-42"),
        format!("the pane lost what the shell left:\n{screen}"),
    )?;
    tmux.keys(&["x"])?;
    tmux.wait_for("session-1 has exited: Ctrl-a r restarts it")?;
    tmux.keys(&["C-a", "k"])?;
    tmux.wait_for("session-1 is not running")?;
    tmux.keys(&["C-a", "r"])?;
    // Started again off the dashboard's thread: the pane takes keys once it is attached.
    wait_until("the session to run again", || {
        !tmux.screen().contains("exited 3 —")
    })?;
    tmux.line("echo back-$((6*7))")?;
    tmux.wait_for("back-42")?;
    tmux.quit()
}

/// At 80x24 the shell gets the window's width (it got 38 columns) and the inspector folds
/// to a line under it; `prefix i` opens it below the shell.
fn a_narrow_window_gives_the_shell_the_width(t: &Ctx) -> TestResult {
    let tmux = Tmux::start(t, 80, 24)?;
    tmux.wait_for("root@my-container-1")?;
    tmux.wait_for("(host: ")?;
    tmux.line("clear; stty size")?;
    tmux.wait_for("\n│16 78 ")?;
    // Opened below the shell: too short for the usage panel (the list row has the figures),
    // the process list first.
    tmux.keys(&["C-a", "i"])?;
    tmux.wait_for("Container processes")?;
    tmux.quit()
}

/// The new-session form edits as a shell line does (←/→ move the cursor: "edit", ← ←, "X"
/// makes "edXit"), and takes a memory limit and an environment for this session alone.
fn the_form_edits_with_a_cursor_and_takes_per_session_options(t: &Ctx) -> TestResult {
    let tmux = Tmux::start(t, 150, 45)?;
    tmux.wait_for("root@my-container-1")?;
    tmux.keys(&["C-a", "c"])?;
    tmux.wait_for("New session")?;
    tmux.run(&["send-keys", "-t", "main", "-l", "edit"])?;
    tmux.keys(&["Left", "Left"])?;
    tmux.run(&["send-keys", "-t", "main", "-l", "X"])?;
    tmux.wait_for("Name       edXit")?;
    for _ in 0..7 {
        tmux.keys(&["Tab"])?;
    }
    tmux.run(&["send-keys", "-t", "main", "-l", "64m"])?;
    tmux.keys(&["Tab", "Tab"])?;
    tmux.run(&["send-keys", "-t", "main", "-l", "GREETING=hi-there"])?;
    tmux.wait_for("Env        GREETING=hi-there")?;
    tmux.keys(&["Enter"])?;
    tmux.wait_for("2: edXit @ my-container-2")?;
    tmux.line("echo say-$GREETING")?;
    tmux.wait_for("say-hi-there")?;
    tmux.wait_for("/ 64 MiB")?;
    tmux.quit()
}

/// A mouse report as a terminal sends it (SGR), at 0-based screen cell (`col`, `row`).
fn mouse(tmux: &Tmux, button: u8, col: u16, row: u16) -> TestResult {
    let report = format!("\x1b[<{button};{};{}M", col + 1, row + 1);
    tmux.run(&["send-keys", "-t", "main", "-l", &report])?;
    Ok(())
}

/// A program that turned on mouse reporting gets the click in its own coordinates; on the
/// alternate screen (less) the wheel scrolls the program, and the next key reaches it (the
/// wheel used to open an empty history that ate that key).
fn the_mouse_reaches_programs_that_ask_for_it(t: &Ctx) -> TestResult {
    let tmux = Tmux::start(t, 150, 45)?;
    tmux.wait_for("root@my-container-1")?;
    // One session: the list takes rows 0-3, the pane's border row 4 and column 0.
    // The shell says when it asked for the mouse (the reports can only come after).
    tmux.line("clear; printf '\\e[?1000h\\e[?1006h'; echo mouse-$((6*7)); read -rsd M x; printf '\\e[?1000l\\e[?1006l'; echo got-${x:1}-")?;
    tmux.wait_for("mouse-42")?;
    mouse(&tmux, 0, 10, 10)?;
    tmux.wait_for("got-[<0;10;6-")?;

    tmux.line("clear; seq 1 200 | less")?;
    tmux.wait_for("\n│1 ")?;
    mouse(&tmux, 65, 20, 20)?;
    tmux.wait_for("\n│4 ")?;
    tmux.keys(&["q"])?;
    tmux.line("echo after-less-$((6*7))")?;
    tmux.wait_for("after-less-42")?;
    tmux.quit()
}

/// `prefix Tab` gives the keys to the inspector's process list: the second process (by PID
/// inside) is selected, `k` asks, `t` sends SIGTERM, and that process, only it, ends.
fn a_process_is_signalled_from_the_inspectors_list(t: &Ctx) -> TestResult {
    let tmux = Tmux::start(t, 150, 60)?;
    tmux.wait_for("root@my-container-1")?;
    tmux.line("sleep 7341 & sleep 7342 & echo started-$((2*2))")?;
    tmux.wait_for("started-4")?;
    tmux.wait_for("Container processes: 3")?;
    let running = |n: &str| {
        procs().iter().any(|p| {
            p.cmdline.first().map(String::as_str) == Some("sleep")
                && p.cmdline.get(1).map(String::as_str) == Some(n)
        })
    };
    ensure(running("7341") && running("7342"), "the sleeps run")?;
    tmux.keys(&["C-a", "Tab"])?;
    tmux.wait_for("Processes: ↑/↓")?;
    tmux.keys(&["Down"])?;
    tmux.keys(&["k"])?;
    tmux.wait_for("(sleep 7341)? t: SIGTERM")?;
    tmux.keys(&["t"])?;
    tmux.wait_for("Sent SIGTERM to PID")?;
    wait_until("sleep 7341 to end", || !running("7341"))?;
    ensure(running("7342"), "only the selected process was signalled")?;
    // An Escape followed at once by the next key reads as Alt and that key (as in any
    // terminal): wait for the keys to be the shell's again.
    tmux.keys(&["Escape"])?;
    tmux.wait_for("Ctrl-a: command prefix")?;
    // A click on a row of the list selects that row.
    let screen = tmux.wait_for("Container processes: 2")?;
    let row = screen
        .lines()
        .position(|l| l.contains("sleep 7342") && !l.contains('&'))
        .ok_or_else(|| format!("no row for sleep 7342:\n{screen}"))?;
    let line = screen.lines().nth(row).unwrap_or_default();
    let col = line[..line.find("sleep 7342").unwrap_or(0)].chars().count();
    let click = format!("\x1b[<0;{};{}M", col + 1, row + 1);
    tmux.run(&["send-keys", "-t", "main", "-l", &click])?;
    tmux.wait_for("Processes: ↑/↓")?;
    tmux.keys(&["k"])?;
    tmux.wait_for("(sleep 7342)? t: SIGTERM")?;
    tmux.keys(&["9"])?;
    wait_until("sleep 7342 to end", || !running("7342"))?;
    tmux.keys(&["Escape"])?;
    tmux.wait_for("Ctrl-a: command prefix")?;
    tmux.quit()
}

/// A session out of sight that rings the bell is marked `!` in the list (tmux's window flag),
/// its exit is said on the status line, and looking at it clears the mark.
fn background_sessions_show_activity_bells_and_exits(t: &Ctx) -> TestResult {
    let tmux = Tmux::start(t, 150, 45)?;
    tmux.wait_for("root@my-container-1")?;
    tmux.line("sleep 3; printf 'ring\\a\\n'; sleep 2; exit 4")?;
    tmux.second_session()?;
    tmux.wait_for("│  1!  session-1")?;
    tmux.wait_for("session-1 exited 4")?;
    tmux.keys(&["C-a", "1"])?;
    tmux.wait_for("│▶ 1   session-1")?;
    tmux.quit()
}

/// `prefix H` logs the session's output to a file in the dashboard's directory (screen's
/// `log`), 0600; again, it stops.
/// `Ctrl-a R` records the session as asciinema's asciicast v2: a header of the pane's size,
/// then the output as it came, timed; `Ctrl-a R` again stops it.
fn prefix_r_records_a_session_as_an_asciicast(t: &Ctx) -> TestResult {
    let tmux = Tmux::start(t, 150, 45)?;
    tmux.wait_for("root@my-container-1")?;
    let cwd = std::fs::read_link(format!("/proc/{}/cwd", tmux.dashboard_pid()?))
        .map_err(|e| e.to_string())?;
    let cast = cwd.join("my-container-tui-session-1.cast");
    let _ = std::fs::remove_file(&cast);
    let result = (|| -> TestResult {
        tmux.keys(&["C-a", "R"])?;
        tmux.wait_for("Recording session-1 to my-container-tui-session-1.cast")?;
        // é as the shell's printf writes it (typed, it depends on the shell's locale).
        tmux.line("printf 'rec-%d \\303\\251\\n' 42")?;
        tmux.wait_for("rec-42")?;
        tmux.keys(&["C-a", "R"])?;
        tmux.wait_for("Stopped recording session-1")?;
        tmux.line("echo after-$((6*7))")?;
        tmux.wait_for("after-42")?;
        let text = std::fs::read_to_string(&cast).map_err(|e| e.to_string())?;
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(serde_json::from_str)
            .collect::<Result<_, _>>()
            .map_err(|e| format!("not JSON lines ({e}): {text:?}"))?;
        let (rows, cols) =
            crate::tmux::pane_size(&tmux.screen(), "1: session-1").ok_or("no pane")?;
        ensure_eq(lines[0]["version"].as_u64(), Some(2))?;
        ensure_eq(
            (lines[0]["width"].as_u64(), lines[0]["height"].as_u64()),
            (Some(cols as u64), Some(rows as u64)),
        )?;
        let output: String = lines[1..]
            .iter()
            .filter(|l| l[1] == "o")
            .filter_map(|l| l[2].as_str())
            .collect();
        ensure(
            output.contains("rec-42 é"),
            format!("the recording: {output:?}"),
        )?;
        ensure(
            !output.contains("after-42"),
            "recording went on after it was stopped",
        )
    })();
    let _ = std::fs::remove_file(&cast);
    result?;
    tmux.quit()
}

fn prefix_h_logs_a_sessions_output_to_a_file(t: &Ctx) -> TestResult {
    let tmux = Tmux::start(t, 150, 45)?;
    tmux.wait_for("root@my-container-1")?;
    let cwd = std::fs::read_link(format!("/proc/{}/cwd", tmux.dashboard_pid()?))
        .map_err(|e| e.to_string())?;
    let log = cwd.join("my-container-tui-session-1.log");
    let _ = std::fs::remove_file(&log);
    let result = (|| -> TestResult {
        tmux.keys(&["C-a", "H"])?;
        tmux.wait_for("Logging session-1 to my-container-tui-session-1.log")?;
        tmux.line("echo logged-$((3*3))")?;
        tmux.wait_for("logged-9")?;
        tmux.keys(&["C-a", "H"])?;
        tmux.wait_for("Stopped logging session-1")?;
        tmux.line("echo unlogged-$((3*3))")?;
        tmux.wait_for("unlogged-9")?;
        let text = std::fs::read_to_string(&log).map_err(|e| e.to_string())?;
        ensure(text.contains("logged-9"), format!("the log: {text:?}"))?;
        ensure(
            !text.contains("unlogged-9"),
            "logging went on after it was stopped",
        )?;
        let mode = std::fs::metadata(&log)
            .map_err(|e| e.to_string())?
            .permissions();
        ensure(
            std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777 == 0o600,
            "the log is readable by others",
        )
    })();
    let _ = std::fs::remove_file(&log);
    result?;
    tmux.quit()
}

/// The text tmux holds from the last OSC 52 (with set-clipboard on, tmux keeps what an
/// application puts on the clipboard as a paste buffer).
fn clipboard(tmux: &Tmux) -> String {
    tmux.run(&["show-buffer"]).unwrap_or_default()
}

/// `prefix [`: `?` searches up, `v` starts a selection, `$` and `y` copy to the end of the
/// line; the text goes to the outer terminal's clipboard (OSC 52: tmux keeps it) and
/// `prefix ]` types it into the shell. A mouse drag over the pane copies the same way.
fn copy_mode_searches_selects_copies_and_pastes(t: &Ctx) -> TestResult {
    let tmux = Tmux::start(t, 150, 45)?;
    tmux.run(&["set-option", "-g", "set-clipboard", "on"])?;
    tmux.wait_for("root@my-container-1")?;
    tmux.line("clear; echo alpha-$((10+1)); echo beta-$((20+2))")?;
    tmux.wait_for("beta-22")?;
    tmux.keys(&["C-a", "["])?;
    tmux.wait_for("Copy mode")?;
    tmux.run(&["send-keys", "-t", "main", "-l", "?alpha-1"])?;
    tmux.wait_for("Search up: alpha-1")?;
    tmux.keys(&["Enter"])?;
    tmux.keys(&["v", "$", "y"])?;
    tmux.wait_for("Copied 8 characters")?;
    wait_until("the clipboard to hold the copy", || {
        clipboard(&tmux) == "alpha-11"
    })?;
    tmux.run(&["send-keys", "-t", "main", "-l", "echo pasted-"])?;
    tmux.keys(&["C-a", "]"])?;
    tmux.keys(&["Enter"])?;
    tmux.wait_for("pasted-alpha-11")?;

    // A drag over "beta-22" (row 3 of the pane's inside: the list takes rows 0-3, the
    // border row 4, so the inside starts at row 5, column 1).
    let screen = tmux.screen();
    let row = screen
        .lines()
        .position(|l| l.starts_with("│beta-22"))
        .ok_or_else(|| format!("no beta-22 line:\n{screen}"))? as u16;
    let report = |b: &str, col: u16, end: char| format!("\x1b[<{b};{};{}{end}", col + 1, row + 1);
    for r in [
        report("0", 1, 'M'),
        report("32", 4, 'M'),
        report("32", 7, 'M'),
        report("0", 7, 'm'),
    ] {
        tmux.run(&["send-keys", "-t", "main", "-l", &r])?;
    }
    tmux.wait_for("Copied 7 characters")?;
    wait_until("the clipboard to hold the drag", || {
        clipboard(&tmux) == "beta-22"
    })?;
    // Both copies are kept, the newest first: `prefix =` lists them.
    tmux.keys(&["C-a", "="])?;
    let list = tmux.wait_for("Copies: Enter pastes")?;
    let first = list
        .lines()
        .position(|l| l.contains("0  ") && l.contains("beta-22"));
    ensure(first.is_some(), format!("the drag's copy first:\n{list}"))?;
    tmux.keys(&["Escape"])?;
    // Closed before the next key: an Escape and a prefix in one read are one Alt key.
    wait_until("the list to close", || {
        !tmux.screen().contains("Copies: Enter pastes")
    })?;
    tmux.quit()
}

/// `Ctrl-a s`: one line typed runs in both sessions of the split (each pane's title says
/// so); `Ctrl-a s` again, and typing reaches the focused session alone.
fn a_synchronized_split_types_into_both_sessions(t: &Ctx) -> TestResult {
    let tmux = Tmux::start(t, 150, 45)?;
    tmux.wait_for("root@my-container-1")?;
    tmux.second_session()?;
    tmux.keys(&["C-a", "|"])?;
    tmux.wait_for("1: session-1 @ my-container-1")?;
    tmux.keys(&["C-a", "s"])?;
    let screen = tmux.wait_for("[sync]")?;
    ensure(
        screen.matches("[sync]").count() == 2,
        format!("both titles say it:\n{screen}"),
    )?;
    tmux.line("echo both-$(hostname)")?;
    tmux.wait_for("both-my-container-1")?;
    tmux.wait_for("both-my-container-2")?;
    tmux.keys(&["C-a", "s"])?;
    wait_until("the titles to drop the mark", || {
        !tmux.screen().contains("[sync]")
    })?;
    tmux.line("echo alone-$(hostname)")?;
    tmux.wait_for("alone-my-container-2")?;
    std::thread::sleep(std::time::Duration::from_millis(300));
    ensure(
        !tmux.screen().contains("alone-my-container-1"),
        format!("typed into one session only:\n{}", tmux.screen()),
    )?;
    tmux.quit()
}

/// `Ctrl-a z` zooms as tmux does: the selected session alone in the window but its status
/// line, its pty that size; `Ctrl-a z` again brings back the list and the split.
fn zoom_gives_one_session_the_window(t: &Ctx) -> TestResult {
    let tmux = Tmux::start(t, 150, 45)?;
    tmux.wait_for("root@my-container-1")?;
    tmux.second_session()?;
    tmux.keys(&["C-a", "|"])?;
    tmux.wait_for("1: session-1 @ my-container-1")?;
    tmux.keys(&["C-a", "z"])?;
    tmux.wait_for("[zoom: Ctrl-a z back]")?;
    tmux.line("clear; stty size")?;
    let zoomed = tmux.wait_for("│42 148 ")?;
    ensure(
        !zoomed.contains("Sessions") && !zoomed.contains("1: session-1"),
        format!("the zoomed session alone:\n{zoomed}"),
    )?;
    tmux.keys(&["C-a", "z"])?;
    // The frame is drawn in one write, but a capture may land inside it: wait for it whole.
    wait_until("the list and the split back", || {
        let back = tmux.screen();
        back.contains("Sessions")
            && back.contains("1: session-1")
            && back.contains("2: session-2")
            && !back.contains("[zoom")
    })?;
    tmux.quit()
}

/// `prefix |` shows the last session beside this one, each at its own pty size (`stty size`
/// in each matches its pane); `prefix Tab` moves the focus (typing reaches the other shell);
/// `prefix -` stacks them; `prefix X` closes the split.
fn a_split_shows_two_sessions_each_at_its_own_size(t: &Ctx) -> TestResult {
    let tmux = Tmux::start(t, 150, 45)?;
    tmux.wait_for("root@my-container-1")?;
    tmux.second_session()?;
    tmux.keys(&["C-a", "|"])?;
    let screen = tmux.wait_for("1: session-1 @ my-container-1")?;
    ensure(
        screen.contains("2: session-2 @ my-container-2"),
        format!("both panes are shown:\n{screen}"),
    )?;
    let first = crate::tmux::pane_size(&screen, "2: session-2").ok_or("no first pane")?;
    tmux.line("clear; stty size")?;
    tmux.wait_for(&format!("│{} {} ", first.0, first.1))?;
    tmux.keys(&["C-a", "Tab"])?;
    tmux.line("clear; echo in-one-$((5+5)); stty size")?;
    let screen = tmux.wait_for("in-one-10")?;
    // The second pane's border starts where the first one's ends: its inside is as wide as
    // the rest of the terminal's place.
    let row = screen
        .lines()
        .find(|l| l.contains("in-one-10"))
        .unwrap_or_default();
    ensure(
        row.starts_with("│") && row.matches('│').count() >= 3,
        format!("the first session answered in the second pane:\n{screen}"),
    )?;
    tmux.keys(&["C-a", "-"])?;
    let mut stacked = None;
    wait_until("the panes to be stacked", || {
        let screen = tmux.screen();
        stacked = crate::tmux::pane_size(&screen, "1: session-1")
            .filter(|_| screen.contains("2: session-2"))
            .filter(|&(rows, _)| rows < 30);
        stacked.is_some()
    })?;
    let (rows, cols) = stacked.unwrap_or_default();
    tmux.line("clear; stty size")?;
    tmux.wait_for(&format!("│{rows} {cols} "))?;
    tmux.keys(&["C-a", "X"])?;
    wait_until("the split to close", || {
        let s = tmux.screen();
        s.contains("1: session-1 @") != s.contains("2: session-2 @")
    })?;
    tmux.quit()
}

/// The pane whose title holds `title`, measured from its own border on the screen (others
/// may stand beside it): its inside's (rows, cols).
fn tiled_pane_size(screen: &str, title: &str) -> Option<(usize, usize)> {
    let lines: Vec<Vec<char>> = screen.lines().map(|l| l.chars().collect()).collect();
    let top = lines
        .iter()
        .position(|l| l.iter().collect::<String>().contains(title))?;
    let line = &lines[top];
    let at = line
        .iter()
        .collect::<String>()
        .find(title)
        .map(|byte| line.iter().collect::<String>()[..byte].chars().count())?;
    let left = line[..at].iter().rposition(|c| *c == '┌')?;
    let right = line[at..].iter().position(|c| *c == '┐')? + at;
    let bottom = lines
        .iter()
        .skip(top + 1)
        .position(|l| l.get(left) == Some(&'└'))?
        + top
        + 1;
    Some((bottom - top - 1, right - left - 1))
}

/// Four sessions in panes: `prefix |` three times puts them side by side, `prefix Space`
/// twice tiles them two by two; with `prefix s`, one line typed runs in all four, and each
/// answers with its own hostname and a `stty size` that matches its own pane.
fn four_sessions_tile_and_a_synchronized_probe_runs_in_each(t: &Ctx) -> TestResult {
    let tmux = Tmux::start(t, 200, 50)?;
    tmux.wait_for("root@my-container-1")?;
    for n in 2..=4 {
        tmux.keys(&["C-a", "c"])?;
        tmux.wait_for("New session")?;
        tmux.keys(&["Enter"])?;
        tmux.wait_for(&format!("root@my-container-{n}"))?;
    }
    for _ in 0..3 {
        tmux.keys(&["C-a", "|"])?;
    }
    let titles = |screen: &str| {
        (1..=4)
            .filter(|n| screen.contains(&format!("{n}: session-{n} @")))
            .count()
    };
    // Side by side: the four titles on one line.
    wait_until("four panes side by side", || {
        let screen = tmux.screen();
        screen.lines().any(|l| titles(l) == 4)
    })?;
    tmux.keys(&["C-a", "Space"])?;
    tmux.keys(&["C-a", "Space"])?;
    wait_until("the panes tiled two by two", || {
        let screen = tmux.screen();
        titles(&screen) == 4 && screen.lines().filter(|l| titles(l) == 2).count() == 2
    })?;
    tmux.keys(&["C-a", "s"])?;
    wait_until("every title to say [sync]", || {
        tmux.screen().matches("[sync]").count() == 4
    })?;
    tmux.line("clear; echo probe-$(hostname) $(stty size)")?;
    let mut last = String::new();
    let answered = wait_until("each session to answer in its own pane", || {
        last = tmux.screen();
        (1..=4).all(|n| last.contains(&format!("probe-my-container-{n} ")))
    });
    ensure(
        answered.is_ok(),
        format!("not every session answered:\n{last}"),
    )?;
    for n in 1..=4 {
        let (rows, cols) = tiled_pane_size(&last, &format!("{n}: session-{n} @"))
            .ok_or_else(|| format!("no pane for session {n}:\n{last}"))?;
        ensure(
            last.contains(&format!("probe-my-container-{n} {rows} {cols}")),
            format!("session {n}'s pty is its pane's size, {rows}x{cols}:\n{last}"),
        )?;
    }
    tmux.quit()
}
