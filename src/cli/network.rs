//! `network create|ls|rm|inspect`: user networks ([`crate::runtime::net::defined`]), and the
//! built-in ones `ls` shows beside them as Docker does.

use super::error::{Outcome, fail};
use crate::runtime::net::netlink::Netlink;
use crate::runtime::net::subnet::Subnet;
use crate::runtime::net::{bridge, defined, leases};
use serde_json::json;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create a bridge network whose containers reach each other by name
    Create {
        name: String,
        /// Its IPv4 subnet, A.B.C.D/N [default: a free one, as Docker picks]
        #[arg(long, value_parser = Subnet::parse)]
        subnet: Option<Subnet>,
        /// A driver option: `mtu=N` (or `com.docker.network.driver.mtu=N`), its bridge's
        /// and veths' MTU [default: the uplink's]
        #[arg(short = 'o', long = "opt", value_name = "KEY=VALUE", value_parser = defined::parse_option)]
        mtu: Option<u32>,
    },
    /// List networks
    Ls {
        /// Print names only
        #[arg(short, long)]
        quiet: bool,
        /// `table` (the default), `json`, or a Go template (`{{.Name}} {{.Subnet}}`)
        #[arg(long, value_name = "FORMAT", default_value = "table")]
        format: super::template::Format,
    },
    /// Remove networks (refused while a container is on one)
    Rm {
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Print networks' details as JSON
    Inspect {
        #[arg(required = true)]
        names: Vec<String>,
    },
}

pub fn run(command: Command) -> Outcome {
    match command {
        Command::Create { name, subnet, mtu } => {
            let taken = Netlink::open()
                .map_err(anyhow::Error::from)
                .and_then(|mut nl| bridge::host_subnets(&mut nl, &leases::read()));
            let made = taken.and_then(|taken| defined::create(&name, subnet, mtu, &taken));
            match made {
                Ok(def) => {
                    println!("{}", def.id);
                    Ok(0)
                }
                Err(e) => Err(e.into()),
            }
        }
        Command::Ls { quiet, format } => {
            let users = defined::list();
            let up = leases::read();
            let default = up
                .network("bridge")
                .map_or("(chosen at use)".to_string(), |n| n.subnet.to_string());
            let mut rows = vec![
                serde_json::json!({"Name": "bridge", "Driver": "bridge", "Subnet": default, "Bridge": bridge::DEFAULT_BRIDGE}),
                serde_json::json!({"Name": "host", "Driver": "host", "Subnet": "-", "Bridge": "-"}),
                serde_json::json!({"Name": "none", "Driver": "null", "Subnet": "-", "Bridge": "-"}),
            ];
            rows.extend(users.iter().map(|d| {
                serde_json::json!({"Name": d.name, "Driver": "bridge", "Subnet": d.subnet.to_string(), "Bridge": d.bridge})
            }));
            if quiet {
                rows.iter()
                    .for_each(|r| println!("{}", r["Name"].as_str().unwrap_or("")));
                return Ok(0);
            }
            let out = format
                .rows(
                    &rows,
                    "table {{.Name}}\t{{.Driver}}\t{{.Subnet}}\t{{.Bridge}}",
                    &[],
                )
                .map_err(super::error::CliError::msg)?;
            print!("{out}");
            Ok(0)
        }
        Command::Rm { names } => {
            let mut code = 0;
            for name in names {
                match defined::remove(&name) {
                    Ok(()) => println!("{name}"),
                    Err(e) => code = fail(format!("{e:#}")),
                }
            }
            Ok(code)
        }
        Command::Inspect { names } => {
            let up = leases::read();
            let mut out = Vec::new();
            let mut code = 0;
            for name in names {
                let Some(def) = defined::load(&name) else {
                    code = fail(format!("no such network: {name}"));
                    continue;
                };
                let containers: Vec<_> = up
                    .network(&name)
                    .map(|n| {
                        n.leases
                            .iter()
                            .map(|l| {
                                json!({
                                    "Id": l.container,
                                    "Name": l.names.first(),
                                    "IPv4Address": format!("{}/{}", l.ip, n.subnet.prefix),
                                    "Aliases": l.names.iter().skip(1).collect::<Vec<_>>(),
                                })
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                out.push(json!({
                    "Name": def.name,
                    "Id": def.id,
                    "Created": crate::state::record::rfc3339(def.created),
                    "Driver": "bridge",
                    "Subnet": def.subnet.to_string(),
                    "Gateway": def.subnet.gateway().to_string(),
                    "Bridge": def.bridge,
                    "Options": def.mtu.map_or(json!({}), |m| json!({"mtu": m.to_string()})),
                    "MTU": up.network(&name).map(|n| n.mtu),
                    "Up": up.network(&name).is_some(),
                    "Containers": containers,
                }));
            }
            if !out.is_empty() {
                println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
            }
            Ok(code)
        }
    }
}
