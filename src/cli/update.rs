//! `update [OPTIONS] CONTAINER...`: a container's limits (and restart policy) changed while it
//! runs, as `docker update`: the same rows of the option table as `run`, applied to its cgroup
//! and recorded in its spec for the next start.

use super::error::{CliError, Outcome, fail};
use crate::spec::options::{Opt, Run, option};
use clap::{ArgMatches, FromArgMatches};

/// The run options `update` takes.
const ROWS: [&str; 9] = [
    "memory",
    "memory-swap",
    "memory-reservation",
    "cpus",
    "cpu-shares",
    "pids-limit",
    "cpuset-cpus",
    "cpuset-mems",
    "restart",
];

/// The options given, each with its values, and the containers.
#[derive(Clone)]
pub struct Args {
    given: Vec<(&'static Opt, String)>,
    containers: Vec<String>,
}

impl std::fmt::Debug for Args {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let given: Vec<(&str, &str)> = self
            .given
            .iter()
            .map(|(o, v)| (o.long, v.as_str()))
            .collect();
        f.debug_struct("Args")
            .field("given", &given)
            .field("containers", &self.containers)
            .finish()
    }
}

fn rows() -> impl Iterator<Item = &'static Opt> {
    ROWS.iter()
        .map(|long| option(long).expect("a row of the table"))
}

impl FromArgMatches for Args {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let mut given = Vec::new();
        for opt in rows() {
            for value in matches.get_many::<String>(opt.long).into_iter().flatten() {
                given.push((opt, value.clone()));
            }
        }
        let containers = matches
            .get_many::<String>("containers")
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        Ok(Args { given, containers })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Args::from_arg_matches(matches)?;
        Ok(())
    }
}

impl clap::Args for Args {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        cmd.args(rows().map(super::option_arg)).arg(
            clap::Arg::new("containers")
                .value_name("CONTAINER")
                .required(true)
                .num_args(1..),
        )
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

pub fn run(args: &Args) -> Outcome {
    if args.given.is_empty() {
        return Err(CliError::msg(
            "update needs at least one option (--memory, --cpus, --pids-limit, --restart, ...)",
        ));
    }
    // The values through the rows' own parsers, onto a blank run: what is set is what was given.
    let mut changes = Run::new(String::new());
    for (opt, value) in &args.given {
        changes
            .apply(opt, value)
            .map_err(|e| CliError::runtime(format!("--{}: {e}", opt.long)))?;
    }
    let mut code = 0;
    for name in &args.containers {
        match crate::runtime::reclaim::find(name)
            .and_then(|r| crate::client::ops::update(&r, &changes.spec.limits, changes.restart()))
        {
            Ok(()) => println!("{name}"),
            Err(e) => code = fail(format!("{e:#}")),
        }
    }
    Ok(code)
}
