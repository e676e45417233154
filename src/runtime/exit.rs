//! Exit statuses, with Docker's conventions for the codes the runtime itself returns.

use nix::sys::signal::Signal;
use nix::sys::wait::WaitStatus;

/// The runtime failed before the command could start (bad input, a syscall refused).
pub const RUNTIME_ERROR: i32 = 125;
/// The command exists but could not be executed.
pub const NOT_EXECUTABLE: i32 = 126;
/// The command was not found.
pub const NOT_FOUND: i32 = 127;

/// The longest error line we print: a value the user gave is echoed in errors, and a
/// 100 KB one would flood the terminal.
const LONGEST_ERROR: usize = 400;

/// `message` as the tool's one-line error: prefixed, on one line, cut to 400 characters, its
/// control characters shown as text. Every message the tool prints as itself is made here,
/// on stderr ([`print_error`]) or on a session's screen.
pub fn error_line(message: &str) -> String {
    // Errors quote what images, registries and archives say: their control characters are
    // printed as text, never as terminal commands.
    let line = crate::printable::escaped(&message.replace('\n', " ")).into_owned();
    let cut: String = line.chars().take(LONGEST_ERROR).collect();
    let more = if cut.len() < line.len() { "..." } else { "" };
    format!("my-container-tui: {cut}{more}")
}

/// Prints `message` as the tool's one-line error on stderr ([`error_line`]).
pub fn print_error(message: &str) {
    eprintln!("{}", error_line(message));
}

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// It called `exit(code)`.
    Code(i32),
    /// It was killed by a signal.
    Signal(Signal),
}

impl Exit {
    /// The shell's convention: the code itself, or 128+N for signal N.
    pub fn code(self) -> i32 {
        match self {
            Exit::Code(c) => c,
            Exit::Signal(s) => 128 + s as i32,
        }
    }

    /// Reads a terminal wait status; `None` for stops and continues.
    pub fn from_wait(status: WaitStatus) -> Option<Exit> {
        match status {
            WaitStatus::Exited(_, c) => Some(Exit::Code(c)),
            WaitStatus::Signaled(_, s, _) => Some(Exit::Signal(s)),
            _ => None,
        }
    }
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exit::Code(c) => write!(f, "exited with code {c}"),
            Exit::Signal(s) => write!(f, "killed by {}", s.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_deaths_map_to_128_plus_n() {
        assert_eq!(Exit::Signal(Signal::SIGKILL).code(), 137);
        assert_eq!(Exit::Signal(Signal::SIGTERM).code(), 143);
        assert_eq!(Exit::Code(3).code(), 3);
    }
}
