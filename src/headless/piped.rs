//! Without a terminal for the container. When none of our stdin, stdout and stderr is a
//! terminal, this process becomes the container's helper itself: the container inherits the
//! descriptors, so bytes pass through untouched and end-of-file reaches it as it is.
//!
//! When one of them is a terminal (`--no-tty` at a terminal, or output to the terminal with
//! input from a pipe), the container gets a pipe in its place, relayed by us, never the
//! terminal itself: a process of the container holding the user's terminal could read what
//! they type into their host shell after the run (Docker relays the same way). Under
//! `--init` the helper is re-executed too, from a sealed copy of this binary.

use crate::runtime::ContainerSpec;
use crate::runtime::console;
use crate::runtime::helper;
use crate::runtime::launch::HelperCommand;
use crate::runtime::supervise::Supervisor;
use anyhow::{Context, anyhow};
use std::process::Stdio;

/// Never returns: exits with the container's status.
pub fn run(spec: &ContainerSpec) -> ! {
    // SAFETY: isatty only queries the descriptors.
    let terminal = (0..3).any(|fd| unsafe { libc::isatty(fd) } == 1);
    // Under --init PID 1 stays this binary: it must be a sealed copy, which only a process
    // started for it can be (launch::SEAL_VAR), not this one after all it has done.
    if terminal || spec.init {
        let code = relayed(spec).unwrap_or_else(|e| {
            crate::runtime::exit::print_error(&format!("{e:#}"));
            crate::runtime::exit::RUNTIME_ERROR
        });
        std::process::exit(code);
    }
    helper::contain(spec, None)
}

/// The helper, re-executed with pipes in place of our terminals (if any), relayed until it
/// ends.
fn relayed(spec: &ContainerSpec) -> anyhow::Result<i32> {
    let supervisor = Supervisor::new(&[]).context("cannot set up signal handling")?;
    let helper = HelperCommand::new(spec)?;
    let mut cmd = helper.std_command();
    let (theirs, ours) = console::terminal_pipes(true).context("pipe")?;
    let [stdin, stdout, stderr] = theirs.0;
    if let Some(fd) = stdin {
        cmd.stdin(Stdio::from(fd));
    }
    if let Some(fd) = stdout {
        cmd.stdout(Stdio::from(fd));
    }
    if let Some(fd) = stderr {
        cmd.stderr(Stdio::from(fd));
    }
    let child = cmd
        .spawn()
        .map_err(|e| anyhow!("cannot start the container helper: {e}"))?;
    // Held until the helper has exited: it reads the spec from it.
    let _handoff = helper.into_handoff();
    // Its ends of the pipes go with it, so the relay sees their end.
    drop(cmd);
    let mut relay = console::Relay::pipes(ours).context("relay")?;
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let exit = supervisor
        .wait_relaying(pid, false, |_| {}, Some(&mut relay))
        .context("waiting for the container")?;
    Ok(exit.code())
}
