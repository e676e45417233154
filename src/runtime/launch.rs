//! The parent side of the re-exec: how the CLI (and the dashboard) start one container.
//!
//! A container is always started by running this same binary again as its helper, with the
//! spec in a root-only file ([`super::handoff`]) and its id in the helper's environment. The same [`HelperCommand`] becomes either a plain process
//! with inherited stdio or a process on a portable-pty pseudo-terminal.

use super::handoff;
use super::spec::ContainerSpec;
use anyhow::Context;
use std::path::PathBuf;

/// The hidden first argument that makes the binary act as a container helper.
pub const HELPER_ARG: &str = "__helper";
/// Environment variable carrying the container's id, which names its spec file.
pub(crate) const ID_VAR: &str = "MCT_ID";
/// Environment variable carrying the launching process's PID, for the helper's death check.
pub(crate) const PARENT_VAR: &str = "MCT_PARENT";

/// How to run the helper for one spec.
#[derive(Debug, Clone)]
pub struct HelperCommand {
    id: String,
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
    ///
    /// The spec is written now; if the helper is then never started, call [`Self::discard`].
    pub fn new(spec: &ContainerSpec) -> anyhow::Result<HelperCommand> {
        let program = std::env::current_exe().context("cannot find this program's executable")?;
        handoff::send_spec(spec)?;
        Ok(HelperCommand {
            id: spec.id.clone(),
            relays_console: spec.tty && spec.own_dev(),
            program,
            env: vec![
                (ID_VAR, spec.id.clone()),
                (PARENT_VAR, std::process::id().to_string()),
            ],
            cwd: spec.workdir.clone(),
        })
    }

    /// Removes the spec file of a helper that could not be started.
    pub fn discard(&self) {
        handoff::discard_spec(&self.id);
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
