//! A container's network as the inspector shows it, the inside beside the outside: the
//! interfaces and addresses its own namespace has (read through a netlink socket opened in
//! there, so the kernel, not the container, says), and the host's end of its veth and its
//! bridge as the host counts them. Bytes a container sends are the host veth's received.

use super::leases;
use super::netlink::{Address, Link, Netlink};
use super::netns;
use std::time::Instant;

/// One interface, its addresses, its counters and their rates since the last look.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Interface {
    pub name: String,
    pub addresses: Vec<String>,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    /// Bytes per second, once there is an earlier look to compare with.
    pub rx_rate: Option<u64>,
    pub tx_rate: Option<u64>,
}

/// Inside and outside, at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetView {
    /// The network it is on (`bridge`, a user network), or `host`, `none`, `pasta`, `joined`.
    pub mode: String,
    /// Its own namespace's interfaces (none when it shares the host's).
    pub inside: Vec<Interface>,
    /// The host's end of its veth.
    pub host_veth: Option<Interface>,
    /// The bridge the veth is a port of.
    pub bridge: Option<Interface>,
    /// When it was taken, for the rates.
    pub at: Instant,
}

fn interfaces(links: Vec<Link>, addresses: &[Address]) -> Vec<Interface> {
    links
        .into_iter()
        .map(|l| Interface {
            addresses: addresses
                .iter()
                .filter(|a| a.index == l.index)
                .map(|a| format!("{}/{}", a.ip, a.prefix))
                .collect(),
            name: l.name,
            rx_bytes: l.rx_bytes,
            tx_bytes: l.tx_bytes,
            rx_rate: None,
            tx_rate: None,
        })
        .collect()
}

/// The interfaces of the namespace `nl` was opened in; none if they could not be read.
fn read_interfaces(nl: &mut Netlink) -> Vec<Interface> {
    match (nl.links(), nl.addresses()) {
        (Ok(links), Ok(addresses)) => interfaces(links, &addresses),
        _ => Vec::new(),
    }
}

/// What a rootless user's look at a container's network finds ([`seen_inside`]).
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Seen {
    /// The container's interfaces.
    pub inside: Vec<Interface>,
    /// The user's network namespace's, where the container is on one of the user's networks.
    pub host: Vec<Interface>,
}

/// In a look's fork (see [`crate::runtime::inspect::look_as_user`]), as root of container
/// `pid`'s user namespace: its interfaces, then, if it is on one of the user's networks (its
/// user namespace is then the holder's), the holder's namespace's. Each namespace is entered
/// for good: the fork ends after.
pub fn seen_inside(pid: i32) -> Seen {
    let mut seen = Seen::default();
    let enter = |netns: &std::os::fd::OwnedFd| {
        nix::sched::setns(netns, nix::sched::CloneFlags::CLONE_NEWNET).is_ok()
    };
    if let Ok(theirs) = netns::of(pid)
        && enter(&theirs)
        && let Ok(mut nl) = Netlink::open()
    {
        seen.inside = read_interfaces(&mut nl);
    }
    if let Some(holder) = super::holder::running()
        && let Ok(hers) = netns::of(holder.pid)
        && enter(&hers)
        && let Ok(mut nl) = Netlink::open()
    {
        seen.host = read_interfaces(&mut nl);
    }
    seen
}

impl NetView {
    /// The network of container `id`, whose PID 1 is `pid`. Enters its network namespace on
    /// the calling thread for as long as it takes to open a socket.
    pub fn take(pid: i32, id: &str) -> Option<NetView> {
        let theirs = netns::of(pid).ok()?;
        // `net:[4026531840]`: the same link, the same namespace.
        let link = |path: &str| std::fs::read_link(path).ok();
        let same_as_ours = link("/proc/thread-self/ns/net")
            .is_some_and(|ours| link(&format!("/proc/{pid}/ns/net")) == Some(ours));
        let state = leases::read();
        let lease = state.lease_of(id);
        let mut view = NetView {
            mode: String::new(),
            inside: Vec::new(),
            host_veth: None,
            bridge: None,
            at: Instant::now(),
        };
        if same_as_ours {
            view.mode = "host".into();
            return Some(view);
        }
        // The host's side: ours, or for a container on a rootless user's network, the user's
        // network namespace's (see super::holder).
        let host = match crate::state::as_root::needed() {
            false => {
                if let Ok(Ok(mut nl)) = netns::within(&theirs, Netlink::open) {
                    view.inside = read_interfaces(&mut nl);
                }
                lease
                    .and_then(|_| Netlink::open().ok())
                    .map(|mut nl| read_interfaces(&mut nl))
            }
            true => {
                use crate::runtime::inspect::{Look, look_as_user};
                let said = look_as_user(Look::Net, &[pid]).remove(&pid);
                let seen: Seen = said
                    .and_then(|text| serde_json::from_str(&text).ok())
                    .unwrap_or_default();
                view.inside = seen.inside;
                Some(seen.host)
            }
        };
        let pasta = || {
            crate::state::store::spec(id)
                .is_ok_and(|spec| spec.network.mode == crate::spec::network::Mode::Pasta)
        };
        view.mode = match lease {
            Some((net, _)) => net.name.clone(),
            None if pasta() => "pasta".into(),
            None if view.inside.iter().all(|i| i.name == "lo") => "none".into(),
            None => "joined".into(),
        };
        if let (Some((net, lease)), Some(host)) = (lease, host) {
            view.host_veth = host.iter().find(|i| i.name == lease.veth).cloned();
            view.bridge = host.into_iter().find(|i| i.name == net.bridge);
        }
        Some(view)
    }

    /// Fills the rates from `before`, an earlier look at the same container.
    pub fn rates_since(&mut self, before: &NetView) {
        let seconds = self.at.duration_since(before.at).as_secs_f64();
        if seconds <= 0.0 {
            return;
        }
        let rate = |now: u64, then: u64| Some((now.saturating_sub(then) as f64 / seconds) as u64);
        let fill = |now: &mut Interface, then: &Interface| {
            now.rx_rate = rate(now.rx_bytes, then.rx_bytes);
            now.tx_rate = rate(now.tx_bytes, then.tx_bytes);
        };
        for i in &mut self.inside {
            if let Some(then) = before.inside.iter().find(|t| t.name == i.name) {
                fill(i, then);
            }
        }
        for (now, then) in [
            (&mut self.host_veth, &before.host_veth),
            (&mut self.bridge, &before.bridge),
        ] {
            if let (Some(now), Some(then)) = (now.as_mut(), then)
                && now.name == then.name
            {
                fill(now, then);
            }
        }
    }
}
