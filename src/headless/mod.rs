//! `--run`: one container, started through the helper, with its I/O relayed to ours and its
//! exit status returned as ours, like `docker run --rm`.

mod piped;
mod raw;
mod tty;

use crate::runtime::exit::RUNTIME_ERROR;
use crate::runtime::{ContainerSpec, require_root};

/// Runs `spec` to completion and returns the exit code the tool should exit with.
pub fn run(spec: &ContainerSpec) -> i32 {
    let result = require_root()
        .and_then(|()| spec.validate().map_err(|e| e.to_string()))
        .map_err(anyhow::Error::msg)
        .and_then(|()| {
            if spec.tty {
                tty::run(spec)
            } else {
                piped::run(spec)
            }
        });
    result.unwrap_or_else(|e| {
        crate::runtime::exit::print_error(&format!("{e:#}"));
        RUNTIME_ERROR
    })
}
