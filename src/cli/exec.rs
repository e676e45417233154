//! `exec [-i] [-t] [-e K=V] [-w DIR] [-u USER] CONTAINER CMD...`: a command in a running
//! container ([`crate::runtime::tenant`]), its exit status passed through.

use super::error::{CliError, Outcome};
use crate::runtime::cgroups::{Cgroup, Layout};
use crate::runtime::tenant::{self, Tenant};
use crate::state::{Status, store};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Keep stdin open (else the command reads /dev/null)
    #[arg(short, long)]
    interactive: bool,
    /// Give the command a terminal (a pty of the container's own)
    #[arg(short, long)]
    tty: bool,
    /// Run the command in the background: its output goes nowhere, exec returns at once
    #[arg(short, long)]
    detach: bool,
    /// Set an environment variable (KEY=VALUE, or KEY to copy ours)
    #[arg(short, long = "env", value_name = "KEY=VALUE")]
    env: Vec<String>,
    /// Working directory inside the container [default: the container's]
    #[arg(short, long, value_name = "DIR")]
    workdir: Option<PathBuf>,
    /// The user, as name|uid[:group|gid]
    #[arg(short, long, value_name = "USER")]
    user: Option<String>,
    container: String,
    /// The command and its arguments
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

/// The process runs from a sealed copy of this binary and is not dumpable: `cli::main`
/// made it so first thing (the child it forks joins the container).
pub fn run(args: Args) -> Outcome {
    let record = crate::runtime::reclaim::find(&args.container)?;
    let Some(init) = record
        .init
        .filter(|p| record.status == Status::Running && p.alive())
    else {
        return Err(CliError::msg(format!(
            "container {} is not running",
            record.name
        )));
    };
    let spec = store::spec(&record.id)?;
    if let Some(dir) = &args.workdir
        && !dir.is_absolute()
    {
        return Err(CliError::msg(format!(
            "the working directory {} is not absolute",
            dir.display()
        )));
    }
    let env = crate::spec::options::Host::current().env_pairs(args.env);
    // The hierarchies the container's cgroup was made in (not every one has it).
    let cgroup_procs = Layout::detect()
        .map(|l| {
            Cgroup::at(&l, &record.id)
                .existing_dirs()
                .iter()
                .map(|d| d.join("cgroup.procs"))
                .collect()
        })
        .unwrap_or_default();
    let tenant = Tenant {
        init,
        spec: &spec,
        cgroup_procs,
        command: args.command,
        env,
        workdir: args.workdir,
        user: args.user,
        tty: args.tty && !args.detach,
        interactive: args.interactive && !args.detach,
        detach: args.detach,
    };
    let raw = (args.tty && std::io::stdin().is_terminal())
        .then(crate::headless::raw::RawMode::enable)
        .flatten();
    let result = tenant::run(&tenant);
    drop(raw);
    result.map_err(|e| CliError::runtime(format!("{e:#}")))
}
