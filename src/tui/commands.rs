//! The dashboard's keys after the prefix: one table that the key handling, the help overlay,
//! the status line and README's key table all come from (a test holds README to it).

use crate::tui::ui::PaneLayout;
use crossterm::event::KeyCode;

/// What a prefix key does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    New,
    Next,
    Previous,
    /// Select session 1-10 (`0` is the tenth).
    Select(usize),
    /// Back to the session selected before this one (screen's prefix twice).
    Last,
    /// A list of every session to pick from (screen's `"`).
    Choose,
    Rename,
    Kill,
    /// Another shell in the selected container (`exec`).
    Exec,
    Restart,
    Remove,
    /// The selected session's container made an image (`commit`).
    Commit,
    /// The image list.
    Images,
    Inspector,
    HostView,
    /// The keyboard to the inspector's process list, or back to the shell.
    Focus,
    /// The focus to the pane that way: columns and rows to go (one of them -1 or 1).
    FocusPane {
        dx: i8,
        dy: i8,
    },
    /// Log the session's output to a file, or stop (screen's `log`).
    Log,
    /// Record the session as an asciicast, or stop.
    Record,
    /// Another session in a pane of its own, the panes then laid out so.
    AddPane(PaneLayout),
    /// The panes' next layout (tmux's next-layout).
    NextLayout,
    /// Back to one session shown.
    Unsplit,
    /// Every key typed goes to every pane's session (tmux's synchronize-panes), or not.
    Synchronize,
    /// The selected session alone in the whole window, or back.
    Zoom,
    Scrollback,
    /// What copy mode copied, typed into the session.
    Paste,
    /// The copies kept, to paste one (tmux's choose-buffer).
    Buffers,
    Help,
    Quit,
    /// Leave: the dashboard exits, every container keeps running.
    Detach,
    SendPrefix,
    Cancel,
}

/// One row of the table. In `keys` and `help`, `{p}` stands for the prefix as configured.
pub struct Binding {
    /// The keys, as the help overlay and README show them.
    pub keys: &'static str,
    /// What they do, in the help overlay and README.
    pub help: &'static str,
    /// The status line's word for it while the prefix is pending.
    pub short: &'static str,
    /// Also named on the status line outside the prefix (the keys that matter most).
    pub everyday: bool,
    /// The keys after the prefix and the command each asks for: what [`command`] looks up.
    pub on: &'static [(KeyCode, Command)],
}

const fn ch(c: char) -> KeyCode {
    KeyCode::Char(c)
}

/// `{p} 0-9`: session 1-10, `0` the tenth.
const DIGITS: &[(KeyCode, Command)] = &[
    (ch('1'), Command::Select(0)),
    (ch('2'), Command::Select(1)),
    (ch('3'), Command::Select(2)),
    (ch('4'), Command::Select(3)),
    (ch('5'), Command::Select(4)),
    (ch('6'), Command::Select(5)),
    (ch('7'), Command::Select(6)),
    (ch('8'), Command::Select(7)),
    (ch('9'), Command::Select(8)),
    (ch('0'), Command::Select(9)),
];

/// Every prefix key, in the order the help shows them: keys, help, status word, everyday.
#[rustfmt::skip]
pub const BINDINGS: [Binding; 32] = [
    b("{p} c",        "new session (a form: what to run, where, its network, limits, env, volumes)", "c new",         true, &[(ch('c'), Command::New)]),
    b("{p} n, {p} p", "next / previous session",                                 "n/p switch",    true, &[(ch('n'), Command::Next), (ch('p'), Command::Previous)]),
    b("{p} 0-9",      "select session 1-10 (0 is the tenth)",                    "0-9 select",    false, DIGITS),
    b("{p} {p}",      "back to the session selected before",                     "again: last",   false, &[]),
    b("{p} \"",       "pick a session from a list of all of them (Space shows or hides it in a pane)", "\" list", false, &[(ch('"'), Command::Choose)]),
    b("{p} A",        "rename the session (its container)",                      "A rename",      false, &[(ch('A'), Command::Rename)]),
    b("{p} e",        "another shell in the selected container (exec)",          "e exec",        true, &[(ch('e'), Command::Exec)]),
    b("{p} k",        "kill the session's container (asks y/n)",                 "k kill",        true, &[(ch('k'), Command::Kill)]),
    b("{p} r",        "restart an exited session",                               "r restart",     false, &[(ch('r'), Command::Restart)]),
    b("{p} x",        "remove an exited session from the list",                  "x remove",      false, &[(ch('x'), Command::Remove)]),
    b("{p} C",        "commit the session's container to an image (asks its name and a message)", "C commit", false, &[(ch('C'), Command::Commit)]),
    b("{p} I",        "images: size, layers, the sessions using each; Enter starts one", "I images", false, &[(ch('I'), Command::Images)]),
    b("{p} i",        "show / hide the inspector",                               "i inspector",   true, &[(ch('i'), Command::Inspector)]),
    b("{p} h",        "inspector: container processes / all host processes",     "h host view",   false, &[(ch('h'), Command::HostView)]),
    b("{p} |",        "panes: the last session (else the next not shown) beside these, each at its own size", "| pane", false, &[(ch('|'), Command::AddPane(PaneLayout::EvenHorizontal))]),
    b("{p} -",        "panes: the same, one below another",                      "- stack",       false, &[(ch('-'), Command::AddPane(PaneLayout::EvenVertical))]),
    b("{p} Space",    "the panes' next layout: even-horizontal, even-vertical, tiled", "Space layout", false, &[(ch(' '), Command::NextLayout)]),
    b("{p} X",        "close the panes: this session alone",                     "X unsplit",     false, &[(ch('X'), Command::Unsplit)]),
    b("{p} ←↑→↓",     "focus the pane that way",                                 "arrows pane",   false, &[(KeyCode::Left, Command::FocusPane { dx: -1, dy: 0 }), (KeyCode::Up, Command::FocusPane { dx: 0, dy: -1 }), (KeyCode::Right, Command::FocusPane { dx: 1, dy: 0 }), (KeyCode::Down, Command::FocusPane { dx: 0, dy: 1 })]),
    b("{p} s",        "synchronize: what you type goes to every pane's session, or not", "s sync", false, &[(ch('s'), Command::Synchronize)]),
    b("{p} z",        "zoom: the session alone in the whole window, or back",   "z zoom",        false, &[(ch('z'), Command::Zoom)]),
    b("{p} Tab",      "focus: the next pane; after the last, the process list (↑/↓, s sort, k signal, Esc back)", "Tab focus", false, &[(KeyCode::Tab, Command::Focus)]),
    b("{p} H",        "log the session's output to my-container-tui-NAME.log here, or stop", "H log", false, &[(ch('H'), Command::Log)]),
    b("{p} R",        "record the session to my-container-tui-NAME.cast here (asciinema plays it), or stop", "R record", false, &[(ch('R'), Command::Record)]),
    b("{p} [",        "copy mode: arrows/hjkl, w b e, PgUp/PgDn, g/G, / ? n N search, v select, C-v rectangle, y copy, q leave", "[ copy", false, &[(ch('['), Command::Scrollback)]),
    b("{p} ]",        "paste what copy mode copied",                              "] paste",       false, &[(ch(']'), Command::Paste)]),
    b("{p} =",        "the copies kept, newest first: Enter pastes one, d drops it", "= buffers",  false, &[(ch('='), Command::Buffers)]),
    b("{p} ?",        "the help overlay with every key",                         "? help",        true, &[(ch('?'), Command::Help)]),
    b("{p} d",        "detach: leave; the containers keep running",              "d detach",      true, &[(ch('d'), Command::Detach)]),
    b("{p} q",        "quit: end the sessions started here, or leave them (asks)", "q quit",      true, &[(ch('q'), Command::Quit)]),
    b("{p} a",        "send a literal {p} to the shell",                         "a send prefix", false, &[(ch('a'), Command::SendPrefix)]),
    b("{p} Esc",      "cancel the prefix",                                       "Esc cancel",    false, &[(KeyCode::Esc, Command::Cancel)]),
];

/// What else the dashboard takes, shown after the prefix keys.
pub const OTHER: [(&str, &str); 4] = [
    (
        "mouse click",
        "select a session in the list (attached at once)",
    ),
    (
        "mouse wheel",
        "scroll back through the terminal (to the program, if it asked for the mouse)",
    ),
    (
        "mouse drag",
        "select text in the terminal and copy it, as copy mode does",
    ),
    ("any other key", "goes to the selected session's shell"),
];

const fn b(
    keys: &'static str,
    help: &'static str,
    short: &'static str,
    everyday: bool,
    on: &'static [(KeyCode, Command)],
) -> Binding {
    Binding {
        keys,
        help,
        short,
        everyday,
        on,
    }
}

/// The command a key pressed after the prefix asks for: the binding that lists the key.
pub fn command(code: KeyCode) -> Option<Command> {
    BINDINGS
        .iter()
        .flat_map(|b| b.on)
        .find(|(key, _)| *key == code)
        .map(|(_, command)| *command)
}

/// The status line while the prefix is pending: every command's short word.
pub fn prefix_status() -> String {
    let words: Vec<&str> = BINDINGS.iter().map(|b| b.short).collect();
    format!(" {}", words.join(" · "))
}

/// The status line otherwise: the everyday commands, with the prefix spelled out.
pub fn everyday_status(prefix: &str) -> String {
    let words: Vec<String> = BINDINGS
        .iter()
        .filter(|b| b.everyday)
        .map(|b| format!("{prefix} {}", b.short))
        .collect();
    format!(" {prefix}: command prefix · {}", words.join(" · "))
}

/// `status` cut to `width` columns by dropping whole items (`·`-separated) from its middle,
/// so its first (the prefix) and its last ones (help, detach, quit) stay.
pub fn fit(status: &str, width: usize) -> String {
    let mut items: Vec<&str> = status.split(" · ").collect();
    let len = |items: &[&str]| items.iter().map(|i| i.chars().count() + 3).sum::<usize>();
    // Dropped first: what matters least, by the order of the everyday words.
    while len(&items) > width && items.len() > 4 {
        items.remove(items.len() - 4);
    }
    items.join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each binding's keys, spelled with the default prefix, reach a command; and README's key
    /// table has a row for each, saying the same thing.
    #[test]
    fn every_binding_has_a_command_and_a_readme_row() {
        let readme = include_str!("../../README.md");
        for binding in &BINDINGS {
            let keys = binding.keys.replace("{p}", "Ctrl-a");
            let first = binding.keys.trim_start_matches("{p} ");
            let first = first.split(", ").next().unwrap_or("");
            let code = match first {
                "Esc" => Some(KeyCode::Esc),
                "Tab" => Some(KeyCode::Tab),
                "Space" => Some(KeyCode::Char(' ')),
                "←↑→↓" => Some(KeyCode::Left),
                // The prefix again: handled before the table, as screen does.
                "{p}" => None,
                k => Some(KeyCode::Char(k.chars().next().unwrap())),
            };
            assert!(
                code.is_none_or(|c| command(c).is_some()),
                "{keys} has no command"
            );
            // Each key the row lists asks for the row's own command, and no other row's.
            for &(key, own) in binding.on {
                assert_eq!(command(key), Some(own), "{keys}: {key:?}");
                let rows = BINDINGS
                    .iter()
                    .filter(|b| b.on.iter().any(|(k, _)| *k == key));
                assert_eq!(rows.count(), 1, "{key:?} is bound twice");
            }
            let row = format!("| `{keys}` | {} |", binding.help.replace("{p}", "`Ctrl-a`"));
            assert!(readme.contains(&row), "README lacks the row: {row}");
        }
        for (keys, help) in OTHER {
            let row = format!("| {keys} | {help} |");
            assert!(readme.contains(&row), "README lacks the row: {row}");
        }
    }

    #[test]
    fn digits_select_sessions_one_to_ten() {
        assert_eq!(command(KeyCode::Char('1')), Some(Command::Select(0)));
        assert_eq!(command(KeyCode::Char('0')), Some(Command::Select(9)));
        assert_eq!(command(KeyCode::Char('y')), None);
    }

    #[test]
    fn a_narrow_status_line_keeps_the_prefix_help_and_quit() {
        let full = everyday_status("Ctrl-a");
        assert_eq!(fit(&full, 400), full);
        let narrow = fit(&full, 80);
        assert!(narrow.chars().count() <= 80, "{narrow}");
        for kept in ["command prefix", "? help", "q quit"] {
            assert!(narrow.contains(kept), "{narrow}");
        }
    }
}
