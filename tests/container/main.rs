//! End-to-end tests of the real binary: real namespaces, real ptys, as root.
//!
//! Run with `cargo test` as root. Not as root, every test here is reported as ignored with the
//! reason; CI runs as root and fails if any was ignored.

mod errors;
mod isolation;
mod seed;
mod signals;
mod status;
mod stdio;
mod support;
mod tty;

fn main() {
    let args = libtest_mimic::Arguments::from_args();
    let trials: Vec<_> = [
        seed::tests(),
        isolation::tests(),
        status::tests(),
        stdio::tests(),
        signals::tests(),
        tty::tests(),
        errors::tests(),
    ]
    .into_iter()
    .flatten()
    .collect();
    libtest_mimic::run(&args, trials).exit();
}
