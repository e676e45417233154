//! The dashboard's keys after the prefix: one table that the key handling, the help overlay,
//! the status line and README's key table all come from (a test holds README to it).

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
    Inspector,
    HostView,
    /// The keyboard to the inspector's process list, or back to the shell.
    Focus,
    /// Log the session's output to a file, or stop (screen's `log`).
    Log,
    /// Two sessions side by side, or stacked.
    SplitSideBySide,
    SplitStacked,
    /// Back to one session shown.
    Unsplit,
    Scrollback,
    /// What copy mode copied, typed into the session.
    Paste,
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
}

/// Every prefix key, in the order the help shows them: keys, help, status word, everyday.
#[rustfmt::skip]
pub const BINDINGS: [Binding; 24] = [
    b("{p} c",        "new session (a form: what to run, where, its network, limits, env, volumes)", "c new",         true),
    b("{p} n, {p} p", "next / previous session",                                 "n/p switch",    true),
    b("{p} 0-9",      "select session 1-10 (0 is the tenth)",                    "0-9 select",    false),
    b("{p} {p}",      "back to the session selected before",                     "again: last",   false),
    b("{p} \"",       "pick a session from a list of all of them",               "\" list",       false),
    b("{p} A",        "rename the session (its container)",                      "A rename",      false),
    b("{p} e",        "another shell in the selected container (exec)",          "e exec",        true),
    b("{p} k",        "kill the session's container (asks y/n)",                 "k kill",        true),
    b("{p} r",        "restart an exited session",                               "r restart",     false),
    b("{p} x",        "remove an exited session from the list",                  "x remove",      false),
    b("{p} i",        "show / hide the inspector",                               "i inspector",   true),
    b("{p} h",        "inspector: container processes / all host processes",     "h host view",   false),
    b("{p} |",        "split: the last session beside this one, each at its own size", "| split",   false),
    b("{p} -",        "split: the last session below this one",                  "- stack",       false),
    b("{p} X",        "close the split: this session alone",                     "X unsplit",     false),
    b("{p} Tab",      "focus: the split's other pane, then the process list (↑/↓, s sort, k signal, Esc back)", "Tab focus", false),
    b("{p} H",        "log the session's output to my-container-tui-NAME.log here, or stop", "H log", false),
    b("{p} [",        "copy mode: arrows/hjkl, PgUp/PgDn, g/G, / ? n N search, v select, y copy, q leave", "[ copy", false),
    b("{p} ]",        "paste what copy mode copied",                              "] paste",       false),
    b("{p} ?",        "the help overlay with every key",                         "? help",        true),
    b("{p} d",        "detach: leave; the containers keep running",              "d detach",      true),
    b("{p} q",        "quit: end the sessions started here, or leave them (asks)", "q quit",      true),
    b("{p} a",        "send a literal {p} to the shell",                         "a send prefix", false),
    b("{p} Esc",      "cancel the prefix",                                       "Esc cancel",    false),
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

const fn b(keys: &'static str, help: &'static str, short: &'static str, everyday: bool) -> Binding {
    Binding {
        keys,
        help,
        short,
        everyday,
    }
}

/// The command a key pressed after the prefix asks for.
pub fn command(code: KeyCode) -> Option<Command> {
    Some(match code {
        KeyCode::Char('c') => Command::New,
        KeyCode::Char('n') => Command::Next,
        KeyCode::Char('p') => Command::Previous,
        KeyCode::Char(d @ '0'..='9') => {
            let n = d.to_digit(10).unwrap_or(0) as usize;
            Command::Select(if n == 0 { 9 } else { n - 1 })
        }
        KeyCode::Char('"') => Command::Choose,
        KeyCode::Char('A') => Command::Rename,
        KeyCode::Char('e') => Command::Exec,
        KeyCode::Char('k') => Command::Kill,
        KeyCode::Char('r') => Command::Restart,
        KeyCode::Char('x') => Command::Remove,
        KeyCode::Char('i') => Command::Inspector,
        KeyCode::Char('h') => Command::HostView,
        KeyCode::Tab => Command::Focus,
        KeyCode::Char('H') => Command::Log,
        KeyCode::Char('|') => Command::SplitSideBySide,
        KeyCode::Char('-') => Command::SplitStacked,
        KeyCode::Char('X') => Command::Unsplit,
        KeyCode::Char('[') => Command::Scrollback,
        KeyCode::Char(']') => Command::Paste,
        KeyCode::Char('?') => Command::Help,
        KeyCode::Char('q') => Command::Quit,
        KeyCode::Char('d') => Command::Detach,
        KeyCode::Char('a') => Command::SendPrefix,
        KeyCode::Esc => Command::Cancel,
        _ => return None,
    })
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
                // The prefix again: handled before the table, as screen does.
                "{p}" => None,
                k => Some(KeyCode::Char(k.chars().next().unwrap())),
            };
            assert!(
                code.is_none_or(|c| command(c).is_some()),
                "{keys} has no command"
            );
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
        assert_eq!(command(KeyCode::Char('z')), None);
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
