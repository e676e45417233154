//! `--run`: one container, started through the helper, with its I/O relayed to ours and its
//! exit status returned as ours, like `docker run --rm`; or, with `-d`, started under a
//! monitor of its own, like `docker run -d`.

mod piped;
pub(crate) mod raw;
mod tty;

use crate::runtime::ContainerSpec;
use crate::runtime::exit::{RUNTIME_ERROR, print_error};
use crate::runtime::launch::prepare;
use crate::spec::run::Launch;
use crate::state::store;

/// Runs `spec` to completion and returns the exit code the tool should exit with. The
/// container is recorded (so `ps` lists it) while it runs, owned by this process, and the
/// record goes when it ends. With `--name`, we record it first (a name taken is an error
/// before anything starts) and forget it after; without, the container's cleaner records it
/// off the start-up's path and removes it once we are gone.
pub fn run(mut spec: ContainerSpec, launch: &Launch) -> i32 {
    let spec = &mut spec;
    let named = launch.name.is_some();
    let result = prepare(spec)
        .and_then(|()| match named {
            true => store::create(spec, &store::NewRecord::of(launch, spec.tty)).map(drop),
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

/// `run -d`: starts `spec` under its monitor and prints its id.
pub fn detached(mut spec: ContainerSpec, launch: &Launch) -> i32 {
    let checked = prepare(&mut spec).map_err(crate::client::Failure::runtime);
    match checked
        .and_then(|()| crate::client::launch(&spec, &store::NewRecord::of(launch, spec.tty)))
    {
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

/// `create`: records `spec` ready to `start`, made as `run -d` makes it (its volumes, its
/// image held), and prints its id; nothing runs.
pub fn create(mut spec: ContainerSpec, launch: &Launch) -> i32 {
    let made = prepare(&mut spec)
        .map_err(crate::client::Failure::runtime)
        .and_then(|()| crate::client::create(&spec, &store::NewRecord::of(launch, spec.tty)));
    match made {
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
