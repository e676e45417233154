//! With a terminal: the helper runs on a portable-pty pseudo-terminal (exactly as a dashboard
//! session does), our terminal goes raw, and bytes are relayed both ways. A window resize is
//! passed on to the container's pty, which signals SIGWINCH inside.

use super::raw::RawMode;
use crate::runtime::ContainerSpec;
use crate::runtime::launch::HelperCommand;
use crate::runtime::supervise::Supervisor;
use anyhow::{Context, anyhow};
use nix::sys::signal::Signal;
use nix::unistd::Pid;
use portable_pty::{PtySize, native_pty_system};
use std::io::{Read, Write};

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
    let master = pair.master;
    let mut from_container = master
        .try_clone_reader()
        .map_err(|e| anyhow!("pty reader: {e}"))?;
    let mut to_container = master
        .take_writer()
        .map_err(|e| anyhow!("pty writer: {e}"))?;

    let raw = RawMode::enable();
    // Our stdin may block forever after the container ends; this thread is left to exit with us.
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        let mut stdin = std::io::stdin().lock();
        while let Ok(n) = stdin.read(&mut buf) {
            if n == 0 {
                // Piped input under -t: end-of-file becomes the terminal's EOF character.
                let _ = to_container.write_all(b"\x04");
                break;
            }
            if to_container.write_all(&buf[..n]).is_err() {
                break;
            }
        }
    });
    let output = std::thread::spawn(move || {
        let mut buf = [0u8; 65536];
        let mut stdout = std::io::stdout().lock();
        while let Ok(n) = from_container.read(&mut buf) {
            if n == 0
                || stdout
                    .write_all(&buf[..n])
                    .and_then(|()| stdout.flush())
                    .is_err()
            {
                break;
            }
        }
    });
    let resize = |sig: Signal| {
        if sig == Signal::SIGWINCH {
            let _ = master.resize(host_size());
        }
    };
    let exit = supervisor.wait(Pid::from_raw(pid as i32), false, resize);
    let _ = output.join();
    drop(raw);
    Ok(exit.context("waiting for the container")?.code())
}
