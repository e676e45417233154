//! `--run`: one container, started through the helper, with its I/O relayed to ours and its
//! exit status returned as ours, like `docker run --rm`; or, with `-d`, started under a
//! monitor of its own, like `docker run -d`.

mod piped;
pub(crate) mod raw;
mod tty;

use crate::cli::Launch;
use crate::runtime::exit::{RUNTIME_ERROR, print_error};
use crate::runtime::{ContainerSpec, require_root};
use crate::state::store;

/// Runs `spec` to completion and returns the exit code the tool should exit with. The
/// container is recorded (so `ps` lists it) while it runs, owned by this process, and the
/// record goes when it ends. With `--name`, we record it first (a name taken is an error
/// before anything starts) and forget it after; without, the container's cleaner records it
/// off the start-up's path and removes it once we are gone.
pub fn run(spec: &ContainerSpec, launch: &Launch) -> i32 {
    let named = launch.name.is_some();
    let result = ready(spec)
        .and_then(|()| match named {
            true => store::create(spec, &launch.record(spec.tty)).map(drop),
            false => Ok(()),
        })
        .and_then(|()| {
            let code = if spec.tty {
                tty::run(spec)
            } else {
                piped::run(spec)
            };
            if named {
                store::forget(&spec.id);
            }
            code
        });
    result.unwrap_or_else(|e| {
        print_error(&format!("{e:#}"));
        RUNTIME_ERROR
    })
}

/// What every run needs first: root, a valid spec, and its named volumes made.
fn ready(spec: &ContainerSpec) -> anyhow::Result<()> {
    require_root()
        .and_then(|()| spec.validate().map_err(|e| e.to_string()))
        .map_err(anyhow::Error::msg)
        .and_then(|()| crate::state::volumes::create_used(spec))
}

/// `run -d`: starts `spec` under its monitor and prints its id.
pub fn detached(spec: &ContainerSpec, launch: &Launch) -> i32 {
    let checked = ready(spec).map_err(crate::client::Failure::runtime);
    match checked.and_then(|()| crate::client::launch(spec, &launch.record(spec.tty))) {
        Ok(record) => {
            println!("{}", record.id);
            0
        }
        Err(e) => {
            print_error(&e.message);
            e.code
        }
    }
}
