//! The one way a command line's outcome becomes the process's: a verb or a run returns
//! [`Outcome`], and [`report`] prints a failure as the tool's one line (with its prefix, made
//! once in [`crate::runtime::exit::error_line`]) and gives the exit code.

use crate::runtime::exit::RUNTIME_ERROR;

/// Exit code of a verb that failed (Docker's CLI uses 1).
pub const FAILED: i32 = 1;

/// What a command line ends with: its exit code, or a failure to report.
pub type Outcome = Result<i32, CliError>;

/// A failure: what to say, and the exit code it ends with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError {
    pub code: i32,
    pub message: String,
}

impl CliError {
    /// A verb's failure (exit 1, as Docker's CLI).
    pub fn msg(message: impl std::fmt::Display) -> CliError {
        CliError {
            code: FAILED,
            message: message.to_string(),
        }
    }

    /// The runtime's own failure (exit 125: a bad option, not root, a namespace refused).
    pub fn runtime(message: impl std::fmt::Display) -> CliError {
        CliError {
            code: RUNTIME_ERROR,
            message: message.to_string(),
        }
    }
}

impl From<anyhow::Error> for CliError {
    fn from(e: anyhow::Error) -> Self {
        CliError::msg(format!("{e:#}"))
    }
}

/// The exit code of `outcome`, a failure printed first.
pub fn report(outcome: Outcome) -> i32 {
    match outcome {
        Ok(code) => code,
        Err(e) => {
            crate::runtime::exit::print_error(&e.message);
            e.code
        }
    }
}

/// Prints `e` as one of several failures a verb reports as it goes (`rm a b c` goes on after
/// `a`), and gives [`FAILED`] for the verb to end with.
pub fn fail(e: impl std::fmt::Display) -> i32 {
    report(Err(CliError::msg(e)))
}
