//! `volume create|ls|rm|inspect|prune`: named volumes ([`crate::state::volumes`]).

use super::error::{Outcome, fail};
use crate::state::volumes;
use serde_json::json;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create a volume (a generated name when none is given)
    Create { name: Option<String> },
    /// List volumes
    Ls {
        /// Print names only
        #[arg(short, long)]
        quiet: bool,
        /// `table` (the default), `json`, or a Go template (`{{.Name}}`)
        #[arg(long, value_name = "FORMAT", default_value = "table")]
        format: super::template::Format,
    },
    /// Remove volumes (refused while a container uses one)
    Rm {
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Print volumes' details as JSON
    Inspect {
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Remove every volume no container uses
    Prune {
        /// Do not ask for confirmation
        #[arg(short, long)]
        force: bool,
    },
}

pub use crate::state::volumes::name_of;

pub fn run(command: Command) -> Outcome {
    // Who uses a volume is asked of records brought to the truth first, as `ps` sees them: a
    // foreground run that has just ended is no user, though its cleaner, off its caller's
    // path, has not removed its record yet.
    if matches!(
        command,
        Command::Rm { .. } | Command::Inspect { .. } | Command::Prune { .. }
    ) {
        crate::runtime::reclaim::list();
    }
    match command {
        Command::Create { name } => {
            let name = name.unwrap_or_else(crate::state::record::new_id);
            match volumes::create(&name) {
                Ok(_) => {
                    println!("{name}");
                    Ok(0)
                }
                Err(e) => Err(e.into()),
            }
        }
        Command::Ls { quiet, format } => {
            let names = volumes::list();
            if quiet {
                names.iter().for_each(|n| println!("{n}"));
                return Ok(0);
            }
            let rows: Vec<serde_json::Value> = names
                .iter()
                .map(|n| {
                    serde_json::json!({
                        "Driver": "local", "Name": n, "Mountpoint": volumes::data_dir(n),
                        "Scope": "local",
                    })
                })
                .collect();
            let out = format
                .rows(
                    &rows,
                    "table {{.Driver}}\t{{.Name}}",
                    &[("Name", "VOLUME NAME")],
                )
                .map_err(super::error::CliError::msg)?;
            print!("{out}");
            Ok(0)
        }
        Command::Rm { names } => {
            let mut code = 0;
            for name in names {
                match volumes::remove(&name) {
                    Ok(()) => println!("{name}"),
                    Err(e) => code = fail(format!("{e:#}")),
                }
            }
            Ok(code)
        }
        Command::Inspect { names } => {
            let mut code = 0;
            let mut out = Vec::new();
            let all = volumes::list();
            for name in names {
                if !all.contains(&name) {
                    code = fail(format!("no such volume: {name}"));
                    continue;
                }
                out.push(json!({
                    "Name": name,
                    "Driver": "local",
                    "Mountpoint": volumes::data_dir(&name),
                    "UsedBy": volumes::users(&name),
                }));
            }
            println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
            Ok(code)
        }
        Command::Prune { force } => {
            if !super::system::confirm(
                force,
                "all local volumes not used by at least one container",
            )? {
                return Ok(0);
            }
            println!("Deleted Volumes:");
            for name in volumes::list() {
                if volumes::users(&name).is_empty() && volumes::remove(&name).is_ok() {
                    println!("{name}");
                }
            }
            Ok(0)
        }
    }
}
