//! With a terminal: the helper runs on a portable-pty pseudo-terminal (exactly as a dashboard
//! session does), our terminal goes raw, and bytes are relayed both ways by the one relay
//! ([`crate::runtime::console::Relay`], as `exec -t` and the helper relay). A window resize is
//! passed on to the container's pty, which signals SIGWINCH inside.

use super::raw::RawMode;
use crate::runtime::ContainerSpec;
use crate::runtime::console::Relay;
use crate::runtime::launch::HelperCommand;
use crate::runtime::supervise::Supervisor;
use anyhow::{Context, anyhow};
use nix::sys::signal::Signal;
use nix::unistd::Pid;
use portable_pty::{PtySize, native_pty_system};

/// The host terminal's size, or 80x24 when stdout is not a terminal.
fn host_size() -> PtySize {
    let (cols, rows) = crossterm::terminal::size().unwrap_or((80, 24));
    PtySize {
        rows,
        cols,
        pixel_width: 0,
        pixel_height: 0,
    }
}

pub fn run(spec: &ContainerSpec) -> anyhow::Result<i32> {
    // Block signals first: the relay threads inherit the mask, so only the signalfd sees them.
    let supervisor =
        Supervisor::new(&[Signal::SIGWINCH]).context("cannot set up signal handling")?;
    let pair = native_pty_system()
        .openpty(host_size())
        .map_err(|e| anyhow!("cannot open a pseudo-terminal: {e}"))?;
    let helper = HelperCommand::new(spec)?;
    helper.prepare_pty(&*pair.master);
    let child = pair
        .slave
        .spawn_command(helper.pty_command())
        .map_err(|e| anyhow!("cannot start the container helper: {e}"))?;
    // Held until the helper has exited: it reads the spec from it.
    let _handoff = helper.into_handoff();
    // Only the container may hold the slave, so its last exit ends our reads with EIO.
    drop(pair.slave);
    let pid = child
        .process_id()
        .ok_or_else(|| anyhow!("the container helper has no PID"))?;
    // The one relay (runtime::console), over a descriptor of the master's own.
    let fd = pair
        .master
        .as_raw_fd()
        .ok_or_else(|| anyhow!("the pty has no master descriptor"))?;
    // SAFETY: `fd` is the master's, open while `pair.master` lives (to the end of this
    // function); the clone is a descriptor of our own.
    let master = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) }
        .try_clone_to_owned()
        .context("pty master")?;
    let raw = RawMode::enable();
    let mut relay = Relay::new(master)
        .context("cannot relay the terminal")?
        .eof_as_ctrl_d();
    let resize = |sig: Signal| {
        if sig == Signal::SIGWINCH {
            let _ = pair.master.resize(host_size());
        }
    };
    let exit = supervisor.wait_relaying(Pid::from_raw(pid as i32), false, resize, Some(&mut relay));
    drop(relay);
    drop(raw);
    Ok(exit.context("waiting for the container")?.code())
}
