//! The one record of what is up: which networks have a bridge on the host, the address each
//! container holds on them and the ports it publishes. `state.json` in `/run/my-container-tui/
//! net/`, changed only under the `lock` beside it (every start, release and sweep), replaced by
//! rename so a reader never sees half of it.
//!
//! A lease's owner is the container's helper: a lease whose owner is gone (killed with its
//! cleaner, say) is stale, and whoever takes the lock next drops it. When the last lease goes,
//! the directory goes too: a host with no bridged container keeps nothing of ours here.

use super::subnet::Subnet;
use crate::spec::network::Publish;
use crate::state::{Process, tree};
use anyhow::Context;
use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::PathBuf;

/// How long a network stays up after its last container: containers run one after another
/// (a script's loop) find it up instead of each paying for its bridge and rules, and their
/// cleaners' teardowns.
pub const LINGER: std::time::Duration = std::time::Duration::from_secs(1);

/// The directory of the record.
pub fn dir() -> PathBuf {
    tree::root().join("net")
}

/// Everything that is up.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// `net.ipv4.ip_forward` as it was before our first bridge came up, to put back after the
    /// last one goes.
    #[serde(default)]
    pub ip_forward_before: Option<String>,
    #[serde(default)]
    pub networks: Vec<Up>,
}

/// A network whose bridge is up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Up {
    pub name: String,
    pub bridge: String,
    pub subnet: Subnet,
    /// A user network: its containers find each other by name.
    pub user: bool,
    /// The MTU its bridge and veths get: the uplink's when it came up.
    #[serde(default)]
    pub mtu: u32,
    /// When its last lease went (Unix ms): it is taken down once idle for [`LINGER`].
    #[serde(default)]
    pub idle_since: Option<u64>,
    pub leases: Vec<Lease>,
}

/// One container's address on one network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    pub ip: Ipv4Addr,
    /// The container's id.
    pub container: String,
    /// The helper that holds it.
    pub owner: Process,
    /// The host's end of the container's veth.
    pub veth: String,
    pub hostname: String,
    /// Names its peers reach it by on a user network (its name, its aliases).
    pub names: Vec<String>,
    pub publish: Vec<Publish>,
    /// Its `/etc/hosts` on the host, rewritten as peers come and go.
    pub hosts_file: Option<PathBuf>,
    /// Its `--add-host` lines, kept in every rewrite.
    #[serde(default)]
    pub added_hosts: Vec<(String, std::net::IpAddr)>,
}

impl Lease {
    /// Its published ports as `docker ps` lists them: `0.0.0.0:8080->80/tcp, ...`.
    pub fn ports_shown(&self) -> String {
        let all: Vec<String> = self.publish.iter().map(|p| p.to_string()).collect();
        all.join(", ")
    }

    /// The container's `eth0` address: `02:42` and its IPv4 address, as Docker makes them.
    /// Known from the lease alone, so the bridge's anti-spoofing rules ([`super::nat`]) can
    /// tie the veth to it.
    pub fn mac(&self) -> [u8; 6] {
        let [a, b, c, d] = self.ip.octets();
        [0x02, 0x42, a, b, c, d]
    }
}

impl State {
    pub fn network(&self, name: &str) -> Option<&Up> {
        self.networks.iter().find(|n| n.name == name)
    }

    pub fn network_mut(&mut self, name: &str) -> Option<&mut Up> {
        self.networks.iter_mut().find(|n| n.name == name)
    }

    /// Every lease, with its network.
    pub fn leases(&self) -> impl Iterator<Item = (&Up, &Lease)> {
        self.networks
            .iter()
            .flat_map(|n| n.leases.iter().map(move |l| (n, l)))
    }

    /// The lease of container `id`, if it holds one.
    pub fn lease_of(&self, id: &str) -> Option<(&Up, &Lease)> {
        self.leases().find(|(_, l)| l.container == id)
    }
}

/// The record, locked for a read-modify-write; [`Locked::save`] writes it back.
pub struct Locked {
    _lock: Flock<std::fs::File>,
    pub state: State,
}

/// Takes the lock, making the directory when missing. The lock file may be removed by the
/// holder that empties the record, so a waiter checks, once it holds it, that its file is
/// still the one at the path, and tries again when not.
pub fn lock() -> anyhow::Result<Locked> {
    let dir = dir();
    let path = dir.join("lock");
    loop {
        let file = tree::make_private(&dir).and_then(|()| {
            std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
                .open(&path)
        });
        let file = match file {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            file => file.with_context(|| format!("cannot open {}", path.display()))?,
        };
        let lock = Flock::lock(file, FlockArg::LockExclusive)
            .map_err(|(_, e)| anyhow::anyhow!("cannot lock {}: {}", path.display(), e.desc()))?;
        let same = std::fs::symlink_metadata(&path)
            .is_ok_and(|m| lock.metadata().is_ok_and(|f| f.ino() == m.ino()));
        if !same {
            continue;
        }
        let state = match std::fs::read(dir.join("state.json")) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_default(),
            Err(_) => State::default(),
        };
        return Ok(Locked { _lock: lock, state });
    }
}

/// Reads the record without the lock (views: the dashboard, `ps`, `inspect`).
pub fn read() -> State {
    std::fs::read(dir().join("state.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

impl Locked {
    /// Writes the record back; an empty one removes the record, its lock and its directory.
    pub fn save(&self) -> anyhow::Result<()> {
        let dir = dir();
        // A writer killed between creating its temporary file and renaming it left one: the
        // lock's holder is the only writer, so any there now is stale.
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            if entry
                .file_name()
                .to_string_lossy()
                .starts_with("state.json.")
            {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        if self.state == State::default() {
            let _ = std::fs::remove_file(dir.join("state.json"));
            let _ = std::fs::remove_file(dir.join("lock"));
            let _ = std::fs::remove_dir(&dir);
            tree::remove_if_empty();
            return Ok(());
        }
        let temporary = dir.join(format!("state.json.{}", std::process::id()));
        let bytes = serde_json::to_vec_pretty(&self.state)?;
        std::fs::write(&temporary, bytes)
            .and_then(|()| std::fs::rename(&temporary, dir.join("state.json")))
            .with_context(|| format!("cannot write {}", dir.join("state.json").display()))
    }

    /// Removes leases whose helper is gone, and returns them.
    pub fn drop_stale(&mut self) -> Vec<Lease> {
        let mut gone = Vec::new();
        for network in &mut self.state.networks {
            let (alive, dead) = std::mem::take(&mut network.leases)
                .into_iter()
                .partition(|l| l.owner.alive());
            network.leases = alive;
            gone.extend(dead);
        }
        gone
    }
}
