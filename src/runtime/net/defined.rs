//! User networks (`network create`): definitions that outlive containers, one file each in
//! `$MCT_ROOT/networks/`. A definition is state, like a volume; its bridge and rules exist
//! only while a container is on it ([`super::bridge`]), as the default network's do.

use super::subnet::Subnet;
use crate::spec::network::validate_name;
use crate::state::record::{new_id, now_ms};
use anyhow::{Context, bail};
use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The names `--network` gives a meaning of its own.
const RESERVED: [&str; 4] = ["bridge", "host", "none", "default"];

/// One user network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Definition {
    pub name: String,
    pub id: String,
    pub subnet: Subnet,
    /// Its bridge's name on the host: `mct-` and the id's first 11 digits.
    pub bridge: String,
    /// Unix time in milliseconds.
    pub created: u64,
    /// Its bridge's and veths' MTU (`--opt mtu=N`); the uplink's when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
}

/// The MTUs a network may be given: IPv4's least, and the most a veth carries.
pub const MTU_RANGE: std::ops::RangeInclusive<u32> = 68..=65535;

/// A network's options (`-o KEY=VALUE`, Docker's `--opt`): `mtu` (or Docker's
/// `com.docker.network.driver.mtu`). Anything else is refused rather than ignored.
pub fn parse_option(option: &str) -> Result<u32, String> {
    let (key, value) = option
        .split_once('=')
        .ok_or_else(|| format!("network option {option:?}: not KEY=VALUE"))?;
    match key {
        "mtu" | "com.docker.network.driver.mtu" => value
            .parse()
            .ok()
            .filter(|m| MTU_RANGE.contains(m))
            .ok_or_else(|| {
                format!(
                    "network option {key}: {value:?} is not an MTU from {} to {}",
                    MTU_RANGE.start(),
                    MTU_RANGE.end()
                )
            }),
        _ => Err(format!("network option {key:?} is not known (known: mtu)")),
    }
}

fn dir() -> PathBuf {
    crate::state::volumes::root().join("networks")
}

/// The definition of network `name`.
pub fn load(name: &str) -> Option<Definition> {
    validate_name(name).ok()?;
    let bytes = std::fs::read(dir().join(format!("{name}.json"))).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Every user network, by name.
pub fn list() -> Vec<Definition> {
    let mut all: Vec<Definition> = std::fs::read_dir(dir())
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| std::fs::read(e.path()).ok())
        .filter_map(|b| serde_json::from_slice(&b).ok())
        .collect();
    all.sort_by(|a, b| a.name.cmp(&b.name));
    all
}

/// Holds the definitions' lock while it lives.
fn lock() -> anyhow::Result<Flock<std::fs::File>> {
    crate::state::volumes::private_root()?;
    std::fs::create_dir_all(dir()).context("cannot create the network store")?;
    let file = std::fs::File::open(dir()).context("cannot open the network store")?;
    Flock::lock(file, FlockArg::LockExclusive)
        .map_err(|(_, e)| anyhow::anyhow!("cannot lock the network store: {}", e.desc()))
}

/// Makes network `name` with `subnet`, or one chosen where the host has no route, address or
/// other network. `taken` is what the host uses (routes and addresses, our bridges' aside).
pub fn create(
    name: &str,
    subnet: Option<Subnet>,
    mtu: Option<u32>,
    taken: &[Subnet],
) -> anyhow::Result<Definition> {
    validate_name(name).map_err(anyhow::Error::msg)?;
    if RESERVED.contains(&name) {
        bail!("network name {name:?} is reserved");
    }
    let _lock = lock()?;
    if load(name).is_some() {
        bail!("network {name} already exists");
    }
    let mut ours: Vec<(String, Subnet)> = list().into_iter().map(|d| (d.name, d.subnet)).collect();
    let state = super::leases::read();
    ours.extend(state.networks.iter().map(|n| (n.name.clone(), n.subnet)));
    let subnet = match subnet {
        Some(s) => {
            if let Some((other, _)) = ours.iter().find(|(_, o)| o.overlaps(&s)) {
                bail!("subnet {s} overlaps network {other}'s");
            }
            if let Some(route) = taken.iter().find(|t| t.prefix > 0 && t.overlaps(&s)) {
                bail!("subnet {s} overlaps the host's {route}");
            }
            s
        }
        None => {
            let all: Vec<Subnet> = taken
                .iter()
                .copied()
                .chain(ours.iter().map(|(_, s)| *s))
                .collect();
            super::subnet::choose(&all)
                .context("no free subnet left in the pool: give one with --subnet")?
        }
    };
    let id = new_id();
    let definition = Definition {
        name: name.into(),
        bridge: format!("mct-{}", &id[..11]),
        id,
        subnet,
        created: now_ms(),
        mtu,
    };
    let path = dir().join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_vec_pretty(&definition)?)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(definition)
}

/// Removes network `name`; refused while a container, running or not, is on it.
pub fn remove(name: &str) -> anyhow::Result<()> {
    let _lock = lock()?;
    if load(name).is_none() {
        bail!("no such network: {name}");
    }
    let users: Vec<String> = crate::runtime::reclaim::list()
        .into_iter()
        .filter(|r| {
            crate::state::store::spec(&r.id).is_ok_and(|s| s.network.bridge() == Some(name))
        })
        .map(|r| r.name)
        .collect();
    if !users.is_empty() {
        bail!("network {name} is in use by {}", users.join(", "));
    }
    std::fs::remove_file(dir().join(format!("{name}.json")))
        .with_context(|| format!("cannot remove network {name}"))
}
