//! `volume create|ls|rm|inspect|prune`: named volumes ([`crate::state::volumes`]).

use super::verbs::fail;
use crate::state::volumes;
use serde_json::json;
use std::io::IsTerminal;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create a volume (a generated name when none is given)
    Create { name: Option<String> },
    /// List volumes
    Ls {
        /// Print names only
        #[arg(short, long)]
        quiet: bool,
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

pub fn run(command: Command) -> i32 {
    match command {
        Command::Create { name } => {
            let name = name.unwrap_or_else(crate::state::record::new_id);
            match volumes::create(&name) {
                Ok(_) => {
                    println!("{name}");
                    0
                }
                Err(e) => fail(format!("{e:#}")),
            }
        }
        Command::Ls { quiet } => {
            if !quiet {
                println!("DRIVER    VOLUME NAME");
            }
            for name in volumes::list() {
                if quiet {
                    println!("{name}");
                } else {
                    println!("local     {name}");
                }
            }
            0
        }
        Command::Rm { names } => {
            let mut code = 0;
            for name in names {
                match volumes::remove(&name) {
                    Ok(()) => println!("{name}"),
                    Err(e) => code = fail(format!("{e:#}")),
                }
            }
            code
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
            code
        }
        Command::Prune { force } => {
            if !force {
                if !std::io::stdin().is_terminal() {
                    return fail("volume prune removes data: confirm with -f");
                }
                eprint!("This removes every volume no container uses. Continue? [y/N] ");
                let mut answer = String::new();
                let _ = std::io::stdin().read_line(&mut answer);
                if !answer.trim().eq_ignore_ascii_case("y") {
                    return 0;
                }
            }
            println!("Deleted Volumes:");
            for name in volumes::list() {
                if volumes::users(&name).is_empty() && volumes::remove(&name).is_ok() {
                    println!("{name}");
                }
            }
            0
        }
    }
}
