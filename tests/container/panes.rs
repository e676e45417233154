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
    let mut seen = numbers_shown(&tmux.screen());
    // What is not on the screen is in the history: from its top.
    tmux.keys(&["C-a", "["])?;
    tmux.keys(&["g"])?;
    tmux.wait_for("[scrollback:")?;
    seen.extend(numbers_shown(&tmux.screen()));
    tmux.keys(&["q"])?;
    let lost: Vec<u32> = (1..=30).filter(|n| !seen.contains(n)).collect();
    ensure(
        lost.is_empty(),
        format!("lines {lost:?} are gone; the screen:\n{}", tmux.screen()),
    )?;
    tmux.quit()
}
