//! Without a terminal: the helper inherits our stdin, stdout and stderr file descriptors, so
//! bytes pass through untouched and end-of-file reaches the container as it is.

use crate::runtime::ContainerSpec;
use crate::runtime::launch::HelperCommand;
use crate::runtime::supervise::Supervisor;
use anyhow::Context;
use nix::unistd::Pid;

pub fn run(spec: &ContainerSpec) -> anyhow::Result<i32> {
    let supervisor = Supervisor::new(&[]).context("cannot set up signal handling")?;
    let helper = HelperCommand::new(spec)?
        .std_command()
        .spawn()
        .context("cannot start the container helper")?;
    let exit = supervisor
        .wait(Pid::from_raw(helper.id() as i32), false, |_| {})
        .context("waiting for the container")?;
    Ok(exit.code())
}
