//! The parent side of the re-exec: how the CLI (and the dashboard) start one container.
//!
//! A container is always started by running this same binary again as its helper, with the
//! spec in a memory file the launcher holds ([`super::handoff`]) and its address in the
//! helper's environment. The same [`HelperCommand`] becomes either a plain process with
//! inherited stdio or a process on a portable-pty pseudo-terminal.

use super::handoff::HandOff;
use crate::spec::ContainerSpec;
use anyhow::Context;
use std::path::PathBuf;

/// What every start needs first, whoever starts it (`run`, `run -d`, the dashboard): root,
/// a spec that validates, nothing in it the container could not get, and its named volumes
/// made and bound in their place. A refused spec leaves nothing behind.
pub fn prepare(spec: &mut ContainerSpec) -> anyhow::Result<()> {
    super::require_root().map_err(anyhow::Error::msg)?;
    spec.network.publish_exposed();
    if crate::state::owner::rootless() {
        super::rootless::admit(spec)?;
    }
    spec.validate()?;
    super::volumes::check_before_start(spec)?;
    // Its ids before its volumes, which a user namespace's root is given as they are made.
    spec.userns = crate::state::idmaps::resolve(&spec.userns, &spec.id)?;
    crate::state::volumes::create_used(spec).inspect_err(|_| {
        crate::state::idmaps::release(&spec.id);
    })
}

/// The hidden first argument that makes the binary act as a container helper.
pub const HELPER_ARG: &str = "__helper";
/// Environment variable carrying the hand-off's address (the launcher's PID, for the helper's
/// death check too, and its memory files' descriptors).
pub(crate) const HANDOFF_VAR: &str = "MCT_HANDOFF";
/// Where the helper hands the container's pty master to its monitor, instead of relaying it
/// ([`super::console::hand_over`]): a socket path in the container's state directory.
pub(crate) const CONSOLE_VAR: &str = "MCT_CONSOLE_SOCKET";
/// Set for a helper whose container keeps this binary inside as its PID 1 (`--init`): that
/// helper runs from a sealed copy ([`super::sealed`]). Without `--init` no process of ours is
/// inside once PID 1 has exec'd (and until then it is the container's only process, not
/// dumpable), and the helper itself is never in the container's PID namespace: the copy
/// would cost every start an exec and a mount for nothing.
pub const SEAL_VAR: &str = "MCT_SEAL";

/// How to run the helper for one spec.
#[derive(Debug)]
pub struct HelperCommand {
    /// The spec going in and the ending coming back: keep it until the helper has exited.
    handoff: HandOff,
    /// The container gets a pty of its own, relayed by the helper.
    relays_console: bool,
    program: PathBuf,
    env: Vec<(&'static str, String)>,
    cwd: PathBuf,
}

impl HelperCommand {
    /// The helper command for `spec`, which must already be valid.
    ///
    /// The helper sets `PR_SET_PDEATHSIG`, which fires when the *thread* that spawned it exits:
    /// spawn it from a thread that lives as long as the container should.
    pub fn new(spec: &ContainerSpec) -> anyhow::Result<HelperCommand> {
        let program = std::env::current_exe().context("cannot find this program's executable")?;
        let handoff = HandOff::new(spec)?;
        Ok(HelperCommand {
            env: std::iter::once((HANDOFF_VAR, handoff.address()))
                .chain(spec.init.then(|| (SEAL_VAR, "1".to_string())))
                .collect(),
            handoff,
            relays_console: spec.tty && spec.own_dev(),
            program,
            cwd: spec.workdir.clone(),
        })
    }

    /// Whether the container gets a pty of its own (which the helper relays, or hands over).
    pub fn relays_console(&self) -> bool {
        self.relays_console
    }

    /// The container's pty master goes to the socket at `path` (its monitor's) rather than
    /// being relayed by the helper.
    pub fn hand_console_to(&mut self, path: &std::path::Path) {
        self.env
            .push((CONSOLE_VAR, path.to_string_lossy().into_owned()));
    }

    /// The hand-off, to keep (and read the ending from) once the helper runs.
    pub fn into_handoff(self) -> HandOff {
        self.handoff
    }

    /// As a plain child process, inheriting stdin, stdout and stderr.
    pub fn std_command(&self) -> std::process::Command {
        use std::os::unix::process::CommandExt;
        let mut cmd = std::process::Command::new(&self.program);
        cmd.arg0("my-container-tui")
            .arg(HELPER_ARG)
            .envs(self.env.iter().cloned());
        cmd.current_dir("/");
        cmd
    }

    /// Readies the pseudo-terminal the helper will run on: raw when the container gets a pty
    /// of its own, which the helper relays ([`super::console`]). Call it before spawning.
    pub fn prepare_pty(&self, master: &dyn portable_pty::MasterPty) {
        if self.relays_console
            && let Some(fd) = master.as_raw_fd()
        {
            // SAFETY: the master stays open for as long as this borrow is used.
            super::console::make_raw(unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) });
        }
    }

    /// As a command for a portable-pty pseudo-terminal, which makes it a session leader with
    /// the pty as its controlling terminal.
    pub fn pty_command(&self) -> portable_pty::CommandBuilder {
        let mut cmd = portable_pty::CommandBuilder::new(&self.program);
        cmd.arg(HELPER_ARG);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.cwd(&self.cwd);
        cmd
    }
}
